"""Every companion file systemd-stub 262 takes (issue 14), on one ESP, booted
with our stub and with systemd-stub 262 (Debian unstable's systemd-boot-efi,
fetched into the cache, never installed).

The ESP holds, per UKI and globally, system extensions, configuration
extensions and credentials, with distractors (other suffixes, dot files, a
directory named like a credential, mixed case, a credential where only
extensions are read). Both boots must put the same files at the same
/.extra paths with the same modes and bytes; the documented differences are
our pickup rule for system extensions (*.sysext.raw, where systemd takes any
*.raw that is no *.confext.raw). Our PCR 12 and 13 are recomputed here with
hashlib from the files (one pair of events per file, in the documented
order), and the guest's event log shows each event with its path.
"""
from __future__ import annotations

import hashlib
import os
import struct
import subprocess
from pathlib import Path

import pytest

import debian
import harness
from test_boot import CLI, STUB, make_initrd, tail
from test_predict import assert_pcrs_match, predict

EV_IPL = 0x0000000D
EXTRA_D = "EFI/BOOT/BOOTX64.EFI.extra.d"
OS_RELEASE = 'ID=debian\nPRETTY_NAME="companion test"\n'

#: Per-UKI directory. Keys are file names; values the bytes (None: a directory).
PER_UKI = {
    "a.sysext.raw": os.urandom(20_000),
    "B.SYSEXT.RAW": b"upper-case sysext\n",
    "other.raw": b"systemd-stub takes *.raw; we do not\n",
    "conf.confext.raw": os.urandom(9000),
    "Two.Confext.Raw": b"second confext\n",
    "x.cred": b"secret credential\n",
    "Y.CRED": b"another credential\n",
    "empty.cred": b"",
    "notes.txt": b"not a companion file\n",
    ".hidden.cred": b"dot file\n",
    "dir.cred": None,
}
#: \loader\extensions
GLOBAL_EXT = {
    "g.sysext.raw": os.urandom(7000),
    "g.raw": b"systemd-stub takes *.raw here too\n",
    "gconf.confext.raw": b"global confext\n",
    "stray.cred": b"credentials are not read from \\loader\\extensions\n",
}
#: \loader\credentials
GLOBAL_CREDS = {"global.cred": b"global credential\n", "readme.txt": b"not a credential\n"}

#: Where each kind lands, with our rule: (dir in /.extra, dir mode, file mode, PCR, ESP dir, pick).
OURS = [
    ("credentials", 0o40500, 0o100400, 12, PER_UKI, lambda n: n.lower().endswith(".cred")),
    ("global_credentials", 0o40500, 0o100400, 12, GLOBAL_CREDS, lambda n: n.lower().endswith(".cred")),
    ("sysext", 0o40555, 0o100444, 13, PER_UKI, lambda n: n.lower().endswith(".sysext.raw")),
    ("global_sysext", 0o40555, 0o100444, 13, GLOBAL_EXT, lambda n: n.lower().endswith(".sysext.raw")),
    ("confext", 0o40555, 0o100444, 12, PER_UKI, lambda n: n.lower().endswith(".confext.raw")),
    ("global_confext", 0o40555, 0o100444, 12, GLOBAL_EXT, lambda n: n.lower().endswith(".confext.raw")),
]


def picked(files: dict, pick) -> dict[str, bytes]:
    return {n: d for n, d in files.items() if d is not None and not n.startswith(".") and pick(n)}


def expected_extra(rule: str) -> dict[str, tuple[int, bytes | None]]:
    """/.extra path -> (mode, bytes or None for directories), under our rule or systemd's."""
    want: dict[str, tuple[int, bytes | None]] = {"/.extra": (0o40555, None),
                                                 "/.extra/os-release": (0o100444, OS_RELEASE.encode())}
    for sub, dmode, fmode, _, files, pick in OURS:
        if rule == "systemd" and sub in ("sysext", "global_sysext"):
            pick = lambda n: n.lower().endswith(".raw") and not n.lower().endswith(".confext.raw")  # noqa: E731
        got = picked(files, pick)
        if got:
            want[f"/.extra/{sub}"] = (dmode, None)
            want.update({f"/.extra/{sub}/{n}": (fmode, d) for n, d in got.items()})
    return want


def our_events(pcr: int) -> list[tuple[str, bytes]]:
    """(description, data) of our per-file events into @pcr, in the documented order."""
    out = []
    for sub, _, _, target, files, pick in OURS:
        if target != pcr:
            continue
        for name in sorted(picked(files, pick), key=lambda n: n.encode()):
            path = f".extra/{sub}/{name}"
            out += [(path, path.encode() + b"\0"), (path, files[name])]
    return out


def extend(events: list[bytes]) -> bytes:
    pcr = bytes(32)
    for data in events:
        pcr = hashlib.sha256(pcr + hashlib.sha256(data).digest()).digest()
    return pcr


def host_esp(workdir: Path, uki: Path, name: str) -> Path:
    """The same ESP as a host directory, for `predict --esp`."""
    root = workdir / name
    (root / "EFI/BOOT").mkdir(parents=True)
    (root / "EFI/BOOT/BOOTX64.EFI").write_bytes(uki.read_bytes())
    for esp_dir, group in ((EXTRA_D, PER_UKI), ("loader/extensions", GLOBAL_EXT), ("loader/credentials", GLOBAL_CREDS)):
        (root / esp_dir).mkdir(parents=True, exist_ok=True)
        for n, d in group.items():
            if d is None:
                (root / esp_dir / n).mkdir()
            else:
                (root / esp_dir / n).write_bytes(d)
    return root


