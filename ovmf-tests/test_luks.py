"""A real LUKS unlock with a signed PCR policy (issue 5), in the guest.

Two LUKS2 volumes on extra virtual disks are enrolled on the host with
Debian's systemd-cryptenroll (252) against the same swtpm the guest boots
with: systemd-tpm2 tokens bound to PCRs 11+13 and a public key each.
Volume A trusts key A, whose signatures are shipped only on the ESP
(`*.pcrsig.json`); volume B trusts key B, whose one signature (for the v1
sysexts) is the UKI's own .pcrsig. The guest's initrd carries Debian's
cryptsetup, the systemd-tpm2 token plugin and systemd-pcrphase, and runs
what a systemd initrd runs before cryptsetup.target: systemd-pcrphase
extends PCR 11 with "enter-initrd", then each token unlocks (`cryptsetup
open --token-only --test-passphrase`) with the one signature file the stub
handed over. systemd 252's plugin takes only entries whose `pkfp` is its
token's key, so each volume shows which source of signatures reached the
initrd. Three boots, one UKI:

1. the approved v1 sysexts, key A's v1 signature in the UKI's .extra.d ->
   A unlocks (its only signature came from the ESP) and B unlocks (the
   .pcrsig survived the merge with the ESP file);
2. one byte of one sysext changed, same signature -> neither unlocks;
3. the sysext upgraded to v2, key A's v2 signature in \\loader\\extensions\\,
   the v1 file left where it was, UKI unchanged -> A unlocks again; B does
   not (.pcrsig approves only v1).
"""
from __future__ import annotations

