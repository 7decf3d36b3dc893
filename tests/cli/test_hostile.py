"""Hostile input to every subcommand: build, predict, cpio, eventlog, sign.

The rule (README, "CLI"): a bad input makes the command exit non-zero
(eventlog: 2) with exactly one message, naming the input and the problem,
nothing on stdout, and no output file or temporary file left behind.

Malformed UKIs are made here from a good one, built by `sysext-stub build`,
by patching single header fields with struct; nothing binary is committed.
Unreadable files are unreadable for real: as root (where mode 000 means
nothing) the command runs as the user nobody, through setpriv, on a
workspace nobody can reach, so no case is skipped.

What the other files test already (missing --uki/--extra-dir/--manifest,
random UKI bytes, --pcr 7/x, hostile event logs, ...) is not repeated.
Named FIFOs are not tried for --log, --expect and --manifest: those read
pipes on purpose (`--manifest <(sha256sum ...)`), and opening a FIFO
without a writer waits, as cat does.
"""
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
SEED_LOG = ROOT / "tests" / "fuzz" / "corpus" / "tcglog" / "valid-ovmf-sha256"
TIMEOUT = 30  # a case that blocks (a FIFO) fails instead of hanging the suite
NOBODY = 65534


def run(*args, as_nobody=False):
    cmd = [str(CLI), *map(str, args)]
    if as_nobody and os.geteuid() == 0:
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    # Paths may not be UTF-8: keep their bytes visible in the comparison.
    r.stdout = r.stdout.decode("utf-8", "surrogateescape")
    r.stderr = r.stderr.decode("utf-8", "surrogateescape")
    return r


def assert_refused(r, *words, status=None):
    """Non-zero exit, nothing on stdout, exactly one line on stderr: the error, naming every word."""
    assert r.returncode != 0, f"accepted: {r.stdout}{r.stderr}"
    assert r.returncode < 128, f"killed by a signal: {r.returncode}\n{r.stderr}"
    if status is not None:
        assert r.returncode == status, r.stderr
    assert r.stdout == "", "nothing may go to stdout on error"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sysext-stub: error: "), r.stderr
    for w in words:
        assert str(w) in lines[0], f"{w!r} not named in: {lines[0]}"


def assert_no_output(out):
    out = Path(out)
    assert not out.exists(), f"{out} was written"
    if out.parent.is_dir():
        left = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
        assert not left, f"temporary files left: {left}"


def H(data):
    return hashlib.sha256(data).digest()


def pcr13_sha256(files, prefix=".extra/sysext"):
    """Our scheme, independently: per file in byte order, H(path + NUL) then H(content)."""
    v = bytes(32)
    for name in sorted(files, key=lambda n: n.encode()):
        for d in (H(f"{prefix}/{name}".encode() + b"\0"), H(files[name])):
            v = H(v + d)
    return v.hex()


def predicted(stdout, pcr, bank="sha256"):
    line = next(ln for ln in stdout.splitlines() if ln.startswith(f"{pcr}:{bank}="))
    return line.split("=", 1)[1]


# --------------------------------------------------------------------------
# A workspace the user nobody can use (as root), and a good UKI in it
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ws():
    """World-writable scratch directory outside pytest's 0700 tmp tree."""
    d = Path(tempfile.mkdtemp(prefix="sysext-stub-hostile-"))
    d.chmod(0o777)
    shutil.copy(STUB, d / "stub.efi")
    shutil.copy(STUB, d / "vmlinuz")  # any PE serves as the kernel
    shutil.copy(SEED_LOG, d / "good.log")
    (d / "initrd").write_bytes(os.urandom(3000))
    (d / "ext").mkdir()
    (d / "ext" / "a.sysext.raw").write_bytes(b"hello\n")
    r = run("build", "--stub", d / "stub.efi", "--linux", d / "vmlinuz", "--initrd", d / "initrd",
            "--cmdline", "console=ttyS0", "--os-release", "ID=test\n", "--output", d / "good.efi")
    assert r.returncode == 0, r.stderr
    # An RSA key for sign (readable by nobody too: these runs are about the other inputs).
    for args in (["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", d / "rsa.pem"],
                 ["pkey", "-in", d / "rsa.pem", "-pubout", "-out", d / "rsa-pub.pem"]):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
    for p in d.rglob("*"):
        p.chmod(0o777 if p.is_dir() else 0o644)
    yield d
    for p in d.rglob("*"):  # mode-000 leftovers
        if not p.is_symlink():
            p.chmod(0o700 if p.is_dir() else 0o600)
    shutil.rmtree(d)


@pytest.fixture
def case_dir(ws, request):
    """A fresh world-writable directory per test (outputs go here)."""
    d = ws / request.node.name.replace("/", "_")[:80]
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    d.chmod(0o777)
    return d


# --------------------------------------------------------------------------
# Malformed UKIs
# --------------------------------------------------------------------------

