"""The whole UKI format of systemd 262 (issue 15), booted: multi-profile
UKIs, .ucode, .splash, SMBIOS, and ukify as a builder.

Three QEMU runs; the first two reboot between cases (initrds built with
reboot=True, startup.nsh counting in a shell variable, which OVMF keeps
across a reset) so one run boots Linux several times:

1. Our stub, a three-profile UKI from `sysext-stub build` (base .ucode and
   .initrd, profile 2 with its own .initrd), SMBIOS type 11 words from
   QEMU: started with no argument, @0, @1, @2, and a hostile UKI (83
   profiles, the last an empty .profile at the end of the table, a
   truncated .splash, a 32 MiB .ucode) that boots on; refused before any of
   them: a profile that does not exist (@7, one past the 83), a UKI whose
   profiles overlap. Each boot: the command line and initrd of that
   profile reach the initrd, .ucode came first, PCRs 9, 11 and 12 equal
   `predict --profile N --kernel-cmdline-extra ...` in every bank, PCR 1
   holds the SMBIOS structures as the guest's own DMI table gives them.
2. systemd-stub 262 (Debian unstable's systemd-boot-efi) in the same UKI,
   with no argument and @2: the same command lines, initrd layout and
   /.extra/profile as ours, `predict --scheme=systemd --systemd-version
   262` equals its PCRs 11 and 12, its PCR 1 SMBIOS events equal ours, and
   it draws the splash exactly as we do (QMP screendump).
3. ukify 262 (Debian unstable's systemd-ukify, on Debian 12's python3)
   builds a two-profile UKI around our stub, with --measure and PCR signing
   through sysext-stub answering as systemd-measure (--tools): its output
   equals `predict`, the signatures verify for every profile; the UKI
   boots, its PCRs equal `predict` in every bank, and the splash is on the
   screen, pixel for pixel.

The Debian unstable packages come from the machine's own mirror
(debian.py); without network the tests that need them skip, saying so.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

import debian
import harness
from test_boot import CLI, STUB, tail
from test_sysext import STUB_FEATURES

SMBIOS_WORDS = "smbios.word=1  two"  # two spaces: mangling keeps runs
SMBIOS_ARGS = ["-smbios", f"type=11,value=io.systemd.stub.kernel-cmdline-extra={SMBIOS_WORDS}"]
BASE_CMDLINE = "console=ttyS0 panic=-1 video=efifb:off"
TAG_PROFILE = 0x13aed6db
SMBIOS_TAGS = {1: 0xd5cb7cbc, 2: 0xe0d47bc8, 11: 0xc0b3bd23}
EV_EVENT_TAG = 6
UCODE_PATH = "kernel/x86/microcode/GenuineIntel.bin"
ORDER_PATH = "etc/initrd-order"  # in .ucode and in .initrd: the later piece wins
MARKER_PATH = "etc/profile-marker"
CHECKS = ["/" + UCODE_PATH, "/" + ORDER_PATH, "/" + MARKER_PATH, "/.extra/profile"]

#: The initrd's own steps: the firmware's SMBIOS table for the PCR 1 check; a pause for the screendump.
HOOK = r"""#!/bin/sh
echo "note dmi $(od -A n -v -t x1 /sys/firmware/dmi/tables/DMI | tr -d ' \n')"
echo "note screen-ready 1"
sleep 4
"""


def sh256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mangle(s: str) -> str:
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in s).strip(" ")


def bmp24(w: int, h: int) -> tuple[bytes, list]:
    """A w x h 24-bit BMP of four coloured quadrants and a diagonal; also its rows top-down as RGB."""
    rows = []
    for y in range(h):
        row = []
        for x in range(w):
            if x == y:
                rgb = (255, 255, 255)
            else:
                rgb = [(255, 0, 0), (0, 200, 0), (0, 0, 255), (250, 250, 10)][(x >= w // 2) + 2 * (y >= h // 2)]
            row.append(rgb)
        rows.append(row)
    px = b""
    for row in reversed(rows):
        line = b"".join(bytes((b, g, r)) for r, g, b in row)
        px += line + b"\0" * (-len(line) % 4)
    head = struct.pack("<2sIHHI", b"BM", 54 + len(px), 0, 0, 54)
    return head + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(px), 0, 0, 0, 0) + px, rows


def cpio(files: dict) -> bytes:
    c = harness.CpioArchive()
    for path, data in files.items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            c.add_dir("/".join(parts[:i]))
        c.add_file(path, data)
    return c.to_bytes()


def make_initrd(path: Path, kernel, marker: bytes) -> Path:
    harness.build_initrd(path, kernel, {ORDER_PATH: b"initrd\n", MARKER_PATH: marker}, check_paths=CHECKS,
                         hook=HOOK, reboot=True)
    return path


def cli(*args) -> str:
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def predict(*args) -> dict:
    return json.loads(cli("predict", "--json", "--phase=", *args))


def values(prediction: dict, pcr: int, profile=None) -> dict:
    out = {}
    for bank, entries in prediction.items():
        (e,) = [e for e in entries if e["pcr"] == pcr and e.get("profile", profile) == profile]
        out[bank] = bytes.fromhex(e["hash"])
    return out


def assert_pcrs(facts: harness.Facts, prediction: dict, pcrs, profile, what: str) -> None:
    assert sorted(facts.pcrs) == sorted(harness.DEFAULT_TPM_BANKS.split(",")), sorted(facts.pcrs)
    for pcr in pcrs:
        predicted = values(prediction, pcr, profile)
        for bank in facts.pcrs:
            want = predicted[bank]
            assert facts.pcrs[bank][pcr] == want, \
                f"{what}: PCR {pcr} {bank}: guest {facts.pcrs[bank][pcr].hex()} predicted {want.hex()}"


def smbios_structures(table: bytes) -> list:
    """(type, bytes) of every structure of an SMBIOS table, read here from the spec."""
    out, at = [], 0
    while at + 4 <= len(table) and table[at] != 127:
        end = at + table[at + 1]
        if table[end:end + 2] == b"\0\0":
            end += 2
        else:
            while table[end] or table[end + 1]:
                end += 1
            end += 2
        out.append((table[at], table[at:end]))
        at = end
    return out


def expected_pcr1_events(facts: harness.Facts) -> list:
    """systemd-stub 262's PCR 1 events for this machine: types 1, 2, 11; type 1's Wake-up Type zeroed."""
    out = []
    for t, s in smbios_structures(bytes.fromhex(facts.notes["dmi"])):
        if t in SMBIOS_TAGS:
            b = bytearray(s)
            if t == 1 and b[1] > 0x18:
                b[0x18] = 0
            out.append((SMBIOS_TAGS[t], sh256(bytes(b))))
    return out


def stub_pcr1_events(facts: harness.Facts) -> list:
    return [(struct.unpack_from("<I", e.data)[0], e.digests[0x0B].hex())
            for e in harness.parse_tcg_log(facts.eventlog) if e.pcr == 1 and e.type == EV_EVENT_TAG]


def assert_initrd(facts: harness.Facts, ucode: bytes, marker: bytes, profile_text: bytes, what: str) -> None:
    """The profile's .initrd and /.extra/profile arrived, and .ucode (the file `ucode` in it) came before .initrd."""
    files = facts.files
    assert files["/" + UCODE_PATH] == (len(ucode), sh256(ucode)), f"{what}: .ucode not unpacked"
    assert files["/" + ORDER_PATH] == (7, sh256(b"initrd\n")), f"{what}: .initrd did not come after .ucode"
    assert files["/" + MARKER_PATH] == (len(marker), sh256(marker)), f"{what}: not the profile's .initrd"
    assert files["/.extra/profile"] == (len(profile_text), sh256(profile_text)), what


