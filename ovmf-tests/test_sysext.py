"""System extensions on the ESP: pickup, initrd handover, PCR 13 (issue 3).

PCR 13 is recomputed here from the files with hashlib: for every picked
file, per-UKI set then global set, each in strcmp order of the names,
extend(sha256(path-in-initrd + NUL)) then extend(sha256(content)).
"""
from __future__ import annotations

import hashlib
import os
import struct
import subprocess
from pathlib import Path

import harness
from test_boot import CLI, FAULT_STUB, ROOT, STUB, log_events, make_initrd, tail

EV_IPL = 0x0000000D
EV_EVENT_TAG = 0x00000006
ADDON_INITRD_TAG = 0x49dffe0f  # systemd's tpm2-pcr.h, docs/MEASUREMENTS.md "PCR 12: addons"
# StubFeatures we claim: REPORT_BOOT_PARTITION, PICK_UP_CREDENTIALS, PICK_UP_SYSEXTS, THREE_PCRS,
# CMDLINE_ADDONS, CMDLINE_SMBIOS, DEVICETREE_ADDONS, PICK_UP_CONFEXTS, MULTI_PROFILE_UKI, REPORT_STUB_PARTITION,
# SMBIOS_MEASURED (bits 6, 9, 12: issue 15, checked again in test_uki_format.py).
STUB_FEATURES = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 12


def pcr_sha256(events: list[bytes]) -> bytes:
    pcr = bytes(32)
    for data in events:
        pcr = hashlib.sha256(pcr + hashlib.sha256(data).digest()).digest()
    return pcr