class PeFile:
    """Offsets of a PE file's header fields, read independently with struct."""

    def __init__(self, data):
        self.d = bytearray(data)
        self.pe = struct.unpack_from("<I", self.d, 0x3C)[0]
        self.nsec_at = self.pe + 6
        self.nsec = struct.unpack_from("<H", self.d, self.nsec_at)[0]
        self.opt = self.pe + 24
        self.table = self.opt + struct.unpack_from("<H", self.d, self.pe + 20)[0]

    def header(self, name):
        for i in range(self.nsec):
            at = self.table + 40 * i
            if self.d[at:at + 8].rstrip(b"\0") == name.encode():
                return at
        raise KeyError(name)

    def field(self, name, off):
        return struct.unpack_from("<I", self.d, self.header(name) + off)[0]

    def set(self, fmt, at, value):
        struct.pack_into(fmt, self.d, at, value)
        return self


VSIZE, VA, RAW_SIZE, RAW_OFFSET = 8, 12, 16, 20
SIZE_OF_IMAGE = 56


def malformed(good):
    """name -> (bytes, the reason the message must give)."""
    g = good.read_bytes()
    p = lambda: PeFile(g)  # noqa: E731
    pe = p()
    linux_va, linux_raw = pe.field(".linux", VA), pe.field(".linux", RAW_OFFSET)
    initrd_va, initrd_raw = pe.field(".initrd", VA), pe.field(".initrd", RAW_OFFSET)
    table_end = pe.table + 40 * pe.nsec
    out = {
        # .linux renamed: a well-formed PE, but not a UKI.
        "no-linux": (bytes(p().set("8s", p().header(".linux"), b".linuy").d), "no .linux section"),
        # .linux moved onto .initrd's addresses, then onto its file bytes.
        "va-overlap": (bytes(p().set("<I", pe.header(".linux") + VA, initrd_va).d), "overlapping regions"),
        "raw-overlap": (bytes(p().set("<I", pe.header(".linux") + RAW_OFFSET, initrd_raw).d),
                        "overlapping regions"),
        # .linux past SizeOfImage; its raw data past the end of the file.
        "outside-image": (bytes(p().set("<I", pe.opt + SIZE_OF_IMAGE, linux_va).d), "out of bounds"),
        "raw-past-end": (bytes(p().set("<I", pe.header(".linux") + RAW_OFFSET, len(g)).d), "out of bounds"),
        # SizeOfRawData chosen so that PointerToRawData + SizeOfRawData wraps 32 bits.
        "raw-size-wraps": (bytes(p().set("<I", pe.header(".linux") + RAW_SIZE, 2**32 - linux_raw + 0x1000).d),
                           "out of bounds"),
        "97-sections": (bytes(p().set("<H", pe.nsec_at, 97).d), "limit exceeded"),
        "65535-sections": (bytes(p().set("<H", pe.nsec_at, 0xFFFF).d), "limit exceeded"),
        # Cut inside the DOS stub, inside the section table, inside .linux.
        "truncated-in-headers": (g[:0x50], "truncated input"),
        "truncated-in-table": (g[:table_end - 20], "truncated input"),
        "truncated-in-linux": (g[:linux_raw + 100], "out of bounds"),
        "empty": (b"", "truncated input"),
    }
    return out


MALFORMED = ["no-linux", "va-overlap", "raw-overlap", "outside-image", "raw-past-end", "raw-size-wraps",
             "97-sections", "65535-sections", "truncated-in-headers", "truncated-in-table", "truncated-in-linux",
             "empty"]


@pytest.fixture
def bad_uki(ws, case_dir):
    made = malformed(ws / "good.efi")
    assert sorted(made) == sorted(MALFORMED)

    def get(name):
        data, reason = made[name]
        path = case_dir / f"{name}.efi"
        path.write_bytes(data)
        return path, reason
    return get


def test_the_good_uki_is_accepted_everywhere(ws, case_dir):
    """The control: every refusal below comes from the patch, not from the base file."""
    good = ws / "good.efi"
    assert run("predict", "--uki", good, "--bank", "sha256").returncode == 0
    r = run("cpio", "--uki", good, "--extra-dir", ws / "ext", "--output", case_dir / "x.cpio")
    assert r.returncode == 0, r.stderr
    r = run("build", "--stub", ws / "stub.efi", "--linux", good, "--output", case_dir / "x.efi")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_uki_predict_and_cpio(ws, case_dir, bad_uki, name):
    path, reason = bad_uki(name)
    words = [path, reason] if name == "no-linux" else [path, "not a valid PE image", reason]
    assert_refused(run("predict", "--uki", path), *words, status=1)
    out = case_dir / "out.cpio"
    assert_refused(run("cpio", "--uki", path, "--extra-dir", ws / "ext", "--output", out), *words, status=1)
    assert_no_output(out)


