"""Tests of `sysext-stub pcrlock` and `eventlog --expect DIR`.

Expected records are computed here with hashlib (the stub's per-file events:
H(path in the initrd + NUL), then H(content), docs/MEASUREMENTS.md), or taken
from `sysext-stub predict --json` where predict is itself checked against
systemd-measure (PCR 11) and the reference vectors (test_predict.py). The
golden vector tests/vectors/pcrlock-257 holds what systemd-pcrlock 257 listed
for a tree made from fixed inputs.
"""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_eventlog import EV_IPL, Log

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("SYSEXT_STUB_CLI") or ROOT / "build" / "sysext-stub").absolute()
STUB = ROOT / "build" / "sysext-stub-x64.efi"
VECTOR = ROOT / "tests" / "vectors" / "pcrlock-257"
BANKS = ("sha1", "sha256", "sha384", "sha512")


def cli(*args, check=True, cwd=None):
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode in (0, 1, 2), f"crashed: {r.returncode}\n{r.stderr}"
    if check:
        assert r.returncode == 0, r.stderr
    return r


def pcrlock_json(*args):
    return {c["id"]: {v["id"]: v["pcrlock"]["records"] for v in c["variants"]}
            for c in json.loads(cli("pcrlock", "--json", *args).stdout)["components"]}


def write_set(base, files):
    base.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (base / name).write_bytes(data)
    return base


def record(pcr, data, banks=BANKS):
    return {"pcr": pcr, "digests": [{"hashAlg": b, "digest": hashlib.new(b, data).hexdigest()} for b in banks]}


def file_records(name, content, banks=BANKS, prefix=".extra/sysext"):
    return [record(13, f"{prefix}/{name}".encode() + b"\0", banks), record(13, content, banks)]


def label(content):
    return "sha256-" + hashlib.sha256(content).hexdigest()[:16]


def assert_failed(r, *words):
    assert r.returncode != 0, r.stdout
    for w in words:
        assert w in r.stderr, r.stderr


@pytest.fixture
def states(tmp_path):
    s1 = write_set(tmp_path / "s1", {"k3s.sysext.raw": b"k3s 1.29", "tools.sysext.raw": b"tools"})
    s2 = write_set(tmp_path / "s2", {"k3s.sysext.raw": b"k3s 1.30", "tools.sysext.raw": b"tools"})
    return s1, s2


# ---------------------------------------------------------------- components

def test_one_component_per_slot_one_variant_per_version(states):
    s1, s2 = states
    got = pcrlock_json("--extra-dir", s1, "--extra-dir", s2)
    assert got == {
        "680-sysext-stub-sysext-k3s.sysext.raw": {
            label(b"k3s 1.29"): file_records("k3s.sysext.raw", b"k3s 1.29"),
            label(b"k3s 1.30"): file_records("k3s.sysext.raw", b"k3s 1.30")},
        "680-sysext-stub-sysext-tools.sysext.raw": {label(b"tools"): file_records("tools.sysext.raw", b"tools")},
    }


def test_variant_from_a_file_and_from_digests(tmp_path, states):
    s1, _ = states
    (tmp_path / "next.raw").write_bytes(b"k3s 1.31")
    digests = ",".join(f"{b}:{hashlib.new(b, b'k3s 1.32').hexdigest()}" for b in BANKS)
    got = pcrlock_json("--extra-dir", s1, "--variant", f"k3s.sysext.raw={tmp_path / 'next.raw'}",
                       "--variant", f"sysext/k3s.sysext.raw:v1.32={digests}")
    k3s = got["680-sysext-stub-sysext-k3s.sysext.raw"]
    assert k3s[label(b"k3s 1.31")] == file_records("k3s.sysext.raw", b"k3s 1.31")
    assert k3s["v1.32"] == file_records("k3s.sysext.raw", b"k3s 1.32")
    assert len(k3s) == 3


def test_digest_variant_must_cover_every_bank(states):
    s1, _ = states
    only = f"sha256:{hashlib.sha256(b'x').hexdigest()}"
    r = cli("pcrlock", "--extra-dir", s1, "--variant", f"k3s.sysext.raw={only}", check=False)
    assert_failed(r, "no sha1 digest", "--bank")
    got = pcrlock_json("--extra-dir", s1, "--bank", "sha256", "--variant", f"k3s.sysext.raw:x={only}")
    assert got["680-sysext-stub-sysext-k3s.sysext.raw"]["x"] == [
        record(13, b".extra/sysext/k3s.sysext.raw\0", ["sha256"]), record(13, b"x", ["sha256"])]


