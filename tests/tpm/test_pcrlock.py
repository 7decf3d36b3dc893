"""`sysext-stub pcrlock` against Debian 13's own systemd-pcrlock and systemd-cryptenroll (257) and swtpm.

The components `sysext-stub pcrlock` writes go to systemd-pcrlock 257 (in a
trixie chroot, ovmf-tests/debian.py), which makes a policy over PCR 13 in a
fresh swtpm's NV index; systemd-cryptenroll binds a LUKS2 image to it. Each
"boot" restarts swtpm on the same state (PCRs back to zero, NV index and
seeds kept) and extends PCR 13 as the stub would for that boot's sysexts
(digests computed here with hashlib: path + NUL, then content), with the
matching firmware event log (TCG2 format, built here). Unlocking is
`systemd-cryptenroll --unlock-tpm2-device`, which has to unseal the key to
add a recovery key.

Checked: make-policy takes our components and keeps PCR 13 in the policy;
`systemd-pcrlock predict` gives, for each approved state, the PCR 13 value
`sysext-stub predict` prints; the enrolled volume unlocks for every
approved version of k3s.sysext.raw (variants from a second state and from
--variant), with no re-enrolment and nothing signed; a tampered image and
a version no variant approves leave it locked.
"""
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tpm_helpers import CLI, ROOT, Swtpm, require, run

sys.path.insert(0, str(ROOT / "ovmf-tests"))
sys.path.insert(0, str(ROOT / "tests" / "cli"))
import debian  # noqa: E402
from test_eventlog import EV_IPL, Log, firmware_log  # noqa: E402

PCRLOCK = "/usr/lib/systemd/systemd-pcrlock"
PACKAGES = ["systemd", "systemd-cryptsetup", "cryptsetup-bin", "libcryptsetup12", "libtss2-esys-3.0.2-0t64", "libtss2-mu-4.0.1-0t64",
            "libtss2-rc0t64", "libtss2-tcti-swtpm0t64", "libtss2-tcti-device0t64"]
PASSPHRASE = b"pcrlock test passphrase"


@pytest.fixture(scope="module")
def root():
    try:
        return debian.chroot("trixie", PACKAGES, name="pcrlock")
    except debian.NetworkUnavailable as exc:
        pytest.skip(f"no network to the Debian mirror: {exc}")