@pytest.mark.parametrize("name", [n for n in MALFORMED if n not in ("no-linux", "empty")])  # empty: below
def test_malformed_pe_build(ws, case_dir, bad_uki, name):
    """As the stub and as the kernel: refused, named, and no UKI written."""
    path, reason = bad_uki(name)
    out = case_dir / "uki.efi"
    r = run("build", "--stub", path, "--linux", ws / "vmlinuz", "--output", out)
    assert_refused(r, path, "not a usable PE file", reason, status=1)
    assert_no_output(out)
    r = run("build", "--stub", ws / "stub.efi", "--linux", path, "--output", out)
    assert_refused(r, f"--linux {path}", "not a PE/EFI kernel image", reason, status=1)
    assert_no_output(out)


@pytest.mark.parametrize("name", ["va-overlap", "97-sections", "truncated-in-linux"])
def test_malformed_uki_fed_to_eventlog(ws, bad_uki, name):
    """A UKI is neither an event log nor a prediction: exit 2, naming it."""
    path, _ = bad_uki(name)
    assert_refused(run("eventlog", "--log", path, "--no-pcr-values"), path, "not a usable TCG2 event log",
                   status=2)
    assert_refused(run("eventlog", "--log", ws / "good.log", "--no-pcr-values", "--expect", path), path,
                   "not valid JSON", status=2)