import json
import os
import subprocess
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
while { [ ! -b /dev/vdb ] || [ ! -b /dev/vdc ]; } && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
for v in a:vdb b:vdc; do
    cryptsetup --debug open --token-only --test-passphrase /dev/${v#*:} >/tmp/cryptsetup.log 2>&1
    echo "note luks-${v%%:*} $?"
    echo "==luks-${v%%:*}-log"
    cat /tmp/cryptsetup.log
    echo "==luks-${v%%:*}-end"
done
"""

BANKS = "sha1,sha256,sha384"


def run(cmd, **kwargs):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kwargs)


def make_key(base: Path, name: str) -> tuple[Path, Path]:
    key, pub = base / f"{name}.pem", base / f"{name}.pub.pem"
    run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key])
    run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub])
    return key, pub


def make_volume(base: Path, name: str, host_tpm: harness.HostTpm, pub: Path) -> tuple[Path, str]:
    """A LUKS2 image with a systemd-tpm2 token for `pub` and PCRs 11+13; returns (image, token bank)."""
    image, keyfile = base / f"{name}.img", base / f"{name}.key"
    keyfile.write_bytes(os.urandom(32))
    keyfile.chmod(0o600)
    with open(image, "wb") as f:
        f.truncate(20 << 20)
    run(["cryptsetup", "luksFormat", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
         "--batch-mode", "--key-file", keyfile, image])
    run(["systemd-cryptenroll", f"--unlock-key-file={keyfile}", f"--tpm2-device={host_tpm.tcti}",
         f"--tpm2-public-key={pub}", "--tpm2-public-key-pcrs=11+13", "--tpm2-pcrs=", image])
    token = json.loads(run(["cryptsetup", "token", "export", "--token-id", "0", image]).stdout)
    assert token["type"] == "systemd-tpm2" and token["tpm2_pubkey_pcrs"] == [11, 13], token
    return image, token["tpm2-pcr-bank"]


@pytest.fixture(scope="module")
def setup(kernel, tmp_path_factory):
    """Keys A and B, one UKI around our stub (.pcrsig: key B's v1 signature), sysexts v1 and v2,
    key A's signature files for both, and two LUKS2 images enrolled on one swtpm state."""
    base = tmp_path_factory.mktemp("luks")
    key_a, pub_a = make_key(base, "a")
    key_b, pub_b = make_key(base, "b")

    initrd = base / "initrd.cpio"
    harness.build_initrd(initrd, kernel, modules=("efivarfs", "virtio_blk", "virtio_pci"), hook=HOOK,
                         host_programs=GUEST_PROGRAMS)
    common = ["build", "--stub", STUB, "--linux", kernel.vmlinuz, "--initrd", initrd,
              "--cmdline", "console=ttyS0 panic=-1", "--os-release", "ID=debian\n", "--pcrpkey", pub_a]
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

    def sign(key: Path, extra_dir: Path, out: Path) -> Path:
        # The root volume unlocks in the initrd, after enter-initrd (reference §4.2, §4.6).
        run([CLI, "sign", "--private-key", key, "--pcrs", "11,13", "--uki", unsigned, "--extra-dir", extra_dir,
             "--phase", "enter-initrd", "--output", out])
        return out

    sig_a_v1 = sign(key_a, v1, base / "a-v1.pcrsig.json")
    sig_a_v2 = sign(key_a, v2, base / "a-v2.pcrsig.json")
    sig_b_v1 = sign(key_b, v1, base / "b-v1.pcrsig.json")
    # .pcrsig is not measured, so embedding it leaves PCR 11 as signed.
    uki = base / "uki.efi"
    run([CLI, *common, "--pcrsig", sig_b_v1, "--output", uki])

    tpm_state = harness.make_tpm_state(base / "tpm", BANKS)
    host_tpm = harness.HostTpm(tpm_state)
    try:
        image_a, bank_a = make_volume(base, "luks-a", host_tpm, pub_a)
        image_b, bank_b = make_volume(base, "luks-b", host_tpm, pub_b)
    finally:
        host_tpm.stop()
    assert bank_a == bank_b == "sha256", (bank_a, bank_b)
    return dict(base=base, uki=uki, v1=v1, v2=v2, sig_a_v1=sig_a_v1.read_bytes(), sig_a_v2=sig_a_v2.read_bytes(),
                images=[image_a, image_b], tpm_state=tpm_state)


def boot_with(setup, workdir: Path, sysexts: dict[str, bytes], esp_files: dict[str, bytes]):
    """Boot the UKI with `sysexts` in its .extra.d and `esp_files` (ESP path -> bytes) beside it."""
    d = "EFI/BOOT/BOOTX64.EFI.extra.d"
    files = {"EFI/BOOT/BOOTX64.EFI": str(setup["uki"])}
    files.update({f"{d}/{n}": data for n, data in sysexts.items()})
    files.update(esp_files)
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True, tpm_banks=BANKS, tpm_state=setup["tpm_state"],
                          extra_drives=setup["images"])
    assert result.reason == "poweroff" and result.facts.complete, tail(result)
    assert result.facts.notes.get("pcrphase") == "0", (result.facts.notes, tail(result))
    return result


def luks_log(result, volume: str) -> str:
    """cryptsetup's debug output for volume "a" or "b"."""
    log = result.log.replace("\r", "")
    start, end = log.find(f"==luks-{volume}-log\n"), log.find(f"==luks-{volume}-end")
    assert 0 <= start < end, tail(result, 80)
    return log[start:end]


def assert_unlocked(result, volume: str) -> None:
    assert result.facts.notes.get(f"luks-{volume}") == "0", (volume, result.facts.notes, tail(result, 80))
    text = luks_log(result, volume)
    assert "Token handler systemd-tpm2" in text and "Key slot 1 unlocked." in text, text[-3000:]


def assert_locked(result, volume: str) -> None:
    assert result.facts.notes.get(f"luks-{volume}") not in (None, "0"), (volume, result.facts.notes)
    text = luks_log(result, volume)
    # The right reason: the plugin found no entry for its key whose pol equals the live PolicyPCR digest.
    assert "No matching TPM2 token data found" in text and "Key slot 1 unlocked." not in text, text[-3000:]


def read_set(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


SIG_DIR = "EFI/BOOT/BOOTX64.EFI.extra.d"


def test_approved_sysexts_unlock_with_the_signature_on_the_esp(setup, workdir):
    result = boot_with(setup, workdir, read_set(setup["v1"]), {f"{SIG_DIR}/k3s-v1.pcrsig.json": setup["sig_a_v1"]})
    assert "PCR signatures:" in result.log and "from 1 signature file(s) and .pcrsig" in result.log, tail(result)
    assert_unlocked(result, "a")  # key A's only signature was the file on the ESP
    assert_unlocked(result, "b")  # key B's only signature was .pcrsig, merged with that file


def test_tampered_sysext_does_not_unlock(setup, workdir):
    files = read_set(setup["v1"])
    k3s = bytearray(files["k3s.sysext.raw"])
    k3s[len(k3s) // 2] ^= 0x01
    files["k3s.sysext.raw"] = bytes(k3s)
    result = boot_with(setup, workdir, files, {f"{SIG_DIR}/k3s-v1.pcrsig.json": setup["sig_a_v1"]})
    # The signatures are there (the stub handed them over), but no entry approves this PCR 13.
    assert "/.extra/tpm2-pcr-signature.json" in result.facts.extra_by_path()
    assert_locked(result, "a")
    assert_locked(result, "b")


def test_upgraded_sysext_with_new_signature_on_the_esp_unlocks(setup, workdir):
    result = boot_with(setup, workdir, read_set(setup["v2"]),
                       {f"{SIG_DIR}/k3s-v1.pcrsig.json": setup["sig_a_v1"],
                        "loader/extensions/k3s-v2.pcrsig.json": setup["sig_a_v2"]})
    assert "from 2 signature file(s) and .pcrsig" in result.log, tail(result)
    assert_unlocked(result, "a")  # the new signature, from \loader\extensions\, UKI unchanged
    assert_locked(result, "b")    # .pcrsig still approves only v1
