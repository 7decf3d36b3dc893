"""Interop with Debian 12's systemd 252 and cryptsetup 2.6 against swtpm.

systemd-cryptenroll enrolls a LUKS2 image file (no loop device needed) with
a signed PCR policy over PCRs 11+13 and test-unseals with our signature;
the token it stores must carry the sealing policy our offline model
computes, and our tool must unseal systemd's blob. Then cryptsetup's own
token plugin (libcryptsetup-token-systemd-tpm2.so, systemd 252) unlocks
the image with `cryptsetup open --token-only --test-passphrase`, through
our signature, before and after a sysext upgrade without re-enrolling.

How the v252 plugin finds things (verified by test_plugin_* below):
  - TPM: tpm2_find_device_auto(), i.e. the single entry of
    /sys/class/tpmrm -> /dev/tpmrm0 (TCTI "device"). SYSTEMD_TPM2_DEVICE is
    not consulted on this path; on a host without a TPM the LD_PRELOAD shim
    build/test/libtpm2-device-from-env.so returns $SYSTEMD_TPM2_DEVICE.
  - Signature: tpm2-pcr-signature.json in /etc/systemd, /run/systemd,
    /usr/local/lib/systemd, /usr/lib/systemd, first found wins; not /.extra
    (that came in v254). The tests bind-mount a directory over /run/systemd
    in a private mount namespace (unshare -m), so the host is untouched.
"""
import base64
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from tpm_helpers import DEVICE_SHIM, policy_authorize, require, run, sign

PLUGIN = Path("/usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so")
SIGNATURE_DIRS_252 = ["/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"]


@pytest.fixture
def luks(tmp_path):
    require("cryptsetup", "systemd-cryptenroll")
    img, key = tmp_path / "luks.img", tmp_path / "luks.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    with open(img, "wb") as f:
        f.truncate(20 << 20)  # 16 MiB of LUKS2 header + data
    run(["cryptsetup", "luksFormat", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
         "--batch-mode", "--key-file", key, img])
    return SimpleNamespace(img=img, key=key)


def enroll(tpm, luks, pub, signature, check=True):
    return run(["systemd-cryptenroll", f"--unlock-key-file={luks.key}", f"--tpm2-device={tpm.tcti}",
                f"--tpm2-public-key={pub}", "--tpm2-public-key-pcrs=11+13",
                "--tpm2-pcrs=",  # systemd 252 would otherwise also bind PCR 7 literally
                f"--tpm2-signature={signature}", luks.img], check=check)


def tokens(luks):
    return json.loads(run(["cryptsetup", "luksDump", "--dump-json-metadata", luks.img]).stdout)["tokens"]


def plugin_unlock(tpm, luks, signature_dir, shim=True, trace=None):
    """`cryptsetup open --token-only --test-passphrase` with signature_dir mounted on /run/systemd."""
    require("unshare", "mount", str(PLUGIN))
    if os.geteuid() != 0:
        pytest.fail("the cryptsetup plugin tests need root (unshare -m, mount --bind)")
    env = dict(os.environ, SYSTEMD_TPM2_DEVICE=tpm.tcti)
    if shim:
        require(DEVICE_SHIM)
        env["LD_PRELOAD"] = str(DEVICE_SHIM)
    cmd = ["cryptsetup", "open", "--token-only", "--test-passphrase", "--debug", str(luks.img)]
    if trace:
        require("strace")
        cmd = ["strace", "-f", "-e", "trace=openat", "-o", str(trace), *cmd]
    # unshare(1) makes the new mount namespace private: the bind mount never reaches the host.
    return run(["unshare", "-m", "sh", "-c", 'mount --bind "$1" /run/systemd && shift && exec "$@"', "sh",
                signature_dir, *cmd], check=False, env=env)


def signature_dir(tmp_path, name, signature):
    d = tmp_path / name
    d.mkdir()
    if signature:
        (d / "tpm2-pcr-signature.json").write_bytes(Path(signature).read_bytes())
    return d


