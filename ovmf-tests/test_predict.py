"""Predictions against real boots (issue 4): what `sysext-stub predict`
computes offline must equal the PCRs the guest reads, in every bank the
TPM has active, and the guest's own event log must agree event by event.

Two boots: our stub (PCRs 9, 11, 12, 13), and Debian's systemd-stub 252
with the same ESP files (`predict --scheme=systemd`, PCRs 11 and 13).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import harness
from test_boot import CLI, STUB, make_initrd, tail

SYSTEMD_STUB = Path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub")


def predict(*args: str) -> dict:
    out = subprocess.run([str(CLI), "predict", "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def predicted(prediction: dict, bank: str, pcr: int) -> bytes:
    entries = [e for e in prediction[bank] if e["pcr"] == pcr]
    assert len(entries) == 1, f"expected one PCR {pcr} entry, got {entries}"
    return bytes.fromhex(entries[0]["hash"])


def write_set(base: Path, files: dict[str, bytes]) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (base / name).write_bytes(data)
    return base


def assert_pcrs_match(facts: harness.Facts, prediction: dict, pcrs: list[int], result) -> None:
    """The TPM reports exactly the harness's banks (sha1, sha256, sha384), and each equals the prediction."""
    assert sorted(facts.pcrs) == sorted(harness.DEFAULT_TPM_BANKS.split(",")), (sorted(facts.pcrs), tail(result))
    for bank, values in facts.pcrs.items():
        for pcr in pcrs:
            want = predicted(prediction, bank, pcr)
            assert values[pcr] == want, f"PCR {pcr} {bank}: guest {values[pcr].hex()} predicted {want.hex()}"


def test_predict_equals_our_stub_in_every_bank(kernel, workdir):
    """UKI without .cmdline started from the shell with arguments, so the
    command line is passed in (PCR 12); sysexts per-UKI and global (PCR 13);
    the kernel's EFI stub measures load options and initrd (PCR 9)."""
    initrd, _ = make_initrd(workdir, kernel)
    uki = workdir / "active.efi"
    subprocess.run([str(CLI), "build", "--stub", str(STUB), "--linux", str(kernel.vmlinuz), "--initrd", str(initrd),
                    "--os-release", 'ID=debian\nPRETTY_NAME="predict test"\n', "--uname", kernel.version,
                    "--output", str(uki)], check=True)
    per_uki = write_set(workdir / "extra.d", {"k3s.sysext.raw": os.urandom(200_000), "a.sysext.raw": b"a\n",
                                              "Z.SYSEXT.RAW": os.urandom(4097)})
    global_ = write_set(workdir / "global", {"tools.sysext.raw": os.urandom(70_001)})
    files = {"EFI/kairos/active.efi": str(uki),
             "startup.nsh": b"fs0:\\EFI\\kairos\\active.efi console=ttyS0 panic=-1\r\n"}
    files.update({f"EFI/kairos/active.efi.extra.d/{p.name}": str(p) for p in per_uki.iterdir()})
    files.update({f"loader/extensions/{p.name}": str(p) for p in global_.iterdir()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, stop_at_shell=False, timeout=240)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert "console=ttyS0 panic=-1" in facts.cmdline, facts.cmdline

    # The shell passes its whole command line; predict from what the kernel got.
    prediction = predict("--uki", str(uki), "--extra-dir", str(per_uki), "--global-dir", str(global_),
                         "--cmdline", facts.cmdline, "--phase=", "--bank", "sha1", "--bank", "sha256",
                         "--bank", "sha384")
    assert_pcrs_match(facts, prediction, [9, 11, 12, 13], result)
    # PCR 12 also from first principles: one event over the UTF-16LE command line with its NUL.
    utf16 = facts.cmdline.encode("utf-16-le") + b"\0\0"
    assert facts.pcrs["sha256"][12] == hashlib.sha256(bytes(32) + hashlib.sha256(utf16).digest()).digest()
    assert facts.efivar_str("StubPcrKernelParameters") == "12"
    assert facts.efivar_str("StubPcrKernelImage") == "11"

    log = workdir / "eventlog.bin"
    log.write_bytes(facts.eventlog)
    expect = workdir / "expect.json"
    expect.write_text(json.dumps(prediction))
    pcr_args = [a for bank, values in facts.pcrs.items() for n in (9, 11, 12, 13)
                for a in ("--pcr-value", f"{bank}:{n}={values[n].hex()}")]
    # The guest's own log replays to the guest's PCRs and matches the prediction event by event.
    replay = subprocess.run([str(CLI), "eventlog", "--log", str(log), "--expect", str(expect), *pcr_args,
                             "--pcr", "9", "--pcr", "11", "--pcr", "12", "--pcr", "13"],
                            capture_output=True, text=True)
    assert replay.returncode == 0, replay.stdout + replay.stderr

    # A changed sysext: the prediction no longer matches, and eventlog names the file.
    (per_uki / "k3s.sysext.raw").write_bytes(b"tampered")
    expect.write_text(json.dumps(predict("--extra-dir", str(per_uki), "--global-dir", str(global_),
                                         "--pcr", "13", "--bank", "sha256")))
    changed = subprocess.run([str(CLI), "eventlog", "--log", str(log), "--expect", str(expect), "--no-pcr-values",
                              "--pcr", "13", "--bank", "sha256"], capture_output=True, text=True)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "k3s.sysext.raw" in changed.stdout + changed.stderr, changed.stdout + changed.stderr


def test_predict_scheme_systemd_equals_debian_systemd_stub(kernel, workdir):
    """The same kind of ESP booted with Debian's systemd-stub 252: one event per
    archive, *.raw pickup (other.raw is picked, which we would skip), no global dir."""
    initrd, _ = make_initrd(workdir, kernel)
    uki = workdir / "uki.efi"
    subprocess.run([str(CLI), "build", "--stub", str(SYSTEMD_STUB), "--linux", str(kernel.vmlinuz),
                    "--initrd", str(initrd), "--cmdline", "console=ttyS0 panic=-1",
                    "--os-release", 'ID=debian\nPRETTY_NAME="predict test"\n', "--output", str(uki)], check=True)
    per_uki = write_set(workdir / "extra.d", {"k3s.sysext.raw": os.urandom(100_000), "other.raw": b"other\n",
                                              "x.cred": b"credential"})
    global_ = write_set(workdir / "global", {"tools.sysext.raw": b"ignored by 252\n"})
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki)}
    files.update({f"EFI/BOOT/BOOTX64.EFI.extra.d/{p.name}": str(p) for p in per_uki.iterdir()})
    files.update({f"loader/extensions/{p.name}": str(p) for p in global_.iterdir()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    got = facts.extra_by_path()
    assert "/.extra/sysext/other.raw" in got and "/.extra/sysext/k3s.sysext.raw" in got, sorted(got)

    prediction = predict("--scheme=systemd", "--systemd-version", "252", "--uki", str(uki), "--extra-dir",
                         str(per_uki), "--global-dir", str(global_), "--phase=", "--pcr", "11", "--pcr", "13",
                         "--bank", "sha1", "--bank", "sha256", "--bank", "sha384")
    assert_pcrs_match(facts, prediction, [11, 13], result)
