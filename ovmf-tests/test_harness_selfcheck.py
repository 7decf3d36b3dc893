"""Self-check of the boot harness, without our stub.

Boots UKIs built around Debian's systemd-stub 252 (the reference peer) and
checks that every kind of fact the harness collects comes back right. If
these fail, the harness (or the machine) is broken, not sysext-stub.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness

MARKER_PATH = "/etc/sysext-stub-marker"
SELFCHECK_CMDLINE = harness.DEFAULT_CMDLINE + " sysext-stub.selfcheck=1"
SYSEXT_ESP_PATH = "EFI/BOOT/BOOTX64.EFI.extra.d/a.raw"
SYSEXT_INITRD_PATH = "/.extra/sysext/a.raw"
SYSTEMD_MEASURE = Path("/usr/lib/systemd/systemd-measure")


def pseudo_random(label: str, size: int) -> bytes:
    """Deterministic filler bytes for test files."""
    return hashlib.shake_256(label.encode()).digest(size)


def fail_msg(what: str, result: harness.BootResult) -> str:
    """An assertion message with the boot's diagnosis and log tail."""
    return f"{what}\n{result.describe()}"


@dataclass
class SelfcheckImage:
    """The artifacts of the systemd-stub self-check boot."""
    esp: Path
    uki: Path
    initrd: Path
    osrel: Path
    cmdline: Path
    marker: bytes
    sysext: bytes


@pytest.fixture(scope="module")
def selfcheck_image(kernel, tmp_path_factory) -> SelfcheckImage:
    """One ESP with a systemd-stub UKI (marker file in its initrd) and one sysext, shared by the boots."""
    d = tmp_path_factory.mktemp("selfcheck")
    marker = f"sysext-stub harness self-check, kernel {kernel.version}\n".encode()
    uki = d / "BOOTX64.EFI"
    initrd = harness.build_test_uki(uki, kernel, cmdline=SELFCHECK_CMDLINE,
                                    initrd_files={MARKER_PATH: marker}, check_paths=[MARKER_PATH])
    # The exact section contents, for computing the expected PCR 11 with systemd-measure.
    osrel, cmdline = d / "osrel", d / "cmdline"
    for section, path in ((".osrel", osrel), (".cmdline", cmdline)):
        harness.run(["objcopy", "-O", "binary", f"--only-section={section}", uki, path],
                    what=f"extracting {section} from {uki}")
    sysext = pseudo_random("sysext a.raw", 256 * 1024)
    esp = d / "esp.img"
    harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI": str(uki), SYSEXT_ESP_PATH: sysext})
    yield SelfcheckImage(esp=esp, uki=uki, initrd=initrd, osrel=osrel, cmdline=cmdline,
                         marker=marker, sysext=sysext)
    if not harness.keep_requested():
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def tpm_boot(selfcheck_image) -> harness.BootResult:
    """One boot of the self-check ESP with swtpm, shared by the tests that inspect it."""
    return harness.boot(selfcheck_image.esp, tpm=True, workdir=selfcheck_image.esp.parent / "tpm-boot")


def expected_pcr11(kernel, image: SelfcheckImage, bank: str) -> bytes:
    """PCR 11 as systemd-measure 252 predicts it for the UKI's sections (no boot phases)."""
    out = harness.run([SYSTEMD_MEASURE, "calculate", f"--linux={kernel.vmlinuz}", f"--osrel={image.osrel}",
                       f"--cmdline={image.cmdline}", f"--initrd={image.initrd}", f"--bank={bank}",
                       "--phase=", "--json=short"], what="systemd-measure calculate")
    entries = json.loads(out)[bank]
    (entry,) = [e for e in entries if e["pcr"] == 11]
    return bytes.fromhex(entry["hash"])


# --------------------------------------------------------------------------
# Boots
# --------------------------------------------------------------------------

def test_systemd_stub_boot_reports_all_facts(kernel, selfcheck_image, tpm_boot):
    """Boot the systemd-stub UKI with swtpm: every fact kind must come back and match."""
    result = tpm_boot
    facts = harness.assert_booted(result)

    assert facts.kernel == kernel.version, fail_msg("unexpected kernel release", result)
    assert facts.cmdline == SELFCHECK_CMDLINE, fail_msg(f"/proc/cmdline is {facts.cmdline!r}", result)

    marker = selfcheck_image.marker
    assert facts.files.get(MARKER_PATH) == (len(marker), hashlib.sha256(marker).hexdigest()), \
        fail_msg(f"marker file fact: {facts.files.get(MARKER_PATH, 'not reported')}", result)

    extra = facts.extra_by_path()
    assert facts.extra_present, fail_msg("/.extra missing", result)
    for directory in ("/.extra", "/.extra/sysext"):
        assert directory in extra and extra[directory].mode & 0o170000 == 0o040000, \
            fail_msg(f"{directory} not reported as a directory: {facts.extra}", result)
    sysext = selfcheck_image.sysext
    assert extra.get(SYSEXT_INITRD_PATH) == (0o100444, len(sysext), hashlib.sha256(sysext).hexdigest(),
                                              SYSEXT_INITRD_PATH), \
        fail_msg(f"sysext entry: {extra.get(SYSEXT_INITRD_PATH)}; all: {facts.extra}", result)

    assert facts.efivarfs, fail_msg("efivarfs was not mounted", result)
    part_uuid = facts.efivar_str("LoaderDevicePartUUID")
    assert part_uuid is not None and part_uuid.lower() == str(harness.ESP_PARTITION_GUID), \
        fail_msg(f"LoaderDevicePartUUID={part_uuid!r}, efivars {sorted(facts.efivars)}", result)
    assert (facts.efivar_str("StubInfo") or "").startswith("systemd-stub"), \
        fail_msg(f"StubInfo={facts.efivar_str('StubInfo')!r}", result)
    assert facts.secure_boot is False, fail_msg(f"SecureBoot={facts.secure_boot}", result)


