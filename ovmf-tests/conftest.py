"""pytest fixtures for the sysext-stub boot tests (see README.md in this directory)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

import pytest

import harness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, so fixtures can see whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(node) -> bool:
    """True if any phase of the test run so far failed."""
    return any(getattr(node, f"rep_{when}", None) is not None and getattr(node, f"rep_{when}").failed
               for when in ("setup", "call"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The git work tree this harness lives in."""
    return harness.REPO_ROOT


@pytest.fixture(scope="session")
def kernel() -> harness.Kernel:
    """Debian's current kernel, downloaded once into the cache. Fails (never skips) if unavailable."""
    try:
        return harness.fetch_kernel()
    except harness.HarnessError as exc:
        pytest.fail(f"cannot fetch the Debian kernel for the boot tests: {exc}", pytrace=False)


@pytest.fixture
def workdir(request, tmp_path: Path):
    """A fresh directory per test for images and logs.

    Removed after a passing test; kept (and its path printed) after a
    failing one, or always with SYSEXT_STUB_KEEP=1.
    """
    yield tmp_path
    if harness.keep_requested() or _failed(request.node):
        print(f"\n[ovmf-tests] kept work directory of {request.node.nodeid}: {tmp_path}")
    else:
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def make_uki(kernel: harness.Kernel, workdir: Path) -> Callable[..., Path]:
    """Factory building a UKI in the test's workdir; returns the UKI's path.

    make_uki(name="uki.efi", *, cmdline=..., initrd_files={path: bytes},
             check_paths=[...], initrd=None, stub=None, osrel=None)

    Placeholder: it glues sections onto `stub` with objcopy (the Debian 12
    way), by default around Debian's systemd-stub. Once the project's own
    UKI builder in host-tools/ exists, switch the default here so every test
    picks it up.
    """
    def factory(name: str = "uki.efi", *, cmdline: str = harness.DEFAULT_CMDLINE,
                initrd_files: Optional[Mapping[str, bytes]] = None, check_paths: Iterable[str] = (),
                initrd: Optional[Path] = None, stub: Optional[Path] = None,
                osrel: Optional[str] = None) -> Path:
        out = workdir / name
        harness.build_test_uki(out, kernel, cmdline=cmdline, initrd_files=initrd_files,
                               check_paths=check_paths, initrd=initrd,
                               stub=stub or harness.SYSTEMD_STUB, osrel=osrel)
        return out

    return factory
