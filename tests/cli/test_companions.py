"""Credentials and configuration extensions on the host (issue 14): predict,
cpio, sign and eventlog over every companion kind, checked against hashlib and
an independent newc model, and against docs/MEASUREMENTS.md's worked example.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from test_predict import (BANKS, CLI, H, STUB, assert_failed, cli, cpio_list, entry, newc, predict, predict_json,
                          replay, run_build, split_archives, strcmp_sorted, value, write_set)

PER_UKI = {"a.sysext.raw": b"hello\n", "x.cred": b"secret\n", "Y.CRED": b"other\n", "etc.confext.raw": b"conf\n"}
GLOBAL_EXT = {"g.sysext.raw": b"global\n", "gconf.confext.raw": b"global conf\n"}
GLOBAL_CREDS = {"global.cred": b"global secret\n"}


def newc_modes(prefix, files, dir_mode, file_mode):
    """newc() with other modes (credentials: 0500/0400), written from reference §3.1."""
    out = bytearray()
    ino = 0

    def put(ino, mode, name, data, namesize=None):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        hdr = "070701" + "".join(f"{f:08x}" for f in fields)
        if namesize is not None:
            hdr = hdr[:6 + 11 * 8] + namesize + hdr[6 + 12 * 8:]
        out.extend(hdr.encode() + name + b"\0")
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    if not files:
        return b""
    parts = prefix.split("/")
    for i in range(len(parts)):
        ino += 1
        put(ino, 0o040000 | (dir_mode if i == len(parts) - 1 else 0o555), "/".join(parts[:i + 1]).encode(), b"")
    for name in strcmp_sorted(files):
        ino += 1
        put(ino, 0o100000 | file_mode, f"{prefix}/{name}".encode(), files[name])
    put(0, 0, b"TRAILER!!!", b"", namesize="0000000B")
    return bytes(out)


def creds(files):
    return {n: d for n, d in files.items() if n.lower().endswith(".cred")}


def confexts(files):
    return {n: d for n, d in files.items() if n.lower().endswith(".confext.raw")}


def sysexts(files):
    return {n: d for n, d in files.items() if n.lower().endswith(".sysext.raw")}


def per_file(bank, groups):
    """Our events for (prefix, files) groups in order: H(path + NUL), H(content) per file."""
    out = []
    for prefix, files in groups:
        for name in strcmp_sorted(files):
            out += [H(bank, f"{prefix}/{name}".encode() + b"\0"), H(bank, files[name])]
    return out


@pytest.fixture
def esp(tmp_path):
    """An ESP tree: \\EFI\\Linux\\uki.efi (around our stub), its .extra.d and the three global directories."""
    root = tmp_path / "esp"
    linux = root / "EFI" / "Linux"
    linux.mkdir(parents=True)
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(STUB.read_bytes())
    run_build("--stub", STUB, "--linux", kernel, "--cmdline", "quiet", "--os-release", "ID=test\n",
              "--output", linux / "uki.efi")
    write_set(linux / "uki.efi.extra.d", {**PER_UKI, "notes.txt": b"x"})
    write_set(root / "loader" / "extensions", {**GLOBAL_EXT, "stray.cred": b"not read here"})
    write_set(root / "loader" / "credentials", {**GLOBAL_CREDS, "readme.txt": b"x"})
    return root


def explicit(esp):
    return ["--uki", esp / "EFI/Linux/uki.efi", "--extra-dir", esp / "EFI/Linux/uki.efi.extra.d", "--esp-path",
            "\\EFI\\Linux\\uki.efi", "--global-dir", esp / "loader/extensions", "--global-cred-dir",
            esp / "loader/credentials"]


def test_worked_example_of_measurements_md(tmp_path):
    """docs/MEASUREMENTS.md, "Credentials and configuration extensions": the PCR 12 example, byte for byte."""
    per_uki = write_set(tmp_path / "extra.d", {"x.cred": b"secret\n"})
    global_ = write_set(tmp_path / "extensions", {"etc.confext.raw": b"conf\n"})
    j, _ = predict_json("--extra-dir", per_uki, "--global-dir", global_, "--pcr", "12")
    for bank in BANKS:
        want = [H(bank, b".extra/credentials/x.cred\0"), H(bank, b"secret\n"),
                H(bank, b".extra/global_confext/etc.confext.raw\0"), H(bank, b"conf\n")]
        assert [bytes.fromhex(e["digest"]) for e in entry(j, bank, 12)["events"]] == want, bank
        assert value(j, bank, 12) == replay(bank, want), bank


def test_pcr12_and_13_from_a_whole_esp(esp):
    """--esp finds the UKI, its .extra.d (the ESP path matched without regard to case, as FAT) and the
    global directories; the result equals giving each one, and hashlib's per-file model."""
    by_esp, _ = predict_json("--esp", esp, "--esp-path", "\\efi\\LINUX\\Uki.EFI")
    by_dirs, _ = predict_json(*explicit(esp))
    assert by_esp == by_dirs
    for bank in BANKS:
        want12 = per_file(bank, [(".extra/credentials", creds(PER_UKI)), (".extra/global_credentials", GLOBAL_CREDS),
                                 (".extra/confext", confexts(PER_UKI)), (".extra/global_confext", confexts(GLOBAL_EXT))])
        want13 = per_file(bank, [(".extra/sysext", sysexts(PER_UKI)), (".extra/global_sysext", sysexts(GLOBAL_EXT))])
        assert value(by_esp, bank, 12) == replay(bank, want12), bank
        assert value(by_esp, bank, 13) == replay(bank, want13), bank
    events = [e["description"] for e in entry(by_esp, "sha256", 12)["events"][::2]]
    assert events == [".extra/credentials/Y.CRED", ".extra/credentials/x.cred", ".extra/global_credentials/global.cred",
                      ".extra/confext/etc.confext.raw", ".extra/global_confext/gconf.confext.raw"]


