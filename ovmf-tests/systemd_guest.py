#!/usr/bin/env python3
"""A real systemd initrd (Debian 13, systemd 257) for boot tests, and Debian 13's tools on the host.

Every boot test in harness.py ends in a busybox /init. This module builds
the initrd users run: Debian 13's systemd, udev, systemd-cryptsetup and the
TPM2 libraries, as Debian ships them, with a oneshot unit that prints facts
(the harness's format, see :func:`harness.parse_facts`) on ttyS0 once
systemd-sysext and the crypttab volumes are done, then powers off.

* :func:`tree` is one ``mmdebstrap`` tree of Debian 13 (cached by
  debian.py) holding both the initrd's packages and the host-side tools
  (systemd-repart, erofs-utils, cryptsetup, openssl); :func:`run_tool` runs
  those tools in it, since Debian 13's binaries need their own glibc.
* :func:`build_initrd` turns the tree into a zstd-compressed cpio: the
  host-side tools' files, hwdb, apt, perl and dpkg's database left out; the
  kernel modules systemd needs for loop, dm-verity, erofs, overlayfs and
  dm-crypt added (with depmod's indexes); /init, /etc/initrd-release,
  systemd-sysext.service enabled (Debian does not), and an
  :class:`InitrdSpec`'s files, units and probes. Cached under the harness
  cache by a hash of every input, rebuilt when one changes.
* :func:`make_verity_key`, :func:`build_sysext` (signed DDIs made by
  ``systemd-repart --make-ddi=sysext``, or unsigned ones) and
  :func:`tamper` make the extension images.
* :func:`luks_volume` formats a LUKS2 image and enrolls it with Debian 13's
  ``systemd-cryptenroll`` against a swtpm state the guest then boots with.
* :func:`prepare_scenario` builds all of that for issue 16's boots (and
  ``make demo DEMO=systemd``); :meth:`Scenario.boot` boots an ESP with a
  copy of the enrolled TPM state and the volume attached.

Facts the unit prints besides the harness's (``extra``, ``pcr``,
``eventlog``, ``efivar``, ...): for every probe ``(NAME, SHELL)`` of the
spec, ``note rc-NAME <exit status>`` and its output as ``text NAME <line>``
lines (:meth:`harness.Facts.text`).

The kernel is the one the other boot tests use (:func:`harness.fetch_kernel`,
Debian 12's 6.1): systemd 257 runs on it, and one kernel keeps the initrd
and the busybox tests comparable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

sys.path.insert(0, str(Path(__file__).resolve().parent))
import debian  # noqa: E402
import harness  # noqa: E402

SUITE = "trixie"
#: What the initrd runs: systemd (sysext, pcrphase, pcrlock, analyze), udev, kmod for modprobe,
#: libcryptsetup for dm-verity, systemd-cryptsetup/cryptenroll, bootctl, and the tpm2-tss
#: libraries systemd dlopen()s (esys, rc, mu, and the device TCTI for /dev/tpmrm0).
INITRD_PACKAGES = ("systemd", "udev", "kmod", "libcryptsetup12", "systemd-cryptsetup", "systemd-boot-tools",
                   "libtss2-esys-3.0.2-0t64", "libtss2-rc0t64", "libtss2-mu-4.0.1-0t64", "libtss2-tcti-device0t64")
#: Host-side tools in the same tree, left out of the initrd: repart and mkfs.erofs for the DDIs,
#: cryptsetup for luksFormat, openssl, and the swtpm TCTI cryptenroll reaches the host's swtpm with.
TOOL_PACKAGES = ("systemd-repart", "erofs-utils", "cryptsetup-bin", "openssl", "libtss2-tcti-swtpm0t64")
#: Packages whose files never go into the initrd (nothing there runs them).
UNUSED_PACKAGES = ("apt", "perl-base", "debconf", "sqv", "gpgv")
#: Tree paths left out of the initrd: the 13 MB hardware database and package-manager state.
PRUNED_PATHS = ("usr/lib/udev/hwdb.bin", "usr/lib/udev/hwdb.d", "var/lib/dpkg", "var/lib/apt", "var/cache",
                "var/log", "usr/share/zoneinfo")
#: Kernel modules (with their dependencies) for what the initrd does, on Debian 12's 6.1: sysexts
#: (loop, dm-verity, erofs with its crc32c provider, overlay), LUKS (dm-crypt, xts, ecb, AF_ALG for
#: libcryptsetup's keyslot decryption), EFI variables, the virtio disk. All listed in modules-load.d,
#: so nothing depends on autoloading.
MODULES = ("efivarfs", "loop", "dm_verity", "erofs", "crc32c_generic", "overlay", "dm_crypt", "xts", "ecb",
           "algif_skcipher", "virtio_blk", "virtio_pci")
#: The UKI command line for this initrd: facts alone on ttyS0, no root file system to look for, and
#: long unit and device timeouts: under TCG on a loaded machine journald, modules-load and udev's
#: coldplug each can take longer than systemd's 90 s defaults.
CMDLINE = ("console=ttyS0 quiet systemd.show_status=false rd.systemd.gpt_auto=0 panic=-1 "
           "systemd.default_timeout_start_sec=15min systemd.default_device_timeout_sec=15min")
#: One bank keeps firmware hashing of the ~30 MB initrd short under TCG; systemd picks sha256 anyway.
TPM_BANKS = "sha256"
#: Bumped when the way the initrd is put together changes, so cached ones are rebuilt.
RECIPE = "1"
#: Seconds one boot may take: 1.5-2 minutes on an idle machine, up to 14 under heavy load (load 12
#: on 2 cores).
BOOT_TIMEOUT = 1200
#: Fixed LUKS UUID, so /etc/crypttab (part of the cached initrd) does not change per run.
LUKS_UUID = "7f3c1e52-1d0b-4b8e-9a55-5e0c2b7d9a10"
LUKS_NAME = "luks"
#: Where the facts unit and script go in the initrd.
FACTS_UNIT = "sysext-stub-facts.service"
FACTS_SCRIPT = "/usr/lib/sysext-stub-test/facts"
#: Each test sysext carries /usr/bin/<HELLO_PREFIX><name>, which prints "hello <name> <version>".
HELLO_PREFIX = "sysext-stub-hello-"
#: The drop-in README.md tells systemd < 258 users to install (test 1 installs it).
GLOBAL_SYSEXT_DROPIN = harness.REPO_ROOT / "initrd" / "systemd-sysext.service.d" / "50-sysext-stub-global.conf"

Content = Union[bytes, str, tuple]


# --------------------------------------------------------------------------
# The Debian 13 tree and its tools
# --------------------------------------------------------------------------

def tree(extra_packages: Sequence[str] = (), name: str = "systemd-initrd") -> Path:
    """The Debian 13 tree (initrd packages + host tools + `extra_packages`), built once and cached.

    debian.py keeps one tree per `name`: give each package set its own name.
    """
    packages = sorted(set(INITRD_PACKAGES + TOOL_PACKAGES + tuple(extra_packages)))
    return debian.chroot(SUITE, packages, name=name)


def run_tool(argv: Sequence[str], *, binds: Sequence[tuple[Path, str]] = (), root: Optional[Path] = None,
             what: str = "") -> str:
    """Run a Debian 13 tool in the tree with host directories bound in; return its stdout."""
    return debian.chroot_run(root or tree(), argv, binds=binds, what=what)


# --------------------------------------------------------------------------
# Sysexts
# --------------------------------------------------------------------------

def make_verity_key(directory: Path, name: str = "verity") -> tuple[Path, Path]:
    """An RSA key and self-signed certificate for signing DDIs' Verity root hashes; (key, cert)."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    harness.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                 "-days", "3650", "-subj", f"/CN=sysext-stub test {name}", "-sha256"], what="making a Verity key")
    return key, cert


