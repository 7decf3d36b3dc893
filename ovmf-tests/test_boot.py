"""Real boots of UKIs built around our stub (QEMU + OVMF + swtpm).

Each test boots once; what the guest saw comes back as facts printed by
the test initrd. Expected values are computed here (hashlib), never taken
from the project's own code.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import harness

ROOT = harness.REPO_ROOT
CLI = ROOT / "build" / "sysext-stub"
STUB = ROOT / "build" / "sysext-stub-x64.efi"
#: The same stub built with -DSYSEXT_STUB_FAULT=1 (efi-lib/fault.h).
FAULT_STUB = ROOT / "build" / "fault" / "sysext-stub-x64.efi"
MARKER = "/etc/sysext-stub-marker"
SNAKEOIL_KEY = Path("/usr/share/ovmf/PkKek-1-snakeoil.key")
SNAKEOIL_CERT = Path("/usr/share/ovmf/PkKek-1-snakeoil.pem")


def tail(result: harness.BootResult, n: int = 40) -> str:
    lines = result.log.splitlines()[-n:]
    return f"boot ended by {result.reason} after {result.duration:.0f}s; serial log tail:\n" + "\n".join(lines)


def make_initrd(workdir: Path, kernel) -> tuple[Path, bytes]:
    """The test initrd with a random marker file whose hash the guest reports."""
    marker = os.urandom(4096)
    initrd = workdir / "initrd.cpio"
    harness.build_initrd(initrd, kernel, {MARKER.lstrip("/"): marker}, check_paths=[MARKER])
    return initrd, marker


def sysext_stub_build(workdir: Path, kernel, initrd: Path, cmdline: str, stub: Path = STUB,
                      name: str = "uki.efi", extra_args: tuple = ()) -> Path:
    out = workdir / name
    subprocess.run([str(CLI), "build", "--stub", str(stub), "--linux", str(kernel.vmlinuz),
                    "--initrd", str(initrd), "--cmdline", cmdline, "--os-release",
                    'ID=debian\nPRETTY_NAME="sysext-stub test"\n', "--uname", kernel.version,
                    *extra_args, "--output", str(out)], check=True)
    return out


def boot_uki(workdir: Path, uki: Path, **kwargs) -> harness.BootResult:
    esp = workdir / "esp.img"
    harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI": str(uki)})
    return harness.boot(esp, workdir=workdir / "boot", **kwargs)


def assert_booted_with(result: harness.BootResult, cmdline: str, marker: bytes) -> None:
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert facts.cmdline == cmdline, f"/proc/cmdline {facts.cmdline!r} != {cmdline!r}"
    assert facts.files.get(MARKER) == (len(marker), harness.sha256_hex(marker)), \
        f"embedded initrd content missing or changed: {facts.files.get(MARKER)}"


def test_our_stub_boots_uki_from_our_builder(kernel, workdir):
    """The foundation: .linux starts, sees the exact .cmdline and the embedded .initrd."""
    initrd, marker = make_initrd(workdir, kernel)
    cmdline = f"console=ttyS0 panic=-1 sysext_stub.token={os.urandom(6).hex()}"
    uki = sysext_stub_build(workdir, kernel, initrd, cmdline)
    result = boot_uki(workdir, uki, tpm=True)
    assert_booted_with(result, cmdline, marker)
    assert "sysext-stub: starting kernel" in result.log, tail(result)
    # Linux pulled the initrd through our LoadFile2 device, not some other way.
    assert "Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path" in result.log, tail(result)
    assert result.facts.tpm_present and result.facts.eventlog, "swtpm was attached: PCRs and a log expected"
    # No companion file on the ESP: /.extra holds only the UKI's .osrel, re-exported (as systemd-stub 257+).
    assert sorted(result.facts.extra_by_path()) == ["/.extra", "/.extra/os-release"], result.facts.extra_by_path()


def test_builder_output_boots_with_debian_systemd_stub(kernel, workdir):
    """`sysext-stub build` is a compatible UKI builder: Debian's systemd-stub 252 boots its output."""
    initrd, marker = make_initrd(workdir, kernel)
    cmdline = "console=ttyS0 panic=-1 built.by=sysext-stub"
    uki = sysext_stub_build(workdir, kernel, initrd, cmdline, stub=harness.SYSTEMD_STUB)
    result = boot_uki(workdir, uki)
    assert_booted_with(result, cmdline, marker)
    assert "sysext-stub:" not in result.log, "this boot must not involve our stub"


def test_objcopy_uki_around_our_stub_boots(kernel, workdir):
    """Our stub is a compatible stub: a UKI glued together with objcopy (the Debian 12 way) boots."""
    initrd, marker = make_initrd(workdir, kernel)
    cmdline = "console=ttyS0 panic=-1 built.by=objcopy"
    uki = workdir / "uki.efi"
    harness.build_uki_objcopy(uki, linux=kernel.vmlinuz, initrd=initrd, cmdline=cmdline, stub=STUB,
                              workdir=workdir)
    result = boot_uki(workdir, uki, tpm=False)
    assert_booted_with(result, cmdline, marker)
    assert not result.facts.tpm_present