def test_esp_errors(tmp_path, esp):
    assert_failed(predict("--esp", esp, check=False), "--esp-path")
    assert_failed(predict("--esp", esp, "--esp-path", "\\EFI\\Linux\\missing.efi", check=False), "missing.efi")


def test_files_and_manifests_agree(tmp_path, esp):
    """A manifest names every kind (its suffix says which); files given one by one too."""
    extra = esp / "EFI/Linux/uki.efi.extra.d"
    m = tmp_path / "SHA256SUMS"
    m.write_text(subprocess.run(["sha256sum", *PER_UKI], cwd=extra, check=True, capture_output=True, text=True).stdout)
    gm = tmp_path / "GLOBAL.SHA256SUMS"
    gm.write_text(
        subprocess.run(["sha256sum", *GLOBAL_EXT], cwd=esp / "loader/extensions", check=True, capture_output=True,
                       text=True).stdout +
        subprocess.run(["sha256sum", *GLOBAL_CREDS], cwd=esp / "loader/credentials", check=True, capture_output=True,
                       text=True).stdout)
    by_manifest, _ = predict_json("--manifest", m, "--global-manifest", gm, "--bank", "sha256")
    files = []
    for name in PER_UKI:
        opt = "--cred" if name.lower().endswith(".cred") else "--confext" if "confext" in name else "--sysext"
        files += [opt, extra / name]
    files += ["--global-sysext", esp / "loader/extensions/g.sysext.raw",
              "--global-confext", esp / "loader/extensions/gconf.confext.raw",
              "--global-cred", esp / "loader/credentials/global.cred"]
    by_files, _ = predict_json(*files, "--bank", "sha256")
    by_dirs, _ = predict_json("--extra-dir", extra, "--global-dir", esp / "loader/extensions", "--global-cred-dir",
                              esp / "loader/credentials", "--bank", "sha256")
    for pcr in (12, 13):
        assert value(by_manifest, "sha256", pcr) == value(by_files, "sha256", pcr) == value(by_dirs, "sha256", pcr)
    # A name no set takes is an error naming it; a kind given where it is not read, too.
    bad = tmp_path / "BAD"
    bad.write_text(f"{'00' * 32}  notes.txt\n")
    assert_failed(predict("--manifest", bad, check=False), "notes.txt")
    assert_failed(predict("--cred", esp / "loader/extensions/g.sysext.raw", check=False), "g.sysext.raw")


