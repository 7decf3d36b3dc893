"""Real boots of UKIs built around our stub (QEMU + OVMF + swtpm).

Each test boots once; what the guest saw comes back as facts printed by
the test initrd. Expected values are computed here (hashlib), never taken
from the project's own code.
"""
from __future__ import annotations

import hashlib
import os
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
    assert not result.facts.extra_present, "no sidecar files yet: /.extra must not exist"


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


def test_secure_boot_signed_uki_with_sysexts_boots_tampered_is_refused(kernel, workdir):
    """Under Secure Boot the signed UKI starts its (differently signed) inner kernel, takes and
    measures its sysexts; the same UKI with one byte changed after signing is refused by the
    firmware, so Secure Boot was really enforced."""
    from test_sysext import expected_events, parse_pcr13_events

    initrd, marker = make_initrd(workdir, kernel)
    cmdline = "console=ttyS0 panic=-1 secure.boot=1"
    # A .pcrsig with no signature files beside it reaches the initrd byte for byte, as with
    # systemd-stub (pretty-printed here: a merge would have written it compactly).
    pcrsig = workdir / "pcrsig.json"
    entry = '{ "pcrs" : [ 11 ], "pkfp" : "%s", "pol" : "%s", "sig" : "c2ln" }' % ("ab" * 32, "cd" * 32)
    pcrsig.write_bytes(('{\n  "sha256" : [ ' + entry + ' ]\n}\n').encode())
    uki = sysext_stub_build(workdir, kernel, initrd, cmdline, extra_args=("--pcrsig", str(pcrsig)))
    signed = sign_with_snakeoil(workdir, uki)
    sysexts = {"k3s.sysext.raw": os.urandom(100_000), "tools.sysext.raw": os.urandom(3000)}

    # (OVMF's shell is refused under Secure Boot, so this boots by the removable-media path;
    # .cmdline winning over arguments passed in is tested in test_hostile.py.)
    files = {"EFI/BOOT/BOOTX64.EFI": str(signed)}
    files.update({f"EFI/BOOT/BOOTX64.EFI.extra.d/{n}": d for n, d in sysexts.items()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "signed", tpm=True, secure_boot=True)
    assert_booted_with(result, cmdline, marker)
    facts = result.facts
    assert facts.secure_boot is True, "the guest must see SecureBoot=1"
    got = facts.extra_by_path()
    for name, data in sysexts.items():
        assert got[f"/.extra/sysext/{name}"].sha256 == harness.sha256_hex(data), name
    events = expected_events(sysexts, {})
    assert parse_pcr13_events(facts.eventlog) == [(p, hashlib.sha256(d).digest()) for p, d in events]
    sig = got.get("/.extra/tpm2-pcr-signature.json")
    want = pcrsig.read_bytes()
    assert sig is not None and (sig.mode, sig.size, sig.sha256) == (0o100444, len(want), harness.sha256_hex(want)), sig
    assert "/.extra/tpm2-pcr-public-key.pem" not in got, "no .pcrpkey, no key file"

    # One byte of .cmdline changed after signing: the Authenticode hash no longer matches.
    data = bytearray(signed.read_bytes())
    at = data.index(cmdline.encode())
    data[at + cmdline.index("secure.boot=1") + len("secure.boot=")] ^= 0x01
    tampered = workdir / "tampered.efi"
    tampered.write_bytes(bytes(data))
    (workdir / "tampered").mkdir()
    refused = boot_uki(workdir / "tampered", tampered, secure_boot=True, timeout=120)
    assert refused.reason != "poweroff", tail(refused)
    assert "sysext-stub" not in refused.log, "firmware must not run a tampered UKI"


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
