"""The selection rule (measure/selection.c, which the stub and every host
subcommand call) against an independent model of the rule as
docs/MEASUREMENTS.md states it, on random directory listings: names at
every edge of the name rules, sizes near every limit, counts near 128.

The C side runs through build/test/selection-driver (tests/drivers/); the
model below is written from the documentation, not from the C code.
"""
from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "build" / "test" / "selection-driver"

GIB = 1 << 30
RULES = {"sysext-stub": 0, "systemd-252": 1, "systemd-256": 2}
#: enum ext_kind bits (measure/extensions.h).
KINDS = {"sysext": 1, "signature": 2, "confext": 4, "credential": 8, "addon": 16}
#: What each ESP directory holds (docs/MEASUREMENTS.md): per-UKI, \loader\extensions, \loader\credentials,
#: \loader\addons. systemd-stub reads no signature files.
ROLES = {"per-uki": {"sysext", "confext", "credential", "addon", "signature"},
         "global": {"sysext", "confext", "signature"},
         "credentials": {"credential"}, "addons": {"addon"}}
#: Per kind: (count limit, smallest size, largest size, total) with our limits (docs/MEASUREMENTS.md, SECURITY.md).
LIMITS = {"sysext": (128, 0, 4 * GIB - 1, 3 * GIB), "confext": (128, 0, 4 * GIB - 1, 3 * GIB),
          "credential": (128, 0, 2 << 20, 32 << 20), "addon": (32, 0, 256 << 20, 512 << 20),
          "signature": (16, 1, 64 * 1024, None)}

# ---------------------------------------------------------------- the model (docs/MEASUREMENTS.md)

FAT_REFUSED = set('"*/:<>?\\|')


SUFFIXES = {"sysext": ".sysext.raw", "confext": ".confext.raw", "credential": ".cred", "addon": ".addon.efi",
            "signature": ".pcrsig.json"}


def suffix_kind(text: str, rule: str) -> tuple[str, str]:
    """(kind the suffix names, reason when it names none) under @rule."""
    for kind in ("credential", "addon"):
        if text.endswith(SUFFIXES[kind]):
            return kind, ""
    if rule == "sysext-stub":
        for kind in ("sysext", "signature", "confext"):
            if text.endswith(SUFFIXES[kind]):
                return kind, ""
        return "none", "OTHER_SUFFIX"
    if rule == "systemd-256" and text.endswith(".confext.raw"):
        return "confext", ""
    return ("sysext", "") if text.endswith(".raw") else ("none", "NOT_RAW")


def name_verdict(units: list[int], is_dir: bool, dir_len: int, rule: str, held: set) -> tuple[str, str]:
    """(verdict, kind its suffix names) for one entry, from the name alone, in a directory holding @held."""
    text = "".join(chr(u) for u in units).lower() if all(u < 0x110000 for u in units) else ""
    kind, other = suffix_kind(text, rule) if units else ("none", "EMPTY_NAME")
    if kind != "none" and kind not in held:
        other = "CONFEXT" if kind == "confext" and rule != "sysext-stub" else \
            "OTHER_SUFFIX" if rule == "sysext-stub" else "NOT_RAW"
        kind = "none"
    if not units:
        return "EMPTY_NAME", "none"
    if is_dir:
        return "DIRECTORY", kind
    if units[0] == ord("."):
        return "DOT_FILE", kind
    if len(units) > 255:
        return "TOO_LONG", kind
    if any(u == 0 or u > 127 for u in units):
        return "NON_ASCII", kind
    if units[0] == 0x20 or units[-1] in (0x20, ord(".")) or any(u < 0x20 or chr(u) in FAT_REFUSED for u in units):
        return "FAT_NAME", kind
    if 2 + dir_len + 1 + len(units) + 1 > 260:
        return "PATH_TOO_LONG", kind
    return ("PICK", kind) if kind != "none" else (other, "none")


