"""measure/json.c and the signature merge against the JSON parser of newer systemd versions.

`make unit` runs build/test/test-systemd-json against the installed systemd 252
(Debian 12). This runs the same program against Debian's later ones, from the
machine's own mirror (ovmf-tests/debian.py), never installed:

* systemd 262 (unstable): libsystemd-shared-262.so needs nothing newer than
  Debian 12's glibc, so the sanitizer build loads it directly;
* systemd 257 (Debian 13): libsystemd-shared-257.so needs glibc 2.39, so the
  plain build runs in a Debian 13 chroot that has it.

The only acceptable skip is an unreachable mirror.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ovmf-tests"))
import debian  # noqa: E402

TEST = ROOT / "build" / "test" / "test-systemd-json"
PLAIN = ROOT / "build" / "test" / "test-systemd-json-plain"
LIB_DIR = "usr/lib/x86_64-linux-gnu/systemd"


def check_report(out, version):
    """The program names the library it loaded and shows both verdicts were exercised."""
    assert re.search(rf"systemd's parser from \S*libsystemd-shared-{version}\.so", out), out
    m = re.search(r"(\d+) documents \(systemd accepted (\d+), json_parse (\d+)\), (\d+) fragments \((\d+) kept\)", out)
    assert m, out
    documents, sd, ours, fragments, kept = map(int, m.groups())
    assert 0 < ours <= sd < documents and 0 < kept < fragments, out


def fetch(suite, package):
    try:
        return debian.fetch_package(suite, package)
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")


def test_systemd_262_accepts_whatever_we_keep():
    lib = fetch("sid", "libsystemd-shared") / LIB_DIR / "libsystemd-shared-262.so"
    assert lib.exists(), f"{lib}: Debian unstable's libsystemd-shared is no longer 262; update this test"
    r = subprocess.run([TEST], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, SYSEXT_STUB_LIBSYSTEMD_SHARED=str(lib)))
    assert r.returncode == 0, r.stdout + r.stderr
    check_report(r.stdout, 262)


def test_systemd_257_accepts_whatever_we_keep():
    try:
        root = debian.chroot("trixie", ["libsystemd-shared", "libcmocka0"], name="sd-json")
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")
    libs = list((root / LIB_DIR).glob("libsystemd-shared-*.so"))
    assert [p.name for p in libs] == ["libsystemd-shared-257.so"], libs
    out = debian.chroot_run(root, ["sh", "-c", "cd /src && build/test/test-systemd-json-plain"],
                            binds=[(ROOT, "/src")], what="test-systemd-json in Debian 13")
    check_report(out, 257)
