"""Tests of `sysext-stub sign`.

Expected values come from outside the code under test: the policy digest
is recomputed here with hashlib from the PCR values `sysext-stub predict`
prints (whose own tests check them against hashlib and systemd-measure),
signatures are checked with the openssl CLI, key fingerprints come from
`openssl rsa -RSAPublicKey_out`, and the reference's worked example
(reference-systemd-stub.md §4.6, verified there on swtpm and systemd 252)
gives exact pol values. Where systemd-measure 252 can sign (against a
swtpm), its output must equal ours byte for byte.
"""
import base64
import ctypes
import hashlib
import json
import os
import re
import sys
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
SYSTEMD_MEASURE = Path("/usr/lib/systemd/systemd-measure")
SECRET_SCAN = ROOT / "build" / "test" / "libsecret-scan.so"

BANKS = ("sha1", "sha256", "sha384", "sha512")
ALG = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
DEFAULT_PHASES = ["enter-initrd", "enter-initrd:leave-initrd", "enter-initrd:leave-initrd:sysinit",
                  "enter-initrd:leave-initrd:sysinit:ready"]

# reference-systemd-stub.md §3.2 and §4.6
WORKED = {"a.sysext.raw": b"hello\n", "b.sysext.raw": b"world"}
REF_PCR13_TWO_FILES = "18a0d82bc6a004aaa96a0f03107498cbf064918496165510bb6ed3717af3902b"
REF_POL = {
    (11, 13): "7ddfc534e3f3cdc22b5fcaceb204a005aec1d10a443f49b74fce51f0a13c34e7",
    (13,): "30d07859cd43783d25cfcc094f006ae6d3879869afa89f2fd749ed929929f446",
    (11,): "7c8486f61cc1d88a28d6ab87850bee07c467ce6311340219e43a7a6e6521e543",
}


# --------------------------------------------------------------------------
# Independent models
# --------------------------------------------------------------------------

def policy_pcr(bank, values):
    """TPM2 PolicyPCR digest from a zero session: {pcr: value bytes} of one bank (TPM 2.0 Part 3, 23.7)."""
    pcrs = sorted(values)
    bitmap = bytearray(3)
    for p in pcrs:
        bitmap[p // 8] |= 1 << (p % 8)
    selection = struct.pack(">IHB", 1, ALG[bank], 3) + bytes(bitmap)
    pcr_digest = hashlib.sha256(b"".join(values[p] for p in pcrs)).digest()
    return hashlib.sha256(bytes(32) + struct.pack(">I", 0x17F) + selection + pcr_digest).digest()


def openssl(*args, input=None):
    r = subprocess.run(["openssl", *map(str, args)], input=input, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def pkfp_of(pub):
    """SHA-256 of the PKCS#1 RSAPublicKey DER, as systemd's pubkey_fingerprint."""
    return hashlib.sha256(openssl("rsa", "-pubin", "-in", pub, "-RSAPublicKey_out", "-outform", "DER")).hexdigest()


def openssl_verifies(pub, pol, sig, tmp_path):
    (tmp_path / "pol.bin").write_bytes(pol)
    (tmp_path / "sig.bin").write_bytes(sig)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(pub), "-signature", str(tmp_path / "sig.bin"),
                        str(tmp_path / "pol.bin")], capture_output=True, text=True)
    return r.returncode == 0 and "Verified OK" in r.stdout


# --------------------------------------------------------------------------
# Running the CLI
# --------------------------------------------------------------------------

def cli(*args, check=True):
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def sign(*args, check=True):
    return cli("sign", *args, check=check)


def sign_json(*args):
    r = sign(*args)
    assert r.stdout.endswith("}\n")
    j = json.loads(r.stdout)
    # Compact, as systemd-measure writes it: no whitespace, keys in its order.
    assert r.stdout == json.dumps(j, separators=(",", ":")) + "\n"
    for entries in j.values():
        for e in entries:
            assert list(e) == [k for k in ("pcrs", "pkfp", "pol", "sig") if k in e]
    return j


def predicted_values(*args):
    """{bank: {(pcr, phase): value}} from `sysext-stub predict --json`."""
    r = cli("predict", "--json", *args)
    j = json.loads(r.stdout)
    return {bank: {(e["pcr"], e.get("phase")): bytes.fromhex(e["hash"]) for e in entries}
            for bank, entries in j.items()}


