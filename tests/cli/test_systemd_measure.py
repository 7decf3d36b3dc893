"""`sysext-stub` answering as systemd-measure 262 (host-tools/systemd-measure.c).

Every expected byte comes from systemd-measure 262 itself: the answers in
tests/vectors/systemd-measure-262/out were made by Debian unstable's
systemd-measure in a chroot (see that directory's README). The commands
are the forms ukify 262 runs (calculate with --json off/short/pretty, sign,
policy-digest, --policyref) and a few corners (an empty section file, phases
that normalise to the same path, an empty phase).
"""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
VECTORS = ROOT / "tests" / "vectors" / "systemd-measure-262"
COMMANDS = [line.split() for line in (VECTORS / "commands").read_text().splitlines()
            if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def as_systemd_measure(tmp_path_factory):
    """sysext-stub under the name systemd-measure, as ukify's --tools directory holds it."""
    tools = tmp_path_factory.mktemp("tools")
    (tools / "systemd-measure").symlink_to(CLI)
    return tools / "systemd-measure"


@pytest.mark.parametrize("n", range(1, len(COMMANDS) + 1))
def test_output_equals_systemd_measure_262(n, as_systemd_measure):
    want = (VECTORS / "out" / f"{n:02d}").read_bytes()
    for argv in ([str(as_systemd_measure)], [str(CLI), "systemd-measure"]):
        r = subprocess.run(argv + COMMANDS[n - 1], cwd=VECTORS, capture_output=True)
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout == want, f"command {n}: {' '.join(COMMANDS[n - 1])}"


def test_the_vectors_cover_what_ukify_calls():
    verbs = {c[0] for c in COMMANDS}
    options = {a.split("=")[0] for c in COMMANDS for a in c[1:] if a.startswith("--")}
    assert verbs == {"calculate", "sign", "policy-digest"}
    assert {"--json", "--bank", "--phase", "--private-key", "--public-key", "--policyref"} <= options
    sections = {"--linux", "--osrel", "--cmdline", "--initrd", "--ucode", "--splash", "--dtb", "--uname", "--sbat",
                "--pcrpkey", "--profile", "--dtbauto", "--hwids"}
    assert sections <= options


@pytest.mark.parametrize("args, words", [
    (["status"], ["status", "not supported"]),
    (["calculate", "--current"], ["--current", "not supported"]),
    (["sign", "--linux=linux", "--append=x.json", "--private-key=test-key.pem"], ["--append", "not supported"]),
    (["calculate"], ["--linux"]),
    (["sign", "--linux=linux"], ["--private-key"]),
    (["calculate", "--linux=missing"], ["missing"]),
    (["calculate", "--linux=linux", "--bank=md5"], ["md5"]),
    (["calculate", "--linux=linux", "--json=yaml"], ["yaml"]),
    (["policy-digest", "--linux=linux", "--public-key=linux"], ["linux"]),
    (["calculate", "--linux=linux", "--linux=osrel"], ["--linux", "twice"]),
])
def test_refusals_name_the_problem(args, words, as_systemd_measure):
    r = subprocess.run([str(as_systemd_measure), *args], cwd=VECTORS, capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    for w in words:
        assert w in r.stderr, r.stderr
