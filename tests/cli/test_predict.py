"""Tests of `sysext-stub predict` and `sysext-stub cpio`.

Every expected value is computed here, independently of the project's C
code: digests and PCR extends with hashlib, newc archives with a small
writer below (checked first against the published vectors of
../shared/docs/reference-systemd-stub.md §3.2), PE sections with struct;
or it comes from the published vectors (docs/MEASUREMENTS.md, the
reference) or from Debian's own tools (systemd-measure 252, GNU cpio,
sha256sum/sha1sum).
"""
import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
DEBIAN_STUB = Path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub")
SYSTEMD_MEASURE = Path("/usr/lib/systemd/systemd-measure")

BANKS = ("sha1", "sha256", "sha384", "sha512")
SIZE = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
DEFAULT_PHASES = ["enter-initrd", "enter-initrd:leave-initrd", "enter-initrd:leave-initrd:sysinit",
                  "enter-initrd:leave-initrd:sysinit:ready"]
# systemd v258's canonical section order, without .pcrsig (before .pcrpkey upstream, never measured).
CANONICAL_258 = [".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat",
                 ".pcrpkey", ".profile", ".dtbauto", ".hwids", ".efifw"]


# --------------------------------------------------------------------------
# Independent models
# --------------------------------------------------------------------------

def H(bank, data):
    return hashlib.new(bank, data).digest()


def replay(bank, digests, initial=None):
    value = initial if initial is not None else bytes(SIZE[bank])
    for d in digests:
        value = H(bank, value + d)
    return value


def strcmp_sorted(names):
    return sorted(names, key=lambda n: n.encode("ascii"))


def per_file_digests(bank, per_uki, global_=()):
    """Our scheme: per picked file, H(path in the initrd + NUL), then H(content)."""
    out = []
    for prefix, files in ((".extra/sysext", dict(per_uki)), (".extra/global_sysext", dict(global_))):
        for name in strcmp_sorted(files):
            out += [H(bank, f"{prefix}/{name}".encode() + b"\0"), H(bank, files[name])]
    return out


def newc(prefix, files):
    """The archive systemd-stub (and our stub) builds for one directory (reference §3.1)."""
    files = dict(files)
    if not files:
        return b""
    out = bytearray()
    ino = 0

    def entry(ino, mode, name, data, namesize=None):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        hdr = "070701" + "".join(f"{f:08x}" for f in fields)
        if namesize is not None:
            hdr = hdr[:6 + 11 * 8] + namesize + hdr[6 + 12 * 8:]
        out.extend(hdr.encode() + name + b"\0")
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    parts = prefix.split("/")
    for i in range(len(parts)):
        ino += 1
        entry(ino, 0o040555, "/".join(parts[:i + 1]).encode(), b"")
    for name in strcmp_sorted(files):
        ino += 1
        entry(ino, 0o100444, f"{prefix}/{name}".encode(), files[name])
    entry(0, 0, b"TRAILER!!!", b"", namesize="0000000B")
    return bytes(out)


#: small_uki's .osrel, and the archive the stub re-exports it in (/.extra/os-release, as systemd-stub 257+).
SMALL_OSREL = b"ID=test\n"
OSREL_ARCHIVE = newc(".extra", {"os-release": SMALL_OSREL})


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


def mangle(s):
    """systemd-stub's command-line mangling: control characters to spaces, outer whitespace removed."""
    s = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in s)
    return s.strip(" ")


def read_sections(path):
    """Independent PE reader: {name: bytes as loaded} (VirtualSize bytes, zero-filled past the raw data)."""
    d = Path(path).read_bytes()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    assert d[pe:pe + 4] == b"PE\0\0"
    nsec, = struct.unpack_from("<H", d, pe + 6)
    optsz, = struct.unpack_from("<H", d, pe + 20)
    out = {}
    for i in range(nsec):
        o = pe + 24 + optsz + 40 * i
        name = d[o:o + 8].rstrip(b"\0").decode()
        vs, _va, rs, ro = struct.unpack_from("<IIII", d, o + 8)
        data = d[ro:ro + min(vs, rs)]
        out.setdefault(name, data + bytes(vs - len(data)))
    return out


# --------------------------------------------------------------------------
# Running the CLI
# --------------------------------------------------------------------------

def cli(*args, check=True):
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def predict(*args, check=True):
    return cli("predict", *args, check=check)


def predict_json(*args):
    r = predict("--json", *args)
    return json.loads(r.stdout), r.stderr


def entry(j, bank, pcr, phase=None):
    """The one entry for @pcr in @bank (for PCR 11: the one with @phase, None = sections only)."""
    found = [e for e in j[bank] if e["pcr"] == pcr and e.get("phase") == phase]
    assert len(found) == 1, f"PCR {pcr} phase {phase!r} in {bank}: {found}"
    return found[0]


def value(j, bank, pcr, phase=None):
    return bytes.fromhex(entry(j, bank, pcr, phase)["hash"])


def write_set(base, files):
    base.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (base / name).write_bytes(data)
    return base


def assert_failed(r, *words):
    assert r.returncode != 0, r.stdout
    assert r.stdout == "", "nothing may go to stdout on error"
    errors = [line for line in r.stderr.splitlines() if line.startswith("sysext-stub: error:")]
    assert len(errors) == 1, r.stderr
    for w in words:
        assert str(w) in errors[0], f"{w!r} not named in: {r.stderr}"


