#!/usr/bin/env python3
"""Boot-test harness for sysext-stub: QEMU + OVMF + swtpm, standard library only.

Pieces (each usable on its own, and from the command line, see ``--help``):

* :func:`fetch_kernel` downloads and unpacks Debian's current amd64 kernel
  package into a cache directory outside the git tree.
* :func:`build_initrd` writes a reproducible newc cpio with busybox and an
  ``/init`` that prints machine-readable facts about the booted system
  (kernel command line, ``/.extra``, chosen files, PCRs, TCG event log,
  systemd-stub EFI variables) between two marker lines on the serial port,
  then powers the machine off.
* :func:`build_esp` writes a GPT disk image with one FAT32 EFI System
  Partition, without root, loop devices or partitioning tools.
* :func:`build_uki_objcopy` glues a UKI together around a stub with objcopy
  (the Debian 12 way).
* :func:`boot` boots an ESP image under QEMU (TCG) with OVMF and, optionally,
  a fresh swtpm TPM 2.0, and returns the serial log and the parsed facts.
* :func:`parse_facts` turns a serial log into a :class:`Facts` object.

Environment variables:

* ``SYSEXT_STUB_CACHE``: cache base directory (default
  ``${XDG_CACHE_HOME:-~/.cache}/sysext-stub``); the kernel goes below
  ``kernel/`` in it.
* ``SYSEXT_STUB_KEEP=1``: keep the work directories, swtpm state and logs
  that :func:`boot` would otherwise delete.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import lzma
import os
import re
import shutil
import socket
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------
# Constants shared with the tests
# --------------------------------------------------------------------------

FACTS_BEGIN = "@@SYSEXT-STUB-FACTS-BEGIN@@"
FACTS_END = "@@SYSEXT-STUB-FACTS-END@@"

#: Vendor GUID of systemd's boot loader interface variables (LoaderDevicePartUUID, StubInfo, ...).
LOADER_VENDOR_GUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
#: EFI global variable vendor GUID (SecureBoot, ...).
EFI_GLOBAL_GUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"



def project_version() -> str:
    """VERSION from the top-level Makefile (what StubInfo reports)."""
    for line in (REPO_ROOT / "Makefile").read_text().splitlines():
        if line.startswith("VERSION :="):
            return line.split(":=", 1)[1].strip()
    raise RuntimeError("no VERSION in Makefile")


#: GPT partition type of an EFI System Partition.
ESP_TYPE_GUID = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
#: Fixed unique GUID of the ESP written by build_esp (reproducible images;
#: this is what systemd-stub reports as LoaderDevicePartUUID).
ESP_PARTITION_GUID = uuid.UUID("5d4b8b2e-0e1c-4f5a-9c3e-7a1b2c3d4e5f")
#: Fixed disk GUID of the images written by build_esp.
ESP_DISK_GUID = uuid.UUID("0f6c9a52-3b7d-4e21-8a90-1c2d3e4f5a6b")

#: In the test initrd: list of absolute paths whose size and sha256 /init reports.
CHECK_LIST_PATH = "/etc/sysext-stub-check"
#: In the test initrd: kernel modules /init loads with insmod, in order.
MODULE_LIST_PATH = "/etc/sysext-stub-modules"
#: Where build_initrd puts a test's hook script, run by /init after the first facts.
HOOK_PATH = "/etc/sysext-stub-hook"
#: Present in an initrd built with reboot=True: /init reboots after its facts instead of powering off
#: (for several boots in one QEMU run; see boot()'s `boots`).
REBOOT_FLAG_PATH = "/etc/sysext-stub-reboot"

OVMF_DIR = Path("/usr/share/OVMF")
OVMF_CODE = OVMF_DIR / "OVMF_CODE_4M.fd"
OVMF_VARS = OVMF_DIR / "OVMF_VARS_4M.fd"
OVMF_CODE_SECBOOT = OVMF_DIR / "OVMF_CODE_4M.secboot.fd"
OVMF_VARS_SNAKEOIL = OVMF_DIR / "OVMF_VARS_4M.snakeoil.fd"

SYSTEMD_STUB = Path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub")
BUSYBOX = Path("/bin/busybox")

#: Serial-log substrings meaning the firmware gave up booting (OVMF shell or boot manager).
SHELL_MARKERS = (
    '"EFI Internal Shell" from',
    "UEFI Interactive Shell",
    "Shell> ",
    "Press ESC in 5 seconds to skip startup.nsh",
    "No bootable option or device was found",
)
#: Serial-log substrings meaning a crash: Linux panic, an OVMF CPU exception (dead loop), a halted systemd-stub.
PANIC_MARKERS = (
    "Kernel panic - not syncing",
    "!!!! X64 Exception Type",
    ", halting.",  # a failed assertion in systemd-stub/systemd-boot (e.g. out of memory): it halts for good
)

#: Seconds to wait for QEMU to exit once the facts END marker is out.
POWEROFF_GRACE = 30
#: The same after the last of several boots (boot()'s `boots`): the guest reboots once more, and the
#: firmware, the shell's startup.nsh countdown and its `reset -s` come before the power-off.
REBOOT_POWEROFF_GRACE = 180

SECTOR = 512
MIB = 1024 * 1024

StrPath = Union[str, os.PathLike]


class HarnessError(RuntimeError):
    """A harness step failed; the message names the file or command."""


def keep_requested() -> bool:
    """True when SYSEXT_STUB_KEEP asks to keep work directories and logs."""
    return os.environ.get("SYSEXT_STUB_KEEP", "") not in ("", "0", "no", "false")


def cache_base() -> Path:
    """Cache base directory: $SYSEXT_STUB_CACHE or ${XDG_CACHE_HOME:-~/.cache}/sysext-stub."""
    env = os.environ.get("SYSEXT_STUB_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "sysext-stub"


def run(cmd: Sequence[StrPath], *, cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, str]] = None, what: str = "") -> str:
    """Run a command, return its stdout; raise HarnessError with its output on failure."""
    argv = [str(c) for c in cmd]
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = subprocess.run(argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise HarnessError(f"{what or argv[0]}: command not found: {argv[0]} ({exc})") from exc
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
        raise HarnessError(f"{what + ': ' if what else ''}command failed with exit code "
                           f"{proc.returncode}: {' '.join(argv)}\n{out}")
    return proc.stdout.decode(errors="replace")


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Kernel:
    """An unpacked Debian kernel package."""
    version: str        #: e.g. "6.1.0-56-amd64" (uname -r)
    vmlinuz: Path       #: the EFI-stub kernel image
    modules_dir: Path   #: <root>/lib/modules/<version>
    root: Path          #: where the .deb was unpacked
    deb: Optional[Path] = None


def _ensure_outside_repo(path: Path) -> None:
    """Refuse cache locations inside the git tree."""
    resolved = path.resolve()
    if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
        raise HarnessError(f"cache directory {path} is inside the git tree {REPO_ROOT}; "
                           "set SYSEXT_STUB_CACHE to a directory outside it")


def kernel_package_name() -> str:
    """Name of the package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64."""
    cmd = ["apt-cache", "depends", "linux-image-amd64"]
    try:
        out = run(cmd, what="looking up the Debian kernel package")
    except HarnessError as exc:
        raise HarnessError(f"{exc}\n(no package lists? run apt-get update)") from exc
    m = re.search(r"^\s*Depends:\s*(linux-image-[0-9][^\s<>]*)", out, re.M)
    if not m:
        raise HarnessError("`apt-cache depends linux-image-amd64` names no linux-image-* "
                           f"dependency (empty package lists? run apt-get update). Output:\n{out}")
    return m.group(1)


def _find_deb(cache: Path, package: str) -> Optional[Path]:
    """The cached .deb of a package, newest name first, or None."""
    debs = sorted(cache.glob(f"{package}_*.deb"))
    return debs[-1] if debs else None


def _download_deb(cache: Path, package: str) -> Path:
    """apt-get download a package into the cache (atomically via a temporary directory)."""
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    try:
        try:
            run(["apt-get", "download", package], cwd=tmp, what=f"downloading {package}")
        except HarnessError as exc:
            raise HarnessError(f"{exc}\n(stale or empty package lists? run apt-get update)") from exc
        debs = list(tmp.glob(f"{package}_*.deb"))
        if len(debs) != 1:
            raise HarnessError(f"apt-get download {package} left {debs} in {tmp}, expected one .deb")
        target = cache / debs[0].name
        os.replace(debs[0], target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack_deb(cache: Path, deb: Path) -> Path:
    """dpkg -x a .deb into cache/<deb stem>/ (once; atomically via a temporary directory)."""
    root = cache / deb.name[: -len(".deb")]
    if root.is_dir():
        return root
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache))
    try:
        run(["dpkg", "-x", deb, tmp], what=f"unpacking {deb}")
        os.rename(tmp, root)
    except OSError:
        if not root.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _kernel_from_root(root: Path, deb: Optional[Path]) -> Kernel:
    """Locate vmlinuz and the module tree in an unpacked kernel package."""
    images = sorted((root / "boot").glob("vmlinuz-*"))
    if len(images) != 1:
        raise HarnessError(f"expected one boot/vmlinuz-* in {root}, found {images}")
    version = images[0].name[len("vmlinuz-"):]
    modules = root / "lib" / "modules" / version
    if not modules.is_dir():
        raise HarnessError(f"kernel package unpacked in {root} has no {modules}")
    return Kernel(version=version, vmlinuz=images[0], modules_dir=modules, root=root, deb=deb)


def fetch_kernel(cache_dir: Optional[StrPath] = None) -> Kernel:
    """Download (or reuse) and unpack Debian's current amd64 kernel; return its paths.

    The package is the one ``linux-image-amd64`` depends on. The .deb and its
    unpacked tree stay in ``cache_dir`` (default: ``<cache_base()>/kernel``),
    never in the git tree.
    """
    cache = Path(cache_dir) if cache_dir is not None else cache_base() / "kernel"
    _ensure_outside_repo(cache)
    cache.mkdir(parents=True, exist_ok=True)
    package = kernel_package_name()
    deb = _find_deb(cache, package) or _download_deb(cache, package)
    return _kernel_from_root(_unpack_deb(cache, deb), deb)


# --------------------------------------------------------------------------
# Initrd
# --------------------------------------------------------------------------

class CpioArchive:
    """A reproducible newc cpio archive (uid/gid 0, mtime 0, entries sorted by path)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, bytes, int]] = {}  # path -> (mode, data, rdev)

    @staticmethod
    def _norm(path: str) -> str:
        norm = os.path.normpath("/" + path).lstrip("/")
        if not norm or norm == ".":
            raise ValueError(f"bad archive path {path!r}")
        return norm

    def add_dir(self, path: str, mode: int = 0o755) -> None:
        """Add a directory (and its parents)."""
        norm = self._norm(path)
        parent = os.path.dirname(norm)
        if parent:
            self.add_dir(parent)
        if norm not in self._entries:
            self._entries[norm] = (0o040000 | mode, b"", 0)

    def _add(self, path: str, mode: int, data: bytes, rdev: int = 0) -> None:
        norm = self._norm(path)
        parent = os.path.dirname(norm)
        if parent:
            self.add_dir(parent)
        self._entries[norm] = (mode, data, rdev)

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Add a regular file (and its parent directories)."""
        self._add(path, 0o100000 | mode, data)

    def add_symlink(self, path: str, target: str) -> None:
        """Add a symbolic link."""
        self._add(path, 0o120777, target.encode())

    def add_chardev(self, path: str, major: int, minor: int, mode: int = 0o600) -> None:
        """Add a character device node."""
        self._add(path, 0o020000 | mode, b"", (major << 8) | minor)

    @staticmethod
    def _record(ino: int, name: str, mode: int, data: bytes, rdev: int) -> bytes:
        nlink = 2 if mode & 0o170000 == 0o040000 else 1
        name_b = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev >> 8, rdev & 0xFF, len(name_b), 0)
        head = b"070701" + b"".join(b"%08x" % f for f in fields) + name_b
        head += b"\0" * (-len(head) % 4)
        return head + data + b"\0" * (-len(data) % 4)

    def to_bytes(self) -> bytes:
        """Serialize, parents before children, ending with the TRAILER!!! record."""
        out = [self._record(ino, name, *self._entries[name])
               for ino, name in enumerate(sorted(self._entries), start=1)]
        out.append(self._record(0, "TRAILER!!!", 0, b"", 0))
        return b"".join(out)


INIT_SCRIPT = r"""#!/bin/sh
# /init of the sysext-stub boot-test initrd (written by ovmf-tests/harness.py).
# No "set -e": any step may fail; the script must always reach poweroff.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev
# Facts go to the first serial port whatever console= says.
[ -c /dev/ttyS0 ] && exec >/dev/ttyS0 2>&1 </dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
dmesg -n 1
echo 1 > /proc/sys/kernel/printk
mount -t securityfs securityfs /sys/kernel/security
if [ -f @MODULES@ ]; then
    while read -r m; do
        [ -n "$m" ] && insmod "$m"
    done < @MODULES@