def test_a_slot_missing_from_a_state_gets_an_absent_variant_and_a_warning(tmp_path, states):
    s1, s2 = states
    (s1 / "k3s-v1.29.sysext.raw").write_bytes(b"renamed")
    r = cli("pcrlock", "--json", "--extra-dir", s1, "--extra-dir", s2)
    comps = {c["id"]: {v["id"]: v["pcrlock"]["records"] for v in c["variants"]}
             for c in json.loads(r.stdout)["components"]}
    assert comps["680-sysext-stub-sysext-k3s-v1.29.sysext.raw"]["absent"] == []
    assert "approves boots without it" in r.stderr and "k3s.sysext.raw, not k3s-v1.29.sysext.raw" in r.stderr
    # Component order is measurement order: strcmp of the file names.
    ids = list(comps)
    assert ids == sorted(ids, key=lambda s: s.encode())


def test_global_sysexts_are_their_own_slots_after_the_per_uki_ones(tmp_path, states):
    s1, _ = states
    g = write_set(tmp_path / "global", {"k3s.sysext.raw": b"global k3s"})
    got = pcrlock_json("--extra-dir", s1, "--global-dir", g, "--pcr", "13")
    assert list(got) == ["680-sysext-stub-sysext-k3s.sysext.raw", "680-sysext-stub-sysext-tools.sysext.raw",
                         "681-sysext-stub-global_sysext-k3s.sysext.raw"]
    assert list(got["681-sysext-stub-global_sysext-k3s.sysext.raw"].values()) == [
        file_records("k3s.sysext.raw", b"global k3s", prefix=".extra/global_sysext")]
    (tmp_path / "new").write_bytes(b"new")
    r = cli("pcrlock", "--extra-dir", s1, "--global-dir", g, "--variant", f"k3s.sysext.raw={tmp_path}/new",
            check=False)
    assert_failed(r, "names a file in sysext and in global_sysext", "DIR/NAME")
    got = pcrlock_json("--extra-dir", s1, "--global-dir", g, "--variant",
                       f"global_sysext/k3s.sysext.raw:n={tmp_path}/new")
    assert got["681-sysext-stub-global_sysext-k3s.sysext.raw"]["n"] == file_records(
        "k3s.sysext.raw", b"new", prefix=".extra/global_sysext")
    r = cli("pcrlock", "--extra-dir", s1, "--variant", "k3s.sysext.raw=sha1:00", check=False)
    assert_failed(r, "sha1 digest is 40 hex digits")


def test_systemd_scheme_one_component_one_variant_per_state(states):
    s1, s2 = states
    got = pcrlock_json("--scheme=systemd", "--systemd-version", "257", "--extra-dir", s1, "--extra-dir", s2)
    assert list(got) == ["680-sysext-stub-archives"]
    variants = got["680-sysext-stub-archives"]
    assert len(variants) == 2
    for state in (s1, s2):
        j = json.loads(cli("predict", "--json", "--scheme=systemd", "--systemd-version", "257", "--extra-dir",
                           state, "--pcr", "13").stdout)
        assert predicted_records(j, 13) in variants.values(), variants
    r = cli("pcrlock", "--scheme=systemd", "--extra-dir", s1, "--variant", "k3s.sysext.raw=x", check=False)
    assert_failed(r, "--scheme=systemd")


def build_uki(tmp_path, cmdline=None):
    kernel = tmp_path / "kernel.efi"
    shutil.copy(STUB, kernel)
    args = ["build", "--stub", STUB, "--linux", kernel, "--os-release", "ID=test\n", "--output", tmp_path / "uki.efi"]
    if cmdline:
        args += ["--cmdline", cmdline]
    cli(*args)
    return tmp_path / "uki.efi"


def predicted_records(j, pcr):
    """predict --json's firmware events of @pcr (no boot phases) as pcrlock records."""
    per_bank = {b: [ev for ev in next(x for x in j[b] if x["pcr"] == pcr)["events"]
                    if ev.get("type", "EV_IPL") != "userspace"] for b in BANKS}
    return [{"pcr": pcr, "digests": [{"hashAlg": b, "digest": per_bank[b][i]["digest"]} for b in BANKS]}
            for i in range(len(per_bank["sha256"]))]


