"""Tests of `sysext-stub build` against real binutils/sbsigntool/OpenSSL.

The PE layout is checked with an independent reader (Python struct, below)
and with objdump, sbverify and sbsign, the tools users point at UKIs.
"""
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
DEBIAN_STUB = Path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub")


def read_pe(path):
    """Minimal independent PE reader: header fields and the section table."""
    d = Path(path).read_bytes()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    assert d[pe:pe + 4] == b"PE\0\0"
    nsec, = struct.unpack_from("<H", d, pe + 6)
    optsz, = struct.unpack_from("<H", d, pe + 20)
    opt = pe + 24
    hdr = {
        "section_alignment": struct.unpack_from("<I", d, opt + 32)[0],
        "file_alignment": struct.unpack_from("<I", d, opt + 36)[0],
        "size_of_image": struct.unpack_from("<I", d, opt + 56)[0],
        "size_of_headers": struct.unpack_from("<I", d, opt + 60)[0],
        "checksum": struct.unpack_from("<I", d, opt + 64)[0],
        "dll_characteristics": struct.unpack_from("<H", d, opt + 70)[0],
        "len": len(d),
    }
    secs = []
    for i in range(nsec):
        o = opt + optsz + 40 * i
        name = d[o:o + 8].rstrip(b"\0").decode()
        vs, va, rs, ro = struct.unpack_from("<IIII", d, o + 8)
        ch, = struct.unpack_from("<I", d, o + 36)
        secs.append({"name": name, "vs": vs, "va": va, "rs": rs, "ro": ro, "ch": ch,
                     "data": d[ro:ro + min(vs, rs)]})
    return hdr, secs


def make_signing_key(tmp_path, name):
    """A throw-away RSA key and self-signed certificate for sbsign."""
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}/",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