def run_build(*args):
    r = subprocess.run([str(CLI), "build", *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


WORKED = {"a.sysext.raw": b"hello\n", "b.sysext.raw": b"world"}
WORKED_GLOBAL = {"g.sysext.raw": b"global"}


@pytest.fixture
def worked(tmp_path):
    return write_set(tmp_path / "BOOTX64.EFI.extra.d", WORKED), write_set(tmp_path / "extensions", WORKED_GLOBAL)


# --------------------------------------------------------------------------
# The independent models against the published vectors
# --------------------------------------------------------------------------

def test_models_reproduce_the_published_vectors():
    one = newc(".extra/sysext", {"a.sysext.raw": b"hello\n"})
    two = newc(".extra/sysext", WORKED)
    glob_ = newc(".extra/global_sysext", {"g.raw": b"global"})
    assert len(one) == 516 and hashlib.sha256(one).hexdigest().startswith("df243ad6d653ae03")
    assert len(two) == 664 and hashlib.sha256(two).hexdigest().startswith("bf665435d45aa6e4")
    assert len(glob_) == 524 and hashlib.sha256(glob_).hexdigest().startswith("0f57dd05c628b776")
    assert replay("sha256", per_file_digests("sha256", WORKED, WORKED_GLOBAL)).hex() == \
        "b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1"
    assert H("sha256", b"os-separator").hex() == "ff5b9d73dad709633ae76adf444012b57e913a12ed7403c3931145862f35f841"
    assert mangle("\t a\x01b  c\r\n ") == "a b  c"


# --------------------------------------------------------------------------
# PCR 13, sysext-stub scheme
# --------------------------------------------------------------------------

def test_worked_example_of_measurements_md(worked):
    per_uki, global_ = worked
    j, _ = predict_json("--extra-dir", per_uki, "--global-dir", global_)
    assert sorted(j) == sorted(BANKS)
    assert value(j, "sha256", 13).hex() == "b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1"
    assert value(j, "sha1", 13).hex() == "c2af4010d288233d21a9110535b711dde9c87fa3"
    assert value(j, "sha384", 13).hex() == ("5807e116f10005faa5843d39498ee61dd49d06b57d0c2e9cbe31359dee494eca"
                                            "2c2a37ce85dae5d89931a976b7ef2acd")
    events = entry(j, "sha256", 13)["events"]
    assert [(e["type"], e["description"], e["digest"][:16]) for e in events] == [
        ("EV_IPL", ".extra/sysext/a.sysext.raw", "e123ac5afdb1fac9"),
        ("EV_IPL", ".extra/sysext/a.sysext.raw", "5891b5b522d5df08"),
        ("EV_IPL", ".extra/sysext/b.sysext.raw", "21ebf24e3bd7c2e4"),
        ("EV_IPL", ".extra/sysext/b.sysext.raw", "486ea46224d1bb4f"),
        ("EV_IPL", ".extra/global_sysext/g.sysext.raw", "0c610e1b7b06df83"),
        ("EV_IPL", ".extra/global_sysext/g.sysext.raw", "8001c27439650c5c"),
    ]
    assert [Path(e["file"]).name for e in events] == ["a.sysext.raw"] * 2 + ["b.sysext.raw"] * 2 + \
        ["g.sysext.raw"] * 2
    # The default text output carries the same values.
    text = predict("--extra-dir", per_uki, "--global-dir", global_).stdout
    assert "13:sha256=b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1" in text.splitlines()


def test_all_four_banks_match_hashlib(tmp_path):
    per_uki = {"k3s.sysext.raw": os.urandom(300_001), "empty.sysext.raw": b"", "Z.SYSEXT.RAW": os.urandom(4097)}
    global_ = {"tools.sysext.raw": os.urandom(70_003), "a.sysext.raw": b"a\n"}
    d1, d2 = write_set(tmp_path / "e", per_uki), write_set(tmp_path / "g", global_)
    j, _ = predict_json("--extra-dir", d1, "--global-dir", d2)
    for bank in BANKS:
        digests = per_file_digests(bank, per_uki, global_)
        assert [bytes.fromhex(e["digest"]) for e in entry(j, bank, 13)["events"]] == digests, bank
        assert value(j, bank, 13) == replay(bank, digests), bank
    j1, _ = predict_json("--extra-dir", d1, "--global-dir", d2, "--threads", "1")
    assert j1 == j, "the thread count must not change anything"


def test_initial_and_os_separator(worked):
    per_uki, global_ = worked
    init256, init1 = os.urandom(32), os.urandom(20)
    j, _ = predict_json("--extra-dir", per_uki, "--global-dir", global_, "--initial", init256.hex(),
                        "--initial", init1.hex().upper(), "--os-separator")
    for bank, init in (("sha256", init256), ("sha1", init1), ("sha384", None), ("sha512", None)):
        digests = per_file_digests(bank, WORKED, WORKED_GLOBAL) + [H(bank, b"os-separator")]
        e = entry(j, bank, 13)
        assert bytes.fromhex(e["hash"]) == replay(bank, digests, init), bank
        assert e.get("initial") == (init.hex() if init else None), bank
        last = e["events"][-1]
        assert (last["type"], last["description"]) == ("userspace", "os-separator")
    # --os-separator alone (no sysexts at all) is H(0 || H("os-separator")).
    j, _ = predict_json("--pcr", "13", "--os-separator", "--bank", "sha256")
    assert value(j, "sha256", 13) == replay("sha256", [H("sha256", b"os-separator")])


def test_dir_files_and_manifests_agree(tmp_path, worked):
    per_uki, global_ = worked
    base, _ = predict_json("--extra-dir", per_uki, "--global-dir", global_)
    # Files one by one, given in the wrong order: the order is the stub's, not the command line's.
    files, _ = predict_json("--sysext", per_uki / "b.sysext.raw", "--sysext", per_uki / "a.sysext.raw",
                            "--global-sysext", global_ / "g.sysext.raw")
    for bank in BANKS:
        assert entry(files, bank, 13)["hash"] == entry(base, bank, 13)["hash"]
    # Manifests from Debian's coreutils, with the directory part and in binary mode ("*name").
    sha256 = tmp_path / "SHA256SUMS"
    sha256.write_text(subprocess.run(["sha256sum", *sorted(map(str, per_uki.iterdir()))], check=True,
                                     capture_output=True, text=True).stdout)
    gsha256 = tmp_path / "GLOBAL.SHA256SUMS"
    gsha256.write_text(subprocess.run(["sha256sum", "-b", "g.sysext.raw"], cwd=global_, check=True,
                                      capture_output=True, text=True).stdout)
    r = predict("--json", "--manifest", sha256, "--global-manifest", gsha256)
    j = json.loads(r.stdout)
    assert sorted(j) == ["sha256"], "a sha256sum manifest gives sha256 only"
    for bank in ("sha1", "sha384", "sha512"):
        assert f"no {bank} digest" in r.stderr, r.stderr
    assert entry(j, "sha256", 13)["hash"] == entry(base, "sha256", 13)["hash"]
    assert all("file" not in e for e in entry(j, "sha256", 13)["events"]), "manifest entries have no host file"
    # sha1sum and sha256sum manifests together: both banks; a manifest can mix with real files.
    sha1 = tmp_path / "SHA1SUMS"
    sha1.write_text(subprocess.run(["sha1sum", "a.sysext.raw", "b.sysext.raw"], cwd=per_uki, check=True,
                                   capture_output=True, text=True).stdout)
    r = predict("--json", "--manifest", sha1, "--manifest", sha256, "--global-sysext", global_ / "g.sysext.raw")
    j = json.loads(r.stdout)
    assert sorted(j) == ["sha1", "sha256"]
    for bank in ("sha1", "sha256"):
        assert entry(j, bank, 13)["hash"] == entry(base, bank, 13)["hash"]
    # Asking only for banks the manifest has: no warning.
    r = predict("--manifest", sha256, "--global-manifest", gsha256, "--bank", "sha256")
    assert "warning" not in r.stderr, r.stderr


def test_manifest_only_banks_cannot_all_be_dropped(tmp_path, worked):
    per_uki, _ = worked
    m = tmp_path / "SHA1SUMS"
    m.write_text(subprocess.run(["sha1sum", "a.sysext.raw"], cwd=per_uki, check=True, capture_output=True,
                                text=True).stdout)
    assert_failed(predict("--manifest", m, "--bank", "sha256", check=False), "no bank")


def test_pickup_rule(tmp_path):
    d = write_set(tmp_path / "extra.d", {
        "Mixed.SYSEXT.RAW": b"mixed", "ok.sysext.raw": b"ok", "other.raw": b"x", "x.cred": b"x",
        ".hidden.sysext.raw": b"x", "README": b"x", "a.confext.raw": b"x", "sysext.raw": b"x"})
    (d / "dir.sysext.raw").mkdir()
    r = predict("--json", "--extra-dir", d, "--verbose", "--bank", "sha256")
    j = json.loads(r.stdout)
    picked = {"Mixed.SYSEXT.RAW": b"mixed", "ok.sysext.raw": b"ok"}
    events = entry(j, "sha256", 13)["events"]
    assert [e["description"] for e in events[::2]] == [".extra/sysext/Mixed.SYSEXT.RAW", ".extra/sysext/ok.sysext.raw"]
    assert value(j, "sha256", 13) == replay("sha256", per_file_digests("sha256", picked))
    for skipped in ("other.raw", ".hidden.sysext.raw", "README", "dir.sysext.raw", "/sysext.raw"):
        assert skipped in r.stderr, f"--verbose must report {skipped}: {r.stderr}"
    # Credentials and confexts are companion files too: taken, into PCR 12 (tests/cli/test_companions.py).
    for taken in ("x.cred", "a.confext.raw"):
        assert taken not in r.stderr, r.stderr
    assert [e["description"] for e in entry(j, "sha256", 12)["events"][::2]] == \
        [".extra/credentials/x.cred", ".extra/confext/a.confext.raw"]
    for name in ("other.raw", "x.cred", ".hidden.sysext.raw", "a.confext.raw"):
        assert_failed(predict("--sysext", d / name, check=False), d / name)
    assert_failed(predict("--global-sysext", d / "dir.sysext.raw", check=False), d / "dir.sysext.raw")


def test_strcmp_order(tmp_path):
    files = {"a9.sysext.raw": b"9", "a.sysext.raw": b"a", "B.sysext.raw": b"B", "a10.sysext.raw": b"10"}
    d = write_set(tmp_path / "e", files)
    j, _ = predict_json("--extra-dir", d, "--bank", "sha256")
    names = [e["description"].rsplit("/", 1)[1] for e in entry(j, "sha256", 13)["events"][::2]]
    assert names == ["B.sysext.raw", "a.sysext.raw", "a10.sysext.raw", "a9.sysext.raw"]
    assert value(j, "sha256", 13) == replay("sha256", per_file_digests("sha256", files))


def test_at_most_128_files_first_in_name_order(tmp_path):
    files = {f"x{i:03d}.sysext.raw": bytes([i]) for i in range(130)}
    d = write_set(tmp_path / "e", files)
    r = predict("--json", "--extra-dir", d, "--bank", "sha256")
    kept = {n: files[n] for n in strcmp_sorted(files)[:128]}
    assert value(json.loads(r.stdout), "sha256", 13) == replay("sha256", per_file_digests("sha256", kept))
    assert "x128.sysext.raw" in r.stderr and "x129.sysext.raw" in r.stderr and "x127" not in r.stderr, r.stderr
    # systemd-stub has no count limit.
    r = predict("--json", "--scheme=systemd", "--extra-dir", d, "--bank", "sha256")
    assert value(json.loads(r.stdout), "sha256", 13) == replay("sha256", [H("sha256", newc(".extra/sysext", files))])


def long_name(n, suffix=".sysext.raw", fill="n"):
    return fill * (n - len(suffix)) + suffix


# EDK2's FAT driver opens a name below a directory only if "X:" + its path + "\" + name + NUL fit in
# 260 characters (docs/MEASUREMENTS.md): below \loader\extensions (18) names of up to 238.
def fat_opens(dir_path, name):
    return 2 + len(dir_path) + 1 + len(name) + 1 <= 260


def test_firmware_path_limit_in_the_global_directory(tmp_path):
    r"""238 characters open below \loader\extensions, 239 do not: predict skips 239 with a warning,
    before the 128-file limit counts it, exactly as the stub's listing does."""
    assert fat_opens("\\loader\\extensions", long_name(238)) and not fat_opens("\\loader\\extensions", long_name(239))
    files = {f"x{i:03d}.sysext.raw": bytes([i]) for i in range(127)}
    files[long_name(238)] = b"opens"
    g = write_set(tmp_path / "extensions", {**files, long_name(239, fill="A"): b"too long"})
    r = predict("--json", "--global-dir", g, "--bank", "sha256")
    j = json.loads(r.stdout)
    assert value(j, "sha256", 13) == replay("sha256", per_file_digests("sha256", {}, files))
    assert len(entry(j, "sha256", 13)["events"]) == 2 * 128
    warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert warnings == [f"sysext-stub: warning: {g / long_name(239, fill='A')}: skipped by the stub: path too long "
                        "for the firmware to open (over the FAT driver's 260 characters)"], r.stderr
    out = tmp_path / "x.cpio"
    cli("cpio", "--global-dir", g, "--output", out)
    assert out.read_bytes() == newc(".extra/global_sysext", files)
    # Named one by one: an error, as for any file the stub would skip.
    assert_failed(predict("--global-sysext", g / long_name(239, fill="A"), check=False),
                  g / long_name(239, fill="A"), "path too long")
    assert predict("--global-sysext", g / long_name(238), "--pcr", "13").returncode == 0


@pytest.mark.parametrize("esp_path", ["\\EFI\\Linux\\uki.efi", "/EFI//Linux/uki+3-1.efi", "EFI\\Linux\\uki.efi",
                                      "\\" + "d" * 150 + "\\x.efi"])
def test_firmware_path_limit_in_the_per_uki_directory(tmp_path, esp_path):
    """--esp-path gives the UKI's place; its .extra.d (derived as the stub derives it, boot counter
    removed) decides which names open. Without it only names no UKI path could open are skipped."""
    extra_dir = esp_path.replace("/", "\\").replace("\\\\", "\\").replace("+3-1", "")
    extra_dir = ("" if extra_dir.startswith("\\") else "\\") + extra_dir + ".extra.d"
    longest = 256 - len(extra_dir)
    assert fat_opens(extra_dir, long_name(longest)) and not fat_opens(extra_dir, long_name(longest + 1))
    fits, too_long = {long_name(longest): b"fits"}, long_name(longest + 1, fill="m")
    d = write_set(tmp_path / "uki.efi.extra.d", {**fits, too_long: b"no"})
    r = predict("--json", "--esp-path", esp_path, "--extra-dir", d, "--bank", "sha256")
    assert value(json.loads(r.stdout), "sha256", 13) == replay("sha256", per_file_digests("sha256", fits))
    assert f"{d / too_long}: skipped by the stub: path too long" in r.stderr
    # Without --esp-path: the shortest per-UKI directory, "\a.extra.d", lets 246 characters open.
    d2 = write_set(tmp_path / "any.extra.d", {long_name(246): b"246", long_name(247, fill="m"): b"247"})
    r = predict("--json", "--extra-dir", d2, "--bank", "sha256")
    assert value(json.loads(r.stdout), "sha256", 13) == replay("sha256", per_file_digests("sha256", {
        long_name(246): b"246"}))
    assert r.stderr.count("skipped by the stub: path too long") == 1 and long_name(247, fill="m") in r.stderr


def test_cpio_and_sign_take_esp_path(tmp_path):
    """--esp-path is an input like the others: cpio packs, and sign signs, what predict predicts."""
    fits, too_long = long_name(230), long_name(231, fill="m")  # \EFI\Linux\uki.efi.extra.d has 26
    d = write_set(tmp_path / "uki.efi.extra.d", {fits: b"fits", too_long: b"no"})
    only = write_set(tmp_path / "only", {fits: b"fits"})
    esp = ["--esp-path", "\\EFI\\Linux\\uki.efi"]
    out = tmp_path / "x.cpio"
    cli("cpio", *esp, "--extra-dir", d, "--output", out)
    assert out.read_bytes() == newc(".extra/sysext", {fits: b"fits"})
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)

    def policy(*args):
        return cli("sign", "--policy-digest-only", "--private-key", key, "--pcrs", "13", "--bank", "sha256",
                   *args).stdout

    assert policy(*esp, "--extra-dir", d) == policy("--extra-dir", only)
    assert policy("--extra-dir", d) != policy("--extra-dir", only)


@pytest.mark.parametrize("esp_path, needle", [
    ("\\EFI\\Linux\\", "not the path of a file"),
    ("", "not the path of a file"),
    ("\\EFI\\L\u00e9\\uki.efi", "only ASCII"),
    ("\\" + "x" * 1100, "longer than 1023"),
])
def test_esp_path_errors(tmp_path, esp_path, needle):
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"a"})
    assert_failed(predict("--esp-path", esp_path, "--extra-dir", d, check=False), "--esp-path", needle)