def test_huge_cmdline_virtual_size_needs_no_huge_buffer(ws, case_dir):
    """A 3.5 GiB .cmdline VirtualSize in a small file: predicted under a 1 GiB address-space limit.

    Past its raw data a section is the loader's zero fill, which ends the
    command line where the raw data's NUL padding already did. An ASan build
    reserves terabytes of shadow address space and cannot start under the
    limit, so this runs the plain build, whichever CLI the suite tests.
    """
    plain = ROOT / "build" / "sysext-stub"
    assert b"__asan_init" not in plain.read_bytes(), f"{plain} must be the plain build, not an ASan one"
    pe = PeFile((ws / "good.efi").read_bytes())
    names = [bytes(pe.d[pe.table + 40 * i:pe.table + 40 * i + 8]).rstrip(b"\0") for i in range(pe.nsec)]
    last = pe.table + 40 * (pe.nsec - 1)
    # Make the last section (.linux) the .cmdline, the old .cmdline header a harmless name.
    assert names[-1] == b".linux"
    pe.set("8s", pe.header(".cmdline"), b".cmdlinx").set("8s", last, b".cmdline")
    pe.set("<I", last + VSIZE, 0xE0000000).set("<I", pe.opt + SIZE_OF_IMAGE, 0xFFFFF000)
    pe.set("8s", pe.header(".initrd"), b".linux")  # keep it a UKI
    uki = case_dir / "huge-cmdline.efi"
    uki.write_bytes(bytes(pe.d))
    linux_raw = PeFile((ws / "good.efi").read_bytes()).field(".linux", RAW_OFFSET)
    raw = (ws / "good.efi").read_bytes()[linux_raw:]
    expected = raw[:raw.index(b"\0")] if b"\0" in raw else raw
    cmd = [str(plain), "predict", "--uki", str(uki), "--pcr", "9", "--bank", "sha256", "--json"]
    r = subprocess.run(["prlimit", f"--as={1 << 30}", *cmd], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    events = json.loads(r.stdout)["sha256"][0]["events"]
    opts = [e for e in events if e["description"] == "LOADED_IMAGE::LoadOptions"]
    mangled = "".join(" " if b < 0x20 or b == 0x7F else chr(b) for b in expected).strip(" ")
    assert opts and opts[0]["digest"] == H((mangled + "\0").encode("utf-16-le")).hex()


# --------------------------------------------------------------------------
# Files that are missing, directories, FIFOs, unreadable, I/O errors
# --------------------------------------------------------------------------

def make_bad(kind, where, is_dir_option):
    """A path of @kind under @where, named like a sysext so the pickup rule never decides."""
    name = "bad.sysext.raw"
    p = where / kind
    p.mkdir(mode=0o777)
    p.chmod(0o777)
    path = p / name
    if kind == "missing":
        pass
    elif kind == "directory":
        if is_dir_option:
            path.write_bytes(b"a file where a directory is expected")  # the inverse mistake
        else:
            path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "proc-mem":
        return Path("/proc/self/mem")  # opens, then every read fails with EIO, even for root
    elif kind == "unreadable":
        if is_dir_option:
            path.mkdir()
            (path / "a.sysext.raw").write_bytes(b"a")
        else:
            path.write_bytes(b"secret")
        path.chmod(0)
    return path


REASONS = {
    "missing": ["No such file or directory"],
    "directory": ["not a regular file", "directory", "Not a directory"],
    "fifo": ["not a regular file", "Not a directory"],
    "proc-mem": ["Input/output error", "Not a directory", "the stub would skip this file"],
    "unreadable": ["Permission denied"],
}

# (subcommand, option, takes a directory); the rest of each command line is valid.
FILE_OPTIONS = [
    ("build", "--stub", False), ("build", "--linux", False), ("build", "--initrd", False),
    ("build", "--pcrpkey", False), ("build", "--pcrsig", False), ("build", "--cmdline", False),
    ("build", "--os-release", False), ("build", "--uname", False),
    ("predict", "--uki", False), ("predict", "--sysext", False), ("predict", "--global-sysext", False),
    ("predict", "--manifest", False), ("predict", "--global-manifest", False),
    ("predict", "--extra-dir", True), ("predict", "--global-dir", True),
    ("cpio", "--sysext", False), ("cpio", "--global-sysext", False),
    ("cpio", "--extra-dir", True), ("cpio", "--global-dir", True),
    ("eventlog", "--log", False), ("eventlog", "--expect", False), ("eventlog", "--tpm-dir", True),
    ("sign", "--private-key", False), ("sign", "--public-key", False), ("sign", "--append", False),
    ("sign", "--signature", False), ("sign", "--extra-dir", True), ("sign", "--manifest", False),
    ("sign", "--verify", False),
]
PIPES_ALLOWED = {"--log", "--expect", "--manifest", "--global-manifest"}
# Already tested in test_build.py / test_predict.py / test_eventlog.py.
COVERED = {("build", "--initrd", "missing"), ("predict", "--uki", "missing"), ("predict", "--extra-dir", "missing"),
           ("predict", "--global-dir", "missing"), ("predict", "--manifest", "missing"),
           ("predict", "--sysext", "missing"), ("cpio", "--extra-dir", "missing"),
           ("eventlog", "--log", "missing"), ("eventlog", "--log", "directory")}
KINDS = ["missing", "directory", "fifo", "proc-mem", "unreadable"]
CASES = [(c, o, d, k) for c, o, d in FILE_OPTIONS for k in KINDS
         if (c, o, k) not in COVERED and not (k == "fifo" and o in PIPES_ALLOWED)]


def command(ws, out, cmd, option, bad):
    arg = f"@{bad}" if option in ("--cmdline", "--os-release", "--uname") else bad
    if cmd == "build":
        base = {"--stub": ws / "stub.efi", "--linux": ws / "vmlinuz"}
        base[option] = arg
        return ["build", *[x for kv in base.items() for x in kv], "--output", out]
    if cmd == "predict":
        return ["predict", option, arg]
    if cmd == "cpio":
        return ["cpio", option, arg, "--output", out]
    if cmd == "sign":
        sel = ["--pcrs", "13", "--bank", "sha256"]
        sysexts = [] if option in ("--extra-dir", "--manifest") else ["--extra-dir", ws / "ext"]
        key = {"--private-key": arg}.get(option, ws / "rsa.pem")
        return {
            "--public-key": ["sign", "--policy-digest-only", "--public-key", arg],
            "--signature": ["sign", "--signature", arg, "--public-key", ws / "rsa-pub.pem"],
            "--verify": ["sign", "--verify", arg, "--public-key", ws / "rsa-pub.pem"],
        }.get(option, ["sign", "--private-key", key]) + \
            ([option, arg] if option in ("--append", "--extra-dir", "--manifest") else []) + \
            sel + sysexts + ([] if option == "--verify" else ["--output", out])
    if option == "--log":
        return ["eventlog", "--log", arg, "--no-pcr-values"]
    if option == "--expect":
        return ["eventlog", "--log", ws / "good.log", "--no-pcr-values", "--expect", arg]
    return ["eventlog", "--log", ws / "good.log", "--tpm-dir", arg]


@pytest.mark.parametrize("cmd,option,is_dir,kind", CASES, ids=[f"{c}{o}-{k}" for c, o, _, k in CASES])
def test_bad_path(ws, case_dir, cmd, option, is_dir, kind):
    bad = make_bad(kind, case_dir, is_dir)
    out = case_dir / "out"
    r = run(*command(ws, out, cmd, option, bad), as_nobody=kind == "unreadable")
    assert_refused(r, bad, status=2 if cmd in ("eventlog", "sign") else 1)
    assert any(reason.lower() in r.stderr.lower() for reason in REASONS[kind]), r.stderr
    assert_no_output(out)


def test_unreadable_file_among_good_ones(ws, case_dir):
    """Read fails after the archive was planned: an error naming the file, and no (partial) archive."""
    d = case_dir / "ext"
    d.mkdir(mode=0o777)
    d.chmod(0o777)
    for name, data in (("a.sysext.raw", b"a" * 5000), ("m.sysext.raw", b"locked"), ("z.sysext.raw", b"z")):
        (d / name).write_bytes(data)
    (d / "m.sysext.raw").chmod(0)
    for args in (["--extra-dir", d], ["--sysext", d / "a.sysext.raw", "--sysext", d / "m.sysext.raw"]):
        assert_refused(run("predict", *args, "--threads", "2", as_nobody=True), d / "m.sysext.raw",
                       "Permission denied", status=1)
    out = case_dir / "out.cpio"
    assert_refused(run("cpio", "--extra-dir", d, "--output", out, as_nobody=True), d / "m.sysext.raw",
                   "Permission denied", status=1)
    assert_no_output(out)
    # And an output that exists already is left as it was.
    out.write_bytes(b"previous archive")
    out.chmod(0o666)
    assert_refused(run("cpio", "--extra-dir", d, "--output", out, as_nobody=True), d / "m.sysext.raw")
    assert out.read_bytes() == b"previous archive"


def test_the_sign_command_lines_work(ws, case_dir):
    """The control for sign's rows: with good inputs each command line of the matrix succeeds."""
    good = {"--private-key": ws / "rsa.pem", "--public-key": ws / "rsa-pub.pem", "--extra-dir": ws / "ext"}
    sig = case_dir / "sig.json"
    assert run("sign", "--private-key", ws / "rsa.pem", "--pcrs", "13", "--extra-dir", ws / "ext",
               "--output", sig).returncode == 0
    good["--append"] = good["--verify"] = sig
    manifest = case_dir / "SHA256SUMS"
    manifest.write_text(H(b"hello\n").hex() + "  a.sysext.raw\n")
    good["--manifest"] = manifest
    pol = json.loads(run("sign", "--policy-digest-only", "--pcrs", "13", "--bank", "sha256", "--extra-dir",
                         ws / "ext").stdout)["sha256"][0]["pol"]
    (case_dir / "pol.bin").write_bytes(bytes.fromhex(pol))
    good["--signature"] = case_dir / "pol.sig"
    subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(ws / "rsa.pem"), "-out", str(good["--signature"]),
                    str(case_dir / "pol.bin")], check=True)
    for c, option, _ in FILE_OPTIONS:
        if c == "sign":
            out = case_dir / "out.json"
            r = run(*command(ws, out, "sign", option, good[option]))
            assert r.returncode == 0, (option, r.stderr)
            assert option == "--verify" or out.exists(), option
            out.unlink(missing_ok=True)