@pytest.fixture
def uki_parts(workdir: Path, kernel):
    """The sections of the three-profile UKI, shared by the boots of our stub and systemd-stub 262."""
    base_marker, p2_marker = os.urandom(512), os.urandom(512)
    ucode = b"not really microcode\n" * 20
    (workdir / "ucode.cpio").write_bytes(cpio({UCODE_PATH: ucode, ORDER_PATH: b"ucode\n"}))
    splash, rows = bmp24(96, 60)
    (workdir / "splash.bmp").write_bytes(splash)
    base_initrd = make_initrd(workdir / "base.cpio", kernel, base_marker)
    p2_initrd = make_initrd(workdir / "p2.cpio", kernel, p2_marker)
    profiles = {0: b"ID=main\nTITLE=Default\n", 1: b"ID=recovery\nTITLE=Recovery\n", 2: b"ID=factory\nTITLE=Reset\n"}
    return dict(ucode=ucode, splash=splash, rows=rows, base_initrd=base_initrd, p2_initrd=p2_initrd,
                base_marker=base_marker, p2_marker=p2_marker, profiles=profiles,
                cmdlines={0: f"{BASE_CMDLINE} case=default", 1: f"{BASE_CMDLINE} case=recovery",
                          2: f"{BASE_CMDLINE} case=factory"})


