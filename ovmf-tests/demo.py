#!/usr/bin/python3
"""`make demo`: build a UKI around our stub, drop two sample sysexts on the
ESP beside it, predict offline what the boot will measure, boot it under
QEMU/OVMF with a software TPM, and show what the initrd received, what the
TPM holds, and that the two agree (PCRs and the event log, event by event).

With --systemd (`make demo DEMO=systemd`), the initrd is Debian 13's systemd
257 instead (ovmf-tests/systemd_guest.py): it shows what systemd-sysext
merged from the ESP and that systemd-cryptsetup unlocked a LUKS2 volume
with the PCR signature the stub handed over.

Usage: ovmf-tests/demo.py [--keep] [--no-tpm] [--systemd]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.REPO_ROOT
CLI = ROOT / "build" / "sysext-stub"
STUB = ROOT / "build" / "sysext-stub-x64.efi"
CMDLINE = "console=ttyS0 panic=-1 sysext_stub.demo=1"
MARKER = "/etc/sysext-stub-demo"
UKI_PATH = "EFI/BOOT/BOOTX64.EFI"
PCRS = (9, 11, 12, 13)
BANK = "sha256"


def sample_sysext(work: Path, name: str, files: dict) -> Path:
    """A real system extension image: squashfs with usr/ and its extension-release file."""
    tree = work / f"{name}.tree"
    release = tree / "usr/lib/extension-release.d" / f"extension-release.{name}"
    release.parent.mkdir(parents=True)
    release.write_text("ID=_any\nSYSEXT_LEVEL=1.0\n")
    for path, text in files.items():
        p = tree / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(0o755)
    out = work / f"{name}.sysext.raw"
    # Reproducible: fixed times, root-owned, no padding from an earlier image.
    harness.run(["mksquashfs", tree, out, "-noappend", "-all-root", "-mkfs-time", "0", "-all-time", "0",
                 "-no-progress", "-quiet"], what=f"building the sample sysext {out.name}")
    return out


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (images, serial log)")
    ap.add_argument("--no-tpm", action="store_true", help="boot without a TPM device")
    ap.add_argument("--systemd", action="store_true",
                    help="boot a Debian 13 systemd initrd: sysexts merged, a LUKS volume unlocked")
    args = ap.parse_args()
    if args.systemd:
        return systemd_demo(args.keep)

    work = Path(tempfile.mkdtemp(prefix="sysext-stub-demo-"))
    ok = True
    try:
        print("==> fetching Debian's kernel (cached after the first run)")
        kernel = harness.fetch_kernel()
        print(f"    {kernel.vmlinuz}")

        print("==> building the test initrd and the UKI with `sysext-stub build`")
        initrd = work / "initrd.cpio"
        harness.build_initrd(initrd, kernel, {MARKER.lstrip("/"): b"hello from the embedded initrd\n"},
                             check_paths=[MARKER])
        uki = work / "active.efi"
        r = cli("build", "--stub", STUB, "--linux", kernel.vmlinuz, "--initrd", initrd, "--cmdline", CMDLINE,
                "--os-release", 'ID=debian\nPRETTY_NAME="sysext-stub demo"\n', "--uname", kernel.version,
                "--output", uki)
        if r.returncode != 0:
            print(r.stderr, end="")
            return 1

        print("==> two sample sysexts (squashfs images with an extension-release file)")
        extra_d, global_d = work / "active.efi.extra.d", work / "extensions"
        extra_d.mkdir()
        global_d.mkdir()
        k3s = sample_sysext(work, "k3s", {"usr/bin/k3s-hello": "#!/bin/sh\necho k3s from a sysext\n"})
        tools = sample_sysext(work, "debug-tools", {"usr/bin/debug-hello": "#!/bin/sh\necho debug tools\n"})
        shutil.move(k3s, extra_d / k3s.name)
        shutil.move(tools, global_d / tools.name)
        (extra_d / "notes.txt").write_text("not a *.sysext.raw: the stub skips it\n")
        # The UKI at the removable-media path OVMF boots; its .extra.d beside it.
        esp_files = {UKI_PATH: str(uki), "loader/extensions/" + tools.name: str(global_d / tools.name)}
        for f in extra_d.iterdir():
            esp_files[f"{UKI_PATH}.extra.d/{f.name}"] = str(f)
        for dest in sorted(esp_files):
            print(f"    ESP {dest}")

        print(f"==> predicting PCRs {', '.join(map(str, PCRS))} offline, before any boot")
        print(f"    $ sysext-stub predict --uki active.efi --extra-dir active.efi.extra.d "
              f"--global-dir extensions --phase= --bank {BANK}")
        r = cli("predict", "--uki", uki, "--extra-dir", extra_d, "--global-dir", global_d, "--phase=",
                "--bank", BANK, "--json")
        if r.returncode != 0:
            print(r.stderr, end="")
            return 1
        prediction = json.loads(r.stdout)
        (work / "expected.json").write_text(r.stdout)
        predicted = {e["pcr"]: e["hash"] for e in prediction[BANK]}
        for n in PCRS:
            if n not in predicted:  # nothing will extend it (PCR 12: the UKI's .cmdline wins)
                predicted[n] = "00" * 32
            print(f"    PCR {n:2} {predicted[n]}")

        print("==> building the ESP and booting (QEMU TCG, 20-40 s)")
        esp = work / "esp.img"
        harness.build_esp(esp, esp_files)
        result = harness.boot(esp, tpm=not args.no_tpm, workdir=work / "boot")
        for line in harness.strip_ansi(result.log).splitlines():
            if line.startswith("sysext-stub:") or "EFI stub:" in line:
                print("    [firmware] " + line.strip())
        facts = result.facts
        if result.reason != "poweroff" or not facts.complete:
            print(f"boot did not complete ({result.reason}); serial log: {work / 'boot' / 'serial.log'}")
            args.keep = True
            return 1

        print(f"==> the initrd saw (boot took {result.duration:.0f} s)")
        print(f"    kernel        {facts.kernel}")
        print(f"    /proc/cmdline {facts.cmdline}")
        for path, info in facts.files.items():
            print(f"    {path}: " + (f"{info[0]} bytes, sha256 {info[1]}" if info else "missing"))
        for e in facts.extra:
            print(f"    /.extra {e.mode:o} {e.size:>10} {e.sha256 or '-':64} {e.path}")
        if not facts.tpm_present:
            print("==> no TPM in this boot: the sysexts were handed over unmeasured")
            return 0

        print(f"==> measured by the TPM vs predicted ({BANK})")
        measured = facts.pcrs.get(BANK, {})
        for n in PCRS:
            got = measured.get(n)
            same = got is not None and got.hex() == predicted.get(n)
            ok &= same
            print(f"    PCR {n:2} {got.hex() if got else '?'}  {'= predicted' if same else 'DIFFERS from the prediction'}")

        print("==> the guest's event log, replayed and checked against the prediction event by event")
        log = work / "eventlog.bin"
        log.write_bytes(facts.eventlog)
        pcr_args = [a for n in PCRS for a in ("--pcr-value", f"{BANK}:{n}={measured[n].hex()}", "--pcr", str(n))]
        print(f"    $ sysext-stub eventlog --log eventlog.bin --expect expected.json --bank {BANK} --pcr 13 ...")
        r = cli("eventlog", "--log", log, "--expect", work / "expected.json", "--bank", BANK, *pcr_args)
        for line in (r.stdout + r.stderr).splitlines():
            print("    " + line)
        ok &= r.returncode == 0
        print("==> " + ("prediction and boot agree" if ok else "prediction and boot DISAGREE"))
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def systemd_demo(keep: bool) -> int:
    """The Kairos-style walk-through of README.md, booted: drop sysexts on the ESP with a
    signature for them, boot, systemd merges them, the disk unlocks."""
    import systemd_guest as guest
    from debian import NetworkUnavailable

    work = Path(tempfile.mkdtemp(prefix="sd-demo-", dir="/tmp"))  # short: swtpm's socket lives below it
    try:
        print("==> fetching Debian's kernel, building the Debian 13 systemd initrd, signed sysexts (systemd-repart),")
        print("    a LUKS2 volume enrolled by systemd-cryptenroll 257 --tpm2-public-key-pcrs=11+13")
        print("    (the Debian 13 tree and the initrd are cached after the first run)")
        try:
            scenario = guest.prepare_scenario(work, harness.fetch_kernel())
        except NetworkUnavailable as exc:
            print(f"cannot reach the Debian mirror: {exc}")
            return 1
        per, glob = scenario.sysexts("v1")
        per = {**per, "v1.pcrsig.json": scenario.signatures["v1"]}
        esp = scenario.esp(per, glob)
        for dest in sorted(esp):
            print(f"    ESP {dest}")
        d_per, d_glob = guest.set_dirs(work, per, glob)
        prediction = json.loads(guest.cli("predict", "--json", "--bank", guest.TPM_BANKS, "--phase", "enter-initrd",
                                          "--uki", scenario.uki, "--extra-dir", d_per, "--global-dir", d_glob))
        print("==> booting (QEMU TCG; a systemd initrd takes 2-3 minutes, longer on a busy machine)")
        result = scenario.boot(work / "boot", esp)
        for line in harness.strip_ansi(result.log).splitlines():
            if line.startswith("sysext-stub:"):
                print("    [firmware] " + line.strip())
        facts = result.facts
        if result.reason != "poweroff" or not facts.complete:
            print(f"boot did not complete ({result.reason}); serial log: {work / 'boot' / 'boot' / 'serial.log'}")
            keep = True
            return 1
        print(f"==> what systemd 257 did in the initrd (boot took {result.duration:.0f} s)")
        for name, title in (("sysext-journal", "systemd-sysext.service"), ("sysext-status", "systemd-sysext status"),
                            ("hello", "the sysexts' programs"), ("crypt-journal", "systemd-cryptsetup@luks.service"),
                            ("analyze-pcrs", "systemd-analyze pcrs 11 12 13")):
            print(f"    -- {title}")
            for line in facts.text(name).splitlines():
                print("       " + line)
        unlocked = facts.notes.get("rc-crypt-mapped") == "0"
        print("    /dev/mapper/luks " + ("exists: the volume was unlocked by the TPM" if unlocked else "is missing: LOCKED"))
        ok = unlocked
        for entry in prediction[guest.TPM_BANKS]:
            got = facts.pcrs.get(guest.TPM_BANKS, {}).get(entry["pcr"])
            same = got is not None and got.hex() == entry["hash"]
            ok &= same
            print(f"    PCR {entry['pcr']:2} {entry['hash']} {'= the TPM' if same else 'DIFFERS from the TPM'}")
        print("==> " + ("merged, unlocked, as predicted" if ok else "NOT as expected"))
        return 0 if ok else 1
    finally:
        if keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