def cached_verity_key() -> tuple[Path, Path]:
    """The test Verity key and certificate, made once in the cache: the certificate is part of the
    initrd (/etc/verity.d), so a new key per run would rebuild the initrd every run."""
    directory = harness.cache_base() / "systemd-initrd"
    harness._ensure_outside_repo(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = directory / "verity-test.key", directory / "verity-test.crt"
    with debian._locked(directory / ".verity.lock"):
        if not (key.is_file() and cert.is_file()):
            make_verity_key(directory, "verity-test")
    return key, cert


#: Size of the marker program: 32 blocks of 4 KiB, so :func:`tamper` changes a block in its middle,
#: one nothing reads while merging. (With an 8 KiB marker in a 0.5 MB file system the changed block
#: was read while the image was set up, and libcryptsetup refused it: "Verity device detected
#: corruption after activation".)
HELLO_SIZE = 128 << 10


def hello_script(name: str, version: str, size: int = HELLO_SIZE) -> bytes:
    """The marker program of a test sysext: reads itself whole (so every block of it passes
    dm-verity), then prints "hello NAME VERSION"; padded to `size` bytes.

    A multiple of the block size, so erofs stores it in data blocks of its
    own (no tail packed into the metadata).
    """
    head = f"#!/bin/sh\ncat \"$0\" >/dev/null || exit 1\necho hello {name} {version}\nexit 0\n# ".encode()
    filler = hashlib.sha256(f"{name} {version}".encode()).hexdigest().encode()
    body = head + (filler * (size // len(filler) + 1))[:size - len(head) - 1] + b"\n"
    assert len(body) == size
    return body


def extension_release(name: str, scope: str = "initrd") -> str:
    """extension-release for Debian 13's initrd-release (ID=debian, VERSION_ID=13, no SYSEXT_LEVEL)."""
    return f"ID=debian\nVERSION_ID=13\nSYSEXT_SCOPE={scope}\n"


def build_sysext(out: Path, name: str, version: str, *, key: Optional[Path] = None, cert: Optional[Path] = None,
                 files: Optional[Mapping[str, bytes]] = None, scope: str = "initrd") -> Path:
    """A system extension DDI at `out` carrying /usr/bin/sysext-stub-hello-NAME.

    With `key` and `cert`: Debian 13's ``systemd-repart --make-ddi=sysext``
    (erofs, dm-verity, root-hash signature). Without: the same erofs
    partition alone, no Verity and no signature (what an unsigned sysext is).
    `files` adds more (path below the image root -> bytes).
    """
    work = Path(tempfile.mkdtemp(prefix=f"sysext-{name}-", dir=out.parent))
    try:
        src = work / "tree"
        content = {f"usr/bin/{HELLO_PREFIX}{name}": hello_script(name, version),
                   f"usr/lib/extension-release.d/extension-release.{name}": extension_release(name, scope).encode()}
        content.update(files or {})
        for path, data in content.items():
            p = src / path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            p.chmod(0o755 if path.startswith("usr/bin/") else 0o644)
        argv = ["systemd-repart", "--offline=yes", "--seed=0e4f7d5b-2c86-4b1d-a1f4-9c2e8d7b6a53",
                "--copy-source=/w/tree"]
        binds = [(work, "/w")]
        if key is not None:
            binds += [(key.parent, "/k")]
            argv += ["--make-ddi=sysext", f"--private-key=/k/{key.name}", f"--certificate=/k/{cert.name}"]
        else:
            (work / "defs").mkdir()
            (work / "defs" / "10-root.conf").write_text(
                "[Partition]\nType=root\nFormat=erofs\nCopyFiles=/usr/\nMinimize=best\n")
            argv += ["--definitions=/w/defs", "--empty=create", "--size=auto"]
        run_tool([*argv, "/w/out.raw"], binds=binds, what=f"systemd-repart: sysext {name} {version}")
        shutil.move(str(work / "out.raw"), out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def tamper(image: Path, name: str, version: str) -> None:
    """Flip one byte in the middle of the marker program inside a sysext image (an attacker on the ESP).

    Only that data block changes: the partition table, the file system's
    metadata, the Verity hash tree and the signature stay as they were.
    """
    data = bytearray(image.read_bytes())
    filler = hashlib.sha256(f"{name} {version}".encode()).hexdigest().encode()
    at = data.find(filler * 4)
    if at < 0 or data.find(filler * 4, at + HELLO_SIZE) >= 0:
        raise harness.HarnessError(f"{image}: marker data of {name} {version} not found once (compressed?)")
    data[at + HELLO_SIZE // 2] ^= 0x01
    image.write_bytes(bytes(data))


# --------------------------------------------------------------------------
# LUKS
# --------------------------------------------------------------------------

def luks_volume(image: Path, public_key: Path, tpm_state: Path, *, pcrs: str = "11+13",
                size_mib: int = 32) -> dict:
    """A LUKS2 image with a systemd-tpm2 token for `public_key` and `pcrs`, enrolled on `tpm_state`.

    Debian 13's cryptsetup formats it (UUID :data:`LUKS_UUID`, a random
    key that is then thrown away) and Debian 13's systemd-cryptenroll
    enrolls a signed PCR policy (``--tpm2-public-key-pcrs``, no literal
    PCRs) against a swtpm serving `tpm_state`, which boots later keep.
    Returns the token's JSON.
    """
    work = Path(tempfile.mkdtemp(prefix="luks-", dir="/tmp"))
    try:
        keyfile = work / "key"
        keyfile.write_bytes(os.urandom(32))
        with open(work / "img", "wb") as f:
            f.truncate(size_mib << 20)
        shutil.copyfile(public_key, work / "pub.pem")
        binds = [(work, "/w")]
        run_tool(["cryptsetup", "luksFormat", "--type", "luks2", "--uuid", LUKS_UUID, "--pbkdf", "pbkdf2",
                  "--pbkdf-force-iterations", "1000", "--batch-mode", "--key-file", "/w/key", "/w/img"],
                 binds=binds, what="cryptsetup luksFormat")
        with harness.HostTpm(tpm_state) as tpm:
            run_tool(["systemd-cryptenroll", "--unlock-key-file=/w/key", f"--tpm2-device={tpm.tcti}",
                      "--tpm2-public-key=/w/pub.pem", f"--tpm2-public-key-pcrs={pcrs}", "--tpm2-pcrs=", "/w/img"],
                     binds=binds + [(Path(tpm_state), str(tpm_state))], what="systemd-cryptenroll")
        token = json.loads(run_tool(["cryptsetup", "token", "export", "--token-id", "0", "/w/img"], binds=binds,
                                    what="cryptsetup token export"))
        shutil.move(str(work / "img"), image)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return token


def crypttab() -> str:
    """/etc/crypttab of the initrd: the volume by UUID, unlocked by the TPM only (never asks), nofail.

    With nofail, systemd-cryptsetup@luks.service is not ordered before
    cryptsetup.target: the facts unit orders itself after the service.
    """
    return f"{LUKS_NAME} UUID={LUKS_UUID} - tpm2-device=auto,headless=true,nofail\n"


# --------------------------------------------------------------------------
# Probes: what the facts unit runs (NAME, shell), each printed as text NAME / note rc-NAME
# --------------------------------------------------------------------------

PROBE_SYSEXT = (
    ("sysext-unit", "systemctl show -p ActiveState -p Result -p ExecMainStatus systemd-sysext.service"),
    ("sysext-journal", "journalctl -b -o cat --no-pager -u systemd-sysext.service"),
    ("sysext-status", "systemd-sysext status"),
    ("sysext-list", "systemd-sysext list"),
    # What systemd-sysext finds without /.extra/sysext (so without the global drop-in's links):
    # whether it looks at /.extra/global_sysext itself.
    ("sysext-list-hidden-sysext", "unshare -m --propagation private sh -c "
                                  "'mount -t tmpfs tmpfs /.extra/sysext 2>/dev/null; systemd-sysext list'"),
    ("hello", f'rc=0; for h in /usr/bin/{HELLO_PREFIX}*; do [ -e "$h" ] || continue; "$h" || rc=1; done; exit $rc'),
)

#: Each stub-delivered image on its own, through systemd-sysext 257's own path-based policy: in a
#: mount namespace of its own, /.extra/sysext holds just a link to that one image; unmerge, merge,
#: run the markers. The namespace is a slave of the initrd's (nothing leaks back) and shared
#: inside, so systemd-sysext's own forked namespace propagates its overlay into it.
#: Diagnosis only, and only when systemd-sysext.service failed: the real merge is the service's.
PROBE_EACH_SYSEXT = (
    ("each-sysext", r"""
systemctl -q is-failed systemd-sysext.service || exit 0
mkdir -p /run/each-src
for img in /.extra/sysext/*.raw /.extra/global_sysext/*.raw; do
    [ -f "$img" ] || continue
    case "$img" in /.extra/sysext/*) [ -L "$img" ] && continue ;; esac
    unshare -m --propagation slave sh -c '
        mount --make-rshared / && mount --bind "${1%/*}" /run/each-src && mount --make-private /run/each-src &&
        mount -t tmpfs tmpfs /.extra/sysext && ln -s "/run/each-src/$2" "/.extra/sysext/$2" || exit 9
        systemd-sysext unmerge >/dev/null 2>&1
        systemd-sysext merge >/tmp/each.log 2>&1; echo "merge $2 rc=$?"; sed "s/^/  /" /tmp/each.log
        for h in /usr/bin/sysext-stub-hello-*; do [ -e "$h" ] && { "$h" 2>&1; echo "  run ${h##*/} rc=$?"; }; done
    ' each "$img" "${img##*/}"
done
"""),
)

PROBE_CRYPTSETUP = (
    ("crypt-unit", f"systemctl show -p ActiveState -p Result -p ExecMainStatus systemd-cryptsetup@{LUKS_NAME}.service"),
    ("crypt-journal", f"journalctl -b -o cat --no-pager -u systemd-cryptsetup@{LUKS_NAME}.service"),
    ("crypt-mapped", f"test -b /dev/mapper/{LUKS_NAME}"),
)

PROBE_TOOLS = (
    ("bootctl", "bootctl status --no-pager"),
    ("analyze-pcrs", "systemd-analyze pcrs 11 12 13"),
    ("pcrlock-log", "/usr/lib/systemd/systemd-pcrlock log --json=short"),
    ("pcrphase-unit", "systemctl show -p ActiveState -p Result systemd-pcrphase-initrd.service"),
    ("tpm2-measure-log", "cat /run/log/systemd/tpm2-measure.log"),
)

#: The probes of issue 16's boots, in order.
STANDARD_PROBES = PROBE_SYSEXT + PROBE_CRYPTSETUP + PROBE_TOOLS


# --------------------------------------------------------------------------
# Reading the probes' output
# --------------------------------------------------------------------------

def unit_state(facts: harness.Facts, probe: str) -> dict:
    """A ``systemctl show -p ...`` probe's output as a dict (the last unit's value wins)."""
    return dict(line.split("=", 1) for line in facts.text(probe).splitlines() if "=" in line)


def merged(facts: harness.Facts) -> dict:
    """`systemd-sysext status` (the ``sysext-status`` probe): hierarchy -> extension names merged there."""
    out: dict = {}
    current = None
    for line in facts.text("sysext-status").splitlines()[1:]:
        cols = line.split()
        if not cols:
            continue
        if line.startswith("/"):
            current = cols[0]
            out[current] = [] if cols[1] == "none" else [cols[1]]
        elif current is not None:
            out[current].append(cols[0])
    return out


def hello_lines(facts: harness.Facts) -> list:
    """What the test sysexts' marker programs printed (the ``hello`` probe), sorted."""
    return sorted(line for line in facts.text("hello").splitlines() if line.startswith("hello "))


FACTS_SCRIPT_TEXT = r"""#!/bin/sh
# Facts of the sysext-stub systemd initrd test (written by ovmf-tests/systemd_guest.py), run by
# @UNIT@ once systemd-sysext and cryptsetup are done. Prints facts on ttyS0, then powers off.
exec >/dev/ttyS0 2>&1 </dev/null
echo 1 > /proc/sys/kernel/printk
export SYSTEMD_COLORS=0 SYSTEMD_PAGER= SYSTEMD_LOG_COLOR=0 LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin

@FUNCTIONS@
# probe NAME SHELL: run SHELL, print its exit status as "note rc-NAME", its output as "text NAME"
# lines and the seconds it took as "note seconds-NAME".
probe() {
    t0=$(cut -d ' ' -f 1 /proc/uptime)
    sh -c "$2" > /tmp/probe.out 2>&1 </dev/null
    echo "note rc-$1 $?"
    echo "note seconds-$1 $t0 $(cut -d ' ' -f 1 /proc/uptime)"
    tr -d '\r' < /tmp/probe.out | sed "s/^/text $1 /"
}

# systemd leaves a terminal reset sequence without a newline on the console: start on a fresh line.
echo
echo "@BEGIN@"
echo "kernel $(uname -r)"
echo "cmdline $(hex /proc/cmdline)"
facts_extra
facts_files
facts_tpm
facts_efivars
@PROBES@
echo "done"
echo "@END@"
sleep 1
echo o > /proc/sysrq-trigger
"""

FACTS_UNIT_TEXT = """[Unit]
Description=sysext-stub test: print facts on ttyS0, then power off
DefaultDependencies=no
Wants=cryptsetup.target
After=systemd-sysext.service cryptsetup.target systemd-cryptsetup@@LUKS@.service systemd-pcrphase-initrd.service
After=systemd-journald.service
After=systemd-tpm2-setup-early.service systemd-udev-trigger.service systemd-modules-load.service
Before=initrd.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=@SCRIPT@
"""


def facts_script(probes: Sequence[tuple[str, str]]) -> str:
    """The facts unit's script: the harness's facts, then each probe."""
    lines = []
    for name, shell in probes:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"probe name must be one word: {name!r}")
        lines.append(f"probe {name} {shlex.quote(shell)}")
    text = FACTS_SCRIPT_TEXT.replace("@FUNCTIONS@", harness.facts_functions())
    for key, value in {"@PROBES@": "\n".join(lines), "@UNIT@": FACTS_UNIT, "@BEGIN@": harness.FACTS_BEGIN,
                       "@END@": harness.FACTS_END}.items():
        text = text.replace(key, value)
    return text


# --------------------------------------------------------------------------
# The initrd
# --------------------------------------------------------------------------

@dataclasses.dataclass
class InitrdSpec:
    """What goes into one systemd initrd besides the Debian 13 tree."""
    #: One cached initrd per name: give each variant its own.
    name: str = "systemd-initrd"
    #: The Debian 13 tree it is made from, when not the one called `name` (variants that differ only
    #: in files share the tree, and keep their cached initrds apart by `name`).
    tree_name: Optional[str] = None
    extra_packages: tuple = ()
    #: path in the initrd -> bytes or str (mode 0644) or (bytes, mode)
    files: dict = dataclasses.field(default_factory=dict)
    #: unit name -> text, written to /etc/systemd/system/
    units: dict = dataclasses.field(default_factory=dict)
    #: target -> unit names enabled for it (/etc/systemd/system/<target>.wants/)
    wants: dict = dataclasses.field(default_factory=dict)
    modules: tuple = MODULES
    #: (NAME, shell) steps of the facts unit, after the harness's facts
    probes: tuple = STANDARD_PROBES
    #: path in the initrd -> link target, besides the builder's own
    symlinks: dict = dataclasses.field(default_factory=dict)


def issue16_spec(verity_cert: bytes, *, global_dropin: bool = True) -> InitrdSpec:
    """The initrd of test_systemd_initrd.py: the test's Verity certificate in /etc/verity.d, the
    LUKS volume in /etc/crypttab, and (by default) the global-sysext drop-in users of systemd 257 need."""
    files = {"etc/verity.d/sysext-stub-test.crt": verity_cert, "etc/crypttab": crypttab()}
    if global_dropin:
        files["etc/systemd/system/systemd-sysext.service.d/" + GLOBAL_SYSEXT_DROPIN.name] = \
            GLOBAL_SYSEXT_DROPIN.read_bytes()
    return InitrdSpec(files=files, probes=STANDARD_PROBES + PROBE_EACH_SYSEXT)


#: What the admit boots print: the admit unit, its journal, what it moved, and where the boot went.
PROBE_ADMIT = (
    ("admit-unit", "systemctl show -p ActiveState -p Result -p ExecMainStatus sysext-stub-admit.service"),
    ("admit-journal", "journalctl -b -o cat --no-pager -u sysext-stub-admit.service"),
    ("refused", "[ ! -d /run/sysext-stub/refused ] || { cd /run/sysext-stub/refused && find . -type f | sort; }"),
    ("extra-sysext", "ls -1 /.extra/sysext /.extra/global_sysext"),
    ("emergency", "systemctl show -p ActiveState -p Result emergency.target emergency.service"),
    ("jobs", "systemctl list-jobs --no-pager --no-legend"),
)


def install_initrd_files(verity_cert: Path) -> tuple[dict, dict]:
    """What ``make install-initrd DESTDIR=... VERITY_CERTS=cert`` installs: (files, symlinks), as
    InitrdSpec takes them (initrd path -> (bytes, mode) and initrd path -> link target)."""
    files, links = {}, {}
    with tempfile.TemporaryDirectory(prefix="install-initrd-") as dest:
        harness.run(["make", "-s", "-C", harness.REPO_ROOT, "install-initrd", f"DESTDIR={dest}",
                     f"VERITY_CERTS={verity_cert}"], what="make install-initrd")
        for path in sorted(Path(dest).rglob("*")):
            rel = str(path.relative_to(dest))
            if path.is_symlink():
                links[rel] = os.readlink(path)
            elif path.is_file():
                files[rel] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    if "usr/bin/sysext-stub" not in files or not links:
        raise harness.HarnessError(f"make install-initrd installed {sorted(files)} {links}: not the binary and unit")
    return files, links


def admit_spec(verity_cert: Path) -> InitrdSpec:
    """The systemd initrd with ``make install-initrd`` (sysext-stub, sysext-stub-admit.service enabled,
    the Verity certificate in /etc/verity.d) and the global-sysext drop-in; no LUKS volume. The facts
    unit is also wanted by emergency.target, so a boot that goes there still reports."""
    files, links = install_initrd_files(verity_cert)
    files["etc/systemd/system/systemd-sysext.service.d/" + GLOBAL_SYSEXT_DROPIN.name] = \
        GLOBAL_SYSEXT_DROPIN.read_bytes()
    links[f"etc/systemd/system/emergency.target.wants/{FACTS_UNIT}"] = f"/etc/systemd/system/{FACTS_UNIT}"
    return InitrdSpec(name="systemd-initrd-admit", tree_name="systemd-initrd", files=files, symlinks=links,
                      probes=PROBE_ADMIT + PROBE_SYSEXT)


def _as_bytes(value: Content) -> tuple[bytes, int]:
    if isinstance(value, tuple):
        data, mode = value
    else:
        data, mode = value, 0o644
    return (data.encode() if isinstance(data, str) else bytes(data)), mode


def _generated_files(root: Path, spec: InitrdSpec) -> dict[str, tuple[bytes, int]]:
    """Everything the builder writes on top of the tree (path -> (bytes, mode)); symlinks separate."""
    files = {"etc/initrd-release": ((root / "usr/lib/os-release").read_bytes(), 0o644),
             "etc/modules-load.d/sysext-stub-test.conf": ("".join(m + "\n" for m in spec.modules).encode(), 0o644),
             FACTS_SCRIPT.lstrip("/"): (facts_script(spec.probes).encode(), 0o755),
             f"etc/systemd/system/{FACTS_UNIT}": (FACTS_UNIT_TEXT.replace("@SCRIPT@", FACTS_SCRIPT).replace("@LUKS@", LUKS_NAME).encode(), 0o644)}
    for name, text in spec.units.items():
        files[f"etc/systemd/system/{name}"] = _as_bytes(text)
    for path, value in spec.files.items():
        files[path.lstrip("/")] = _as_bytes(value)
    return files


def _symlinks(spec: InitrdSpec) -> dict[str, str]:
    links = {"init": "usr/lib/systemd/systemd",
             # Debian 13 ships systemd-sysext.service disabled; an initrd that takes sysexts enables it.
             "etc/systemd/system/sysinit.target.wants/systemd-sysext.service":
                 "/usr/lib/systemd/system/systemd-sysext.service",
             f"etc/systemd/system/initrd.target.wants/{FACTS_UNIT}": f"/etc/systemd/system/{FACTS_UNIT}"}
    for target, units in spec.wants.items():
        for unit in units:
            source = f"/etc/systemd/system/{unit}" if unit in spec.units else f"/usr/lib/systemd/system/{unit}"
            links[f"etc/systemd/system/{target}.wants/{unit}"] = source
    for path, target in spec.symlinks.items():
        links[path.lstrip("/")] = target
    return links


def _excluded_files(root: Path) -> set[str]:
    """Tree paths (relative) of files owned by TOOL_PACKAGES and UNUSED_PACKAGES."""
    out: set[str] = set()
    info = root / "var/lib/dpkg/info"
    for package in TOOL_PACKAGES + UNUSED_PACKAGES:
        lists = list(info.glob(f"{package}.list")) + list(info.glob(f"{package}:*.list"))
        for lst in lists:
            for line in lst.read_text().splitlines():
                path = line.strip().lstrip("/")
                if path and ((root / path).is_symlink() or not (root / path).is_dir()):
                    out.add(path)  # files and links only: directories are shared with other packages
    return out


def _add_tree(cpio: harness.CpioArchive, root: Path) -> None:
    """The tree's directories, files and symlinks, less what the initrd does not need."""
    excluded = _excluded_files(root)
    pruned = tuple(PRUNED_PATHS)
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        if rel_dir in ("proc", "sys", "dev", "run", "tmp"):
            dirnames[:] = []
            continue
        keep = []
        for d in sorted(dirnames):
            rel = os.path.join(rel_dir, d)
            if rel.startswith(pruned):
                continue
            st = os.lstat(os.path.join(dirpath, d))
            if stat.S_ISLNK(st.st_mode):
                cpio.add_symlink(rel, os.readlink(os.path.join(dirpath, d)))
                continue
            cpio.add_dir(rel, stat.S_IMODE(st.st_mode))
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = os.path.join(rel_dir, f)
            if rel in excluded or rel.startswith(pruned) or (not rel_dir and f.startswith(".")):
                continue
            full = os.path.join(dirpath, f)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                cpio.add_symlink(rel, os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    cpio.add_file(rel, fh.read(), stat.S_IMODE(st.st_mode))
    for d in ("proc", "sys", "dev", "run", "tmp"):
        cpio.add_dir(d, 0o1777 if d == "tmp" else 0o755)
    cpio.add_chardev("dev/console", 5, 1)
    cpio.add_chardev("dev/null", 1, 3, 0o666)


def _add_modules(cpio: harness.CpioArchive, root: Path, kernel: harness.Kernel, modules: Sequence[str]) -> None:
    """The modules and their dependencies, with modules.builtin and the indexes of the tree's depmod."""
    with tempfile.TemporaryDirectory(prefix="depmod-") as tmp:
        moddir = Path(tmp) / "lib" / "modules" / kernel.version
        (moddir / "kernel" / "sysext-stub").mkdir(parents=True)
        for name in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
            if (kernel.modules_dir / name).is_file():
                shutil.copyfile(kernel.modules_dir / name, moddir / name)
        for module in modules:
            for filename, data in harness.collect_modules(kernel, module):
                (moddir / "kernel" / "sysext-stub" / filename).write_bytes(data)
        run_tool(["depmod", "-b", "/w", kernel.version], binds=[(Path(tmp), "/w")], root=root,
                 what="depmod for the systemd initrd")
        for path in sorted(moddir.rglob("*")):
            if path.is_file():
                rel = path.relative_to(moddir)
                cpio.add_file(f"usr/lib/modules/{kernel.version}/{rel}", path.read_bytes())


def _initrd_key(root: Path, kernel: harness.Kernel, spec: InitrdSpec, files: Mapping, links: Mapping) -> str:
    doc = {"recipe": RECIPE, "tree": root.name, "kernel": kernel.version,
           "deb": kernel.deb.name if kernel.deb else str(kernel.root), "modules": list(spec.modules),
           "files": {p: [hashlib.sha256(d).hexdigest(), m] for p, (d, m) in sorted(files.items())},
           "links": dict(sorted(links.items())), "pruned": list(PRUNED_PATHS),
           "excluded": list(TOOL_PACKAGES + UNUSED_PACKAGES)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def build_initrd(kernel: harness.Kernel, spec: Optional[InitrdSpec] = None) -> Path:
    """The zstd-compressed cpio of the systemd initrd for `spec`, built once per set of inputs.

    Cached as ``<cache>/systemd-initrd/<name>-<key>.cpio.zst``; the key
    covers the tree, the kernel, the modules, every generated file and
    RECIPE. Older initrds of the same name are removed.
    """
    spec = spec or InitrdSpec()
    root = tree(spec.extra_packages, spec.tree_name or spec.name)
    files, links = _generated_files(root, spec), _symlinks(spec)
    cache = harness.cache_base() / "systemd-initrd"
    harness._ensure_outside_repo(cache)
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{spec.name}-{_initrd_key(root, kernel, spec, files, links)}.cpio.zst"
    if out.is_file():
        return out
    cpio = harness.CpioArchive()
    _add_tree(cpio, root)
    _add_modules(cpio, root, kernel, spec.modules)
    for path, (data, mode) in files.items():
        cpio.add_file(path, data, mode)
    for path, target in links.items():
        cpio.add_symlink(path, target)
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            proc = subprocess.run(["zstd", "-q", "-T0", "-12", "-c"], input=cpio.to_bytes(), stdout=f,
                                  stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise harness.HarnessError(f"zstd failed: {proc.stderr.decode(errors='replace')}")
        os.rename(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    for old in cache.glob(f"{spec.name}-*.cpio.zst"):
        if old != out:
            old.unlink(missing_ok=True)
    return out


# --------------------------------------------------------------------------
# The Kairos-style scenario: sysexts on the ESP, signed PCR policies, a LUKS volume
# --------------------------------------------------------------------------

CLI = harness.REPO_ROOT / "build" / "sysext-stub"
STUB = harness.REPO_ROOT / "build" / "sysext-stub-x64.efi"
#: Where the UKIs sit on the ESP (the removable-media path OVMF boots), and the directories beside it.
UKI_PATH = "EFI/BOOT/BOOTX64.EFI"
EXTRA_DIR = UKI_PATH + ".extra.d"
GLOBAL_DIR = "loader/extensions"
#: The images every scenario builds: key -> (name in the image, version, signed).
IMAGES = {"base-1": ("base", "1", True), "base-2": ("base", "2", True), "tools-1": ("tools", "1", True),
          "legacy-1": ("legacy", "1", True), "unsigned-1": ("unsigned", "1", False)}
#: The approved sysext sets, signed by the scenario's PCR key: set -> (per-UKI, global), each
#: ESP file name -> image key. legacy.raw is a signed sysext without ".sysext" in its file name:
#: systemd-stub picks every *.raw, sysext-stub only *.sysext.raw (README, "Drop a sysext").
APPROVED_SETS = {
    "v1": ({"base.sysext.raw": "base-1", "legacy.raw": "legacy-1"}, {"tools.sysext.raw": "tools-1"}),
    "v2": ({"base.sysext.raw": "base-2", "legacy.raw": "legacy-1"}, {"tools.sysext.raw": "tools-1"}),
}


@dataclasses.dataclass
class Scenario:
    """Everything the issue-16 boots share: one initrd, two UKIs, images, signatures, TPM, volume."""
    work: Path
    initrd: Path
    uki: Path              #: around sysext-stub, .pcrpkey = pcr_public, no .pcrsig
    uki_systemd: Path      #: the same sections around Debian 13's systemd-stub 257
    pcr_key: Path
    pcr_public: Path
    verity_cert: Path
    images: dict           #: image key (IMAGES) -> path
    signatures: dict       #: set name (APPROVED_SETS) -> tpm2-pcr-signature.json bytes
    tpm_state: Path        #: swtpm state the volume was enrolled on (boots use copies)
    luks: Path
    token: dict            #: the volume's systemd-tpm2 token

    def sysexts(self, set_name: str) -> tuple[dict, dict]:
        """(per-UKI, global) of an approved set: ESP file name -> image path."""
        per, glob = APPROVED_SETS[set_name]
        return ({n: self.images[k] for n, k in per.items()}, {n: self.images[k] for n, k in glob.items()})

    def esp(self, per_uki: Mapping, global_: Mapping = {}, *, uki: Optional[Path] = None) -> dict:
        """ESP contents: `uki` (default: ours) at UKI_PATH, `per_uki` in its .extra.d, `global_` in
        \\loader\\extensions (ESP file name -> path or bytes)."""
        files: dict = {UKI_PATH: str(uki or self.uki)}
        for directory, group in ((EXTRA_DIR, per_uki), (GLOBAL_DIR, global_)):
            for name, value in group.items():
                files[f"{directory}/{name}"] = value if isinstance(value, bytes) else str(value)
        return files

    def boot(self, workdir: Path, esp: Mapping) -> harness.BootResult:
        """Build the ESP and boot it with a copy of the enrolled TPM and the volume attached."""
        workdir.mkdir(parents=True, exist_ok=True)
        image = workdir / "esp.img"
        harness.build_esp(image, esp)
        return harness.boot(image, workdir=workdir / "boot", tpm=True, tpm_banks=TPM_BANKS,
                            tpm_state=self.tpm_state, extra_drives=[self.luks], timeout=BOOT_TIMEOUT)


def cli(*args) -> str:
    """Run build/sysext-stub; its stdout."""
    return harness.run([CLI, *args], what=f"sysext-stub {args[0]}")


def set_dirs(work: Path, per_uki: Mapping[str, Union[Path, bytes]],
             global_: Mapping[str, Union[Path, bytes]]) -> tuple[Path, Path]:
    """Directories holding files as the ESP will (for predict and sign): (per-UKI, global).

    Signature files count for PCR 9 (Linux measures the whole initrd, the
    merged signature file included), not for PCRs 11 and 13.
    """
    dirs = []
    for group in (per_uki, global_):
        d = Path(tempfile.mkdtemp(prefix="set-", dir=work))
        for name, value in group.items():
            if isinstance(value, bytes):
                (d / name).write_bytes(value)
            else:
                shutil.copyfile(value, d / name)
        dirs.append(d)
    return dirs[0], dirs[1]


def prepare_scenario(work: Path, kernel: harness.Kernel) -> Scenario:
    """Build the scenario in `work` (keep the path short: the swtpm socket lives below it).

    Raises debian.NetworkUnavailable when the Debian mirror cannot be reached.
    """
    work.mkdir(parents=True, exist_ok=True)
    stub257 = debian.fetch_package(SUITE, "systemd-boot-efi") / "usr/lib/systemd/boot/efi/linuxx64.efi.stub"
    vkey, vcert = cached_verity_key()
    pcr_key, pcr_public = work / "pcr.pem", work / "pcr.pub.pem"
    harness.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pcr_key],
                what="making the PCR signing key")
    harness.run(["openssl", "pkey", "-in", pcr_key, "-pubout", "-out", pcr_public], what="PCR public key")
    initrd = build_initrd(kernel, issue16_spec(vcert.read_bytes()))
    ukis = {}
    for name, stub in (("uki.efi", STUB), ("uki-systemd-257.efi", stub257)):
        ukis[name] = work / name
        cli("build", "--stub", stub, "--linux", kernel.vmlinuz, "--initrd", initrd, "--cmdline", CMDLINE,
            "--os-release", "ID=debian\nVERSION_ID=13\n", "--uname", kernel.version, "--pcrpkey", pcr_public,
            "--output", ukis[name])
    images = {}
    for key, (name, version, signed) in IMAGES.items():
        images[key] = build_sysext(work / f"{key}.raw", name, version, key=vkey if signed else None,
                                   cert=vcert if signed else None)
    scenario = Scenario(work=work, initrd=initrd, uki=ukis["uki.efi"], uki_systemd=ukis["uki-systemd-257.efi"],
                        pcr_key=pcr_key, pcr_public=pcr_public, verity_cert=vcert, images=images, signatures={},
                        tpm_state=work / "tpm", luks=work / "luks.img", token={})
    for set_name in APPROVED_SETS:
        per, glob = set_dirs(work, *scenario.sysexts(set_name))
        # The volume unlocks in the initrd, after systemd-pcrphase's enter-initrd (README).
        cli("sign", "--private-key", pcr_key, "--pcrs", "11,13", "--phase", "enter-initrd", "--uki", scenario.uki,
            "--extra-dir", per, "--global-dir", glob, "--output", work / f"{set_name}.pcrsig.json")
        scenario.signatures[set_name] = (work / f"{set_name}.pcrsig.json").read_bytes()
    harness.make_tpm_state(scenario.tpm_state, TPM_BANKS)
    scenario.token = luks_volume(scenario.luks, pcr_public, scenario.tpm_state)
    return scenario


def main(argv: Optional[Sequence[str]] = None) -> None:
    import argparse
    ap = argparse.ArgumentParser(description="Build the Debian 13 systemd initrd (prints its path).")
    ap.add_argument("--tree-only", action="store_true", help="only build the Debian 13 tree")
    args = ap.parse_args(argv)
    try:
        if args.tree_only:
            print(tree())
        else:
            print(build_initrd(harness.fetch_kernel()))
    except harness.HarnessError as exc:
        sys.exit(f"systemd_guest.py: {exc}")


if __name__ == "__main__":
    main()