class Machine:
    """swtpm plus the directories the chroot sees: /w (work), /tpm (the socket), /var/lib/systemd (policy)."""

    def __init__(self, root, work):
        self.root = root
        self.work = work
        self.tpm = Swtpm()
        (work / "varlib").mkdir()

    @property
    def tcti(self):
        return "swtpm:path=/tpm/s"

    def run(self, *argv, check=True, env=None):
        binds = [(self.work, "/w"), (self.tpm.dir, "/tpm"), (self.work / "varlib", "/var/lib/systemd")]
        e = {"SYSTEMD_TPM2_DEVICE": self.tcti, "SYSTEMD_MEASURE_LOG_FIRMWARE": "/w/fw.log",
             "SYSTEMD_MEASURE_LOG_USERSPACE": "/w/none.log", **(env or {})}
        lines = ["set -e", f"R={self.root}", 'mount -t proc proc "$R/proc"', 'mount --rbind /dev "$R/dev"',
                 'mount -t tmpfs tmpfs "$R/tmp"']
        for host, inside in binds:
            lines += [f'mkdir -p "$R"{inside}', f'mount --bind {host} "$R"{inside}']
        envs = " ".join(f"{k}={v}" for k, v in e.items())
        lines.append(f'exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin {envs} '
                     + " ".join(f"'{a}'" for a in argv))
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines)],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            pytest.fail(f"{' '.join(argv)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def banks(self):
        out = subprocess.run(["tpm2_pcrread", "-T", self.tpm.tcti, "13"],
                             capture_output=True, text=True)
        return [b for b in ("sha1", "sha256", "sha384", "sha512") if re.search(rf"^\s*{b}\s*:", out.stdout, re.M)]

    def boot(self, files):
        """A fresh boot: PCRs zero, then the stub's PCR 13 events for @files (name -> bytes), log and TPM alike."""
        self.tpm.reboot()
        banks = self.banks()
        log = firmware_log(banks=banks)
        for name, data in files:
            path = f".extra/sysext/{name}"
            for hashed in (path.encode() + b"\0", data):
                digests = {b: hashlib.new(b, hashed).digest() for b in banks}
                log.record(13, EV_IPL, (path + "\0").encode("utf-16-le"), digests)
                for b in banks:
                    log.pcr[(b, 13)] = hashlib.new(b, log.pcr[(b, 13)] + digests[b]).digest()
                spec = ",".join(f"{b}={digests[b].hex()}" for b in banks)
                subprocess.run(["tpm2_pcrextend", "-T", self.tpm.tcti, f"13:{spec}"], check=True,
                               capture_output=True)
        # The other PCRs of the synthetic log are not in the TPM: systemd-pcrlock drops them (not matching).
        log.write(self.work / "fw.log")
        for b in banks:
            value = subprocess.run(["tpm2_pcrread", "-T", self.tpm.tcti, f"{b}:13"], capture_output=True,
                                   text=True, check=True).stdout
            assert log.value(b, 13) in value.lower().replace("0x", ""), value

    def unlocks(self):
        r = self.run("systemd-cryptenroll", f"--unlock-tpm2-device={self.tcti}", "--recovery-key", "/w/luks.img",
                     check=False)
        return r.returncode == 0, r.stdout + r.stderr


def write(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (directory / name).write_bytes(data)
    return directory


def test_pcrlock_policy_unlocks_every_approved_version(root, tmp_path):
    require("swtpm", "tpm2_pcrextend", "tpm2_pcrread")
    v1 = [("k3s.sysext.raw", b"k3s 1.29 " * 1000), ("tools.sysext.raw", b"tools " * 300)]
    v2 = [("k3s.sysext.raw", b"k3s 1.30 " * 1000), ("tools.sysext.raw", b"tools " * 300)]
    v3_content = b"k3s 1.31 " * 1000
    unapproved = [("k3s.sysext.raw", b"k3s 1.32 " * 1000), ("tools.sysext.raw", b"tools " * 300)]
    tampered = [("k3s.sysext.raw", b"k3s 1.29 " * 999 + b"k3s 1.2X "), ("tools.sysext.raw", b"tools " * 300)]
    s1, s2 = write(tmp_path / "s1", v1), write(tmp_path / "s2", v2)
    (tmp_path / "k3s-1.31.raw").write_bytes(v3_content)
    m = Machine(root, tmp_path)
    try:
        m.boot(v1)
        banks = m.banks()
        bank_args = [a for b in banks for a in ("--bank", b)]
        run([CLI, "pcrlock", "--extra-dir", s1, "--extra-dir", s2, "--variant",
             f"k3s.sysext.raw:k3s-1.31={tmp_path}/k3s-1.31.raw",
             "--pcr", "13", *bank_args, "--output", tmp_path / "comp"])
        listed = m.run(PCRLOCK, "list-components", "--components=/w/comp").stdout
        assert "680-sysext-stub-sysext-k3s.sysext.raw" in listed and "k3s-1.31.pcrlock" in listed, listed

        # systemd-pcrlock predict: one PCR 13 value per combination, each what `sysext-stub predict` says.
        # It predicts in its primary bank (swtpm's largest); we predict in that bank too.
        predicted = json.loads(m.run(PCRLOCK, "predict", "--components=/w/comp", "--pcr=13", "--json=short").stdout)
        (bank, entries), = predicted.items()
        values = {v.lower() for e in entries if e["pcr"] == 13 for v in e["values"]}
        assert len(values) == 3, values  # k3s: 1.29, 1.30, 1.31; tools: one version
        for state in (s1, s2):
            ours = run([CLI, "predict", "--extra-dir", state, "--pcr", "13", "--bank", bank]).stdout
            value = re.search(rf"13:{bank}=([0-9a-f]+)", ours).group(1)
            assert value in values, (ours, values)

        policy = m.run(PCRLOCK, "make-policy", "--components=/w/comp", "--pcr=13")
        assert re.search(r"PCRs in protection mask: 13\b", policy.stderr), policy.stderr
        (tmp_path / "pass").write_bytes(PASSPHRASE)
        (tmp_path / "luks.img").write_bytes(bytes(32 << 20))
        m.run("cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
              "--pbkdf-force-iterations", "1000", "--key-file", "/w/pass", "/w/luks.img")
        m.run("systemd-cryptenroll", f"--tpm2-device={m.tcti}", "--tpm2-pcrlock=/var/lib/systemd/pcrlock.json",
              "--unlock-key-file=/w/pass", "/w/luks.img")

        results = {}
        for name, files in (("v1", v1), ("v2", v2), ("v3 (--variant)", [(v1[0][0], v3_content), v1[1]]),
                            ("tampered", tampered), ("unapproved", unapproved), ("v1 again", v1)):
            m.boot(files)
            results[name] = m.unlocks()
        assert results["v1"][0] and results["v2"][0] and results["v3 (--variant)"][0] and results["v1 again"][0], \
            results
        assert not results["tampered"][0] and not results["unapproved"][0], results
    finally:
        m.tpm.close()


def pcr11_records(records):
    return [r for r in records if r["pcr"] == 11]


def test_lock_uki_writes_our_pcr11_records_except_for_profiles(root, tmp_path):
    """Why `pcrlock` leaves PCR 11 to `systemd-pcrlock lock-uki` by default, and when --pcr 11 is needed."""
    stub = ROOT / "build" / "sysext-stub-x64.efi"
    run([CLI, "build", "--stub", stub, "--linux", stub, "--os-release", "ID=test\n", "--cmdline", "quiet",
         "--output", tmp_path / "one.efi"])
    run([CLI, "build", "--profile", "ID=second", "--cmdline", "profile=2", "--output", tmp_path / "p2.efi"])
    run([CLI, "build", "--stub", stub, "--linux", stub, "--os-release", "ID=test\n", "--profile", "ID=first",
         "--cmdline", "profile=1", "--join-profile", tmp_path / "p2.efi", "--output", tmp_path / "multi.efi"])
    m = Machine(root, tmp_path)
    try:
        m.run(PCRLOCK, "lock-uki", "/w/one.efi", "--pcrlock=/w/one.pcrlock")
        theirs = json.loads((tmp_path / "one.pcrlock").read_text())["records"]
        ours = json.loads(run([CLI, "pcrlock", "--uki", tmp_path / "one.efi", "--pcr", "11", "--json"]).stdout)
        (component,) = ours["components"]
        (variant,) = component["variants"]
        assert component["id"] == "660-sysext-stub-uki"
        assert pcr11_records(theirs) == variant["pcrlock"]["records"] and len(variant["pcrlock"]["records"]) >= 6
        assert {r["pcr"] for r in theirs} == {4, 11}  # plus the Authenticode hash, which we leave to it
        r = m.run(PCRLOCK, "lock-uki", "/w/multi.efi", "--pcrlock=/w/multi.pcrlock", check=False)
        assert r.returncode != 0 and not (tmp_path / "multi.pcrlock").exists(), r.stderr
        ours = json.loads(run([CLI, "pcrlock", "--uki", tmp_path / "multi.efi", "--profile", "all", "--pcr", "11",
                               "--json"]).stdout)
        assert [v["id"] for v in ours["components"][0]["variants"]] == ["profile-0", "profile-1"]
    finally:
        m.tpm.close()