def expected_events(per_uki: dict[str, bytes], global_: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """(description path, data) for every PCR 13 event, in measurement order."""
    out = []
    for prefix, files in ((".extra/sysext", per_uki), (".extra/global_sysext", global_)):
        for name in sorted(files, key=lambda n: n.encode()):
            path = f"{prefix}/{name}"
            out.append((path, path.encode() + b"\0"))
            out.append((path, files[name]))
    return out


def parse_pcr13_events(log: bytes) -> list[tuple[str, bytes]]:
    """(description, sha256 digest) of each PCR 13 EV_IPL event in a crypto-agile TCG log."""
    return [(e.data.decode("utf-16-le").rstrip("\0"), e.digests[harness.TPM2_ALG_SHA256])
            for e in harness.parse_tcg_log(log) if e.pcr == 13 and e.type == EV_IPL]


def build_uki(workdir: Path, kernel, stub: Path = STUB) -> tuple[Path, bytes]:
    initrd, marker = make_initrd(workdir, kernel)
    uki = workdir / "uki.efi"
    subprocess.run([str(CLI), "build", "--stub", str(stub), "--linux", str(kernel.vmlinuz), "--initrd",
                    str(initrd), "--cmdline", "console=ttyS0 panic=-1", "--output", str(uki)], check=True)
    return uki, marker


def test_sysexts_are_picked_measured_and_handed_over(kernel, workdir):
    uki, marker = build_uki(workdir, kernel)
    big = os.urandom(64 << 20)
    per_uki = {
        "k3s.sysext.raw": os.urandom(300_000),
        "a10.sysext.raw": b"ten\n",
        "a9.sysext.raw": b"nine\n",
        "empty.sysext.raw": b"",
        "Big.SYSEXT.RAW": big,
    }
    global_ = {"shared.sysext.raw": os.urandom(5000), "Zero.Sysext.Raw": b"", "B.SYSEXT.RAW": b"global\n"}
    # (Credentials and confexts are taken too, into PCR 12: ovmf-tests/test_companions.py.)
    ignored = {"other.raw": b"raw but not sysext", "notes.txt": b"text", ".hidden.sysext.raw": b"dot file"}
    esp_dir = "EFI/BOOT/BOOTX64.EFI.extra.d"
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki)}
    for directory, picked in ((esp_dir, per_uki), ("loader/extensions", global_)):
        files.update({f"{directory}/{n}": d for n, d in {**picked, **ignored}.items()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files, dirs=[f"{esp_dir}/d.sysext.raw", "loader/extensions/d.sysext.raw"])

    result = harness.boot(esp, workdir=workdir / "boot", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert facts.files.get(harness_marker()) == (len(marker), harness.sha256_hex(marker)), "embedded initrd lost"

    # Exactly the expected files, modes, sizes and contents in the initrd.
    want = {"/.extra": (0o40555, None), "/.extra/sysext": (0o40555, None),
            "/.extra/global_sysext": (0o40555, None)}
    for prefix, group in (("/.extra/sysext", per_uki), ("/.extra/global_sysext", global_)):
        for name, data in group.items():
            want[f"{prefix}/{name}"] = (0o100444, data)
    got = facts.extra_by_path()
    assert sorted(got) == sorted(want), f"initrd /.extra listing: {sorted(got)}"
    for path, (mode, data) in want.items():
        assert got[path].mode == mode, f"{path}: mode {got[path].mode:o}"
        if data is not None:
            assert (got[path].size, got[path].sha256) == (len(data), hashlib.sha256(data).hexdigest()), path

    # PCR 13 equals the independent computation, and the log shows each event in order.
    events = expected_events(per_uki, global_)
    assert facts.pcrs["sha256"][13] == pcr_sha256([d for _, d in events]), "PCR 13 (sha256) mismatch"
    logged = parse_pcr13_events(facts.eventlog)
    assert logged == [(p, hashlib.sha256(d).digest()) for p, d in events], logged
    # The content event's digest is plain sha256sum of the file.
    assert (".extra/sysext/k3s.sysext.raw", hashlib.sha256(per_uki["k3s.sysext.raw"]).digest()) in logged
    # Lazy handover (stub/lazy-archive.h): the sysexts are read and measured when Linux's EFI stub
    # asks for the initrd, so every PCR 13 event follows our PCR 11 events in the log, and the
    # kernel's own PCR 9 initrd event (Linux >= 6.1 logs one), if any, follows them in turn.
    order = [(e.pcr, e.data) for e in harness.parse_tcg_log(facts.eventlog)]
    at13 = [i for i, (pcr, _) in enumerate(order) if pcr == 13]
    at11 = [i for i, (pcr, _) in enumerate(order) if pcr == 11]
    assert at13 and at11 and min(at13) > max(at11), order
    kernel_initrd = [i for i, (pcr, data) in enumerate(order) if pcr == 9 and b"initrd" in data]
    assert all(i > max(at13) for i in kernel_initrd), order
    assert "read and measured into PCR 13 when the kernel takes the initrd" in result.log, tail(result)
    for directory in ("\\EFI\\BOOT\\BOOTX64.EFI.extra.d", "\\loader\\extensions"):
        for skipped in ("other.raw", "notes.txt", ".hidden.sysext.raw", "d.sysext.raw"):
            assert f"{directory}\\{skipped}: skipped" in result.log, f"no skip message for {directory}\\{skipped}"

    # The EFI variables systemd's tools read (reference §2.5).
    assert facts.efivar_str("StubInfo") == f"sysext-stub {harness.project_version()}", facts.efivars.keys()
    assert facts.efivars.get("StubFeatures") == struct.pack("<Q", STUB_FEATURES), facts.efivars.get("StubFeatures")
    assert facts.efivar_str("StubPcrKernelImage") == "11"
    assert facts.efivar_str("StubPcrInitRDSysExts") == "13"
    assert "StubPcrKernelParameters" not in facts.efivars, "the command line came from .cmdline: not PCR 12"
    assert facts.efivar_str("StubImageIdentifier") == "\\EFI\\BOOT\\BOOTX64.EFI"
    assert facts.efivar_str("LoaderImageIdentifier") == "\\EFI\\BOOT\\BOOTX64.EFI"
    for name in ("LoaderDevicePartUUID", "StubDevicePartUUID"):
        assert facts.efivar_str(name) == str(harness.ESP_PARTITION_GUID).upper(), (name, facts.efivar_str(name))
    assert (facts.efivar_str("LoaderFirmwareType") or "").startswith("UEFI 2."), facts.efivar_str("LoaderFirmwareType")
    assert (facts.efivar_str("LoaderFirmwareInfo") or "").startswith("EDK II"), facts.efivar_str("LoaderFirmwareInfo")

    # Where the stub's time went (efi-lib/timing.h): every phase this boot ran, both directories apart.
    phases = dict(kv.split("=", 1) for kv in (facts.efivar_str("SysextStubPhaseUSec") or "").split())
    want_phases = {"tsc_khz", "self", "vars", "pcr11", "cmdline", "signatures", "register", "kernel_load",
                   "kernel_stub", "initrd_copy", "initrd_release"}
    want_phases |= {f"{d}_{k}" for d in ("sysext", "global_sysext") for k in ("list", "read", "measure")}
    assert set(phases) == want_phases and all(v.isdigit() for v in phases.values()), phases
    assert 100_000 < int(phases["tsc_khz"]) < 100_000_000, phases  # 0.1 to 100 GHz
    # Hashing 64 MiB takes time; Linux's EFI stub decompresses the kernel before it asks for the initrd.
    assert int(phases["sysext_measure"]) > 0 and int(phases["kernel_stub"]) > int(phases["kernel_load"]), phases


def harness_marker() -> str:
    from test_boot import MARKER
    return MARKER


def test_without_tpm_extensions_are_still_handed_over(kernel, workdir):
    """Also: the ESP's directory order differs from name order (z written first),
    and the files differ in size, so each must keep its own size and bytes."""
    uki, _ = build_uki(workdir, kernel)
    files = {"z.sysext.raw": os.urandom(10000), "a.sysext.raw": os.urandom(777)}
    esp = workdir / "esp.img"
    harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI": str(uki),
                            "EFI/BOOT/BOOTX64.EFI.extra.d/z.sysext.raw": files["z.sysext.raw"]})
    # Added after z, so FAT lists it second although it sorts first.
    late = workdir / "a.bin"
    late.write_bytes(files["a.sysext.raw"])
    subprocess.run(["mcopy", "-i", f"{esp}@@{harness.ESP_START_LBA * harness.SECTOR}", str(late),
                    "::/EFI/BOOT/BOOTX64.EFI.extra.d/a.sysext.raw"], check=True,
                   env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    result = harness.boot(esp, workdir=workdir / "boot", tpm=False)
    assert result.reason == "poweroff" and result.facts.complete, tail(result)
    assert not result.facts.tpm_present
    got = result.facts.extra_by_path()
    for name, data in files.items():
        entry = got.get(f"/.extra/sysext/{name}")
        assert entry and (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest()), \
            result.facts.extra
    assert "no TPM: nothing is measured, companion files are passed on unmeasured" in result.log, tail(result)
    # Nothing measured, so no PCR variable; the others are there.
    assert not [v for v in result.facts.efivars if v.startswith("StubPcr")], sorted(result.facts.efivars)
    assert result.facts.efivar_str("StubInfo") == f"sysext-stub {harness.project_version()}"


def test_boot_counting_suffix_at_a_non_default_path(kernel, workdir):
    """\\EFI\\kairos\\active+3-1.efi finds \\EFI\\kairos\\active.efi.extra.d\\."""
    uki, _ = build_uki(workdir, kernel)
    data = b"kairos extension\n"
    esp = workdir / "esp.img"
    # No EFI/BOOT/BOOTX64.EFI: OVMF falls back to its shell, whose startup.nsh
    # starts the UKI from its real path (so that is its LOADED_IMAGE FilePath).
    harness.build_esp(esp, {"EFI/kairos/active+3-1.efi": str(uki),
                            "EFI/kairos/active.efi.extra.d/k3s.sysext.raw": data,
                            "startup.nsh": b"fs0:\\EFI\\kairos\\active+3-1.efi\r\n"})
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, stop_at_shell=False, timeout=180)
    assert result.reason == "poweroff" and result.facts.complete, tail(result)
    assert "\\EFI\\kairos\\active.efi.extra.d: 1 *.sysext.raw file(s)" in result.log, tail(result)
    entry = result.facts.extra_by_path().get("/.extra/sysext/k3s.sysext.raw")
    assert entry and entry.sha256 == hashlib.sha256(data).hexdigest(), result.facts.extra


