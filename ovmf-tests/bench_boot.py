#!/usr/bin/python3
"""`make bench`, boot part: our stub against systemd-stub 262, 257 and 252, side by side.

The same kernel, initrd, command line and sysexts go into one UKI per stub
(all built by `sysext-stub build`), booted under identical QEMU/OVMF/swtpm
settings, the serial console timestamped on the host as it arrives. Three
parts, all in one run:

* **main**: the cases none, 64 x 64 KiB, 8 x 8 MiB, 1 x 128 MiB. Each round
  boots every case with our stub and with systemd-stub 262 (and, in the
  first `--peer-runs` rounds, 257 and 252), in that order; `--jobs` boots
  run at once, so our stub and 262 boot side by side under the same load.
  Every boot must hand the case's sysexts to the initrd (it counts files
  and bytes) or the benchmark stops: a broken boot is not a fast one.
* **series**: stub phase against total MiB (one file of 256 or 512 MiB)
  and against file count (1, 16, 128 files of 64 KiB), ours and 262, one
  boot per point, each ending at Linux's first ``EFI stub:`` line (the main
  cases give the points at 0 and 128 MiB and at 64 files).
* **ceiling**: the largest single sysext that still boots (delivered to
  the initrd) in a guest with ``-m 1024``, bisected in 32 MiB steps below
  512 MiB, for ours, 262 and 252, without a TPM (measuring costs time, not
  memory) and with ``nokaslr`` (see Images.uki). 512 MiB is taken as
  failing without a boot: Linux alone holds the initrd twice while it
  unpacks it (its copy and the files).

Per main boot: the stub phase (OVMF's ``BdsDxe: starting`` line to Linux's
first ``EFI stub:`` line), in wall time and in the CPU time QEMU and swtpm
spent on it (which other work on the machine barely changes); our stub's own phases (its SysextStubPhaseUSec
variable, read in the initrd); the kernel's start (the initrd line's host
stamp less the guest's uptime); the time to the initrd; EFI_LOADER_DATA in
the kernel's EFI memory map (``efi=debug``); our stub's peak allocation.

Progress (one line per boot, with an estimate of the time left) goes to
stdout and to ``<out>/boot.log``; the tables to ``<out>/boot.txt``, every
figure to ``<out>/boot.json``, the series plot to ``<out>/series.png``.

Usage: ovmf-tests/bench_boot.py [--runs N] [--peer-runs N] [--jobs N] [--cases a,b]
                                [--no-series] [--no-ceiling] [--out DIR] [--keep]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report  # noqa: E402
import debian  # noqa: E402
import harness  # noqa: E402

ROOT = harness.REPO_ROOT
CLI = ROOT / "build" / "sysext-stub"
OUR_STUB = ROOT / "build" / "sysext-stub-x64.efi"
STUB_IN_PACKAGE = Path("usr/lib/systemd/boot/efi/linuxx64.efi.stub")
CMDLINE = "console=ttyS0 panic=-1 efi=debug"
INITRD_MARKER = "@@BENCH-INITRD-UP@@"
EFI_STUB_LINE = "EFI stub: "
MIB = 1 << 20
KIB = 1 << 10
#: swtpm_setup's own default bank: what a TPM usually has active.
TPM_BANKS = "sha256"
MAIN_MEMORY_MIB = 2048
#: The series goes to 512 MiB of sysexts; systemd-stub holds several copies of them.
SERIES_MEMORY_MIB = 4096
CEILING_MEMORY_MIB = 1024
CEILING_STEP = 32 * MIB
#: /init's name for the file listing the modules it loads (efivarfs, for our phases variable).
MODULE_LIST = "etc/bench-modules"


@dataclasses.dataclass(frozen=True)
class Stub:
    key: str      #: short name in tables and file names
    label: str    #: what the report calls it
    path: Path
    version: str


@dataclasses.dataclass(frozen=True)
class Layout:
    """The sysexts on one ESP: name and the size of each file."""
    name: str
    sizes: tuple

    @property
    def total(self) -> int:
        return sum(self.sizes)


MAIN_LAYOUTS = {
    "none": Layout("none", ()),
    "64-small": Layout("64-small", (64 * KIB,) * 64),
    "8x8MiB": Layout("8x8MiB", (8 * MIB,) * 8),
    "1x128MiB": Layout("1x128MiB", (128 * MIB,)),
}
#: Series points besides the main cases (which give 0 and 128 MiB, and 64 files).
SERIES_MIB = (256, 512)
SERIES_FILES = (1, 16, 128)
SERIES_FILE_SIZE = 64 * KIB

# /init of the benchmark initrd: the guest's uptime first, then what it got, then power off.
INIT = """#!/bin/sh
/bin/busybox mount -t proc proc /proc
read up idle < /proc/uptime
echo "@MARKER@ $up"
/bin/busybox mount -t sysfs sysfs /sys
for m in $(/bin/busybox cat /@MODULES@); do /bin/busybox insmod "$m"; done
/bin/busybox mount -t efivarfs efivarfs /sys/firmware/efi/efivars
echo "@BEGIN@"
/bin/busybox stat -c %s /.extra/sysext/* /.extra/global_sysext/* 2>/dev/null |
    /bin/busybox awk '{ n++; s += $1 } END { printf "bench-sysexts %d %d\\n", n, s }'
v=/sys/firmware/efi/efivars/@VARIABLE@-@LOADER_GUID@
[ -f $v ] && echo "bench-phases $(/bin/busybox tr -cd 'a-z0-9_= ' < $v)"
echo "@END@"
/bin/busybox poweroff -f
while :; do /bin/busybox sleep 60; done
"""

MEMMAP_RE = re.compile(r"efi: mem\d+: \[([A-Za-z ]+?)\s*\|[^\]]*\] range=\[0x([0-9a-f]+)-0x([0-9a-f]+)\]")
OUR_MEMORY_RE = re.compile(r"sysext-stub: memory: (\d+) bytes held, peak (\d+) bytes")
#: After the kernel's LoadFile2 call, where the sysexts are read and measured: its peak covers that too.
OUR_RELEASE_RE = re.compile(r"handed to the kernel; (\d+) bytes released, memory: (\d+) bytes held, peak (\d+)")
PHASES_RE = re.compile(r"bench-phases (.*)")
UPTIME_RE = re.compile(re.escape(INITRD_MARKER) + r" ([0-9.]+)")
SYSEXTS_RE = re.compile(r"bench-sysexts (\d+) (\d+)")


class BenchError(harness.HarnessError):
    """A boot that should have worked did not: the benchmark stops."""


# ----------------------------------------------------------------- the stubs

def _packaged_stub(key: str, suite: str, release: str) -> Optional[Stub]:
    """systemd-stub from Debian `suite` (never installed), or None without network."""
    try:
        root = debian.fetch_package(suite, "systemd-boot-efi")
    except debian.NetworkUnavailable as exc:
        log(f"bench: systemd-stub from {release} left out: {exc}")
        return None
    version = root.name.split("_", 1)[1].replace("%3a", ":")
    return Stub(key, f"systemd-stub {version.split('-')[0]}", root / STUB_IN_PACKAGE, version)


def find_stubs() -> list:
    """Ours, then the peers: systemd-stub 262 (unstable), 257 (Debian 13), 252 (Debian 12, installed)."""
    stubs = [Stub("ours", "sysext-stub", OUR_STUB, harness.project_version())]
    for key, suite, release in (("sd262", "sid", "Debian unstable"), ("sd257", "trixie", "Debian 13")):
        stub = _packaged_stub(key, suite, release)
        if stub:
            stubs.append(stub)
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "systemd-boot-efi"], capture_output=True, text=True)
    stubs.append(Stub("sd252", f"systemd-stub {r.stdout.strip().split('-')[0] or '252'}", harness.SYSTEMD_STUB,
                      r.stdout.strip() or "?"))
    for s in stubs:
        if not s.path.is_file():
            raise BenchError(f"{s.label}: {s.path} missing")
    return stubs


# ----------------------------------------------------------------- images

def bench_initrd(path: Path, kernel: harness.Kernel) -> None:
    """A tiny initrd: busybox, efivarfs and the /init above."""
    cpio = harness.CpioArchive()
    for d in ("bin", "dev", "proc", "sys", "etc"):
        cpio.add_dir(d)
    cpio.add_chardev("dev/console", 5, 1)
    cpio.add_file("bin/busybox", harness.BUSYBOX.read_bytes(), 0o755)
    cpio.add_symlink("bin/sh", "busybox")
    modules = []
    for filename, data in harness.collect_modules(kernel, "efivarfs"):
        cpio.add_file(f"lib/{filename}", data)
        modules.append(f"/lib/{filename}\n")
    cpio.add_file(MODULE_LIST, "".join(modules).encode())
    init = INIT
    for key, value in (("@MARKER@", INITRD_MARKER), ("@BEGIN@", harness.FACTS_BEGIN), ("@END@", harness.FACTS_END),
                       ("@MODULES@", MODULE_LIST), ("@VARIABLE@", bench_report.PHASES_VARIABLE),
                       ("@LOADER_GUID@", harness.LOADER_VENDOR_GUID)):
        init = init.replace(key, value)
    cpio.add_file("init", init.encode(), 0o755)
    path.write_bytes(cpio.to_bytes())


def write_blob(path: Path, size: int, seed: str) -> None:
    """`size` incompressible bytes (a 16 MiB random block, repeated), the same for every stub."""
    block = random.Random(seed).randbytes(min(size, 16 * MIB))
    with open(path, "wb") as f:
        left = size
        while left:
            f.write(block[:left])
            left -= min(left, len(block))


class Images:
    """UKIs per stub and ESP images per (layout, stub), built when first needed."""

    def __init__(self, work: Path, kernel: harness.Kernel, stubs: list) -> None:
        self.work, self.kernel = work, kernel
        self.lock = threading.Lock()
        self.building: dict = {}
        self.initrd = work / "initrd.cpio"
        bench_initrd(self.initrd, kernel)
        self.ukis = {}
        for s in stubs:
            for part in ("main", "ceiling"):
                self.ukis[s.key, part] = self.uki(s, part)

    def uki(self, s: Stub, part: str) -> Path:
        """The ceiling's UKIs boot with nokaslr: where KASLR puts the kernel splits the guest's free
        memory differently each boot, and the largest sysext that fits would move with it."""
        uki = self.work / f"{s.key}-{part}.efi"
        cmdline = CMDLINE + (" nokaslr" if part == "ceiling" else "")
        harness.run([CLI, "build", "--stub", s.path, "--linux", self.kernel.vmlinuz, "--initrd", self.initrd,
                     "--cmdline", cmdline, "--os-release", 'ID=debian\nPRETTY_NAME="bench"\n',
                     "--uname", self.kernel.version, "--output", uki], what=f"building the {s.label} UKI")
        return uki

    def esp(self, layout: Layout, stub: Stub, part: str = "main") -> Path:
        """The ESP for `layout` with `stub`'s UKI (built once; safe from several threads)."""
        part = "ceiling" if part == "ceiling" else "main"
        path = self.work / f"{layout.name}-{stub.key}-{part}.img"
        with self.lock:
            gate = self.building.setdefault(path, threading.Lock())
        with gate:
            if path.exists():
                return path
            files = {}
            for i, size in enumerate(layout.sizes):
                # *.sysext.raw: every stub's pickup rule takes it (systemd's is *.raw).
                name = f"ext{i:03d}.sysext.raw"
                blob = self.work / f"{layout.name}-{name}"
                with self.lock:
                    blob_gate = self.building.setdefault(blob, threading.Lock())
                with blob_gate:
                    if not blob.exists():
                        write_blob(blob, size, f"{layout.name}/{name}")
                files[f"EFI/BOOT/BOOTX64.EFI.extra.d/{name}"] = str(blob)
            harness.build_esp(path, {"EFI/BOOT/BOOTX64.EFI": str(self.ukis[stub.key, part]), **files},
                              dirs=["EFI/BOOT/BOOTX64.EFI.extra.d"])
            return path

    def drop(self, layout: Layout, stub: Optional[Stub] = None) -> None:
        """Delete a layout's ESP for one stub (or its sysext files, stub None) once no longer needed."""
        if stub is not None:
            for part in ("main", "ceiling"):
                (self.work / f"{layout.name}-{stub.key}-{part}.img").unlink(missing_ok=True)
            return
        for blob in self.work.glob(f"{layout.name}-ext*.sysext.raw"):
            blob.unlink(missing_ok=True)


# ----------------------------------------------------------------- one boot

def loader_data_bytes(log_text: str) -> Optional[int]:
    """EFI_LOADER_DATA bytes in the kernel's EFI memory map (efi=debug), None if it was not printed."""
    total, seen = 0, False
    for kind, start, end in MEMMAP_RE.findall(log_text):
        seen = True
        if kind.strip() == "Loader Data":
            total += int(end, 16) - int(start, 16) + 1
    return total if seen else None


def parse_phases(text: str) -> tuple:
    """Our phases line as ({phase: seconds}, the stub's TSC kHz)."""
    fields = dict(kv.split("=", 1) for kv in text.split() if "=" in kv)
    ours_khz = int(fields.pop("tsc_khz", "0") or 0)
    return {k: int(v) / 1e6 for k, v in fields.items()}, ours_khz


@dataclasses.dataclass
class Sample:
    """What one boot gave."""
    stub: str
    layout: str
    part: str                 #: "main", "series" or "ceiling"
    round: int
    ok: bool                  #: delivered the layout's sysexts (main, ceiling) or reached Linux (series)
    reason: str               #: how the boot ended (harness reason)
    duration: float           #: wall seconds of the whole boot
    stub_phase: Optional[float] = None
    stub_cpu: Optional[float] = None  #: CPU seconds QEMU and swtpm spent in the stub phase
    to_bds: Optional[float] = None
    kernel_start: Optional[float] = None  #: host seconds since QEMU start at the guest's uptime 0
    efi_stub_line: Optional[float] = None
    to_initrd: Optional[float] = None
    loader_data: Optional[int] = None
    our_peak: Optional[int] = None
    our_held: Optional[int] = None
    phases: dict = dataclasses.field(default_factory=dict)  #: ours: phase -> seconds
    tsc_skew: Optional[float] = None  #: our in-guest calibration / the kernel's TSC rate


def boot_once(esp: Path, layout: Layout, stub: Stub, part: str, rnd: int, workdir: Path) -> Sample:
    """Boot one image, measure it; raise BenchError only for a main boot that went wrong."""
    tpm = part != "ceiling"
    memory = {"main": MAIN_MEMORY_MIB, "series": SERIES_MEMORY_MIB, "ceiling": CEILING_MEMORY_MIB}[part]
    result = harness.boot(esp, tpm=tpm, tpm_banks=TPM_BANKS, serial_stamps=True, memory_mib=memory,
                          timeout=300 if part == "ceiling" else 900, workdir=workdir,
                          stop_after=EFI_STUB_LINE if part == "series" else None)
    text = result.log
    sample = Sample(stub=stub.key, layout=layout.name, part=part, round=rnd, ok=False, reason=result.reason,
                    duration=result.duration)
    bds = harness.stamp_of(result, "BdsDxe: starting")
    efistub = harness.stamp_of(result, EFI_STUB_LINE)
    if bds is not None and efistub is not None:
        sample.stub_phase, sample.to_bds, sample.efi_stub_line = efistub - bds, bds, efistub
        cpu = (harness.cpu_of(result, "BdsDxe: starting"), harness.cpu_of(result, EFI_STUB_LINE))
        sample.stub_cpu = cpu[1] - cpu[0] if None not in cpu else None
    if part == "series":
        sample.ok = result.reason == "stopped" and sample.stub_phase is not None
    else:
        got = SYSEXTS_RE.search(text)
        sample.ok = (result.reason == "poweroff" and got is not None
                     and (int(got.group(1)), int(got.group(2))) == (len(layout.sizes), layout.total))
        sample.to_initrd = harness.stamp_of(result, INITRD_MARKER)
        up = UPTIME_RE.search(text)
        marker_end = harness.stamp_of(result, up.group(0)) if up else None
        if marker_end is not None:
            sample.kernel_start = marker_end - float(up.group(1))
        sample.loader_data = loader_data_bytes(text)
        mem = OUR_MEMORY_RE.search(text)
        released = OUR_RELEASE_RE.search(text)
        if mem:
            sample.our_peak = int(released.group(3)) if released else int(mem.group(2))
            sample.our_held = int(released.group(2)) if released else int(mem.group(1))
        phases = PHASES_RE.search(text)
        khz = re.search(r"tsc: Detected ([0-9.]+) MHz", text)
        if phases:
            sample.phases, ours_khz = parse_phases(phases.group(1))
            if khz and ours_khz:
                # The kernel calibrates the TSC better than our 1 ms Stall(): rescale to its rate.
                sample.tsc_skew = ours_khz / (float(khz.group(1)) * 1000)
                sample.phases = {k: v * sample.tsc_skew for k, v in sample.phases.items()}
    if part == "main" and (not sample.ok or sample.stub_phase is None or sample.loader_data is None):
        raise BenchError(f"{stub.label} {layout.name}: the boot did not deliver {len(layout.sizes)} sysexts "
                         f"({layout.total} bytes) with every figure\n{result.describe()}")
    return sample


# ----------------------------------------------------------------- scheduling and progress

_log_file = None
_log_lock = threading.Lock()


def log(line: str) -> None:
    """A progress line on stdout and in boot.log."""
    with _log_lock:
        print(line, flush=True)
        if _log_file:
            _log_file.write(line + "\n")
            _log_file.flush()


def expected_seconds(layout: Layout, part: str) -> float:
    """A rough a-priori cost of one boot, only to weigh the time-left estimate."""
    mib = layout.total / MIB
    files = len(layout.sizes)
    if part == "series":
        return 16 + 0.12 * mib + 0.05 * files
    if part == "ceiling":
        return 30 + 0.05 * mib
    return 30 + 0.25 * mib + 0.05 * files


class Progress:
    """Counts boots and estimates the time left from what the finished ones took."""

    def __init__(self, planned: list) -> None:
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.total = len(planned)
        self.weight_left = sum(planned)
        self.weight_done = 0.0
        self.done = 0

    def add(self, weights: list) -> None:
        with self.lock:
            self.total += len(weights)
            self.weight_left += sum(weights)

    def finish(self, weight: float, what: str) -> None:
        with self.lock:
            self.done += 1
            self.weight_done += weight
            self.weight_left -= weight
            elapsed = time.monotonic() - self.start
            left = elapsed / self.weight_done * self.weight_left if self.weight_done else 0
            log(f"bench [{self.done:3d}/{self.total}] {what}; {elapsed / 60:4.1f} min so far, "
                f"about {left / 60:.0f} min left")


class Runner:
    """Boots on `jobs` workers, in the order given; each finished boot prints a progress line."""

    def __init__(self, images: Images, jobs: int, progress: Progress, work: Path) -> None:
        self.images, self.progress, self.work = images, progress, work
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        self.counter = 0
        self.lock = threading.Lock()

    def submit(self, layout: Layout, stub: Stub, part: str, rnd: int,
               after: Optional[Callable[[], None]] = None) -> concurrent.futures.Future:
        with self.lock:
            self.counter += 1
            workdir = self.work / f"boot-{self.counter:03d}-{part}-{layout.name}-{stub.key}"

        def job() -> Sample:
            esp = self.images.esp(layout, stub, part)
            try:
                s = boot_once(esp, layout, stub, part, rnd, workdir)
            finally:
                if after:
                    after()
                shutil.rmtree(workdir, ignore_errors=True)
            phase = (f"stub phase {s.stub_phase:6.2f} s ({s.stub_cpu:5.2f} s CPU)" if s.stub_phase is not None
                     else "no stub phase")
            size = f"{layout.total / MIB:.0f} MiB" if part == "ceiling" else layout.name
            self.progress.finish(expected_seconds(layout, part),
                                 f"{part:<7} r{rnd + 1} {size:<9} {stub.label:<18} {phase}, "
                                 f"boot {s.duration:4.0f} s{'' if s.ok else ', FAILED (' + s.reason + ')'}")
            return s

        return self.pool.submit(job)


def run_main(runner: Runner, stubs: list, layouts: list, runs: int, peer_runs: int) -> list:
    """Rounds of every case: ours and 262 every round, 257 and 252 in the first `peer_runs`."""
    futures = []
    for rnd in range(runs):
        for layout in layouts:
            for stub in stubs:
                if stub.key in ("ours", "sd262") or rnd < peer_runs:
                    futures.append(runner.submit(layout, stub, "main", rnd))
    return [f.result() for f in futures]


def main_plan(stubs: list, layouts: list, runs: int, peer_runs: int) -> list:
    return [expected_seconds(layout, "main") for rnd in range(runs) for layout in layouts for s in stubs
            if s.key in ("ours", "sd262") or rnd < peer_runs]


def series_layouts() -> list:
    return ([Layout(f"{m}MiB", (m * MIB,)) for m in SERIES_MIB]
            + [Layout(f"{n}files", (SERIES_FILE_SIZE,) * n) for n in SERIES_FILES])


def run_series(runner: Runner, images: Images, stubs: list) -> list:
    """One boot per point and stub (ours, 262), each ESP and sysext file dropped after its boot."""
    pair = [s for s in stubs if s.key in ("ours", "sd262")]
    futures = []
    for layout in series_layouts():
        left = {"n": len(pair)}
        lock = threading.Lock()
        for stub in pair:
            def after(layout=layout, stub=stub, left=left, lock=lock) -> None:
                images.drop(layout, stub)
                with lock:
                    left["n"] -= 1
                    if left["n"] == 0:
                        images.drop(layout)
            futures.append(runner.submit(layout, stub, "series", 0, after))
    return [f.result() for f in futures]


def bisect_ceiling(runner: Runner, images: Images, stub: Stub) -> tuple:
    """The largest multiple of 32 MiB below 512 MiB that boots with -m 1024; and every probe."""
    # In steps: 0 boots; half the guest's RAM cannot (see the module's docstring).
    lo, hi = 0, CEILING_MEMORY_MIB * MIB // 2 // CEILING_STEP
    probes = []
    while hi - lo > 1:
        mid = (lo + hi) // 2
        layout = Layout(f"ceil{mid * CEILING_STEP // MIB}MiB", (mid * CEILING_STEP,))

        def after(layout=layout) -> None:
            images.drop(layout, stub)
            images.drop(layout)
        s = runner.submit(layout, stub, "ceiling", 0, after).result()
        probes.append(s)
        lo, hi = (mid, hi) if s.ok else (lo, mid)
    return lo * CEILING_STEP, probes


def run_ceiling(runner: Runner, images: Images, stubs: list) -> dict:
    """The three bisections side by side (each one boot at a time)."""
    chosen = [s for s in stubs if s.key in ("ours", "sd262", "sd252")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        results = {s.key: pool.submit(bisect_ceiling, runner, images, s) for s in chosen}
        return {k: f.result() for k, f in results.items()}


# ----------------------------------------------------------------- main

def main() -> int:
    global _log_file
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="boots per case of ours and of systemd-stub 262 (default 5)")
    ap.add_argument("--peer-runs", type=int, default=1, help="boots per case of systemd-stub 257 and 252 (default 1)")
    ap.add_argument("--jobs", type=int, default=2, help="boots at once (default 2: ours and 262 side by side)")
    ap.add_argument("--cases", default=",".join(MAIN_LAYOUTS), help="main cases, of: " + ", ".join(MAIN_LAYOUTS))
    ap.add_argument("--no-series", action="store_true", help="skip the scaling series")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the memory ceiling")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (images, serial logs)")
    args = ap.parse_args()
    layouts = [MAIN_LAYOUTS[c] for c in args.cases.split(",")]
    if "none" not in args.cases.split(","):
        layouts.insert(0, MAIN_LAYOUTS["none"])  # the baseline for memory above no sysexts
    args.out.mkdir(parents=True, exist_ok=True)
    _log_file = open(args.out / "boot.log", "w")
    work = Path(tempfile.mkdtemp(prefix="sysext-stub-bench-"))
    try:
        load = os.getloadavg()
        log(f"bench: boots under QEMU TCG, {args.jobs} at a time; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        kernel = harness.fetch_kernel()
        stubs = find_stubs()
        log("bench: stubs: " + "; ".join(f"{s.label} ({s.version})" for s in stubs))
        images = Images(work, kernel, stubs)
        plan = main_plan(stubs, layouts, args.runs, args.peer_runs)
        if not args.no_series:
            plan += [expected_seconds(lay, "series") for lay in series_layouts() for _ in range(2)]
        if not args.no_ceiling:
            plan += [expected_seconds(Layout("c", (300 * MIB,)), "ceiling")] * 12
        progress = Progress(plan)
        runner = Runner(images, args.jobs, progress, work)
        try:
            samples = run_main(runner, stubs, layouts, args.runs, args.peer_runs)
        except BenchError as exc:
            log(f"bench: stopped: {exc}")
            runner.pool.shutdown(cancel_futures=True)
            return 1
        if not args.no_series:
            samples += run_series(runner, images, stubs)
        ceilings = {} if args.no_ceiling else run_ceiling(runner, images, stubs)
        runner.pool.shutdown()
        for _, probes in ceilings.values():
            samples += probes
        loads = os.getloadavg()
        report = bench_report.Report(
            stubs=stubs, layouts=layouts, samples=samples, ceilings={k: v[0] for k, v in ceilings.items()},
            kernel=kernel.version, runs=args.runs, peer_runs=args.peer_runs, jobs=args.jobs,
            load=(load, loads), seconds=time.monotonic() - progress.start, tpm_banks=TPM_BANKS,
            series_points={"mib": SERIES_MIB, "files": SERIES_FILES})
        text = report.text()
        (args.out / "boot.txt").write_text(text)
        (args.out / "boot.json").write_text(json.dumps(report.json(), indent=1) + "\n")
        png = report.plot(args.out / "series.png") if not args.no_series else None
        log(text.rstrip("\n"))
        log(f"bench: {len(samples)} boots in {(time.monotonic() - progress.start) / 60:.1f} min; "
            f"{args.out / 'boot.txt'}" + (f", {png}" if png else ""))
        return 0
    finally:
        if args.keep:
            log(f"bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        _log_file.close()


if __name__ == "__main__":
    sys.exit(main())
