#!/usr/bin/env python3
"""Newer Debian (13 "trixie", unstable "sid") for tests and benchmarks, never installed.

Packages and chroots of other suites come from the same Debian mirror the
machine's own apt sources name, through a private apt configuration per
suite (its own sources list, state and cache below the harness cache), with
``Acquire::Check-Valid-Until=false`` (unstable's Release file may be stale;
signatures are still checked). Nothing here touches the system's apt state.

* :func:`fetch_package` ``apt-get download``s a package and ``dpkg -x``es it
  into the cache (e.g. systemd-stub 262 from ``systemd-boot-efi``, ukify from
  ``systemd-ukify``); returns the unpacked root.
* :func:`chroot` builds (once per set of inputs) a ``mmdebstrap`` tree of a
  suite, for the binaries that need their own glibc (systemd-measure,
  systemd-repart, systemd-pcrlock, systemd-cryptenroll 257+).
* :func:`chroot_run` runs a command inside such a tree with ``/proc``,
  ``/dev`` and chosen host directories mounted, in a private mount namespace.

A machine without network raises :class:`NetworkUnavailable`, which tests
turn into a skip that names it; every other failure is an error.

CLI: ``debian.py fetch SUITE PACKAGE``, ``debian.py chroot SUITE PKG...``,
``debian.py run ROOT -- CMD...``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (cache_base, run, HarnessError)

#: Suites this module fetches from, and the Debian release each is.
SUITES = {"trixie": "Debian 13", "sid": "Debian unstable", "bookworm": "Debian 12"}
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
#: Re-run ``apt-get update`` for a suite when its lists are older than this.
LISTS_MAX_AGE = 24 * 3600
#: Bumped when the way chroots are built changes, so cached trees are rebuilt.
CHROOT_RECIPE = "1"
#: Paths left out of chroots (mmdebstrap --dpkgopt): documentation and locales.
CHROOT_EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")


class NetworkUnavailable(harness.HarnessError):
    """The Debian mirror could not be reached (the one acceptable reason to skip)."""


#: How apt and mmdebstrap say the mirror cannot be reached. Not "Failed to fetch" alone: apt also says it
#: for a 404 (stale package lists), which is a failure to report, never a reason to skip.
_NETWORK_FAILURE = re.compile(r"Could not resolve|Temporary failure resolving|Network is unreachable|"
                              r"No route to host|Could not connect|Unable to connect|"
                              r"Connection (refused|timed out|failed)|connection timed out")


def network_failure(text: str) -> bool:
    """Whether a failed apt or mmdebstrap run's output says the Debian mirror could not be reached."""
    return bool(_NETWORK_FAILURE.search(text))


def mirror() -> str:
    """The Debian archive URI the machine's own apt sources name (e.g. http://deb.debian.org/debian)."""
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(path.read_text())
        except OSError:
            continue
    for text in texts:
        # deb822: "URIs: ..." in a stanza with "Suites: bookworm ..."; one-line: "deb URI bookworm ...".
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and "security" not in uris.group(1) and \
                    any(s in ("bookworm", "trixie", "sid", "stable", "unstable") for s in suites.group(1).split()):
                return uris.group(1).rstrip("/")
        for line in text.splitlines():
            m = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(bookworm|trixie|sid|stable|unstable)\s", line)
            if m and "security" not in m.group(1):
                return m.group(1).rstrip("/")
    raise harness.HarnessError("no Debian mirror in /etc/apt/sources.list{,.d}: cannot fetch newer packages")


