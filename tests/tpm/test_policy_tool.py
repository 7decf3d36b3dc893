"""tpm-policy-tool's own input handling: errors exit 2 (not 1, which means a policy failure) and say what is wrong."""
import json

from tpm_helpers import TOOL, require, run


def assert_error(r, *words):
    assert r.returncode == 2, f"expected exit 2, got {r.returncode}: {r.stderr}"
    assert not r.stdout
    for w in words:
        assert str(w) in r.stderr, f"{w!r} not in: {r.stderr}"


def test_usage_errors():
    require(TOOL)
    assert_error(run([TOOL, "frobnicate"], check=False), "unknown command")
    assert_error(run([TOOL, "pcrread", "--tcti", "x", "--bank", "sha256"], check=False), "--pcrs is required")
    assert_error(run([TOOL, "pcrread", "--tcti", "x", "--pcrs", "11,x", "--bank", "sha256"], check=False), "11,x")
    assert_error(run([TOOL, "pcrread", "--tcti", "x", "--pcrs", "11", "--bank", "md5"], check=False), "md5")
    assert_error(run([TOOL, "seal", "--tcti", "x", "--pcrs", "11"], check=False), "does not apply")
    assert_error(run([TOOL, "extend", "--tcti", "x", "--pcr", "11", "--bank", "sha256", "--digest", "abcd"],
                     check=False), "abcd")


def test_bad_inputs_are_named(tpm, keys, secret, tmp_path):
    blob = tmp_path / "blob"
    tpm.seal(keys.pub, secret, blob)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\x01not a blob")
    sig = tmp_path / "sig.json"
    sig.write_text(json.dumps({"sha256": [{"pcrs": [11, 13], "pkfp": "00", "pol": "00", "sig": "AA=="}]}))
    assert_error(tpm.unseal(garbage, keys.pub, sig), garbage, "not a sealed-object blob")
    assert_error(tpm.unseal(blob, secret, sig), secret, "not a PEM public key")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"sha256": [')
    assert_error(tpm.unseal(blob, keys.pub, bad_json), bad_json, "not valid JSON")
    bad_pcrs = tmp_path / "bad-pcrs.json"
    bad_pcrs.write_text(json.dumps({"sha256": [{"pcrs": [11, 99], "pkfp": "00", "pol": "00", "sig": "AA=="}]}))
    assert_error(tpm.unseal(blob, keys.pub, bad_pcrs), bad_pcrs, "PCR index")
    ec_key = tmp_path / "ec.pem"
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", tmp_path / "ec.key"])
    run(["openssl", "pkey", "-in", tmp_path / "ec.key", "-pubout", "-out", ec_key])
    r = tpm.tool("seal", "--public-key", ec_key, "--secret-file", secret, "--out", blob, check=False)
    assert_error(r, ec_key, "not an RSA key")