def test_firmware_path_limit_for_signature_files(tmp_path, small_uki):
    """A *.pcrsig.json the firmware cannot open is left out of the merged signatures (and PCR 9), too."""
    fp = "ab" * 32
    doc = f'{{"sha256":[{{"pcrs":[11],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA"}}]}}'.encode()
    uki = small_uki("uki.efi")
    g = write_set(tmp_path / "extensions", {long_name(239, ".pcrsig.json"): doc})
    out = tmp_path / "x.cpio"
    r = cli("cpio", "--uki", uki, "--global-dir", g, "--output", out)
    assert out.read_bytes() == OSREL_ARCHIVE, "no signature file left, no archive (only os-release)"
    assert f"{g / long_name(239, '.pcrsig.json')}: skipped by the stub: path too long" in r.stderr
    g2 = write_set(tmp_path / "ext2", {long_name(238, ".pcrsig.json"): doc})
    cli("cpio", "--uki", uki, "--global-dir", g2, "--output", out)
    assert [row[5] for row in cpio_list(out.read_bytes())] == [".extra", ".extra/tpm2-pcr-signature.json"]


def test_same_name_twice_is_an_error(tmp_path, worked):
    per_uki, _ = worked
    m = tmp_path / "SUMS"
    m.write_text(subprocess.run(["sha256sum", "a.sysext.raw"], cwd=per_uki, check=True, capture_output=True,
                                text=True).stdout)
    assert_failed(predict("--extra-dir", per_uki, "--manifest", m, check=False), "a.sysext.raw")
    assert_failed(predict("--manifest", m, "--manifest", m, check=False), "a.sysext.raw", "twice")


# --------------------------------------------------------------------------
# PCR 13, systemd-stub scheme: the reference's vectors
# --------------------------------------------------------------------------

def test_systemd_single_file_vectors(tmp_path):
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"hello\n"})
    j, _ = predict_json("--scheme=systemd", "--extra-dir", d)
    assert value(j, "sha256", 13).hex() == "4bb817b0f00ac6a4cec97e8267e8fdbbda2f788e874b41c5d4aab00d60e5da6c"
    assert value(j, "sha1", 13).hex() == "acf131372ad7bcbfadf9f22670e5b7e38cfdae2c"
    assert value(j, "sha384", 13).hex() == ("6f774dfe17867e335bcb711d48b27fc4ddb45040699f0b07684751a45061df5d"
                                            "a1f738afa6a8b79be18995ea6a53557b")
    [ev] = entry(j, "sha256", 13)["events"]
    assert ev == {"type": "EV_IPL", "description": "System extension initrd",
                  "digest": "df243ad6d653ae0304f9aaebaf89d473bc8108b5f36b2114c70689d91777b6d7"}
    arch = newc(".extra/sysext", {"a.sysext.raw": b"hello\n"})
    assert value(j, "sha512", 13) == replay("sha512", [H("sha512", arch)])


def test_systemd_two_file_vector(worked):
    per_uki, _ = worked
    j, _ = predict_json("--scheme=systemd", "--extra-dir", per_uki, "--bank", "sha256")
    assert value(j, "sha256", 13).hex() == "18a0d82bc6a004aaa96a0f03107498cbf064918496165510bb6ed3717af3902b"


def test_systemd_258_global_and_os_separator(tmp_path):
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"hello\n"})
    g = write_set(tmp_path / "g", {"g.raw": b"global"})
    args = ["--scheme=systemd", "--systemd-version", "258", "--extra-dir", d, "--global-dir", g, "--bank", "sha256"]
    j, _ = predict_json(*args)
    assert value(j, "sha256", 13).hex() == "1032cd46b862a85b857bb45e976abc0e128eeea771f8bc7e2a4249cbec9a220f"
    assert [e["description"] for e in entry(j, "sha256", 13)["events"]] == [
        "System extension initrd", "Global system extension initrd"]
    j, _ = predict_json(*args, "--os-separator")
    assert value(j, "sha256", 13).hex() == "1a9d1094176c248e360f52cbe81d5e528476b6f8fab3c5233b542e1d828e5435"
    # Before 258 the global directory is not read: a warning, and the single-file value.
    r = predict("--json", "--scheme=systemd", "--systemd-version", "257", "--extra-dir", d, "--global-dir", g)
    assert "warning" in r.stderr and "loader" in r.stderr, r.stderr
    assert value(json.loads(r.stdout), "sha256", 13).hex() == \
        "4bb817b0f00ac6a4cec97e8267e8fdbbda2f788e874b41c5d4aab00d60e5da6c"


@pytest.mark.parametrize("version, picked", [
    (252, ["A.RAW", "b.confext.raw", "c.sysext.raw"]),
    (255, ["A.RAW", "b.confext.raw", "c.sysext.raw"]),
    (256, ["A.RAW", "c.sysext.raw"]),
    (261, ["A.RAW", "c.sysext.raw"]),
])
def test_systemd_pickup_rules(tmp_path, version, picked):
    files = {"A.RAW": b"upper", "b.confext.raw": b"conf", "c.sysext.raw": b"sys", "x.cred": b"c", ".d.raw": b"d",
             "notes.txt": b"t"}
    d = write_set(tmp_path / "e", files)
    (d / "sub.raw").mkdir()
    j, _ = predict_json("--scheme=systemd", "--systemd-version", str(version), "--extra-dir", d)
    arch = newc(".extra/sysext", {n: files[n] for n in picked})
    for bank in BANKS:
        assert value(j, bank, 13) == replay(bank, [H(bank, arch)]), (bank, version)


def test_files_of_4_gib(tmp_path):
    """Sparse, never read: ours skips that one file; systemd-stub drops the whole directory (reference §1.3)."""
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"hello\n"})
    with open(d / "huge.sysext.raw", "wb") as f:
        f.truncate(1 << 32)
    r = predict("--json", "--extra-dir", d, "--bank", "sha256")
    assert "huge.sysext.raw" in r.stderr and "4 GiB" in r.stderr, r.stderr
    assert value(json.loads(r.stdout), "sha256", 13) == \
        replay("sha256", per_file_digests("sha256", {"a.sysext.raw": b"hello\n"}))
    r = predict("--json", "--scheme=systemd", "--extra-dir", d, "--bank", "sha256")
    assert "huge.sysext.raw" in r.stderr, r.stderr
    assert entry(json.loads(r.stdout), "sha256", 13) == {"pcr": 13, "hash": "00" * 32, "events": []}


def test_systemd_scheme_needs_the_files(tmp_path, worked):
    per_uki, _ = worked
    m = tmp_path / "SUMS"
    m.write_text(subprocess.run(["sha256sum", "a.sysext.raw"], cwd=per_uki, check=True, capture_output=True,
                                text=True).stdout)
    assert_failed(predict("--scheme=systemd", "--manifest", m, check=False), "manifest")