def model(entries, rule: str, ours: bool, dir_len: int, held: set):
    """(skips as a set of (entry, verdict, kind), kept per kind in order)."""
    skips = set()
    picked = {k: [] for k in held}
    dropped_dir = set()
    for i, (units, size, is_dir) in enumerate(entries):
        verdict, kind = name_verdict(units, is_dir, dir_len, rule, held)
        if verdict != "PICK":
            skips.add((i, verdict, kind))
            continue
        _, smallest, largest, _ = LIMITS[kind]
        if not ours and kind != "signature":
            largest = None if kind == "addon" else 4 * GIB - 1
        if largest is not None and size > largest:
            if ours or kind == "signature":
                skips.add((i, "TOO_LARGE", kind))
            else:
                skips.add((i, "DIRECTORY_DROPPED", kind))
                dropped_dir.add(kind)
            continue
        if size < smallest:
            skips.add((i, "EMPTY_FILE", kind))
            continue
        picked[kind].append(i)
    kept = {}
    for kind, idx in picked.items():
        # Measurement order: plain code-unit order; the earlier entry first on equal names.
        order = sorted(idx, key=lambda i: (entries[i][0], i))
        limit, _, _, total_max = LIMITS[kind]
        if not ours and kind != "signature":
            limit, total_max = None, None
        if limit is not None:
            for i in order[limit:]:
                skips.add((i, "COUNT", kind))
            order = order[:limit]
        result, total = [], 0
        for i in order:
            if kind in dropped_dir:
                skips.add((i, "DIRECTORY_DROPPED", kind))
            elif total_max is not None and total + entries[i][1] > total_max:
                skips.add((i, "TOTAL", kind))
            else:
                total += entries[i][1]
                result.append(i)
        kept[kind] = result
    return skips, kept

# ---------------------------------------------------------------- random listings


def u(s: str) -> list[int]:
    return [ord(c) for c in s]


EDGE_NAMES = [
    "", ".", ".sysext.raw", ".hidden.sysext.raw", "a.sysext.raw", "A.SYSEXT.RAW", "Mixed.SysExt.Raw", "other.raw",
    "x.confext.raw", "y.cred", "k.pcrsig.json", "K.PCRSIG.JSON", "sysext.raw", "a.sysext.raw.bak", " lead.sysext.raw",
    "trail.sysext.raw ", "dot.sysext.raw.", "sub\\x.sysext.raw", "esc\x1b[2J.sysext.raw", "tab\t.sysext.raw",
    'q".sysext.raw', "s*.sysext.raw", "c:.sysext.raw", "p|.sysext.raw", "w?.sysext.raw", "del\x7f.sysext.raw",
    "in side.sysext.raw", "é.sysext.raw", "a\u3000.sysext.raw", "\ufffe.pcrsig.json", "b.raw", "c.RAW",
]


def random_name(rng: random.Random) -> list[int]:
    r = rng.random()
    if r < 0.25:
        return u(rng.choice(EDGE_NAMES))
    suffix = rng.choice([".sysext.raw", ".SYSEXT.raw", ".pcrsig.json", ".raw", ".confext.raw", ".txt", "", ".cred",
                         ".CRED", ".addon.efi"])
    if r < 0.35:  # lengths at the path and name limits
        n = rng.choice([200, 226, 227, 228, 237, 238, 239, 240, 246, 247, 254, 255, 256, 300])
        return u("n" * max(0, n - len(suffix)) + suffix)
    stem = "".join(rng.choice("abcABC019_-") for _ in range(rng.randint(1, 6)))
    units = u(stem + suffix)
    if rng.random() < 0.05:
        units.insert(rng.randrange(len(units) + 1), rng.choice([0x01, 0x1f, 0x7f, 0x80, 0xe9, 0xffff, 0x5c, 0x20]))
    return units


