#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-eventlog: an event log and a prediction per seed.

    tests/fuzz/make-eventlog-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/eventlog)

A seed is fuzz-eventlog.c's input: one options byte, the prediction's
length (2 bytes, little endian), the prediction JSON (in the shape
`sysext-stub predict --json` prints), the log. The logs are those of
make-tcglog-seeds.py (OVMF-like, one to four banks, and the malformed
ones); the predictions are computed here from the log's own events, so
they match it, and then changed one thing at a time: a digest, an event
too many or too few, a type, the start value, userspace events on top
(os-separator, boot phases), a bank the log lacks, JSON that does not
parse, strings with control characters and bytes that are not UTF-8.
Deterministic: running it again rewrites the same bytes. The expect-*
seeds are not written here: they are the corpus of the former fuzz-expect
target (its predictions against valid-ovmf-four-banks-locality3), moved
over once.
"""
import hashlib
import importlib.util
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tcglog_seeds", os.path.join(HERE, "make-tcglog-seeds.py"))
tcglog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tcglog)

JSON, VERBOSE, PCR13, SHA256, PCR_VALUE = 1, 2, 4, 8, 16
TYPE_NAMES = {tcglog.EV_IPL: "EV_IPL", tcglog.EV_EVENT_TAG: "EV_EVENT_TAG", tcglog.EV_SEPARATOR: "EV_SEPARATOR",
              tcglog.EV_EFI_ACTION: "EV_EFI_ACTION", tcglog.EV_S_CRTM_VERSION: "EV_S_CRTM_VERSION",
              tcglog.EV_EFI_VARIABLE_DRIVER_CONFIG: "EV_EFI_VARIABLE_DRIVER_CONFIG",
              tcglog.EV_EFI_BOOT_SERVICES_APPLICATION: "EV_EFI_BOOT_SERVICES_APPLICATION",
              tcglog.EV_EFI_PLATFORM_FIRMWARE_BLOB: "EV_EFI_PLATFORM_FIRMWARE_BLOB"}


def records(log):
    """(pcr, type, {bank: digest}) of every record after the header, in log order."""
    algs = {v[0]: (k, v[1]) for k, v in tcglog.ALGS.items()}
    hdr_size = struct.unpack_from("<I", log, 28)[0]
    at = 32 + hdr_size
    out = []
    while at < len(log):
        pcr, etype, count = struct.unpack_from("<III", log, at)
        at += 12
        digests = {}
        for _ in range(count):
            alg, = struct.unpack_from("<H", log, at)
            name, size = algs[alg]
            digests[name] = log[at + 2:at + 2 + size]
            at += 2 + size
        size, = struct.unpack_from("<I", log, at)
        at += 4 + size
        out.append((pcr, etype, digests))
    return out


def prediction(log, pcrs=(13,), userspace=(), phase=None, initial=None, locality=0):
    """The prediction of @pcrs that matches @log, plus @userspace words extended on top. @initial(size): a start
    value for every PCR (None: zero, or for PCR 0 the @locality the log's StartupLocality event gives)."""
    doc = {}
    for bank in tcglog.ALGS:
        entries = []
        size = tcglog.ALGS[bank][1]
        for pcr in pcrs:
            start = initial(size) if initial else bytes(size - 1) + bytes([locality if pcr == 0 else 0])
            events, value = [], start
            for p, etype, digests in records(log):
                if p != pcr or etype == tcglog.EV_NO_ACTION or bank not in digests:
                    continue
                events.append({"type": TYPE_NAMES.get(etype, "EV_IPL"), "digest": digests[bank].hex(),
                               "description": f"record of type 0x{etype:x}"})
                value = hashlib.new(bank, value + digests[bank]).digest()
            if not events:
                continue
            for word in userspace:
                d = hashlib.new(bank, word.encode()).digest()
                events.append({"type": "userspace", "digest": d.hex(), "description": word})
                value = hashlib.new(bank, value + d).digest()
            entry = {"pcr": pcr, "hash": value.hex(), "events": events}
            if phase:
                entry["phase"] = phase
            if start != bytes(size):
                entry["initial"] = start.hex()
            entries.append(entry)
        if entries:
            doc[bank] = entries
    return doc


def seed(options, expect, log):
    text = expect if isinstance(expect, bytes) else json.dumps(expect, separators=(",", ":")).encode()
    assert len(text) < 65536
    return bytes([options]) + struct.pack("<H", len(text)) + text + log


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "eventlog")
    os.makedirs(outdir, exist_ok=True)
    two = tcglog.ovmf_like(["sha1", "sha256"])
    four = tcglog.ovmf_like(["sha1", "sha256", "sha384", "sha512"], locality=3)
    one = tcglog.ovmf_like(["sha256"])
    match = prediction(two)
    seeds = {
        "matching-pcr13": seed(0, match, two),
        "matching-pcr13-json-verbose": seed(JSON | VERBOSE, match, two),
        "matching-four-banks-pcrs-0-4-9-13": seed(JSON, prediction(four, pcrs=(0, 4, 9, 13), locality=3), four),
        "matching-selected-sha256-pcr13": seed(PCR13 | SHA256 | JSON, prediction(four), four),
        "matching-os-separator": seed(0, prediction(two, userspace=("os-separator",)), two),
        "matching-phase-words": seed(JSON, prediction(one, pcrs=(4,), userspace=("enter-initrd", "leave-initrd"),
                                                    phase="enter-initrd:leave-initrd"), one),
        "no-expect-json-verbose": seed(JSON | VERBOSE, b"", four),
        "no-expect-pcr-value": seed(PCR_VALUE | JSON, b"", one),
        "pcr-value-no-sha256": seed(PCR_VALUE, b"", tcglog.ovmf_like(["sha1"])),
    }
    wrong = json.loads(json.dumps(match))
    wrong["sha256"][0]["events"][1]["digest"] = "00" * 32
    seeds["mismatch-digest"] = seed(JSON, wrong, two)
    fewer = json.loads(json.dumps(match))
    del fewer["sha1"][0]["events"][-1]
    seeds["mismatch-log-has-more"] = seed(0, fewer, two)
    more = json.loads(json.dumps(match))
    more["sha256"][0]["events"].append(dict(more["sha256"][0]["events"][0]))
    seeds["mismatch-log-has-fewer"] = seed(VERBOSE, more, two)
    typed = json.loads(json.dumps(match))
    typed["sha256"][0]["events"][0]["type"] = "EV_EVENT_TAG"
    seeds["mismatch-type"] = seed(JSON, typed, two)
    seeds["mismatch-initial"] = seed(0, prediction(two, initial=lambda size: bytes(range(size))), two)
    seeds["mismatch-pcr0-locality"] = seed(JSON, prediction(four, pcrs=(0,)), four)
    seeds["mismatch-hash"] = seed(JSON, {"sha256": [{**match["sha256"][0], "hash": "11" * 32}]}, two)
    seeds["bank-the-log-lacks"] = seed(JSON, prediction(four), one)
    hostile = json.loads(json.dumps(match))
    hostile["sha256"][0]["events"][0]["description"] = "\x1b[2J\x7f\u2603"
    hostile["sha256"][0]["events"][0]["file"] = "/tmp/\t\n"
    hostile["sha256"][0]["events"][0]["digest"] = "22" * 32
    hostile["sha256"][0]["phase"] = "\x01phase"
    seeds["strings-with-control-characters"] = seed(JSON, hostile, two)
    seeds["strings-with-control-characters-text"] = seed(0, hostile, two)
    nul = json.loads(json.dumps(match))
    nul["sha256"][0]["phase"] = "a\x00b"
    seeds["string-with-nul"] = seed(0, nul, two)
    raw = json.dumps(match, separators=(",", ":")).encode().replace(b"record of type", b"\xff\xfe\xc0\x80", 1)
    seeds["strings-not-utf8"] = seed(0, raw, two)
    seeds["bad-json"] = seed(JSON, b'{"sha256":[{"pcr":13,}]}', two)
    seeds["bad-json-not-an-object"] = seed(0, b"[]", two)
    seeds["bad-pcr-24"] = seed(JSON, b'{"sha256":[{"pcr":24,"hash":"00","events":[]}]}', two)
    for name in ("bad-truncated-in-event", "bad-absurd-event-size", "bad-unknown-algorithm"):
        with open(os.path.join(HERE, "corpus", "tcglog", name), "rb") as f:
            seeds[f"log-{name}"] = seed(JSON, match, f.read())
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {outdir}")


if __name__ == "__main__":
    main()