def build_esp(workdir: Path, uki: Path, name: str) -> Path:
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki)}
    dirs = []
    for esp_dir, group in ((EXTRA_D, PER_UKI), ("loader/extensions", GLOBAL_EXT), ("loader/credentials", GLOBAL_CREDS)):
        for n, d in group.items():
            if d is None:
                dirs.append(f"{esp_dir}/{n}")
            else:
                files[f"{esp_dir}/{n}"] = d
    esp = workdir / name
    harness.build_esp(esp, files, dirs=dirs)
    return esp


def build_uki(workdir: Path, kernel, stub: Path, name: str) -> Path:
    initrd, _ = make_initrd(workdir, kernel)
    uki = workdir / name
    subprocess.run([str(CLI), "build", "--stub", str(stub), "--linux", str(kernel.vmlinuz), "--initrd", str(initrd),
                    "--cmdline", "console=ttyS0 panic=-1", "--os-release", OS_RELEASE, "--uname", kernel.version,
                    "--output", str(uki)], check=True)
    return uki


def assert_extra(facts, want: dict) -> None:
    got = facts.extra_by_path()
    assert sorted(got) == sorted(want), f"/.extra listing: {sorted(set(got) ^ set(want))}"
    for path, (mode, data) in want.items():
        assert got[path].mode == mode, f"{path}: mode {got[path].mode:o}, want {mode:o}"
        if data is not None:
            assert (got[path].size, got[path].sha256) == (len(data), hashlib.sha256(data).hexdigest()), path


@pytest.fixture(scope="module")
def systemd_stub_262() -> Path:
    try:
        root = debian.fetch_package("sid", "systemd-boot-efi")
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")
    stub = root / "usr/lib/systemd/boot/efi/linuxx64.efi.stub"
    assert stub.is_file(), f"no linuxx64.efi.stub in {root}"
    return stub


def test_our_stub_takes_every_companion_file(kernel, workdir):
    uki = build_uki(workdir, kernel, STUB, "uki.efi")
    result = harness.boot(build_esp(workdir, uki, "esp.img"), workdir=workdir / "boot", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert_extra(facts, expected_extra("ours"))

    # PCR 12: no passed-in command line (.cmdline wins), then one pair of events per credential and
    # confext, in the documented order; PCR 13 the same for the sysexts. Recomputed from the files.
    for pcr in (12, 13):
        events = our_events(pcr)
        assert facts.pcrs["sha256"][pcr] == extend([d for _, d in events]), f"PCR {pcr} (sha256)"
        logged = [(e.data.decode("utf-16-le").rstrip("\0"), e.digests[harness.TPM2_ALG_SHA256])
                  for e in harness.parse_tcg_log(facts.eventlog) if e.pcr == pcr and e.type == EV_IPL]
        assert logged == [(p, hashlib.sha256(d).digest()) for p, d in events], logged

    log = result.log
    for skipped in ("notes.txt", ".hidden.cred", "dir.cred", "other.raw"):
        assert f"\\EFI\\BOOT\\BOOTX64.EFI.extra.d\\{skipped}: skipped" in log, skipped
    assert "\\loader\\extensions\\stray.cred: skipped, not a companion file taken from this directory" in log
    assert "\\loader\\credentials\\readme.txt: skipped" in log
    assert facts.efivar_str("StubPcrInitRDConfExts") == "12"
    assert facts.efivar_str("StubPcrKernelParameters") == "12"
    assert facts.efivar_str("StubPcrInitRDSysExts") == "13"
    features, = struct.unpack("<Q", facts.efivars["StubFeatures"])
    assert features & (1 << 1) and features & (1 << 8), f"credential and confext bits: {features:#x}"

    # predict over the same ESP as a host directory: every PCR it predicts, in every bank.
    prediction = predict("--esp", str(host_esp(workdir, uki, "host-esp")), "--esp-path", "\\EFI\\BOOT\\BOOTX64.EFI",
                         "--phase=")
    assert_pcrs_match(facts, prediction, [9, 11, 12, 13], result)


def test_systemd_stub_262_takes_the_same_files(kernel, workdir, systemd_stub_262):
    """The peer on the same ESP contents: same paths, modes and bytes, but for its *.raw sysext rule."""
    uki = build_uki(workdir, kernel, systemd_stub_262, "uki262.efi")
    result = harness.boot(build_esp(workdir, uki, "esp262.img"), workdir=workdir / "boot262", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert_extra(facts, expected_extra("systemd"))
    # Documented difference: systemd-stub measures one event per archive ("Credentials initrd", ...).
    descriptions = [e.data.decode("utf-16-le").rstrip("\0") for e in harness.parse_tcg_log(facts.eventlog)
                    if e.pcr == 12 and e.type == EV_IPL]
    assert descriptions == ["Credentials initrd", "Global credentials initrd", "Configuration extension initrd",
                            "Global configuration extension initrd"], descriptions
    # What no systemd tool predicts: 262's PCRs 12 and 13 (and 11), from the files.
    prediction = predict("--scheme=systemd", "--systemd-version", "262", "--esp",
                         str(host_esp(workdir, uki, "host-esp262")), "--esp-path", "\\EFI\\BOOT\\BOOTX64.EFI",
                         "--phase=")
    assert_pcrs_match(facts, prediction, [11, 12, 13], result)
