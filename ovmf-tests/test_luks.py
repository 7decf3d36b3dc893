"""A real LUKS unlock with a signed PCR policy (issue 5), in the guest.

A LUKS2 volume on a second virtual disk is enrolled on the host with
Debian's systemd-cryptenroll (252) against the same swtpm the guest boots
with: a systemd-tpm2 token bound to our public key and PCRs 11+13. The
guest's initrd carries Debian's cryptsetup, the systemd-tpm2 token plugin
and systemd-pcrphase, and runs what a systemd initrd runs before
cryptsetup.target: systemd-pcrphase extends PCR 11 with "enter-initrd",
then the token unlocks (`cryptsetup open --token-only --test-passphrase`)
with the signature the stub handed over. Three boots:

1. the approved sysexts, signature in the UKI's .pcrsig -> unlocks;
2. one byte of one sysext changed -> does not unlock;
3. the sysext upgraded and its new signature dropped on the ESP as
   *.pcrsig.json, UKI unchanged -> unlocks again.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import harness
from test_boot import CLI, STUB, tail

LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
GUEST_PROGRAMS = [
    Path("/sbin/cryptsetup"),
    Path("/lib/systemd/systemd-pcrphase"),
    # dlopen()ed, so ldd of the programs does not find them:
    # libcryptsetup looks for token plugins under /lib (a link to /usr/lib on the host).
    Path("/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so"),
    LIBDIR / "libtss2-esys.so.0", LIBDIR / "libtss2-rc.so.0", LIBDIR / "libtss2-mu.so.0",
    LIBDIR / "libtss2-tcti-device.so.0",
]

HOOK = r"""#!/bin/sh
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu/systemd
mkdir -p /run/systemd /run/cryptsetup /var/tmp
# systemd 252's cryptsetup looks for the signature in /run/systemd (and /etc/systemd ...), not in
# /.extra (v254+ does); in a systemd initrd the stub's tmpfiles fragment copies it there.
[ -f /.extra/tpm2-pcr-signature.json ] && cp /.extra/tpm2-pcr-signature.json /run/systemd/
# What systemd-pcrphase-initrd.service does before cryptsetup-pre.target.
/lib/systemd/systemd-pcrphase enter-initrd
echo "note pcrphase $?"
n=0
while [ ! -b /dev/vdb ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
cryptsetup --debug open --token-only --test-passphrase /dev/vdb >/tmp/cryptsetup.log 2>&1
echo "note luks-unlock $?"
cat /tmp/cryptsetup.log
"""

BANKS = "sha1,sha256,sha384"


def run(cmd, **kwargs):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kwargs)


class HostTpm:
    """swtpm serving a state directory on a Unix socket, for tools on the host (cryptenroll)."""

    def __init__(self, state: Path):
        self.sock = state / "s.sock"
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
             "--server", f"type=unixio,path={self.sock}", "--ctrl", f"type=unixio,path={self.sock}.ctrl",
             "--flags", "startup-clear"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not (self.sock.exists() and Path(f"{self.sock}.ctrl").exists()):
            assert self.proc.poll() is None and time.monotonic() < deadline, "swtpm did not start"
            time.sleep(0.05)

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.sock}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def setup(kernel, tmp_path_factory):
    """Keys, a UKI around our stub, sysexts v1 and v2, and a LUKS2 image enrolled on a swtpm state."""
    base = tmp_path_factory.mktemp("luks")
    key, pub = base / "key.pem", base / "pub.pem"
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
    run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub])

    initrd = base / "initrd.cpio"
    harness.build_initrd(initrd, kernel, modules=("efivarfs", "virtio_blk", "virtio_pci"), hook=HOOK,
                         host_programs=GUEST_PROGRAMS)
    common = ["build", "--stub", STUB, "--linux", kernel.vmlinuz, "--initrd", initrd,
              "--cmdline", "console=ttyS0 panic=-1", "--os-release", "ID=debian\n", "--pcrpkey", pub]
    unsigned = base / "unsigned.efi"
    run([CLI, *common, "--output", unsigned])

    v1 = base / "v1"
    v1.mkdir()
    (v1 / "k3s.sysext.raw").write_bytes(os.urandom(200_000))
    (v1 / "tools.sysext.raw").write_bytes(os.urandom(50_000))
    v2 = base / "v2"
    v2.mkdir()
    (v2 / "k3s.sysext.raw").write_bytes(os.urandom(210_000))
    (v2 / "tools.sysext.raw").write_bytes((v1 / "tools.sysext.raw").read_bytes())

    def sign(extra_dir: Path, out: Path) -> Path:
        # The root volume unlocks in the initrd, after enter-initrd (reference §4.2, §4.6).
        run([CLI, "sign", "--private-key", key, "--pcrs", "11,13", "--uki", unsigned, "--extra-dir", extra_dir,
             "--phase", "enter-initrd", "--output", out])
        return out

    sig_v1 = sign(v1, base / "v1.pcrsig.json")
    sig_v2 = sign(v2, base / "v2.pcrsig.json")
    # .pcrsig is not measured, so embedding it leaves PCR 11 as signed.
    uki = base / "uki.efi"
    run([CLI, *common, "--pcrsig", sig_v1, "--output", uki])

    tpm_state = harness.make_tpm_state(base / "tpm", BANKS)
    image, keyfile = base / "luks.img", base / "luks.key"
    keyfile.write_bytes(os.urandom(32))
    keyfile.chmod(0o600)
    with open(image, "wb") as f:
        f.truncate(20 << 20)
    run(["cryptsetup", "luksFormat", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
         "--batch-mode", "--key-file", keyfile, image])
    host_tpm = HostTpm(tpm_state)
    try:
        run(["systemd-cryptenroll", f"--unlock-key-file={keyfile}", f"--tpm2-device={host_tpm.tcti}",
             f"--tpm2-public-key={pub}", "--tpm2-public-key-pcrs=11+13", "--tpm2-pcrs=", image])
    finally:
        host_tpm.stop()
    token = json.loads(run(["cryptsetup", "token", "export", "--token-id", "0", image]).stdout)
    assert token["type"] == "systemd-tpm2" and token["tpm2_pubkey_pcrs"] == [11, 13], token
    return dict(base=base, uki=uki, v1=v1, v2=v2, sig_v2=sig_v2, image=image, tpm_state=tpm_state,
                bank=token["tpm2-pcr-bank"])


def boot_with(setup, workdir: Path, sysexts: dict[str, bytes], esp_signatures: dict[str, bytes]):
    d = "EFI/BOOT/BOOTX64.EFI.extra.d"
    files = {"EFI/BOOT/BOOTX64.EFI": str(setup["uki"])}
    files.update({f"{d}/{n}": data for n, data in sysexts.items()})
    files.update({f"{d}/{n}": data for n, data in esp_signatures.items()})
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, tpm_banks=BANKS, tpm_state=setup["tpm_state"],
                          extra_drives=[setup["image"]])
    assert result.reason == "poweroff" and result.facts.complete, tail(result)
    assert result.facts.notes.get("pcrphase") == "0", (result.facts.notes, tail(result))
    return result


def read_set(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_approved_sysexts_unlock(setup, workdir):
    result = boot_with(setup, workdir, read_set(setup["v1"]), {})
    assert setup["bank"] == "sha256", setup["bank"]
    assert result.facts.notes.get("luks-unlock") == "0", (result.facts.notes, tail(result, 80))
    assert "Token handler systemd-tpm2" in result.log and "Key slot 1 unlocked." in result.log, tail(result, 80)


def test_tampered_sysext_does_not_unlock(setup, workdir):
    files = read_set(setup["v1"])
    k3s = bytearray(files["k3s.sysext.raw"])
    k3s[len(k3s) // 2] ^= 0x01
    files["k3s.sysext.raw"] = bytes(k3s)
    result = boot_with(setup, workdir, files, {})
    # The signature is there (the stub handed it over), but no entry approves this PCR 13.
    assert "/.extra/tpm2-pcr-signature.json" in result.facts.extra_by_path()
    assert result.facts.notes.get("luks-unlock") not in (None, "0"), (result.facts.notes, tail(result, 80))
    # It failed for the right reason: systemd's plugin found no entry whose pol equals the live PolicyPCR digest.
    assert "No matching TPM2 token data found" in result.log, tail(result, 80)


def test_upgraded_sysext_with_new_signature_on_the_esp_unlocks(setup, workdir):
    result = boot_with(setup, workdir, read_set(setup["v2"]),
                       {"k3s-v2.pcrsig.json": setup["sig_v2"].read_bytes()})
    assert "PCR signatures:" in result.log and "signature file(s) and .pcrsig" in result.log, tail(result)
    assert result.facts.notes.get("luks-unlock") == "0", (result.facts.notes, tail(result, 80))
    assert "Key slot 1 unlocked." in result.log, tail(result, 80)