def sign_with_snakeoil(workdir: Path, uki: Path) -> Path:
    """Sign with the key whose certificate is in OVMF_VARS_4M.snakeoil.fd's db."""
    key = workdir / "snakeoil.key"
    subprocess.run(["openssl", "pkey", "-passin", "pass:snakeoil", "-in", str(SNAKEOIL_KEY),
                    "-out", str(key)], check=True, capture_output=True)
    signed = uki.with_suffix(".signed.efi")
    subprocess.run(["sbsign", "--key", str(key), "--cert", str(SNAKEOIL_CERT), "--output", str(signed),
                    str(uki)], check=True, capture_output=True)
    return signed


SYSTEMD_BOOT = Path("/usr/lib/systemd/boot/efi/systemd-bootx64.efi")
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003


def strip_signature(workdir: Path, vmlinuz: Path) -> Path:
    """A copy of Debian's kernel without its Authenticode signature (sbattach --remove)."""
    out = workdir / "vmlinuz.unsigned"
    shutil.copyfile(vmlinuz, out)
    subprocess.run(["sbattach", "--remove", str(out)], check=True, capture_output=True)
    listing = subprocess.run(["sbverify", "--list", str(out)], capture_output=True, text=True)
    assert "No signature table present" in listing.stdout + listing.stderr, listing.stdout + listing.stderr
    return out


def log_events(log: bytes) -> list[tuple[int, int, bytes, bytes]]:
    """(pcr, type, sha256 digest, data) of every event in a crypto-agile TCG log."""
    return [(e.pcr, e.type, e.digests.get(harness.TPM2_ALG_SHA256, b""), e.data) for e in harness.parse_tcg_log(log)]


