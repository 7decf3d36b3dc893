"""Tests of `sysext-stub eventlog`: replay, comparison with PCR values, --expect.

Event logs are assembled here with struct (TCG PC Client "crypto agile"
format) and every expected PCR value is computed independently with hashlib,
so the C replay is checked against a second implementation.
"""
import hashlib
import json
import os
import random
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The CLI under test; make cli-asan-check points SYSEXT_STUB_CLI at the ASan/UBSan build.
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()

ALGS = {"sha1": (0x0004, 20), "sha256": (0x000B, 32), "sha384": (0x000C, 48), "sha512": (0x000D, 64)}

EV_NO_ACTION = 0x3
EV_SEPARATOR = 0x4
EV_EVENT_TAG = 0x6
EV_S_CRTM_VERSION = 0x8
EV_IPL = 0xD
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
EV_EFI_ACTION = 0x80000007


def utf16z(s):
    return (s + "\0").encode("utf-16-le")


class Log:
    """A TCG2 event log under construction, with the PCR values it should replay to."""

    def __init__(self, banks=("sha1", "sha256"), locality=None, signature=b"Spec ID Event03\0"):
        self.banks = list(banks)
        self.pcr = {(b, n): bytes(ALGS[b][1]) for b in self.banks for n in range(24)}
        spec = signature + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(self.banks))
        for b in self.banks:
            spec += struct.pack("<HH", *ALGS[b])
        spec += b"\0"  # vendorInfoSize
        self.data = struct.pack("<II", 0, EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec
        self.records = 1
        if locality is not None:
            self.record(0, EV_NO_ACTION, b"StartupLocality\0" + bytes([locality]))
            if locality in (3, 4):
                for b in self.banks:
                    self.pcr[(b, 0)] = bytes(ALGS[b][1] - 1) + bytes([locality])

    def record(self, pcr, etype, data, digests=None, banks=None):
        """Append a raw record; @digests maps bank -> bytes (default zeros)."""
        banks = self.banks if banks is None else banks
        out = struct.pack("<III", pcr, etype, len(banks))
        for b in banks:
            alg, size = ALGS[b]
            out += struct.pack("<H", alg) + (digests or {}).get(b, bytes(size))
        self.data += out + struct.pack("<I", len(data)) + data
        self.records += 1

    def extend(self, pcr, etype, data, hashed=None):
        """A measured event: digests of @hashed (default: the event data) in every bank."""
        payload = data if hashed is None else hashed
        digests = {b: hashlib.new(b, payload).digest() for b in self.banks}
        self.record(pcr, etype, data, digests)
        for b in self.banks:
            self.pcr[(b, pcr)] = hashlib.new(b, self.pcr[(b, pcr)] + digests[b]).digest()
        return digests

    def sysext(self, path, content):
        """The stub's two EV_IPL events for one sysext (docs/MEASUREMENTS.md)."""
        d1 = self.extend(13, EV_IPL, utf16z(path), hashed=path.encode() + b"\0")
        d2 = self.extend(13, EV_IPL, utf16z(path), hashed=content)
        return d1, d2

    def value(self, bank, pcr):
        return self.pcr[(bank, pcr)].hex()

    def write(self, path):
        Path(path).write_bytes(self.data)
        return path


def firmware_log(**kw):
    log = Log(**kw)
    log.extend(0, EV_S_CRTM_VERSION, utf16z(""))
    for pcr in range(8):
        log.extend(pcr, EV_SEPARATOR, bytes(4))
    log.extend(4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option")
    log.extend(4, EV_EFI_BOOT_SERVICES_APPLICATION, bytes(36), hashed=b"the UKI")
    return log


def run(*args):
    r = subprocess.run([str(CLI), "eventlog", *map(str, args)], capture_output=True, text=True)
    assert r.returncode in (0, 1, 2), f"crashed: {r.returncode}\n{r.stderr}"
    return r


def extend_all(bank, start, digests):
    v = start
    for d in digests:
        v = hashlib.new(bank, v + d).digest()
    return v


# ---------------------------------------------------------------- replay

def test_replay_matches_given_pcr_values(tmp_path):
    log = firmware_log()
    log.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    path = log.write(tmp_path / "log")
    values = [f"--pcr-value={b}:{n}={log.value(b, n)}" for b in ("sha1", "sha256") for n in (0, 4, 7, 13)]
    r = run("--log", path, *values)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()[:1].isdigit()]
    checked = {(row[1], int(row[0])): row for row in rows if row[-1] == "ok"}
    for b in ("sha1", "sha256"):
        for n in (0, 4, 7, 13):
            assert checked[(b, n)][2] == log.value(b, n)
            assert checked[(b, n)][3] == log.value(b, n)
    assert "MISMATCH" not in r.stdout


def test_known_pcr13_example_from_measurements_doc(tmp_path):
    # docs/MEASUREMENTS.md worked example: a, b per-UKI, g global.
    log = Log(banks=("sha1", "sha256", "sha384"))
    log.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    log.sysext(".extra/sysext/b.sysext.raw", b"world")
    log.sysext(".extra/global_sysext/g.sysext.raw", b"global")
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--pcr", "13")
    assert r.returncode == 0, r.stderr
    assert "b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1" in r.stdout
    assert "c2af4010d288233d21a9110535b711dde9c87fa3" in r.stdout
    assert log.value("sha256", 13) == "b15b792148ca42c5ba7a1af14f7439a5d599c6e68f31c952cafd94648e4c50e1"


def test_mismatch_exits_1(tmp_path):
    log = firmware_log()
    path = log.write(tmp_path / "log")
    wrong = "00" * 32
    r = run("--log", path, f"--pcr-value=sha256:7={wrong}", f"--pcr-value=sha256:4={log.value('sha256', 4)}")
    assert r.returncode == 1
    lines = {line.split()[0]: line for line in r.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert lines["7"].rstrip().endswith("MISMATCH")
    assert lines["4"].rstrip().endswith("ok")
    assert "result: MISMATCH" in r.stdout


def test_tpm_dir_like_sysfs(tmp_path):
    log = firmware_log(banks=("sha256",))
    path = log.write(tmp_path / "log")
    tpm = tmp_path / "tpm0"
    (tpm / "pcr-sha256").mkdir(parents=True)
    for n in range(24):  # the kernel prints upper-case hex and a newline
        (tpm / "pcr-sha256" / str(n)).write_text(log.value("sha256", n).upper() + "\n")
    r = run("--log", path, "--tpm-dir", tpm)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines() if line.endswith("  ok")] == [str(n) for n in range(8)]
    (tpm / "pcr-sha256" / "5").write_text("AB" * 32 + "\n")
    r = run("--log", path, "--tpm-dir", tpm)
    assert r.returncode == 1
    assert "MISMATCH" in r.stdout
    (tpm / "pcr-sha256" / "5").write_text("not hex\n")
    r = run("--log", path, "--tpm-dir", tpm)
    assert r.returncode == 2
    assert str(tpm / "pcr-sha256" / "5") in r.stderr


def test_startup_locality_3_sets_pcr0_start(tmp_path):
    log = firmware_log(banks=("sha256",), locality=3)
    start = bytes(31) + b"\x03"
    expected = hashlib.sha256(start + hashlib.sha256(utf16z("")).digest()).digest()
    expected = hashlib.sha256(expected + hashlib.sha256(bytes(4)).digest()).digest()
    assert log.value("sha256", 0) == expected.hex()
    r = run("--log", log.write(tmp_path / "log"), f"--pcr-value=sha256:0={expected.hex()}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "startup locality 3" in r.stdout


def test_no_action_events_are_not_extended(tmp_path):
    log = Log(banks=("sha256",))
    log.sysext(".extra/sysext/a.sysext.raw", b"x")
    log.record(13, EV_NO_ACTION, b"something\0", {"sha256": b"\x55" * 32})
    log.sysext(".extra/sysext/b.sysext.raw", b"y")
    r = run("--log", log.write(tmp_path / "log"), f"--pcr-value=sha256:13={log.value('sha256', 13)}")
    assert r.returncode == 0, r.stdout + r.stderr


def test_verbose_lists_events(tmp_path):
    log = firmware_log(banks=("sha256",), locality=0)
    log.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    tag = b"Linux initrd\0"
    log.extend(9, EV_EVENT_TAG, struct.pack("<II", 0x8F3B22EC, len(tag)) + tag, hashed=b"initrd")
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--verbose")
    assert r.returncode == 0, r.stderr
    assert ".extra/sysext/a.sysext.raw" in r.stdout
    assert "tag 0x8f3b22ec: Linux initrd" in r.stdout
    assert "StartupLocality 0" in r.stdout
    assert "Calling EFI Application from Boot Option" in r.stdout
    assert hashlib.sha256(b"hello\n").hexdigest() in r.stdout


def pcr11_uki_log():
    """A firmware log whose PCR 11 holds two UKI section events, as our stub measures them."""
    log = firmware_log()
    log.extend(11, EV_IPL, utf16z(".linux"), hashed=b".linux\0")
    log.extend(11, EV_IPL, utf16z(".linux"), hashed=b"the kernel")
    return log


# systemd-pcrphase's words and systemd >= 261's PCR 13 separator (docs/MEASUREMENTS.md), written here
# independently of host-tools/userspace-extends.c.
PHASES = ["enter-initrd", "leave-initrd", "sysinit", "ready"]


def after_words(log, bank, pcr, words):
    return extend_all(bank, log.pcr[(bank, pcr)], [hashlib.new(bank, w.encode()).digest() for w in words]).hex()


@pytest.mark.parametrize("n", [1, 2, 4])
def test_tpm_past_the_log_by_userspace_phases_matches_and_says_so(tmp_path, n):
    """A TPM read in a systemd initrd (or later) holds PCR 11 = the log's replay + systemd-pcrphase's words:
    a match, named with the words it took; the replayed value stays the log's own."""
    log = pcr11_uki_log()
    log.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    path = log.write(tmp_path / "log")
    words = PHASES[:n]
    tpm = {(b, 11): after_words(log, b, 11, words) for b in ("sha1", "sha256")}
    tpm.update({(b, 13): after_words(log, b, 13, ["os-separator"]) for b in ("sha1", "sha256")})
    args = [f"--pcr-value={b}:{p}={v}" for (b, p), v in tpm.items()] + [f"--pcr-value=sha256:4={log.value('sha256', 4)}"]
    r = run("--log", path, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {(line.split()[1], int(line.split()[0])): line for line in r.stdout.splitlines() if line.strip()[:1].isdigit()}
    for b in ("sha1", "sha256"):
        assert rows[(b, 11)].split()[2] == log.value(b, 11), rows[(b, 11)]
        assert rows[(b, 11)].endswith("ok after the log plus userspace " + ":".join(words)), rows[(b, 11)]
        assert rows[(b, 13)].endswith("ok after the log plus userspace os-separator"), rows[(b, 13)]
    assert rows[("sha256", 4)].endswith(" ok"), rows[("sha256", 4)]
    assert "result: ok" in r.stdout

    doc = json.loads(run("--log", path, "--json", *args).stdout)
    assert doc["ok"] is True
    got = {(row["bank"], row["pcr"]): (row["match"], row["userspace"]) for row in doc["pcrs"] if row["actual"]}
    assert got[("sha256", 11)] == (True, words) and got[("sha1", 13)] == (True, ["os-separator"])
    assert got[("sha256", 4)] == (True, [])


@pytest.mark.parametrize("words", [["leave-initrd"], ["enter-initrd", "sysinit"], ["enter-initrd", "enter-initrd"],
                                   PHASES + ["shutdown"], ["os-separator"]])
def test_tpm_past_the_log_by_other_words_is_a_mismatch(tmp_path, words):
    """Only leading words of the documented sequence, in order: anything else in PCR 11 is a mismatch;
    and PCR 4, which userspace never extends, must equal the log exactly."""
    log = pcr11_uki_log()
    path = log.write(tmp_path / "log")
    r = run("--log", path, f"--pcr-value=sha256:11={after_words(log, 'sha256', 11, words)}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "MISMATCH (1 PCR value differs)" in r.stdout and "userspace" not in r.stdout, r.stdout
    r = run("--log", path, f"--pcr-value=sha256:4={after_words(log, 'sha256', 4, ['enter-initrd'])}", "--json")
    assert r.returncode == 1
    row = [row for row in json.loads(r.stdout)["pcrs"] if row["pcr"] == 4 and row["bank"] == "sha256"][0]
    assert row["match"] is False and row["userspace"] is None


def test_json_output(tmp_path):
    log = firmware_log()
    path = log.write(tmp_path / "log")
    r = run("--log", path, "--json", "--verbose", f"--pcr-value=sha1:4={log.value('sha1', 4)}",
            "--pcr-value=sha256:4=" + "11" * 32)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    assert doc["banks"] == ["sha1", "sha256"]
    rows = {(p["bank"], p["pcr"]): p for p in doc["pcrs"]}
    assert rows[("sha1", 4)]["match"] is True
    assert rows[("sha256", 4)]["match"] is False
    assert rows[("sha256", 4)]["replayed"] == log.value("sha256", 4)
    assert len(doc["events"]) == log.records - 1
    assert doc["events"][0]["type"] == "EV_S_CRTM_VERSION"


def test_json_refuses_a_path_that_is_not_utf8(tmp_path):
    """The report repeats --log and --expect, and JSON text must be UTF-8 (README): such a path is unusable input
    for --json (exit 2, named, nothing on stdout); the table prints it. Control bytes in a description from a
    hostile log or prediction come out escaped or as '?', so a strict parser reads the report."""
    log = firmware_log()
    log.extend(13, EV_IPL, b"tab\there\x1b[31m\x7f\xff\0")
    odd = os.fsencode(tmp_path) + b"/log-\xff"
    log.write(odd.decode(errors="surrogateescape"))
    r = subprocess.run([bytes(CLI), b"eventlog", b"--log", odd, b"--no-pcr-values", b"--json"], capture_output=True)
    assert r.returncode == 2 and r.stdout == b"", r.stdout
    assert odd.replace(b"\xff", b"\\xff") in r.stderr and b"not UTF-8" in r.stderr
    r = subprocess.run([bytes(CLI), b"eventlog", b"--log", odd, b"--no-pcr-values"], capture_output=True)
    assert r.returncode == 0 and odd in r.stdout, r.stderr
    exp = tmp_path / "expect.json"
    exp.write_bytes(b'{"sha256":[{"pcr":13,"hash":"' + b"00" * 32 + b'","events":[{"type":"EV_IPL","digest":"'
                    + b"00" * 32 + b'","description":"x\\u001b[0m\\u0007"}]}]}')
    good = log.write(tmp_path / "log")
    r = subprocess.run([bytes(CLI), b"eventlog", b"--log", os.fsencode(good), b"--no-pcr-values", b"--verbose",
                        b"--expect", os.fsencode(exp), b"--json"], capture_output=True)
    assert r.returncode == 1, r.stderr
    assert all(b >= 0x20 and b != 0x7F for b in r.stdout.rstrip(b"\n")), r.stdout
    doc = json.loads(r.stdout.decode("utf-8", errors="strict"))
    assert doc["events"][-1]["description"] == "tab?here?[31m??"
    assert "x?[0m?" in doc["expect"]["checks"][0]["problem"]


def test_bank_and_pcr_selection(tmp_path):
    log = firmware_log()
    path = log.write(tmp_path / "log")
    r = run("--log", path, "--no-pcr-values", "--bank", "sha1", "--pcr", "4", "--pcr", "20")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [(row[0], row[1]) for row in rows] == [("4", "sha1"), ("20", "sha1")]
    assert rows[0][2] == log.value("sha1", 4)
    assert rows[1][2] == "00" * 20


# ---------------------------------------------------------------- --expect

def sysext_prediction(log_banks, files):
    """Expected PCR 13 entries per bank, in the shape `predict --json` prints."""
    out = {}
    for b in log_banks:
        events, v = [], bytes(ALGS[b][1])
        for path, host, content in files:
            for data in (path.encode() + b"\0", content):
                d = hashlib.new(b, data).digest()
                v = hashlib.new(b, v + d).digest()
                events.append({"type": "EV_IPL", "digest": d.hex(), "description": path, "file": host})
        out[b] = [{"pcr": 13, "hash": v.hex(), "events": events}]
    return out


FILES = [(".extra/sysext/a.sysext.raw", "/host/a.sysext.raw", b"hello\n"),
         (".extra/sysext/b.sysext.raw", "/host/b.sysext.raw", b"world")]


def test_expect_holds(tmp_path):
    log = firmware_log()
    for path, _, content in FILES:
        log.sysext(path, content)
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(sysext_prediction(["sha1", "sha256", "sha384"], FILES)))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PCR 13 sha256: ok (4 log events)" in r.stdout
    assert "PCR 13 sha384: skipped" in r.stdout
    assert "result: ok" in r.stdout


def test_expect_names_the_differing_event_and_file(tmp_path):
    log = firmware_log()
    log.sysext(FILES[0][0], FILES[0][2])
    log.sysext(FILES[1][0], b"tampered")
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(sysext_prediction(["sha256"], FILES)))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1, r.stdout + r.stderr
    want = hashlib.sha256(b"world").hexdigest()
    got = hashlib.sha256(b"tampered").hexdigest()
    assert (f"PCR 13 sha256: event 4 differs: expected .extra/sysext/b.sysext.raw (file /host/b.sysext.raw) "
            f"digest {want}, log has digest {got} (description \".extra/sysext/b.sysext.raw\"") in r.stdout
    assert "result: MISMATCH" in r.stdout


def test_expect_log_longer_or_shorter(tmp_path):
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(sysext_prediction(["sha256"], FILES)))
    shorter = firmware_log(banks=("sha256",))
    shorter.sysext(FILES[0][0], FILES[0][2])
    r = run("--log", shorter.write(tmp_path / "short"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert ("PCR 13 sha256: log ends before expected event 3: .extra/sysext/b.sysext.raw "
            "(file /host/b.sysext.raw) digest") in r.stdout
    longer = firmware_log(banks=("sha256",))
    for path, _, content in FILES:
        longer.sysext(path, content)
    longer.sysext(".extra/global_sysext/g.sysext.raw", b"global")
    r = run("--log", longer.write(tmp_path / "long"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert "PCR 13 sha256: log has 2 more events than expected" in r.stdout
    assert "g.sysext.raw" in r.stdout


def test_expect_hash_must_follow_from_events(tmp_path):
    log = Log(banks=("sha256",))
    for path, _, content in FILES:
        log.sysext(path, content)
    pred = sysext_prediction(["sha256"], FILES)
    pred["sha256"][0]["hash"] = "ee" * 32
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(pred))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert f"is {log.value('sha256', 13)}, expected hash {'ee' * 32}" in r.stdout


def test_expect_initial_value(tmp_path):
    log = Log(banks=("sha256",))
    log.sysext(*FILES[0][0::2])
    pred = sysext_prediction(["sha256"], FILES[:1])
    pred["sha256"][0]["initial"] = "01" * 32
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(pred))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert "PCR 13 sha256: initial value differs" in r.stdout


def pcr11_log_and_prediction(tampered_section=None):
    """PCR 11: firmware EV_IPL events for the UKI sections, then userspace phases."""
    log = Log(banks=("sha256",))
    sections = [(".linux", b"kernel"), (".osrel", b"ID=demo\n"), (".cmdline", b"quiet")]
    fw = []
    for name, content in sections:
        d1 = log.extend(11, EV_IPL, utf16z(name), hashed=name.encode() + b"\0")["sha256"]
        real = b"evil" if name == tampered_section else content
        log.extend(11, EV_IPL, utf16z(name), hashed=real)
        d2 = hashlib.sha256(content).digest()
        fw += [{"type": "EV_IPL", "digest": d1.hex(), "description": name},
               {"type": "EV_IPL", "digest": d2.hex(), "description": name}]
    entries = []
    for phase in ("enter-initrd", "enter-initrd:leave-initrd"):
        words = phase.split(":")
        us = [{"type": "userspace", "digest": hashlib.sha256(w.encode()).hexdigest(), "description": w}
              for w in words]
        v = extend_all("sha256", bytes(32), [bytes.fromhex(e["digest"]) for e in fw + us])
        entries.append({"pcr": 11, "phase": phase, "hash": v.hex(), "events": fw + us})
    return log, {"sha256": entries}


def test_expect_pcr11_phases(tmp_path):
    log, pred = pcr11_log_and_prediction()
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(pred))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PCR 11 sha256 (phase enter-initrd): ok (6 log events + 1 userspace)" in r.stdout
    assert "PCR 11 sha256 (phase enter-initrd:leave-initrd): ok (6 log events + 2 userspace)" in r.stdout


def test_expect_pcr11_difference_reported_once(tmp_path):
    log, pred = pcr11_log_and_prediction(tampered_section=".osrel")
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(pred))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert r.stdout.count("PCR 11 sha256: event 4 differs: expected .osrel digest") == 1
    assert "(2 expectations failed)" in r.stdout
    doc = json.loads(run("--log", tmp_path / "log", "--no-pcr-values", "--expect", exp, "--json").stdout)
    assert [c["result"] for c in doc["expect"]["checks"]] == ["mismatch", "mismatch"]
    assert doc["ok"] is False


def test_expect_from_predict(tmp_path):
    """The contract end to end: `predict --json` output checks against a log the stub would write."""
    a, b = tmp_path / "a.sysext.raw", tmp_path / "b.sysext.raw"
    a.write_bytes(b"hello\n")
    b.write_bytes(b"world")
    p = subprocess.run([str(CLI), "predict", "--sysext", str(a), "--sysext", str(b), "--pcr", "13", "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    exp = tmp_path / "predicted.json"
    exp.write_text(p.stdout)
    log = firmware_log(banks=("sha1", "sha256"))
    log.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    log.sysext(".extra/sysext/b.sysext.raw", b"world")
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 0, r.stdout + r.stderr
    b.write_bytes(b"changed")
    p = subprocess.run([str(CLI), "predict", "--sysext", str(a), "--sysext", str(b), "--pcr", "13", "--json"],
                       capture_output=True, text=True, check=True)
    exp.write_text(p.stdout)
    r = run("--log", tmp_path / "log", "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert f"event 4 differs: expected .extra/sysext/b.sysext.raw (file {b})" in r.stdout


@pytest.mark.parametrize("text,needle", [
    ('{"sha256": [', "not valid JSON: unexpected end of input at line 1"),
    ('{"sha256": [{"pcr": 13,}]}', "not valid JSON: syntax error at line 1, column 24"),
    ('[]', "expected an object of banks"),
    ('{"sha256": {}}', '"sha256" must be an array'),
    ('{"sha256": [{"hash": "00", "events": []}]}', 'sha256[0]: "pcr" is missing'),
    ('{"sha256": [{"pcr": 24, "hash": "00", "events": []}]}', '"pcr" must be an integer 0..23'),
    ('{"sha256": [{"pcr": 13, "hash": "00", "events": []}]}', '"hash" must be 64 hex digits'),
    ('{"sha256": [{"pcr": 13, "pcr": 13, "hash": "00", "events": []}]}', '"pcr" appears more than once'),
    ('{"sha256": [{"pcr": 13, "hash": "' + "00" * 32 + '", "events": [{"type": "EV_FOO", "digest": "00"}]}]}',
     'sha256[0].events[0]: unknown event type "EV_FOO"'),
    ('{"sha256": [{"pcr": 13, "hash": "' + "00" * 32 + '", "events": [{"type": "EV_IPL"}]}]}',
     'sha256[0].events[0]: "digest" is missing'),
])
def test_bad_expect_file_exits_2(tmp_path, text, needle):
    log = Log(banks=("sha256",))
    exp = tmp_path / "expect.json"
    exp.write_text(text)
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 2, r.stdout
    assert str(exp) in r.stderr and needle in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_expect_with_no_checkable_bank_fails(tmp_path):
    log = Log(banks=("sha1",))
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(sysext_prediction(["sha256"], FILES)))
    r = run("--log", log.write(tmp_path / "log"), "--no-pcr-values", "--expect", exp)
    assert r.returncode == 1
    assert "nothing checked" in r.stdout


# ---------------------------------------------------------------- hostile input

def hostile_logs():
    good = firmware_log()
    good.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    data = good.data
    unknown_alg = Log()
    unknown_alg.record(0, EV_SEPARATOR, bytes(4), banks=["sha1", "sha384"])
    count = Log()
    count.record(0, EV_SEPARATOR, bytes(4), banks=["sha256"])
    pcr24 = Log()
    pcr24.record(24, EV_IPL, b"")
    absurd = Log()
    absurd.record(4, EV_IPL, b"")
    absurd_data = absurd.data[:-4] + struct.pack("<I", 0xFFFFFFF0)
    return {
        "empty": (b"", "too short for its header"),
        "garbage": (bytes(range(256)) * 4, "not a usable TCG2 event log"),
        "truncated": (data[:-5], "log ends inside the event data"),
        "truncated-in-header": (data[:50], "not a usable TCG2 event log"),
        "sha1-only-log": (Log(signature=b"Spec ID Event00\0").data, "SHA-1-only"),
        "unknown-algorithm": (unknown_alg.data, "not in the spec header (0xc)"),
        "digest-count": (count.data, "digest count differs"),
        "pcr-24": (pcr24.data, "PCR index above 23 (0x18)"),
        "absurd-size": (absurd_data, "absurd event size"),
    }


@pytest.mark.parametrize("name", list(hostile_logs()))
def test_hostile_log_exits_2(tmp_path, name):
    data, needle = hostile_logs()[name]
    path = tmp_path / name
    path.write_bytes(data)
    r = run("--log", path, "--no-pcr-values")
    assert r.returncode == 2, r.stdout
    assert str(path) in r.stderr and needle in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""


def test_missing_log_exits_2(tmp_path):
    r = run("--log", tmp_path / "nope", "--no-pcr-values")
    assert r.returncode == 2
    assert f"{tmp_path / 'nope'}: cannot open: No such file or directory" in r.stderr
    r = run("--log", tmp_path, "--no-pcr-values")
    assert r.returncode == 2
    assert "is a directory" in r.stderr


def test_random_corruption_never_crashes(tmp_path):
    good = firmware_log(banks=("sha1", "sha256", "sha512"), locality=3)
    good.sysext(".extra/sysext/a.sysext.raw", b"hello\n")
    rng = random.Random(1234)
    path = tmp_path / "log"
    for _ in range(150):
        data = bytearray(good.data)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data))]
        path.write_bytes(bytes(data))
        r = run("--log", path, "--no-pcr-values", "--verbose")
        if r.returncode == 2:
            assert str(path) in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["--pcr-value", "sha256:7"], "expected BANK:N=HEX"),
    (["--pcr-value", "md5:7=00"], "unknown bank 'md5'"),
    (["--pcr-value", "sha256:24=" + "00" * 32], "not a number 0..23"),
    (["--pcr-value", "sha256:x=" + "00" * 32], "not a number 0..23"),
    (["--pcr-value", "sha256:7=" + "00" * 31], "must be 64 hex digits"),
    (["--pcr-value", "sha256:7=" + "zz" * 32], "must be 64 hex digits"),
    (["--pcr-value", "sha384:7=" + "00" * 48], "has no sha384 digests"),
    (["--pcr-value", "sha1:7=" + "00" * 20, "--pcr-value", "sha1:7=" + "11" * 20], "given twice"),
    (["--pcr", "24"], "not a PCR number"),
    (["--bank", "sha3"], "unknown bank"),
    (["--bank", "sha512"], "has no sha512 digests"),
    (["--tpm-dir", "/nonexistent-tpm"], "--tpm-dir /nonexistent-tpm"),
    (["--no-pcr-values", "--pcr-value", "sha1:7=" + "00" * 20], "cannot be combined"),
    (["stray"], "unexpected argument"),
])
def test_bad_arguments_exit_2(tmp_path, args, needle):
    log = firmware_log()
    r = run("--log", log.write(tmp_path / "log"), *args)
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr, r.stderr


