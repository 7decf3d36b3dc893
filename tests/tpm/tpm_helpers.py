"""Shared pieces of the signed-PCR-policy tests (tests/tpm/).

Independent models (hashlib, struct and the openssl CLI, never the
project's C code) of what systemd computes for signed PCR policies
(../shared/docs/reference-systemd-stub.md §4.3, §4.5), an swtpm that each
test starts in a short temporary directory, and wrappers for the CLI and
for build/test/tpm-policy-tool.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "build" / "sysext-stub"
STUB = ROOT / "build" / "sysext-stub-x64.efi"
TOOL = ROOT / "build" / "test" / "tpm-policy-tool"
DEVICE_SHIM = ROOT / "build" / "test" / "libtpm2-device-from-env.so"

TPM_CC_POLICY_PCR = 0x17F
TPM_CC_POLICY_AUTHORIZE = 0x16A
TPM_ALG = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}


def require(*needed):
    """Fail (never skip) when a program or build output the test needs is missing."""
    for p in needed:
        found = Path(p).is_file() if Path(p).is_absolute() else shutil.which(p)
        if not found:
            pytest.fail(f"{p} is missing (scripts/install-deps.sh installs it; "
                        f"`make tpm-check` builds the project's own)")


def run(args, check=True, binary_stdout=False, **kw):
    """Run a program; stderr as text, stdout as text or (binary_stdout) bytes."""
    r = subprocess.run([str(a) for a in args], capture_output=True, **kw)
    r.stderr = r.stderr.decode(errors="replace")
    if not binary_stdout:
        r.stdout = r.stdout.decode(errors="replace")
    if check:
        assert r.returncode == 0, f"{' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}"
    return r


# --------------------------------------------------------------------------
# Independent models
# --------------------------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).digest()


def pcr_selection(bank, pcrs):
    """TPML_PCR_SELECTION with one bank: count, hash, sizeofSelect 3, bitmap (PCR n = bit n%8 of byte n/8)."""
    bitmap = bytearray(3)
    for p in pcrs:
        bitmap[p // 8] |= 1 << (p % 8)
    return struct.pack(">IHB", 1, TPM_ALG[bank], 3) + bytes(bitmap)


def policy_pcr(bank, pcrs, values):
    """TPM2_PolicyPCR on a fresh session: values = {pcr: bytes}, concatenated in ascending PCR order."""
    pcrs = sorted(pcrs)
    concat = b"".join(values[p] for p in pcrs)
    return sha256(bytes(32) + struct.pack(">I", TPM_CC_POLICY_PCR) + pcr_selection(bank, pcrs) + sha256(concat))


def rsa_public_numbers(pub_pem):
    """(modulus bytes, exponent) read by the openssl CLI."""
    text = run(["openssl", "rsa", "-pubin", "-in", pub_pem, "-noout", "-text"]).stdout
    modulus = run(["openssl", "rsa", "-pubin", "-in", pub_pem, "-noout", "-modulus"]).stdout
    n = bytes.fromhex(modulus.strip().split("=", 1)[1])
    exp_line = next(line for line in text.splitlines() if line.startswith("Exponent:"))
    e = int(exp_line.split()[1])
    return n, e


def tpm_key_name(pub_pem):
    """000B ‖ SHA-256(TPMT_PUBLIC) as systemd builds it for LoadExternal (reference §4.5)."""
    n, e = rsa_public_numbers(pub_pem)
    tpmt_public = struct.pack(">HHI", 0x0001, 0x000B, 0x00060040)  # RSA, SHA-256, DECRYPT|SIGN_ENCRYPT|USERWITHAUTH
    tpmt_public += struct.pack(">H", 0)                              # empty authPolicy
    tpmt_public += struct.pack(">HHHI", 0x0010, 0x0010, len(n) * 8, e)  # symmetric NULL, scheme NULL, keyBits, exponent
    tpmt_public += struct.pack(">H", len(n)) + n                     # unique: the modulus
    return struct.pack(">H", 0x000B) + sha256(tpmt_public)


def policy_authorize(pub_pem):
    """PolicyAuthorize(keyName) with an empty policyRef on a fresh session: what cryptenroll seals under."""
    d1 = sha256(bytes(32) + struct.pack(">I", TPM_CC_POLICY_AUTHORIZE) + tpm_key_name(pub_pem))
    return sha256(d1)


def pkfp(pub_pem):
    """SHA-256 of the PKCS#1 RSAPublicKey DER."""
    der = subprocess.run(["openssl", "rsa", "-pubin", "-in", str(pub_pem), "-RSAPublicKey_out", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def openssl_verifies(pub_pem, pol, sig, tmp):
    """RSASSA-PKCS1-v1_5 with SHA-256 over the 32 pol bytes, checked by the openssl CLI."""
    (tmp / "pol.bin").write_bytes(pol)
    (tmp / "sig.bin").write_bytes(sig)
    r = run(["openssl", "dgst", "-sha256", "-verify", pub_pem, "-signature", tmp / "sig.bin", tmp / "pol.bin"],
            check=False)
    return r.returncode == 0


def make_rsa_key(directory, name):
    key = directory / f"{name}.key.pem"
    pub = directory / f"{name}.pub.pem"
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
    run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub])
    return key, pub


