"""Issue 18 booted: one bad sysext no longer blocks the others (README, "One bad sysext must not
block the others").

The real-systemd guest (systemd_guest.py: Debian 13, systemd 257) with what `make install-initrd`
installs (/usr/bin/sysext-stub, sysext-stub-admit.service enabled for initrd.target, the test's
Verity certificate in /etc/verity.d) and the global-sysext drop-in systemd 257 needs. On the ESP:
`hello` and a corrupted image (one byte of its data changed after signing) in the UKI's .extra.d,
`world` in \\loader\\extensions. Two boots, one UKI each (the stub ignores a passed-in command line
when the UKI has .cmdline, so the mode is in the UKI):

1. default mode: the admit unit moves the corrupted image to /run/sysext-stub/refused/sysext/ and
   names it in the journal; systemd-sysext merges `hello` and `world` and their programs run;
2. ``sysext-stub.admit=strict``: the admit unit refuses to boot, naming the image, and the boot
   goes to emergency.target; nothing is moved.

Without the admit unit the corrupted image is merged (its root hash is still the signed one) and
fails on read: test_systemd_initrd.py::test_tampered_and_unsigned_sysexts.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import debian
import harness
import systemd_guest as guest

BAD = "broken.sysext.raw"


@dataclasses.dataclass
class Setup:
    esp: dict
    uki: dict   #: mode ("default", "strict") -> UKI path


@pytest.fixture(scope="module")
def setup(kernel, tmp_path_factory) -> Setup:
    work = tmp_path_factory.mktemp("admit")
    try:
        vkey, vcert = guest.cached_verity_key()
        initrd = guest.build_initrd(kernel, guest.admit_spec(vcert))
        images = {name: guest.build_sysext(work / f"{name}.raw", name, "1", key=vkey, cert=vcert)
                  for name in ("hello", "broken", "world")}
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror (Debian 13 packages): {exc}")
    guest.tamper(images["broken"], "broken", "1")
    ukis = {}
    for mode, extra in (("default", ""), ("strict", " sysext-stub.admit=strict")):
        ukis[mode] = work / f"uki-{mode}.efi"
        guest.cli("build", "--stub", guest.STUB, "--linux", kernel.vmlinuz, "--initrd", initrd,
                  "--cmdline", guest.CMDLINE + extra, "--os-release", "ID=debian\nVERSION_ID=13\n",
                  "--uname", kernel.version, "--output", ukis[mode])
    esp = {f"{guest.EXTRA_DIR}/hello.sysext.raw": str(images["hello"]),
           f"{guest.EXTRA_DIR}/{BAD}": str(images["broken"]),
           f"{guest.GLOBAL_DIR}/world.sysext.raw": str(images["world"])}
    return Setup(esp=esp, uki=ukis)


def boot(setup: Setup, mode: str, workdir: Path) -> tuple[harness.BootResult, harness.Facts]:
    image = workdir / "esp.img"
    harness.build_esp(image, {guest.UKI_PATH: str(setup.uki[mode]), **setup.esp})
    result = harness.boot(image, workdir=workdir / "boot", tpm=True, tpm_banks=guest.TPM_BANKS,
                          timeout=guest.BOOT_TIMEOUT)
    return result, harness.assert_booted(result)


unit, hello = guest.unit_state, guest.hello_lines


def test_default_admits_the_good_images_and_moves_the_bad_one(setup, tmp_path):
    result, facts = boot(setup, "default", tmp_path)
    journal = facts.text("admit-journal")
    # The admit unit ran, succeeded, and named the bad image with the check that failed.
    assert unit(facts, "admit-unit").get("Result") == "success", (facts.text("admit-unit"), journal)
    assert re.search(rf"^sysext-stub-admit: /\.extra/sysext/{re.escape(BAD)}: refused: verity: data block \d+ .*"
                     rf"does not match its hash; moved to /run/sysext-stub/refused/sysext/{re.escape(BAD)}$",
                     journal, re.M), journal
    assert "sysext-stub-admit: 2 image(s) admitted, 1 refused" in journal, journal
    assert facts.text("refused").splitlines() == [f"./sysext/{BAD}"], facts.text("refused")
    assert BAD not in facts.text("extra-sysext"), facts.text("extra-sysext")
    # systemd-sysext merged the other two (world from \loader\extensions through the drop-in) and
    # their programs run: every block of each passes dm-verity.
    assert unit(facts, "sysext-unit").get("Result") == "success", facts.text("sysext-journal")
    assert guest.merged(facts) == {"/opt": [], "/usr": ["hello", "world"]}, facts.text("sysext-status")
    assert hello(facts) == ["hello hello 1", "hello world 1"], facts.text("hello")
    assert unit(facts, "emergency").get("ActiveState") == "inactive", facts.text("emergency")
    assert re.search(r"\binitrd\.target\s+start\b", facts.text("jobs")), facts.text("jobs")


def test_strict_refuses_to_boot(setup, tmp_path):
    result, facts = boot(setup, "strict", tmp_path)
    journal = facts.text("admit-journal")
    assert "sysext-stub.admit=strict" in facts.cmdline
    assert unit(facts, "admit-unit").get("Result") == "exit-code", (facts.text("admit-unit"), journal)
    assert re.search(rf"^sysext-stub-admit: /\.extra/sysext/{re.escape(BAD)}: refused: verity: .*"
                     r"\(sysext-stub\.admit=strict: refusing to boot\)$", journal, re.M), journal
    # Nothing moved: the image stays where the stub put it.
    assert facts.text("refused") == "" and BAD in facts.text("extra-sysext"), (facts.text("refused"),
                                                                               facts.text("extra-sysext"))
    # The unit's OnFailure= started emergency.target (OnFailureJobMode=replace-irreversibly), which
    # cancelled initrd.target's start job: no switch-root follows. (systemd-sysext.service is not
    # ordered after the admit unit's failure and still ran, in the initrd only.)
    emergency = facts.text("emergency")
    assert re.search(r"^ActiveState=(active|activating)$", emergency, re.M), (emergency, facts.text("jobs"))
    assert "initrd.target" not in facts.text("jobs"), facts.text("jobs")
    assert "You are in emergency mode." in result.log, result.describe(80)
