"""The report of `make bench`'s boot part: tables, targets, the series plot (bench_boot.py runs the boots).

Figures are medians over the boots of one run; ratios are ours divided by
systemd-stub 262's from the same run, both as the ratio of the medians and
as the median of the per-round ratios (ours and 262 boot side by side in
each round, so a round's pair saw the same load).
"""
from __future__ import annotations

import dataclasses
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Optional

import harness

MIB = 1 << 20
#: The variable our stub writes its phase times to (efi-lib/timing.h names it; read from there).
PHASES_VARIABLE = re.search(r'#define TIMING_VARIABLE L"(\w+)"',
                            (harness.REPO_ROOT / "efi-lib" / "timing.h").read_text()).group(1)

#: Issue 19's targets against systemd-stub 262: stub phase ratio at most this, per case.
PHASE_TARGETS = {"none": 0.95, "64-small": 0.85, "8x8MiB": 0.75, "1x128MiB": 0.75}
#: Our own peak allocation for sysexts, above no sysexts, per sysext byte (the kernel's copy excluded).
MEMORY_TARGET = 0.05
#: The largest bootable sysext, ours over systemd-stub 262's.
CEILING_TARGET = 1.8

#: Our phases in the order the stub runs them (the directory phases are found by prefix).
PHASE_ORDER = ("self", "vars", "pcr11", "cmdline", "list", "read", "measure", "signatures", "register",
               "kernel_load", "kernel_stub", "initrd_copy", "initrd_release")