@pytest.mark.parametrize("cmd", ["build", "cpio", "sign"])
def test_output_where_it_cannot_go(ws, case_dir, cmd):
    ro = case_dir / "read-only"
    ro.mkdir(mode=0o555)
    ro.chmod(0o555)
    targets = [(case_dir / "no-such-dir" / "out", "No such file or directory", False),
               (case_dir, "Is a directory", False),
               (ro / "out", "Permission denied", True)]
    for out, reason, nobody in targets:
        if cmd == "build":
            args = ["build", "--stub", ws / "stub.efi", "--linux", ws / "vmlinuz", "--output", out]
        elif cmd == "cpio":
            args = ["cpio", "--extra-dir", ws / "ext", "--output", out]
        else:
            args = ["sign", "--private-key", ws / "rsa.pem", "--pcrs", "13", "--extra-dir", ws / "ext", "--output", out]
        assert_refused(run(*args, as_nobody=nobody), out, reason, status=2 if cmd == "sign" else 1)
        if out != case_dir:
            assert_no_output(out)
    assert sorted(p.name for p in case_dir.iterdir()) == ["read-only"]
    assert list(ro.iterdir()) == []
    assert not [p for p in ws.iterdir() if p.name.startswith(f".{case_dir.name}.")], "temporary file left"


# --------------------------------------------------------------------------
# Empty files
# --------------------------------------------------------------------------

@pytest.mark.parametrize("option,reason", [
    ("--stub", "not a usable PE file (truncated input)"),
    ("--linux", "is empty"),
    ("--pcrpkey", "is empty"),
    ("--pcrsig", "is empty"),
    ("--cmdline", "is empty"),
    ("--os-release", "is empty"),
    ("--uname", "is empty"),
])
def test_build_empty_inputs(ws, case_dir, option, reason):
    empty = case_dir / "empty"
    empty.write_bytes(b"")
    parts = {"--stub": ws / "stub.efi", "--linux": ws / "vmlinuz"}
    parts[option] = f"@{empty}" if option in ("--cmdline", "--os-release", "--uname") else empty
    out = case_dir / "uki.efi"
    assert_refused(run("build", *[x for kv in parts.items() for x in kv], "--output", out), empty, reason)
    assert_no_output(out)


def test_build_empty_text_part(ws, case_dir):
    out = case_dir / "uki.efi"
    assert_refused(run("build", "--stub", ws / "stub.efi", "--linux", ws / "vmlinuz", "--cmdline", "",
                       "--output", out), "--cmdline", "is empty")
    assert_no_output(out)


def test_empty_uki_and_expect(ws, case_dir):
    empty = case_dir / "empty"
    empty.write_bytes(b"")
    assert_refused(run("predict", "--uki", empty), empty, "truncated input", status=1)
    assert_refused(run("eventlog", "--log", ws / "good.log", "--no-pcr-values", "--expect", empty), empty,
                   "not valid JSON: unexpected end of input", status=2)