def test_systemd_stub_boot_measurements(kernel, selfcheck_image, tpm_boot):
    """Same boot: all PCR banks, PCR 11 as systemd-measure predicts, a TCG2 event log."""
    result = tpm_boot
    facts = harness.assert_booted(result)

    assert facts.tpm_present, fail_msg("no TPM seen by the guest", result)
    for bank, size in (("sha1", 20), ("sha256", 32), ("sha384", 48)):
        pcrs = facts.pcrs.get(bank, {})
        assert sorted(pcrs) == list(range(24)) and all(len(v) == size for v in pcrs.values()), \
            fail_msg(f"{bank} PCRs incomplete: {sorted(pcrs)}", result)
        assert pcrs[11] != bytes(size), fail_msg(f"{bank} PCR 11 is zero", result)
        want = expected_pcr11(kernel, selfcheck_image, bank)
        assert pcrs[11] == want, fail_msg(f"{bank} PCR 11 {pcrs[11].hex()} != systemd-measure's {want.hex()}",
                                          result)

    log = facts.eventlog
    # TCG PC Client spec: the first event is a SHA1-format header whose data starts with the Spec ID signature.
    assert len(log) > 32 and log[32:48] == b"Spec ID Event03\0", \
        fail_msg(f"event log ({len(log)} bytes) does not start with a TCG2 Spec ID event: {log[:64].hex()}",
                 result)


def test_boot_without_tpm_still_powers_off(selfcheck_image, workdir):
    """Without a TPM device the guest reports none and still powers off."""
    result = harness.boot(selfcheck_image.esp, tpm=False, workdir=workdir)
    facts = harness.assert_booted(result)
    assert not facts.tpm_present and not facts.pcrs and not facts.eventlog, \
        fail_msg(f"TPM facts without a TPM: present={facts.tpm_present} banks={sorted(facts.pcrs)}", result)


def test_empty_esp_is_detected_as_shell(workdir):
    """No bootable UKI: OVMF falls back to its shell and the harness stops early."""
    esp = workdir / "empty.img"
    harness.build_esp(esp, {}, dirs=["EFI/BOOT"])
    result = harness.boot(esp, tpm=False, timeout=120, workdir=workdir)
    assert result.reason == "shell" and not result.facts.begun, fail_msg("expected the OVMF shell", result)
    assert result.duration < 60, fail_msg("shell detection took too long", result)


def test_secure_boot_refuses_unsigned_uki(selfcheck_image, workdir):
    """With Secure Boot (snakeoil keys) the unsigned UKI must not run: proves enforcement is on."""
    result = harness.boot(selfcheck_image.esp, tpm=True, secure_boot=True, timeout=120, workdir=workdir)
    assert result.reason == "shell" and not result.facts.begun, \
        fail_msg("unsigned UKI was not refused under Secure Boot", result)
    assert "Access Denied" in harness.strip_ansi(result.log), fail_msg("no 'Access Denied' from OVMF", result)


# --------------------------------------------------------------------------
# Builders and parser (no boot)
# --------------------------------------------------------------------------

def test_parse_facts_tolerates_noise():
    """CRLF, firmware/kernel lines between facts, chunked event log, missing files."""
    cmdline = b"console=ttyS0 quiet\n"
    eventlog = pseudo_random("eventlog", 5000)
    digest = hashlib.sha256(b"x").hexdigest()
    lines = ["BdsDxe: noise", harness.FACTS_BEGIN, "kernel 6.1.0-test", f"cmdline {cmdline.hex()}",
             "[    3.1] random kernel line", "extra 40555 0 - /.extra",
             f"extra 100444 1 {digest} /.extra/sysext/with space.raw",
             f"file 1 {digest} /etc/x", "file-missing /etc/y", "tpm-present", "pcr sha256 0 " + "AB" * 32,
             *(f"eventlog {eventlog[i:i + 2000].hex()}" for i in range(0, len(eventlog), 2000)),
             "efivarfs-mounted", "efivar StubInfo " + "s\0d\0\0\0".encode().hex(), "secureboot 01",
             "done", harness.FACTS_END, "[    4.0] reboot: Power down"]
    facts = harness.parse_facts("\r\n".join(lines))
    assert facts.complete and not facts.errors
    assert facts.cmdline == "console=ttyS0 quiet" and facts.cmdline_raw == cmdline
    assert facts.extra == [(0o40555, 0, None, "/.extra"), (0o100444, 1, digest, "/.extra/sysext/with space.raw")]
    assert facts.files == {"/etc/x": (1, digest), "/etc/y": None}
    assert facts.pcrs == {"sha256": {0: bytes([0xAB] * 32)}} and facts.tpm_present
    assert facts.eventlog == eventlog
    assert facts.efivar_str("StubInfo") == "sd" and facts.secure_boot is True