fi
mount -t efivarfs efivarfs /sys/firmware/efi/efivars

@FUNCTIONS@
echo "@BEGIN@"
echo "kernel $(uname -r)"
# A test's own steps (see build_initrd's hook): they may print "note KEY VALUE" facts.
[ -x @HOOK@ ] && @HOOK@
echo "cmdline $(hex /proc/cmdline)"
facts_extra
facts_files
facts_tpm
facts_efivars
echo "done"
echo "@END@"
# Let the UART drain before the power goes.
sleep 1
[ -e @REBOOT@ ] && reboot -f
poweroff -f
echo o > /proc/sysrq-trigger
while :; do sleep 60; done
"""


#: The fact printers of :data:`INIT_SCRIPT`, in POSIX sh (busybox or dash with coreutils), for
#: other guests that print the same facts (systemd_guest.py); see :func:`facts_functions`.
FACTS_FUNCTIONS = r"""hex() { od -A n -v -t x1 "$@" | tr -d ' \n'; }

facts_extra() {
    if [ ! -d /.extra ]; then echo "extra-absent"; return; fi
    find /.extra | sort | while read -r p; do
        mode=$(printf '%o' "0x$(stat -c %f "$p")")
        size=$(stat -c %s "$p")
        sum=-
        if [ -f "$p" ] && [ ! -L "$p" ]; then sum=$(sha256sum < "$p" | cut -d ' ' -f 1); fi
        echo "extra $mode $size $sum $p"
    done
}

facts_files() {
    [ -f @CHECK@ ] || return
    while read -r p; do
        [ -n "$p" ] || continue
        if [ -f "$p" ]; then
            echo "file $(stat -L -c %s "$p") $(sha256sum < "$p" | cut -d ' ' -f 1) $p"
        else
            echo "file-missing $p"
        fi
    done < @CHECK@
}