def test_zero_byte_sysext_is_measured_like_the_stub_does(ws, case_dir):
    """The stub picks a 0-byte *.sysext.raw and measures H("") (stub/sysext.c): so must predict and cpio."""
    d = case_dir / "ext"
    d.mkdir()
    (d / "zero.sysext.raw").write_bytes(b"")
    (d / "a.sysext.raw").write_bytes(b"a")
    r = run("predict", "--extra-dir", d, "--pcr", "13", "--bank", "sha256")
    assert r.returncode == 0, r.stderr
    assert predicted(r.stdout, 13) == pcr13_sha256({"zero.sysext.raw": b"", "a.sysext.raw": b"a"})
    out = case_dir / "x.cpio"
    assert run("cpio", "--extra-dir", d, "--output", out).returncode == 0
    listing = subprocess.run(["cpio", "-itv", "--quiet"], input=out.read_bytes(), capture_output=True, check=True)
    rows = [ln.split() for ln in listing.stdout.decode().splitlines()]
    assert [(r[4], r[-1]) for r in rows if r[-1].endswith(".sysext.raw")] == \
        [("1", ".extra/sysext/a.sysext.raw"), ("0", ".extra/sysext/zero.sysext.raw")]


def test_empty_manifest_is_the_empty_set(ws, case_dir):
    """sha256sum of no files prints nothing: an empty manifest approves no sysext, PCR 13 stays zero."""
    m = case_dir / "SHA256SUMS"
    m.write_bytes(b"")
    r = run("predict", "--manifest", m, "--pcr", "13", "--bank", "sha256")
    assert r.returncode == 0, r.stderr
    assert predicted(r.stdout, 13) == "00" * 32


# --------------------------------------------------------------------------
# Garbage content
# --------------------------------------------------------------------------

def test_build_garbage_pem_and_signature(ws, case_dir):
    out = case_dir / "uki.efi"
    base = ["build", "--stub", ws / "stub.efi", "--linux", ws / "vmlinuz", "--output", out]
    key = case_dir / "key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    str(key)], check=True, capture_output=True)
    pub = case_dir / "pub.pem"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True,
                   capture_output=True)
    garbage = {
        "text.pem": b"not a key\n",
        "truncated.pem": pub.read_bytes()[:60],
        "bad-base64.pem": b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        "private.pem": key.read_bytes(),  # a private key must never end up in a UKI
        "private-truncated.pem": key.read_bytes()[:80],  # refused as one even without its END line
        "binary.pem": bytes(range(256)),
    }
    for name, data in garbage.items():
        (case_dir / name).write_bytes(data)
        assert_refused(run(*base, "--pcrpkey", case_dir / name), f"--pcrpkey {case_dir / name}",
                       "is a private key" if name.startswith("private") else "not a PEM public key")
        assert_no_output(out)
    fp = "ab" * 32
    sigs = {
        "garbage.json": b"\x00\xff garbage",
        "truncated.json": b'{"sha256":[{"pcrs":[11]',
        "pcr-24.json": f'{{"sha256":[{{"pcrs":[24],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA"}}]}}'.encode(),
        "short-pol.json": f'{{"sha256":[{{"pcrs":[11],"pkfp":"{fp}","pol":"ab","sig":"AAAA"}}]}}'.encode(),
    }
    for name, data in sigs.items():
        (case_dir / name).write_bytes(data)
        assert_refused(run(*base, "--pcrsig", case_dir / name), f"--pcrsig {case_dir / name}",
                       "not a valid tpm2-pcr-signature.json")
        assert_no_output(out)
    # The control: the real public key and a well-formed signature go in.
    good = case_dir / "good.json"
    good.write_text(f'{{"sha256":[{{"pcrs":[11,13],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA"}}]}}')
    r = run(*base, "--pcrpkey", pub, "--pcrsig", good)
    assert r.returncode == 0, r.stderr
    pe = PeFile(out.read_bytes())
    at = pe.field(".pcrpkey", RAW_OFFSET)
    assert bytes(pe.d[at:at + len(pub.read_bytes())]) == pub.read_bytes()


GOOD_HASH = "00" * 32