def build_profile_uki(workdir: Path, kernel, parts: dict, stub: Path, name: str) -> Path:
    """Base: .linux .initrd .ucode .splash .osrel .uname .cmdline; profile 0 its .profile alone; profile 1
    its own .cmdline; profile 2 its own .cmdline and .initrd."""
    p1, p2 = workdir / f"{name}.p1.efi", workdir / f"{name}.p2.efi"
    cli("build", "--stub", STUB, "--profile", parts["profiles"][1].decode(), "--cmdline", parts["cmdlines"][1],
        "--output", p1)
    cli("build", "--stub", STUB, "--profile", parts["profiles"][2].decode(), "--cmdline", parts["cmdlines"][2],
        "--initrd", parts["p2_initrd"], "--output", p2)
    out = workdir / name
    cli("build", "--stub", stub, "--linux", kernel.vmlinuz, "--initrd", parts["base_initrd"], "--ucode",
        workdir / "ucode.cpio", "--splash", workdir / "splash.bmp", "--os-release", 'ID=debian\nPRETTY_NAME="t"\n',
        "--uname", kernel.version, "--cmdline", parts["cmdlines"][0], "--profile", parts["profiles"][0].decode(),
        "--join-profile", p1, "--join-profile", p2, "--output", out)
    return out


def counting_script(cases: list, first: list = ()) -> bytes:
    """startup.nsh: `first` runs once (cases that return to the shell), then case i on the i-th start
    of the firmware (the variable n survives the guest's reboots in OVMF's variable store), then off."""
    lines = ["@echo -off", "if x%n% == x then", "  set n 0", *[f"  {c}" for c in first], "endif"]
    for i, case in enumerate(cases):
        lines += [f"if %n% == {i} then", f"  set n {i + 1}", f"  echo ==case {i}", f"  {case}", "endif"]
    lines += [f"if %n% == {len(cases)} then", "  reset -s", "endif"]
    return ("\r\n".join(lines) + "\r\n").encode()


def nested(files: dict, name: str, line: str) -> str:
    """A case in its own script: a refused image aborts only the script it runs from."""
    files[f"EFI/{name}.nsh"] = f"{line}\r\n".encode()
    return f"fs0:\\EFI\\{name}.nsh"


def section_headers(d: bytes) -> tuple[int, list]:
    """The PE header's offset and the offset of every section header, in table order."""
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    n, optsz = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    return pe, [pe + 24 + optsz + 40 * i for i in range(n)]


def add_sections(path: Path, out: Path, sections: list) -> None:
    """Append (name, data) sections to the PE at `path`, after its last one (as build lays them out)."""
    d = bytearray(path.read_bytes())
    pe, headers = section_headers(d)
    n, opt, table, last = len(headers), pe + 24, headers[0], headers[-1]
    sa, fa = struct.unpack_from("<II", d, opt + 32)
    vs, va = struct.unpack_from("<II", d, last + 8)
    va = (va + vs + sa - 1) // sa * sa
    d += bytes(-len(d) % fa)
    size_of_headers, = struct.unpack_from("<I", d, opt + 60)
    assert table + 40 * (n + len(sections)) <= size_of_headers, "no room for that many section headers"
    for i, (name, data) in enumerate(sections):
        h = table + 40 * (n + i)
        raw = (len(data) + fa - 1) // fa * fa
        d[h:h + 40] = name.encode().ljust(8, b"\0") + struct.pack("<IIIIIIHHI", len(data), va, raw, len(d), 0, 0, 0, 0,
                                                                   0x40000040)
        d += data + bytes(raw - len(data))
        va += (len(data) + sa - 1) // sa * sa
    struct.pack_into("<H", d, pe + 6, n + len(sections))
    struct.pack_into("<I", d, opt + 56, va)
    out.write_bytes(bytes(d))