def test_secure_boot_signed_uki_with_sysexts_boots_tampered_and_unsigned_are_refused(kernel, workdir):
    """One Secure Boot boot, three disks tried in boot order. Disk 0: the signed UKI with one byte
    changed after signing; disk 1: an unsigned UKI around our stub. The firmware refuses both
    ("Access Denied") and neither runs. Disk 2: signed systemd-boot starts the signed UKI with
    arguments (a loader entry's options): the UKI starts its *unsigned* inner kernel (Debian's
    signature stripped), with its own .cmdline, not the arguments, and takes and measures its
    sysexts. (OVMF's built-in shell refuses to run under Secure Boot on Debian, so a boot loader
    passes the arguments.)"""
    from test_sysext import expected_events, parse_pcr13_events

    unsigned_kernel = dataclasses.replace(kernel, vmlinuz=strip_signature(workdir, kernel.vmlinuz))
    initrd, marker = make_initrd(workdir, kernel)
    cmdline = "console=ttyS0 panic=-1 secure.boot=1"
    # A .pcrsig with no signature files beside it reaches the initrd byte for byte, as with
    # systemd-stub (pretty-printed here: a merge would have written it compactly).
    pcrsig = workdir / "pcrsig.json"
    entry = '{ "pcrs" : [ 11 ], "pkfp" : "%s", "pol" : "%s", "sig" : "c2ln" }' % ("ab" * 32, "cd" * 32)
    pcrsig.write_bytes(('{\n  "sha256" : [ ' + entry + ' ]\n}\n').encode())
    uki = sysext_stub_build(workdir, unsigned_kernel, initrd, cmdline, extra_args=("--pcrsig", str(pcrsig)))
    signed = sign_with_snakeoil(workdir, uki)
    sysexts = {"k3s.sysext.raw": os.urandom(100_000), "tools.sysext.raw": os.urandom(3000)}

    # Disk 0 (the harness's ESP, bootindex 0): one byte of .cmdline changed after signing, so the
    # Authenticode hash no longer matches.
    data = bytearray(signed.read_bytes())
    at = data.index(cmdline.encode())
    data[at + cmdline.index("secure.boot=1") + len("secure.boot=")] ^= 0x01
    tampered = workdir / "tampered.efi"
    tampered.write_bytes(bytes(data))
    disk0 = workdir / "tampered.img"
    harness.build_esp(disk0, {"EFI/BOOT/BOOTX64.EFI": str(tampered)})
    # Disk 1: our stub, never signed.
    unsigned_uki = sysext_stub_build(workdir, unsigned_kernel, initrd, "console=ttyS0 panic=-1 unsigned=1",
                                     name="unsigned.efi")
    disk1 = workdir / "unsigned.img"
    harness.build_esp(disk1, {"EFI/BOOT/BOOTX64.EFI": str(unsigned_uki)})
    # Disk 2: systemd-boot (signed with the same key) and a loader entry passing arguments.
    sd_boot = workdir / "systemd-boot.efi"
    shutil.copyfile(SYSTEMD_BOOT, sd_boot)
    sd_boot = sign_with_snakeoil(workdir, sd_boot)
    options = "init=/bin/sh injected=1"
    files = {"EFI/BOOT/BOOTX64.EFI": str(sd_boot), "EFI/kairos/active.efi": str(signed),
             "loader/loader.conf": b"timeout 0\ndefault sb.conf\n",
             "loader/entries/sb.conf": f"title sb\nefi /EFI/kairos/active.efi\noptions {options}\n".encode()}
    files.update({f"EFI/kairos/active.efi.extra.d/{n}": d for n, d in sysexts.items()})
    disk2 = workdir / "signed.img"
    harness.build_esp(disk2, files)
    drives = []
    for i, (image, addr) in enumerate(((disk1, 8), (disk2, 9))):
        drives += ["-drive", f"if=none,id=sb{i},format=raw,snapshot=on,file={image}",
                   "-device", f"virtio-blk-pci,drive=sb{i},bootindex={i + 1},addr={addr:#x}"]
    result = harness.boot(disk0, workdir=workdir / "boot", tpm=True, secure_boot=True, qemu_args=drives)
    assert_booted_with(result, cmdline, marker)
    facts = result.facts
    assert facts.secure_boot is True, "the guest must see SecureBoot=1"

    # The firmware's refusals, in boot order, before anything of ours ran.
    log = harness.strip_ansi(result.log).replace("\r", "")
    start = re.search(r'BdsDxe: starting Boot[0-9A-F]{4} "[^"]*" from PciRoot\(0x0\)/Pci\(0x9,0x0\)\n', log)
    assert start, tail(result)
    started = start.start()
    failed = re.findall(r'BdsDxe: failed to load Boot[0-9A-F]{4} "[^"]*" from (\S+): (.+)', log[:started])
    assert [status.strip() for _, status in failed] == ["Access Denied", "Access Denied"], failed
    assert failed[1][0] == "PciRoot(0x0)/Pci(0x8,0x0)" and failed[0][0] != failed[1][0], failed
    assert "sysext-stub" not in log[:started], "the firmware must run neither the tampered nor the unsigned UKI"
    assert facts.efivar_str("LoaderEntrySelected") == "sb.conf", facts.efivar_str("LoaderEntrySelected")

    # .cmdline wins over the arguments: the kernel got it (checked above), and PCR 12 holds only
    # systemd-boot's own measurement of the options it passed, nothing from our stub.
    events = log_events(facts.eventlog)
    utf16 = options.encode("utf-16-le") + b"\0\0"
    assert [(e[1], e[3]) for e in events if e[0] == 12] == [(0x0000000D, utf16)], [e for e in events if e[0] == 12]
    assert facts.pcrs["sha256"][12] == hashlib.sha256(bytes(32) + hashlib.sha256(utf16).digest()).digest()
    assert "StubPcrKernelParameters" not in facts.efivars
    assert f'cmdline "{cmdline}"' in log, "the stub must log the command line it chose"
    # PCR 4 has the two images the firmware verified and started (systemd-boot, the UKI), nothing
    # for the refused ones, and nothing for the unsigned inner kernel the stub started.
    apps = [struct.unpack_from("<Q", e[3], 8)[0] for e in events if e[0] == 4 and e[1] == EV_EFI_BOOT_SERVICES_APPLICATION]
    assert apps == [sd_boot.stat().st_size, signed.stat().st_size], apps

    got = facts.extra_by_path()
    for name, data in sysexts.items():
        assert got[f"/.extra/sysext/{name}"].sha256 == harness.sha256_hex(data), name
    events13 = expected_events(sysexts, {})
    assert parse_pcr13_events(facts.eventlog) == [(p, hashlib.sha256(d).digest()) for p, d in events13]
    sig = got.get("/.extra/tpm2-pcr-signature.json")
    want = pcrsig.read_bytes()
    assert sig is not None and (sig.mode, sig.size, sig.sha256) == (0o100444, len(want), harness.sha256_hex(want)), sig
    assert "/.extra/tpm2-pcr-public-key.pem" not in got, "no .pcrpkey, no key file"


def test_without_cmdline_the_kernel_gets_no_garbage(kernel, workdir):
    """No .cmdline: the stub falls back to LoadOptions, and OVMF's removable-media boot
    entry gives none (or binary OptionalData, which the stub refuses: see
    tests/test-cmdline.c). The kernel must get an empty command line, not garbage."""
    initrd, marker = make_initrd(workdir, kernel)
    uki = workdir / "uki.efi"
    subprocess.run([str(CLI), "build", "--stub", str(STUB), "--linux", str(kernel.vmlinuz),
                    "--initrd", str(initrd), "--output", str(uki)], check=True)
    result = boot_uki(workdir, uki, tpm=False, timeout=180)
    assert 'cmdline ""' in result.log, tail(result)
    # -nodefaults leaves ttyS0 as the only console, so the facts still reach the log.
    assert_booted_with(result, "", marker)