@pytest.mark.parametrize("text,needle", [
    (b"\xef\xbb\xbf{}", "not valid JSON"),                       # UTF-8 byte-order mark
    ('{"sha256":[]}'.encode("utf-16"), "not valid JSON"),       # UTF-16 text
    (b'{"sha256":[]}\x00', "not valid JSON"),                    # trailing NUL
    (b'{"sha256":["\xff\xfe"]}', "not valid JSON"),              # not UTF-8
    (b"[" * 10000 + b"]" * 10000, "nested too deeply"),
    (b'{"sha256":[], "sha256":[]}', '"sha256" appears more than once'),
    (f'{{"sha256":[{{"pcr":-1,"hash":"{GOOD_HASH}","events":[]}}]}}'.encode(), '"pcr" must be an integer 0..23'),
    (f'{{"sha256":[{{"pcr":13.0,"hash":"{GOOD_HASH}","events":[]}}]}}'.encode(), '"pcr" must be an integer'),
    (f'{{"sha256":[{{"pcr":1e1,"hash":"{GOOD_HASH}","events":[]}}]}}'.encode(), '"pcr" must be an integer'),
    (f'{{"sha256":[{{"pcr":{"9" * 40},"hash":"{GOOD_HASH}","events":[]}}]}}'.encode(), '"pcr" must be an integer'),
    (f'{{"sha256":[{{"pcr":"13","hash":"{GOOD_HASH}","events":[]}}]}}'.encode(), '"pcr" must be a number'),
    (f'{{"sha256":[{{"pcr":13,"hash":"{"zz" * 32}","events":[]}}]}}'.encode(), '"hash" must be 64 hex digits'),
    (f'{{"sha256":[{{"pcr":13,"hash":"{GOOD_HASH}00","events":[]}}]}}'.encode(), '"hash" must be 64 hex digits'),
    (f'{{"sha256":[{{"pcr":13,"hash":"{GOOD_HASH}","events":{{}}}}]}}'.encode(), '"events" must be an array'),
    (f'{{"sha256":[{{"pcr":13,"hash":"{GOOD_HASH}","events":[7]}}]}}'.encode(), "events[0]: must be an object"),
    # \u0000 is refused by the JSON reader itself (measure/json.c, as systemd's parser refuses it).
    (f'{{"sha256":[{{"pcr":13,"hash":"{GOOD_HASH}","phase":"a\\u0000b","events":[]}}]}}'.encode(),
     "not valid JSON: syntax error at line 1, column 106"),
    (b'{"sha256":[null]}', "sha256[0]: must be an object"),
    (b'"sha256"', "expected an object of banks"),
])
def test_garbage_expect_json(ws, case_dir, text, needle):
    exp = case_dir / "expect.json"
    exp.write_bytes(text)
    assert_refused(run("eventlog", "--log", ws / "good.log", "--no-pcr-values", "--expect", exp), exp, needle,
                   status=2)


def sha(data=b"x"):
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("line,needle", [
    (b"\x00\xff\xfe garbage\n", "contains a NUL byte"),
    (bytes(range(1, 256)) + b"\n", 'not a "<hex digest>  <name>" line'),
    (sha()[:63].encode() + b"  a.sysext.raw\n", "a digest of 63 hex digits, the wrong length for sha256 (64 hex digits"),
    (sha()[:41].encode() + b" *a.sysext.raw\n", "a digest of 41 hex digits, the wrong length for sha1 (40 hex digits"),
    (sha().encode() + b"00  a.sysext.raw\n", "a digest of 66 hex digits, the wrong length for sha256 (64 hex digits"),
    (sha().encode() + b" a.sysext.raw\n", 'not a "<hex digest>  <name>" line'),
    (sha().encode() + b"\ta.sysext.raw\n", 'not a "<hex digest>  <name>" line'),
    (b"\\" + sha().encode() + b"  a\\nb.sysext.raw\n", 'not a "<hex digest>  <name>" line'),  # sha256sum escape
    (sha().encode() + b"  a.sysext.raw\x00.txt\n", "contains a NUL byte"),
    (sha().encode() + b"  \n", "empty name"),
    (sha().encode() + b"  dir/\n", "empty name"),
    (sha().encode() + b"  " + b"a" * 245 + b".sysext.raw\n", "name longer than 255 characters"),
    (sha().encode() + "  é.sysext.raw\n".encode(), "name is not ASCII"),
    (sha().encode() + b"  \xff.sysext.raw\n", "name is not ASCII"),
    (sha().encode() + b"  .hidden.sysext.raw\n", "name starts with '.'"),
    (sha().encode() + b"  a.sysext.raw\n" + sha(b"y").encode() + b"  a.sysext.raw\n", "listed twice"),
])
def test_garbage_manifest(case_dir, line, needle):
    m = case_dir / "SHA256SUMS"
    m.write_bytes(b"# approved\n" + line)
    assert_refused(run("predict", "--manifest", m, "--pcr", "13"), f"{m}:", needle, status=1)


def test_name_lengths_255_and_256(case_dir):
    """EXT_NAME_MAX is 255, but the firmware's FAT driver opens no 255-character name below any
    extension directory (its path limit, docs/MEASUREMENTS.md): the stub skips it, so predict warns
    and skips it too. 256 cannot be a file at all."""
    d = case_dir / "ext"
    d.mkdir()
    name = "a" * 244 + ".sysext.raw"
    assert len(name) == 255
    (d / name).write_bytes(b"long")
    (d / "b.sysext.raw").write_bytes(b"short")
    for dir_opt, file_opt, prefix in (("--extra-dir", "--sysext", ".extra/sysext"),
                                      ("--global-dir", "--global-sysext", ".extra/global_sysext")):
        r = run("predict", dir_opt, d, "--pcr", "13", "--bank", "sha256")
        assert r.returncode == 0, r.stderr
        assert predicted(r.stdout, 13) == pcr13_sha256({"b.sysext.raw": b"short"}, prefix)
        assert r.stderr.count("warning") == 1 and f"{d / name}: skipped by the stub: path too long" in r.stderr
        assert_refused(run("predict", file_opt, d / name), d / name, "path too long for the firmware", status=1)
    too_long = d / ("a" * 245 + ".sysext.raw")
    assert_refused(run("predict", "--sysext", too_long), too_long, "File name too long", status=1)