def test_pcr11_and_pcr12_components_hold_predicts_events(tmp_path, states):
    s1, s2 = states
    uki = build_uki(tmp_path)
    creds = write_set(tmp_path / "s2", {"secret.cred": b"cred"})
    got = pcrlock_json("--uki", uki, "--cmdline", "console=ttyS0", "--extra-dir", s1, "--extra-dir", s2)
    assert "660-sysext-stub-uki" not in got  # by default systemd-pcrlock lock-uki's (the same records)
    got = pcrlock_json("--uki", uki, "--cmdline", "console=ttyS0", "--extra-dir", s1, "--extra-dir", s2,
                       "--pcr", "11", "--pcr", "12", "--pcr", "13")
    assert set(got) >= {"660-sysext-stub-uki", "670-sysext-stub-parameters"}
    assert not any(k.startswith("0") or k >= "700" for k in got)  # before 700-action-efi-exit-boot-services
    j1 = json.loads(cli("predict", "--json", "--uki", uki, "--cmdline", "console=ttyS0", "--extra-dir", s1).stdout)
    j2 = json.loads(cli("predict", "--json", "--uki", uki, "--cmdline", "console=ttyS0", "--extra-dir", s2).stdout)
    (uki_records,) = got["660-sysext-stub-uki"].values()
    assert uki_records == predicted_records(j1, 11)
    assert len(uki_records) % 2 == 0 and len(uki_records) >= 4  # name + content per section, no phases
    params = list(got["670-sysext-stub-parameters"].values())
    assert predicted_records(j1, 12) in params and predicted_records(j2, 12) in params and len(params) == 2
    assert creds


def test_output_tree_is_the_golden_vector_systemd_pcrlock_257_parsed(tmp_path):
    """The same inputs as tests/vectors/pcrlock-257/README: the same bytes, and systemd-pcrlock listed every file."""
    s1 = write_set(tmp_path / "s1", {"k3s.sysext.raw": b"k3s 1.29", "tools.sysext.raw": b"tools",
                                     "zz-extra.sysext.raw": b"extra"})
    write_set(tmp_path / "s2", {"k3s.sysext.raw": b"k3s 1.30", "tools.sysext.raw": b"tools"})
    (tmp_path / "k3s-1.31.raw").write_bytes(b"k3s 1.31")
    cli("pcrlock", "--extra-dir", "s1", "--extra-dir", "s2", "--variant", "k3s.sysext.raw:k3s-1.31=k3s-1.31.raw",
        "--cmdline", "console=ttyS0 quiet", "--output", "components", cwd=tmp_path)
    assert s1.exists()
    ours = sorted(p.relative_to(tmp_path / "components") for p in (tmp_path / "components").rglob("*.pcrlock"))
    golden = sorted(p.relative_to(VECTOR / "components") for p in (VECTOR / "components").rglob("*.pcrlock"))
    assert ours == golden
    for p in ours:
        assert (tmp_path / "components" / p).read_bytes() == (VECTOR / "components" / p).read_bytes(), p
    listed = json.loads((VECTOR / "list-components.json").read_text())
    assert sorted(Path(e["variants"]).relative_to("/comp") for e in listed) == ours
    assert all(Path(e["variants"]).parent.name == e["id"] + ".pcrlock.d" for e in listed)


def test_output_refuses_stale_variants_unless_replace(tmp_path, states):
    s1, s2 = states
    out = tmp_path / "out"
    cli("pcrlock", "--extra-dir", s1, "--extra-dir", s2, "--output", out)
    r = cli("pcrlock", "--extra-dir", s1, "--output", out, check=False)
    assert_failed(r, label(b"k3s 1.30") + ".pcrlock", "--replace")
    cli("pcrlock", "--extra-dir", s1, "--output", out, "--replace")
    assert sorted(p.name for p in (out / "680-sysext-stub-sysext-k3s.sysext.raw.pcrlock.d").iterdir()) == [
        label(b"k3s 1.29") + ".pcrlock"]


