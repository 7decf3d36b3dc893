"""`sysext-stub pcrlock` in a real boot (issue 17): Debian 13's systemd-pcrlock 257 makes one policy
over the whole boot from our components and systemd's own, systemd-cryptenroll binds a LUKS2
volume to it, and systemd-cryptsetup in the initrd unlocks it for any approved sysext version.

The systemd initrd of test_systemd_initrd.py (systemd_guest.py), plus a unit that copies
/run/systemd/pcrlock.json (where systemd-cryptsetup looks for the policy) from a data drive, and
one probe that, given an "enroll" marker on that drive, does what an administrator would on the
machine: our components into /var/lib/pcrlock.d, systemd-pcrlock lock-firmware-code,
lock-firmware-config, lock-secureboot-policy, lock-secureboot-authority and lock-uki, make-policy,
systemd-cryptenroll --tpm2-pcrlock. Four boots of one UKI around our stub, each starting from the
TPM state the previous enrollment left (harness.boot(tpm_state_out=...)):

1. base.sysext.raw version 1 (approved): enroll; the policy covers PCRs 0-5, 7, 11, 12, 13 (and
   14, 15). The volume has no TPM token yet: locked.
   systemd-pcrlock predict's PCR 13 values include `sysext-stub predict`'s for both approved states.
2. base.sysext.raw version 2 (the second approved variant): unlocked, no re-enrolment, no signature.
3. version 1 with one byte changed (tampered): locked.
4. version 3 (built and signed like the others, approved by no variant): locked.

Boots 3 and 4 differ from boot 2 in PCR 13 alone (checked), so the policy refuses them for the
sysext, not for anything else.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

import debian
import harness
import systemd_guest as guest

PCRLOCK = "/usr/lib/systemd/systemd-pcrlock"
DATA_DIR = "/run/sysext-stub-pcrlock"
POLICY_UNIT = "sysext-stub-test-pcrlock-policy.service"

#: Before systemd-cryptsetup: extract the data drive (a tar on a raw virtio disk) and put its
#: pcrlock.json where systemd-cryptsetup reads the policy from.
POLICY_UNIT_TEXT = f"""[Unit]
Description=sysext-stub test: the pcrlock policy from the data drive
DefaultDependencies=no
After=systemd-modules-load.service
Before=systemd-cryptsetup@{guest.LUKS_NAME}.service cryptsetup-pre.target sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'mkdir -p {DATA_DIR}; for i in $(seq 120); do for d in /dev/vd?; do tar -xf $d -C {DATA_DIR} 2>/dev/null && test -f {DATA_DIR}/marker && break 2; done; sleep 1; done; test -f {DATA_DIR}/pcrlock.json && cp {DATA_DIR}/pcrlock.json /run/systemd/pcrlock.json; exit 0'
"""

ENROLL = f"""
test -f {DATA_DIR}/enroll || exit 0
set -e
mkdir -p /var/lib/pcrlock.d
cp -r {DATA_DIR}/components/. /var/lib/pcrlock.d/
for what in firmware-code firmware-config secureboot-policy secureboot-authority; do
    {PCRLOCK} lock-$what || echo "lock-$what failed: $?"
done
{PCRLOCK} lock-gpt /dev/vda --pcrlock=/var/lib/pcrlock.d/600-gpt.pcrlock
{PCRLOCK} lock-uki {DATA_DIR}/uki.efi --pcrlock=/var/lib/pcrlock.d/650-uki.pcrlock
{PCRLOCK} make-policy --recovery-pin=hide --policy=/run/systemd/pcrlock.json
chmod 600 {DATA_DIR}/key
systemd-cryptenroll --tpm2-device=auto --tpm2-pcrlock=/run/systemd/pcrlock.json \\
    --unlock-key-file={DATA_DIR}/key /dev/disk/by-uuid/{guest.LUKS_UUID}