# --------------------------------------------------------------------------
# sysext-stub cpio
# --------------------------------------------------------------------------

def cpio_list(data):
    r = subprocess.run(["cpio", "-itv", "--quiet"], input=data, capture_output=True, check=True,
                       env={**os.environ, "TZ": "UTC", "LC_ALL": "C"})
    rows = []
    for line in r.stdout.decode().splitlines():
        f = line.split()
        rows.append((f[0], f[2], f[3], int(f[4]), " ".join(f[5:8]), f[8]))
    return rows


def cpio_extract(data, dest):
    dest.mkdir()
    subprocess.run(["cpio", "-id", "--quiet", "--no-absolute-filenames"], input=data, cwd=dest, check=True,
                   capture_output=True)
    return dest


def split_archives(data):
    """Split concatenated newc archives after each trailer (GNU cpio stops reading at the first)."""
    out = []
    while data:
        end = data.index(b"TRAILER!!!\0") + len(b"TRAILER!!!\0")
        end += -end % 4
        out.append(data[:end])
        data = data[end:]
    return out


def test_cpio_single_file_matches_reference_and_gnu_cpio(tmp_path):
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"hello\n", "skipped.raw": b"x"})
    out = tmp_path / "sysexts.cpio"
    cli("cpio", "--extra-dir", d, "--output", out)
    data = out.read_bytes()
    assert hashlib.sha256(data).hexdigest() == "df243ad6d653ae0304f9aaebaf89d473bc8108b5f36b2114c70689d91777b6d7"
    assert cpio_list(data) == [
        ("dr-xr-xr-x", "root", "root", 0, "Jan 1 1970", ".extra"),
        ("dr-xr-xr-x", "root", "root", 0, "Jan 1 1970", ".extra/sysext"),
        ("-r--r--r--", "root", "root", 6, "Jan 1 1970", ".extra/sysext/a.sysext.raw"),
    ]
    x = cpio_extract(data, tmp_path / "x")
    assert (x / ".extra/sysext/a.sysext.raw").read_bytes() == b"hello\n"
    assert sorted(p.name for p in (x / ".extra/sysext").iterdir()) == ["a.sysext.raw"]


def test_cpio_per_uki_then_global(tmp_path):
    per_uki = {"k3s.sysext.raw": os.urandom(50_001), "B.sysext.raw": b"", "a.SysExt.Raw": os.urandom(3)}
    global_ = {"tools.sysext.raw": os.urandom(1234)}
    d, g = write_set(tmp_path / "e", per_uki), write_set(tmp_path / "g", global_)
    out = tmp_path / "sysexts.cpio"
    cli("cpio", "--extra-dir", d, "--global-dir", g, "--output", out)
    data = out.read_bytes()
    assert data == newc(".extra/sysext", per_uki) + newc(".extra/global_sysext", global_)
    first, second = split_archives(data)
    assert [(r[0], r[3], r[5]) for r in cpio_list(first)] == [
        ("dr-xr-xr-x", 0, ".extra"), ("dr-xr-xr-x", 0, ".extra/sysext"),
        ("-r--r--r--", 0, ".extra/sysext/B.sysext.raw"), ("-r--r--r--", 3, ".extra/sysext/a.SysExt.Raw"),
        ("-r--r--r--", 50_001, ".extra/sysext/k3s.sysext.raw")]
    assert [(r[0], r[3], r[5]) for r in cpio_list(second)] == [
        ("dr-xr-xr-x", 0, ".extra"), ("dr-xr-xr-x", 0, ".extra/global_sysext"),
        ("-r--r--r--", 1234, ".extra/global_sysext/tools.sysext.raw")]
    x1, x2 = cpio_extract(first, tmp_path / "x1"), cpio_extract(second, tmp_path / "x2")
    for name, content in per_uki.items():
        assert (x1 / ".extra/sysext" / name).read_bytes() == content
    assert (x2 / ".extra/global_sysext/tools.sysext.raw").read_bytes() == global_["tools.sysext.raw"]
    # Global only, and explicit files: the same archive as from the directory.
    out2 = tmp_path / "files.cpio"
    cli("cpio", *[a for n in per_uki for a in ("--sysext", d / n)], "--global-sysext", g / "tools.sysext.raw",
        "-o", out2)
    assert out2.read_bytes() == data


def help_options(text):
    """{option: takes an argument} for every option a --help text lists."""
    found = re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)( [A-Z]+)?", text, re.M)
    return {name: bool(arg) for name, arg in found}


def test_cpio_help_lists_exactly_the_options_cpio_accepts(tmp_path):
    r = cli("cpio", "--help")
    assert r.stdout.startswith("Usage: sysext-stub cpio --output FILE") and r.stderr == ""
    listed = help_options(r.stdout)
    assert {"--output", "--extra-dir", "--global-dir", "--sysext", "--global-sysext", "--uki",
            "--esp-path"} <= set(listed), listed
    candidates = {**help_options(cli("predict", "--help").stdout), **listed}
    assert "--bank" in candidates and "--manifest" in candidates and "--json" in candidates
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"a"})
    accepted = set()
    for name, takes_arg in candidates.items():
        if name == "--help":
            continue
        arg = [tmp_path / "arg"] if takes_arg else []  # a path, in case it is one (--output)
        r = cli("cpio", "--extra-dir", d, "--output", tmp_path / "out.cpio", name, *arg, check=False)
        if f"unrecognized option '{name}" not in r.stderr:
            accepted.add(name)
        else:
            assert r.returncode == 1 and "try 'sysext-stub cpio --help'" in r.stderr, r.stderr
    assert accepted == set(listed) - {"--help"}


def assert_no_output(r, out, *words):
    assert_failed(r, *words)
    assert not out.exists(), "no output may be created on error"
    assert not [p for p in out.parent.iterdir() if p.name.startswith("." + out.name)], "temporary file left"


def test_cpio_errors_leave_no_output(tmp_path, worked):
    per_uki, _ = worked
    out = tmp_path / "out.cpio"
    assert_no_output(cli("cpio", "--extra-dir", tmp_path / "nope", "--output", out, check=False), out,
                     tmp_path / "nope")
    bad = write_set(tmp_path / "bad", {"a.sysext.raw": b"a"})
    (bad / "dangling.sysext.raw").symlink_to(tmp_path / "gone")
    assert_no_output(cli("cpio", "--extra-dir", bad, "--output", out, check=False), out, "dangling.sysext.raw")
    (tmp_path / "x.cred").write_bytes(b"c")
    assert_no_output(cli("cpio", "--sysext", tmp_path / "x.cred", "--output", out, check=False), out, "x.cred")
    assert_failed(cli("cpio", "--extra-dir", per_uki, check=False), "--output")


# --------------------------------------------------------------------------
# UKIs
# --------------------------------------------------------------------------

def find_kernel():
    """Debian's kernel from the boot tests' cache, downloaded with the harness if missing."""
    base = os.environ.get("SYSEXT_STUB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sysext-stub")
    found = sorted(glob.glob(os.path.join(base, "kernel", "*", "boot", "vmlinuz-*")))
    if found:
        return Path(found[-1])
    sys.path.insert(0, str(ROOT / "ovmf-tests"))
    try:
        import debian  # noqa: E402
        import harness  # noqa: E402
        try:
            return Path(harness.fetch_kernel().vmlinuz)
        except harness.HarnessError as e:
            # The one reason to skip: no network to the Debian mirror. Any other failure is one.
            if debian.network_failure(str(e)):
                pytest.skip(f"no network to the Debian mirror, and no cached kernel: {e}")
            raise
    finally:
        if sys.path[0] == str(ROOT / "ovmf-tests"):
            sys.path.pop(0)


@pytest.fixture(scope="module")
def real_ukis(tmp_path_factory):
    """Two real UKIs around Debian's kernel, one per stub, and their component files."""
    kernel = find_kernel()
    base = tmp_path_factory.mktemp("ukis")
    osrel = base / "os-release"
    osrel.write_text('ID=debian\nPRETTY_NAME="predict test"\n')
    cmdline = base / "cmdline"
    cmdline.write_text("console=ttyS0 quiet")
    initrd = base / "initrd"
    initrd.write_bytes(os.urandom(100_003))
    key = base / "pcr.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(key)], check=True, capture_output=True)
    pcrpkey = base / "pcr.pub.pem"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pcrpkey)], check=True,
                   capture_output=True)
    ukis = {}
    ukis["debian-initrd"] = dict(uki=base / "debian.efi", linux=kernel, osrel=osrel, cmdline=cmdline, initrd=initrd)
    run_build("--stub", DEBIAN_STUB, "--linux", kernel, "--os-release", f"@{osrel}", "--cmdline", f"@{cmdline}",
              "--initrd", initrd, "--uname", "6.1.0-test", "--output", ukis["debian-initrd"]["uki"])
    ukis["ours-pcrpkey"] = dict(uki=base / "ours.efi", linux=kernel, osrel=osrel, cmdline=cmdline, pcrpkey=pcrpkey)
    run_build("--stub", STUB, "--linux", kernel, "--os-release", f"@{osrel}", "--cmdline", f"@{cmdline}",
              "--pcrpkey", pcrpkey, "--output", ukis["ours-pcrpkey"]["uki"])
    ukis["ours-all"] = dict(uki=base / "all.efi", linux=kernel, osrel=osrel, cmdline=cmdline, initrd=initrd,
                            pcrpkey=pcrpkey)
    run_build("--stub", STUB, "--linux", kernel, "--os-release", f"@{osrel}", "--cmdline", f"@{cmdline}",
              "--initrd", initrd, "--uname", "6.1.0-test", "--pcrpkey", pcrpkey, "--output", ukis["ours-all"]["uki"])
    return ukis