def test_profiles_ucode_smbios_and_hostile_with_our_stub(kernel, workdir, uki_parts):
    parts = uki_parts
    uki = build_profile_uki(workdir, kernel, parts, STUB, "uki.efi")

    # Hostile, booting on: 79 profiles (as many as the stub's header page holds), the last an empty .profile at
    # the end of the table, a truncated .splash, a 32 MiB .ucode (still a valid cpio: the kernel unpacks it).
    huge_ucode = cpio({UCODE_PATH: parts["ucode"], ORDER_PATH: b"ucode\n",
                       "huge.bin": bytes(32 << 20)})
    (workdir / "huge-ucode.cpio").write_bytes(huge_ucode)
    marker = os.urandom(512)
    many = workdir / "many.efi"
    cli("build", "--stub", STUB, "--linux", kernel.vmlinuz, "--initrd", parts["base_initrd"], "--ucode",
        workdir / "huge-ucode.cpio", "--cmdline", f"{BASE_CMDLINE} case=many", "--output", workdir / "many-base.efi")
    truncated = parts["splash"][:-100]
    add_sections(workdir / "many-base.efi", many,
                 [(".splash", truncated)] + [(".profile", f"ID=p{i}\n".encode()) for i in range(79)])
    last = 78
    # Hostile, refused: two profiles whose sections overlap in memory (profile 2's .cmdline at profile 1's address).
    d = bytearray(uki.read_bytes())
    cmdlines = [h for h in section_headers(d)[1] if bytes(d[h:h + 8]) == b".cmdline"]
    d[cmdlines[2] + 12:cmdlines[2] + 16] = d[cmdlines[1] + 12:cmdlines[1] + 16]
    (workdir / "overlap.efi").write_bytes(bytes(d))

    files = {"EFI/uki.efi": str(uki), "EFI/many.efi": str(many), "EFI/overlap.efi": str(workdir / "overlap.efi")}
    first = [nested(files, "bad7", "fs0:\\EFI\\uki.efi @7"), nested(files, "bad79", "fs0:\\EFI\\many.efi @79"),
             nested(files, "huge", "fs0:\\EFI\\many.efi @4000000000"),
             nested(files, "overlap", "fs0:\\EFI\\overlap.efi @1")]
    cases = ["fs0:\\EFI\\uki.efi", "fs0:\\EFI\\uki.efi @0", "fs0:\\EFI\\uki.efi @1", "fs0:\\EFI\\uki.efi @2",
             f"fs0:\\EFI\\many.efi @{last}"]
    files["startup.nsh"] = counting_script(cases, first)
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", stop_at_shell=False, timeout=1200, boots=len(cases),
                          qemu_args=SMBIOS_ARGS)
    log = harness.strip_ansi(result.log)
    assert result.reason == "poweroff" and len(result.all_facts) == len(cases), tail(result, 80)

    # Refused, each with one line, before anything was measured (the first boot's log shows no PCR 12 profile).
    assert "sysext-stub: error: profile @7 asked for, but this UKI has 3 profile(s)" in log
    assert "sysext-stub: error: profile @79 asked for, but this UKI has 79 profile(s)" in log
    assert "sysext-stub: error: profile @4000000000 asked for, but this UKI has 79 profile(s)" in log
    assert "sysext-stub: error: our own PE headers are malformed (overlapping regions)" in log

    words = mangle(SMBIOS_WORDS)
    booted = [(None, 0), (0, 0), (1, 1), (2, 2)]
    for i, (arg, profile) in enumerate(booted):
        facts = result.all_facts[i]
        what = f"case {i} ({'no argument' if arg is None else f'@{arg}'})"
        assert facts.complete, what
        assert facts.cmdline == f"{parts['cmdlines'][profile]} {words}", (what, facts.cmdline)
        marker = parts["p2_marker"] if profile == 2 else parts["base_marker"]
        assert_initrd(facts, parts["ucode"], marker, parts["profiles"][profile], what)
        prediction = predict("--uki", uki, "--profile", str(profile), "--kernel-cmdline-extra", SMBIOS_WORDS,
                             "--pcr", "9", "--pcr", "11", "--pcr", "12")
        assert_pcrs(facts, prediction, (9, 11, 12), profile, what)
        assert facts.efivar_str("StubProfile") == str(profile)
        assert struct.unpack("<Q", facts.efivars["StubFeatures"])[0] == STUB_FEATURES
        assert facts.efivar_str("LoaderPcrSMBIOS") == "1"
        assert facts.efivar_str("StubPcrKernelParameters") == "12"
        assert stub_pcr1_events(facts) == expected_pcr1_events(facts), what
        tags = [e for e in harness.parse_tcg_log(facts.eventlog) if e.pcr == 12 and e.type == EV_EVENT_TAG]
        assert [struct.unpack_from("<I", e.data)[0] for e in tags] == ([TAG_PROFILE] if profile else []), what
    # No argument and @0 boot the same thing (PCR 4 differs: the refused images were loaded in the first boot;
    # that its PCRs 11 and 12 equal the prediction shows the refusals measured nothing).
    no_arg, at0 = result.all_facts[0].pcrs, result.all_facts[1].pcrs
    for bank in no_arg:
        assert [no_arg[bank][pcr] for pcr in (1, 9, 11, 12)] == [at0[bank][pcr] for pcr in (1, 9, 11, 12)], bank

    facts = result.all_facts[4]
    assert facts.cmdline == f"{BASE_CMDLINE} case=many {words}"
    assert facts.files["/" + UCODE_PATH] is not None and facts.files["/.extra/profile"] == (
        len(b"ID=p78\n"), sh256(b"ID=p78\n"))
    assert ".splash: not shown, not a BMP image we can draw (truncated input)" in log
    prediction = predict("--uki", many, "--profile", str(last), "--kernel-cmdline-extra", SMBIOS_WORDS,
                         "--pcr", "9", "--pcr", "11", "--pcr", "12")
    assert_pcrs(facts, prediction, (9, 11, 12), last, "79 profiles")


