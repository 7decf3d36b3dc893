"""The files the CLI writes (build --output, sign --output, cpio --output).

Each is written as a user's own `open(path, O_CREAT, 0666)` would create it,
so the umask decides its mode (none of them holds a secret), and durably: a
temporary file in the same directory, fsync, rename over the target, fsync of
the directory. The system calls are observed with strace (-y names each fd's
file), not inferred.
"""
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
STRACE = shutil.which("strace")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    shutil.copy(STUB, d / "vmlinuz")  # any PE serves as the kernel
    (d / "ext").mkdir()
    (d / "ext" / "a.sysext.raw").write_bytes(b"hello\n")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(d / "key.pem")], check=True, capture_output=True)
    r = subprocess.run([str(CLI), "build", "--stub", str(STUB), "--linux", str(d / "vmlinuz"),
                        "--os-release", "ID=test\n", "--output", str(d / "uki.efi")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def commands(inputs, out):
    """Every subcommand that writes a file, writing @out."""
    return {
        "build": ["build", "--stub", STUB, "--linux", inputs / "vmlinuz", "--os-release", "ID=test\n",
                  "--output", out],
        "sign": ["sign", "--private-key", inputs / "key.pem", "--uki", inputs / "uki.efi", "--extra-dir",
                 inputs / "ext", "--bank", "sha256", "--output", out],
        "cpio": ["cpio", "--extra-dir", inputs / "ext", "--output", out],
    }


def run(argv, **kw):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize("which", ["build", "sign", "cpio"])
@pytest.mark.parametrize("mask, mode", [(0o077, 0o600), (0o027, 0o640), (0o022, 0o644), (0o002, 0o664)])
def test_the_umask_decides_the_mode(tmp_path, inputs, which, mask, mode):
    out = tmp_path / "out"
    run([CLI, *commands(inputs, out)[which]], umask=mask)
    assert stat.S_IMODE(out.stat().st_mode) == mode, oct(out.stat().st_mode)
    # Replacing a file gives the new one the same mode (it is a new file, as with a rename by hand).
    out.chmod(0o444)
    run([CLI, *commands(inputs, out)[which]], umask=mask)
    assert stat.S_IMODE(out.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no temporary file may be left"


def test_an_output_in_the_current_directory(tmp_path, inputs):
    """A bare file name: the temporary file and the directory synced are the current directory's."""
    run([CLI, *commands(inputs, "out")["cpio"]], cwd=tmp_path, umask=0o077)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("which", ["build", "sign", "cpio"])
def test_the_rename_is_made_durable(tmp_path, inputs, which):
    """fsync of the new file before the rename, fsync of the directory after it."""
    assert STRACE, "strace is missing (scripts/install-deps.sh installs it)"
    out = tmp_path / "out"
    trace = tmp_path.parent / f"{tmp_path.name}.strace"
    # LeakSanitizer cannot run under ptrace (make cli-asan-check); every other test checks for leaks.
    env = dict(os.environ, ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":"))
    run([STRACE, "-f", "-qq", "-y", "-o", trace, "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", CLI,
         *commands(inputs, out)[which]], env=env)
    calls = []
    for line in trace.read_text().splitlines():
        m = re.match(r"(?:\d+ +)?(\w+)\((.*)\) += (-?\d+)", line)
        if m and m.group(3) == "0":
            calls.append((m.group(1), m.group(2)))
    renames = [i for i, (name, args) in enumerate(calls) if name.startswith("rename") and f'"{out}"' in args]
    assert len(renames) == 1, calls
    tmp = re.search(r'"([^"]*/\.out\.[^"]*)"', calls[renames[0]][1])
    assert tmp, calls[renames[0]]
    before = [args for name, args in calls[:renames[0]] if name in ("fsync", "fdatasync")]
    after = [args for name, args in calls[renames[0] + 1:] if name in ("fsync", "fdatasync")]
    assert any(f"<{tmp.group(1)}>" in a for a in before), f"the new file is not synced before the rename: {calls}"
    assert any(a.endswith(f"<{tmp_path}>") for a in after), f"the directory is not synced after the rename: {calls}"