def test_parse_facts_text_lines_keep_their_spacing():
    """text NAME LINE facts: per name, in order, inner and leading spacing of LINE kept."""
    lines = [harness.FACTS_BEGIN, "text status HIERARCHY EXTENSIONS", "[    5.0] kernel noise",
             "text other x", "text status /usr      base", "text status           tools  ", "text empty ",
             "done", harness.FACTS_END]
    facts = harness.parse_facts("\r\n".join(lines))
    assert facts.complete and not facts.errors
    assert facts.text("status") == "HIERARCHY EXTENSIONS\n/usr      base\n          tools"
    assert facts.texts["other"] == ["x"] and facts.text("empty") == "" and facts.text("missing") == ""


def test_parse_facts_incomplete_and_absent():
    """A log cut short is not complete; absent markers are reported as absent."""
    facts = harness.parse_facts(f"{harness.FACTS_BEGIN}\nextra-absent\ntpm-absent\n")
    assert facts.begun and not facts.complete and not facts.extra_present and not facts.tpm_present
    assert not harness.parse_facts("no markers at all").begun


def test_initrd_is_reproducible_newc(kernel, workdir):
    """Two builds are byte-identical, and GNU cpio reads back the expected members."""
    files = {MARKER_PATH: b"m\n"}
    a, b = workdir / "a.cpio", workdir / "b.cpio"
    harness.build_initrd(a, kernel, files, [MARKER_PATH])
    harness.build_initrd(b, kernel, files, [MARKER_PATH])
    assert a.read_bytes() == b.read_bytes(), "initrd builds differ"
    listing = subprocess.run(["cpio", "-it", "--quiet"], stdin=open(a, "rb"), capture_output=True, check=True)
    names = listing.stdout.decode().split()
    for name in ("init", "bin/busybox", "bin/sh", MARKER_PATH.lstrip("/"), harness.CHECK_LIST_PATH.lstrip("/"),
                 f"lib/modules/{kernel.version}/efivarfs.ko"):
        assert name in names, f"{name} missing from the initrd; members: {names}"


def _read_gpt_header(image: Path) -> dict:
    """Parse and CRC-check the primary GPT header and entry 0 of a disk image."""
    with open(image, "rb") as f:
        f.seek(512)
        header = f.read(92)
        f.seek(1024)
        entries = f.read(128 * 128)
    fields = struct.unpack("<8sIIIIQQQQ16sQIII", header)
    assert fields[0] == b"EFI PART", f"{image}: no GPT signature"
    zeroed = header[:16] + b"\0\0\0\0" + header[20:]
    header_ok = zlib.crc32(zeroed) == fields[3]
    entries_ok = zlib.crc32(entries) == fields[13]
    assert header_ok and entries_ok, f"{image}: GPT CRC mismatch (header ok={header_ok}, entries ok={entries_ok})"
    type_guid, part_guid, first, last = struct.unpack_from("<16s16sQQ", entries)
    return {"backup_lba": fields[6], "type": type_guid, "guid": part_guid, "first": first, "last": last}


def test_esp_grows_with_content(workdir):
    """More than 64 MiB of content fits; GPT is valid; the files read back intact."""
    big = workdir / "big.raw"
    with open(big, "wb") as f:  # sparse 80 MiB file with a recognizable tail
        f.truncate(80 * 1024 * 1024 - 4096)
        f.write(pseudo_random("tail", 4096))
    small = b"small file\n"
    esp = workdir / "esp.img"
    harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI.extra.d/big.raw": str(big), "loader/x/small.txt": small})
    gpt = _read_gpt_header(esp)
    assert gpt["type"] == harness.ESP_TYPE_GUID.bytes_le and gpt["guid"] == harness.ESP_PARTITION_GUID.bytes_le
    assert gpt["backup_lba"] == esp.stat().st_size // 512 - 1
    assert (gpt["last"] - gpt["first"] + 1) * 512 > big.stat().st_size
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    image = f"{esp}@@{gpt['first'] * 512}"
    for esp_path, want in (("EFI/BOOT/BOOTX64.EFI.extra.d/big.raw", hashlib.sha256(big.read_bytes()).digest()),
                           ("loader/x/small.txt", hashlib.sha256(small).digest())):
        out = subprocess.run(["mtype", "-i", image, "::/" + esp_path], env=env, capture_output=True)
        assert out.returncode == 0, f"mtype {esp_path} from {esp}: {out.stderr.decode()}"
        assert hashlib.sha256(out.stdout).digest() == want, f"{esp_path} in {esp} differs from its source"