def screen_region(shot, w: int, h: int) -> list:
    """The centred w x h rectangle of a screendump, rows of RGB tuples."""
    sw, sh, px = shot
    x0, y0 = (sw - w) // 2, (sh - h) // 2
    return [[tuple(px[3 * ((y0 + y) * sw + x0 + x):3 * ((y0 + y) * sw + x0 + x) + 3]) for x in range(w)]
            for y in range(h)]


def fetch(package: str) -> Path:
    try:
        return debian.fetch_package("sid", package)
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")


def test_systemd_stub_262_boots_the_same_uki_the_same_way(kernel, workdir, uki_parts):
    parts = uki_parts
    sd262 = fetch("systemd-boot-efi") / "usr/lib/systemd/boot/efi/linuxx64.efi.stub"
    uki = build_profile_uki(workdir, kernel, parts, sd262, "uki262.efi")
    files = {"EFI/uki.efi": str(uki),
             "startup.nsh": counting_script(["fs0:\\EFI\\uki.efi", "fs0:\\EFI\\uki.efi @2"])}
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    shots = []
    result = harness.boot(esp, workdir=workdir / "boot", stop_at_shell=False, timeout=900, boots=2,
                          qemu_args=[*SMBIOS_ARGS, "-vga", "std"], qmp=True,
                          on_serial=[("note screen-ready", lambda wd: shots.append(
                              harness.screendump(wd, wd / "screen.ppm")))])
    assert result.reason == "poweroff" and len(result.all_facts) == 2, tail(result, 80)
    words = mangle(SMBIOS_WORDS)
    for facts, profile in zip(result.all_facts, (0, 2)):
        what = f"systemd-stub 262, profile {profile}"
        assert facts.cmdline == f"{parts['cmdlines'][profile]} {words}", (what, facts.cmdline)
        marker = parts["p2_marker"] if profile == 2 else parts["base_marker"]
        assert_initrd(facts, parts["ucode"], marker, parts["profiles"][profile], what)
        assert facts.efivar_str("StubProfile") == str(profile)
        prediction = predict("--scheme=systemd", "--systemd-version", "262", "--uki", uki, "--profile", str(profile),
                             "--kernel-cmdline-extra", SMBIOS_WORDS, "--pcr", "11", "--pcr", "12")
        assert_pcrs(facts, prediction, (11, 12), profile, what)
        # Our stub measures SMBIOS exactly as 262 does (the first test compares ours with the same model).
        assert stub_pcr1_events(facts) == expected_pcr1_events(facts), what
    # 262 draws the splash as we do: the BMP's pixels, centred.
    assert shots, "no screendump was taken"
    assert screen_region(shots[0], 96, 60) == [[tuple(p) for p in row] for row in parts["rows"]]