# --------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------

def predict(uki, extra_dir, phase="enter-initrd", bank="sha256"):
    """`sysext-stub predict --json` for PCRs 11 and 13: {pcr: {"hash": bytes, "events": [bytes...]}}."""
    r = run([CLI, "predict", "--json", "--uki", uki, "--extra-dir", extra_dir, "--phase", phase,
             "--bank", bank, "--pcr", "11", "--pcr", "13"])
    out = {}
    for e in json.loads(r.stdout)[bank]:
        assert e["pcr"] not in out, f"two entries for PCR {e['pcr']}: {r.stdout}"
        out[e["pcr"]] = {"hash": bytes.fromhex(e["hash"]), "phase": e.get("phase"),
                         "events": [bytes.fromhex(ev["digest"]) for ev in e["events"]]}
    return out


def sign(key, uki, extra_dir, output, pcrs="11,13", phase="enter-initrd", bank="sha256", public_key=None):
    args = [CLI, "sign", "--private-key", key, "--pcrs", pcrs, "--uki", uki, "--extra-dir", extra_dir,
            "--phase", phase, "--bank", bank, "--output", output]
    if public_key:
        args += ["--public-key", public_key]
    run(args)
    return json.loads(Path(output).read_text())


# --------------------------------------------------------------------------
# swtpm and the tool
# --------------------------------------------------------------------------

class Swtpm:
    """swtpm on a unix socket; state in a short directory (socket paths are limited to 108 bytes).

    reboot() restarts it on the same state: the seeds stay (a blob sealed
    before still loads), the PCRs start from zero again (TPM2_Startup(CLEAR)).
    """

    def __init__(self):
        require("swtpm")
        self.dir = Path(tempfile.mkdtemp(prefix="tpm.", dir="/tmp"))
        self.sock = self.dir / "s"
        self.proc = None
        self.start()

    @property
    def tcti(self):
        # tpm2-tss 3.2's swtpm TCTI takes path= (its control socket is <path>.ctrl); systemd passes the part
        # after "swtpm:" to it unchanged.
        return f"swtpm:path={self.sock}"

    def start(self):
        self.log = open(self.dir / "swtpm.log", "ab")
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.dir}",
             "--server", f"type=unixio,path={self.sock}", "--ctrl", f"type=unixio,path={self.sock}.ctrl",
             "--flags", "not-need-init,startup-clear"],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while not (self.sock.exists() and Path(f"{self.sock}.ctrl").exists()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"swtpm did not start: {(self.dir / 'swtpm.log').read_text(errors='replace')}")
            time.sleep(0.01)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()
        for s in (self.sock, Path(f"{self.sock}.ctrl")):
            s.unlink(missing_ok=True)

    def reboot(self):
        self.stop()
        self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tool(self, command, *args, check=True, binary_stdout=False):
        return run([TOOL, command, "--tcti", self.tcti, *args], check=check, binary_stdout=binary_stdout)

    def pcrs(self, bank="sha256", pcrs=(11, 13)):
        out = self.tool("pcrread", "--pcrs", ",".join(map(str, pcrs)), "--bank", bank).stdout
        values = {int(p): bytes.fromhex(v) for p, v in (line.split() for line in out.splitlines())}
        assert sorted(values) == sorted(pcrs), out
        return values

    def boot(self, prediction, bank="sha256"):
        """Extend exactly the predicted events (stub measurements + the phase word), then check the PCRs."""
        for pcr in sorted(prediction):
            args = []
            for digest in prediction[pcr]["events"]:
                args += ["--digest", digest.hex()]
            self.tool("extend", "--pcr", str(pcr), "--bank", bank, *args)
        values = self.pcrs(bank, tuple(sorted(prediction)))
        for pcr, p in prediction.items():
            assert values[pcr] == p["hash"], f"PCR {pcr}: the TPM has {values[pcr].hex()}, predict said {p['hash'].hex()}"
        return values

    def seal(self, pub, secret_file, blob):
        return bytes.fromhex(self.tool("seal", "--public-key", pub, "--secret-file", secret_file,
                                       "--out", blob).stdout.strip())

    def unseal(self, blob, pub, signature, *extra, pcrs="11,13", bank="sha256"):
        """The secret is stdout, as bytes."""
        return self.tool("unseal", "--blob", blob, "--public-key", pub, "--signature", signature,
                         "--pcrs", pcrs, "--bank", bank, *extra, check=False, binary_stdout=True)

    def live_pcr_policy(self, pcrs="11,13", bank="sha256"):
        return bytes.fromhex(self.tool("pcr-policy", "--pcrs", pcrs, "--bank", bank).stdout.strip())


def assert_policy_failure(r, *words):
    """unseal exits 1 (policy failure, not a crash or a usage error), prints no secret, says why."""
    assert r.returncode == 1, f"expected a policy failure (exit 1), got {r.returncode}:\n{r.stderr}"
    assert not r.stdout, "no secret may be printed"
    assert "policy failure" in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, f"{w!r} not in: {r.stderr}"


def b64(data):
    return base64.b64encode(data).decode()
