#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-stub-glue: ESPs and fault schedules for the stub's glue.

    tests/fuzz/make-stub-glue-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/stub-glue)

Deterministic: running it again rewrites the same bytes. The input format is
described at the top of tests/fuzz/fuzz-stub-glue.c; header() and record()
below write it. One seed per case the unit tests (tests/test-stub-glue.c)
cover, so the fuzzer starts from every fault the in-memory firmware knows:
each GetInfo and directory-entry fault, files that changed size since the
listing, short reads, read errors, reads claiming more than they wrote
(the last kept a file with unwritten bytes before efi-lib/esp.c checked it),
failing measurements, short memory, thousands of entries, odd names and
signature files.
"""
import os
import sys

SUFFIX = {".sysext.raw": 0, ".pcrsig.json": 1, ".SysExt.Raw": 2, ".raw": 3, "": 4, ".PCRSIG.JSON": 5,
          ".sysext.raw.": 6, ".sysext.raw ": 7}
# Index into the target's content-size table.
SIZE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 7: 5, 100: 6, 511: 7, 512: 8, 1000: 9, 4095: 10, 4096: 11, 4097: 12,
        20000: 13, 70000: 14, 65536: 15}
LISTED = {"same": 0, "+1": 8, "-1": 9, "0": 10, "5G": 11, "3G": 12, "twice": 13, "4G-1": 14, "1": 15}
FAULT = {None: 0, "open": 4, "open-absent": 12, "read": 5, "read-corrupt": 13, "short": 6, "overreport": 7}
INFO = ["ok", "error", "size-zero", "size-small", "null-success", "no-nul", "grows", "again", "shrinks", "not-dir"]
ENTRY = ["ok", "error", "tiny", "short", "oversized", "no-nul", "stuck", "too-small-tiny", "grows", "end",
         "padded", "bad-size-field"]


def header(tpm=True, cc=False, tcg2_no_tpm=False, per_uki=True, no_dots=False, section=None, pcrpkey=False,
           embedded=False, page_limit=0, global_info="ok", pool_fail=0, pages_fail=0, per_uki_info="ok",
           no_volume=False, measure_fail=0, how="error", global_open_fails=False, per_uki_absent=False):
    h0 = (tpm << 0) | (cc << 1) | (tcg2_no_tpm << 2) | (per_uki << 3) | (no_dots << 4) | \
         ((section is not None) << 5) | (pcrpkey << 6) | (embedded << 7)
    h1 = page_limit | INFO.index(global_info) << 4
    h3 = pages_fail | INFO.index(per_uki_info) << 4 | no_volume << 7
    sections = {None: 0, "fragment": 0, "empty": 1, "broken": 2, "too-large": 3}
    h5 = {"error": 0, "full": 1, "cc-map": 2}[how] | sections[section] << 2 | global_open_fails << 4 | \
        per_uki_absent << 5
    return bytes([h0, h1, pool_fail, h3, measure_fail, h5])


def name_bytes(name):
    """A str whose characters above 0xff (or 0xfe itself) become 0xfe hi lo."""
    out = b""
    for ch in name:
        c = ord(ch)
        out += bytes([0xfe, c >> 8, c & 0xff]) if c >= 0xfe else bytes([c])
    return out


def record(name, suffix=".sysext.raw", where="global", size=100, listed="same", fault=None, param=0, entry=None,
           content=None, kind="file"):
    op = {"global": 0, "per-uki": 1}[where] if kind == "file" else {"dir": 2, "bulk": 0x83}[kind]
    op |= SUFFIX[suffix] << 2 | (content is not None) << 5 | (entry is not None) << 6
    if kind == "bulk":
        return bytes([op, name])  # name: the number of files / 16
    nb = name_bytes(name)
    out = bytes([op, len(name)]) + nb + bytes([SIZE[size] | LISTED[listed] << 4, FAULT[fault], param])
    if entry is not None:
        out += bytes([ENTRY.index(entry)])
    if content is not None:
        out += bytes([len(content)]) + content
    return out


def seeds():
    yield "boot", header(section="fragment", pcrpkey=True, embedded=True) + \
        record("b", size=4097) + record("a", size=1) + record("c", where="per-uki", size=20000) + \
        record("x", suffix=".pcrsig.json", param=13) + record("y", suffix=".pcrsig.json", where="per-uki", param=11) + \
        record("readme", suffix="")
    yield "no-tpm", header(tpm=False, tcg2_no_tpm=True) + record("a") + record("b", size=0)
    yield "cc-and-tpm", header(cc=True) + record("a") + record("b", where="per-uki")
    yield "cc-only", header(tpm=False, cc=True) + record("a") + record("b")
    yield "thousands", header(page_limit=12) + record(20, suffix=".sysext.raw", kind="bulk") + \
        record(255, suffix="", kind="bulk") + record(2, suffix=".pcrsig.json", kind="bulk") + \
        record(255, suffix=".SysExt.Raw", kind="bulk")
    for info in INFO[1:]:
        yield "getinfo-" + info, header(global_info=info, per_uki_info=info) + record("a") + \
            record("b", where="per-uki")
    for entry in ENTRY[1:]:
        yield "entry-" + entry, header() + record("a") + record("b", entry=entry) + record("c") + \
            record("d", where="per-uki", entry=entry)
    yield "changed-size", header() + record("a", listed="+1") + record("b", listed="-1") + \
        record("c", listed="0") + record("d", listed="twice") + record("e") + \
        record("s", suffix=".pcrsig.json", listed="+1", param=3)
    yield "huge-listed", header() + record("a", listed="5G") + record("b", listed="3G") + \
        record("c", listed="4G-1") + record("d", size=7)
    yield "read-faults", header() + record("a", fault="open") + record("b", fault="open-absent") + \
        record("c", fault="read", param=128) + record("d", fault="read-corrupt", param=0) + \
        record("e", fault="short", param=0, size=1000) + record("h")
    yield "read-overreport", header() + record("f", fault="overreport", param=3) + \
        record("g", fault="overreport", param=50, size=4097, listed="+1") + \
        record("s", suffix=".pcrsig.json", fault="overreport", param=7) + record("h")
    for at in range(1, 6):
        yield "measure-fail-%d" % at, header(measure_fail=at, cc=at % 2 == 0) + record("a") + record("b")
    yield "measure-log-full", header(measure_fail=2, how="full") + record("a") + record("b")
    yield "cc-map-fails", header(cc=True, how="cc-map") + record("a")
    yield "pages-short", header(page_limit=4) + record("a", size=4096) + record("b", size=20000) + \
        record("c", size=100)
    yield "pool-fail", header(pool_fail=7, section="fragment") + record("a") + \
        record("x", suffix=".pcrsig.json", param=1)
    yield "pages-fail", header(pages_fail=2, section="empty", pcrpkey=True) + record("a") + record("b", where="per-uki")
    yield "odd-names", header(no_dots=True) + record("\x1b[2J") + record("\u202e\ud800") + \
        record("sub\\x") + record(" a") + record("a") + record("b", suffix=".sysext.raw.") + \
        record("c", suffix=".sysext.raw ") + record("d*") + record("e", suffix=".SysExt.Raw") + \
        record("\x7f") + record("sub", kind="dir") + record("f", suffix=".raw")
    yield "signatures", header(section="too-large") + \
        record("a", suffix=".pcrsig.json", content=b'{"sha256":[]}') + \
        record("b", suffix=".pcrsig.json", content=b'{"sha256":[{]}') + \
        record("c", suffix=".PCRSIG.JSON", param=7) + record("d", suffix=".pcrsig.json", where="per-uki", param=9)
    yield "section-only", header(section="fragment", per_uki=False)
    yield "section-broken", header(section="broken") + record("a", suffix=".pcrsig.json", param=2)
    yield "no-volume", header(no_volume=True, section="fragment", pcrpkey=True) + record("a")
    yield "directories-absent", header(global_open_fails=True, per_uki_absent=True) + record("a")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "stub-glue")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