"""

PROBES = guest.PROBE_SYSEXT[:1] + guest.PROBE_CRYPTSETUP + (
    ("enroll", ENROLL),
    ("policy", "cat /run/systemd/pcrlock.json"),
    ("pcrlock-predict", f"test -f {DATA_DIR}/enroll || exit 0; {PCRLOCK} predict --pcr=13 --json=short 2>/dev/null"),
)


def data_drive(path: Path, files: dict) -> Path:
    """A tar of `files` (name -> bytes) as a raw disk image; "marker" tells the unit it found it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in {"marker": b"1", **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buf.getvalue()
    path.write_bytes(data + bytes(-len(data) % (1 << 20)))
    return path


def tree_files(root: Path) -> dict:
    return {str(Path("components") / p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.pcrlock"))}


def locked(facts: harness.Facts) -> bool:
    return facts.notes.get("rc-crypt-mapped") != "0"


@pytest.fixture(scope="module")
def setup(kernel, tmp_path_factory):
    work = tmp_path_factory.mktemp("pl")
    try:
        vkey, vcert = guest.cached_verity_key()
        spec = guest.issue16_spec(vcert.read_bytes())
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror (Debian 13 packages): {exc}")
    spec.name = "systemd-initrd-pcrlock"
    spec.units = {**spec.units, POLICY_UNIT: POLICY_UNIT_TEXT}
    spec.wants = {**spec.wants, "sysinit.target": [POLICY_UNIT]}
    spec.probes = PROBES
    initrd = guest.build_initrd(kernel, spec)
    uki = work / "uki.efi"
    guest.cli("build", "--stub", guest.STUB, "--linux", kernel.vmlinuz, "--initrd", initrd, "--cmdline",
              guest.CMDLINE, "--os-release", "ID=debian\nVERSION_ID=13\n", "--uname", kernel.version,
              "--output", uki)
    images = {v: guest.build_sysext(work / f"base-{v}.raw", "base", v, key=vkey, cert=vcert) for v in "123"}
    images["tampered"] = work / "base-tampered.raw"
    shutil.copyfile(images["1"], images["tampered"])
    guest.tamper(images["tampered"], "base", "1")
    states = {}
    for v in "12":
        states[v] = work / f"state{v}"
        states[v].mkdir()
        shutil.copyfile(images[v], states[v] / "base.sysext.raw")
    guest.cli("pcrlock", "--extra-dir", states["1"], "--extra-dir", states["2"], "--output", work / "components")
    # The volume: formatted, no token yet (boot 1 enrolls it).
    key = bytes(range(32))
    (work / "key").write_bytes(key)
    with open(work / "luks.img", "wb") as f:
        f.truncate(32 << 20)
    guest.run_tool(["cryptsetup", "luksFormat", "--type", "luks2", "--uuid", guest.LUKS_UUID, "--pbkdf", "pbkdf2",
                    "--pbkdf-force-iterations", "1000", "--batch-mode", "--key-file", "/w/key", "/w/luks.img"],
                   binds=[(work, "/w")], what="cryptsetup luksFormat")
    harness.make_tpm_state(work / "tpm0", guest.TPM_BANKS)
    return work, uki, images, states, key


def boot(work: Path, name: str, uki: Path, image: Path, data: dict, tpm_in: Path, tpm_out: Path):
    esp = work / f"{name}.esp"
    # One ESP size for every boot: the GPT is measured into PCR 5, which the policy locks too.
    harness.build_esp(esp, {guest.UKI_PATH: str(uki), f"{guest.EXTRA_DIR}/base.sysext.raw": str(image)},
                      size_mib=96)
    drive = data_drive(work / f"{name}.data", data)
    result = harness.boot(esp, workdir=work / name, tpm=True, tpm_banks=guest.TPM_BANKS, tpm_state=tpm_in,
                          tpm_state_out=tpm_out, extra_drives=[drive], writable_drives=[work / "luks.img"],
                          timeout=guest.BOOT_TIMEOUT)
    return result, harness.assert_booted(result)


def test_one_pcrlock_policy_unlocks_every_approved_version_and_nothing_else(setup):
    work, uki, images, states, key = setup
    enroll = {"enroll": b"1", "key": key, "uki.efi": uki.read_bytes(), **tree_files(work / "components")}
    result, facts = boot(work, "boot1", uki, images["1"], enroll, work / "tpm0", work / "tpm1")
    assert facts.notes.get("rc-enroll") == "0", (facts.text("enroll"), result.describe(40))
    enrolled = facts.text("enroll")
    kept = re.search(r"PCRs in protection mask: (.*)", enrolled)
    # One policy over the whole boot: the firmware's PCRs (systemd's lock-* components), the UKI
    # (lock-uki: PCRs 4 and 11, with 750-enter-initrd) and the sysexts (ours).
    assert kept, enrolled
    for pcr in (0, 2, 4, 7, 11, 13):
        assert re.search(rf"\b{pcr} \(", kept.group(1)), (pcr, enrolled)
    assert locked(facts), "boot 1 has no TPM token yet"
    predicted = json.loads(facts.text("pcrlock-predict"))
    values = {v for e in predicted[guest.TPM_BANKS] if e["pcr"] == 13 for v in e["values"]}
    for v in "12":
        ours = guest.cli("predict", "--extra-dir", states[v], "--pcr", "13", "--bank", guest.TPM_BANKS)
        assert re.search(rf"13:{guest.TPM_BANKS}=([0-9a-f]+)", ours).group(1) in values, (ours, values)
    policy = facts.text("policy").encode()
    json.loads(policy)

    after = {}
    for name, image in (("v2", images["2"]), ("tampered", images["tampered"]), ("unapproved", images["3"])):
        result, facts = boot(work, name, uki, image, {"pcrlock.json": policy}, work / "tpm1", work / f"tpm-{name}")
        after[name] = (locked(facts), facts.text("crypt-journal"), result, facts.pcrs[guest.TPM_BANKS])
    assert not after["v2"][0], (after["v2"][1], after["v2"][2].describe(40))
    for name in ("tampered", "unapproved"):
        assert after[name][0], (name, after[name][1])
        assert "Password querying disabled via 'headless' option." in after[name][1], after[name][1]
        # Locked for the sysext alone: every PCR before 13 as in the boot that unlocked (same firmware,
        # ESP layout, UKI), except PCR 9, where Linux measures the whole initrd, sysexts included, and
        # PCR 10, whose IMA boot_aggregate covers PCR 0-9; PCR 13 not.
        pcrs, good = after[name][3], after["v2"][3]
        same = [n for n in range(13) if n not in (9, 10)]
        assert [pcrs[n] for n in same] == [good[n] for n in same], name
        assert pcrs[13] != good[13], name