def suite_dir(suite: str) -> Path:
    """The cache directory of one suite."""
    if suite not in SUITES:
        raise harness.HarnessError(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    d = harness.cache_base() / "debian" / suite
    harness._ensure_outside_repo(d)
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a file, so parallel test runs do not race on one cache entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _apt_options(suite: str) -> list[str]:
    d = suite_dir(suite)
    for sub in ("lists/partial", "cache/archives/partial"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    sources = d / "sources.list"
    sources.write_text(f"deb [signed-by={KEYRING}] {mirror()} {suite} main\n")
    return ["-o", f"Dir::Etc::sourcelist={sources}", "-o", "Dir::Etc::sourceparts=/dev/null",
            "-o", f"Dir::State::Lists={d / 'lists'}", "-o", f"Dir::Cache={d / 'cache'}",
            "-o", "Dir::State::status=/dev/null", "-o", "Acquire::Check-Valid-Until=false",
            "-o", "APT::Sandbox::User=root", "-q"]


def _apt(suite: str, args: Sequence[str], cwd: Optional[Path] = None, what: str = "") -> str:
    try:
        return harness.run(["apt-get", *_apt_options(suite), *args], cwd=cwd, what=what)
    except harness.HarnessError as exc:
        text = str(exc)
        if network_failure(text):
            raise NetworkUnavailable(f"Debian mirror {mirror()} unreachable ({what}): {text.splitlines()[-1]}") \
                from exc
        raise


def update(suite: str, *, force: bool = False) -> None:
    """Refresh the suite's private package lists (once a day, or when forced)."""
    d = suite_dir(suite)
    stamp = d / "lists" / ".updated"
    with _locked(d / ".apt.lock"):
        if not force and stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE:
            return
        _apt(suite, ["update"], what=f"apt-get update ({suite})")
        stamp.touch()


def package_version(suite: str, package: str) -> str:
    """The version of @package the suite's lists offer."""
    update(suite)
    out = harness.run(["apt-cache", *_apt_options(suite), "show", "--no-all-versions", package],
                      what=f"apt-cache show {package} ({suite})")
    m = re.search(r"^Version:\s*(\S+)", out, re.M)
    if not m:
        raise harness.HarnessError(f"{package}: no version in {suite}'s package lists")
    return m.group(1)


def fetch_package(suite: str, package: str) -> Path:
    """Download and unpack @package of @suite into the cache (once per version); return the unpacked root."""
    version = package_version(suite, package)
    d = suite_dir(suite) / "pkgs"
    root = d / f"{package}_{version.replace(':', '%3a')}"
    with _locked(suite_dir(suite) / ".apt.lock"):
        if root.is_dir():
            return root
        d.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=d))
        try:
            _apt(suite, ["download", f"{package}={version}"], cwd=tmp, what=f"downloading {package} ({suite})")
            debs = list(tmp.glob("*.deb"))
            if len(debs) != 1:
                raise harness.HarnessError(f"apt-get download {package} left {debs}, expected one .deb")
            unpacked = tmp / "root"
            harness.run(["dpkg", "-x", debs[0], unpacked], what=f"unpacking {debs[0].name}")
            shutil.move(str(debs[0]), str(d / debs[0].name))
            os.rename(unpacked, root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _chroot_key(suite: str, packages: Iterable[str], variant: str) -> str:
    h = hashlib.sha256(f"{CHROOT_RECIPE}\0{suite}\0{variant}\0{' '.join(sorted(set(packages)))}".encode())
    return h.hexdigest()[:16]


def chroot(suite: str, packages: Sequence[str], *, name: str = "tools", variant: str = "minbase") -> Path:
    """A mmdebstrap tree of @suite with @packages, built once per input set; returns its root.

    Rebuilt when the suite, the package list or CHROOT_RECIPE change (the
    key is in the directory name). Needs root (mmdebstrap in root mode).
    """
    key = _chroot_key(suite, packages, variant)
    root = suite_dir(suite) / f"chroot-{name}-{key}"
    if (root / ".complete").exists():
        return root
    if shutil.which("mmdebstrap") is None:
        raise harness.HarnessError("mmdebstrap is not installed (scripts/install-deps.sh installs it)")
    with _locked(suite_dir(suite) / f".chroot-{name}.lock"):
        if (root / ".complete").exists():
            return root
        # Older trees of this name only: "tools" must not match another name's "chroot-tools-probe-<key>".
        for old in suite_dir(suite).glob(f"chroot-{name}-*"):
            if re.fullmatch(rf"chroot-{re.escape(name)}-[0-9a-f]{{16}}", old.name):
                shutil.rmtree(old, ignore_errors=True)
        tmp = suite_dir(suite) / f".building-{name}-{key}"
        shutil.rmtree(tmp, ignore_errors=True)
        argv = ["mmdebstrap", "--mode=root", f"--variant={variant}", "--aptopt=Acquire::Check-Valid-Until \"false\"",
                f"--keyring={KEYRING}"]
        argv += [f"--dpkgopt=path-exclude={p}" for p in CHROOT_EXCLUDES]
        if packages:
            argv.append("--include=" + ",".join(packages))
        argv += [suite, str(tmp), mirror()]
        try:
            harness.run(argv, what=f"mmdebstrap {suite} ({name})")
        except harness.HarnessError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if network_failure(str(exc)):
                raise NetworkUnavailable(f"Debian mirror {mirror()} unreachable (mmdebstrap {suite})") from exc
            raise
        (tmp / ".complete").write_text(" ".join(sorted(set(packages))) + "\n")
        os.rename(tmp, root)
    return root


def chroot_run(root: Path, argv: Sequence[str], *, binds: Sequence[tuple[Path, str]] = (),
               what: str = "", env: Optional[dict] = None) -> str:
    """Run @argv inside @root with /proc, /dev and @binds (host path, path in the tree) mounted.

    Uses a private mount namespace (unshare -m), so nothing stays mounted
    afterwards, even when the command fails. Returns stdout.
    """
    lines = ["set -e", f"R={shlex.quote(str(root))}",
             'mount -t proc proc "$R/proc"', 'mount --rbind /dev "$R/dev"', 'mount -t tmpfs tmpfs "$R/tmp"']
    for host, inside in binds:
        target = f'"$R"{shlex.quote(inside)}'
        lines.append(f"mkdir -p {target}" if Path(host).is_dir() else f"mkdir -p $(dirname {target}); touch {target}")
        lines.append(f"mount --bind {shlex.quote(str(host))} {target}")
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    lines.append(f'exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin {envs} '
                 + " ".join(shlex.quote(a) for a in argv))
    return harness.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines)],
                       what=what or f"in {root.name}: {' '.join(argv)}")


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download and unpack a package; prints its root")
    f.add_argument("suite")
    f.add_argument("package")
    c = sub.add_parser("chroot", help="build (or reuse) a chroot; prints its root")
    c.add_argument("suite")
    c.add_argument("packages", nargs="*")
    c.add_argument("--name", default="tools")
    r = sub.add_parser("run", help="run a command in a chroot")
    r.add_argument("root")
    r.add_argument("argv", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "fetch":
            print(fetch_package(args.suite, args.package))
        elif args.cmd == "chroot":
            print(chroot(args.suite, args.packages, name=args.name))
        else:
            cmd = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            sys.stdout.write(chroot_run(Path(args.root), cmd))
    except harness.HarnessError as exc:
        sys.exit(f"debian.py: {exc}")


if __name__ == "__main__":
    main()