def median(values) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec: str = ".2f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def machine() -> str:
    """Cores, memory, CPU, and the versions of QEMU, OVMF and swtpm."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)

    def pkg(name: str) -> str:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True)
        return r.stdout.strip() or "?"
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return (f"{platform.node()}: {os.cpu_count()} cores, {mem / 1048576:.0f} GiB, {cpu}; "
            f"{qemu}; OVMF {pkg('ovmf')}; swtpm {pkg('swtpm')}")


def dir_phase(phases: dict, kind: str) -> Optional[float]:
    """A directory phase summed over both directories (sysext_read + global_sysext_read)."""
    vals = [v for k, v in phases.items() if k.endswith("_" + kind) and k not in PHASE_ORDER]
    return sum(vals) if vals else None


@dataclasses.dataclass
class Report:
    stubs: list
    layouts: list
    samples: list
    ceilings: dict
    kernel: str
    runs: int
    peer_runs: int
    jobs: int
    load: tuple
    seconds: float
    tpm_banks: str
    series_points: dict  #: "mib" and "files": the series' own points (the main cases add theirs)

    # ------------------------------------------------------------ selections

    def main(self, stub: str, layout: str) -> list:
        return [s for s in self.samples if s.part == "main" and s.stub == stub and s.layout == layout]

    def stub_phase(self, stub: str, layout: str, field: str = "stub_phase") -> Optional[float]:
        return median(getattr(s, field) for s in self.main(stub, layout))

    def ratio(self, layout: str, field: str = "stub_phase") -> tuple:
        """(ratio of medians, median of per-round ratios) of ours to 262 in `field`, or Nones."""
        a, b = self.stub_phase("ours", layout, field), self.stub_phase("sd262", layout, field)
        if a is None or b is None:
            return None, None
        ours = {s.round: getattr(s, field) for s in self.main("ours", layout)}
        theirs = {s.round: getattr(s, field) for s in self.main("sd262", layout)}
        paired = median(ours[r] / theirs[r] for r in ours if r in theirs and ours[r] and theirs[r])
        return a / b, paired

    def peak_per_byte(self, layout) -> Optional[float]:
        base = median(s.our_peak for s in self.main("ours", "none"))
        peak = median(s.our_peak for s in self.main("ours", layout.name))
        if base is None or peak is None or not layout.total:
            return None
        return (peak - base) / layout.total

    def our_phase(self, layout: str, name: str) -> Optional[float]:
        if name in ("list", "read", "measure"):
            return median(dir_phase(s.phases, name) for s in self.main("ours", layout))
        return median(s.phases.get(name) for s in self.main("ours", layout))

    # ------------------------------------------------------------ tables

    def header(self) -> list:
        (l1, l5, l15), (e1, e5, e15) = self.load
        return [
            f"boot benchmark, {time.strftime('%Y-%m-%d', time.gmtime())}, {machine()}",
            f"kernel {self.kernel}; " + "; ".join(f"{s.label} = {s.key} ({s.version})" for s in self.stubs),
            f"QEMU TCG, swtpm ({self.tpm_banks}); {self.jobs} boots at a time; {self.runs} boots per case of ours "
            f"and sd262, {self.peer_runs} of sd257 and sd252; medians",
            f"load average at start {l1:.2f} {l5:.2f} {l15:.2f}, at the end {e1:.2f} {e5:.2f} {e15:.2f}; "
            f"{self.seconds / 60:.1f} min",
        ]

    def table_phase(self) -> list:
        keys = [s.key for s in self.stubs]
        out = []
        for field, title in (("stub_cpu", "CPU seconds QEMU and swtpm spent in it (targets judged here: "
                                          "the machine's other work barely moves it)"),
                             ("stub_phase", "wall seconds")):
            out += ["", f"Stub phase, OVMF 'BdsDxe: starting' to Linux's first 'EFI stub:' line: {title}",
                    f"{'case':<10}" + "".join(f"{k:>9}" for k in keys)
                    + f"{'ours/262':>10}{'paired':>8}{'target':>8}  verdict"]
            for layout in self.layouts:
                a, paired = self.ratio(layout.name, field)
                target = PHASE_TARGETS.get(layout.name)
                verdict = "-" if paired is None or target is None else (
                    "met" if paired <= target else f"missed by {paired - target:.2f}")
                out.append(f"{layout.name:<10}"
                           + "".join(f"{fmt(self.stub_phase(k, layout.name, field)):>9}" for k in keys)
                           + f"{fmt(a):>10}{fmt(paired):>8}{fmt(target, '.2f'):>8}  {verdict}")
        return out

    def table_memory(self) -> list:
        keys = [s.key for s in self.stubs]
        out = ["", "EFI_LOADER_DATA held at handover (MiB; in brackets: above the same stub's no-sysext boot, "
               "per sysext byte); time to the initrd (s); our own peak allocation above no sysexts per sysext byte",
               f"{'case':<10}" + "".join(f"{k:>17}" for k in keys) + f"{'to initrd ours/262':>20}{'own peak':>10}"]
        for layout in self.layouts:
            cells = []
            for k in keys:
                held = median(s.loader_data for s in self.main(k, layout.name))
                base = median(s.loader_data for s in self.main(k, "none"))
                per = ((held - base) / layout.total) if held is not None and base is not None and layout.total else None
                cells.append(f"{fmt(held and held / MIB, '.1f')} ({fmt(per, '.2f')}x)")
            ti = [median(s.to_initrd for s in self.main(k, layout.name)) for k in ("ours", "sd262")]
            ti_text = f"{fmt(ti[0], '.1f')}/{fmt(ti[1], '.1f')}"
            out.append(f"{layout.name:<10}" + "".join(f"{c:>17}" for c in cells)
                       + f"{ti_text:>20}{fmt(self.peak_per_byte(layout), '.2f'):>9}x")
        return out

    def table_breakdown(self) -> list:
        names = [n for n in PHASE_ORDER]
        out = ["", "Where our stub phase goes (s, medians; efi-lib/timing.h; list/read/measure summed over both "
               "directories; kernel_stub = Linux's EFI stub from our jump to its LoadFile2 call)",
               f"{'case':<10}" + "".join(f"{n:>{max(len(n) + 1, 7)}}" for n in names) + f"{'sum':>7}{'host':>7}"]
        for layout in self.layouts:
            vals = [self.our_phase(layout.name, n) for n in names]
            total = sum(v for v in vals if v is not None)
            out.append(f"{layout.name:<10}" + "".join(f"{fmt(v, '.2f'):>{max(len(n) + 1, 7)}}" for n, v in zip(names, vals))
                       + f"{total:>7.2f}{fmt(self.stub_phase('ours', layout.name)):>7}")
        out += ["", "Every stub, from host stamps (s): stub phase = own work + Linux's EFI stub up to its LoadFile2 "
                "call (the latter taken from our boots of the same kernel: 'kernel'); then 'EFI stub:' line to the "
                "kernel's start (its uptime 0: PCR 9 initrd measurement, ExitBootServices), and on to the initrd",
                f"{'case':<10}{'stub':<7}{'phase':>8}{'kernel':>8}{'own':>8}{'->start':>9}{'->initrd':>10}"]
        for layout in self.layouts:
            kernel = self.our_phase(layout.name, "kernel_stub")
            for s in self.stubs:
                xs = self.main(s.key, layout.name)
                phase = median(x.stub_phase for x in xs)
                start = median(x.kernel_start - x.efi_stub_line for x in xs
                               if x.kernel_start is not None and x.efi_stub_line is not None)
                initrd = median(x.to_initrd - x.kernel_start for x in xs
                                if x.to_initrd is not None and x.kernel_start is not None)
                own = phase - kernel if phase is not None and kernel is not None else None
                out.append(f"{layout.name:<10}{s.key:<7}{fmt(phase):>8}{fmt(kernel):>8}{fmt(own):>8}"
                           f"{fmt(start):>9}{fmt(initrd):>10}")
        return out

    def series_rows(self, kind: str) -> list:
        """[(x, ours, 262)] for kind "mib" or "files", the main cases filling in 0/128 MiB and 64 files."""
        def phase(stub: str, layout: str) -> Optional[float]:
            xs = [s.stub_cpu for s in self.samples if s.stub == stub and s.layout == layout
                  and s.part in ("series", "main") and s.ok]
            return median(xs)
        if kind == "mib":
            points = [(0, "none"), (128, "1x128MiB")] + [(m, f"{m}MiB") for m in self.series_points["mib"]]
        else:
            points = [(64, "64-small")] + [(n, f"{n}files") for n in self.series_points["files"]]
        rows = [(x, phase("ours", name), phase("sd262", name)) for x, name in points]
        return sorted(r for r in rows if r[1] is not None or r[2] is not None)

    def table_series(self) -> list:
        out = []
        for kind, title in (("mib", "total MiB (one file; 0 = no sysexts)"), ("files", "file count (64 KiB each)")):
            rows = self.series_rows(kind)
            if len(rows) <= 1:
                continue
            out += ["", f"Series: stub phase (CPU s) against {title}; one boot per point except the main cases' medians",
                    f"{'x':>6}{'ours':>9}{'sd262':>9}{'ours/262':>10}"]
            for x, a, b in rows:
                out.append(f"{x:>6}{fmt(a):>9}{fmt(b):>9}{fmt(a / b if a and b else None):>10}")
        return out

    def table_ceiling(self) -> list:
        if not self.ceilings:
            return []
        out = ["", "Memory ceiling: the largest single sysext that boots with -m 1024, no TPM "
               "(bisection in 32 MiB steps)"]
        for key, size in self.ceilings.items():
            probes = [s for s in self.samples if s.part == "ceiling" and s.stub == key]
            tried = ", ".join(f"{s.layout[4:]}{'+' if s.ok else '-'}" for s in probes)
            out.append(f"  {key:<7}{size // MIB:>6} MiB   (probes: {tried})")
        ours, theirs = self.ceilings.get("ours"), self.ceilings.get("sd262")
        if ours and theirs:
            r = ours / theirs
            out.append(f"  ours/262 {r:.2f} (target >= {CEILING_TARGET}: "
                       f"{'met' if r >= CEILING_TARGET else f'missed by {CEILING_TARGET - r:.2f}'})")
        return out

    def text(self) -> str:
        return "\n".join(self.header() + self.table_phase() + self.table_memory() + self.table_breakdown()
                         + self.table_series() + self.table_ceiling()) + "\n"

    def json(self) -> dict:
        return {"header": self.header(), "ceilings": self.ceilings,
                "ratios_wall": {lay.name: self.ratio(lay.name) for lay in self.layouts},
                "ratios_cpu": {lay.name: self.ratio(lay.name, "stub_cpu") for lay in self.layouts},
                "samples": [dataclasses.asdict(s) for s in self.samples]}

    # ------------------------------------------------------------ plot

    def plot(self, png: Path) -> Optional[Path]:
        """Stub phase against MiB and against file count, ours and 262 (gnuplot); None without gnuplot."""
        if not shutil.which("gnuplot"):
            print("bench: gnuplot not found, no plot")
            return None
        data = {}
        for kind in ("mib", "files"):
            path = png.with_name(f"series-{kind}.dat")
            with open(path, "w") as f:
                f.write(f"# {kind} ours_s sd262_s\n")
                for x, a, b in self.series_rows(kind):
                    f.write(f"{x} {fmt(a, '.3f', 'NaN')} {fmt(b, '.3f', 'NaN')}\n")
            data[kind] = path
        label = next((s.label for s in self.stubs if s.key == "sd262"), "systemd-stub 262")
        script = f"""
set terminal pngcairo size 1100,440 font ",10" noenhanced
set output "{png}"
set multiplot layout 1,2 title "Stub phase, sysext-stub vs {label} (QEMU TCG, OVMF, swtpm; {time.strftime('%Y-%m-%d')})"
set key left top
set grid
set yrange [0:*]
set ylabel "stub phase (CPU seconds of QEMU and swtpm)"
set xlabel "sysexts on the ESP (MiB, one file)"
plot "{data['mib']}" using 1:2 with linespoints title "sysext-stub", "" using 1:3 with linespoints title "{label}"
set xlabel "sysext files (64 KiB each)"
set logscale x 2
plot "{data['files']}" using 1:2 with linespoints title "sysext-stub", "" using 1:3 with linespoints title "{label}"
unset multiplot
"""
        proc = subprocess.run(["gnuplot"], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise harness.HarnessError(f"gnuplot failed: {proc.stderr.decode(errors='replace')}")
        return png