facts_tpm() {
    if [ ! -d /sys/class/tpm/tpm0 ]; then echo "tpm-absent"; return; fi
    echo "tpm-present"
    for d in /sys/class/tpm/tpm0/pcr-*; do
        [ -d "$d" ] || continue
        bank=${d##*/pcr-}
        n=0
        while [ $n -le 23 ]; do
            echo "pcr $bank $n $(cat "$d/$n")"
            n=$((n + 1))
        done
    done
    log=/sys/kernel/security/tpm0/binary_bios_measurements
    if [ -r $log ]; then
        od -A n -v -t x1 -w2000 $log | tr -d ' ' | sed 's/^/eventlog /'
    else
        echo "eventlog-absent"
    fi
}

facts_efivars() {
    dir=/sys/firmware/efi/efivars
    if ! grep -q " $dir efivarfs " /proc/mounts; then echo "efivarfs-absent"; return; fi
    echo "efivarfs-mounted"
    # efivarfs files cannot seek: read whole, drop the 4 attribute bytes (8 hex digits).
    for f in $dir/*-@LOADER_GUID@; do
        [ -f "$f" ] || continue
        name=${f##*/}
        h=$(hex "$f")
        echo "efivar ${name%-@LOADER_GUID@} ${h#????????}"
    done
    f=$dir/SecureBoot-@GLOBAL_GUID@
    if [ -f $f ]; then h=$(hex $f); echo "secureboot ${h#????????}"; fi
}
"""


def init_script() -> str:
    """The /init shell script of the test initrd."""
    repl = {"@MODULES@": MODULE_LIST_PATH, "@HOOK@": HOOK_PATH, "@REBOOT@": REBOOT_FLAG_PATH,
            "@BEGIN@": FACTS_BEGIN, "@END@": FACTS_END}
    text = INIT_SCRIPT.replace("@FUNCTIONS@", facts_functions())
    for key, value in repl.items():
        text = text.replace(key, value)
    return text


def facts_functions() -> str:
    """The shell functions hex, facts_extra, facts_files, facts_tpm and facts_efivars, ready to paste.

    Each prints fact lines (see :func:`parse_facts`) on stdout; facts_files
    reads the paths listed in :data:`CHECK_LIST_PATH`.
    """
    text = FACTS_FUNCTIONS
    for key, value in {"@CHECK@": CHECK_LIST_PATH, "@LOADER_GUID@": LOADER_VENDOR_GUID,
                       "@GLOBAL_GUID@": EFI_GLOBAL_GUID}.items():
        text = text.replace(key, value)
    return text


def _read_module(path: Path) -> bytes:
    """A kernel module's bytes, decompressed if it is .ko.xz or .ko.zst."""
    if path.name.endswith(".ko"):
        return path.read_bytes()
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko.zst"):
        out = subprocess.run(["zstd", "-dc", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if out.returncode != 0:
            raise HarnessError(f"zstd -dc {path} failed: {out.stderr.decode(errors='replace')}")
        return out.stdout
    raise HarnessError(f"unknown kernel module compression: {path}")


def _modinfo_depends(module: bytes, path: Path) -> list[str]:
    """The depends= names in an ELF64 kernel module's .modinfo section."""
    if module[:4] != b"\x7fELF" or module[4] != 2:
        raise HarnessError(f"{path} is not an ELF64 kernel module")
    shoff, = struct.unpack_from("<Q", module, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", module, 0x3A)

    def section(i: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", module, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = module.index(b"\0", stroff + name)
        if module[stroff + name:end] == b".modinfo":
            for item in module[off:off + size].split(b"\0"):
                if item.startswith(b"depends="):
                    return [d for d in item[len(b"depends="):].decode().split(",") if d]
            return []
    return []


def _find_module(kernel: Kernel, name: str) -> Optional[Path]:
    """The file of module `name` (dashes and underscores equivalent) in the kernel's tree."""
    wanted = name.replace("-", "_")
    for path in sorted(kernel.modules_dir.rglob("*.ko*")):
        base = path.name.split(".ko")[0].replace("-", "_")
        if base == wanted:
            return path
    return None


def _module_is_builtin(kernel: Kernel, name: str) -> bool:
    """True if modules.builtin lists the module (so it needs no loading)."""
    builtin = kernel.modules_dir / "modules.builtin"
    if not builtin.is_file():
        return False
    wanted = name.replace("-", "_")
    return any(Path(line.strip()).name.split(".ko")[0].replace("-", "_") == wanted
               for line in builtin.read_text().splitlines())


def collect_modules(kernel: Kernel, name: str) -> list[tuple[str, bytes]]:
    """(file name, decompressed bytes) of a module and its dependencies, dependencies first."""
    ordered: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(mod: str) -> None:
        key = mod.replace("-", "_")
        if key in seen or _module_is_builtin(kernel, mod):
            return
        seen.add(key)
        path = _find_module(kernel, mod)
        if path is None:
            raise HarnessError(f"kernel module {mod} not found under {kernel.modules_dir} "
                               "and not listed in modules.builtin")
        data = _read_module(path)
        for dep in _modinfo_depends(data, path):
            visit(dep)
        ordered.append((path.name.split(".ko")[0] + ".ko", data))

    visit(name)
    return ordered


def add_host_programs(cpio: "CpioArchive", paths: Iterable[StrPath]) -> None:
    """Add host programs or libraries at their own paths, with every shared library they need.

    Dependencies come from ldd, recursively. Libraries loaded with dlopen()
    (plugins) must be listed themselves. Symbolic links on the way are kept,
    so the guest finds each file under the name the host uses.
    """
    todo = [Path(p) for p in paths]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if not path.exists():
            raise HarnessError(f"{path} missing on the host (install the package that ships it)")
        real = path.resolve()
        if real != path:
            cpio.add_symlink(str(path).lstrip("/"), os.path.relpath(real, path.parent))
            todo.append(real)
            continue
        cpio.add_file(str(path).lstrip("/"), path.read_bytes(), 0o755)
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                todo.append(Path(m.group(1)))


def build_initrd(out_path: StrPath, kernel: Kernel,
                 extra_files: Optional[Mapping[str, Union[bytes, tuple[bytes, int]]]] = None,
                 check_paths: Iterable[str] = (), *, modules: Sequence[str] = ("efivarfs",),
                 hook: Optional[str] = None, host_programs: Sequence[StrPath] = (),
                 reboot: bool = False) -> None:
    """Write the test initrd (uncompressed newc cpio) to out_path.

    It holds busybox, /init (see :data:`INIT_SCRIPT`), the efivarfs module
    of `kernel` with its dependencies, `extra_files` (archive path -> bytes,
    mode 0644, or -> (bytes, mode)) and, if `check_paths` is given, the list of absolute paths whose size and
    sha256 /init reports as ``file`` facts (at :data:`CHECK_LIST_PATH`).
    `modules` are loaded (with their dependencies) before anything else;
    `hook` is a shell script /init runs after the first facts (it may print
    ``note KEY VALUE`` lines); `host_programs` are copied from the host with
    the libraries they need (:func:`add_host_programs`). With `reboot`, /init
    reboots after its facts instead of powering off (for boot()'s `boots`).
    """
    if not BUSYBOX.is_file():
        raise HarnessError(f"{BUSYBOX} missing: install busybox-static")
    cpio = CpioArchive()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp", "root", "etc", "mnt"):
        cpio.add_dir(d)
    cpio.add_chardev("dev/console", 5, 1)
    cpio.add_chardev("dev/null", 1, 3, 0o666)
    cpio.add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    cpio.add_symlink("bin/sh", "busybox")
    cpio.add_file("init", init_script().encode(), 0o755)
    module_lines: list[str] = []
    for module in modules:
        for filename, data in collect_modules(kernel, module):
            archive_path = f"lib/modules/{kernel.version}/{filename}"
            if "/" + archive_path + "\n" in module_lines:
                continue
            cpio.add_file(archive_path, data)
            module_lines.append("/" + archive_path + "\n")
    cpio.add_file(MODULE_LIST_PATH, "".join(module_lines).encode())
    checks = list(check_paths)
    for p in checks:
        if not p.startswith("/") or "\n" in p:
            raise ValueError(f"check path must be absolute and single-line: {p!r}")
    if checks:
        cpio.add_file(CHECK_LIST_PATH, "".join(p + "\n" for p in checks).encode())
    if hook is not None:
        cpio.add_file(HOOK_PATH.lstrip("/"), hook.encode(), 0o755)
    add_host_programs(cpio, host_programs)
    if reboot:
        cpio.add_file(REBOOT_FLAG_PATH.lstrip("/"), b"reboot after the facts\n")
    for path, value in sorted((extra_files or {}).items()):
        data, mode = value if isinstance(value, tuple) else (value, 0o644)
        cpio.add_file(path, bytes(data), mode)
    Path(out_path).write_bytes(cpio.to_bytes())


# --------------------------------------------------------------------------
# UKI (objcopy, the Debian 12 way)
# --------------------------------------------------------------------------

def zero_pe_timestamp(path: StrPath) -> None:
    """Zero the COFF TimeDateStamp objcopy writes, so UKI builds are reproducible."""
    with open(path, "r+b") as f:
        head = f.read(0x40)
        if head[:2] != b"MZ":
            raise HarnessError(f"{path} is not a PE image (no MZ header)")
        pe_off, = struct.unpack_from("<I", head, 0x3C)
        f.seek(pe_off)
        if f.read(4) != b"PE\0\0":
            raise HarnessError(f"{path} has no PE signature at {pe_off:#x}")
        f.seek(pe_off + 8)
        f.write(b"\0\0\0\0")


def build_uki_objcopy(out_path: StrPath, *, linux: StrPath, initrd: Optional[StrPath], cmdline: str,
                      osrel: str = 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="sysext-stub test"\n',
                      stub: StrPath = SYSTEMD_STUB, workdir: Optional[StrPath] = None) -> None:
    """Build a UKI from `stub` with objcopy, sections at the classic Debian 12 addresses."""
    stub = Path(stub)
    if not stub.is_file():
        raise HarnessError(f"stub {stub} missing (systemd stub: install systemd-boot-efi)")
    tmp = Path(tempfile.mkdtemp(prefix="uki-", dir=workdir))
    try:
        (tmp / "osrel").write_text(osrel)
        (tmp / "cmdline").write_text(cmdline)
        sections = [(".osrel", tmp / "osrel", 0x20000), (".cmdline", tmp / "cmdline", 0x30000),
                    (".linux", Path(linux), 0x2000000)]
        if initrd is not None:
            sections.append((".initrd", Path(initrd), 0x3000000))
        cmd: list[StrPath] = ["objcopy"]
        for name, path, vma in sections:
            cmd += ["--add-section", f"{name}={path}", "--change-section-vma", f"{name}={vma:#x}"]
        cmd += [stub, out_path]
        run(cmd, what=f"building UKI {out_path}")
        zero_pe_timestamp(out_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: Kernel command line of test UKIs unless a test says otherwise.
DEFAULT_CMDLINE = "console=ttyS0 panic=-1"


def build_test_uki(out_path: StrPath, kernel: Kernel, *, cmdline: str = DEFAULT_CMDLINE,
                   initrd_files: Optional[Mapping[str, bytes]] = None, check_paths: Iterable[str] = (),
                   initrd: Optional[StrPath] = None, stub: StrPath = SYSTEMD_STUB,
                   osrel: Optional[str] = None) -> Path:
    """Build the test initrd (unless `initrd` is given) next to out_path, then a UKI around `stub`.

    Returns the initrd path (useful for computing expected measurements).
    """
    out = Path(out_path)
    if initrd is None:
        initrd = out.with_name(out.name + ".initrd.cpio")
        build_initrd(initrd, kernel, initrd_files, check_paths)
    kwargs = {"osrel": osrel} if osrel is not None else {}
    build_uki_objcopy(out, linux=kernel.vmlinuz, initrd=initrd, cmdline=cmdline, stub=stub,
                      workdir=out.parent, **kwargs)
    return Path(initrd)


# --------------------------------------------------------------------------
# ESP disk image
# --------------------------------------------------------------------------

GPT_ENTRIES = 128
GPT_ENTRY_SIZE = 128
GPT_ENTRY_SECTORS = GPT_ENTRIES * GPT_ENTRY_SIZE // SECTOR  # 32
ESP_START_LBA = 2048  # 1 MiB alignment
ESP_MIN_MIB = 64      # comfortably above FAT32's minimum cluster count


def _protective_mbr(total_sectors: int) -> bytes:
    """LBA 0: a protective MBR with one 0xEE partition covering the disk."""
    mbr = bytearray(SECTOR)
    size = min(total_sectors - 1, 0xFFFFFFFF)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEE, b"\xff\xff\xff", 1, size)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def _gpt_entries(first_lba: int, last_lba: int) -> bytes:
    """The partition entry array with the ESP in slot 0."""
    name = "EFI System Partition".encode("utf-16-le").ljust(72, b"\0")
    entry = struct.pack("<16s16sQQQ72s", ESP_TYPE_GUID.bytes_le, ESP_PARTITION_GUID.bytes_le,
                        first_lba, last_lba, 0, name)
    return entry.ljust(GPT_ENTRIES * GPT_ENTRY_SIZE, b"\0")


def _gpt_header(current: int, backup: int, entries_lba: int, total: int, entries_crc: int) -> bytes:
    """One GPT header sector (primary or backup)."""
    def pack(crc: int) -> bytes:
        return struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, crc, 0, current, backup,
                           2 + GPT_ENTRY_SECTORS, total - 2 - GPT_ENTRY_SECTORS, ESP_DISK_GUID.bytes_le,
                           entries_lba, GPT_ENTRIES, GPT_ENTRY_SIZE, entries_crc)
    return pack(zlib.crc32(pack(0))).ljust(SECTOR, b"\0")


def write_gpt(path: StrPath, total_sectors: int, part_first: int, part_last: int) -> None:
    """Create a sparse disk image with a GPT holding one ESP (LBAs inclusive)."""
    entries = _gpt_entries(part_first, part_last)
    crc = zlib.crc32(entries)
    last = total_sectors - 1
    backup_entries = last - GPT_ENTRY_SECTORS
    with open(path, "wb") as f:
        f.truncate(total_sectors * SECTOR)
        f.write(_protective_mbr(total_sectors))
        f.write(_gpt_header(1, last, 2, total_sectors, crc))
        f.write(entries)
        f.seek(backup_entries * SECTOR)
        f.write(entries)
        f.write(_gpt_header(last, 1, backup_entries, total_sectors, crc))


def _esp_size_mib(payload: Mapping[str, int], dirs: Iterable[str]) -> int:
    """Partition size: content rounded up to 4 KiB clusters, plus FAT and slack; at least 64 MiB."""
    rounded = sum(-(-size // 4096) * 4096 for size in payload.values())
    rounded += 4096 * (len(set(dirs)) + len(payload))  # directory clusters, generously
    return max(ESP_MIN_MIB, -(-int(rounded * 1.05 + 8 * MIB) // MIB))


def _esp_dirs(files: Iterable[str], dirs: Iterable[str]) -> list[str]:
    """All directories to create, parents first."""
    out: set[str] = set()
    for p in list(dirs) + [os.path.dirname(f) for f in files]:
        parts = [x for x in p.split("/") if x]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return sorted(out, key=lambda d: (d.count("/"), d))


def build_esp(out_path: StrPath, files: Mapping[str, Union[StrPath, bytes]], dirs: Iterable[str] = (),
              size_mib: Optional[int] = None) -> None:
    """Write a GPT disk image whose single ESP (FAT32) holds `files` and `dirs`.

    `files` maps ESP paths ("EFI/BOOT/BOOTX64.EFI") to host paths (copied) or
    bytes. The size grows with the content unless `size_mib` forces it. The
    partition's GUID is :data:`ESP_PARTITION_GUID`; everything is reproducible
    (mkfs.vfat --invariant, SOURCE_DATE_EPOCH for mtools, fixed order).
    """
    norm = {k.strip("/").replace("\\", "/"): v for k, v in files.items()}
    sizes = {k: len(v) if isinstance(v, (bytes, bytearray)) else os.path.getsize(v) for k, v in norm.items()}
    all_dirs = _esp_dirs(norm, dirs)
    mib = size_mib or _esp_size_mib(sizes, all_dirs)
    part_sectors = mib * MIB // SECTOR
    total = ESP_START_LBA + part_sectors + 2048  # room for the backup GPT, 1 MiB aligned end
    write_gpt(out_path, total, ESP_START_LBA, ESP_START_LBA + part_sectors - 1)
    run(["mkfs.vfat", "-F", "32", "--invariant", "-n", "ESP", "-h", str(ESP_START_LBA),
         f"--offset={ESP_START_LBA}", out_path, str(part_sectors * SECTOR // 1024)],
        what=f"formatting the ESP in {out_path}")
    _populate_fat(f"{out_path}@@{ESP_START_LBA * SECTOR}", norm, all_dirs)


def _populate_fat(image: str, files: Mapping[str, Union[StrPath, bytes]], dirs: Sequence[str]) -> None:
    """Create dirs and copy files into a FAT file system with mtools."""
    env = {"MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C.UTF-8", "SOURCE_DATE_EPOCH": "946684800"}
    for d in dirs:
        run(["mmd", "-i", image, "::/" + d], env=env, what=f"mmd {d} in {image}")
    with tempfile.TemporaryDirectory(prefix="esp-") as tmp:
        for i, (dest, src) in enumerate(sorted(files.items())):
            if isinstance(src, (bytes, bytearray)):
                host = Path(tmp) / f"blob{i}"
                host.write_bytes(bytes(src))
                src = host
            if not Path(src).is_file():
                raise HarnessError(f"ESP source file {src} (for {dest}) does not exist")
            run(["mcopy", "-o", "-i", image, str(src), "::/" + dest], env=env,
                what=f"mcopy {src} to {dest} in {image}")


class _Fat32:
    """Just enough of a FAT32 file system (in an image made by build_esp) to find and rewrite directory entries."""

    def __init__(self, f, offset: int):
        self.f, self.offset = f, offset
        f.seek(offset)
        bpb = f.read(512)
        self.sector, = struct.unpack_from("<H", bpb, 11)
        self.per_cluster = bpb[13]
        reserved, = struct.unpack_from("<H", bpb, 14)
        fats = bpb[16]
        fat_sectors, = struct.unpack_from("<I", bpb, 36)
        self.root, = struct.unpack_from("<I", bpb, 44)
        self.fat = offset + reserved * self.sector
        self.data = self.fat + fats * fat_sectors * self.sector

    def chain(self, cluster: int) -> list[int]:
        out = []
        while 2 <= cluster < 0x0FFFFFF8 and len(out) < 1 << 20:
            out.append(cluster)
            self.f.seek(self.fat + 4 * cluster)
            cluster = struct.unpack("<I", self.f.read(4))[0] & 0x0FFFFFFF
        return out

    def entries(self, cluster: int):
        """(offset of the short entry in the image, long name, short entry bytes, [offsets of its LFN entries])."""
        lfn: list[tuple[int, bytes]] = []
        size = self.sector * self.per_cluster
        for c in self.chain(cluster):
            base = self.data + (c - 2) * size
            self.f.seek(base)
            block = self.f.read(size)
            for i in range(0, size, 32):
                e = block[i:i + 32]
                if e[0] == 0:
                    return
                if e[0] == 0xE5:
                    lfn = []
                elif e[11] == 0x0F:
                    lfn.append((base + i, e))
                else:
                    parts = sorted(lfn, key=lambda x: x[1][0] & 0x1F)
                    raw = b"".join(x[1][1:11] + x[1][14:26] + x[1][28:32] for x in parts)
                    name = raw.decode("utf-16-le").split("\0")[0].rstrip("\uffff") if parts else \
                        e[:8].decode("latin-1").rstrip() + ("." + e[8:11].decode("latin-1").rstrip()
                                                             if e[8:11].strip() else "")
                    yield base + i, name, e, [x[0] for x in parts]
                    lfn = []

    def find(self, path: str):
        cluster = self.root
        parts = [x for x in path.split("/") if x]
        for k, part in enumerate(parts):
            for off, name, e, lfn in self.entries(cluster):
                if name.lower() == part.lower():
                    if k == len(parts) - 1:
                        return off, e, lfn
                    cluster = struct.unpack_from("<H", e, 20)[0] << 16 | struct.unpack_from("<H", e, 26)[0]
                    break
            else:
                raise HarnessError(f"no {part!r} on the ESP (looking for {path})")
        raise HarnessError(f"empty path {path!r}")


def fat_patch_entry(image: StrPath, esp_path: str, *, new_name: Optional[str] = None,
                    new_size: Optional[int] = None) -> None:
    """Rewrite one file's directory entry in an image made by :func:`build_esp`.

    ``new_name`` replaces the long name with one of the same length, unit for
    unit (the short-name checksum in the LFN entries stays valid), so names
    mtools refuses can be written: control characters, a leading blank, a
    backslash. ``new_size`` sets the size the directory reports without
    allocating clusters (the firmware lists it; nothing may read it).
    """
    with open(image, "r+b") as f:
        fat = _Fat32(f, ESP_START_LBA * SECTOR)
        off, entry, lfn = fat.find(esp_path)
        if new_size is not None:
            f.seek(off + 28)
            f.write(struct.pack("<I", new_size))
        if new_name is not None:
            old = esp_path.rstrip("/").split("/")[-1]
            if len(new_name) != len(old) or not lfn:
                raise HarnessError(f"{esp_path}: a new name must have as many characters ({len(old)}) "
                                   "and the entry a long name")
            units = new_name.encode("utf-16-le")
            for off_lfn in lfn:
                f.seek(off_lfn)
                e = bytearray(f.read(32))
                first = ((e[0] & 0x1F) - 1) * 13
                slots = [(1 + 2 * j) for j in range(5)] + [(14 + 2 * j) for j in range(6)] + \
                    [(28 + 2 * j) for j in range(2)]
                for j, pos in enumerate(slots):
                    if first + j < len(new_name):
                        e[pos:pos + 2] = units[2 * (first + j):2 * (first + j) + 2]
                f.seek(off_lfn)
                f.write(bytes(e))


# --------------------------------------------------------------------------
# TCG event log
# --------------------------------------------------------------------------

#: TPM2_ALG_SHA256, the key of a sha256 digest in :func:`parse_tcg_log`'s events.
TPM2_ALG_SHA256 = 0x000B


@dataclasses.dataclass(frozen=True)
class TcgEvent:
    """One event of a crypto-agile TCG event log."""
    pcr: int
    type: int
    digests: dict  #: TPM2_ALG_* -> digest bytes
    data: bytes


def parse_tcg_log(log: bytes) -> list:
    """Every event after the Spec ID header of a crypto-agile (TCG2) event log, as :class:`TcgEvent`s.

    The first record is the TCG_PCClientPCREvent (SHA-1 format) carrying the
    Spec ID event, whose algorithm table gives each digest's size. Written
    for the tests (trusted input); the CLI's hardened parser is measure/tcglog.c.
    """
    _, _, _, size = struct.unpack_from("<II20sI", log, 0)
    spec = log[32:32 + size]
    n_algs, = struct.unpack_from("<I", spec, 24)
    sizes = dict(struct.unpack_from("<HH", spec, 28 + 4 * i) for i in range(n_algs))
    off, events = 32 + size, []
    while off + 12 <= len(log):
        pcr, etype, count = struct.unpack_from("<III", log, off)
        off += 12
        digests = {}
        for _ in range(count):
            alg, = struct.unpack_from("<H", log, off)
            digests[alg] = log[off + 2:off + 2 + sizes[alg]]
            off += 2 + sizes[alg]
        esize, = struct.unpack_from("<I", log, off)
        events.append(TcgEvent(pcr, etype, digests, log[off + 4:off + 4 + esize]))
        off += 4 + esize
    return events


# --------------------------------------------------------------------------
# Facts parsing
# --------------------------------------------------------------------------

class ExtraEntry(tuple):
    """One /.extra entry: (mode, size, sha256 or None, path)."""
    __slots__ = ()

    def __new__(cls, mode: int, size: int, sha256: Optional[str], path: str):
        return super().__new__(cls, (mode, size, sha256, path))

    mode = property(lambda self: self[0])
    size = property(lambda self: self[1])
    sha256 = property(lambda self: self[2])
    path = property(lambda self: self[3])


@dataclasses.dataclass
class Facts:
    """What /init reported between the FACTS markers."""
    begun: bool = False
    complete: bool = False              #: saw "done" and the END marker
    kernel: str = ""
    cmdline_raw: bytes = b""
    cmdline: str = ""                   #: /proc/cmdline, trailing newline stripped
    extra_present: bool = False
    extra: list = dataclasses.field(default_factory=list)       #: [ExtraEntry]
    files: dict = dataclasses.field(default_factory=dict)       #: path -> (size, sha256) or None if missing
    tpm_present: bool = False
    pcrs: dict = dataclasses.field(default_factory=dict)        #: bank -> {n: bytes}
    eventlog: bytes = b""
    efivarfs: bool = False
    efivars: dict = dataclasses.field(default_factory=dict)     #: name -> bytes (loader vendor GUID)
    secure_boot: Optional[bool] = None
    notes: dict = dataclasses.field(default_factory=dict)       #: "note KEY VALUE" lines of a test's hook
    texts: dict = dataclasses.field(default_factory=dict)       #: "text NAME LINE" lines: NAME -> [LINE]
    errors: list = dataclasses.field(default_factory=list)      #: malformed fact lines

    def extra_by_path(self) -> dict:
        """/.extra entries keyed by path."""
        return {e.path: e for e in self.extra}

    def text(self, name: str) -> str:
        """The lines a guest printed as ``text NAME LINE``, joined with newlines ("" if none)."""
        return "\n".join(self.texts.get(name, []))

    def efivar_str(self, name: str) -> Optional[str]:
        """A loader variable decoded as a NUL-terminated UTF-16LE string, or None."""
        raw = self.efivars.get(name)
        if raw is None:
            return None
        return raw.decode("utf-16-le", errors="replace").split("\0", 1)[0]

    def summary(self) -> dict:
        """A JSON-friendly digest (for the CLI and debugging)."""
        return {
            "complete": self.complete, "kernel": self.kernel, "cmdline": self.cmdline,
            "extra": [list(e) for e in self.extra] if self.extra_present else None,
            "files": self.files, "tpm_present": self.tpm_present,
            "pcrs": {b: {n: v.hex() for n, v in sorted(p.items())} for b, p in self.pcrs.items()},
            "eventlog_bytes": len(self.eventlog), "efivarfs": self.efivarfs,
            "efivars": {k: v.hex() for k, v in self.efivars.items()},
            "secure_boot": self.secure_boot, "errors": self.errors,
        }


def _hex(text: str) -> bytes:
    """bytes.fromhex that ignores whitespace."""
    return bytes.fromhex("".join(text.split()))


def _apply_fact(facts: Facts, key: str, rest: str, eventlog: list) -> None:
    """Fold one fact line into `facts` (raises ValueError/IndexError on malformed lines)."""
    if key == "kernel":
        facts.kernel = rest
    elif key == "cmdline":
        facts.cmdline_raw = _hex(rest)
        facts.cmdline = facts.cmdline_raw.decode(errors="replace").rstrip("\n")
    elif key == "extra-absent":
        facts.extra_present = False
    elif key == "extra":
        mode, size, digest, path = rest.split(" ", 3)
        facts.extra_present = True
        facts.extra.append(ExtraEntry(int(mode, 8), int(size), None if digest == "-" else digest, path))
    elif key == "file":
        size, digest, path = rest.split(" ", 2)
        facts.files[path] = (int(size), digest)
    elif key == "file-missing":
        facts.files[rest] = None
    elif key == "tpm-absent":
        facts.tpm_present = False
    elif key == "tpm-present":
        facts.tpm_present = True
    elif key == "pcr":
        bank, n, value = rest.split(" ", 2)
        facts.tpm_present = True
        facts.pcrs.setdefault(bank, {})[int(n)] = _hex(value)
    elif key == "eventlog":
        eventlog.append(_hex(rest))
    elif key == "eventlog-absent":
        pass
    elif key == "efivarfs-mounted":
        facts.efivarfs = True
    elif key == "efivarfs-absent":
        facts.efivarfs = False
    elif key == "efivar":
        name, _, value = rest.partition(" ")
        facts.efivars[name] = _hex(value)
    elif key == "secureboot":
        facts.secure_boot = _hex(rest)[:1] == b"\x01"
    elif key == "note":
        name, _, value = rest.partition(" ")
        facts.notes[name] = value
    elif key == "text":
        name, _, value = rest.partition(" ")
        facts.texts.setdefault(name, []).append(value)


_FACT_KEYS = {"kernel", "cmdline", "extra", "extra-absent", "file", "file-missing", "tpm-present",
              "tpm-absent", "pcr", "eventlog", "eventlog-absent", "efivarfs-mounted",
              "efivarfs-absent", "efivar", "secureboot", "note", "text"}


def parse_facts_all(text: str) -> list:
    """Every FACTS section of a serial log, in order (one per boot of a run with several)."""
    lines = text.replace("\r", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == FACTS_BEGIN]
    ends = starts[1:] + [len(lines)]
    return [parse_facts("\n".join(lines[a:b])) for a, b in zip(starts, ends)]


def parse_facts(text: str) -> Facts:
    """Parse the last FACTS section of a serial log.

    Tolerates CR/LF line ends and unrelated lines (kernel or firmware output)
    between fact lines: only lines starting with a known key count.
    """
    facts = Facts()
    lines = text.replace("\r", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == FACTS_BEGIN]
    if not starts:
        return facts
    facts.begun = True
    eventlog: list = []
    saw_done = False
    for line in lines[starts[-1] + 1:]:
        line = line.strip()
        if line == FACTS_END:
            facts.complete = saw_done
            break
        key, _, rest = line.partition(" ")
        if key == "done" and not rest:
            saw_done = True
        elif key in _FACT_KEYS:
            try:
                _apply_fact(facts, key, rest, eventlog)
            except (ValueError, IndexError) as exc:
                facts.errors.append(f"{line[:120]!r}: {exc}")
    facts.eventlog = b"".join(eventlog)
    return facts


# --------------------------------------------------------------------------
# Booting
# --------------------------------------------------------------------------

@dataclasses.dataclass
class BootResult:
    """Outcome of one boot."""
    log: str                 #: the full serial console text
    facts: Facts
    #: "poweroff" (facts out, QEMU exited), "timeout", "shell" (firmware gave up: OVMF shell or
    #: boot manager), "panic" (Linux panic or OVMF CPU exception), "qemu-error" (QEMU exited early),
    #: "stopped" (the text given as boot(stop_after=) was seen)
    reason: str
    duration: float          #: seconds from QEMU start to the end
    workdir: Path
    qemu_stderr: str = ""
    command: list = dataclasses.field(default_factory=list)
    #: with serial_stamps: (host seconds since QEMU start, console byte offset) per chunk received
    stamps: list = dataclasses.field(default_factory=list)
    #: with serial_stamps: the console bytes as received (surrogate-escaped), for :func:`stamp_of`
    raw_log: str = ""
    #: every FACTS section, one per boot (boot()'s `boots`)
    all_facts: list = dataclasses.field(default_factory=list)
    #: with serial_stamps: CPU seconds of QEMU and swtpm at each entry of `stamps` (:func:`cpu_of`)
    cpu_stamps: list = dataclasses.field(default_factory=list)

    def tail(self, n: int = 40) -> str:
        """The last n lines of the serial log."""
        lines = self.log.replace("\r", "").splitlines()
        return "\n".join(lines[-n:])

    def describe(self, n: int = 40) -> str:
        """Multi-line diagnosis for assertion messages."""
        parts = [f"boot ended by {self.reason!r} after {self.duration:.1f}s "
                 f"(facts begun={self.facts.begun} complete={self.facts.complete}); workdir {self.workdir}"]
        if self.facts.errors:
            parts.append("malformed fact lines: " + "; ".join(self.facts.errors[:5]))
        if self.qemu_stderr.strip():
            parts.append("QEMU stderr:\n" + self.qemu_stderr.strip()[-2000:])
        parts.append(f"last {n} lines of the serial log:\n{self.tail(n)}")
        return "\n".join(parts)


def assert_booted(result: BootResult) -> Facts:
    """Raise AssertionError (with the log tail) unless the boot powered off with complete facts."""
    if result.reason != "poweroff" or not result.facts.complete or result.facts.errors:
        raise AssertionError("boot did not complete:\n" + result.describe())
    return result.facts


def _kill_group(proc: Optional[subprocess.Popen], grace: float = 5.0) -> None:
    """Terminate a process started with start_new_session=True, and its whole group."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    try:  # reap leftovers in the group even if the leader is gone
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


#: PCR banks a fresh swtpm gets unless a test asks for others.
DEFAULT_TPM_BANKS = "sha1,sha256,sha384"


def make_tpm_state(state: StrPath, banks: str = DEFAULT_TPM_BANKS) -> Path:
    """Manufacture a fresh swtpm TPM 2.0 (seeds, EK) in directory `state`."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--pcr-banks", banks, "--overwrite"],
        what="swtpm_setup")
    return state


class HostTpm:
    """swtpm serving a state directory on a Unix socket, for host tools (systemd-cryptenroll).

    The TPM is started (``startup-clear``) so tools can use it at once;
    ``tcti`` is the tpm2-tss TCTI string for it. Boot the same state
    afterwards with ``boot(tpm_state=...)``. Keep the state directory short
    (Unix socket paths are short-limited).
    """

    def __init__(self, state: StrPath):
        self.sock = Path(state) / "s.sock"
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
             "--server", f"type=unixio,path={self.sock}", "--ctrl", f"type=unixio,path={self.sock}.ctrl",
             "--flags", "startup-clear"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 10
        while not (self.sock.exists() and Path(f"{self.sock}.ctrl").exists()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise HarnessError(f"swtpm did not create {self.sock}")
            time.sleep(0.05)

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.sock}"

    def stop(self) -> None:
        _kill_group(self.proc)

    def __enter__(self) -> "HostTpm":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _start_swtpm(state: Path, banks: str = DEFAULT_TPM_BANKS, from_state: Optional[Path] = None) -> subprocess.Popen:
    """Start swtpm on a socket in `state`: a fresh TPM, or a copy of the TPM in `from_state`."""
    if from_state is not None:
        for f in Path(from_state).iterdir():
            if f.is_file() and not f.name.endswith((".sock", ".log", ".stderr", ".pid")):
                shutil.copyfile(f, state / f.name)
    else:
        make_tpm_state(state, banks)
    sock = state / "swtpm.sock"
    cmd = ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
           "--ctrl", f"type=unixio,path={sock}", "--terminate",
           "--log", f"file={state}/swtpm.log,level=1"]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(state / "swtpm.stderr", "wb"), start_new_session=True)
    except FileNotFoundError as exc:
        raise HarnessError(f"swtpm not found (install swtpm): {exc}") from exc
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill_group(proc)
            err = (state / "swtpm.stderr").read_text(errors="replace")
            raise HarnessError(f"swtpm did not create {sock}: {' '.join(cmd)}\n{err}")
        time.sleep(0.05)
    return proc


def _qemu_opt(value: StrPath) -> str:
    """A value for a QEMU comma-separated option list (commas doubled)."""
    return str(value).replace(",", ",,")


def _qemu_command(esp: Path, vars_copy: Path, serial_log: Path, *, secure_boot: bool,
                  memory_mib: int, tpm_socket: Optional[Path], extra_drives: Sequence[StrPath],
                  serial_to_stdout: bool = False, qemu_args: Sequence[str] = (), reboot: bool = False,
                  writable_drives: Sequence[StrPath] = ()) -> list:
    """The qemu-system-x86_64 command line for one boot.

    With `serial_to_stdout` the serial port goes to QEMU's stdout (for
    :class:`_SerialStamper`) instead of straight into `serial_log`. With
    `reboot` a guest reboot restarts the firmware instead of ending QEMU.
    """
    code = OVMF_CODE_SECBOOT if secure_boot else OVMF_CODE
    machine = "q35,smm=on" if secure_boot else "q35"
    serial = (["-chardev", "stdio,id=serial0,signal=off", "-serial", "chardev:serial0"] if serial_to_stdout
              else ["-serial", f"file:{_qemu_opt(serial_log)}"])
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", machine, "-m", str(memory_mib),
           "-smp", "1", "-nodefaults", "-nic", "none", "-display", "none", *([] if reboot else ["-no-reboot"]),
           "-monitor", "none", *serial, *qemu_args]
    if secure_boot:
        cmd += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
    cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={_qemu_opt(code)}",
            "-drive", f"if=pflash,format=raw,unit=1,file={_qemu_opt(vars_copy)}"]
    if tpm_socket is not None:
        cmd += ["-chardev", f"socket,id=chrtpm,path={_qemu_opt(tpm_socket)}",
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-crb,tpmdev=tpm0"]
    cmd += ["-drive", f"if=none,id=esp,format=raw,snapshot=on,file={_qemu_opt(esp)}",
            "-device", "virtio-blk-pci,drive=esp,bootindex=0"]
    for i, drive in enumerate(extra_drives):
        cmd += ["-drive", f"if=none,id=extra{i},format=raw,snapshot=on,file={_qemu_opt(Path(drive).resolve())}",
                "-device", f"virtio-blk-pci,drive=extra{i}"]
    for i, drive in enumerate(writable_drives):
        cmd += ["-drive", f"if=none,id=rw{i},format=raw,file={_qemu_opt(Path(drive).resolve())}",
                "-device", f"virtio-blk-pci,drive=rw{i}"]
    return cmd


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time the processes' threads have run so far (the scheduler's own count, in ns), in seconds.

    Unlike wall time it barely moves with what else the machine runs.
    """
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total / 1e9


class _SerialStamper(threading.Thread):
    """Copies QEMU's stdout (the serial port) into the serial log, noting when each chunk arrived.

    `stamps` is a list of (seconds since `start`, byte offset just past the
    chunk): the host-side clock of the console, for the benchmarks;
    `cpu_stamps` the CPU seconds QEMU and swtpm (`pids`) had used by then.
    """

    def __init__(self, stream, serial_log: Path, start: float, pids: Sequence[int] = ()) -> None:
        super().__init__(daemon=True)
        self.stream, self.serial_log, self.t0, self.pids = stream, serial_log, start, list(pids)
        self.stamps: list[tuple[float, int]] = []
        self.cpu_stamps: list[float] = []

    def run(self) -> None:
        fd = self.stream.fileno()
        total = 0
        with open(self.serial_log, "ab", buffering=0) as out:
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return
                now = time.monotonic() - self.t0
                out.write(chunk)
                total += len(chunk)
                self.stamps.append((now, total))
                self.cpu_stamps.append(cpu_seconds(self.pids))


def cpu_of(result: "BootResult", needle: str) -> Optional[float]:
    """CPU seconds QEMU and swtpm had used when `needle` had fully arrived on the console, or None.

    The same as :func:`stamp_of`, on the processes' CPU time instead of the wall clock.
    """
    at = stamp_index(result, needle)
    return result.cpu_stamps[at] if at is not None and at < len(result.cpu_stamps) else None


def stamp_index(result: "BootResult", needle: str) -> Optional[int]:
    """The index of the console chunk with which `needle` had fully arrived, or None."""
    raw = result.raw_log.encode(errors="surrogateescape") if result.raw_log else b""
    at = raw.find(needle.encode())
    if at < 0:
        return None
    end = at + len(needle)
    for i, (_, offset) in enumerate(result.stamps):
        if offset >= end:
            return i
    return None


def stamp_of(result: "BootResult", needle: str) -> Optional[float]:
    """Host seconds since QEMU start at which `needle` had fully arrived on the console, or None.

    Needs a boot with ``serial_stamps=True``. Offsets count raw console
    bytes (escape sequences included), so `needle` is searched in the raw log.
    """
    at = stamp_index(result, needle)
    return result.stamps[at][0] if at is not None else None


def screendump(workdir: StrPath, out_path: StrPath, timeout: float = 20) -> tuple[int, int, bytes]:
    """The guest's screen now, through QMP (a boot with ``qmp=True``): (width, height, RGB bytes).

    QEMU writes it as a binary PPM; it is read back here. Needs a display
    device (``-vga std``; the harness's QEMU has none by default).
    """
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(timeout)
    sock.connect(str(Path(workdir) / "qmp.sock"))
    with sock, sock.makefile("rw") as f:
        f.readline()  # the greeting
        for cmd in ({"execute": "qmp_capabilities"},
                    {"execute": "screendump", "arguments": {"filename": str(out_path)}}):
            f.write(json.dumps(cmd) + "\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
            if "error" in reply:
                raise HarnessError(f"QMP {cmd['execute']}: {reply['error']}")
    return read_ppm(out_path)


def read_ppm(path: StrPath) -> tuple[int, int, bytes]:
    """A binary PPM (P6, maxval 255) as (width, height, RGB bytes, rows top to bottom)."""
    data = Path(path).read_bytes()
    fields, at = [], 0
    while len(fields) < 4:
        while data[at:at + 1].isspace():
            at += 1
        if data[at:at + 1] == b"#":
            at = data.index(b"\n", at)
            continue
        end = at
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[at:end])
        at = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise HarnessError(f"{path}: not a P6 PPM with maxval 255")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[at + 1:at + 1 + 3 * w * h]


_ANSI_ESCAPE = re.compile(r"\x1b(\[[0-9;=?]*[ -/]*[@-~]|[@-Z\\-_])")


def strip_ansi(text: str) -> str:
    """The text without terminal escape sequences (OVMF colours and cursor moves)."""
    return _ANSI_ESCAPE.sub("", text)


def _classify(text: str, qemu_exited: bool, stop_at_shell: bool = True) -> Optional[str]:
    """The reason to stop now, or None to keep waiting."""
    text = strip_ansi(text)
    if FACTS_END in text:
        return "poweroff" if qemu_exited else None
    if any(m in text for m in PANIC_MARKERS):
        return "panic"
    if stop_at_shell and any(m in text for m in SHELL_MARKERS):
        return "shell"
    if qemu_exited:
        return "qemu-error"
    return None


def _watch(qemu: subprocess.Popen, serial_log: Path, timeout: float,
           stop_at_shell: bool = True, boots: int = 1,
           on_serial: Sequence[tuple[str, Callable[[], None]]] = (),
           stop_after: Optional[str] = None) -> tuple[str, str]:
    """Poll the serial log until a stop condition; return (reason, text).

    With `boots` > 1 the guest is expected to print that many FACTS sections
    (rebooting in between) before it powers off. Each (needle, action) of
    `on_serial` runs once, as soon as needle has appeared on the console.
    With `stop_after`, the watch ends (reason "stopped") once that text is there.
    """
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    crash_seen_at: Optional[float] = None
    end_seen_at: Optional[float] = None
    pending = list(on_serial)
    with open(serial_log, "rb") as f:
        while True:
            exited = qemu.poll() is not None
            chunks.append(f.read())
            text = b"".join(chunks).decode(errors="replace")
            for item in [p for p in pending if p[0] in text]:
                pending.remove(item)
                item[1]()
            reason = _classify(text, exited, stop_at_shell)
            if reason is None and stop_after is not None and stop_after in text:
                return "stopped", text
            if reason == "panic" and not exited:
                # Give the kernel a moment to print the backtrace, then stop.
                crash_seen_at = crash_seen_at or time.monotonic()
                if time.monotonic() - crash_seen_at < 2:
                    reason = None
            if reason is None and text.count(FACTS_END) >= boots:
                # Facts are in but the guest does not power off: do not wait for the full timeout.
                end_seen_at = end_seen_at or time.monotonic()
                if time.monotonic() - end_seen_at > (POWEROFF_GRACE if boots == 1 else REBOOT_POWEROFF_GRACE):
                    return "timeout", text
            if reason is not None:
                if reason == "qemu-error" or reason == "poweroff":
                    chunks.append(f.read())
                    text = b"".join(chunks).decode(errors="replace")
                return reason, text
            if time.monotonic() > deadline:
                return "timeout", text
            time.sleep(0.2)


def boot(esp_image: StrPath, *, tpm: bool = True, secure_boot: bool = False, timeout: float = 240,
         memory_mib: int = 2048, extra_drives: Sequence[StrPath] = (),
         workdir: Optional[StrPath] = None, stop_at_shell: bool = True,
         tpm_banks: str = DEFAULT_TPM_BANKS, tpm_state: Optional[StrPath] = None,
         serial_stamps: bool = False, qemu_args: Sequence[str] = (), boots: int = 1,
         qmp: bool = False, on_serial: Sequence[tuple[str, Callable[[Path], None]]] = (),
         stop_after: Optional[str] = None, writable_drives: Sequence[StrPath] = (),
         tpm_state_out: Optional[StrPath] = None) -> BootResult:
    """Boot an ESP image under QEMU/OVMF (TCG) and collect the serial log and facts.

    `extra_drives` are attached as snapshots (the guest's writes are
    dropped); `writable_drives` after them, written through (a LUKS volume
    the guest enrolls). With `tpm_state_out` the TPM's state after the boot
    (NV indices the guest defined included) is copied into that directory,
    for the next boot's `tpm_state`.

    With stop_at_shell=False the OVMF shell banner does not end the boot
    (for tests that start a UKI from the shell's startup.nsh).

    A fresh OVMF variable store and (with `tpm`) a fresh swtpm TPM 2.0 with
    sha1, sha256 and sha384 banks (or `tpm_banks`) are used for every boot;
    `tpm_state` boots a copy of an existing swtpm state directory instead
    (the original is never changed; see :func:`make_tpm_state`). QEMU and swtpm are
    killed on every exit path. The serial log is ``<workdir>/serial.log``.

    With `serial_stamps` the console is read through a pipe and every chunk
    gets a host timestamp (:attr:`BootResult.stamps`, :func:`stamp_of`);
    `qemu_args` are appended to QEMU's command line (e.g. ``-icount``).

    `boots` > 1: one QEMU run boots that many times (initrds built with
    ``reboot=True`` reboot after their facts, and something, usually
    startup.nsh's ``reset -s``, ends it); :attr:`BootResult.all_facts` has
    every boot's facts. With `qmp`, QEMU listens for QMP on
    ``<workdir>/qmp.sock`` (see :func:`screendump`); each (needle, action)
    of `on_serial` calls action(workdir) once needle appears on the console.
    With `stop_after` the boot ends (reason "stopped") as soon as that text
    is on the console, for benchmarks that need nothing after it.
    """
    esp = Path(esp_image).resolve()
    if not esp.is_file():
        raise HarnessError(f"ESP image {esp} does not exist")
    own_workdir = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="sysext-stub-boot-")) if own_workdir else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    vars_src = OVMF_VARS_SNAKEOIL if secure_boot else OVMF_VARS
    for firmware in (vars_src, OVMF_CODE_SECBOOT if secure_boot else OVMF_CODE):
        if not firmware.is_file():
            raise HarnessError(f"firmware {firmware} missing: install ovmf")
    vars_copy = wd / "OVMF_VARS.fd"
    shutil.copyfile(vars_src, vars_copy)
    serial_log = wd / "serial.log"
    serial_log.write_bytes(b"")
    qemu_stderr_path = wd / "qemu.stderr"
    swtpm_dir: Optional[Path] = None
    swtpm = qemu = None
    stamper: Optional[_SerialStamper] = None
    start = time.monotonic()
    reason, text, cmd = "qemu-error", "", []
    try:
        if tpm:
            swtpm_dir = Path(tempfile.mkdtemp(prefix="sw.", dir="/tmp"))
            swtpm = _start_swtpm(swtpm_dir, tpm_banks, Path(tpm_state) if tpm_state is not None else None)
        if qmp:
            qemu_args = [*qemu_args, "-qmp", f"unix:{_qemu_opt(wd / 'qmp.sock')},server=on,wait=off"]
        cmd = _qemu_command(esp, vars_copy, serial_log, secure_boot=secure_boot, memory_mib=memory_mib,
                            tpm_socket=swtpm_dir / "swtpm.sock" if swtpm_dir else None,
                            extra_drives=extra_drives, serial_to_stdout=serial_stamps, qemu_args=qemu_args,
                            reboot=boots > 1, writable_drives=writable_drives)
        (wd / "qemu.cmd").write_text(" ".join(cmd) + "\n")
        start = time.monotonic()
        with open(qemu_stderr_path, "wb") as err:
            try:
                qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE if serial_stamps else err, stderr=err,
                                        start_new_session=True)
            except FileNotFoundError as exc:
                raise HarnessError(f"qemu-system-x86_64 not found (install qemu-system-x86): {exc}") from exc
        if serial_stamps:
            stamper = _SerialStamper(qemu.stdout, serial_log, start, [qemu.pid] + ([swtpm.pid] if swtpm else []))
            stamper.start()
        reason, text = _watch(qemu, serial_log, timeout, stop_at_shell, boots,
                              [(needle, functools.partial(action, wd)) for needle, action in on_serial],
                              stop_after)
    finally:
        _kill_group(qemu)
        _kill_group(swtpm)
        if stamper is not None and stamper.is_alive():
            stamper.join(timeout=10)
            if qemu is not None and qemu.stdout is not None:
                qemu.stdout.close()
        duration = time.monotonic() - start
        if swtpm_dir is not None and tpm_state_out is not None:
            out = Path(tpm_state_out)
            out.mkdir(parents=True, exist_ok=True)
            for f in swtpm_dir.iterdir():
                if f.is_file() and not f.name.endswith((".sock", ".log", ".stderr", ".pid")):
                    shutil.copyfile(f, out / f.name)
        if swtpm_dir is not None and not keep_requested():
            shutil.rmtree(swtpm_dir, ignore_errors=True)
    stderr = qemu_stderr_path.read_text(errors="replace") if qemu_stderr_path.exists() else ""
    result = BootResult(log=text, facts=parse_facts(text), reason=reason, duration=duration,
                        workdir=wd, qemu_stderr=stderr, command=cmd, all_facts=parse_facts_all(text))
    if stamper is not None:
        result.stamps = list(stamper.stamps)
        result.cpu_stamps = list(stamper.cpu_stamps)
        result.raw_log = serial_log.read_bytes().decode(errors="surrogateescape")
    if own_workdir and not keep_requested():
        shutil.rmtree(wd, ignore_errors=True)
    return result


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def _parse_mapping(items: Sequence[str], what: str) -> dict:
    """DEST=SRC pairs from the command line."""
    out = {}
    for item in items:
        dest, sep, src = item.partition("=")
        if not sep:
            raise SystemExit(f"{what}: expected DEST=SRC, got {item!r}")
        out[dest] = src
    return out


def _cli_fetch(args: argparse.Namespace) -> None:
    k = fetch_kernel(args.cache_dir)
    print(json.dumps({"version": k.version, "vmlinuz": str(k.vmlinuz),
                      "modules_dir": str(k.modules_dir), "deb": str(k.deb)}, indent=2))


def _cli_initrd(args: argparse.Namespace) -> None:
    files = {d: Path(s).read_bytes() for d, s in _parse_mapping(args.file, "--file").items()}
    build_initrd(args.out, fetch_kernel(args.cache_dir), files, args.check)
    print(args.out)


def _cli_uki(args: argparse.Namespace) -> None:
    kernel = fetch_kernel(args.cache_dir)
    if args.linux:
        kernel = dataclasses.replace(kernel, vmlinuz=Path(args.linux))
    build_test_uki(args.out, kernel, cmdline=args.cmdline, initrd=args.initrd, stub=args.stub)
    print(args.out)


def _cli_esp(args: argparse.Namespace) -> None:
    build_esp(args.out, _parse_mapping(args.file, "--file"), args.dir, args.size_mib)
    print(args.out)


def _cli_boot(args: argparse.Namespace) -> None:
    result = boot(args.esp, tpm=not args.no_tpm, secure_boot=args.secure_boot, timeout=args.timeout,
                  memory_mib=args.memory, workdir=args.workdir)
    print(result.log if args.log else result.tail())
    print(json.dumps({"reason": result.reason, "duration": round(result.duration, 1),
                      "facts": result.facts.summary()}, indent=2))
    sys.exit(0 if result.reason == "poweroff" else 1)


def _cli_parse(args: argparse.Namespace) -> None:
    text = Path(args.log).read_text(errors="replace")
    print(json.dumps(parse_facts(text).summary(), indent=2))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command-line entry point for manual use."""
    ap = argparse.ArgumentParser(description="sysext-stub boot-test harness (QEMU + OVMF + swtpm).")
    ap.add_argument("--cache-dir", help="kernel cache directory (default: $SYSEXT_STUB_CACHE/kernel "
                                        "or ${XDG_CACHE_HOME:-~/.cache}/sysext-stub/kernel)")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch-kernel", help="download/unpack the Debian kernel, print its paths")
    p.set_defaults(func=_cli_fetch)
    p = sub.add_parser("initrd", help="build the test initrd")
    p.add_argument("out")
    p.add_argument("--file", action="append", default=[], metavar="ARCHIVE_PATH=HOST_FILE")
    p.add_argument("--check", action="append", default=[], metavar="PATH",
                   help="absolute path /init reports size and sha256 of")
    p.set_defaults(func=_cli_initrd)
    p = sub.add_parser("uki", help="build a UKI with objcopy around a stub (default: systemd-stub)")
    p.add_argument("out")
    p.add_argument("--stub", default=str(SYSTEMD_STUB))
    p.add_argument("--linux", help="kernel image (default: the fetched Debian kernel)")
    p.add_argument("--initrd", help="initrd (default: build the test initrd next to OUT)")
    p.add_argument("--cmdline", default=DEFAULT_CMDLINE)
    p.set_defaults(func=_cli_uki)
    p = sub.add_parser("esp", help="build a GPT+FAT32 ESP image")
    p.add_argument("out")
    p.add_argument("--file", action="append", default=[], metavar="ESP_PATH=HOST_FILE")
    p.add_argument("--dir", action="append", default=[], metavar="ESP_PATH")
    p.add_argument("--size-mib", type=int)
    p.set_defaults(func=_cli_esp)
    p = sub.add_parser("boot", help="boot an ESP image, print the log tail and the facts")
    p.add_argument("esp")
    p.add_argument("--no-tpm", action="store_true")
    p.add_argument("--secure-boot", action="store_true")
    p.add_argument("--timeout", type=float, default=240)
    p.add_argument("--memory", type=int, default=2048, help="MiB")
    p.add_argument("--workdir", help="keep serial.log, qemu.cmd, qemu.stderr here")
    p.add_argument("--log", action="store_true", help="print the whole serial log")
    p.set_defaults(func=_cli_boot)
    p = sub.add_parser("parse", help="parse the facts in a serial log file")
    p.add_argument("log")
    p.set_defaults(func=_cli_parse)
    args = ap.parse_args(argv)
    try:
        args.func(args)
    except HarnessError as exc:
        sys.exit(f"error: {exc}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