def test_help():
    r = run("--help")
    assert r.returncode == 0
    assert "--expect FILE" in r.stdout


def test_expect_of_several_profiles_needs_profile(tmp_path):
    """predict --profile all writes every profile's entries, each with "profile"; one boot is one profile."""
    log, pred = pcr11_log_and_prediction()
    good = pred["sha256"]
    other = [dict(e, hash="00" * 32) for e in good]
    several = {"sha256": [dict(e, profile=0) for e in other] + [dict(e, profile=1) for e in good]}
    exp = tmp_path / "expect.json"
    exp.write_text(json.dumps(several))
    logf = log.write(tmp_path / "log")
    r = run("--log", logf, "--no-pcr-values", "--expect", exp)
    assert r.returncode == 2 and "several UKI profiles: give --profile N" in r.stderr, r.stderr
    r = run("--log", logf, "--no-pcr-values", "--expect", exp, "--profile", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("--log", logf, "--no-pcr-values", "--expect", exp, "--profile", "0")
    assert r.returncode == 1, r.stdout + r.stderr
    r = run("--log", logf, "--no-pcr-values", "--expect", exp, "--profile", "7")
    assert r.returncode == 2 and "--profile 7" in r.stderr, r.stderr
    # One profile only: that one, without --profile.
    exp.write_text(json.dumps({"sha256": [dict(e, profile=1) for e in good]}))
    assert run("--log", logf, "--no-pcr-values", "--expect", exp).returncode == 0
