"""Tests of `sysext-stub validate`, `sysext-stub admit`, `sign --validate` and `make install-initrd`.

The images are real: DDIs built by Debian 13's systemd-repart 257 in a
trixie chroot (tests/cli/ddi_images.py, cached), and cases made from them by
changing bytes here. Every verdict is checked against an oracle outside the
code under test where one runs on this machine:

* systemd-dissect --validate (systemd 257, in the chroot) for everything it
  checks: partition table, Discoverable Partitions rules, image policy. It
  runs on the image file itself (no loop device needed). It does not check
  signatures, the hash tree or extension-release: for those cases the test
  asserts that it says OK while validate refuses, which is the gap validate
  closes.
* veritysetup verify (Debian's cryptsetup-bin) for the hash tree;
* openssl cms -verify for the PKCS#7 signature of the root hash;
* systemd's own rules (extension_release_validate()) for release files.

The only skip is a machine without network to the Debian mirror.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import ddi_images  # noqa: E402

# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STRICT = "root=signed+absent:usr=signed+absent"
#: The checks systemd-dissect --validate also makes (partition table, DPS rules, policy).
DISSECT_CHECKS = {"partition-table", "partitions", "image-policy"}
TIMEOUT = 120


def run(*args, env=None):
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, timeout=TIMEOUT, env=env)
    r.stdout = r.stdout.decode("utf-8", "surrogateescape")
    r.stderr = r.stderr.decode("utf-8", "surrogateescape")
    assert r.returncode < 128 and r.returncode not in (86, 87, 88), f"crashed or sanitizer report:\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def ddi():
    try:
        return ddi_images.images()
    except ddi_images.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")


def verity_end_block(sb):
    """Hash blocks the tree takes, superblock block included (the kernel's layout, written out here)."""
    digest = {"sha256": 32, "sha512": 64, "sha1": 20}[sb["algorithm"]]
    bits = (sb["hash_block_size"] // digest).bit_length() - 1
    levels = 0
    while bits * levels < 64 and (sb["data_blocks"] - 1) >> (bits * levels):
        levels += 1
    pos = 1
    for i in range(levels - 1, -1, -1):
        s = bits * (i + 1)
        pos += -(-sb["data_blocks"] // (1 << s))
    return pos, levels


@pytest.fixture(scope="module")
def cases(ddi, tmp_path_factory):
    """name -> (image path, extra args); every image in a directory of its own, named as its release wants."""
    base = tmp_path_factory.mktemp("cases")
    good = ddi["good"]

    def place(name, src=None, data=None, fname="hello.raw"):
        (base / name).mkdir()
        dst = base / name / fname
        if src:
            shutil.copyfile(src, dst)
        else:
            dst.write_bytes(data)
        return dst

    data_part = ddi_images.part(good, "x86-64")
    hash_part = ddi_images.part(good, "-verity")
    sb = ddi_images.verity_superblock(good)
    end, levels = verity_end_block(sb)
    assert levels >= 2, "the good image must have a hash tree of two levels or more"
    c = {
        "good": (place("good", good), []),
        "unsigned": (place("unsigned", ddi["unsigned"]), []),
        "unknown-key": (place("unknown-key", ddi["wrongkey"]), []),
        "flipped-data": (place("flipped-data", data=b""), []),
        "flipped-hash": (place("flipped-hash", data=b""), []),
        "truncated": (place("truncated", data=good.read_bytes()[:good.stat().st_size // 2]), []),
        "not-a-gpt": (place("not-a-gpt", data=b"just some text, no disk image\n" * 200), []),
        "bare-squashfs": (place("bare-squashfs", ddi["squashfs"]), []),
        "name-mismatch": (place("name-mismatch", good, fname="world.raw"), []),
        "id-mismatch": (place("id-mismatch", ddi["idmismatch"], fname="idm.raw"), []),
    }
    # a byte in the middle of the data the tree covers; a byte of the last (level-0) hash block
    ddi_images.flip(good, c["flipped-data"][0], data_part["offset"] + sb["data_blocks"] // 2 * 4096 + 7)
    ddi_images.flip(good, c["flipped-hash"][0], hash_part["offset"] + (end - 1) * sb["hash_block_size"] + 40)
    host = base / "os-release"
    host.write_text("ID=debian\nVERSION_ID=13\n")
    c["id-mismatch"] = (c["id-mismatch"][0], ["--os-release", host])
    return c


#: case -> (verdict, first failed check, whether systemd-dissect --validate refuses it)
EXPECTED = {
    "good": ("ok", None, False),
    "unsigned": ("refused", "image-policy", True),
    "unknown-key": ("refused", "signature", False),
    "flipped-data": ("refused", "verity", False),
    "flipped-hash": ("refused", "verity", False),
    "truncated": ("refused", "partition-table", True),
    "not-a-gpt": ("refused", "partition-table", True),
    "bare-squashfs": ("refused", "image-policy", True),
    "name-mismatch": ("refused", "extension-release", False),
    "id-mismatch": ("refused", "extension-release", False),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_verdict(ddi, cases, case):
    path, extra = cases[case]
    verdict, check, _ = EXPECTED[case]
    r = run("validate", "--cert", ddi["certA"], *extra, path)
    assert r.stderr == ""
    assert r.returncode == (0 if verdict == "ok" else 1), r.stdout
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    if verdict == "ok":
        assert lines[0].startswith(f"{path}: ok ("), lines[0]
    else:
        assert lines[0].startswith(f"{path}: refused: {check}: "), lines[0]
    j = run("validate", "--json", "--cert", ddi["certA"], *extra, path)
    assert j.returncode == r.returncode
    (rep,) = json.loads(j.stdout)
    assert (rep["image"], rep["verdict"], rep["check"]) == (str(path), verdict, check)
    assert (rep["reason"] is None) == (verdict == "ok")


def test_reasons_name_what_is_wrong(ddi, cases):
    """The refusal text says which block, key or field it is, not only the check."""
    out = {c: run("validate", "--cert", ddi["certA"], *cases[c][1], cases[c][0]).stdout for c in cases}
    assert "does not match its hash" in out["flipped-data"]
    assert "hash partition block" in out["flipped-hash"] and "corrupt" in out["flipped-hash"]
    assert "no trusted certificate verifies" in out["unknown-key"]
    assert "extension-release.world not found" in out["name-mismatch"]
    assert "has extension-release.hello" in out["name-mismatch"]
    assert "ID=fedora" in out["id-mismatch"] and "ID=debian" in out["id-mismatch"]
    assert "verity, but the policy requires signed+absent" in out["unsigned"]


def test_many_images_one_run(ddi, cases):
    """One line per image in the order given; exit 1 when any is refused; --json an array."""
    names = sorted(EXPECTED)
    paths = [cases[n][0] for n in names if n != "id-mismatch"]
    r = run("validate", "--cert", ddi["certA"], *paths)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert [l.split(": ")[0] for l in lines] == [str(p) for p in paths]
    j = json.loads(run("validate", "--json", "--cert", ddi["certA"], *paths).stdout)
    assert [x["verdict"] for x in j] == [EXPECTED[n][0] for n in names if n != "id-mismatch"]
    assert run("validate", "--cert", ddi["certA"], cases["good"][0]).returncode == 0


# --------------------------------------------------------------------------
# systemd-dissect --validate
# --------------------------------------------------------------------------

def dissect_verdicts(images, policies, base):
    """systemd-dissect --validate for each (image path under @base, policy): True when it refuses."""
    lines = []
    for i, (img, pol) in enumerate(zip(images, policies)):
        rel = Path(img).relative_to(base)
        lines.append(f"if systemd-dissect --validate --image-policy='{pol}' /w/{rel} >/dev/null 2>&1; "
                     f"then echo '{i} ok'; else echo '{i} refused'; fi")
    out = ddi_images.run_in(ddi_images.chroot(), "\n".join(lines), base)
    got = dict(l.split() for l in out.splitlines())
    return [got[str(i)] == "refused" for i in range(len(images))]


def test_systemd_dissect_agrees(ddi, cases):
    names = sorted(cases)
    base = cases["good"][0].parents[1]
    refused = dissect_verdicts([cases[n][0] for n in names], [STRICT] * len(names), base)
    for name, sd_refuses in zip(names, refused):
        verdict, check, expect_sd = EXPECTED[name]
        assert sd_refuses == expect_sd, f"{name}: systemd-dissect {'refuses' if sd_refuses else 'accepts'}"
        # where systemd-dissect decides, the verdicts are equal; beyond it, validate refuses more
        assert sd_refuses == (check in DISSECT_CHECKS), name


POLICIES = [
    STRICT, "root=verity+signed+absent", "root=verity+absent", "root=unprotected+absent", "root=signed",
    "root=absent", "root=signed+read-only-on", "root=signed+read-only-off", "root=signed+growfs-on",
    "root=encrypted", "*", "-", "~", "=unused+absent", "root=open:=absent", "root=signed:root-verity=absent",
    "root=signed:root-verity-sig=unused", "=signed", "usr=signed+absent", "root=signed+absent:usr=absent",
]


def test_image_policy_equals_systemd(ddi, cases, tmp_path):
    """The policy verdicts of validate equal systemd-dissect's for every policy x image pair."""
    names = ["good", "unsigned", "bare-squashfs"]
    pairs = [(n, p) for n in names for p in POLICIES]
    base = cases["good"][0].parents[1]
    refused = dissect_verdicts([cases[n][0] for n, _ in pairs], [p for _, p in pairs], base)
    differ = []
    for (name, pol), sd_refuses in zip(pairs, refused):
        (rep,) = json.loads(run("validate", "--json", "--cert", ddi["certA"], "--image-policy", pol,
                                cases[name][0]).stdout)
        ours = rep["check"] in DISSECT_CHECKS
        if ours != sd_refuses:
            differ.append(f"{name} with {pol}: systemd-dissect {'refuses' if sd_refuses else 'accepts'}, "
                          f"validate {rep['verdict']} {rep['check']}: {rep['reason']}")
    assert not differ, "\n".join(differ)
    assert sum(refused) > 0 and sum(refused) < len(refused)  # the matrix has both outcomes


# --------------------------------------------------------------------------
# Independent oracles: veritysetup, openssl
# --------------------------------------------------------------------------

def sig_json(img):
    s = ddi_images.part(img, "-verity-sig")
    with open(img, "rb") as f:
        f.seek(s["offset"])
        return json.loads(f.read(s["size"]).rstrip(b"\0"))


def test_hash_tree_agrees_with_veritysetup(ddi, cases, tmp_path):
    root_hash = sig_json(ddi["good"])["rootHash"]
    for name in ["good", "flipped-data", "flipped-hash"]:
        img = cases[name][0]
        d, h = ddi_images.part(img, "x86-64"), ddi_images.part(img, "-verity")
        raw = img.read_bytes()
        (tmp_path / "data").write_bytes(raw[d["offset"]:d["offset"] + d["size"]])
        (tmp_path / "hash").write_bytes(raw[h["offset"]:h["offset"] + h["size"]])
        vs = subprocess.run(["veritysetup", "verify", tmp_path / "data", tmp_path / "hash", root_hash],
                            capture_output=True, text=True)
        ours = run("validate", "--cert", ddi["certA"], img)
        assert (vs.returncode == 0) == (ours.returncode == 0), f"{name}: {vs.stderr} / {ours.stdout}"


def test_signature_agrees_with_openssl(ddi, cases, tmp_path):
    for name in ["good", "unknown-key"]:
        j = sig_json(cases[name][0])
        import base64
        (tmp_path / "sig.der").write_bytes(base64.b64decode(j["signature"]))
        (tmp_path / "content").write_text(j["rootHash"])
        o = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
                            "-content", tmp_path / "content", "-certfile", ddi["certA"], "-nointern", "-noverify",
                            "-out", "/dev/null"], capture_output=True, text=True)
        (rep,) = json.loads(run("validate", "--json", "--cert", ddi["certA"], cases[name][0]).stdout)
        assert (o.returncode == 0) == (rep["check"] != "signature"), f"{name}: {o.stderr} / {rep}"


def test_partitions_reported(ddi, cases):
    (rep,) = json.loads(run("validate", "--json", "--cert", ddi["certA"], cases["good"][0]).stdout)
    want = ddi_images.partitions(cases["good"][0])
    assert [(p["label"], p["offset"], p["size"]) for p in rep["partitions"]] == \
           [(p["label"], p["offset"], p["size"]) for p in want]
    assert [p["type"] for p in rep["partitions"]] == ["root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig"]
    assert all(p["used"] for p in rep["partitions"])
    assert rep["rootHash"] == sig_json(cases["good"][0])["rootHash"]
    assert rep["signedBy"] == str(ddi["certA"]) and rep["fingerprintMatches"] is True
    assert rep["filesystem"] == "erofs" and rep["verityChecked"] is True
    sb = ddi_images.verity_superblock(cases["good"][0])
    assert rep["verityBytes"] == sb["data_blocks"] * sb["data_block_size"]
    assert rep["extensionRelease"] == "/usr/lib/extension-release.d/extension-release.hello"


# --------------------------------------------------------------------------
# Certificates: --cert, and the verity.d directories as systemd searches them
# --------------------------------------------------------------------------

def test_verity_d_search(ddi, cases, tmp_path):
    """*.crt in /etc, /run, /usr/local/lib, /usr/lib verity.d: the first of a name wins, empty masks."""
    img = cases["good"][0]
    a, b = ddi["certA"].read_text(), ddi["certB"].read_text()

    def verdict(files):
        root = tmp_path / f"root{verdict.n}"
        verdict.n += 1
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        (root / "etc").mkdir(parents=True, exist_ok=True)
        (rep,) = json.loads(run("validate", "--json", "--root", root, img).stdout)
        return rep["check"], rep["signedBy"] and rep["signedBy"][len(str(root)):]
    verdict.n = 0

    assert verdict({}) == ("signature", None)  # nothing trusted: refused, as systemd refuses
    assert verdict({"etc/verity.d/a.crt": b, "run/verity.d/z.crt": a}) == (None, "/run/verity.d/z.crt")
    assert verdict({"usr/lib/verity.d/k.crt": a}) == (None, "/usr/lib/verity.d/k.crt")
    assert verdict({"usr/local/lib/verity.d/k.crt": a}) == (None, "/usr/local/lib/verity.d/k.crt")
    assert verdict({"etc/verity.d/k.crt": b, "usr/lib/verity.d/k.crt": a}) == ("signature", None)  # overridden
    assert verdict({"etc/verity.d/k.crt": "", "usr/lib/verity.d/k.crt": a}) == ("signature", None)  # masked
    assert verdict({"etc/verity.d/k.pem": a}) == ("signature", None)  # only *.crt
    assert verdict({"etc/verity.d/.k.crt": a}) == ("signature", None)  # hidden
    assert verdict({"etc/verity.d/k.crt": "not a certificate\n", "etc/verity.d/l.crt": a}) == \
        (None, "/etc/verity.d/l.crt")  # an unreadable one is skipped


def test_cert_option(ddi, cases, tmp_path):
    img = cases["good"][0]
    both = tmp_path / "both.pem"
    both.write_text(ddi["certB"].read_text() + ddi["certA"].read_text())
    assert run("validate", "--cert", ddi["certB"], img).returncode == 1
    assert run("validate", "--cert", ddi["certB"], "--cert", ddi["certA"], img).returncode == 0
    assert run("validate", "--cert", both, img).returncode == 0  # every certificate of a PEM file
    r = run("validate", "--cert", tmp_path / "missing.pem", img)
    assert r.returncode == 2 and "missing.pem" in r.stderr and r.stdout == ""
    (tmp_path / "empty.pem").write_text("")
    r = run("validate", "--cert", tmp_path / "empty.pem", img)
    assert r.returncode == 2 and "no PEM certificate" in r.stderr


# --------------------------------------------------------------------------
# extension-release: systemd's matching rules, on squashfs images made here
# --------------------------------------------------------------------------

def squash(tmp_path, release, name="hello", cls="sysext", link=False):
    """A bare squashfs (mksquashfs, gzip) holding one release file; @link: as a symlink to it."""
    n = squash.n = getattr(squash, "n", 0) + 1
    tree = tmp_path / f"tree{n}"
    d = tree / ("etc/extension-release.d" if cls == "confext" else "usr/lib/extension-release.d")
    d.mkdir(parents=True)
    if link:
        (tree / "usr/share").mkdir(parents=True, exist_ok=True)
        (tree / "usr/share/release").write_text(release)
        (d / f"extension-release.{name}").symlink_to("/usr/share/../share/release")
    else:
        (d / f"extension-release.{name}").write_text(release)
    out = tmp_path / f"img{n}" / (f"{name}.confext.raw" if cls == "confext" else f"{name}.raw")
    out.parent.mkdir()
    subprocess.run(["mksquashfs", tree, out, "-noappend", "-all-root", "-quiet"], check=True, capture_output=True)
    return out


HOST = "ID=debian\nVERSION_ID=13\n"
RELEASE_CASES = [
    # (extension-release, host os-release, extra args, ok?)
    ("ID=_any\nSYSEXT_SCOPE=initrd\n", HOST, [], True),
    ("SYSEXT_SCOPE=initrd\n", HOST, [], False),                                  # no ID
    ("ID=debian\nVERSION_ID=13\nSYSEXT_SCOPE=initrd\n", HOST, [], True),
    ("ID=debian\nVERSION_ID=12\nSYSEXT_SCOPE=initrd\n", HOST, [], False),
    ("ID=debian\nSYSEXT_SCOPE=initrd\n", HOST, [], False),                       # host has VERSION_ID, ext none
    ("ID=debian\nVERSION_ID=13\nSYSEXT_SCOPE=initrd\n", "ID=ubuntu\nID_LIKE=\"debian\"\nVERSION_ID=13\n", [], True),
    ("ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=1.0\nSYSEXT_SCOPE=initrd\n", HOST + "SYSEXT_LEVEL=1.0\n", [], True),
    ("ID=debian\nVERSION_ID=13\nSYSEXT_LEVEL=2\nSYSEXT_SCOPE=initrd\n", HOST + "SYSEXT_LEVEL=1\n", [], False),
    ("ID=arch\nSYSEXT_SCOPE=initrd\n", "ID=arch\n", [], True),                   # rolling: ID is enough
    ("ID=_any\nARCHITECTURE=arm64\nSYSEXT_SCOPE=initrd\n", HOST, [], False),
    ("ID=_any\nARCHITECTURE=arm64\nSYSEXT_SCOPE=initrd\n", HOST, ["--architecture", "arm64"], True),
    ("ID=_any\nARCHITECTURE=_any\nSYSEXT_SCOPE=initrd\n", HOST, [], True),
    ("ID=_any\n", HOST, [], False),                                              # no scope: system portable
    ("ID=_any\n", HOST, ["--scope", "system"], True),
    ("ID=_any\nSYSEXT_SCOPE='system portable'\n", HOST, ["--scope", "portable"], True),
    ('# comment\nID="debian" # not a comment in a value\nVERSION_ID=\'13\'\nSYSEXT_SCOPE="initrd"\n', HOST, [], False),
    ('# comment\n  ID = "debian"\nVERSION_ID=\'13\'\nSYSEXT_SCOPE="initrd"   \n', HOST, [], True),
    ("ID=de\\\nbian\nVERSION_ID=13\nSYSEXT_SCOPE=initrd\n", HOST, [], True),    # a continued line
]


@pytest.mark.parametrize("i", range(len(RELEASE_CASES)))
def test_release_rules(tmp_path, i):
    release, host, extra, ok = RELEASE_CASES[i]
    img = squash(tmp_path, release)
    (tmp_path / "host").write_text(host)
    r = run("validate", "--image-policy", "*", "--os-release", tmp_path / "host", *extra, img)
    assert r.returncode == (0 if ok else 1), r.stdout + r.stderr
    if not ok:
        assert f"{img}: refused: extension-release: " in r.stdout


def test_release_found_through_symlinks_and_confext(tmp_path):
    assert run("validate", "--image-policy", "*", squash(tmp_path, "ID=_any\nSYSEXT_SCOPE=initrd\n", link=True)
               ).returncode == 0
    conf = squash(tmp_path, "ID=_any\nCONFEXT_SCOPE=initrd\n", name="cfg", cls="confext")
    (rep,) = json.loads(run("validate", "--json", "--image-policy", "*", conf).stdout)
    assert (rep["class"], rep["verdict"]) == ("confext", "ok")
    assert rep["extensionRelease"] == "/etc/extension-release.d/extension-release.cfg"
    # the same image checked as a sysext has no /usr/lib/extension-release.d
    r = run("validate", "--class", "sysext", "--image-policy", "*", conf)
    assert r.returncode == 1 and "not a sysext" in r.stdout
    # SYSEXT_SCOPE means nothing to a confext
    conf2 = squash(tmp_path, "ID=_any\nSYSEXT_SCOPE=initrd\n", name="cfg", cls="confext")
    assert run("validate", "--image-policy", "*", conf2).returncode == 1


def test_os_release_input(tmp_path):
    img = squash(tmp_path, "ID=debian\nVERSION_ID=13\nSYSEXT_SCOPE=initrd\n")
    root = tmp_path / "root"
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/os-release").write_text("ID=debian\nVERSION_ID=12\n")
    assert run("validate", "--image-policy", "*", "--os-release", "auto", "--root", root, img).returncode == 1
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text("ID=debian\nVERSION_ID=13\n")  # /etc first, as systemd
    assert run("validate", "--image-policy", "*", "--os-release", "auto", "--root", root, img).returncode == 0
    (tmp_path / "noid").write_text("VERSION_ID=13\n")
    r = run("validate", "--image-policy", "*", "--os-release", tmp_path / "noid", img)
    assert r.returncode == 2 and "no ID=" in r.stderr and r.stdout == ""


# --------------------------------------------------------------------------
# Hostile and unusable input: refused or an error, one line, never a crash
# --------------------------------------------------------------------------

def crc32(b):
    import zlib
    return zlib.crc32(b) & 0xffffffff


def patch_gpt(src, dst, backup=True, **fields):
    """Copy @src with GPT header fields changed (n_entries, entry_size, entries_lba; entry=(i, first, last)),
    CRCs made valid, in the primary header and (@backup) the backup header at the last sector too."""
    data = bytearray(Path(src).read_bytes())
    for hdr in [512] + ([len(data) - 512] if backup else []):
        assert data[hdr:hdr + 8] == b"EFI PART"
        lba, n, size = struct.unpack_from("<QII", data, hdr + 72)
        lba, n, size = fields.get("entries_lba", lba), fields.get("n_entries", n), fields.get("entry_size", size)
        struct.pack_into("<QII", data, hdr + 72, lba, n, size)
        if "entry" in fields:
            i, first, last = fields["entry"]
            struct.pack_into("<QQ", data, lba * 512 + i * size + 32, first, last)
        entries = bytes(data[lba * 512:lba * 512 + n * size]) if lba * 512 + n * size <= len(data) else b""
        struct.pack_into("<I", data, hdr + 88, crc32(entries))
        struct.pack_into("<I", data, hdr + 16, 0)
        struct.pack_into("<I", data, hdr + 16, crc32(bytes(data[hdr:hdr + 92])))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    Path(dst).write_bytes(data)
    return dst


def patch_at(src, dst, offset, new):
    data = bytearray(Path(src).read_bytes())
    data[offset:offset + len(new)] = new
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    Path(dst).write_bytes(data)
    return dst


def hostile_images(ddi, tmp_path):
    good = ddi["good"]
    sig, ver = ddi_images.part(good, "-verity-sig"), ddi_images.part(good, "-verity")

    def sig_with(name, text):
        return patch_at(good, tmp_path / name / "hello.raw", sig["offset"], text + bytes(sig["size"] - len(text)))

    return {
        "absurd-entry-count": (patch_gpt(good, tmp_path / "a/hello.raw", n_entries=0x1000000), "partition-table"),
        "entry-size-odd": (patch_gpt(good, tmp_path / "b/hello.raw", entry_size=129), "partition-table"),
        "entries-past-end": (patch_gpt(good, tmp_path / "c/hello.raw", entries_lba=1 << 40), "partition-table"),
        "partition-past-end": (patch_gpt(good, tmp_path / "d/hello.raw", entry=(0, 40, 1 << 50)), "partitions"),
        "sig-not-json": (sig_with("e", b"{{{{ not json"), "verity-sig"),
        "sig-deep": (sig_with("f", b"[" * 5000 + b"]" * 5000), "verity-sig"),
        "sig-nul-inside": (sig_with("g", b'{"rootHash":"00"}\0x'), "verity-sig"),
        "sig-roothash-number": (sig_with("h", b'{"rootHash":1,"signature":"AA=="}'), "verity-sig"),
        "sig-roothash-odd": (sig_with("i", b'{"rootHash":"abc","signature":"AA=="}'), "verity-sig"),
        "sig-dup-keys": (sig_with("j", b'{"rootHash":"00","rootHash":"11","signature":"AA=="}'), "verity-sig"),
        "sig-bad-base64": (sig_with("k", b'{"rootHash":"00","signature":"!!!"}'), "verity-sig"),
        "sig-not-pkcs7": (sig_with("l", b'{"rootHash":"00","signature":"AAAA"}'), "signature"),
        "sb-block-size": (patch_at(good, tmp_path / "m/hello.raw", ver["offset"] + 64, struct.pack("<I", 3)), "verity"),
        "sb-huge-data": (patch_at(good, tmp_path / "n/hello.raw", ver["offset"] + 72, struct.pack("<Q", 1 << 60)),
                         "verity"),
        "sb-no-magic": (patch_at(good, tmp_path / "o/hello.raw", ver["offset"], b"VERITY"), "verity"),
        "sb-bad-algorithm": (patch_at(good, tmp_path / "p/hello.raw", ver["offset"] + 32, b"md17\0"), "verity"),
        "empty-file": (_empty(tmp_path / "q/hello.raw"), "partition-table"),
    }


def _empty(p):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"")
    return p


def test_backup_gpt_header_is_used(ddi, tmp_path):
    """A broken primary header alone: libblkid (and so systemd) reads the backup, and so does validate."""
    img = patch_gpt(ddi["good"], tmp_path / "p" / "hello.raw", backup=False, n_entries=0x1000000)
    assert run("validate", "--cert", ddi["certA"], img).returncode == 0
    data = bytearray(img.read_bytes())
    data[-512:] = bytes(512)  # and without the backup
    img.write_bytes(data)
    r = run("validate", "--cert", ddi["certA"], img)
    assert r.returncode == 1 and "partition-table: GPT header at sector 1: " in r.stdout, r.stdout


def test_hostile_images_are_refused(ddi, tmp_path):
    for name, (img, check) in hostile_images(ddi, tmp_path).items():
        r = run("validate", "--cert", ddi["certA"], img)
        assert r.returncode == 1, f"{name}: {r.stdout}{r.stderr}"
        assert r.stdout.startswith(f"{img}: refused: {check}: ") and r.stdout.count("\n") == 1, f"{name}: {r.stdout}"


def test_bare_erofs_and_corruptions(ddi, tmp_path):
    """The erofs of the good image as a bare file system: read, then damaged byte by byte; never a crash."""
    import random
    good = ddi["good"]
    d = ddi_images.part(good, "x86-64")
    raw = good.read_bytes()[d["offset"]:d["offset"] + d["size"]]
    img = tmp_path / "ok" / "hello.raw"
    img.parent.mkdir()
    img.write_bytes(raw)
    r = run("validate", "--image-policy", "*", img)
    assert r.returncode == 0 and "bare erofs" in r.stdout, r.stdout
    bad = patch_at(img, tmp_path / "sb" / "hello.raw", 1024 + 36, b"\xff")  # inside the checksummed superblock
    r = run("validate", "--image-policy", "*", bad)
    assert r.returncode == 1 and "filesystem: erofs superblock checksum mismatch" in r.stdout
    rnd = random.Random(18)
    used = len(raw.rstrip(b"\0"))
    for i in range(60):
        data = bytearray(raw)
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(1024 + 128, used)] ^= 1 << rnd.randrange(8)
        p = tmp_path / f"r{i}" / "hello.raw"
        p.parent.mkdir()
        p.write_bytes(data)
        r = run("validate", "--image-policy", "*", p)
        assert r.returncode in (0, 1, 2) and r.stdout.count("\n") == 1, r.stdout + r.stderr


def test_squashfs_corruptions(ddi, tmp_path):
    import random
    raw = ddi["squashfs"].read_bytes()
    rnd = random.Random(19)
    for i in range(60):
        data = bytearray(raw)
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(0, len(data))] ^= 1 << rnd.randrange(8)
        p = tmp_path / f"r{i}" / "hello.raw"
        p.parent.mkdir()
        p.write_bytes(data)
        r = run("validate", "--image-policy", "*", p)
        assert r.returncode in (0, 1, 2) and r.stdout.count("\n") == 1, r.stdout + r.stderr


def test_unusable_input(ddi, cases, tmp_path):
    """Exit 2: nothing to judge with, or something we cannot judge; the message names it."""
    r = run("validate")
    assert r.returncode == 2 and "no image given" in r.stderr
    r = run("validate", "--image-policy", "root=bogus", cases["good"][0])
    assert r.returncode == 2 and "unknown partition policy flag 'bogus'" in r.stderr and r.stdout == ""
    r = run("validate", "--image-policy", "tmp=signed:tmp=absent", cases["good"][0])
    assert r.returncode == 2 and "given twice" in r.stderr
    r = run("validate", "--scope", "everywhere", cases["good"][0])
    assert r.returncode == 2 and "--scope" in r.stderr
    missing = tmp_path / "missing.raw"
    r = run("validate", "--cert", ddi["certA"], missing, cases["good"][0])
    assert r.returncode == 2
    assert r.stdout.splitlines() == [f"{missing}: error: file: cannot open: No such file or directory",
                                     r.stdout.splitlines()[1]] and ": ok (" in r.stdout.splitlines()[1]
    r = run("validate", tmp_path)
    assert r.returncode == 2 and "error: file: not a regular file" in r.stdout
    ext4 = tmp_path / "e" / "hello.raw"
    ext4.parent.mkdir()
    subprocess.run(["truncate", "-s", "4M", ext4], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", ext4], check=True, capture_output=True)
    r = run("validate", "--image-policy", "*", ext4)
    assert r.returncode == 2 and "error: filesystem: a ext4 file system" in r.stdout, r.stdout


# --------------------------------------------------------------------------
# admit: the initrd side
# --------------------------------------------------------------------------

def initrd_tree(ddi, cases, tmp_path, cmdline=""):
    root = tmp_path / "initrd"
    (root / ".extra/sysext").mkdir(parents=True)
    (root / ".extra/global_sysext").mkdir(parents=True)
    (root / "etc/verity.d").mkdir(parents=True)
    shutil.copyfile(ddi["certA"], root / "etc/verity.d/test.crt")
    (root / "etc/os-release").write_text("ID=fedora\nVERSION_ID=40\n")
    shutil.copyfile(cases["good"][0], root / ".extra/sysext/hello.sysext.raw")
    shutil.copyfile(cases["flipped-data"][0], root / ".extra/sysext/bad.sysext.raw")
    shutil.copyfile(cases["id-mismatch"][0], root / ".extra/global_sysext/idm.sysext.raw")
    (root / ".extra/sysext/notes.txt").write_text("not an image: systemd ignores it, and so does admit\n")
    (root / "cmdline").write_text(cmdline + "\n")
    return root


def test_admit_moves_the_refused_image(ddi, cases, tmp_path):
    root = initrd_tree(ddi, cases, tmp_path, "quiet sysext-stub.admit=default")
    r = run("admit", "--root", root, "--cmdline", root / "cmdline")
    assert r.returncode == 0 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("sysext-stub-admit: /.extra/sysext/bad.sysext.raw: refused: verity: data block ")
    assert lines[0].endswith("; moved to /run/sysext-stub/refused/sysext/bad.sysext.raw")
    assert lines[1:] == ["sysext-stub-admit: 2 image(s) admitted, 1 refused"]
    assert sorted(p.name for p in (root / ".extra/sysext").iterdir()) == ["hello.sysext.raw", "notes.txt"]
    assert (root / ".extra/global_sysext/idm.sysext.raw").exists()  # ID=fedora matches this initrd
    moved = root / "run/sysext-stub/refused/sysext/bad.sysext.raw"
    assert moved.read_bytes() == cases["flipped-data"][0].read_bytes()
    # again: nothing left to refuse
    r = run("admit", "--root", root, "--cmdline", root / "cmdline")
    assert r.returncode == 0 and r.stderr == "sysext-stub-admit: 2 image(s) admitted, 0 refused\n"


def test_admit_strict_refuses_to_boot(ddi, cases, tmp_path):
    root = initrd_tree(ddi, cases, tmp_path, "root=/dev/sda sysext-stub.admit=strict")
    r = run("admit", "--root", root, "--cmdline", root / "cmdline", env={**os.environ, "JOURNAL_STREAM": "8:1"})
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith("<3>sysext-stub-admit: /.extra/sysext/bad.sysext.raw: refused: verity: ")
    assert lines[0].endswith("(sysext-stub.admit=strict: refusing to boot)")
    assert (root / ".extra/sysext/bad.sysext.raw").exists() and not (root / "run").exists()


def test_admit_checks_against_the_initrd(ddi, cases, tmp_path):
    """The initrd's os-release and certificates decide: another ID, or no certificate, refuses."""
    root = initrd_tree(ddi, cases, tmp_path)
    (root / "etc/os-release").write_text("ID=debian\nVERSION_ID=13\n")
    (root / "etc/verity.d/test.crt").unlink()
    r = run("admit", "--root", root, "--cmdline", root / "cmdline")
    assert r.returncode == 0
    refused = sorted(p.relative_to(root / "run/sysext-stub/refused").as_posix()
                     for p in (root / "run/sysext-stub/refused").rglob("*.raw"))
    assert refused == ["global_sysext/idm.sysext.raw", "sysext/bad.sysext.raw", "sysext/hello.sysext.raw"]
    assert "signature: no certificate" in r.stderr


# --------------------------------------------------------------------------
# make install-initrd, sign --validate
# --------------------------------------------------------------------------

def test_install_initrd(ddi, tmp_path):
    dest = tmp_path / "tree"
    subprocess.run(["make", "-s", "-C", ROOT, "install-initrd", f"DESTDIR={dest}", f"VERITY_CERTS={ddi['certA']}"],
                   check=True, capture_output=True)
    unit = dest / "usr/lib/systemd/system/sysext-stub-admit.service"
    wants = dest / "usr/lib/systemd/system/initrd.target.wants/sysext-stub-admit.service"
    assert os.readlink(wants) == "../sysext-stub-admit.service" and wants.resolve() == unit.resolve()
    text = unit.read_text()
    assert "Before=systemd-sysext-initrd.service systemd-confext-initrd.service" in text
    assert "ExecStart=/usr/bin/sysext-stub admit" in text and (dest / "usr/bin/sysext-stub").exists()
    assert (dest / "etc/verity.d/certA.crt").read_text() == ddi["certA"].read_text()
    # runtime needs: libc and libcrypto, as a systemd initrd has them
    libs = {l.split()[0] for l in subprocess.run(["ldd", dest / "usr/bin/sysext-stub"], capture_output=True,
                                                  text=True, check=True).stdout.splitlines()}
    extra = {l for l in libs if not l.startswith(("linux-vdso", "/lib64/ld-linux", "libc.so", "libcrypto.so"))}
    assert not extra, extra
    # systemd 257 accepts the unit (with the binary where ExecStart says)
    import debian
    out = debian.chroot_run(ddi_images.chroot(), ["sh", "-c", "systemd-analyze verify --man=no "
                            "/w/usr/lib/systemd/system/sysext-stub-admit.service 2>&1; echo rc=$?"],
                            binds=[(dest, "/w"), (dest / "usr/bin/sysext-stub", "/usr/bin/sysext-stub")])
    assert out.strip().splitlines()[-1] == "rc=0", out
    # the dracut module beside it (dracut itself is not run here: its syntax is checked)
    subprocess.run(["make", "-s", "-C", ROOT, "install-dracut", f"DESTDIR={dest}"], check=True, capture_output=True)
    mod = dest / "usr/lib/dracut/modules.d/90sysext-stub"
    assert (mod / "sysext-stub-admit.service").read_text() == text
    subprocess.run(["bash", "-n", mod / "module-setup.sh"], check=True)


def test_sign_validate(ddi, cases, tmp_path):
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    ok, bad = tmp_path / "ok.d", tmp_path / "bad.d"
    ok.mkdir(), bad.mkdir()
    shutil.copyfile(cases["good"][0], ok / "hello.sysext.raw")
    shutil.copyfile(cases["good"][0], bad / "hello.sysext.raw")
    shutil.copyfile(cases["flipped-hash"][0], bad / "zz.sysext.raw")
    args = ["sign", "--private-key", key, "--pcrs", "13", "--validate", "--cert", ddi["certA"]]
    r = run(*args, "--extra-dir", ok)
    assert r.returncode == 0 and json.loads(r.stdout)["sha256"], r.stderr
    r = run(*args, "--extra-dir", bad, "--output", tmp_path / "out.json")
    assert r.returncode == 1 and r.stdout == "" and not (tmp_path / "out.json").exists()
    assert r.stderr.splitlines() == [f"sysext-stub: error: --validate: {bad}/zz.sysext.raw: refused: verity: "
                                     + r.stderr.split(": refused: verity: ", 1)[1].rstrip("\n")]
    (tmp_path / "m").write_text("0" * 64 + "  a.sysext.raw\n")
    r = run("sign", "--private-key", key, "--pcrs", "13", "--validate", "--manifest", tmp_path / "m")
    assert r.returncode == 2 and "--validate needs the images" in r.stderr
    r = run("sign", "--private-key", key, "--pcrs", "13", "--cert", ddi["certA"], "--extra-dir", ok)
    assert r.returncode == 2 and "go with --validate" in r.stderr


def test_json_paths_exactly_or_refused(tmp_path):
    """--json repeats each image path: UTF-8 ones exactly (a strict parser gives back the bytes), others refused
    before anything is printed, named, exit 2 (the one JSON string writer, README). No image is needed: a
    missing file is judged too."""
    odd = tmp_path / 'é "q" \\ \t\x7f.raw'
    r = subprocess.run([str(CLI), "validate", "--json", str(odd)], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 2, r.stderr
    (rep,) = json.loads(r.stdout.decode("utf-8", errors="strict"))
    assert os.fsencode(rep["image"]) == os.fsencode(odd) and rep["verdict"] == "error"
    bad = os.fsencode(tmp_path) + b"/x-\xff.raw"
    r = subprocess.run([bytes(CLI), b"validate", b"--json", os.fsencode(odd), bad], capture_output=True,
                       timeout=TIMEOUT)
    assert r.returncode == 2 and r.stdout == b"", r.stdout
    assert r.stderr.count(b"\n") == 1 and b"/x-\\xff.raw: not UTF-8" in r.stderr, r.stderr
