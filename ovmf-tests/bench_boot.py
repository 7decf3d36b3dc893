#!/usr/bin/python3
"""`make bench`, boot part: our stub against Debian's systemd-stub, side by side.

The same kernel, initrd, command line and ESP contents go into one UKI per
stub (both built by `sysext-stub build`); the two are booted alternately
(A B A B ...) under identical QEMU/OVMF/swtpm settings, and the serial
console is timestamped on the host as it arrives. Per boot:

* stub phase: OVMF's ``BdsDxe: starting`` line to the first ``EFI stub:``
  line of Linux's EFI stub (our stub, or systemd-stub, runs in between);
* to initrd: QEMU start to the first line the initrd prints;
* LoaderData at handover: the EFI_LOADER_DATA the kernel's EFI memory map
  still holds (``efi=debug``), i.e. what the boot path left allocated;
* our stub's own peak allocation, from its allocator accounting
  (the ``sysext-stub: memory:`` line).

Every boot must hand the case's sysexts to the initrd (the initrd counts
them), or the benchmark stops: a broken boot is not a fast one.

Usage: ovmf-tests/bench_boot.py [--runs N] [--cases a,b] [--icount] [--out DIR]
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.REPO_ROOT
CLI = ROOT / "build" / "sysext-stub"
OUR_STUB = ROOT / "build" / "sysext-stub-x64.efi"
CMDLINE = "console=ttyS0 panic=-1 efi=debug"
INITRD_MARKER = "@@BENCH-INITRD-UP@@"
MIB = 1 << 20
#: swtpm_setup's own default bank: what a TPM usually has active.
TPM_BANKS = "sha256"
#: -icount: guest time from the instruction count (1 ns per instruction), no sleeping when idle.
ICOUNT_ARGS = ("-icount", "shift=0,sleep=off")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple  #: bytes of each sysext


CASES = {
    "none": Case("none", ()),
    "64-small": Case("64-small", (64 * 1024,) * 64),
    "8x8MiB": Case("8x8MiB", (8 * MIB,) * 8),
    "1x128MiB": Case("1x128MiB", (128 * MIB,)),
}

STUBS = {"sysext-stub": OUR_STUB, "systemd-stub": harness.SYSTEMD_STUB}

# /init of the benchmark initrd: one line first, then what it got, then power off.
INIT = """#!/bin/sh
echo "@MARKER@"
/bin/busybox mount -t proc proc /proc
n=0; bytes=0
for f in /.extra/sysext/* /.extra/global_sysext/*; do
    [ -f "$f" ] || continue
    n=$((n + 1)); bytes=$((bytes + $(/bin/busybox stat -c %s "$f")))
done
echo "@BEGIN@"
echo "bench-sysexts $n $bytes"
echo "@END@"
/bin/busybox poweroff -f
while :; do /bin/busybox sleep 60; done
"""

MEMMAP_RE = re.compile(r"efi: mem\d+: \[([A-Za-z ]+?)\s*\|[^\]]*\] range=\[0x([0-9a-f]+)-0x([0-9a-f]+)\]")
OUR_MEMORY_RE = re.compile(r"sysext-stub: memory: (\d+) bytes held, peak (\d+) bytes")
OUR_RELEASE_RE = re.compile(r"copied by the kernel; (\d+) bytes released, memory: (\d+) bytes held")


def bench_initrd(path: Path) -> None:
    """A tiny initrd: busybox and the /init above."""
    cpio = harness.CpioArchive()
    for d in ("bin", "dev", "proc", "sys", "tmp"):
        cpio.add_dir(d)
    cpio.add_chardev("dev/console", 5, 1)
    cpio.add_file("bin/busybox", harness.BUSYBOX.read_bytes(), 0o755)
    cpio.add_symlink("bin/sh", "busybox")
    init = INIT.replace("@MARKER@", INITRD_MARKER).replace("@BEGIN@", harness.FACTS_BEGIN)
    cpio.add_file("init", init.replace("@END@", harness.FACTS_END).encode(), 0o755)
    path.write_bytes(cpio.to_bytes())


def filler(label: str, size: int) -> bytes:
    """Deterministic, incompressible content."""
    out = bytearray()
    seed = hashlib.sha256(label.encode()).digest()
    block = hashlib.shake_256(seed).digest(1 << 20)
    while len(out) < size:
        out += block[: size - len(out)]
        block = hashlib.sha256(block[:64]).digest() * (1 << 15)
    return bytes(out)


def build_esps(work: Path, kernel: harness.Kernel, cases: list[Case]) -> dict:
    """{(case, stub): ESP image}; the sysexts are the same files for both stubs."""
    initrd = work / "initrd.cpio"
    bench_initrd(initrd)
    ukis = {}
    for stub, path in STUBS.items():
        uki = work / f"{stub}.efi"
        harness.run([CLI, "build", "--stub", path, "--linux", kernel.vmlinuz, "--initrd", initrd,
                     "--cmdline", CMDLINE, "--os-release", 'ID=debian\nPRETTY_NAME="bench"\n',
                     "--uname", kernel.version, "--output", uki], what=f"building the {stub} UKI")
        ukis[stub] = uki
    esps = {}
    for case in cases:
        files = {}
        for i, size in enumerate(case.sizes):
            # *.sysext.raw matches both pickup rules (ours, and systemd-stub 252's *.raw).
            name = f"ext{i:02d}.sysext.raw"
            blob = work / f"{case.name}-{name}"
            if not blob.exists():
                blob.write_bytes(filler(f"{case.name}/{name}", size))
            files[f"EFI/BOOT/BOOTX64.EFI.extra.d/{name}"] = str(blob)
        for stub, uki in ukis.items():
            esp = work / f"{case.name}-{stub}.img"
            harness.build_esp(esp, {"EFI/BOOT/BOOTX64.EFI": str(uki), **files},
                              dirs=["EFI/BOOT/BOOTX64.EFI.extra.d"])
            esps[case.name, stub] = esp
        for blob in work.glob(f"{case.name}-*.sysext.raw"):
            blob.unlink()
    return esps


@dataclasses.dataclass
class Sample:
    stub_phase: float
    to_initrd: float
    to_bds: float
    loader_data: int
    our_peak: Optional[int]
    our_held: Optional[int]


def loader_data_bytes(log: str) -> int:
    """EFI_LOADER_DATA bytes in the kernel's EFI memory map (efi=debug)."""
    total, seen = 0, False
    for kind, start, end in MEMMAP_RE.findall(log):
        seen = True
        if kind.strip() == "Loader Data":
            total += int(end, 16) - int(start, 16) + 1
    if not seen:
        raise harness.HarnessError("no EFI memory map on the console (efi=debug missing?)")
    return total


def one_boot(esp: Path, case: Case, stub: str, qemu_args: tuple, workdir: Path) -> Sample:
    timeout = 600 if not qemu_args else 900
    result = harness.boot(esp, tpm=True, tpm_banks=TPM_BANKS, serial_stamps=True, qemu_args=qemu_args,
                          timeout=timeout, workdir=workdir)
    if result.reason != "poweroff":
        raise harness.HarnessError(f"{stub} {case.name}: boot ended by {result.reason}\n{result.describe()}")
    got = re.search(r"bench-sysexts (\d+) (\d+)", result.log)
    want = (len(case.sizes), sum(case.sizes))
    if not got or (int(got.group(1)), int(got.group(2))) != want:
        raise harness.HarnessError(f"{stub} {case.name}: the initrd got {got and got.groups()}, "
                                   f"expected {want} (files, bytes)\n{result.describe()}")
    bds = harness.stamp_of(result, "BdsDxe: starting")
    efistub = harness.stamp_of(result, "EFI stub: ")
    initrd = harness.stamp_of(result, INITRD_MARKER)
    if None in (bds, efistub, initrd):
        raise harness.HarnessError(f"{stub} {case.name}: console markers missing "
                                   f"(BdsDxe {bds}, EFI stub {efistub}, initrd {initrd})\n{result.describe()}")
    ours = OUR_MEMORY_RE.search(result.log)
    released = OUR_RELEASE_RE.search(result.log)
    held = int(released.group(2)) if released else int(ours.group(1)) if ours else None
    return Sample(stub_phase=efistub - bds, to_initrd=initrd, to_bds=bds, loader_data=loader_data_bytes(result.log),
                  our_held=held, our_peak=int(ours.group(2)) if ours else None)


def median(values):
    return statistics.median(values) if values else None


def summarize(samples: dict, cases: list[Case]) -> list[dict]:
    rows = []
    base_ld = {s: median([x.loader_data for x in samples.get(("none", s), [])]) for s in STUBS}
    for case in cases:
        row = {"case": case.name, "sysext_bytes": sum(case.sizes), "files": len(case.sizes)}
        for stub in STUBS:
            xs = samples[case.name, stub]
            row[stub] = {
                "boots": len(xs),
                "stub_phase_s": median([x.stub_phase for x in xs]),
                "stub_phase_all": [round(x.stub_phase, 3) for x in xs],
                "to_initrd_s": median([x.to_initrd for x in xs]),
                "to_bds_s": median([x.to_bds for x in xs]),
                "loader_data": median([x.loader_data for x in xs]),
                "extra_loader_data": (median([x.loader_data for x in xs]) - base_ld[stub]
                                      if base_ld[stub] is not None else None),
                "own_peak": median([x.our_peak for x in xs if x.our_peak is not None]),
                "own_held": median([x.our_held for x in xs if x.our_held is not None]),
            }
        a, b = row["sysext-stub"], row["systemd-stub"]
        row["stub_phase_ratio"] = a["stub_phase_s"] / b["stub_phase_s"]
        row["to_initrd_ratio"] = a["to_initrd_s"] / b["to_initrd_s"]
        rows.append(row)
    return rows


def fmt_mib(n) -> str:
    return "-" if n is None else f"{n / MIB:.1f}"


def fmt_per_byte(extra, sysext_bytes) -> str:
    if extra is None or not sysext_bytes:
        return "-"
    return f"{extra / sysext_bytes:.2f}x"


def table(rows: list[dict], header: str) -> str:
    lines = [header,
             f"{'case':<10} {'stub':<13} {'boots':>5} {'stub phase':>10} {'to initrd':>9} "
             f"{'LoaderData':>10} {'extra':>7} {'extra/sysext':>12} {'own peak':>8}",
             f"{'':<10} {'':<13} {'':>5} {'(s)':>10} {'(s)':>9} {'(MiB)':>10} {'(MiB)':>7} {'':>12} {'(MiB)':>8}"]
    for r in rows:
        for stub in STUBS:
            s = r[stub]
            lines.append(f"{r['case']:<10} {stub:<13} {s['boots']:>5} {s['stub_phase_s']:>10.2f} "
                         f"{s['to_initrd_s']:>9.2f} {fmt_mib(s['loader_data']):>10} "
                         f"{fmt_mib(s['extra_loader_data']):>7} "
                         f"{fmt_per_byte(s['extra_loader_data'], r['sysext_bytes']):>12} {fmt_mib(s['own_peak']):>8}")
        lines.append(f"{r['case']:<10} {'ours/systemd':<13} {'':>5} {r['stub_phase_ratio']:>10.2f} "
                     f"{r['to_initrd_ratio']:>9.2f}")
    lines += ["",
              "stub phase: OVMF 'BdsDxe: starting' to Linux's first 'EFI stub:' line; to initrd: QEMU start to",
              "the initrd's first line (host clock on the serial console). LoaderData: EFI_LOADER_DATA in the",
              "kernel's EFI memory map (efi=debug); extra: above the same stub's no-sysext case. own peak: the",
              "stub's allocator accounting before it loads the kernel (sysext-stub only)."]
    return "\n".join(lines) + "\n"


def systemd_version() -> str:
    """Debian's systemd-boot-efi version (the peer's), or "?"."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "systemd-boot-efi"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def plot(rows: list[dict], out: Path) -> Optional[Path]:
    """Boot time and LoaderData against sysext MiB, both stubs (gnuplot); None without gnuplot."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not found, no plot", file=sys.stderr)
        return None
    data = out / "boot.dat"
    with open(data, "w") as f:
        f.write("# sysext_MiB ours_phase systemd_phase ours_loaderdata_MiB systemd_loaderdata_MiB case\n")
        for r in sorted(rows, key=lambda r: r["sysext_bytes"]):
            a, b = r["sysext-stub"], r["systemd-stub"]
            f.write(f"{r['sysext_bytes'] / MIB:.3f} {a['stub_phase_s']:.3f} {b['stub_phase_s']:.3f} "
                    f"{a['loader_data'] / MIB:.2f} {b['loader_data'] / MIB:.2f} {r['case']}\n")
    png = out / "boot.png"
    script = f"""
set terminal pngcairo size 1000,420 font ",10" noenhanced
set output "{png}"
set multiplot layout 1,2 title "sysext-stub vs Debian systemd-stub {systemd_version()} (QEMU TCG, OVMF, swtpm {TPM_BANKS}; medians)"
set key left top
set grid
set xlabel "sysexts on the ESP (MiB)"
set ylabel "stub phase (s)"
plot "{data}" using 1:2 with linespoints title "sysext-stub", "" using 1:3 with linespoints title "systemd-stub"
set ylabel "EFI LoaderData at handover (MiB)"
plot "{data}" using 1:4 with linespoints title "sysext-stub", "" using 1:5 with linespoints title "systemd-stub"
unset multiplot
"""
    proc = subprocess.run(["gnuplot"], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise harness.HarnessError(f"gnuplot failed: {proc.stderr.decode(errors='replace')}")
    return png


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="boots per stub and case (default 5)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, of: " + ", ".join(CASES))
    ap.add_argument("--icount", action="store_true", help="run QEMU with " + " ".join(ICOUNT_ARGS))
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--keep", action="store_true", help="keep the images and serial logs")
    args = ap.parse_args()
    cases = [CASES[c] for c in args.cases.split(",")]
    for stub, path in STUBS.items():
        if not Path(path).is_file():
            print(f"bench: {stub} missing: {path}", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    qemu_args = ICOUNT_ARGS if args.icount else ()
    work = Path(tempfile.mkdtemp(prefix="sysext-stub-bench-"))
    started = time.monotonic()
    try:
        kernel = harness.fetch_kernel()
        esps = build_esps(work, kernel, cases)
        samples: dict = {}
        for run in range(args.runs):
            for case in cases:
                for stub in STUBS:  # A B A B ...
                    s = one_boot(esps[case.name, stub], case, stub, qemu_args,
                                 work / f"boot-{case.name}-{stub}-{run}")
                    samples.setdefault((case.name, stub), []).append(s)
                    print(f"bench: run {run + 1}/{args.runs} {case.name:<9} {stub:<13} stub phase "
                          f"{s.stub_phase:6.2f} s, to initrd {s.to_initrd:6.2f} s, "
                          f"LoaderData {s.loader_data / MIB:7.1f} MiB", flush=True)
        rows = summarize(samples, cases)
        header = (f"boot benchmark, {time.strftime('%Y-%m-%d', time.gmtime())}, {platform.node()} "
                  f"({os.cpu_count()} cores), QEMU TCG{' -icount shift=0,sleep=off' if qemu_args else ''}, "
                  f"OVMF, swtpm ({TPM_BANKS}), kernel {kernel.version}, systemd-stub {systemd_version()}, "
                  f"medians of {args.runs} boots, alternating")
        text = table(rows, header)
        (args.out / "boot.txt").write_text(text)
        (args.out / "boot.json").write_text(json.dumps({"header": header, "rows": rows}, indent=2) + "\n")
        png = plot(rows, args.out)
        print(text, end="")
        print(f"bench: {len(cases) * len(STUBS) * args.runs} boots in {time.monotonic() - started:.0f} s; "
              f"{args.out / 'boot.txt'}" + (f", {png}" if png else ""))
        return 0
    finally:
        if args.keep:
            print(f"bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