@pytest.mark.parametrize("args, words", [
    (["--variant", "k3s.sysext.raw=/nonexistent/k3s.raw"], ["/nonexistent/k3s.raw", "No such file"]),
    (["--variant", "k3s.sysext.raw=/"], ["not a regular file"]),
    (["--variant", "nothere.raw=/dev/null"], ["no approved state has a file 'nothere.raw'"]),
    (["--variant", "k3s.sysext.raw:v=@A", "--variant", "k3s.sysext.raw:v=@B"],
     ["680-sysext-stub-sysext-k3s.sysext.raw", "two different variants are both named 'v'"]),
    (["--variant", "k3s.sysext.raw:a/b=@A"], ["cannot name a variant"]),
    (["--variant", "k3s.sysext.raw"], ["SLOT[:LABEL]=FILE|DIGEST"]),
    (["--bank", "sm3_256"], ["unknown bank 'sm3_256'"]),
    (["--pcr", "9"], ["11, 12 and 13"]),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, states, args, words):
    s1, _ = states
    (tmp_path / "A").write_bytes(b"A")
    (tmp_path / "B").write_bytes(b"B")
    args = [a.replace("@", f"{tmp_path}/") for a in args]
    r = cli("pcrlock", "--extra-dir", s1, *args, "--output", tmp_path / "out", check=False)
    assert_failed(r, *words)
    assert r.returncode == 1 and not (tmp_path / "out").exists()


def test_validate_takes_validates_options(tmp_path, states):
    s1, _ = states
    r = cli("pcrlock", "--extra-dir", s1, "--validate", "--output", tmp_path / "out", check=False)
    assert_failed(r, "k3s.sysext.raw")  # not an image: refused
    assert not (tmp_path / "out").exists()
    r = cli("pcrlock", "--extra-dir", s1, "--cert", "/dev/null", check=False)
    assert_failed(r, "--validate")
    assert "--image-policy" in cli("pcrlock", "--help").stdout


# ---------------------------------------------------------------- eventlog --expect DIR

def boot_log(tmp_path, files, extra=None):
    log = Log(banks=("sha256",))
    for name, data in files.items():
        log.sysext(f".extra/sysext/{name}", data)
    if extra:
        log.extend(13, EV_IPL, b"", hashed=extra)
    return log.write(tmp_path / "log.bin")


def expect(log, comp, *args):
    return cli("eventlog", "--log", log, "--no-pcr-values", "--expect", comp, *args, check=False)


def test_expect_components_every_approved_version_matches(tmp_path, states):
    s1, s2 = states
    cli("pcrlock", "--extra-dir", s1, "--extra-dir", s2, "--output", tmp_path / "comp")
    for files in ({"k3s.sysext.raw": b"k3s 1.29", "tools.sysext.raw": b"tools"},
                  {"k3s.sysext.raw": b"k3s 1.30", "tools.sysext.raw": b"tools"}):
        r = expect(boot_log(tmp_path, files), tmp_path / "comp")
        assert r.returncode == 0 and "PCR 13 sha256: ok (4 log events)" in r.stdout, r.stdout + r.stderr


def test_expect_components_names_component_and_variant(tmp_path, states):
    s1, s2 = states
    cli("pcrlock", "--extra-dir", s1, "--extra-dir", s2, "--output", tmp_path / "comp")
    r = expect(boot_log(tmp_path, {"k3s.sysext.raw": b"k3s 1.99", "tools.sysext.raw": b"tools"}), tmp_path / "comp")
    assert r.returncode == 1
    assert "component 680-sysext-stub-sysext-k3s.sysext.raw, variant sha256-" in r.stdout
    assert "1 of its 2 records match, then log event" in r.stdout and ".extra/sysext/k3s.sysext.raw" in r.stdout
    r = expect(boot_log(tmp_path, {"k3s.sysext.raw": b"k3s 1.29", "tools.sysext.raw": b"tools"}, extra=b"x"),
               tmp_path / "comp")
    assert r.returncode == 1 and "is in no component (4 of 5 events matched)" in r.stdout, r.stdout
    r = expect(boot_log(tmp_path, {"tools.sysext.raw": b"tools"}), tmp_path / "comp")
    assert r.returncode == 1 and "component 680-sysext-stub-sysext-k3s.sysext.raw: none of its 2 variants" in r.stdout


def test_expect_components_absent_variant_and_bad_files(tmp_path, states):
    s1, s2 = states
    (s1 / "zz.sysext.raw").write_bytes(b"zz")
    cli("pcrlock", "--extra-dir", s1, "--extra-dir", s2, "--output", tmp_path / "comp")
    r = expect(boot_log(tmp_path, {"k3s.sysext.raw": b"k3s 1.30", "tools.sysext.raw": b"tools"}), tmp_path / "comp")
    assert r.returncode == 0, r.stdout
    bad = tmp_path / "comp" / "680-sysext-stub-sysext-zz.sysext.raw.pcrlock.d" / "broken.pcrlock"
    bad.write_text('{"records":[{"pcr":13}]}')
    r = expect(boot_log(tmp_path, {"tools.sysext.raw": b"tools"}), tmp_path / "comp")
    assert r.returncode == 2 and str(bad) in r.stderr and "digests" in r.stderr
