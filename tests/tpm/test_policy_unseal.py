"""Signed PCR policies end to end against swtpm.

A secret is sealed the way systemd-cryptenroll seals it (PolicyAuthorize of
the signing key, nothing else). The TPM's PCRs 11 and 13 are extended with
exactly the events `sysext-stub predict --json --phase enter-initrd` lists,
i.e. what our stub plus systemd-pcrphase produce by the time the initrd
unlocks the root volume. `sysext-stub sign` signs the predicted PolicyPCR
digest, and tpm-policy-tool unseals along systemd-cryptsetup's path.

Independent checks: the TPM itself extends the PCRs and computes the live
PolicyPCR digest; hashlib/struct models compute pol and the sealing policy;
the openssl CLI verifies the signature and fingerprints the key.
"""
import base64
import hashlib
import json

from tpm_helpers import (assert_policy_failure, b64, openssl_verifies, pkfp, policy_authorize, policy_pcr, sign)



def test_sealing_policy_is_policy_authorize_of_the_key(tpm, keys, secret, tmp_path):
    """The tool also checks offline == trial session itself; here against the Python model."""
    digest = tpm.seal(keys.pub, secret, tmp_path / "blob")
    assert digest == policy_authorize(keys.pub)
    assert digest != policy_authorize(keys.other_pub)


def test_predicted_events_include_the_phase_word(inputs):
    p11 = inputs.base_prediction[11]
    assert p11["phase"] == "enter-initrd"
    assert p11["events"][-1] == hashlib.sha256(b"enter-initrd").digest()
    assert len(inputs.base_prediction[13]["events"]) > 0


def test_signature_for_the_booted_set_unseals(tpm, keys, inputs, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    values = tpm.boot(inputs.base_prediction)
    sig_file = tmp_path / "sig.json"
    doc = sign(keys.key, inputs.uki, inputs.base, sig_file)

    assert list(doc) == ["sha256"]
    assert len(doc["sha256"]) == 1
    entry = doc["sha256"][0]
    assert entry["pcrs"] == [11, 13]
    assert entry["pkfp"] == pkfp(keys.pub)
    pol = bytes.fromhex(entry["pol"])
    # Three ways to the same digest: the model over the TPM's PCR values, the TPM's own policy session,
    # and the signer's offline computation.
    assert pol == policy_pcr("sha256", [11, 13], values)
    assert pol == tpm.live_pcr_policy()
    assert openssl_verifies(keys.pub, pol, base64.b64decode(entry["sig"]), tmp_path)

    r = tpm.unseal(blob, keys.pub, sig_file)
    assert r.returncode == 0, r.stderr
    assert r.stdout == secret.read_bytes()


def test_one_changed_byte_in_a_sysext_is_refused(tpm, keys, inputs, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    sig_file = tmp_path / "sig.json"
    doc = sign(keys.key, inputs.uki, inputs.base, sig_file)
    tampered = tpm.boot(inputs.tampered_prediction)
    assert tampered[11] == inputs.base_prediction[11]["hash"], "only PCR 13 may differ"
    assert tampered[13] != inputs.base_prediction[13]["hash"]
    live = tpm.live_pcr_policy()
    assert live.hex() != doc["sha256"][0]["pol"]

    r = tpm.unseal(blob, keys.pub, sig_file)
    assert_policy_failure(r, "live PolicyPCR digest: " + live.hex())
    # Not just our lookup: handed the signed entry anyway, the TPM itself refuses it.
    r = tpm.unseal(blob, keys.pub, sig_file, "--any-pol")
    assert_policy_failure(r, "PolicyAuthorize")


def test_an_upgrade_needs_a_new_signature(tpm, keys, inputs, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    old_sig, new_sig = tmp_path / "old.json", tmp_path / "new.json"
    old = sign(keys.key, inputs.uki, inputs.base, old_sig)
    new = sign(keys.key, inputs.uki, inputs.upgraded, new_sig)

    tpm.boot(inputs.base_prediction)
    assert tpm.unseal(blob, keys.pub, old_sig).returncode == 0

    tpm.reboot()
    assert set(tpm.pcrs().values()) == {bytes(32)}, "a reboot starts from zero PCRs"
    tpm.boot(inputs.upgraded_prediction)
    assert_policy_failure(tpm.unseal(blob, keys.pub, old_sig))
    assert_policy_failure(tpm.unseal(blob, keys.pub, old_sig, "--any-pol"), "PolicyAuthorize")
    r = tpm.unseal(blob, keys.pub, new_sig)
    assert r.returncode == 0, r.stderr
    assert r.stdout == secret.read_bytes()

    # Entries for both sets can live in one file: the one whose pol matches is used.
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"sha256": old["sha256"] + new["sha256"]}))
    assert tpm.unseal(blob, keys.pub, both).returncode == 0


def test_the_tpm_checks_the_signature_bytes(tpm, keys, inputs, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    tpm.boot(inputs.base_prediction)
    doc = sign(keys.key, inputs.uki, inputs.base, tmp_path / "sig.json")
    sig = bytearray(base64.b64decode(doc["sha256"][0]["sig"]))
    sig[len(sig) // 2] ^= 0x80
    doc["sha256"][0]["sig"] = b64(bytes(sig))
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    assert_policy_failure(tpm.unseal(blob, keys.pub, forged), "VerifySignature")


def test_a_signature_by_another_key_cannot_unseal(tpm, keys, inputs, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    tpm.boot(inputs.base_prediction)
    other = tmp_path / "other.json"
    sign(keys.other_key, inputs.uki, inputs.base, other)
    # With the sealing key's fingerprint there is no entry to use.
    assert_policy_failure(tpm.unseal(blob, keys.pub, other))
    # Presenting the other key: its signature verifies and PolicyAuthorize passes, but the session then
    # carries the other key's name, which is not the object's policy, so Unseal fails.
    assert_policy_failure(tpm.unseal(blob, keys.other_pub, other), "Unseal")


def test_policy_authorize_refuses_a_null_hierarchy_ticket(tpm, keys, inputs, secret, tmp_path):
    """Why systemd loads the key into the owner hierarchy: a NULL-hierarchy ticket is not accepted."""
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    tpm.boot(inputs.base_prediction)
    sig_file = tmp_path / "sig.json"
    sign(keys.key, inputs.uki, inputs.base, sig_file)
    assert_policy_failure(tpm.unseal(blob, keys.pub, sig_file, "--hierarchy", "null"), "PolicyAuthorize")
    assert tpm.unseal(blob, keys.pub, sig_file, "--hierarchy", "owner").returncode == 0