def assert_failed(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == "", "nothing may go to stdout on error"
    # Exactly one line: the error (no warning or second message beside it).
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sysext-stub: error: "), r.stderr
    for w in words:
        assert str(w) in lines[0], f"{w!r} not named in: {r.stderr}"


def write_set(base, files):
    base.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (base / name).write_bytes(data)
    return base


def build_uki(tmp_path, name, cmdline=None):
    kernel = tmp_path / "kernel.efi"
    if not kernel.exists():
        shutil.copy(STUB, kernel)  # any PE serves as the kernel
    args = ["build", "--stub", STUB, "--linux", kernel, "--os-release", "ID=test\n", "--output", tmp_path / name]
    if cmdline is not None:
        args += ["--cmdline", cmdline]
    cli(*args)
    return tmp_path / name


def sections_emptied(src, dst):
    """A copy of a UKI whose section headers all say VirtualSize 0: the stub (like systemd-stub) measures none."""
    d = bytearray(src.read_bytes())
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    n, = struct.unpack_from("<H", d, pe + 6)
    opt, = struct.unpack_from("<H", d, pe + 20)
    for i in range(n):
        struct.pack_into("<I", d, pe + 24 + opt + 40 * i + 8, 0)
    dst.write_bytes(bytes(d))
    return dst


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    k = {}

    def gen(name, *args):
        openssl("genpkey", *args, "-out", d / name)
        return d / name

    k["key"] = gen("key.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    k["pub"] = d / "pub.pem"
    openssl("pkey", "-in", k["key"], "-pubout", "-out", k["pub"])
    k["key2"] = gen("key2.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    k["pub2"] = d / "pub2.pem"
    openssl("pkey", "-in", k["key2"], "-pubout", "-out", k["pub2"])
    k["key3072"] = gen("key3072.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072")
    k["ec"] = gen("ec.pem", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    k["ec_pub"] = d / "ec-pub.pem"
    openssl("pkey", "-in", k["ec"], "-pubout", "-out", k["ec_pub"])
    k["ed25519"] = gen("ed25519.pem", "-algorithm", "ED25519")
    k["encrypted"] = gen("encrypted.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                         "-aes256", "-pass", "pass:secret")
    k["pkcs1"] = d / "pkcs1.pem"
    openssl("rsa", "-in", k["key"], "-traditional", "-out", k["pkcs1"])
    k["pub_pkcs1"] = d / "pub-pkcs1.pem"
    openssl("rsa", "-in", k["key"], "-RSAPublicKey_out", "-out", k["pub_pkcs1"])
    k["garbage"] = d / "garbage.pem"
    k["garbage"].write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    k["garbage_pub"] = d / "garbage-pub.pem"
    k["garbage_pub"].write_text("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
    # For the key-type and memory tests
    k["rsa_pss"] = gen("rsa-pss.pem", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048")
    k["rsa4160"] = gen("rsa4160.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4160")
    k["dsa"] = d / "dsa.pem"
    openssl("dsaparam", "-genkey", "-out", d / "dsa-trad.pem", 1024)  # DSA PARAMETERS, then DSA PRIVATE KEY
    openssl("pkey", "-in", d / "dsa-trad.pem", "-out", k["dsa"])
    k["dsa_trad"] = d / "dsa-trad.pem"
    k["dh"] = gen("dh.pem", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048")
    k["x25519"] = gen("x25519.pem", "-algorithm", "X25519")
    k["x448"] = gen("x448.pem", "-algorithm", "X448")
    k["sm2"] = gen("sm2.pem", "-algorithm", "SM2")
    k["ec_trad"] = d / "ec-trad.pem"
    openssl("ec", "-in", k["ec"], "-out", k["ec_trad"])
    k["pkcs1_encrypted"] = d / "pkcs1-encrypted.pem"
    openssl("rsa", "-in", k["key"], "-traditional", "-aes256", "-passout", "pass:secret", "-out",
            k["pkcs1_encrypted"])
    for name in ("dsa", "dh", "x25519", "x448", "sm2", "rsa_pss"):
        k[f"{name}_pub"] = d / f"{name}-pub.pem"
        openssl("pkey", "-in", k[name], "-pubout", "-out", k[f"{name}_pub"])
    # An RSA key cut short after d: the numbers are decoded until the structure ends.
    der = openssl("pkey", "-in", k["key"], "-traditional", "-outform", "DER")
    d_at = der.index(key_numbers(k["key"], "privateExponent")[0])
    k["truncated"] = d / "truncated.pem"
    k["truncated"].write_text("-----BEGIN RSA PRIVATE KEY-----\n" +
                              base64.encodebytes(der[:d_at + 256 + 40]).decode() +
                              "-----END RSA PRIVATE KEY-----\n")
    return k


@pytest.fixture
def inputs(tmp_path):
    """A UKI (ours, a PE as kernel), a per-UKI and a global sysext directory."""
    uki = build_uki(tmp_path, "uki.efi")
    extra = write_set(tmp_path / "uki.efi.extra.d", {"k3s.sysext.raw": b"k3s" * 1000, "a.sysext.raw": b"A"})
    glob_ = write_set(tmp_path / "extensions", {"debug.sysext.raw": os.urandom(5000)})
    return ["--uki", uki, "--extra-dir", extra, "--global-dir", glob_]


# --------------------------------------------------------------------------
# The reference's worked example
# --------------------------------------------------------------------------

def test_model_reproduces_the_reference_worked_example():
    pcr11 = hashlib.sha256(bytes(32) + hashlib.sha256(b"enter-initrd").digest()).digest()
    assert pcr11.hex().startswith("d15b0e8e") and pcr11.hex().endswith("6df319")
    pcr13 = bytes.fromhex(REF_PCR13_TWO_FILES)
    assert policy_pcr("sha256", {11: pcr11, 13: pcr13}).hex() == REF_POL[(11, 13)]
    assert policy_pcr("sha256", {13: pcr13}).hex() == REF_POL[(13,)]
    assert policy_pcr("sha256", {11: pcr11}).hex() == REF_POL[(11,)]


def test_reference_worked_example(tmp_path, keys):
    # PCR 11 = the phase word only: a UKI whose sections are all empty (VirtualSize 0, not measured);
    # PCR 13 = systemd-stub's whole-archive measurement of the two-file set.
    uki = sections_emptied(build_uki(tmp_path, "uki.efi"), tmp_path / "empty.efi")
    extra = write_set(tmp_path / "empty.efi.extra.d", WORKED)
    common = ["--uki", uki, "--extra-dir", extra, "--scheme", "systemd", "--bank", "sha256"]
    v = predicted_values(*common, "--phase", "enter-initrd")["sha256"]
    assert v[(11, "enter-initrd")].hex().startswith("d15b0e8e")
    assert v[(13, None)].hex() == REF_PCR13_TWO_FILES
    pkfp = pkfp_of(keys["pub"])
    for pcrs, want in REF_POL.items():
        phase = ["--phase", "enter-initrd"] if 11 in pcrs else []
        arg = ",".join(map(str, pcrs))
        j = sign_json("--private-key", keys["key"], *common, "--pcrs", arg, *phase)
        assert list(j) == ["sha256"] and len(j["sha256"]) == 1
        e = j["sha256"][0]
        assert e["pcrs"] == list(pcrs) and e["pol"] == want and e["pkfp"] == pkfp
        assert openssl_verifies(keys["pub"], bytes.fromhex(want), base64.b64decode(e["sig"]), tmp_path)
        # The policy digest alone, without a key: no pkfp, no sig.
        j = sign_json("--policy-digest-only", *common, "--pcrs", arg, *phase)
        assert j == {"sha256": [{"pcrs": list(pcrs), "pol": want}]}


# --------------------------------------------------------------------------
# Against hashlib + openssl for every bank and phase
# --------------------------------------------------------------------------

def test_every_bank_and_phase_matches_hashlib_and_openssl(tmp_path, keys, inputs):
    j = sign_json("--private-key", keys["key"], *inputs)
    values = predicted_values(*inputs)
    pkfp = pkfp_of(keys["pub"])
    assert list(j) == list(BANKS)
    for bank in BANKS:
        assert len(j[bank]) == len(DEFAULT_PHASES), bank
        for e, phase in zip(j[bank], DEFAULT_PHASES):
            want = policy_pcr(bank, {11: values[bank][(11, phase)], 13: values[bank][(13, None)]})
            assert e["pcrs"] == [11, 13] and e["pkfp"] == pkfp
            assert e["pol"] == want.hex(), (bank, phase)
            sig = base64.b64decode(e["sig"], validate=True)
            assert len(sig) == 256
            # The signer hashes pol once: RSASSA-PKCS1-v1_5 SHA-256 over the 32 bytes (also for sha1).
            assert openssl_verifies(keys["pub"], want, sig, tmp_path), (bank, phase)
            assert not openssl_verifies(keys["pub2"], want, sig, tmp_path)
    # PKCS#1 v1.5 is deterministic: openssl makes the same signature.
    (tmp_path / "pol.bin").write_bytes(bytes.fromhex(j["sha1"][2]["pol"]))
    assert openssl("dgst", "-sha256", "-sign", keys["key"], tmp_path / "pol.bin") == \
        base64.b64decode(j["sha1"][2]["sig"])


def test_pcr_selections_and_phases(tmp_path, keys, inputs):
    uki_nocmd = build_uki(tmp_path, "nocmd.efi")
    cmd = ["--uki", uki_nocmd, "--cmdline", "console=ttyS0 quiet", *inputs[2:]]
    values = predicted_values(*cmd, "--phase", "ready")
    # 13 only: one entry per bank, whatever the phases; "+" separates like systemd's --tpm2-pcrs.
    j = sign_json("--private-key", keys["key"], *cmd, "--pcrs", "13")
    assert {b: len(e) for b, e in j.items()} == {b: 1 for b in BANKS}
    for bank in BANKS:
        assert j[bank][0]["pol"] == policy_pcr(bank, {13: values[bank][(13, None)]}).hex()
    # Every predictable PCR, given in any order: ascending in "pcrs" and in the value digest.
    j = sign_json("--private-key", keys["key"], *cmd, "--pcrs", "13+12,11+9", "--phase", "ready",
                  "--bank", "sha384")
    assert list(j) == ["sha384"]
    v = values["sha384"]
    assert j["sha384"][0]["pcrs"] == [9, 11, 12, 13]
    assert v[(12, None)] != bytes(48) and v[(9, None)] != bytes(48)
    assert j["sha384"][0]["pol"] == policy_pcr("sha384", {9: v[(9, None)], 11: v[(11, "ready")], 12: v[(12, None)],
                                                          13: v[(13, None)]}).hex()
    # Chosen phases, in the order given, duplicates reported once (as predict and systemd-measure).
    j = sign_json("--private-key", keys["key"], *inputs, "--bank", "sha256", "--phase", "sysinit", "--phase", "",
                  "--phase", "sysinit")
    values = predicted_values(*inputs, "--bank", "sha256", "--phase", "sysinit", "--phase", "")
    assert [e["pol"] for e in j["sha256"]] == [
        policy_pcr("sha256", {11: values["sha256"][(11, p)], 13: values["sha256"][(13, None)]}).hex()
        for p in ("sysinit", None)]


def test_key_formats_and_sizes(tmp_path, keys, inputs):
    base = sign_json("--private-key", keys["key"], *inputs, "--bank", "sha256")
    # PKCS#1 ("BEGIN RSA PRIVATE KEY") private key, PKCS#1 public key: the same output.
    assert sign_json("--private-key", keys["pkcs1"], "--public-key", keys["pub_pkcs1"], *inputs,
                     "--bank", "sha256") == base
    r = sign("--private-key", keys["key3072"], *inputs, "--bank", "sha256", "--pcrs", "13")
    assert "3072-bit" in r.stderr  # warned: TPMs need only support 2048-bit keys
    e = json.loads(r.stdout)["sha256"][0]
    pub3072 = tmp_path / "pub3072.pem"
    openssl("pkey", "-in", keys["key3072"], "-pubout", "-out", pub3072)
    assert len(base64.b64decode(e["sig"])) == 384 and e["pkfp"] == pkfp_of(pub3072)
    assert openssl_verifies(pub3072, bytes.fromhex(e["pol"]), base64.b64decode(e["sig"]), tmp_path)


# --------------------------------------------------------------------------
# External signers: --policy-digest-only, openssl, --signature
# --------------------------------------------------------------------------

def test_detached_signature_gives_the_directly_signed_json(tmp_path, keys, inputs):
    sel = [*inputs, "--bank", "sha256", "--phase", "enter-initrd"]
    direct = sign("--private-key", keys["key"], *sel).stdout
    digest = sign_json("--policy-digest-only", "--public-key", keys["pub"], *sel)
    (e,) = digest["sha256"]
    assert set(e) == {"pcrs", "pkfp", "pol"} and e["pkfp"] == pkfp_of(keys["pub"])
    # The README's HSM flow: --output, jq | xxd -r -p, openssl dgst -sha256 -sign, --signature.
    digest_json, pol_bin = tmp_path / "digest.json", tmp_path / "pol.bin"
    sign("--policy-digest-only", "--public-key", keys["pub"], *sel, "--output", digest_json)
    subprocess.run(f"jq -r '.sha256[0].pol' {digest_json} | xxd -r -p > {pol_bin}", shell=True, check=True)
    assert pol_bin.read_bytes() == bytes.fromhex(e["pol"])
    openssl("dgst", "-sha256", "-sign", keys["key"], "-out", tmp_path / "pol.sig", pol_bin)
    out = tmp_path / "signed.json"
    sign("--signature", tmp_path / "pol.sig", "--public-key", keys["pub"], *sel, "--output", out)
    assert out.read_text() == direct


def test_readme_external_signer_flow_runs_as_written(tmp_path, keys):
    """The README's external-signer blocks, pasted into sh: one entry, then the loop over banks and phases."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("use an external signer"):readme.index("### From key to unlocked disk")]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 2 and "--append" in blocks[1]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sysext-stub").symlink_to(CLI)
    build_uki(tmp_path, "active.efi")
    write_set(tmp_path / "active.efi.extra.d", {"k3s.sysext.raw": b"k3s"})
    shutil.copy(keys["key"], tmp_path / "pcr-private.pem")
    shutil.copy(keys["pub"], tmp_path / "pcr-public.pem")
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    sel = ["--uki", tmp_path / "active.efi", "--extra-dir", tmp_path / "active.efi.extra.d"]
    for block, phases, banks in ((blocks[0], ["enter-initrd"], ["sha256"]),
                                 (blocks[1], ["enter-initrd", "enter-initrd:leave-initrd:sysinit"],
                                  ["sha256", "sha384"])):
        (tmp_path / "tpm2-pcr-signature.json").unlink(missing_ok=True)
        r = subprocess.run(["sh", "-e", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        # The same bytes as signing directly with the key.
        direct = sign("--private-key", keys["key"], *sel, *[x for p in phases for x in ("--phase", p)],
                      *[x for b in banks for x in ("--bank", b)]).stdout
        assert (tmp_path / "tpm2-pcr-signature.json").read_text() == direct


# --------------------------------------------------------------------------
# --append and --verify
# --------------------------------------------------------------------------

def verify(*args):
    return sign("--verify", *args, check=False)


def test_append_two_states_and_verify_each(tmp_path, keys):
    uki = build_uki(tmp_path, "uki.efi")
    set_a = write_set(tmp_path / "a.d", {"k3s.sysext.raw": b"k3s v1"})
    set_b = write_set(tmp_path / "b.d", {"k3s.sysext.raw": b"k3s v2", "tools.sysext.raw": b"tools"})
    sig = tmp_path / "tpm2-pcr-signature.json"
    a = sign_json("--private-key", keys["key"], "--uki", uki, "--extra-dir", set_a)
    sign("--private-key", keys["key"], "--uki", uki, "--extra-dir", set_a, "--output", sig)
    b = sign_json("--private-key", keys["key"], "--uki", uki, "--extra-dir", set_b)
    sign("--private-key", keys["key"], "--uki", uki, "--extra-dir", set_b, "--append", sig, "--output", sig)
    merged = json.loads(sig.read_text())
    assert list(merged) == list(BANKS)
    for bank in BANKS:
        assert merged[bank] == a[bank] + b[bank], bank

    for state, offset in ((set_a, 0), (set_b, 4)):
        r = verify(sig, "--public-key", keys["pub"], "--uki", uki, "--extra-dir", state)
        assert r.returncode == 0, r.stdout + r.stderr
        for bank in BANKS:
            for i, phase in enumerate(DEFAULT_PHASES):
                assert f"{bank}, phase '{phase}': approved by entry {bank}[{offset + i}]" in r.stdout
        assert "16 of 16" in r.stdout
    # The private key serves as the public one too.
    assert verify(sig, "--private-key", keys["key"], "--uki", uki, "--extra-dir", set_a).returncode == 0

    # One byte of one sysext changed: no entry approves it, and the expected digest is shown.
    (set_b / "tools.sysext.raw").write_bytes(b"toolz")
    r = verify(sig, "--public-key", keys["pub"], "--uki", uki, "--extra-dir", set_b, "--bank", "sha256",
               "--phase", "enter-initrd")
    assert r.returncode == 1, r.stdout + r.stderr
    values = predicted_values("--uki", uki, "--extra-dir", set_b, "--bank", "sha256")["sha256"]
    expected = policy_pcr("sha256", {11: values[(11, "enter-initrd")], 13: values[(13, None)]}).hex()
    assert "NOT APPROVED" in r.stdout and f"pol differs: expected {expected}, found " in r.stdout
    assert "0 of 1" in r.stdout

    # Another key; another PCR set.
    r = verify(sig, "--public-key", keys["pub2"], "--uki", uki, "--extra-dir", set_a, "--bank", "sha256")
    assert r.returncode == 1 and f"pkfp is another key: {pkfp_of(keys['pub'])}" in r.stdout
    r = verify(sig, "--public-key", keys["pub"], "--uki", uki, "--extra-dir", set_a, "--bank", "sha256",
               "--pcrs", "13")
    assert r.returncode == 1 and "pcrs set differs: expected [13], found [11,13]" in r.stdout


def test_verify_uses_the_first_matching_entry_like_cryptsetup(tmp_path, keys, inputs):
    sel = [*inputs, "--bank", "sha256", "--phase", "enter-initrd"]
    good = sign_json("--private-key", keys["key"], *sel)["sha256"][0]
    bad = dict(good, sig=base64.b64encode(bytes(256)).decode())
    f = tmp_path / "sig.json"
    f.write_text(json.dumps({"sha256": [bad, good]}, separators=(",", ":")))
    r = verify(f, "--public-key", keys["pub"], *sel)
    assert r.returncode == 1 and "sha256[0]" in r.stdout and "signature does not verify" in r.stdout
    f.write_text(json.dumps({"sha256": [good, bad]}, separators=(",", ":")))
    r = verify(f, "--public-key", keys["pub"], *sel)
    assert r.returncode == 0 and "approved by entry sha256[0]" in r.stdout
    f.write_text(json.dumps({"sha1": [good]}))
    r = verify(f, "--public-key", keys["pub"], *sel)
    assert r.returncode == 1 and "no sha256 entries" in r.stdout


# --------------------------------------------------------------------------
# Errors: exit 2, one message naming the input, nothing written
# --------------------------------------------------------------------------

def test_errors_name_the_input_and_leave_no_output(tmp_path, keys, inputs):
    sel = [*inputs, "--bank", "sha256", "--phase", "enter-initrd"]
    good = sign_json("--private-key", keys["key"], *sel)
    (tmp_path / "pol.bin").write_bytes(bytes.fromhex(good["sha256"][0]["pol"]))
    short_sig = tmp_path / "short.sig"
    short_sig.write_bytes(os.urandom(255))
    garbage_sig = tmp_path / "garbage.sig"
    garbage_sig.write_bytes(os.urandom(256))
    other_sig = tmp_path / "other.sig"
    other_sig.write_bytes(openssl("dgst", "-sha256", "-sign", keys["key2"], tmp_path / "pol.bin"))
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"sha256":[{"pcrs":[11,13],"pol":"00"}]}')
    not_json = tmp_path / "not.json"
    not_json.write_text('{"sha256":[')
    fp = "ab" * 32
    short_pol = tmp_path / "short-pol.json"
    short_pol.write_text(f'{{"sha256":[{{"pcrs":[11,13],"pkfp":"{fp}","pol":"ab","sig":"AAAA"}}]}}')
    long_pkfp = tmp_path / "long-pkfp.json"
    long_pkfp.write_text(f'{{"sha1":[],"sha256":[{{"pcrs":[13],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA"}},'
                         f'{{"pcrs":[13],"pkfp":"{fp}0","pol":"{fp}","sig":"AAAA"}}]}}')
    bad_hex_pol = tmp_path / "bad-hex-pol.json"
    bad_hex_pol.write_text(f'{{"sha256":[{{"pcrs":[13],"pkfp":"{fp}","pol":"{fp[:-2]}zz","sig":"AAAA"}}]}}')
    # Valid for measure/pcrsig.c's entry rules, but systemd's JSON parser refuses the whole file.
    entry = f'{{"pcrs":[13],"pkfp":"{fp}","pol":"{fp}","sig":"AAAA"'
    not_utf8 = tmp_path / "not-utf8.json"
    not_utf8.write_bytes(f'{{"sha256":[{entry},"x":"'.encode() + b"\xff" + b'"}]}')
    escaped_nul = tmp_path / "escaped-nul.json"
    escaped_nul.write_text(f'{{"sha256":[{entry},"x":"\\u0000"}}]}}')
    ref_number = tmp_path / "ref-number.json"
    ref_number.write_text(f'{{"sha256":[{entry},"ref":1}}]}}')
    key_dir = tmp_path / "keydir"
    key_dir.mkdir()
    out = tmp_path / "out" / "sig.json"
    out.parent.mkdir()
    k = ["--private-key", keys["key"]]
    cases = [
        ([*k[:1], keys["ec"], *sel], [keys["ec"], "is an EC key", "RSA signatures only"]),
        ([*k[:1], keys["ed25519"], *sel], [keys["ed25519"], "Ed25519", "RSA signatures only"]),
        (["--policy-digest-only", "--public-key", keys["ec_pub"], *sel], [keys["ec_pub"], "is an EC key"]),
        ([*k[:1], keys["garbage"], *sel], [keys["garbage"], "not a PEM private key"]),
        ([*k[:1], keys["pub"], *sel], [keys["pub"], "not a PEM private key"]),
        ([*k[:1], key_dir, *sel], [key_dir, "not a regular file"]),
        ([*k[:1], tmp_path / "missing.pem", *sel], [tmp_path / "missing.pem", "No such file"]),
        ([*k[:1], keys["encrypted"], *sel], [keys["encrypted"], "encrypted"]),
        ([*k, "--public-key", keys["pub2"], *sel], [keys["pub2"], "not the public key of", keys["key"]]),
        (["--policy-digest-only", "--public-key", keys["garbage_pub"], *sel],
         [keys["garbage_pub"], "not a PEM public key"]),
        (["--policy-digest-only", "--public-key", keys["garbage"], *sel], [keys["garbage"], "is a private key"]),
        (["--signature", short_sig, "--public-key", keys["pub"], *inputs], ["--signature", "--bank", "--phase"]),
        (["--signature", short_sig, "--public-key", keys["pub"], *sel], [short_sig, "255 bytes", "256"]),
        (["--signature", garbage_sig, "--public-key", keys["pub"], *sel], [garbage_sig, "not a valid signature"]),
        (["--signature", other_sig, "--public-key", keys["pub"], *sel], [other_sig, "not a valid signature"]),
        (["--signature", tmp_path / "none.sig", "--public-key", keys["pub"], *sel], [tmp_path / "none.sig"]),
        (["--signature", short_sig, *sel], ["--signature", "--public-key"]),
        ([*k, *sel, "--append", malformed], [malformed, "lacks"]),
        ([*k, *sel, "--append", not_json], [not_json, "not a valid PCR signature file"]),
        ([*k, *sel, "--append", short_pol], [short_pol, 'sha256[0]: "pol" has 2 characters', "64 hex digits"]),
        ([*k, *sel, "--append", long_pkfp], [long_pkfp, 'sha256[1]: "pkfp" has 65 characters', "64 hex digits"]),
        ([*k, *sel, "--append", bad_hex_pol], [bad_hex_pol, 'sha256[0]: "pol" has characters that are not hex']),
        ([*k, *sel, "--append", tmp_path / "absent.json"], [tmp_path / "absent.json", "No such file"]),
        ([*k, *sel, "--append", not_utf8], [not_utf8, "invalid JSON: invalid UTF-8 in a string (at byte 189)"]),
        ([*k, *sel, "--append", escaped_nul], [escaped_nul, "\\u0000 in a string", "(at byte 189)"]),
        ([*k, *sel, "--append", ref_number], [ref_number, 'sha256[0]: "ref" must be a string', "(at byte 190)"]),
        ([*k, *inputs, "--pcrs", "24"], ["--pcrs", "'24'"]),
        ([*k, *inputs, "--pcrs", "x"], ["--pcrs", "'x'"]),
        ([*k, *inputs, "--pcrs", "10"], ["--pcrs", "PCR 10", "cannot be predicted"]),
        ([*k, *inputs, "--pcrs", "11,,13"], ["--pcrs", "11,,13"]),
        ([*k, *inputs, "--pcrs", ""], ["--pcrs"]),
        ([*k, *inputs[2:], "--pcrs", "11,13"], ["PCR 11 needs --uki"]),
        ([*k, "--pcrs", "13"], ["PCR 13 needs", "--extra-dir", "--uki"]),
        ([*k, *inputs[2:], "--pcrs", "12"], ["PCR 12 needs --uki"]),
        ([*k, *inputs, "--pcrs", "13", "--phase", "ready"], ["--phase", "PCR 11"]),
        ([*k, *inputs, "--scheme", "systemd", "--pcrs", "9"], ["PCR 9"]),
        ([*inputs], ["--private-key"]),
        ([*k, *inputs, "--bank", "md5"], ["--bank", "md5"]),
        ([*k, *inputs, "stray"], ["stray"]),
        (["--policy-digest-only", *sel, "--append", malformed], ["--policy-digest-only", "--append"]),
        ([*k, *inputs, "--uki", tmp_path / "no.efi"], [tmp_path / "no.efi"]),
    ]
    for args, words in cases:
        r = sign(*args, "--output", out, check=False)
        assert_failed(r, *words)
        assert os.listdir(out.parent) == [], (args, os.listdir(out.parent))

    # An existing output stays as it was; --verify's input errors exit 2 as well.
    out.write_text("previous\n")
    assert_failed(sign(*k, *sel, "--append", malformed, "--output", out, check=False), malformed)
    assert out.read_text() == "previous\n" and os.listdir(out.parent) == ["sig.json"]
    for args, words in [
        (["--verify", malformed, "--public-key", keys["pub"], *sel], [malformed, 'sha256[0] lacks "pkfp"']),
        (["--verify", short_pol, "--public-key", keys["pub"], *sel],
         [short_pol, 'sha256[0]: "pol" has 2 characters; it must be 64 hex digits', "(at byte "]),
        (["--verify", long_pkfp, "--public-key", keys["pub"], *sel],
         [long_pkfp, 'sha256[1]: "pkfp" has 65 characters; it must be 64 hex digits']),
        (["--verify", not_json, "--public-key", keys["pub"], *sel], [not_json, "it ends early"]),
        (["--verify", tmp_path / "absent.json", "--public-key", keys["pub"], *sel], [tmp_path / "absent.json"]),
        (["--verify", malformed, *sel], ["--verify", "--public-key"]),
        (["--verify", malformed, "--public-key", keys["pub"], "--output", out, *sel], ["--verify", "--output"]),
    ]:
        assert_failed(sign(*args, check=False), *words)


def test_help():
    r = sign("--help")
    for opt in ("--private-key", "--public-key", "--pcrs", "--append", "--policy-digest-only", "--signature",
                "--verify", "--uki", "--extra-dir", "--phase", "--bank", "--scheme"):
        assert opt in r.stdout
    assert "sign" in cli("--help").stdout


# --------------------------------------------------------------------------
# No copy of a private key left in heap memory
# --------------------------------------------------------------------------

def key_numbers(key, *fields):
    """The named numbers of `openssl pkey -text` (big-endian bytes), e.g. privateExponent."""
    text = openssl("pkey", "-in", key, "-text", "-noout").decode()
    out = []
    for f in fields:
        m = re.search(rf"^{re.escape(f)}:\s*\n((?:[ \t]+[0-9a-f:]+\n)+)", text, re.M)
        assert m, f"no {f} in the text of {key}"
        out.append(bytes.fromhex(re.sub(r"[\s:]", "", m.group(1))).lstrip(b"\0"))
    return out


def secret_patterns(key, *fields):
    """Slices of the key's secret numbers as DER has them (big-endian) and as a BIGNUM does (little-endian),
    and of the base64 text of the file."""
    pats = []
    for n in key_numbers(key, *fields):
        assert len(n) >= 16
        mid, half = len(n) // 2, min(16, len(n) // 2)
        pats += [n[mid - half:mid + half], n[::-1][mid - half:mid + half]]
    body = [ln for ln in Path(key).read_text().splitlines() if ln and not ln.startswith("-----")]
    pats.append(body[len(body) // 2][8:40].encode())
    return pats


def plain_cli():
    """build/sysext-stub, whichever CLI the suite tests: the allocator shim must come first in the process, and
    an ASan build insists on being first itself, so these tests always run the plain build (make cli-asan-check
    runs them on it too, never skips them)."""
    plain = ROOT / "build" / "sysext-stub"
    assert plain.exists(), f"{plain} is missing: make all"
    assert b"__asan_init" not in plain.read_bytes(), f"{plain} must be the plain build, not an ASan one"
    return plain


def scanned(tmp_path, patterns, cmd):
    """Run @cmd under the secret-scan shim: (result, the shim's hits)."""
    assert SECRET_SCAN.exists(), f"{SECRET_SCAN} is missing: make {SECRET_SCAN.relative_to(ROOT)}"
    report = tmp_path / f"scan-{len(list(tmp_path.glob('scan-*')))}.txt"
    env = dict(os.environ, LD_PRELOAD=str(SECRET_SCAN), SECRET_SCAN_REPORT=str(report),
               SECRET_SCAN_PATTERNS=",".join(p.hex() for p in patterns))
    r = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True)
    lines = report.read_text().splitlines()
    # The shim saw the process through: its closing line, after many frees.
    assert lines and lines[-1].startswith("done frees="), lines
    assert int(lines[-1].split()[1].split("=")[1]) > 0, lines[-1]
    return r, lines[:-1]


def test_secret_scan_shim_finds_a_secret(tmp_path):
    """The control: a secret in freed blocks (small, large, mmap'ed), a reallocated and a leaked block is found."""
    secret = os.urandom(32)
    prog = ("import ctypes, sys\n"
            "libc = ctypes.CDLL(None)\n"
            "libc.malloc.restype = libc.realloc.restype = ctypes.c_void_p\n"
            "libc.free.argtypes = [ctypes.c_void_p]\n"
            "libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]\n"
            "s = bytes.fromhex(sys.argv[1])\n"
            "for size in (100, 5000, 300000):\n"
            "    p = libc.malloc(size); ctypes.memmove(p + size - 40, s, 32); libc.free(p)\n"
            "p = libc.malloc(64); ctypes.memmove(p + 1, s, 32); libc.realloc(p, 1 << 20)\n"
            "p = libc.malloc(64); ctypes.memmove(p, s, 32)\n")
    r, hits = scanned(tmp_path, [secret[::-1], secret], [sys.executable, "-c", prog, secret.hex()])
    assert r.returncode == 0, r.stderr
    # (the reallocated block, moved or not, is still allocated at exit: a second hit)
    assert [h.split()[1:3] for h in hits] == [["free", "pattern=1"]] * 3 + [["realloc", "pattern=1"]] + \
        [["exit", "pattern=1"]] * 2, hits


def test_no_private_key_copy_is_left_in_memory(tmp_path, keys):
    """Every block freed, and every block left at exit, is searched for the key's secret numbers."""
    ext = write_set(tmp_path / "ext", {"a.sysext.raw": b"a"})
    sel = ["--pcrs", "13", "--extra-dir", ext]
    rsa = secret_patterns(keys["key"], "privateExponent", "prime1")
    sig = tmp_path / "sig.json"
    cases = [
        # signing, PKCS#8 and PKCS#1, with and without --public-key
        (rsa, 0, ["--private-key", keys["key"], *sel, "--output", sig]),
        (rsa, 0, ["--private-key", keys["pkcs1"], "--public-key", keys["pub"], *sel]),
        (rsa, 0, ["--verify", sig, "--private-key", keys["key"], *sel]),
        (rsa, 2, ["--private-key", keys["key"], "--public-key", keys["pub2"], *sel]),
        (rsa, 2, ["--private-key", keys["truncated"], *sel]),
        # the private key where the public key belongs: refused from its label
        (rsa, 2, ["--policy-digest-only", "--public-key", keys["key"], *sel]),
        (rsa, 2, ["--verify", sig, "--public-key", keys["key"], *sel]),
        (rsa, 2, ["--verify", sig, "--public-key", keys["pkcs1"], *sel]),
        # refused for their type or size
        (secret_patterns(keys["ec"], "priv"), 2, ["--private-key", keys["ec"], *sel]),
        (secret_patterns(keys["ec"], "priv"), 2, ["--private-key", keys["ec_trad"], *sel]),
        (secret_patterns(keys["rsa_pss"], "privateExponent"), 2, ["--private-key", keys["rsa_pss"], *sel]),
        (secret_patterns(keys["rsa4160"], "privateExponent", "prime1"), 2,
         ["--private-key", keys["rsa4160"], *sel]),
        (secret_patterns(keys["dsa"], "priv"), 2, ["--private-key", keys["dsa"], *sel]),
        (secret_patterns(keys["dsa"], "priv")[:2], 2, ["--private-key", keys["dsa_trad"], *sel]),
        (secret_patterns(keys["dh"], "private-key"), 2, ["--private-key", keys["dh"], *sel]),
        (secret_patterns(keys["x25519"], "priv"), 2, ["--private-key", keys["x25519"], *sel]),
        (secret_patterns(keys["sm2"], "priv"), 2, ["--private-key", keys["sm2"], *sel]),
    ]
    failed = []
    for patterns, status, args in cases:
        r, hits = scanned(tmp_path, patterns, [plain_cli(), "sign", *args])
        if r.returncode != status or hits:
            failed.append((" ".join(map(str, args)), r.returncode, r.stderr, hits[:3]))
    assert failed == [], "\n".join(map(str, failed))


def test_build_refuses_a_private_key_as_pcrpkey_and_keeps_no_copy(tmp_path, keys):
    """`build --pcrpkey` with the private key by mistake: refused from its PEM label, one line, no UKI, and
    no copy of the key's numbers or text left in memory."""
    kernel = tmp_path / "kernel.efi"
    shutil.copy(STUB, kernel)
    rsa = secret_patterns(keys["key"], "privateExponent", "prime1")
    for key in (keys["key"], keys["pkcs1"]):
        out = tmp_path / "uki.efi"
        r, hits = scanned(tmp_path, rsa, [plain_cli(), "build", "--stub", STUB, "--linux", kernel, "--pcrpkey",
                                          key, "--output", out])
        assert r.returncode == 1 and r.stdout == "", (r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and str(key) in lines[0] and "is a private key" in lines[0], r.stderr
        assert hits == [], hits
        assert not out.exists()
    # The public key is still taken.
    cli("build", "--stub", STUB, "--linux", kernel, "--pcrpkey", keys["pub"], "--output", tmp_path / "ok.efi")


def test_key_types_and_forms_are_named(tmp_path, keys):
    ext = write_set(tmp_path / "ext", {"a.sysext.raw": b"a"})
    sel = ["--pcrs", "13", "--extra-dir", ext]
    for name, phrase in [("dsa", "is a DSA key"), ("dsa_trad", "is a DSA key"), ("dh", "is a DH key"),
                         ("x25519", "is an X25519 key"), ("x448", "is an X448 key"), ("sm2", "is an SM2 key"),
                         ("rsa_pss", "is an RSA-PSS-only key"), ("ec_trad", "is an EC key")]:
        assert_failed(sign("--private-key", keys[name], *sel, check=False), keys[name], phrase,
                      "RSA signatures only")
        if f"{name}_pub" in keys:
            pub = keys[f"{name}_pub"]
            assert_failed(sign("--policy-digest-only", "--public-key", pub, *sel, check=False), pub, phrase,
                          "RSA signatures only")
    assert_failed(sign("--private-key", keys["rsa4160"], *sel, check=False), keys["rsa4160"],
                  "4160-bit", "at most 4096 bits")
    assert_failed(sign("--private-key", keys["pkcs1_encrypted"], *sel, check=False),
                  keys["pkcs1_encrypted"], "encrypted", "--policy-digest-only")
    assert_failed(sign("--private-key", keys["truncated"], *sel, check=False), keys["truncated"],
                  "not a PEM private key", "RSAPrivateKey")
    for key in (keys["key"], keys["pkcs1"], keys["ec_trad"]):
        assert_failed(sign("--policy-digest-only", "--public-key", key, *sel, check=False), key,
                      "is a private key", "not a public key", "-pubout")


# --------------------------------------------------------------------------
# systemd-measure 252 (its sign verb needs a TPM: swtpm)
# --------------------------------------------------------------------------

@pytest.fixture
def swtpm_socket(tmp_path):
    assert shutil.which("swtpm"), "swtpm is missing: install swtpm (scripts/install-deps.sh)"
    state = tmp_path / "tpm"
    state.mkdir()
    sock = tmp_path / "swtpm.sock"
    proc = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                             "--server", f"type=unixio,path={sock}", "--ctrl", f"type=unixio,path={sock}.ctrl",
                             "--flags", "not-need-init,startup-clear"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if sock.exists():
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        assert sock.exists(), "swtpm did not create its socket"
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_pcr11_signatures_equal_systemd_measure_252(tmp_path, keys, swtpm_socket):
    # Both installed by scripts/install-deps.sh: missing, the differential fails, never skips.
    assert SYSTEMD_MEASURE.exists(), f"{SYSTEMD_MEASURE} is missing: install systemd (scripts/install-deps.sh)"
    kernel = tmp_path / "kernel.efi"
    shutil.copy(STUB, kernel)
    osrel = tmp_path / "os-release"
    osrel.write_text("ID=debian\n")
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("console=ttyS0 quiet")
    uki = tmp_path / "uki.efi"
    cli("build", "--stub", STUB, "--linux", kernel, "--os-release", f"@{osrel}", "--cmdline", f"@{cmdline}",
        "--pcrpkey", keys["pub"], "--output", uki)
    r = subprocess.run([str(SYSTEMD_MEASURE), "sign", f"--linux={kernel}", f"--osrel={osrel}",
                        f"--cmdline={cmdline}", f"--pcrpkey={keys['pub']}", "--bank=sha256",
                        f"--private-key={keys['key']}", f"--public-key={keys['pub']}",
                        f"--tpm2-device=swtpm:path={swtpm_socket}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    theirs = r.stdout
    ours = sign("--private-key", keys["key"], "--uki", uki, "--pcrs", "11", "--bank", "sha256",
                "--systemd-version", "252").stdout
    assert len(json.loads(ours)["sha256"]) == 4
    assert ours == theirs