def systemd_measure(parts, *extra):
    # Installed by scripts/install-deps.sh (Debian's systemd): missing, the differential fails, never skips.
    assert SYSTEMD_MEASURE.exists(), f"{SYSTEMD_MEASURE} is missing: install systemd (scripts/install-deps.sh)"
    args = [str(SYSTEMD_MEASURE), "calculate", "--json=short"]
    args += [f"--{k}={parts[k]}" for k in ("linux", "osrel", "cmdline", "initrd", "pcrpkey") if k in parts]
    args += [f"--bank={b}" for b in BANKS]
    r = subprocess.run(args + list(extra), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def pcr11_rows(j):
    return {bank: sorted((e.get("phase", ""), e["pcr"], e["hash"]) for e in entries) for bank, entries in j.items()}


@pytest.mark.parametrize("which", ["debian-initrd", "ours-pcrpkey"])
def test_pcr11_equals_systemd_measure_252(real_ukis, which):
    parts = real_ukis[which]
    j, _ = predict_json("--uki", parts["uki"], "--systemd-version", "252", "--pcr", "11")
    want = systemd_measure(parts)
    assert sorted(j) == sorted(want) == sorted(BANKS)
    for bank in BANKS:
        assert [(e["phase"], e["pcr"], e["hash"]) for e in j[bank]] == \
            [(e["phase"], e["pcr"], e["hash"]) for e in want[bank]], bank
    assert [e["phase"] for e in j["sha256"]] == DEFAULT_PHASES


def test_pcr11_custom_phases_equal_systemd_measure_252(real_ukis):
    parts = real_ukis["ours-pcrpkey"]
    phases = ["enter-initrd::ready", "", "sysinit", "enter-initrd", ":enter-initrd:", "enter-initrd:ready", ":"]
    args = [f"--phase={p}" for p in phases]
    j, _ = predict_json("--uki", parts["uki"], "--systemd-version", "252", "--pcr", "11", *args)
    want = systemd_measure(parts, *args)
    assert pcr11_rows(j) == pcr11_rows(want)
    for bank in BANKS:
        reported = [e.get("phase") for e in j[bank]]
        assert len(reported) == len(set(reported)) == 4, f"one report per distinct phase: {reported}"
    # Sections only: no "phase" key, only section events.
    sections = entry(j, "sha256", 11)
    assert all(e["type"] == "EV_IPL" for e in sections["events"])


def test_pcr11_default_list_includes_uname_and_sbat_in_canonical_order(real_ukis):
    parts = real_ukis["ours-all"]
    sections = read_sections(parts["uki"])
    assert sections[".linux"] == parts["linux"].read_bytes()
    present = [n for n in CANONICAL_258 if n in sections and sections[n]]
    assert present == [".linux", ".osrel", ".cmdline", ".initrd", ".uname", ".sbat", ".pcrpkey"]
    j, _ = predict_json("--uki", parts["uki"], "--pcr", "11", "--phase=", "--phase=enter-initrd")
    for bank in BANKS:
        digests = [d for n in present for d in (H(bank, n.encode() + b"\0"), H(bank, sections[n]))]
        e = entry(j, bank, 11)
        assert [ev["description"] for ev in e["events"]] == [n for n in present for _ in range(2)]
        assert [bytes.fromhex(ev["digest"]) for ev in e["events"]] == digests, bank
        assert bytes.fromhex(e["hash"]) == replay(bank, digests), bank
        assert value(j, bank, 11, "enter-initrd") == replay(bank, digests + [H(bank, b"enter-initrd")]), bank
    # systemd 252's list leaves .uname and .sbat out.
    j, _ = predict_json("--uki", parts["uki"], "--pcr", "11", "--phase=", "--systemd-version", "252",
                        "--bank", "sha256")
    assert [ev["description"] for ev in entry(j, "sha256", 11)["events"][::2]] == \
        [".linux", ".osrel", ".cmdline", ".initrd", ".pcrpkey"]


# --------------------------------------------------------------------------
# Small UKIs (any PE serves as the kernel) for PCRs 12 and 9
# --------------------------------------------------------------------------

@pytest.fixture
def small_uki(tmp_path):
    """build(name, **parts) -> (uki path, sections dict)."""
    kernel = tmp_path / "vmlinuz"
    shutil.copy(STUB, kernel)

    def build(name, initrd=None, cmdline=None, osrel=True):
        args = ["--stub", STUB, "--linux", kernel, "--output", tmp_path / name]
        if osrel:
            args += ["--os-release", SMALL_OSREL.decode()]
        if initrd is not None:
            (tmp_path / f"{name}.initrd").write_bytes(initrd)
            args += ["--initrd", tmp_path / f"{name}.initrd"]
        if cmdline is not None:
            (tmp_path / f"{name}.cmdline").write_bytes(cmdline.encode())
            args += ["--cmdline", f"@{tmp_path / f'{name}.cmdline'}"]
        run_build(*args)
        return tmp_path / name

    return build


def test_pcr12_passed_in_command_line(small_uki):
    uki = small_uki("nocmd.efi")
    raw = "\t  console=ttyS0  quiet\r\n "
    j, _ = predict_json("--uki", uki, "--cmdline", raw)
    assert {e["pcr"] for e in j["sha256"]} == {9, 11, 12, 13}
    for bank in BANKS:
        e = entry(j, bank, 12)
        [ev] = e["events"]
        data = utf16z("console=ttyS0  quiet")
        assert (ev["type"], ev["description"]) == ("EV_IPL", "console=ttyS0  quiet")
        assert bytes.fromhex(ev["digest"]) == H(bank, data)
        assert bytes.fromhex(e["hash"]) == replay(bank, [H(bank, data)])


def test_pcr12_ignored_with_a_cmdline_section(small_uki):
    uki = small_uki("cmd.efi", cmdline="root=/dev/sda1")
    r = predict("--json", "--uki", uki, "--cmdline", "init=/bin/sh", "--pcr", "12")
    assert "warning" in r.stderr and "--cmdline" in r.stderr, r.stderr
    j = json.loads(r.stdout)
    for bank in BANKS:
        assert entry(j, bank, 12) == {"pcr": 12, "hash": "00" * SIZE[bank], "events": []}


def test_pcr12_command_line_that_is_not_text(small_uki):
    uki = small_uki("nocmd.efi")
    r = predict("--json", "--uki", uki, "--cmdline", "caf\u00e9=1", "--pcr", "12", "--bank", "sha256")
    assert "warning" in r.stderr, r.stderr
    assert entry(json.loads(r.stdout), "sha256", 12)["events"] == []


def pcr9_expected(bank, load_options, initrd):
    digests = []
    if load_options is not None:
        digests.append(H(bank, utf16z(load_options)))
    if initrd:
        digests.append(H(bank, initrd))
    return digests


def test_pcr9_cmdline_section_initrd_and_both_archives(tmp_path, small_uki, worked):
    per_uki, global_ = worked
    initrd = os.urandom(1001)  # not a multiple of 4: padded, since more follows
    uki = small_uki("uki.efi", initrd=initrd, cmdline="  quiet\tx=1\x7f\n")
    j, _ = predict_json("--uki", uki, "--extra-dir", per_uki, "--global-dir", global_, "--pcr", "9")
    expected_initrd = initrd + b"\0" * 3 + newc(".extra/sysext", WORKED) + newc(".extra/global_sysext",
                                                                              WORKED_GLOBAL) + OSREL_ARCHIVE
    # The archives GNU cpio reads back are the ones `sysext-stub cpio` writes.
    out = tmp_path / "x.cpio"
    cli("cpio", "--extra-dir", per_uki, "--global-dir", global_, "--output", out)
    assert expected_initrd[1004:-len(OSREL_ARCHIVE)] == out.read_bytes()
    assert [r[5] for r in cpio_list(split_archives(out.read_bytes())[1])][-1] == ".extra/global_sysext/g.sysext.raw"
    for bank in BANKS:
        e = entry(j, bank, 9)
        assert [(ev["type"], ev["description"]) for ev in e["events"]] == [
            ("EV_EVENT_TAG", "LOADED_IMAGE::LoadOptions"), ("EV_EVENT_TAG", "Linux initrd")]
        want = pcr9_expected(bank, "quiet x=1", expected_initrd)
        assert [bytes.fromhex(ev["digest"]) for ev in e["events"]] == want, bank
        assert bytes.fromhex(e["hash"]) == replay(bank, want), bank


def test_pcr9_lone_initrd_is_not_padded(small_uki):
    initrd = os.urandom(1001)
    uki = small_uki("uki.efi", initrd=initrd, osrel=False)  # .osrel would add /.extra/os-release after it
    j, _ = predict_json("--uki", uki, "--cmdline", " a=b ", "--pcr", "9", "--pcr", "12")
    for bank in BANKS:
        assert value(j, bank, 9) == replay(bank, pcr9_expected(bank, "a=b", initrd)), bank


def test_pcr9_without_initrd_section(small_uki, worked):
    _, global_ = worked
    uki = small_uki("uki.efi")
    j, _ = predict_json("--uki", uki, "--global-dir", global_, "--pcr", "9")
    for bank in BANKS:
        want = pcr9_expected(bank, None, newc(".extra/global_sysext", WORKED_GLOBAL) + OSREL_ARCHIVE)
        assert [bytes.fromhex(ev["digest"]) for ev in entry(j, bank, 9)["events"]] == want
        assert value(j, bank, 9) == replay(bank, want)


def test_long_command_lines_are_not_dropped(small_uki):
    """The stub sizes its buffer from the source: a 12000-character command line goes to the kernel whole."""
    long = " ".join(f"opt{i}=1" for i in range(1500))
    assert len(long) > 12000
    uki = small_uki("long.efi", cmdline=long + "\n")
    j, _ = predict_json("--uki", uki, "--pcr", "9", "--bank", "sha256")
    assert value(j, "sha256", 9) == replay("sha256", pcr9_expected("sha256", long, OSREL_ARCHIVE))
    j, _ = predict_json("--uki", small_uki("nocmd.efi"), "--cmdline", long, "--pcr", "12", "--bank", "sha256")
    assert value(j, "sha256", 12) == replay("sha256", [H("sha256", utf16z(long))])


def set_virtual_size(path, name, value):
    """Rewrite the VirtualSize of the first section @name in the PE file @path (its raw data stays)."""
    d = bytearray(Path(path).read_bytes())
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsec, optsz = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    for i in range(nsec):
        o = pe + 24 + optsz + 40 * i
        if d[o:o + 8].rstrip(b"\0") == name.encode():
            struct.pack_into("<I", d, o + 8, value)
            Path(path).write_bytes(bytes(d))
            return
    raise AssertionError(f"{path}: no {name}")


@pytest.mark.parametrize("name", [".cmdline", ".initrd"])
def test_a_section_with_virtual_size_0_is_absent_for_use_and_measurement(small_uki, name):
    """Issue 13, defect 2: systemd-stub counts a section as present only with VirtualSize > 0, for
    use and for PCR 11 alike. A .cmdline of VirtualSize 0 (raw data still there) is no command line:
    the one passed in is used and goes into PCR 12; a .initrd of VirtualSize 0 reaches no initrd (only
    /.extra/os-release, from the UKI's .osrel, follows)."""
    initrd = os.urandom(1001)
    uki = small_uki("uki.efi", initrd=initrd, cmdline="init=/bin/evil")
    set_virtual_size(uki, name, 0)
    j, err = predict_json("--uki", uki, "--cmdline", "x=1", "--phase=", "--pcr", "9", "--pcr", "11",
                          "--pcr", "12")
    for bank in BANKS:
        assert name not in [ev["description"] for ev in entry(j, bank, 11)["events"]]
        if name == ".cmdline":
            assert "--cmdline is ignored" not in err, err
            assert value(j, bank, 12) == replay(bank, [H(bank, utf16z("x=1"))]), bank
            assert value(j, bank, 9) == replay(bank, pcr9_expected(bank, "x=1", initrd + bytes(3) + OSREL_ARCHIVE)), \
                bank
        else:
            assert value(j, bank, 9) == replay(bank, pcr9_expected(bank, "init=/bin/evil", OSREL_ARCHIVE)), bank


def test_pcr9_is_for_sysext_stub_only(small_uki):
    uki = small_uki("uki.efi")
    assert_failed(predict("--uki", uki, "--scheme=systemd", "--pcr", "9", check=False), "PCR 9")
    assert_failed(predict("--pcr", "9", check=False), "--uki")


# --------------------------------------------------------------------------
# JSON shape
# --------------------------------------------------------------------------

def test_json_shape_and_replay(small_uki, worked):
    per_uki, global_ = worked
    uki = small_uki("uki.efi", initrd=os.urandom(77))
    init = os.urandom(48)
    j, _ = predict_json("--uki", uki, "--extra-dir", per_uki, "--global-dir", global_, "--cmdline", "x=1",
                        "--initial", init.hex(), "--os-separator")
    assert list(j) == list(BANKS)
    for bank, entries in j.items():
        assert isinstance(entries, list)
        assert [(e["pcr"], e.get("phase")) for e in entries] == \
            [(9, None)] + [(11, p) for p in DEFAULT_PHASES] + [(12, None), (13, None)]
        for e in entries:
            assert set(e) <= {"pcr", "hash", "events", "phase", "initial"}, e
            assert isinstance(e["pcr"], int) and len(e["hash"]) == 2 * SIZE[bank]
            assert ("phase" in e) == (e["pcr"] == 11)
            assert ("initial" in e) == (e["pcr"] == 13 and bank == "sha384")
            for ev in e["events"]:
                assert set(ev) in ({"type", "digest", "description"}, {"type", "digest", "description", "file"})
                assert ev["type"] in ("EV_IPL", "EV_EVENT_TAG", "userspace")
                assert len(ev["digest"]) == 2 * SIZE[bank] and isinstance(ev["description"], str)
            start = bytes.fromhex(e["initial"]) if "initial" in e else None
            assert bytes.fromhex(e["hash"]) == replay(bank, [bytes.fromhex(ev["digest"]) for ev in e["events"]],
                                                      start), (bank, e["pcr"], e.get("phase"))
    assert entry(j, "sha384", 13)["initial"] == init.hex()
    assert [ev["type"] for ev in entry(j, "sha256", 11, "enter-initrd")["events"]][-1] == "userspace"


def strict_json(raw):
    """What a strict consumer (systemd, jq, Python without surrogateescape) accepts: UTF-8 bytes, then JSON."""
    return json.loads(raw.decode("utf-8", errors="strict"))


def shown(path):
    """A path as the CLI names it in a message: bytes that are not printable ASCII as \\xNN."""
    return b"".join(bytes([c]) if 0x20 <= c < 0x7F else b"\\x%02x" % c for c in os.fsencode(path))


def run_bytes(*args):
    return subprocess.run([bytes(CLI), *[a if isinstance(a, bytes) else os.fsencode(a) for a in args]],
                          capture_output=True)


def test_json_carries_any_utf8_path_exactly(tmp_path):
    """Quotes, backslashes, control characters, DEL and non-ASCII UTF-8 in a path: escaped (or, for UTF-8, kept),
    and a strict parser gives back the exact bytes."""
    name = "d\"q\\b\tt\x01\x7f-é-\u2603.extra.d"
    d = write_set(tmp_path / name, {"a.sysext.raw": b"a"})
    r = run_bytes("predict", "--json", "--extra-dir", d, "--bank", "sha256")
    assert r.returncode == 0, r.stderr
    assert all(b >= 0x20 and b != 0x7F for b in r.stdout.rstrip(b"\n")), "control bytes must be escaped"
    events = entry(strict_json(r.stdout), "sha256", 13)["events"]
    assert [e["file"] for e in events] == [str(d / "a.sysext.raw")] * 2
    assert os.fsencode(events[0]["file"]) == os.fsencode(d / "a.sysext.raw")


def test_json_refuses_a_path_that_is_not_utf8(tmp_path):
    """JSON text must be UTF-8 and a Linux path need not be: predict --json refuses such a path, naming it,
    with nothing on stdout, rather than print invalid JSON or a mangled path (README). The table prints it."""
    d = os.fsencode(tmp_path) + b"/ext-\xff.extra.d"
    os.mkdir(d)
    for name, data in ((b"a.sysext.raw", b"a"), (b"\xff.sysext.raw", b"skipped: not an ASCII name")):
        with open(d + b"/" + name, "wb") as f:
            f.write(data)
    r = run_bytes("predict", "--json", "--extra-dir", d, "--bank", "sha256")
    assert r.returncode == 1 and r.stdout == b"", r.stdout
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith(b"sysext-stub: error:")]
    assert len(errors) == 1 and shown(d + b"/a.sysext.raw") in errors[0] and b"not UTF-8" in errors[0], r.stderr
    r = run_bytes("predict", "--extra-dir", d, "--bank", "sha256")
    assert r.returncode == 0 and d + b"/a.sysext.raw" in r.stdout, r.stderr
    # The same directory under a UTF-8 name: the 0xff file is skipped (not an ASCII name), the output is strict JSON.
    good = tmp_path / "ext.extra.d"
    os.rename(d, good)
    r = run_bytes("predict", "--json", "--extra-dir", good, "--bank", "sha256", "--verbose")
    assert r.returncode == 0, r.stderr
    assert b"\xff" not in r.stdout and shown(os.fsencode(good) + b"/\xff.sysext.raw") in r.stderr
    j = strict_json(r.stdout)
    assert [e["description"] for e in entry(j, "sha256", 13)["events"]] == [".extra/sysext/a.sysext.raw"] * 2
    assert value(j, "sha256", 13) == replay("sha256", per_file_digests("sha256", {"a.sysext.raw": b"a"}))


