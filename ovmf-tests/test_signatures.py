"""PCR signatures and the public key handed to the initrd (issue 5).

The UKI's .pcrsig, merged with the *.pcrsig.json files beside the
extensions, must reach the initrd as one /.extra/tpm2-pcr-signature.json
(systemd-cryptsetup reads only the first file it finds); .pcrpkey goes to
/.extra/tpm2-pcr-public-key.pem. Neither is measured. The expected merged
document is built here with Python's json module from the rule in
measure/pcrsig.h, not by the project's code.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import harness
from test_boot import CLI, STUB, make_initrd, tail
from test_sysext import expected_events, parse_pcr13_events

BANKS = ("sha1", "sha256", "sha384", "sha512")


def entry(pcrs: list[int], seed: str) -> dict:
    return {"pcrs": pcrs, "pkfp": hashlib.sha256(b"key").hexdigest(),
            "pol": hashlib.sha256(seed.encode()).hexdigest(),
            "sig": __import__("base64").b64encode(hashlib.sha512(seed.encode()).digest()).decode()}


def compact(doc) -> str:
    return json.dumps(doc, separators=(",", ":"))


def expected_merge(fragments: list[dict]) -> bytes:
    """Per bank in fixed order, the entries of every fragment in order; banks without entries left out."""
    parts = []
    for bank in BANKS:
        entries = [compact(e) for f in fragments for e in f.get(bank, [])]
        if entries:
            parts.append(f'"{bank}":[' + ",".join(entries) + "]")
    return ("{" + ",".join(parts) + "}").encode()


def test_signatures_are_merged_and_handed_over_unmeasured(kernel, workdir):
    initrd, _ = make_initrd(workdir, kernel)
    key = workdir / "key.pem"
    pub = workdir / "pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    section = {"sha256": [entry([11], "enter-initrd"), entry([11], "leave-initrd")]}
    pcrsig = workdir / "pcrsig.json"
    pcrsig.write_text(compact(section))
    uki = workdir / "uki.efi"
    subprocess.run([str(CLI), "build", "--stub", str(STUB), "--linux", str(kernel.vmlinuz), "--initrd", str(initrd),
                    "--cmdline", "console=ttyS0 panic=-1", "--pcrsig", str(pcrsig), "--pcrpkey", str(pub),
                    "--output", str(uki)], check=True)

    per_uki_sig = {"sha1": [entry([11, 13], "k3s sha1")], "sha256": [entry([11, 13], "k3s")]}
    later_sig = {"sha256": [entry([13], "later")], "comment": "ignored member"}
    global_sig = {"sha384": [entry([11, 13], "global")]}
    sysext = os.urandom(70_000)
    d = "EFI/BOOT/BOOTX64.EFI.extra.d"
    files = {
        "EFI/BOOT/BOOTX64.EFI": str(uki),
        f"{d}/k3s.sysext.raw": sysext,
        f"{d}/k3s.pcrsig.json": compact(per_uki_sig).encode(),
        f"{d}/z-later.pcrsig.json": compact(later_sig).encode(),
        # A typo in one file must cost only that file.
        f"{d}/broken.pcrsig.json": compact(per_uki_sig).replace('"pcrs":[11,13]', '"pcrs":[11,13,]').encode(),
        f"{d}/empty.pcrsig.json": b"",
        "loader/extensions/g.pcrsig.json": compact(global_sig).encode(),
    }
    esp = workdir / "esp.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)

    got = facts.extra_by_path()
    want_json = expected_merge([section, per_uki_sig, later_sig, global_sig])
    sig = got.get("/.extra/tpm2-pcr-signature.json")
    assert sig is not None, sorted(got)
    assert (sig.mode, sig.size, sig.sha256) == (0o100444, len(want_json), hashlib.sha256(want_json).hexdigest()), \
        (sig, want_json)
    pem = pub.read_bytes()
    pk = got.get("/.extra/tpm2-pcr-public-key.pem")
    assert pk is not None and (pk.mode, pk.size, pk.sha256) == (0o100444, len(pem), hashlib.sha256(pem).hexdigest())
    assert got["/.extra"].mode == 0o40555
    assert got["/.extra/sysext/k3s.sysext.raw"].sha256 == hashlib.sha256(sysext).hexdigest()

    log = result.log
    assert "\\EFI\\BOOT\\BOOTX64.EFI.extra.d\\broken.pcrsig.json: skipped, not a valid PCR signature file" in log, \
        tail(result)
    assert "\\EFI\\BOOT\\BOOTX64.EFI.extra.d\\empty.pcrsig.json: skipped, a signature file must have" in log
    assert "PCR signatures: 6 entries from 3 signature file(s) and .pcrsig" in log, tail(result)
    # Signature files are not extension candidates: no "not a *.sysext.raw" line for them.
    assert "k3s.pcrsig.json: skipped" not in log

    # Nothing of the signatures is measured: PCR 13 holds exactly the sysext's two events.
    events = expected_events({"k3s.sysext.raw": sysext}, {})
    assert parse_pcr13_events(facts.eventlog) == [(p, hashlib.sha256(x).digest()) for p, x in events]

    # But they are part of the initrd Linux measures into PCR 9, and predict reproduces it from the same
    # directories (merging by the same rules), in every bank.
    host = {}
    for esp_dir in (d, "loader/extensions"):
        host[esp_dir] = workdir / "host" / esp_dir
        host[esp_dir].mkdir(parents=True)
    for path, data in files.items():
        parent, _, name = path.rpartition("/")
        if parent in host:
            (host[parent] / name).write_bytes(data)
    out = subprocess.run([str(CLI), "predict", "--json", "--uki", str(uki), "--extra-dir", str(host[d]),
                          "--global-dir", str(host["loader/extensions"]), "--pcr", "9"],
                         check=True, capture_output=True, text=True)
    assert "broken.pcrsig.json: skipped by the stub" in out.stderr, out.stderr
    prediction = json.loads(out.stdout)
    assert facts.pcrs, tail(result)
    for bank, values in facts.pcrs.items():
        want = [e for e in prediction[bank] if e["pcr"] == 9]
        assert len(want) == 1 and values[9] == bytes.fromhex(want[0]["hash"]), (bank, values[9].hex(), want)