def run_build(*args, check=True):
    r = subprocess.run([str(CLI), "build", *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def parts(tmp_path):
    """Inputs for a UKI. The 'kernel' is a copy of the stub: any PE will do here."""
    kernel = tmp_path / "vmlinuz"
    shutil.copy(STUB, kernel)
    initrd = tmp_path / "initrd"
    initrd.write_bytes(os.urandom(12345))
    osrel = tmp_path / "os-release"
    osrel.write_text('ID=demo\nPRETTY_NAME="Demo"\n')
    return {"linux": kernel, "initrd": initrd, "os-release": osrel}


def test_layout_matches_ukify_rules(tmp_path, parts):
    out = tmp_path / "uki.efi"
    cmdline = "console=ttyS0 quiet"
    run_build("--stub", STUB, "--linux", parts["linux"], "--initrd", parts["initrd"],
              "--cmdline", cmdline, "--os-release", f"@{parts['os-release']}",
              "--uname", "6.1.0-test", "--output", out)
    stub_hdr, stub_secs = read_pe(STUB)
    hdr, secs = read_pe(out)
    names = [s["name"] for s in secs]
    # The stub's own sections first, untouched, then ours in ukify's order.
    assert names[:len(stub_secs)] == [s["name"] for s in stub_secs]
    assert names[len(stub_secs):] == [".osrel", ".cmdline", ".uname", ".initrd", ".linux"]
    expected = {
        ".osrel": parts["os-release"].read_bytes(),
        ".cmdline": cmdline.encode(),
        ".uname": b"6.1.0-test",
        ".initrd": parts["initrd"].read_bytes(),
        ".linux": parts["linux"].read_bytes(),
    }
    prev_end = 0
    for s in secs:
        assert s["va"] % hdr["section_alignment"] == 0, s["name"]
        assert s["ro"] % hdr["file_alignment"] == 0, s["name"]
        assert s["va"] >= prev_end, f"{s['name']} overlaps the previous section"
        prev_end = s["va"] + s["vs"]
        if s["name"] in expected:
            assert s["vs"] == len(expected[s["name"]]), f"{s['name']}: VirtualSize must be the real size"
            assert s["data"] == expected[s["name"]]
            assert s["ch"] == 0x40000040  # initialised data, readable
    assert hdr["size_of_image"] == -(-prev_end // hdr["section_alignment"]) * hdr["section_alignment"]
    assert hdr["dll_characteristics"] & 0x100, "NX_COMPAT from the stub must survive"
    assert hdr["checksum"] != 0


def test_objdump_and_sbverify_accept_and_sbsign_signs(tmp_path, parts):
    out = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", parts["linux"], "--cmdline", "x=1", "--output", out)
    od = subprocess.run(["objdump", "-h", str(out)], capture_output=True, text=True)
    assert od.returncode == 0 and ".linux" in od.stdout and ".cmdline" in od.stdout, od.stderr
    sv = subprocess.run(["sbverify", "--list", str(out)], capture_output=True, text=True)
    assert sv.returncode == 0 and "warning" not in (sv.stdout + sv.stderr).lower(), sv.stdout + sv.stderr

    key, cert = make_signing_key(tmp_path, "test-db")
    signed = tmp_path / "uki.signed.efi"
    subprocess.run(["sbsign", "--key", str(key), "--cert", str(cert), "--output", str(signed), str(out)],
                   check=True, capture_output=True)
    ver = subprocess.run(["sbverify", "--cert", str(cert), str(signed)], capture_output=True, text=True)
    assert ver.returncode == 0, ver.stdout + ver.stderr


def test_debian_systemd_stub_is_accepted(tmp_path, parts):
    """The builder must fit the 7 header slots Debian's stub leaves free."""
    out = tmp_path / "uki.efi"
    run_build("--stub", DEBIAN_STUB, "--linux", parts["linux"], "--initrd", parts["initrd"],
              "--cmdline", "a=b", "--os-release", "ID=x", "--uname", "6.1", "--output", out)
    _, secs = read_pe(out)
    assert [s["name"] for s in secs][-5:] == [".osrel", ".cmdline", ".uname", ".initrd", ".linux"]
    sv = subprocess.run(["sbverify", "--list", str(out)], capture_output=True, text=True)
    assert "warning" not in (sv.stdout + sv.stderr).lower(), sv.stdout + sv.stderr


def test_signed_stub_loses_its_signature_with_a_warning(tmp_path, parts):
    key, cert = make_signing_key(tmp_path, "stub-signer")
    signed_stub = tmp_path / "stub.signed.efi"
    subprocess.run(["sbsign", "--key", str(key), "--cert", str(cert), "--output", str(signed_stub), str(STUB)],
                   check=True, capture_output=True)
    out = tmp_path / "uki.efi"
    r = run_build("--stub", signed_stub, "--linux", parts["linux"], "--output", out)
    assert "signature" in r.stderr
    sv = subprocess.run(["sbverify", "--list", str(out)], capture_output=True, text=True)
    assert "No signature table present" in sv.stdout + sv.stderr


def assert_failed_cleanly(r, out, *words):
    assert r.returncode != 0
    assert r.stderr.startswith("sysext-stub: error:"), r.stderr
    for w in words:
        assert str(w) in r.stderr, f"{w!r} not named in: {r.stderr}"
    assert not out.exists(), "no partial output may be left behind"
    assert not [p for p in out.parent.iterdir() if p.name.startswith("." + out.name)], "temporary file left"


def test_missing_input_file(tmp_path, parts):
    out = tmp_path / "uki.efi"
    missing = tmp_path / "no-such-initrd"
    r = run_build("--stub", STUB, "--linux", parts["linux"], "--initrd", missing, "--output", out, check=False)
    assert_failed_cleanly(r, out, missing, "No such file")


def test_kernel_that_is_not_a_pe(tmp_path, parts):
    out = tmp_path / "uki.efi"
    bogus = tmp_path / "vmlinuz.txt"
    bogus.write_text("not a kernel\n" * 10)
    r = run_build("--stub", STUB, "--linux", bogus, "--output", out, check=False)
    assert_failed_cleanly(r, out, bogus, "not a PE")


def test_stub_that_is_not_a_pe(tmp_path, parts):
    out = tmp_path / "uki.efi"
    r = run_build("--stub", parts["initrd"], "--linux", parts["linux"], "--output", out, check=False)
    assert_failed_cleanly(r, out, parts["initrd"], "not a usable PE")


def test_stub_without_room_for_headers(tmp_path, parts):
    """A stub whose SizeOfHeaders ends right after its section table."""
    d = bytearray(STUB.read_bytes())
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsec, = struct.unpack_from("<H", d, pe + 6)
    optsz, = struct.unpack_from("<H", d, pe + 20)
    table_end = pe + 24 + optsz + 40 * nsec
    struct.pack_into("<I", d, pe + 24 + 60, table_end)
    tight = tmp_path / "tight-stub.efi"
    tight.write_bytes(bytes(d))
    out = tmp_path / "uki.efi"
    r = run_build("--stub", tight, "--linux", parts["linux"], "--cmdline", "x", "--output", out, check=False)
    assert_failed_cleanly(r, out, tight, "no room for 2 more section headers")


def test_uki_given_as_stub(tmp_path, parts):
    uki = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", parts["linux"], "--output", uki)
    out = tmp_path / "uki2.efi"
    r = run_build("--stub", uki, "--linux", parts["linux"], "--output", out, check=False)
    assert_failed_cleanly(r, out, "already has a .linux section")


def test_failure_keeps_an_existing_output(tmp_path, parts):
    out = tmp_path / "uki.efi"
    out.write_bytes(b"previous UKI")
    r = run_build("--stub", STUB, "--linux", tmp_path / "missing", "--output", out, check=False)
    assert r.returncode != 0
    assert out.read_bytes() == b"previous UKI"


def test_empty_part_is_an_error(tmp_path, parts):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    out = tmp_path / "uki.efi"
    r = run_build("--stub", STUB, "--linux", parts["linux"], "--initrd", empty, "--output", out, check=False)
    assert_failed_cleanly(r, out, empty, "empty")


def test_required_options(tmp_path):
    r = subprocess.run([str(CLI), "build", "--output", str(tmp_path / "x.efi")], capture_output=True, text=True)
    assert r.returncode != 0 and "--linux" in r.stderr


def test_default_stub_is_found_next_to_the_cli(tmp_path, parts):
    out = tmp_path / "uki.efi"
    run_build("--linux", parts["linux"], "--output", out)
    _, secs = read_pe(out)
    assert secs[-1]["name"] == ".linux"


# --------------------------------------------------------------------------
# The newer sections, .sbat, profiles (issue 15)
# --------------------------------------------------------------------------

def bmp24(w, h, rgb):
    """A w x h 24-bit BMP of one colour (rows bottom-up, padded to 4)."""
    row = bytes(rgb[::-1]) * w
    row += b"\0" * (-len(row) % 4)
    px = row * h
    return (struct.pack("<2sIHHI", b"BM", 54 + len(px), 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(px), 0, 0, 0, 0) + px)


def test_ucode_splash_devicetree_hwids(tmp_path, parts):
    files = {"ucode": os.urandom(333), "splash": bmp24(4, 3, (1, 2, 3)), "devicetree": b"\xd0\x0d\xfe\xed" * 9,
             "hwids": os.urandom(77)}
    args = []
    for opt, data in files.items():
        (tmp_path / opt).write_bytes(data)
        args += [f"--{opt}", tmp_path / opt]
    out = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", parts["linux"], *args, "--output", out)
    _, secs = read_pe(out)
    by_name = {s["name"]: s for s in secs}
    for opt, name in (("ucode", ".ucode"), ("splash", ".splash"), ("devicetree", ".dtb"), ("hwids", ".hwids")):
        assert by_name[name]["data"] == files[opt] and by_name[name]["vs"] == len(files[opt]), name


def test_a_splash_the_stub_cannot_draw_is_refused(tmp_path, parts):
    good = bmp24(4, 3, (9, 9, 9))
    cases = {"truncated.bmp": good[:-5], "png.bmp": b"\x89PNG\r\n\x1a\n" + good[8:],
             "rle.bmp": good[:30] + struct.pack("<I", 1) + good[34:]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        out = tmp_path / "uki.efi"
        r = run_build("--stub", STUB, "--linux", parts["linux"], "--splash", tmp_path / name, "--output", out,
                      check=False)
        assert_failed_cleanly(r, out, tmp_path / name, "not a BMP image the stub can draw")


SBAT_HEADER = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md"


def test_sbat_merged_into_the_stubs_section_as_ukify_does(tmp_path, parts):
    """ukify's rule: the header, then the entries of the stub's .sbat, the kernel's and the given text."""
    stub_sbat = {s["name"]: s for s in read_pe(STUB)[1]}[".sbat"]
    mine = "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/"
    out = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", parts["linux"], "--sbat", f"{SBAT_HEADER}\n{mine}\n", "--output", out)
    _, secs = read_pe(out)
    sbat = [s for s in secs if s["name"] == ".sbat"]
    assert len(sbat) == 1 and sbat[0]["ro"] == stub_sbat["ro"], "replaced in place, not appended"
    stub_lines = stub_sbat["data"].rstrip(b"\0").decode().splitlines()[1:]
    # The 'kernel' is a copy of the stub here, so its entries come twice.
    want = "\n".join([SBAT_HEADER, *stub_lines, *stub_lines, mine]) + "\n"
    assert sbat[0]["data"].decode() == want
    assert sbat[0]["vs"] == len(want)
    r = run_build("--stub", STUB, "--linux", parts["linux"], "--sbat", "uki,1,no header\n",
                  "--output", tmp_path / "bad.efi", check=False)
    assert_failed_cleanly(r, tmp_path / "bad.efi", "--sbat", "sbat,")


def profile_ranges(secs):
    """The UKI spec's split: base sections, then one list per .profile."""
    base, profiles = [], []
    for s in secs:
        if s["name"] == ".profile":
            profiles.append([])
        (profiles[-1] if profiles else base).append(s)
    return base, profiles


def test_profiles_joined_as_ukify_joins_them(tmp_path, parts):
    p1, p2, out = tmp_path / "p1.efi", tmp_path / "p2.efi", tmp_path / "uki.efi"
    run_build("--stub", STUB, "--profile", "ID=p1\nTITLE=One\n", "--cmdline", "quiet one", "--output", p1)
    run_build("--stub", STUB, "--profile", "ID=p2", "--cmdline", "two", "--initrd", parts["initrd"], "--output", p2)
    # A profile PE: the stub's sections, then .profile first.
    assert [s["name"] for s in read_pe(p1)[1]][-2:] == [".profile", ".cmdline"]
    run_build("--stub", STUB, "--linux", parts["linux"], "--cmdline", "base", "--join-profile", p1,
              "--join-profile", p2, "--output", out)
    base, profiles = profile_ranges(read_pe(out)[1])
    assert [s["name"] for s in base][-2:] == [".cmdline", ".linux"]
    assert [[s["name"] for s in p] for p in profiles] == [[".profile"], [".profile", ".cmdline"],
                                                        [".profile", ".cmdline", ".initrd"]]
    assert profiles[0][0]["data"] == b"ID=main", "a base profile is added, as ukify adds one"
    assert profiles[1][0]["data"] == b"ID=p1\nTITLE=One\n" and profiles[1][1]["data"] == b"quiet one"
    assert profiles[2][2]["data"] == parts["initrd"].read_bytes()
    # An explicit base profile; a single-profile UKI has its .profile first.
    run_build("--stub", STUB, "--linux", parts["linux"], "--profile", "ID=base", "--join-profile", p1, "--output", out)
    assert profile_ranges(read_pe(out)[1])[1][0][0]["data"] == b"ID=base"
    run_build("--stub", STUB, "--linux", parts["linux"], "--profile", "ID=only", "--output", out)
    names = [s["name"] for s in read_pe(out)[1]]
    assert names.index(".profile") < names.index(".linux")


def test_join_profile_errors(tmp_path, parts):
    out = tmp_path / "uki.efi"
    r = run_build("--stub", STUB, "--linux", parts["linux"], "--join-profile", STUB, "--output", out, check=False)
    assert_failed_cleanly(r, out, STUB, "no .profile section")
    r = run_build("--stub", STUB, "--linux", parts["linux"], "--join-profile", parts["initrd"], "--output", out,
                  check=False)
    assert_failed_cleanly(r, out, parts["initrd"], "not a PE")
    p1 = tmp_path / "p1.efi"
    run_build("--stub", STUB, "--profile", "ID=p1", "--output", p1)
    r = run_build("--stub", STUB, "--join-profile", p1, "--profile", "ID=x", "--output", out, check=False)
    assert_failed_cleanly(r, out, "--join-profile needs --linux")


def test_pcrsig_that_systemd_would_refuse_is_refused(tmp_path, parts):
    """systemd's JSON parser refuses the whole tpm2-pcr-signature.json for one bad string anywhere."""
    fp = "ab" * 32
    head = f'{{"sha256":[{{"pcrs":[11],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA",'.encode()
    # name: (the end of the document, what the message must say, the offset of the problem in that end)
    cases = {
        "not-utf8.json": (b'"x":"\xff"}]}', "invalid JSON: invalid UTF-8 in a string", 5),
        "overlong.json": (b'"x":"\xc0\xaf"}]}', "invalid UTF-8 in a string", 5),
        "surrogate.json": (b'"x":"\xed\xa0\x80"}]}', "invalid UTF-8 in a string", 5),
        "noncharacter.json": (b'"x":"\xef\xbf\xbf"}]}', "noncharacter", 5),
        "del.json": (b'"x":"\x7f"}]}', "DEL (0x7f) in a string", 5),
        "escaped-nul.json": (b'"x":"\\u0000"}]}', "\\u0000 in a string", 5),
        "key.json": (b'"\xff":1}]}', "invalid UTF-8 in a string", 1),
        "ref.json": (b'"ref":[]}]}', 'sha256[0]: "ref" must be a string', 6),
    }
    out = tmp_path / "uki.efi"
    for name, (end, problem, at) in cases.items():
        f = tmp_path / name
        f.write_bytes(head + end)
        r = run_build("--stub", STUB, "--linux", parts["linux"], "--pcrsig", f, "--output", out, check=False)
        assert_failed_cleanly(r, out, f"--pcrsig {f}: not a valid tpm2-pcr-signature.json: ", problem,
                              f"(at byte {len(head) + at})")
    # The control: UTF-8, escaped control characters and a string "ref" (systemd 262) go in as they are.
    good = tmp_path / "good.json"
    good.write_bytes(head + '"ref":"pol\\u0001","x":"é€😀\\u007f"}]}'.encode())
    run_build("--stub", STUB, "--linux", parts["linux"], "--pcrsig", good, "--output", out)
    pcrsig = [s for s in read_pe(out)[1] if s["name"] == ".pcrsig"][0]
    assert pcrsig["data"] == good.read_bytes()


ADDON_STUB = ROOT / "build" / "sysext-addon-x64.efi.stub"


def test_addon_around_the_default_addon_stub(tmp_path):
    """--addon: the parts measure/addon.h uses, appended in ukify's order, found next to the CLI by default."""
    ucode, initrd, dtb = tmp_path / "ucode", tmp_path / "initrd", tmp_path / "dtb"
    ucode.write_bytes(os.urandom(300))
    initrd.write_bytes(os.urandom(5000))
    dtb.write_bytes(b"\xd0\x0d\xfe\xed" + os.urandom(60))
    out = tmp_path / "a.addon.efi"
    run_build("--addon", "--cmdline", "quiet debug", "--dtb", dtb, "--uname", "6.1.0-57-amd64", "--initrd", initrd,
              "--ucode", ucode, "--output", out)
    hdr, secs = read_pe(out)
    stub_hdr, stub_secs = read_pe(ADDON_STUB)
    assert [s["name"] for s in secs] == [s["name"] for s in stub_secs] + [".cmdline", ".dtb", ".uname", ".initrd",
                                                                         ".ucode"]
    got = {s["name"]: s for s in secs}
    for name, data in ((".cmdline", b"quiet debug"), (".dtb", dtb.read_bytes()), (".uname", b"6.1.0-57-amd64"),
                       (".initrd", initrd.read_bytes()), (".ucode", ucode.read_bytes())):
        assert got[name]["data"] == data and got[name]["vs"] == len(data), name
    assert ".linux" not in got
    objdump = subprocess.run(["objdump", "-h", str(out)], capture_output=True, text=True, check=True)
    assert ".ucode" in objdump.stdout


def test_addon_around_systemds_addon_stub(tmp_path):
    """systemd's addonx64.efi.stub (its headers have room for 13 more sections) works as --stub."""
    stub = Path("/usr/lib/systemd/boot/efi/addonx64.efi.stub")
    if not stub.is_file():
        # Debian 12's systemd 252 predates addons (254): take the one of the cache's Debian unstable package.
        cached = sorted(Path(os.environ.get("SYSEXT_STUB_CACHE", Path.home() / ".cache" / "sysext-stub"))
                        .glob("debian/sid/pkgs/systemd-boot-efi_*/usr/lib/systemd/boot/efi/addonx64.efi.stub"))
        if not cached:
            pytest.skip("no systemd addonx64.efi.stub: not installed, and no Debian unstable systemd-boot-efi "
                        "in the cache (ovmf-tests fetch it)")
        stub = cached[-1]
    out = tmp_path / "sd.addon.efi"
    run_build("--addon", "--stub", stub, "--cmdline", "from=systemd-stub", "--output", out)
    _, secs = read_pe(out)
    assert secs[-1]["name"] == ".cmdline" and secs[-1]["data"] == b"from=systemd-stub"


@pytest.mark.parametrize("args,message", [
    (["--addon"], "an addon needs at least one of --cmdline, --dtb, --initrd, --ucode"),
    (["--addon", "--uname", "6.1"], "an addon needs at least one of"),
    (["--addon", "--cmdline", "x", "--linux", "{stub}"], "--linux is not part of an addon"),
    (["--addon", "--cmdline", "x", "--os-release", "ID=x"], "--os-release is not part of an addon"),
    (["--linux", "{stub}", "--dtb", "{stub}"], "--dtb is not part of a UKI"),
    (["--addon", "--cmdline", "x", "--profile", "ID=p"], "--profile is not part of an addon"),
    (["--addon", "--cmdline", "x", "--sbat", "x"], "--sbat is not part of an addon"),
    (["--addon", "--cmdline", "x", "--stub", "{uki}"], "would not be used: has a .linux section"),
])
def test_addon_refusals(tmp_path, parts, args, message):
    """Every refusal names the problem and writes nothing."""
    uki = tmp_path / "uki.efi"
    run_build("--stub", STUB, "--linux", parts["linux"], "--output", uki)
    out = tmp_path / "out.efi"
    args = [a.format(stub=STUB, uki=uki) for a in args]
    r = run_build(*args, "--output", out, check=False)
    assert r.returncode != 0 and message in r.stderr, r.stderr
    assert not out.exists()