def test_non_ascii_names(case_dir):
    """Names the firmware would report with units above 127 are skipped in a directory, refused when named."""
    d = case_dir / "ext"
    d.mkdir()
    files = {b"a.sysext.raw": b"a", "é.sysext.raw".encode(): b"e", b"\xff.sysext.raw": b"f",
             "日本.sysext.raw".encode(): b"j"}
    for name, data in files.items():
        with open(os.fsencode(d) + b"/" + name, "wb") as f:
            f.write(data)
    r = run("predict", "--extra-dir", d, "--pcr", "13", "--bank", "sha256", "--verbose")
    assert r.returncode == 0, r.stderr
    assert predicted(r.stdout, 13) == pcr13_sha256({"a.sysext.raw": b"a"})
    # A sysext the stub drops is a warning, its name shown with the bytes escaped.
    assert r.stderr.count("skipped by the stub: name is not ASCII") == 3, r.stderr
    assert "ext/\\xc3\\xa9.sysext.raw: skipped by the stub" in r.stderr, r.stderr
    for name in files:
        if name == b"a.sysext.raw":
            continue
        path = os.fsdecode(os.fsencode(d) + b"/" + name)
        assert_refused(run("predict", "--sysext", path), path, "name is not ASCII", status=1)
        out = case_dir / "out.cpio"
        assert_refused(run("cpio", "--sysext", path, "--output", out), path, "name is not ASCII", status=1)
        assert_no_output(out)


def test_missing_non_ascii_path_is_named_byte_for_byte(case_dir):
    path = os.fsdecode(os.fsencode(case_dir) + b"/\xff\xfe-uki.efi")
    assert_refused(run("predict", "--uki", path), path, "No such file or directory", status=1)


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

HUGE = "9" * 40


@pytest.mark.parametrize("args,needle", [
    (["--pcr", "24"], "--pcr: invalid value '24'"),
    (["--pcr", "-1"], "--pcr: invalid value '-1'"),
    (["--pcr", HUGE], f"--pcr: invalid value '{HUGE}'"),
    (["--pcr", ""], "--pcr: invalid value ''"),
    (["--pcr", " 13"], "--pcr: invalid value ' 13'"),
    (["--pcr", "13 "], "--pcr: invalid value '13 '"),
    (["--pcr", "+13"], "--pcr: invalid value '+13'"),
    (["--pcr", "0x0d"], "--pcr: invalid value '0x0d'"),
    (["--threads", "-1"], "--threads: invalid value '-1'"),
    (["--threads", "65"], "--threads: invalid value '65'"),
    (["--threads", HUGE], f"--threads: invalid value '{HUGE}'"),
    (["--systemd-version", HUGE], f"--systemd-version: invalid value '{HUGE}'"),
    (["--systemd-version", "4294967553"], "--systemd-version: invalid value '4294967553'"),  # 2^32 + 257
    (["--systemd-version", "-258"], "--systemd-version: invalid value '-258'"),
])
def test_predict_bad_numbers(ws, args, needle):
    assert_refused(run("predict", "--extra-dir", ws / "ext", *args), needle, status=1)


@pytest.mark.parametrize("args,needle", [
    (["--pcr", "-1"], "--pcr -1: not a PCR number 0..23"),
    (["--pcr", HUGE], f"--pcr {HUGE}: not a PCR number 0..23"),
    (["--pcr", "x"], "--pcr x: not a PCR number 0..23"),
    (["--pcr", ""], "--pcr : not a PCR number 0..23"),
    (["--pcr-value", "sha256:-1=" + "00" * 32], "not a number 0..23"),
    (["--pcr-value", f"sha256:{HUGE}=" + "00" * 32], "expected BANK:N=HEX"),
    (["--pcr-value", "sha256:4294967309=" + "00" * 32], "expected BANK:N=HEX"),  # 2^32 + 13
    (["--pcr-value", "sha256:13=" + "00" * 33], "must be 64 hex digits"),
    (["--pcr-value", "sha256:13="], "must be 64 hex digits"),
    (["--pcr-value", "=:13"], "expected BANK:N=HEX"),
])
def test_eventlog_bad_numbers(ws, args, needle):
    r = run("eventlog", "--log", ws / "good.log", *args)
    assert_refused(r, needle, status=2)


def test_unknown_command_and_options():
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    for cmd in ("build", "predict", "cpio", "eventlog", "sign"):
        r = run(cmd, "--no-such-option")
        assert r.returncode in (1, 2) and r.stdout == "", (cmd, r.stderr)
        assert "no-such-option" in r.stderr or "try 'sysext-stub" in r.stderr, (cmd, r.stderr)
