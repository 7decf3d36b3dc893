"""Hostile input at boot (issue 6): the stub logs one clear line, boots on
where it can, and hands over nothing unmeasured.

Two boots:

1. A sha384-only TPM and an ESP built to hurt: a per-UKI .extra.d holding
   only names the firmware's FAT driver would open as another file or not
   at all (an escape sequence, a leading blank, a backslash that reaches
   into a subdirectory, a tab), written straight into the FAT directory;
   a global directory with 200 extensions (the first 128 by name count),
   the first of them listed larger than the whole 3 GiB total (its FAT entry
   says so; no data behind it), one bigger than the guest's memory, names
   of 255, 239, 238 and 200 characters (the firmware opens up to 238
   there), a non-ASCII name and a directory named *.sysext.raw. PCR 13 (sha384, the only bank) is
   computed here with hashlib and compared with `sysext-stub predict
   --bank sha384` run over the same directory contents, and so are PCRs 9,
   11 and 12.
2. Malformed UKIs run one after another from the UEFI shell, then a good
   one. Those OVMF still loads (no .linux, overlapping sections, a .linux
   that is not a PE) reach the stub, which refuses each with one error line
   and returns. Those OVMF's loader refuses itself (a truncated file, an
   absurd section count, a section past SizeOfImage) never reach the stub:
   the shell prints "Script Error Status: ...". A failed image load aborts
   the script it is in, so each case runs from its own nested script
   (EFI\\NAME.nsh), and startup.nsh goes on after it. The CLI's refusal of
   the same files is tested in tests/cli/test_hostile.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
from pathlib import Path

import harness
from test_boot import CLI, make_initrd, sysext_stub_build, tail
from test_sysext import build_uki

EXT_MAX_FILES = 128
HUGE_NAME = "0-huge.sysext.raw"
#: First by name, listed over the 3 GiB total: it takes a place among the 128, then the total drops it.
BIG_NAME = "0-big.sysext.raw"
BIG_SIZE = (3 << 30) + (1 << 20)
#: Per-UKI names EDK2's FAT driver would not open as themselves: (placeholder mtools writes, real name).
FAT_BAD_NAMES = [("Xesc[2J.sysext.raw", "\x1b" + "esc[2J.sysext.raw"), ("Xlead.sysext.raw", " lead.sysext.raw"),
                 ("subXx.sysext.raw", "sub\\x.sysext.raw"), ("tabX.sysext.raw", "tab\t.sysext.raw")]


def pcr_sha384(events: list[bytes]) -> bytes:
    pcr = bytes(48)
    for data in events:
        pcr = hashlib.sha384(pcr + hashlib.sha384(data).digest()).digest()
    return pcr


def test_hostile_esp_on_a_sha384_only_tpm(kernel, workdir):
    uki, marker = build_uki(workdir, kernel)
    global_ = {f"s{i:03d}.sysext.raw": os.urandom(1 + i * 7) for i in range(200)}
    # The longest name FAT allows is 255 characters. OVMF's FAT driver lists it but refuses to open
    # it below \loader\extensions (EFI_INVALID_PARAMETER): "X:" + "\loader\extensions\<name>" + NUL
    # must fit in 260 characters (EDK2 FatLocateOFile), so 238 open and 239 do not. The stub skips
    # what would not open while listing, before any limit or archive counts it; predict does the same.
    too_long = {"L" * (255 - len(".sysext.raw")) + ".sysext.raw": b"the longest name FAT allows\n",
                "O" * (239 - len(".sysext.raw")) + ".sysext.raw": b"one character too long\n"}
    name238 = "N" * (238 - len(".sysext.raw")) + ".sysext.raw"
    name200 = "M" * (200 - len(".sysext.raw")) + ".sysext.raw"
    global_.update(too_long)
    global_[name238] = b"the longest name that opens here\n"
    global_[name200] = b"a long name\n"
    huge = workdir / HUGE_NAME
    with open(huge, "wb") as f:  # sparse on the host; the ESP builder copies it
        f.truncate(600 << 20)
    extra_d = "EFI/BOOT/BOOTX64.EFI.extra.d"
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki), f"loader/extensions/{HUGE_NAME}": str(huge),
             f"loader/extensions/{BIG_NAME}": b"listed as 3 GiB + 1 MiB\n",
             "loader/extensions/\u00e9t\u00e9.sysext.raw": b"non-ASCII name\n",
             # what "sub\x.sysext.raw" would open if the stub took it
             f"{extra_d}/sub/x.sysext.raw": b"a file in a subdirectory\n"}
    files.update({f"loader/extensions/{n}": d for n, d in global_.items()})
    files.update({f"{extra_d}/{placeholder}": f"bad name {i}\n".encode()
                  for i, (placeholder, _) in enumerate(FAT_BAD_NAMES)})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files, dirs=[extra_d, "loader/extensions/dir.sysext.raw"])
    harness.fat_patch_entry(esp, f"loader/extensions/{BIG_NAME}", new_size=BIG_SIZE)
    for placeholder, name in FAT_BAD_NAMES:
        harness.fat_patch_entry(esp, f"{extra_d}/{placeholder}", new_name=name)
    huge.unlink()
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, tpm_banks="sha384", memory_mib=512, timeout=300)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    log = result.log

    # The limits: the first 128 names in strcmp order ("0-big" < "0-huge" < "M..." < "N..." < "s000"...)
    # of those that open; then the total, in that order, drops 0-big (over 3 GiB on its own); the huge
    # one is given up because it does not fit in memory. So 126 are kept, s124 to s199 are not.
    ranked = sorted([BIG_NAME, HUGE_NAME, *(n for n in global_ if n not in too_long)], key=lambda n: n.encode())
    ranked = ranked[:EXT_MAX_FILES]
    kept = [n for n in ranked if n not in (HUGE_NAME, BIG_NAME)]
    assert name200 in kept and name238 in kept and len(kept) == 126 and "s124.sysext.raw" not in kept
    assert f"\\loader\\extensions\\{BIG_NAME}: skipped, extensions would exceed 3 GiB in total" in log, tail(result)
    # The per-UKI names the FAT driver would not open as themselves: each skipped while listing with
    # its name escaped, none read (nothing reaches /.extra/sysext), no escape sequence in our lines.
    for _, name in FAT_BAD_NAMES:
        shown = "".join(c if 0x20 <= ord(c) < 0x7f and c != "\\" else f"\\x{ord(c):02x}" for c in name)
        assert f"\\{extra_d.replace('/', chr(92))}\\{shown}: skipped, a name the firmware's FAT driver would not" \
            f" open as itself" in log, (shown, tail(result))
    for line in log.splitlines():
        if "sysext-stub:" in line:
            assert "\x1b" not in line.split("sysext-stub:", 1)[1], repr(line)
    for name in too_long:
        assert f"\\loader\\extensions\\{name}: skipped, path too long for the firmware to open" in log, tail(result)
    assert "cannot read it" not in log, "the stub must never plan a file the firmware will not open"
    got = sorted(p for p in facts.extra_by_path() if p.startswith("/.extra/global_sysext/"))
    assert got == sorted(f"/.extra/global_sysext/{n}" for n in kept), got[:5]
    assert f"\\loader\\extensions\\{HUGE_NAME}: skipped, not enough memory" in log, tail(result)
    assert "skipped, more than 128 extensions" in log
    assert "\\loader\\extensions\\dir.sysext.raw: skipped, is a directory" in log
    assert "sysext.raw: skipped, name is not ASCII" in log
    assert "/.extra/sysext" not in facts.extra_by_path(), "the empty .extra.d must add nothing"

    # Only sha384 is active; PCR 13 holds exactly the kept files' events.
    assert set(facts.pcrs) == {"sha384"}, sorted(facts.pcrs)
    events = []
    for name in kept:
        path = f".extra/global_sysext/{name}"
        events += [path.encode() + b"\0", global_[name]]
    assert facts.pcrs["sha384"][13] == pcr_sha384(events)
    assert len(parse_pcr13_events_any(facts.eventlog)) == 2 * len(kept)
    assert_sha384_pcrs_9_11_12(facts, uki, {n: global_[n] for n in kept}, workdir / "kept")

    # predict over the same directory contents: it skips what the stub skips (warning about the names
    # the firmware would not open) and keeps the rest. The one difference is documented: predict
    # assumes memory suffices, so it keeps the huge file the guest had no room for.
    host = workdir / "global"
    host.mkdir()
    for path, data in files.items():
        if path.startswith("loader/extensions/") and path not in (f"loader/extensions/{HUGE_NAME}",
                                                                  f"loader/extensions/{BIG_NAME}"):
            (host / path.split("/", 2)[2]).write_bytes(data)
    for name, size in ((HUGE_NAME, 600 << 20), (BIG_NAME, BIG_SIZE)):
        with open(host / name, "wb") as f:  # sparse: predict never reads what the limits drop
            f.truncate(size)
    (host / "dir.sysext.raw").mkdir()
    host_extra = workdir / "extra.d"
    (host_extra / "sub").mkdir(parents=True)
    (host_extra / "sub" / "x.sysext.raw").write_bytes(files[f"{extra_d}/sub/x.sysext.raw"])
    for i, (_, name) in enumerate(FAT_BAD_NAMES):  # Linux names may hold all of them
        (host_extra / name).write_bytes(f"bad name {i}\n".encode())
    out = subprocess.run([str(CLI), "predict", "--json", "--global-dir", str(host), "--extra-dir", str(host_extra),
                          "--esp-path", "\\EFI\\BOOT\\BOOTX64.EFI", "--bank", "sha384", "--pcr", "13"],
                         check=True, capture_output=True, text=True)
    for name in too_long:
        assert f"{host / name}: skipped by the stub: path too long" in out.stderr, out.stderr
    assert f"{host / BIG_NAME}: skipped by the stub: extensions would exceed 3 GiB in total" in out.stderr
    assert out.stderr.count("skipped by the stub: a name the firmware's FAT driver would not open") == 4, out.stderr
    assert "\x1b" not in out.stderr
    predicted = [e for e in json.loads(out.stdout)["sha384"] if e["pcr"] == 13][0]["events"]
    huge_path = f".extra/global_sysext/{HUGE_NAME}"
    assert [e["description"] for e in predicted[::2]] == [huge_path] + [f".extra/global_sysext/{n}" for n in kept]
    pcr = bytes(48)
    for e in predicted:
        if e["description"] != huge_path:
            pcr = hashlib.sha384(pcr + bytes.fromhex(e["digest"])).digest()
    assert pcr == facts.pcrs["sha384"][13]


def assert_sha384_pcrs_9_11_12(facts, uki: Path, kept: dict[str, bytes], host: Path) -> None:
    """PCRs 9 (the kernel's command line and the whole initrd), 11 (the UKI's sections) and 12
    (nothing passed in) of the sha384-only boot equal `predict --bank sha384` over the UKI and
    the global files the stub took."""
    host.mkdir()
    for name, data in kept.items():
        (host / name).write_bytes(data)
    out = subprocess.run([str(CLI), "predict", "--json", "--uki", str(uki), "--global-dir", str(host),
                          "--bank", "sha384", "--phase=", "--pcr", "9", "--pcr", "11", "--pcr", "12"],
                         check=True, capture_output=True, text=True)
    prediction = json.loads(out.stdout)
    assert sorted(prediction) == ["sha384"], sorted(prediction)
    for pcr in (9, 11, 12):
        (entry,) = [e for e in prediction["sha384"] if e["pcr"] == pcr]
        assert bytes.fromhex(entry["hash"]) == facts.pcrs["sha384"][pcr], \
            f"PCR {pcr} sha384: guest {facts.pcrs['sha384'][pcr].hex()} predicted {entry['hash']}"


def parse_pcr13_events_any(log: bytes) -> list:
    """The types of the PCR 13 events of a crypto-agile log, whatever its banks."""
    return [e.type for e in harness.parse_tcg_log(log) if e.pcr == 13]


# ---------------------------------------------------------------- malformed UKIs

def section_table(data: bytes) -> tuple[int, int, int]:
    """(offset of the COFF header, number of sections, offset of the section table)."""
    pe, = struct.unpack_from("<I", data, 0x3C)
    n, = struct.unpack_from("<H", data, pe + 6)
    opt_size, = struct.unpack_from("<H", data, pe + 20)
    return pe, n, pe + 24 + opt_size


def find_section(data: bytes, name: bytes) -> int:
    _, n, table = section_table(data)
    for i in range(n):
        off = table + 40 * i
        if data[off:off + 8].rstrip(b"\0") == name:
            return off
    raise AssertionError(f"no section {name!r}")


#: What OVMF's shell prints when the firmware's loader refuses an image run from a nested script.
OVMF_REFUSAL = {"truncated": "Script Error Status: Unsupported (line number 1)",
                "section-count": "Script Error Status: Unsupported (line number 1)",
                "outside-image": "Script Error Status: Load Error (line number 1)"}


def malformed_variants(good: bytes) -> dict[str, bytes]:
    """Cases the stub sees first (no-linux, overlap, garbage-linux), then those OVMF refuses."""
    out = {}
    b = bytearray(good)
    off = find_section(b, b".linux")
    b[off:off + 8] = b".linuz\0\0"
    out["no-linux"] = bytes(b)

    b = bytearray(good)
    cmd, osrel = find_section(b, b".cmdline"), find_section(b, b".osrel")
    b[cmd + 12:cmd + 16] = b[osrel + 12:osrel + 16]  # .cmdline's VirtualAddress = .osrel's
    out["overlap"] = bytes(b)

    # .linux is not a PE (its first page is text): the stub's own loader refuses it (measure/pe-load).
    b = bytearray(good)
    raw, = struct.unpack_from("<I", b, find_section(b, b".linux") + 20)
    b[raw:raw + 4096] = (b"not a kernel\n" * 316).ljust(4096, b"\n")
    out["garbage-linux"] = bytes(b)

    out["truncated"] = good[:len(good) // 2]

    b = bytearray(good)
    pe, _, _ = section_table(b)
    struct.pack_into("<H", b, pe + 6, 0xFFFF)  # NumberOfSections
    out["section-count"] = bytes(b)

    b = bytearray(good)
    size_of_image, = struct.unpack_from("<I", b, pe + 24 + 56)
    struct.pack_into("<I", b, find_section(b, b".osrel") + 12, size_of_image + 0x10000)  # VirtualAddress
    out["outside-image"] = bytes(b)
    return out


def test_malformed_ukis_are_refused_and_the_firmware_goes_on(kernel, workdir):
    initrd, _ = make_initrd(workdir, kernel)
    good = sysext_stub_build(workdir, kernel, initrd, "console=ttyS0 panic=-1")
    variants = malformed_variants(good.read_bytes())
    script = ["@echo -off"]
    files = {"EFI/ok.efi": str(good)}
    for name, data in variants.items():
        files[f"EFI/{name}.efi"] = data
        files[f"EFI/{name}.nsh"] = f"fs0:\\EFI\\{name}.efi\r\n".encode()
        script += [f"echo ==case {name}", f"fs0:\\EFI\\{name}.nsh"]
    # Arguments passed to a UKI with .cmdline are ignored (as systemd-stub does under Secure Boot).
    script += ["echo ==case good", "fs0:\\EFI\\ok.efi init=/bin/sh injected=1"]
    files["startup.nsh"] = ("\r\n".join(script) + "\r\n").encode()
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, stop_at_shell=False, timeout=300)
    assert result.reason == "poweroff" and result.facts.complete, tail(result, 80)

    log = harness.strip_ansi(result.log)
    parts = re.split(r"==case (\S+)", log)
    cases = dict(zip(parts[1::2], parts[2::2]))
    # Every case ran, in order, and the script went on after each.
    assert list(cases) == [*variants, "good"], list(cases)
    for name in variants:
        text = cases[name]
        stub_lines = [line for line in text.splitlines() if "sysext-stub:" in line]
        if name in OVMF_REFUSAL:
            # Refused by OVMF's loader: the stub never ran.
            assert OVMF_REFUSAL[name] in text and not stub_lines, (name, text[-2000:])
            continue
        assert "Script Error Status" not in text, f"{name}: OVMF must load it and start the stub\n{text[-2000:]}"
        errors = [line for line in stub_lines if "sysext-stub: error:" in line]
        assert len(errors) == 1, (name, stub_lines)
        if name != "garbage-linux":
            assert stub_lines == errors, (name, stub_lines)
            assert "starting kernel" not in text, f"{name}: the kernel must not start\n{text[-2000:]}"
    assert "sysext-stub: error: this UKI has no .linux section" in cases["no-linux"]
    assert "sysext-stub: error: our own PE headers are malformed (overlapping regions)" in cases["overlap"]
    linux_size = len(kernel.vmlinuz.read_bytes())
    assert (f"sysext-stub: error: cannot load the embedded kernel (.linux, {linux_size} bytes): "
            "not a PE image we can run (bad magic/signature): Load Error"
            in cases["garbage-linux"]), cases["garbage-linux"][-2000:]
    # The good UKI registers its own initrd device: the garbage-linux stub removed its one on the way out.
    assert "starting kernel" in cases["good"]
    assert "Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path" in cases["good"]
    assert result.facts.cmdline == "console=ttyS0 panic=-1", result.facts.cmdline
    assert "StubPcrKernelParameters" not in result.facts.efivars, "nothing passed in may reach PCR 12"