def test_failure_rules_with_injected_faults(kernel, workdir):
    """The failures OVMF cannot produce, injected by the fault build (efi-lib/fault.h)
    through markers. The sysexts are read and measured when the kernel takes the initrd, into
    a layout fixed before (stub/lazy-archive.h): a read error, a file that shrinks while read
    and a failed measurement hand that file over zero-filled, its zeros measured, and the rest
    go on; a full event log passes the file with one warning; an allocation failure (at stub
    time, while the marked file is planned in: the memory for the whole archive is probed)
    gives up the largest file of that directory (the marked one) and keeps the rest.
    The UKI has no .cmdline and is started from the shell with arguments: its .osrel holds
    the PCR 11 marker (measuring that section fails) and the arguments the PCR 12 marker
    (measuring the command line fails); SECURITY.md: both boot on, unrecorded. A credential
    that cannot be read and a confext whose measurement fails beside a good credential follow
    the sysexts' rule in PCR 12 (they are read and measured at fill time too), and so does an
    addon's initrd piece whose measurement fails (measured in the kernel's buffer, after them)."""
    initrd, _ = make_initrd(workdir, kernel)
    uki = workdir / "uki.efi"
    osrel = 'ID=debian\nPRETTY_NAME="fault-pcr11"\n'
    subprocess.run([str(CLI), "build", "--stub", str(FAULT_STUB), "--linux", str(kernel.vmlinuz), "--initrd",
                    str(initrd), "--os-release", osrel, "--output", str(uki)], check=True)
    per_uki = {"a.sysext.raw": b"a\n", "b-fault-measure.sysext.raw": b"b\n", "c-fault-read.sysext.raw": b"c\n",
               "d-fault-logfull.sysext.raw": b"d\n", "e-fault-logfull.sysext.raw": b"e\n",
               "f.sysext.raw": b"f\n", "g-fault-shrink.sysext.raw": b"shrinks while read\n"}
    global_ = {"fault-alloc.sysext.raw": b"ggg\n", "h.sysext.raw": b"h\n"}
    pcr12_files = {"x-fault-read.cred": b"unreadable\n", "z.cred": b"secret\n",
                   "y-fault-measure.confext.raw": b"confext\n"}
    esp_dir = "EFI/fault/uki.efi.extra.d"
    args = "console=ttyS0 panic=-1 fault-pcr12"
    files = {"EFI/fault/uki.efi": str(uki), "startup.nsh": f"fs0:\\EFI\\fault\\uki.efi {args}\r\n".encode()}
    files.update({f"{esp_dir}/{n}": d for n, d in {**per_uki, **pcr12_files}.items()})
    addon_initrd = workdir / "addon.initrd"
    addon_initrd.write_bytes(b"070701" + bytes(500))  # its content is never used: it is zero-filled
    addon = workdir / "w-fault-measure.addon.efi"
    subprocess.run([str(CLI), "build", "--addon", "--stub", str(ROOT / "build" / "sysext-addon-x64.efi.stub"),
                    "--initrd", str(addon_initrd), "--output", str(addon)], check=True)
    files[f"{esp_dir}/{addon.name}"] = str(addon)
    files.update({f"loader/extensions/{n}": d for n, d in global_.items()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, stop_at_shell=False)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)

    zeroed = ("fault-measure", "fault-read", "fault-shrink")
    handed = {n: bytes(len(d)) if any(z in n for z in zeroed) else d for n, d in per_uki.items()}
    got = facts.extra_by_path()
    assert sorted(p for p in got if p.startswith("/.extra/sysext/")) == [f"/.extra/sysext/{n}" for n in sorted(per_uki)], \
        sorted(got)
    for name, data in handed.items():
        entry = got[f"/.extra/sysext/{name}"]
        assert (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest()), name
    assert sorted(p for p in got if p.startswith("/.extra/global_sysext/")) == \
        ["/.extra/global_sysext/h.sysext.raw"], "only the file the allocation failure gave up may be missing"
    log = result.log
    assert "b-fault-measure.sysext.raw: handed over zero-filled, measuring it failed" in log, tail(result)
    assert "c-fault-read.sysext.raw: handed over zero-filled, cannot read it" in log, tail(result)
    assert "g-fault-shrink.sysext.raw: handed over zero-filled, cannot read it: End of File" in log, tail(result)
    assert log.count("TPM event log is full") == 1, "the full-log warning must appear exactly once"
    assert "\\loader\\extensions\\fault-alloc.sysext.raw: skipped, not enough memory" in log, tail(result)

    # PCR 13 records exactly what was handed over: each file's path, then its content, the zeros
    # for the three that failed (b's own bytes never reached the TPM: the fault fails that call).
    events = []
    for name in sorted(per_uki):
        path = f".extra/sysext/{name}"
        events += [(path, path.encode() + b"\0"), (path, handed[name])]
    path = ".extra/global_sysext/h.sysext.raw"
    events += [(path, path.encode() + b"\0"), (path, global_["h.sysext.raw"])]
    assert facts.pcrs["sha256"][13] == pcr_sha256([d for _, d in events]), "PCR 13 (sha256) mismatch"
    assert parse_pcr13_events(facts.eventlog) == [(p, hashlib.sha256(d).digest()) for p, d in events]
    # 4 files measured: the variable is set even though others failed.
    assert facts.efivar_str("StubPcrInitRDSysExts") == "13"

    # PCR 11: .linux went in (name and content), then .osrel's name; its content failed, and the
    # stub stopped there (.initrd is not measured) without claiming PCR 11. It booted on.
    assert "sysext-stub: error: cannot measure section .osrel into PCR 11: Device Error" in log, tail(result)
    assert "StubPcrKernelImage" not in facts.efivars, "a failed PCR 11 must not be announced"
    pcr11 = [b".linux\0", kernel.vmlinuz.read_bytes(), b".osrel\0"]
    assert facts.pcrs["sha256"][11] == pcr_sha256(pcr11), "PCR 11 (sha256) mismatch"
    events = log_events(facts.eventlog)
    logged11 = [(data.decode("utf-16-le").rstrip("\0"), digest) for pcr, etype, digest, data in events
                if pcr == 11 and etype == EV_IPL]
    assert logged11 == [(".linux", hashlib.sha256(pcr11[0]).digest()), (".linux", hashlib.sha256(pcr11[1]).digest()),
                        (".osrel", hashlib.sha256(pcr11[2]).digest())], logged11
    # PCR 12: no command-line event, and the kernel still got the passed-in command line. What
    # is in PCR 12 came from the fill, by the sysexts' rule: the credentials (x unreadable: its
    # path and zeros; z whole), then the confext (its path; its content failed: zeros).
    assert "sysext-stub: error: cannot measure the command line into PCR 12: Device Error" in log, tail(result)
    assert "x-fault-read.cred: handed over zero-filled, cannot read it" in log, tail(result)
    assert "y-fault-measure.confext.raw: handed over zero-filled, measuring it failed" in log, tail(result)
    assert f"{addon.name}: its .initrd handed over zero-filled, measuring it into PCR 12 failed" in log, tail(result)
    handed12 = {".extra/credentials/x-fault-read.cred": bytes(len(pcr12_files["x-fault-read.cred"])),
                ".extra/credentials/z.cred": pcr12_files["z.cred"],
                ".extra/confext/y-fault-measure.confext.raw": bytes(len(pcr12_files["y-fault-measure.confext.raw"]))}
    addon_zeros = bytes(addon_initrd.stat().st_size)
    pcr12 = [d for p, c in handed12.items() for d in (p.encode() + b"\0", c)] + [addon_zeros]
    assert facts.pcrs["sha256"][12] == pcr_sha256(pcr12), "PCR 12 (sha256) mismatch"
    logged12 = [(data.decode("utf-16-le").rstrip("\0"), digest) for pcr, etype, digest, data in events
                if pcr == 12 and etype == EV_IPL]
    assert logged12 == [(p, hashlib.sha256(d).digest()) for p in handed12 for d in
                        (p.encode() + b"\0", handed12[p])], logged12
    desc = (addon.name + "\0").encode("utf-16-le")
    tagged12 = [(data, digest) for pcr, etype, digest, data in events if pcr == 12 and etype == EV_EVENT_TAG]
    assert tagged12 == [(struct.pack("<II", ADDON_INITRD_TAG, len(desc)) + desc, hashlib.sha256(addon_zeros).digest())]
    for path, data in handed12.items():
        entry = got["/" + path]
        assert (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest()), path
    # Announced by the fill, which measured the credentials and the confext's zeros.
    assert facts.efivar_str("StubPcrKernelParameters") == "12"
    assert facts.efivar_str("StubPcrInitRDConfExts") == "12"
    assert facts.cmdline.endswith(args), facts.cmdline
    assert "sysext-stub: starting kernel" in log