def test_ukify_builds_around_our_stub(kernel, workdir):
    ukify = fetch("systemd-ukify") / "usr/bin/ukify"
    addon = fetch("systemd-boot-efi") / "usr/lib/systemd/boot/efi/addonx64.efi.stub"
    tools = workdir / "tools"
    tools.mkdir()
    (tools / "systemd-measure").symlink_to(CLI)
    key = workdir / "pcr.pem"
    pub = workdir / "pcr.pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    marker = os.urandom(512)
    initrd = make_initrd(workdir / "initrd.cpio", kernel, marker)
    splash, rows = bmp24(120, 40)
    (workdir / "splash.bmp").write_bytes(splash)
    ucode = cpio({UCODE_PATH: b"ucode for ukify\n", ORDER_PATH: b"ucode\n"})
    (workdir / "ucode.cpio").write_bytes(ucode)

    def ukify_build(*args):
        r = subprocess.run(["/usr/bin/python3", str(ukify), "build", *map(str, args)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        return r

    ukify_build("--stub", addon, "--profile", "ID=recovery", "--cmdline", f"{BASE_CMDLINE} case=recovery",
                "--output", workdir / "p1.efi")
    uki = workdir / "ukify.efi"
    r = ukify_build("--stub", STUB, "--tools", tools, "--linux", kernel.vmlinuz, "--initrd", initrd,
                    "--microcode", workdir / "ucode.cpio", "--splash", workdir / "splash.bmp",
                    "--cmdline", f"{BASE_CMDLINE} case=ukify", "--os-release", 'ID=debian\nPRETTY_NAME="ukify"\n',
                    "--uname", kernel.version, "--join-profile", workdir / "p1.efi", "--measure",
                    "--pcr-private-key", key, "--pcr-public-key", pub, "--pcr-banks", "sha256,sha384",
                    "--output", uki)
    # --measure ran our systemd-measure for each profile: its lines are predict's PCR 11 values.
    measured = [line for line in r.stdout.splitlines() if line.startswith("11:")]
    want = []
    for profile in (0, 1):
        p = json.loads(cli("predict", "--json", "--uki", uki, "--profile", str(profile), "--pcr", "11",
                           "--bank", "sha256", "--bank", "sha384"))
        for phase in ("enter-initrd", "enter-initrd:leave-initrd", "enter-initrd:leave-initrd:sysinit",
                      "enter-initrd:leave-initrd:sysinit:ready"):
            for bank in ("sha256", "sha384"):
                (e,) = [e for e in p[bank] if e.get("phase") == phase]
                want.append(f"11:{bank}={e['hash']}")
    assert measured == want
    # The .pcrsig of each profile (signed through our systemd-measure) approves that profile's PCR 11.
    for profile in (0, 1):
        sig = workdir / f"pcrsig{profile}.json"
        secs = [s for s in pe_sections(uki) if s[0] == ".pcrsig"]
        sig.write_bytes(secs[profile][1].rstrip(b"\0 "))
        v = subprocess.run([str(CLI), "sign", "--verify", str(sig), "--public-key", str(pub), "--uki", str(uki),
                            "--profile", str(profile), "--pcrs", "11", "--bank", "sha256", "--bank", "sha384"],
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr

    files = {"EFI/BOOT/BOOTX64.EFI": str(uki)}
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    shots = []
    result = harness.boot(esp, workdir=workdir / "boot", timeout=600, qemu_args=["-vga", "std"], qmp=True,
                          on_serial=[("note screen-ready", lambda wd: shots.append(
                              harness.screendump(wd, wd / "screen.ppm")))])
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert facts.cmdline == f"{BASE_CMDLINE} case=ukify"
    assert facts.files["/" + UCODE_PATH] == (16, sh256(b"ucode for ukify\n"))
    assert facts.files["/" + ORDER_PATH] == (7, sh256(b"initrd\n"))
    assert facts.files["/" + MARKER_PATH] == (len(marker), sh256(marker))
    prediction = predict("--uki", uki, "--pcr", "9", "--pcr", "11", "--pcr", "12", "--profile", "0")
    assert_pcrs(facts, prediction, (9, 11, 12), 0, "ukify UKI")
    assert shots, "no screendump was taken"
    assert screen_region(shots[0], 120, 40) == [[tuple(p) for p in row] for row in rows]


def pe_sections(path: Path) -> list:
    """(name, raw bytes up to VirtualSize) of every section, in table order."""
    d = path.read_bytes()
    out = []
    for o in section_headers(d)[1]:
        vs, _va, rs, ro = struct.unpack_from("<IIII", d, o + 8)
        out.append((d[o:o + 8].rstrip(b"\0").decode(), d[ro:ro + min(vs, rs)]))
    return out
