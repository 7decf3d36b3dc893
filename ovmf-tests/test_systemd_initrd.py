"""End to end with real systemd (issue 16): Debian 13's systemd 257, in the initrd, merges the
sysexts our stub hands over and unlocks a LUKS2 volume with the signatures the stub merged.

One systemd initrd (systemd_guest.py: Debian 13 packages, the test's Verity certificate in
/etc/verity.d, the volume in /etc/crypttab with tpm2-device=auto, and the drop-in
initrd/systemd-sysext.service.d/50-sysext-stub-global.conf), one UKI around our stub and the
same sections around Debian 13's systemd-stub 257, signed sysext DDIs made by Debian 13's
systemd-repart, one LUKS2 volume enrolled by Debian 13's systemd-cryptenroll
(--tpm2-public-key-pcrs=11+13) on the swtpm state every boot starts from. Four boots:

1. the approved set (base.sysext.raw and legacy.raw in .extra.d, tools.sysext.raw in
   \\loader\\extensions, the set's signature as a *.pcrsig.json beside them): both sysexts merged,
   the volume unlocked, and systemd's own tools (bootctl, systemd-analyze, systemd-pcrlock,
   systemd-pcrphase) agree with `sysext-stub predict` and `sysext-stub eventlog`;
2. base.sysext.raw with one byte changed, and an unsigned sysext beside it: what systemd 257
   refuses, and the volume stays locked;
3. base.sysext.raw upgraded, with the new set's signature added, UKI unchanged: unlocked again;
4. the ESP of boot 1 with systemd-stub 257: the same merge except where our pickup rule differs
   (legacy.raw; \\loader\\extensions), and its PCRs equal `predict --scheme=systemd`.

Expected values come from the files (hashlib) or from `sysext-stub predict`, whose agreement with
the TPM is itself under test here and in test_predict.py.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

import debian
import harness
import systemd_guest as guest

BANK = guest.TPM_BANKS
VERSION = harness.project_version()


@pytest.fixture(scope="module")
def scenario(kernel, tmp_path_factory) -> guest.Scenario:
    try:
        return guest.prepare_scenario(tmp_path_factory.mktemp("sd"), kernel)
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror (Debian 13 packages): {exc}")


def booted(scenario: guest.Scenario, workdir: Path, per_uki: dict, global_: dict, *, uki: Path = None):
    result = scenario.boot(workdir, scenario.esp(per_uki, global_, uki=uki))
    facts = harness.assert_booted(result)
    return result, facts


def tail(result, n: int = 60) -> str:
    return result.describe(n)


unit, merged, hello = guest.unit_state, guest.merged, guest.hello_lines


def predict(*args) -> dict:
    return json.loads(guest.cli("predict", "--json", "--bank", BANK, *args))


def predicted(prediction: dict, pcr: int) -> bytes:
    entries = [e for e in prediction[BANK] if e["pcr"] == pcr]
    return bytes.fromhex(entries[0]["hash"]) if entries else bytes(32)


def analyze_pcrs(facts: harness.Facts) -> dict:
    """`systemd-analyze pcrs 11 12 13`: PCR -> value."""
    out = {}
    for line in facts.text("analyze-pcrs").splitlines():
        m = re.match(r"^\s*(\d+)\s+\S+\s+([0-9a-f]{64})$", line)
        if m:
            out[int(m.group(1))] = bytes.fromhex(m.group(2))
    return out


def each_sysext(facts: harness.Facts) -> dict:
    """The per-image probe: image file name -> (merge exit status, its lines)."""
    out: dict = {}
    current = None
    for line in facts.text("each-sysext").splitlines():
        m = re.match(r"^merge (\S+) rc=(\d+)$", line)
        if m:
            current = m.group(1)
            out[current] = (int(m.group(2)), [])
        elif current is not None:
            out[current][1].append(line.strip())
    return out


def assert_unlocked(facts: harness.Facts, result) -> None:
    assert facts.notes.get("rc-crypt-mapped") == "0", (facts.text("crypt-journal"), tail(result))
    state = unit(facts, "crypt-unit")
    assert state.get("ActiveState") == "active" and state.get("Result") == "success", state


def assert_locked(facts: harness.Facts) -> None:
    assert facts.notes.get("rc-crypt-mapped") not in (None, "0"), facts.notes
    journal = facts.text("crypt-journal")
    # The token was tried: no entry of the signature file approves these PCRs (ENXIO), so there was
    # nothing to unseal, and headless=true forbids asking for a passphrase.
    assert "Failed to unseal secret using TPM2: No such device or address" in journal, journal
    assert "Password querying disabled via 'headless' option." in journal, journal
    assert unit(facts, "crypt-unit").get("Result") != "success", facts.text("crypt-unit")


@pytest.fixture(scope="module")
def approved(scenario, tmp_path_factory):
    """Boot 1, shared by the tests that read it: the approved v1 set with its signature beside it."""
    workdir = tmp_path_factory.mktemp("approved")
    per, glob = scenario.sysexts("v1")
    per = {**per, "v1.pcrsig.json": scenario.signatures["v1"]}
    result, facts = booted(scenario, workdir, per, glob)
    d_per, d_glob = guest.set_dirs(workdir, per, glob)
    # Our prediction for the PCRs at unlock time (after systemd-pcrphase's enter-initrd), and for PCR 9:
    # the whole initrd Linux received, with the merged signature file.
    prediction = predict("--uki", scenario.uki, "--extra-dir", d_per, "--global-dir", d_glob, "--phase", "enter-initrd")
    log = workdir / "eventlog.bin"
    log.write_bytes(facts.eventlog)
    expected = workdir / "expected.json"
    expected.write_text(json.dumps(prediction))
    return dict(result=result, facts=facts, prediction=prediction, log=log, expected=expected)


def test_approved_sysexts_merge_and_unlock_and_systemd_tools_agree(scenario, approved):
    result, facts, prediction = approved["result"], approved["facts"], approved["prediction"]

    # 1. Merged: the per-UKI sysext and the global one (the drop-in links it into /.extra/sysext,
    #    where systemd-sysext 257 applies its strict policy); the marker programs run.
    assert unit(facts, "sysext-unit").get("Result") == "success", facts.text("sysext-journal")
    assert merged(facts) == {"/opt": [], "/usr": ["base", "tools"]}, facts.text("sysext-status")
    assert hello(facts) == ["hello base 1", "hello tools 1"], facts.text("hello")
    assert "Using extensions 'base.sysext.raw', 'tools.sysext.raw'." in facts.text("sysext-journal")
    listed = facts.text("sysext-list")
    assert re.search(r"^tools\s+raw\s+/\.extra/sysext/tools\.sysext\.raw\s", listed, re.M), listed
    # systemd 257 itself does not look in /.extra/global_sysext: with /.extra/sysext hidden it finds nothing.
    assert "/.extra/global_sysext/tools.sysext.raw" in facts.extra_by_path()
    assert "No OS extensions found." in facts.text("sysext-list-hidden-sysext"), facts.text("sysext-list-hidden-sysext")
    # legacy.raw is not ours to pick (not *.sysext.raw).
    assert f"\\{guest.EXTRA_DIR.replace('/', chr(92))}\\legacy.raw: skipped" in result.log, tail(result)
    assert not [p for p in facts.extra_by_path() if "legacy" in p]

    # 3. Unlocked, by systemd-cryptsetup from /etc/crypttab, with the signature the stub merged.
    assert "from 1 signature file(s)" in result.log, tail(result)
    assert_unlocked(facts, result)

    # 4. systemd's tools read us: the TPM, systemd-analyze and our prediction agree.
    before_phase = predict("--uki", scenario.uki, "--pcr", "11", "--phase=")
    pcrs = facts.pcrs[BANK]
    for n in (9, 11, 12, 13):
        assert pcrs[n] == predicted(prediction, n), f"PCR {n}: TPM {pcrs[n].hex()}"
    assert analyze_pcrs(facts) == {n: pcrs[n] for n in (11, 12, 13)}, facts.text("analyze-pcrs")

    # bootctl status: our stub, the features we claim (and only those), a measured UKI.
    status = facts.text("bootctl")
    assert f"Product: sysext-stub {VERSION}" in status and "Measured UKI: yes" in status, status
    # (StubFeatures bits 0-3, 5-10 and 12, docs/MEASUREMENTS.md; bootctl 257 does not name bit 12.)
    claimed = {"Stub sets loader partition information", "Picks up credentials from boot partition",
               "Picks up system extension images from boot partition",
               "Picks up configuration extension images from boot partition",
               "Measures kernel+command line+sysexts", "Pick up .cmdline from addons",
               "Pick up .cmdline from SMBIOS Type 11", "Pick up .dtb from addons",
               "Stub understands profile selector", "Stub sets stub partition information",
               "Stub loader set partition information"}
    marks = dict((m.group(2), m.group(1)) for m in re.finditer(r"^\s*(?:Features:\s*)?([✓✗+-]) (.+)$", status, re.M))
    assert {name for name, mark in marks.items() if mark in "✓+"} == claimed, status
    assert "Stub: └─/EFI/BOOT/BOOTX64.EFI" in status, status

    # systemd-pcrphase: enter-initrd extended into PCR 11 exactly as predicted, and logged.
    assert unit(facts, "pcrphase-unit") == {"ActiveState": "active", "Result": "success"}, facts.text("pcrphase-unit")
    assert predicted(before_phase, 11) != pcrs[11]
    measured = [json.loads(line.lstrip("\x1e")) for line in facts.text("tpm2-measure-log").splitlines() if line.strip()]
    assert [r["content"]["string"] for r in measured if r["pcr"] == 11] == ["enter-initrd"], measured
    phase_digest = hashlib.sha256(b"enter-initrd").hexdigest()
    assert measured[0]["digests"] == [{"hashAlg": "sha256", "digest": phase_digest}], measured

    # systemd-pcrlock log and sysext-stub eventlog on the same log: the same PCR 11/12/13 events.
    pcrlock = json.loads(facts.text("pcrlock-log").splitlines()[-1])
    log = approved["log"]
    ours = json.loads(guest.cli("eventlog", "--log", log, "--no-pcr-values", "--json", "--verbose", "--bank", BANK,
                                "--pcr", "11", "--pcr", "12", "--pcr", "13"))
    ours_events = [(e["pcr"], e["digests"][BANK], e["description"]) for e in ours["events"] if e["pcr"] in (11, 12, 13)]
    firmware = [(r["pcr"], r["sha256"], re.sub(r"^String: ", "", r["description"]))
                for r in pcrlock["log"] if r["pcr"] in (11, 12, 13) and r["phase"] == "F"]
    assert firmware == ours_events, (firmware, ours_events)
    sysext_events = [d for pcr, _, d in firmware if pcr == 13]
    assert sysext_events == [".extra/sysext/base.sysext.raw"] * 2 + [".extra/global_sysext/tools.sysext.raw"] * 2
    userspace = [(r["pcr"], r["description"], r["sha256"]) for r in pcrlock["log"] if r["phase"] != "F"]
    assert userspace == [(11, "enter-initrd", phase_digest)], userspace
    replay = {r["pcr"]: r for r in pcrlock["pcrs"]}
    for n in (11, 13):
        assert replay[n]["hashMatchesEventLog"] and bytes.fromhex(replay[n]["calculatedSHA256"]) == pcrs[n], replay[n]
    # ...and our eventlog walks the same log through the prediction, event by event.
    check = eventlog(approved, "--no-pcr-values")
    assert check.returncode == 0 and "result: ok" in check.stdout, check.stdout + check.stderr


def eventlog(approved: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(guest.CLI), "eventlog", "--log", str(approved["log"]), "--expect",
                           str(approved["expected"]), "--bank", BANK, "--pcr", "9", "--pcr", "11", "--pcr", "13",
                           *args],
                          capture_output=True, text=True)


def test_eventlog_accepts_the_tpm_of_a_systemd_initrd(approved):
    """`sysext-stub eventlog --expect` on the booted machine, with the PCRs the TPM holds (as it reads
    them by default from /sys/class/tpm/tpm0), must say "ok" for a boot that went as predicted.

    The TPM's PCR 11 holds systemd-pcrphase's "enter-initrd" on top of what the firmware log
    replays to: the comparison takes it as a match after the log plus that userspace word, and
    says so; PCRs 9 and 13 match the log alone.
    """
    pcrs = approved["facts"].pcrs[BANK]
    check = eventlog(approved, *(a for n in (9, 11, 13) for a in ("--pcr-value", f"{BANK}:{n}={pcrs[n].hex()}")))
    assert "PCR 11 sha256 (phase enter-initrd): ok" in check.stdout, check.stdout
    assert check.returncode == 0, check.stdout + check.stderr
    rows = {int(line.split()[0]): line for line in check.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert rows[11].endswith(" ok after the log plus userspace enter-initrd"), check.stdout
    assert rows[9].endswith(" ok") and rows[13].endswith(" ok"), check.stdout


def test_tampered_and_unsigned_sysexts(scenario, workdir):
    per, glob = scenario.sysexts("v1")
    tampered = workdir / "base.sysext.raw"
    tampered.write_bytes(per["base.sysext.raw"].read_bytes())
    guest.tamper(tampered, "base", "1")
    per = {**per, "base.sysext.raw": tampered, "unsigned.sysext.raw": scenario.images["unsigned-1"]}
    result, facts = booted(scenario, workdir, {**per, "v1.pcrsig.json": scenario.signatures["v1"]}, glob)

    # 2. systemd 257 refuses the unsigned image by its image policy, and with it the whole merge
    #    (systemd#32762, Kairos#2608: one bad sysext stops all), the good tools sysext included.
    assert unit(facts, "sysext-unit").get("Result") == "exit-code", facts.text("sysext-journal")
    journal = facts.text("sysext-journal")
    assert "unsigned.sysext.raw" in journal and "does not match image policy" in journal, journal
    assert merged(facts) == {"/opt": [], "/usr": []}, facts.text("sysext-status")
    assert hello(facts) == [], facts.text("hello")
    # Each image on its own: unsigned refused by policy; the tampered one passes the signature check
    # (its root hash is still the signed one) and merges, but dm-verity fails the changed block on
    # read; tools merges.
    each = each_sysext(facts)
    assert sorted(each) == ["base.sysext.raw", "tools.sysext.raw", "unsigned.sysext.raw"], facts.text("each-sysext")
    rc, lines = each["unsigned.sysext.raw"]
    assert rc != 0 and any("does not match image policy" in line for line in lines), lines
    rc, lines = each["base.sysext.raw"]
    assert rc == 0 and "run sysext-stub-hello-base rc=0" not in lines, lines
    assert any("Input/output error" in line for line in lines), lines
    rc, lines = each["tools.sysext.raw"]
    assert rc == 0 and "hello tools 1" in lines and "run sysext-stub-hello-tools rc=0" in lines, lines

    # 3. The approved signature is there, but PCR 13 is not the approved one: locked.
    assert "/.extra/tpm2-pcr-signature.json" in facts.extra_by_path()
    assert_locked(facts)


def test_upgraded_sysext_with_its_signature_unlocks(scenario, workdir):
    per, glob = scenario.sysexts("v2")
    esp_per = {**per, "v1.pcrsig.json": scenario.signatures["v1"], "v2.pcrsig.json": scenario.signatures["v2"]}
    result, facts = booted(scenario, workdir, esp_per, glob)
    assert "from 2 signature file(s)" in result.log, tail(result)
    assert merged(facts) == {"/opt": [], "/usr": ["base", "tools"]}, facts.text("sysext-status")
    assert hello(facts) == ["hello base 2", "hello tools 1"], facts.text("hello")
    assert_unlocked(facts, result)  # same UKI, same enrollment: the new *.pcrsig.json approves the new PCR 13


def test_same_esp_with_systemd_stub_257(scenario, workdir):
    per, glob = scenario.sysexts("v1")
    result, facts = booted(scenario, workdir, {**per, "v1.pcrsig.json": scenario.signatures["v1"]}, glob,
                           uki=scenario.uki_systemd)
    status = facts.text("bootctl")
    assert re.search(r"Product: systemd-stub 257\.", status), status

    # 5. The same merge, except where the pickup rules differ: systemd-stub 257 also takes legacy.raw
    #    (any *.raw) and never reads \loader\extensions (v258+), so tools is missing; it passes no
    #    *.pcrsig.json either.
    extra = facts.extra_by_path()
    assert sorted(p for p in extra if p.startswith("/.extra/sysext/")) == \
        ["/.extra/sysext/base.sysext.raw", "/.extra/sysext/legacy.raw"], sorted(extra)
    assert "/.extra/global_sysext" not in extra and "/.extra/tpm2-pcr-signature.json" not in extra, sorted(extra)
    assert merged(facts) == {"/opt": [], "/usr": ["base", "legacy"]}, facts.text("sysext-status")
    assert hello(facts) == ["hello base 1", "hello legacy 1"], facts.text("hello")

    d_per, d_glob = guest.set_dirs(workdir, per, glob)
    prediction = predict("--scheme=systemd", "--systemd-version", "257", "--uki", scenario.uki_systemd,
                         "--extra-dir", d_per, "--global-dir", d_glob, "--phase", "enter-initrd")
    for n in (11, 13):
        assert facts.pcrs[BANK][n] == predicted(prediction, n), f"PCR {n}"
    assert analyze_pcrs(facts)[13] == facts.pcrs[BANK][13]
    # No signature file reached the initrd (the UKI has no .pcrsig): the volume stays locked.
    assert facts.notes.get("rc-crypt-mapped") not in (None, "0"), facts.text("crypt-journal")
    assert "Failed to load PCR signature: No such file or directory" in facts.text("crypt-journal")