def test_systemd_262_one_event_per_archive(esp):
    """systemd-stub's scheme: PCR 12 gets one event per credentials or confext archive (262: the global
    ones too), PCR 13 one per sysext archive (*.raw pickup), each over the archive's bytes."""
    j, _ = predict_json("--scheme=systemd", "--systemd-version", "262", *explicit(esp), "--pcr", "12", "--pcr", "13")
    cred_dir, cred_file = 0o500, 0o400
    archives12 = [("Credentials initrd", newc_modes(".extra/credentials", creds(PER_UKI), cred_dir, cred_file)),
                  ("Global credentials initrd", newc_modes(".extra/global_credentials", GLOBAL_CREDS, cred_dir, cred_file)),
                  ("Configuration extension initrd", newc(".extra/confext", confexts(PER_UKI))),
                  ("Global configuration extension initrd", newc(".extra/global_confext", confexts(GLOBAL_EXT)))]
    archives13 = [("System extension initrd", newc(".extra/sysext", sysexts(PER_UKI))),
                  ("Global system extension initrd", newc(".extra/global_sysext", sysexts(GLOBAL_EXT)))]
    for bank in BANKS:
        for pcr, archives in ((12, archives12), (13, archives13)):
            e = entry(j, bank, pcr)
            assert [ev["description"] for ev in e["events"]] == [d for d, _ in archives]
            assert [bytes.fromhex(ev["digest"]) for ev in e["events"]] == [H(bank, a) for _, a in archives], bank


@pytest.mark.parametrize("version,pcr12", [
    (255, ["Credentials initrd", "Global credentials initrd"]),  # confexts were sysexts; no global dirs
    (257, ["Credentials initrd", "Global credentials initrd", "Configuration extension initrd"]),
])
def test_systemd_older_releases(esp, version, pcr12):
    r = predict("--json", "--scheme=systemd", "--systemd-version", str(version), *explicit(esp), "--pcr", "12")
    j = json.loads(r.stdout)
    assert [ev["description"] for ev in entry(j, "sha256", 12)["events"]] == pcr12
    assert "\\loader\\extensions" in r.stderr, "inputs the release ignores are named"


def test_cpio_writes_every_archive_in_initrd_order(tmp_path, esp):
    out = tmp_path / "all.cpio"
    cli("cpio", *explicit(esp), "--output", out)
    parts = split_archives(out.read_bytes())
    names = [[r[5] for r in cpio_list(p)] for p in parts]
    assert [n[-1].rsplit("/", 1)[0] for n in names] == [
        ".extra/credentials", ".extra/global_credentials", ".extra/sysext", ".extra/global_sysext",
        ".extra/confext", ".extra/global_confext", ".extra"]  # the last: os-release (no .pcrsig, no .pcrpkey)
    assert parts[0] == newc_modes(".extra/credentials", creds(PER_UKI), 0o500, 0o400)
    assert parts[-1] == newc(".extra", {"os-release": b"ID=test\n"})


def test_sign_pcr_12_covers_credentials(tmp_path, esp):
    """A signed state with PCR 12 holds for these credentials and not for a changed one."""
    key = tmp_path / "key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    sig = tmp_path / "sig.json"
    cli("sign", "--private-key", key, "--pcrs", "11,12,13", "--phase", "enter-initrd", "--bank", "sha256",
        *explicit(esp), "--output", sig)
    pub = tmp_path / "pub.pem"
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    verify = ["sign", "--verify", sig, "--public-key", pub, "--pcrs", "11,12,13", "--phase", "enter-initrd",
              "--bank", "sha256", *explicit(esp)]
    assert cli(*verify, check=False).returncode == 0
    (esp / "EFI/Linux/uki.efi.extra.d/x.cred").write_bytes(b"another secret\n")
    assert cli(*verify, check=False).returncode == 1


def test_eventlog_names_the_credential_behind_a_differing_pcr12_event(tmp_path, esp):
    """`predict --json` as the expectation; a log whose PCR 12 has one credential changed: eventlog
    names that credential's file and the event, as it does for sysexts."""
    from test_eventlog import EV_IPL, firmware_log, run as eventlog, utf16z

    extra = esp / "EFI/Linux/uki.efi.extra.d"
    expect = tmp_path / "expect.json"
    expect.write_text(predict("--json", "--extra-dir", extra, "--pcr", "12", "--bank", "sha256").stdout)
    log = firmware_log(banks=("sha256",))
    for prefix, files in ((".extra/credentials", creds(PER_UKI)), (".extra/confext", confexts(PER_UKI))):
        for name in strcmp_sorted(files):
            path = f"{prefix}/{name}"
            content = b"changed\n" if name == "x.cred" else files[name]
            log.extend(12, EV_IPL, utf16z(path), hashed=path.encode() + b"\0")
            log.extend(12, EV_IPL, utf16z(path), hashed=content)
    r = eventlog("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", expect)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "PCR 12 sha256: event 4 differs: expected .extra/credentials/x.cred" in r.stdout, r.stdout
    assert f"(file {extra / 'x.cred'})" in r.stdout, r.stdout