def test_json_refuses_a_phase_or_uki_path_that_is_not_utf8(tmp_path, small_uki):
    uki = small_uki("uki.efi")
    r = run_bytes("predict", "--json", "--uki", uki, "--pcr", "11", "--phase", b"enter-\xff")
    assert r.returncode == 1 and r.stdout == b"" and b"not UTF-8" in r.stderr and shown(b"enter-\xff") in r.stderr
    odd = os.fsencode(tmp_path) + b"/uki-\xfe.efi"
    os.link(uki, odd)
    r = run_bytes("predict", "--json", "--uki", odd, "--pcr", "11")
    assert r.returncode == 1 and r.stdout == b"" and shown(odd) in r.stderr and b"not UTF-8" in r.stderr
    r = run_bytes("predict", "--uki", odd, "--pcr", "11", "--phase", b"enter-\xff")
    assert r.returncode == 0 and odd in r.stdout, r.stderr


# --------------------------------------------------------------------------
# Errors: non-zero exit, one message naming the input, nothing on stdout
# --------------------------------------------------------------------------

def test_input_errors(tmp_path, small_uki, worked):
    per_uki, _ = worked
    uki = small_uki("uki.efi", initrd=b"i" * 5000)
    junk = tmp_path / "junk.efi"
    junk.write_bytes(os.urandom(4096))
    truncated = tmp_path / "truncated.efi"
    truncated.write_bytes(uki.read_bytes()[:len(uki.read_bytes()) // 2])
    manifest = tmp_path / "SHA256SUMS"
    manifest.write_text("# comment\n" + hashlib.sha256(b"x").hexdigest() + "  ok.sysext.raw\nnot a digest line\n")
    cases = [
        (["--uki", tmp_path / "missing.efi"], [tmp_path / "missing.efi", "No such file"]),
        (["--uki", junk], [junk, "not a valid PE"]),
        (["--uki", truncated], [truncated, "not a valid PE"]),
        (["--uki", STUB], [STUB, ".linux"]),
        (["--extra-dir", tmp_path / "no-dir"], [tmp_path / "no-dir"]),
        (["--global-dir", tmp_path / "no-dir"], [tmp_path / "no-dir"]),
        (["--manifest", manifest], [f"{manifest}:3"]),
        (["--manifest", tmp_path / "no-manifest"], [tmp_path / "no-manifest"]),
        (["--sysext", tmp_path / "gone.sysext.raw"], [tmp_path / "gone.sysext.raw"]),
        (["--pcr", "7"], ["--pcr", "7"]),
        (["--pcr", "x"], ["--pcr", "x"]),
        (["--bank", "md5"], ["--bank", "md5"]),
        (["--extra-dir", per_uki, "--initial", "abcd"], ["--initial", "abcd"]),
        (["--extra-dir", per_uki, "--initial", "zz" * 32], ["--initial", "zz" * 32]),
        (["--pcr", "11"], ["--uki"]),
        (["--scheme", "grub"], ["grub"]),
        (["--systemd-version", "251"], ["251"]),
        (["--extra-dir", per_uki, "stray"], ["stray"]),
    ]
    for args, words in cases:
        assert_failed(predict(*args, check=False), *words)


def test_dangling_sysext_in_a_directory(tmp_path):
    d = write_set(tmp_path / "e", {"a.sysext.raw": b"a"})
    (d / "dangling.sysext.raw").symlink_to(tmp_path / "gone")
    assert_failed(predict("--extra-dir", d, check=False), d / "dangling.sysext.raw")


# --------------------------------------------------------------------------
# Addons (measure/addon.h; docs/MEASUREMENTS.md "PCR 12: addons")
# --------------------------------------------------------------------------

ADDON_TAGS = {"dtb": 0x6C46F751, "ucode": 0xDAC08E1A, "initrd": 0x49DFFE0F}
UKI_UNAME = "6.1.0-57-amd64"


def make_addon(path, **parts):
    """`build --addon` around the default addon stub; the parts given as files."""
    args = ["--addon", "--output", path]
    for part, data in parts.items():
        f = path.with_name(f"{path.name}.{part}")
        f.write_bytes(data)
        args += [f"--{part}", f"@{f}" if part in ("cmdline", "uname") else f]
    run_build(*args)
    return path


@pytest.fixture
def addon_esp(tmp_path):
    """\\loader\\addons (g) and a UKI's .extra.d (the rest) with addons; a UKI whose .uname is UKI_UNAME."""
    esp = tmp_path / "esp"
    g, x = esp / "loader" / "addons", esp / "EFI" / "Linux" / "uki.efi.extra.d"
    g.mkdir(parents=True)
    x.mkdir(parents=True)
    parts = {
        "g.addon.efi": (g, dict(cmdline=b"addon.global=1\n", dtb=b"\xd0\x0d\xfe\xed" + os.urandom(40),
                                ucode=os.urandom(333))),
        "b.addon.efi": (x, dict(cmdline=b"  b=1\t x ", initrd=os.urandom(1001), ucode=os.urandom(64))),
        "c.addon.efi": (x, dict(initrd=os.urandom(16), uname=UKI_UNAME.encode())),
        "p.addon.efi": (x, dict(cmdline=b"prefix=1", uname=UKI_UNAME.split("-")[0].encode())),
        "z.addon.efi": (x, dict(cmdline=b"other=1", uname=b"6.2.0-1-amd64")),
    }
    for name, (d, p) in parts.items():
        make_addon(d / name, **p)
    (x / "junk.addon.efi").write_bytes(b"MZ but no PE\n")
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd"
    shutil.copy(STUB, kernel)
    initrd.write_bytes(os.urandom(1001))
    uki = esp / "EFI" / "Linux" / "uki.efi"
    run_build("--stub", STUB, "--linux", kernel, "--initrd", initrd, "--cmdline", "console=ttyS0", "--uname", UKI_UNAME,
              "--output", uki)
    return {"esp": esp, "g": g, "x": x, "uki": uki, "initrd": initrd.read_bytes(),
            "parts": {n: p for n, (_, p) in parts.items()}, "paths": {n: d / n for n, (d, _) in parts.items()}}


def addon_events(bank, a, used):
    """(type, description, digest) of the addons' PCR 12 events, nothing else given: the joined command line,
    each .dtb, each .ucode (last addon first), each .initrd; tagged events described by the file name."""
    joined = ""
    for n in used:
        if "cmdline" in a["parts"][n]:
            part = mangle(a["parts"][n]["cmdline"].split(b"\0")[0].decode("latin-1"))
            joined = f"{joined} {part}" if joined else part
    events = [("EV_IPL", mangle(joined), H(bank, utf16z(mangle(joined))))] if mangle(joined) else []
    order = [("dtb", used), ("ucode", list(reversed(used))), ("initrd", used)]
    for part, names in order:
        events += [("EV_EVENT_TAG", n, H(bank, a["parts"][n][part])) for n in names if part in a["parts"][n]]
    return events, mangle(joined)


def got_events(j, bank, pcr):
    return [(ev["type"], ev["description"], bytes.fromhex(ev["digest"])) for ev in entry(j, bank, pcr)["events"]]


def test_addons_pcr12_ours(addon_esp):
    a = addon_esp
    r = predict("--json", "--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "12")
    j = json.loads(r.stdout)
    # Our .uname rule: equal strings; the prefix and the other kernel's are skipped, and so is the file that is no PE.
    for name, why in (("p.addon.efi", ".uname does not match the UKI's"), ("z.addon.efi", ".uname does not match"),
                      ("junk.addon.efi", "not a PE image")):
        assert re.search(rf"{re.escape(name)}: skipped by the stub: {re.escape(why)}", r.stderr), r.stderr
    for bank in BANKS:
        want, joined = addon_events(bank, a, ["g.addon.efi", "b.addon.efi", "c.addon.efi"])
        assert joined == "addon.global=1 b=1  x"
        assert got_events(j, bank, 12) == want, bank
        assert value(j, bank, 12) == replay(bank, [d for _, _, d in want])
    # Each event names the file behind it (what `eventlog --expect` reports).
    files = [ev.get("file") for ev in entry(j, "sha256", 12)["events"]]
    assert files[0] == f"{a['paths']['g.addon.efi']}, {a['paths']['b.addon.efi']}"
    assert files[1:] == [str(a["paths"][n]) for n in ("g.addon.efi", "b.addon.efi", "g.addon.efi", "b.addon.efi",
                                                      "c.addon.efi")]


def test_addons_pcr12_systemd_262(addon_esp):
    """systemd-stub 262: strncmp over the addon's .uname, so the prefix addon is used; the same events otherwise."""
    a = addon_esp
    j, err = predict_json("--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "12",
                          "--scheme=systemd", "--systemd-version", "262")
    assert "p.addon.efi" not in err and "z.addon.efi: skipped by the stub: .uname does not match" in err, err
    for bank in BANKS:
        want, joined = addon_events(bank, a, ["g.addon.efi", "b.addon.efi", "c.addon.efi", "p.addon.efi"])
        assert joined == "addon.global=1 b=1  x prefix=1"
        assert got_events(j, bank, 12) == want, bank
    # systemd-stub before 257 is not modelled: said, and nothing predicted for the addons.
    j, err = predict_json("--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "12",
                          "--scheme=systemd", "--systemd-version", "256")
    assert "addons are predicted for systemd-stub 257 and later only" in err, err
    assert got_events(j, "sha256", 12) == []


def test_addons_pcr9_command_line_and_initrd_pieces(addon_esp):
    """PCR 9: the kernel's command line with the addons' appended; the initrd with the microcode addons first
    (last addon first), then the UKI's .initrd, then the initrd addons, every piece but the last padded to 4."""
    a = addon_esp
    j, _ = predict_json("--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "9")
    p = a["parts"]
    pieces = [p["b.addon.efi"]["ucode"], p["g.addon.efi"]["ucode"], a["initrd"], p["b.addon.efi"]["initrd"],
              p["c.addon.efi"]["initrd"]]
    initrd = b"".join(x + bytes(-len(x) % 4) for x in pieces[:-1]) + pieces[-1]
    for bank in BANKS:
        assert value(j, bank, 9) == replay(bank, pcr9_expected(bank, "console=ttyS0 addon.global=1 b=1  x", initrd))


def test_addons_from_esp_and_single_files(addon_esp):
    """--esp finds \\loader\\addons and the .extra.d; --addon and --global-addon name files one by one."""
    a = addon_esp
    from_dirs, _ = predict_json("--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "12")
    from_esp, _ = predict_json("--esp", a["esp"], "--esp-path", "\\EFI\\Linux\\uki.efi", "--pcr", "12")
    assert from_esp == from_dirs
    files = [f for n in ("b.addon.efi", "c.addon.efi") for f in ("--addon", a["paths"][n])]
    j, _ = predict_json("--uki", a["uki"], "--global-addon", a["paths"]["g.addon.efi"], *files, "--pcr", "12")
    assert [e[:2] for e in got_events(j, "sha256", 12)] == [e[:2] for e in got_events(from_dirs, "sha256", 12)]
    assert_failed(predict("--addon", a["uki"], check=False), a["uki"].name)


def test_eventlog_expect_names_the_addon_behind_a_differing_event(tmp_path, addon_esp):
    """A log whose .initrd event of b.addon.efi differs from the prediction: --expect names that addon's file."""
    from test_eventlog import EV_EVENT_TAG, EV_IPL, Log

    a = addon_esp
    r = predict("--json", "--uki", a["uki"], "--global-addon-dir", a["g"], "--extra-dir", a["x"], "--pcr", "12",
                "--bank", "sha256")
    exp = tmp_path / "expect.json"
    exp.write_text(r.stdout)
    log = Log(banks=("sha256",))
    _, joined = addon_events("sha256", a, ["g.addon.efi", "b.addon.efi", "c.addon.efi"])
    log.extend(12, EV_IPL, utf16z(joined))
    events = [("dtb", "g.addon.efi"), ("ucode", "b.addon.efi"), ("ucode", "g.addon.efi"), ("initrd", "b.addon.efi"),
              ("initrd", "c.addon.efi")]
    for part, name in events:
        desc = utf16z(name)
        data = a["parts"][name][part] if (part, name) != ("initrd", "b.addon.efi") else b"another initrd"
        log.extend(12, EV_EVENT_TAG, struct.pack("<II", ADDON_TAGS[part], len(desc)) + desc, hashed=data)
    r = cli("eventlog", "--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp, check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"PCR 12 sha256: event 5 differs: expected b.addon.efi (file {a['paths']['b.addon.efi']})" in r.stdout, \
        r.stdout
# Profiles and SMBIOS words (issue 15)
# --------------------------------------------------------------------------

def pe_sections_in_order(path):
    """Every section header in file order: (name, bytes as loaded), the independent reader's way."""
    d = Path(path).read_bytes()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsec, optsz = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    out = []
    for i in range(nsec):
        o = pe + 24 + optsz + 40 * i
        vs, _va, rs, ro = struct.unpack_from("<IIII", d, o + 8)
        data = d[ro:ro + min(vs, rs)]
        out.append((d[o:o + 8].rstrip(b"\0").decode(), data + bytes(vs - len(data))))
    return out


def model_profile_sections(path, profile):
    """The UKI spec's rule, written out here: the profile's own first header of a name, else the base's;
    VirtualSize 0 absent."""
    secs = pe_sections_in_order(path)
    starts = [i for i, (n, _) in enumerate(secs) if n == ".profile"]
    base = secs[:starts[0]] if starts else secs
    own = []
    if starts and profile < len(starts):
        end = starts[profile + 1] if profile + 1 < len(starts) else len(secs)
        own = secs[starts[profile]:end]
    found = {}
    for name, data in own + base:
        found.setdefault(name, data)
    return {n: d for n, d in found.items() if d}


@pytest.fixture
def profile_uki(tmp_path):
    kernel = tmp_path / "vmlinuz"
    shutil.copy(STUB, kernel)
    (tmp_path / "ucode").write_bytes(os.urandom(101))
    (tmp_path / "base-initrd").write_bytes(os.urandom(333))
    (tmp_path / "p1-initrd").write_bytes(os.urandom(77))
    run_build("--stub", STUB, "--profile", "ID=p1\n", "--cmdline", "one", "--initrd", tmp_path / "p1-initrd",
              "--output", tmp_path / "p1.efi")
    run_build("--stub", STUB, "--profile", "ID=p2\n", "--output", tmp_path / "p2.efi")
    uki = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", kernel, "--os-release", "ID=x\n", "--ucode", tmp_path / "ucode",
              "--initrd", tmp_path / "base-initrd", "--profile", "ID=main\n", "--join-profile", tmp_path / "p1.efi",
              "--join-profile", tmp_path / "p2.efi", "--output", uki)
    return uki


def test_pcr11_per_profile_equals_the_spec_model(profile_uki):
    j, _ = predict_json("--uki", profile_uki, "--profile", "all", "--phase=", "--pcr", "11")
    for bank in BANKS:
        entries = [e for e in j[bank] if e["pcr"] == 11]
        assert [e["profile"] for e in entries] == [0, 1, 2]
        for e in entries:
            secs = model_profile_sections(profile_uki, e["profile"])
            digests = []
            for name in CANONICAL_258:
                if name in secs:
                    digests += [H(bank, name.encode() + b"\0"), H(bank, secs[name])]
            assert [bytes.fromhex(ev["digest"]) for ev in e["events"]] == digests, (bank, e["profile"])
            assert bytes.fromhex(e["hash"]) == replay(bank, digests)


def test_pcr12_profile_event_then_cmdline_then_smbios_words(profile_uki):
    """Profile 2 has no .cmdline: a passed-in one is measured after the profile event, then the words."""
    j, _ = predict_json("--uki", profile_uki, "--profile", "2", "--cmdline", " quiet ",
                        "--kernel-cmdline-extra", "\tsmbios=1  x ", "--pcr", "12", "--pcr", "9")
    for bank in BANKS:
        e = entry(j, bank, 12)
        assert e["profile"] == 2
        want = [H(bank, utf16z("2")), H(bank, utf16z("quiet")), H(bank, utf16z("smbios=1  x"))]
        assert [(ev["type"], ev["description"]) for ev in e["events"]] == [
            ("EV_EVENT_TAG", "2"), ("EV_IPL", "quiet"), ("EV_IPL", "smbios=1  x")]
        assert [bytes.fromhex(ev["digest"]) for ev in e["events"]] == want
        # The kernel gets both (PCR 9's LoadOptions), and the initrd: .ucode first, base .initrd, /.extra/profile.
        nine = entry(j, bank, 9)["events"]
        assert bytes.fromhex(nine[0]["digest"]) == H(bank, utf16z("quiet smbios=1  x"))
    # Profile 1's own .cmdline wins: no passed-in event; profile 0: no profile event.
    j, err = predict_json("--uki", profile_uki, "--profile", "1", "--cmdline", "quiet", "--pcr", "12",
                          "--bank", "sha256")
    assert [ev["description"] for ev in entry(j, "sha256", 12)["events"]] == ["1"]
    j, _ = predict_json("--uki", profile_uki, "--profile", "0", "--kernel-cmdline-extra", "w", "--pcr", "12",
                        "--bank", "sha256")
    assert [ev["description"] for ev in entry(j, "sha256", 12)["events"]] == ["w"]


def test_pcr9_initrd_of_a_profile(profile_uki, tmp_path):
    ucode, base, p1 = (tmp_path / n for n in ("ucode", "base-initrd", "p1-initrd"))

    def pad(b):
        return b + bytes(-len(b) % 4)

    # The base's .osrel is every profile's: /.extra/os-release comes before /.extra/profile (measure/initrd.h).
    for profile, initrd, text in ((0, base, b"ID=main\n"), (1, p1, b"ID=p1\n")):
        j, _ = predict_json("--uki", profile_uki, "--profile", str(profile), "--pcr", "9", "--bank", "sha256")
        want = (pad(ucode.read_bytes()) + pad(initrd.read_bytes()) + literal_archive("os-release", b"ID=x\n")
                + literal_archive("profile", text))
        assert bytes.fromhex(entry(j, "sha256", 9)["events"][-1]["digest"]) == H("sha256", want), profile


def literal_archive(name, text):
    """The literal archive of /.extra/NAME (reference §3.1: .extra 0555, the file 0444, trailer)."""
    def hdr(ino, mode, name, size):
        fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
        h = ("070701" + "".join(f"{f:08x}" for f in fields)).encode() + name.encode() + b"\0"
        return h + bytes(-len(h) % 4)
    out = hdr(1, 0o40555, ".extra", 0) + hdr(2, 0o100444, f".extra/{name}", len(text)) + text
    out += bytes(-len(out) % 4)
    trailer = ("070701" + "00000000" * 4 + "00000001" + "00000000" * 6 + "0000000B" + "00000000").encode()
    trailer += b"TRAILER!!!\0" + b"\0" * 3
    return out + trailer


def test_profile_errors(profile_uki, small_uki):
    assert_failed(predict("--uki", profile_uki, "--profile", "3", check=False), "no profile 3", "it has 3")
    assert_failed(predict("--uki", profile_uki, "--profile", "1x", check=False), "--profile", "1x")
    assert_failed(predict("--uki", profile_uki, "--cmdline", "@1 quiet", check=False), "--profile 1")
    assert_failed(predict("--uki", profile_uki, "--profile", "1", "--scheme=systemd", "--systemd-version", "256",
                          check=False), "256", "no profiles")
    # A UKI without profiles has profile 0 only; "all" is that one.
    j, _ = predict_json("--uki", small_uki("plain.efi"), "--profile", "all", "--pcr", "11", "--bank", "sha256")
    assert {e["profile"] for e in j["sha256"]} == {0}


def test_sign_signs_every_profile_and_eventlog_picks_one(profile_uki, tmp_path):
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    r = cli("sign", "--private-key", key, "--uki", profile_uki, "--pcrs", "11", "--bank", "sha256",
            "--phase", "enter-initrd")
    pols = [e["pol"] for e in json.loads(r.stdout)["sha256"]]
    j, _ = predict_json("--uki", profile_uki, "--profile", "all", "--pcr", "11", "--bank", "sha256",
                        "--phase", "enter-initrd")
    values = [e["hash"] for e in j["sha256"] if e.get("phase") == "enter-initrd"]
    assert len(pols) == 3 and len(set(pols)) == 3 and len(set(values)) == 3
    one = json.loads(cli("sign", "--private-key", key, "--uki", profile_uki, "--pcrs", "11", "--bank", "sha256",
                         "--phase", "enter-initrd", "--profile", "2").stdout)
    assert [e["pol"] for e in one["sha256"]] == pols[2:]
    # The UKI found through --esp is signed for every profile too.
    esp = tmp_path / "esp"
    (esp / "EFI" / "Linux").mkdir(parents=True)
    shutil.copy(profile_uki, esp / "EFI" / "Linux" / "uki.efi")
    r = cli("sign", "--private-key", key, "--esp", esp, "--esp-path", "\\EFI\\Linux\\uki.efi", "--pcrs", "11",
            "--bank", "sha256", "--phase", "enter-initrd")
    assert [e["pol"] for e in json.loads(r.stdout)["sha256"]] == pols