def random_size(rng: random.Random, units: list[int]) -> int:
    return rng.choice([0, 1, 2, 4096, 64 * 1024, 64 * 1024 + 1, GIB // 128, GIB // 100, GIB // 2, GIB, 3 * GIB - 1,
                       3 * GIB, 3 * GIB + 1, 4 * GIB - 1, 4 * GIB, 4 * GIB + 1, 1 << 62, rng.randint(0, 50 << 20),
                       (2 << 20), (2 << 20) + 1, (256 << 20), (256 << 20) + 1, (32 << 20) // 100])


def random_listing(rng: random.Random):
    n = rng.choice([0, 1, 5, 20, 120, 127, 128, 129, 130, 140, 200])
    entries = []
    for _ in range(n):
        units = random_name(rng)
        if rng.random() < 0.7 and not rng.random() < 0.1:
            # most entries are real candidates, so the count and total limits are reached
            units = u(f"s{rng.randrange(400):03d}") + u(rng.choice([".sysext.raw", ".sysext.raw", ".pcrsig.json",
                                                                    ".confext.raw", ".cred", ".addon.efi"]))
        entries.append((units, random_size(rng, units), rng.random() < 0.03))
    return entries


def run_driver(entries, rule: str, ours: bool, dir_len: int, held: set):
    lines = [f"{RULES[rule]} {int(ours)} {dir_len} {sum(KINDS[k] for k in held)}"]
    for units, size, is_dir in entries:
        lines.append(f"{''.join('%04x' % c for c in units) or '-'} {size} {int(is_dir)}")
    out = subprocess.run([str(DRIVER)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    skips, kept = [], {k: [] for k in held}
    for line in out.stdout.splitlines():
        word = line.split()
        if word[0] == "skip":
            skips.append((int(word[1]), word[2], word[3]))
        else:
            kept[word[1]].append(int(word[2]))
    return skips, kept


@pytest.fixture(scope="module")
def driver():
    if not DRIVER.exists():
        pytest.fail(f"{DRIVER} is missing: run `make {DRIVER.relative_to(REPO)}` (make cli-check builds it)")
    return DRIVER


@pytest.mark.parametrize("seed", range(int(os.environ.get("SELECTION_MODEL_SEEDS", "200"))))
def test_selection_equals_the_model(driver, seed):
    rng = random.Random(seed)
    rule = rng.choice(["sysext-stub", "sysext-stub", "systemd-252", "systemd-256"])
    ours = rule == "sysext-stub"
    dir_len = rng.choice([0, 10, 18, 29, 100, 200, 256, 257])
    held = set(ROLES[rng.choice(list(ROLES))])
    if not ours:
        held.discard("signature")
    entries = random_listing(rng)
    got_skips, got_kept = run_driver(entries, rule, ours, dir_len, held)
    want_skips, want_kept = model(entries, rule, ours, dir_len, held)
    assert got_kept == want_kept, f"seed {seed}: kept differs"
    # Every entry not kept is reported exactly once, with the model's reason.
    assert len(got_skips) == len(set(got_skips)), f"seed {seed}: an entry reported twice"
    assert set(got_skips) == want_skips, f"seed {seed}: {sorted(set(got_skips) ^ want_skips)[:5]}"
    kept = [i for idx in got_kept.values() for i in idx]
    assert sorted(kept + [s[0] for s in got_skips]) == list(range(len(entries))), f"seed {seed}"


def test_the_documented_example_129_names(driver):
    """Issue 13's case: 129 names, the first by name over the 3 GiB total: 127 kept."""
    entries = [(u("0-big.sysext.raw"), 3 * GIB + 1, False)] + \
        [(u(f"s{i:03d}.sysext.raw"), 1000, False) for i in range(128)]
    held = ROLES["global"]
    skips, kept = run_driver(entries, "sysext-stub", True, 18, held)
    assert len(kept["sysext"]) == 127
    assert set(skips) == {(0, "TOTAL", "sysext"), (128, "COUNT", "sysext")}
    assert (set(skips), kept) == model(entries, "sysext-stub", True, 18, held)
