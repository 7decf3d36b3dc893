#!/usr/bin/python3
"""`make demo`: build a UKI around our stub, boot it under QEMU/OVMF with a
software TPM, and show what the initrd saw and what the TPM holds.

Usage: ovmf-tests/demo.py [--keep] [--no-tpm]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.REPO_ROOT
CLI = ROOT / "build" / "sysext-stub"
CMDLINE = "console=ttyS0 panic=-1 sysext_stub.demo=1"
MARKER = "/etc/sysext-stub-demo"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (images, serial log)")
    ap.add_argument("--no-tpm", action="store_true", help="boot without a TPM device")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sysext-stub-demo-"))
    try:
        print("==> fetching Debian's kernel (cached after the first run)")
        kernel = harness.fetch_kernel()
        print(f"    {kernel.vmlinuz}")

        print("==> building the test initrd and the UKI with `sysext-stub build`")
        initrd = work / "initrd.cpio"
        harness.build_initrd(initrd, kernel, {MARKER.lstrip("/"): b"hello from the embedded initrd\n"},
                             check_paths=[MARKER])
        uki = work / "demo.efi"
        subprocess.run([str(CLI), "build", "--linux", str(kernel.vmlinuz), "--initrd", str(initrd),
                        "--cmdline", CMDLINE, "--os-release", 'ID=debian\nPRETTY_NAME="sysext-stub demo"\n',
                        "--uname", kernel.version, "--output", str(uki)], check=True)
        subprocess.run(["objdump", "-h", str(uki)], check=True)

        print("==> building the ESP (UKI at EFI/BOOT/BOOTX64.EFI) and booting (QEMU TCG, 15-30 s)")
        esp = work / "esp.img"
        harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI": str(uki)})
        result = harness.boot(esp, tpm=not args.no_tpm, workdir=work / "boot")
        for line in result.log.splitlines():
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
        if facts.extra_present:
            for e in facts.extra:
                print(f"    /.extra {e.mode:o} {e.size:>10} {e.sha256 or '-':64} {e.path}")
        else:
            print("    /.extra       (none: no sysexts on the ESP)")
        if facts.tpm_present:
            print(f"==> TPM PCRs (sha256), event log {len(facts.eventlog)} bytes")
            for n in (4, 7, 9, 11, 12, 13):
                value = facts.pcrs.get("sha256", {}).get(n)
                print(f"    PCR {n:2}: {value.hex() if value else '?'}")
        else:
            print("==> no TPM in this boot")
        return 0
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