def test_cryptenroll_accepts_our_signature_and_seals_what_we_model(tpm, keys, inputs, luks, tmp_path):
    tpm.boot(inputs.base_prediction)
    sig = tmp_path / "sig.json"
    sign(keys.key, inputs.uki, inputs.base, sig)
    enroll(tpm, luks, keys.pub, sig)

    toks = tokens(luks)
    assert list(toks) == ["0"], toks
    t = toks["0"]
    assert t["type"] == "systemd-tpm2"
    assert t["tpm2_pubkey_pcrs"] == [11, 13]
    assert t["tpm2-pcrs"] == []
    assert t["tpm2-pcr-bank"] == "sha256"
    assert t["tpm2-primary-alg"] == "ecc"
    assert t["tpm2-policy-hash"] == policy_authorize(keys.pub).hex()
    assert base64.b64decode(t["tpm2_pubkey"]) == keys.pub.read_bytes()

    # Our unseal path opens systemd's sealed object: same primary, same policy steps.
    blob = tmp_path / "systemd.blob"
    blob.write_bytes(base64.b64decode(t["tpm2-blob"]))
    r = tpm.unseal(blob, keys.pub, sig)
    assert r.returncode == 0, r.stderr
    # systemd uses base64 of the unsealed secret as the keyslot passphrase.
    passphrase = tmp_path / "passphrase"
    passphrase.write_bytes(base64.b64encode(r.stdout))
    run(["cryptsetup", "open", "--test-passphrase", "--key-slot", t["keyslots"][0], "--key-file", passphrase,
         luks.img])


def test_cryptenroll_refuses_a_signature_for_another_sysext_set(tpm, keys, inputs, luks, tmp_path):
    tpm.boot(inputs.base_prediction)
    sig = tmp_path / "tampered.json"
    sign(keys.key, inputs.uki, inputs.tampered, sig)
    r = enroll(tpm, luks, keys.pub, sig, check=False)
    assert r.returncode != 0, "cryptenroll's test unseal must fail"
    assert "Couldn't find signature for this PCR bank, PCR index and public key" in r.stderr, r.stderr
    assert tokens(luks) == {}


def test_plugin_unlocks_through_our_signature_and_after_an_upgrade(tpm, keys, inputs, luks, tmp_path):
    old_sig, new_sig = tmp_path / "old.json", tmp_path / "new.json"
    sign(keys.key, inputs.uki, inputs.base, old_sig)
    sign(keys.key, inputs.uki, inputs.upgraded, new_sig)
    tpm.boot(inputs.base_prediction)
    enroll(tpm, luks, keys.pub, old_sig)
    old_dir = signature_dir(tmp_path, "old", old_sig)
    new_dir = signature_dir(tmp_path, "new", new_sig)

    r = plugin_unlock(tpm, luks, old_dir)
    assert r.returncode == 0, r.stderr
    # cryptsetup --debug writes to stdout.
    assert re.search(r"Trying to open keyslot \d+ with token 0 \(type systemd-tpm2\)", r.stdout), r.stdout

    # Reboot into the upgraded sysexts: the old signature no longer unlocks, a new one does; no re-enrollment.
    tpm.reboot()
    tpm.boot(inputs.upgraded_prediction)
    assert plugin_unlock(tpm, luks, old_dir).returncode != 0
    r = plugin_unlock(tpm, luks, new_dir)
    assert r.returncode == 0, r.stderr


def test_plugin_finds_no_tpm_without_the_shim(tpm, keys, inputs, luks, tmp_path):
    """systemd 252's plugin ignores SYSTEMD_TPM2_DEVICE; without /sys/class/tpmrm it reports no TPM."""
    if Path("/sys/class/tpmrm").exists():
        pytest.fail("this host has a TPM (/sys/class/tpmrm): the test assumes none, so swtpm is the only TPM")
    sig = tmp_path / "sig.json"
    sign(keys.key, inputs.uki, inputs.base, sig)
    tpm.boot(inputs.base_prediction)
    enroll(tpm, luks, keys.pub, sig)
    r = plugin_unlock(tpm, luks, signature_dir(tmp_path, "sig", sig), shim=False)
    assert r.returncode != 0
    assert "TPM2 device not found" in r.stdout, r.stdout


def test_plugin_signature_search_path(tpm, keys, inputs, luks, tmp_path):
    """Where v252 looks for tpm2-pcr-signature.json, in order, when nothing is found: never /.extra."""
    sig = tmp_path / "sig.json"
    sign(keys.key, inputs.uki, inputs.base, sig)
    tpm.boot(inputs.base_prediction)
    enroll(tpm, luks, keys.pub, sig)
    trace = tmp_path / "strace.log"
    r = plugin_unlock(tpm, luks, signature_dir(tmp_path, "empty", None), trace=trace)
    assert r.returncode != 0
    tried = re.findall(r'openat\(AT_FDCWD, "([^"]*tpm2-pcr-signature\.json)"', trace.read_text())
    assert tried == [f"{d}/tpm2-pcr-signature.json" for d in SIGNATURE_DIRS_252], tried
