#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-tcglog: small TCG2 event logs, valid and malformed.

    tests/fuzz/make-tcglog-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/tcglog)

Deterministic: running it again rewrites the same bytes. The valid seeds
imitate what OVMF + swtpm + this stub write (Spec ID header, StartupLocality,
CRTM version, firmware blob, Secure Boot variables, separators, boot
application, one EV_IPL pair per sysext into PCR 13, Linux's initrd tag into
PCR 9, ExitBootServices), with real digests of the event data, for one,
two and four banks. The malformed ones each break a single rule.
"""
import hashlib
import os
import struct
import sys

ALGS = {"sha1": (0x0004, 20), "sha256": (0x000B, 32), "sha384": (0x000C, 48), "sha512": (0x000D, 64)}

EV_NO_ACTION = 0x3
EV_SEPARATOR = 0x4
EV_EVENT_TAG = 0x6
EV_S_CRTM_VERSION = 0x8
EV_IPL = 0xD
EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
EV_EFI_ACTION = 0x80000007
EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008


def header(banks, vendor=b"", signature=b"Spec ID Event03\0", major=2):
    spec = signature + struct.pack("<IBBBBI", 0, 0, major, 0, 2, len(banks))
    for b in banks:
        spec += struct.pack("<HH", *ALGS[b])
    spec += bytes([len(vendor)]) + vendor
    return struct.pack("<II", 0, EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec


def event(banks, pcr, etype, data, hashed=None, digests=None):
    """A TCG_PCR_EVENT2; digests of @hashed (default: the event data), zeros for EV_NO_ACTION."""
    out = struct.pack("<III", pcr, etype, len(banks))
    for b in banks:
        alg, size = ALGS[b]
        if digests is not None:
            d = digests
        elif etype == EV_NO_ACTION:
            d = bytes(size)
        else:
            d = hashlib.new(b, data if hashed is None else hashed).digest()
        out += struct.pack("<H", alg) + d[:size].ljust(size, b"\0")
    return out + struct.pack("<I", len(data)) + data


def utf16z(s):
    return (s + "\0").encode("utf-16-le")


def ovmf_like(banks, locality=0):
    log = header(banks)
    log += event(banks, 0, EV_NO_ACTION, b"StartupLocality\0" + bytes([locality]))
    log += event(banks, 0, EV_S_CRTM_VERSION, utf16z(""))
    log += event(banks, 0, EV_EFI_PLATFORM_FIRMWARE_BLOB, struct.pack("<QQ", 0x820000, 0xE0000), hashed=b"PEIFV")
    guid = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
    log += event(banks, 7, EV_EFI_VARIABLE_DRIVER_CONFIG,
                 guid + struct.pack("<QQ", 10, 1) + "SecureBoot".encode("utf-16-le") + b"\0")
    for pcr in range(8):
        log += event(banks, pcr, EV_SEPARATOR, bytes(4))
    log += event(banks, 4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option")
    log += event(banks, 4, EV_EFI_BOOT_SERVICES_APPLICATION,
                 struct.pack("<QQQQ", 0x7E000000, 0x40000, 0, 4) + b"\x7f\xff\x04\x00", hashed=b"uki")
    for name, content in (("a.sysext.raw", b"hello\n"), ("b.sysext.raw", b"world")):
        path = f".extra/sysext/{name}"
        log += event(banks, 13, EV_IPL, utf16z(path), hashed=path.encode() + b"\0")
        log += event(banks, 13, EV_IPL, utf16z(path), hashed=content)
    tag = b"Linux initrd\0"
    log += event(banks, 9, EV_EVENT_TAG, struct.pack("<II", 0x8F3B22EC, len(tag)) + tag, hashed=b"initrd")
    log += event(banks, 5, EV_EFI_ACTION, b"Exit Boot Services Invocation")
    return log


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "tcglog")
    os.makedirs(outdir, exist_ok=True)
    two = ["sha1", "sha256"]
    good = ovmf_like(two)
    seeds = {
        "valid-ovmf-sha256": ovmf_like(["sha256"]),
        "valid-ovmf-sha1-sha256": good,
        "valid-ovmf-four-banks-locality3": ovmf_like(["sha1", "sha256", "sha384", "sha512"], locality=3),
        "valid-header-only-vendor-info": header(two, vendor=b"swtpm\0"),
        "bad-truncated-in-event": good[:-7],
        "bad-truncated-in-header": good[:40],
        "bad-spec-id-event00": header(two, signature=b"Spec ID Event00\0"),
        "bad-spec-major-1": header(two, major=1),
        "bad-first-record-not-spec-id": event(two, 0, EV_S_CRTM_VERSION, utf16z("1.0")) + good,
        "bad-unknown-algorithm": header(two) + event(["sha1", "sha384"], 0, EV_SEPARATOR, bytes(4)),
        "bad-digest-count": header(two) + event(["sha256"], 0, EV_SEPARATOR, bytes(4)),
        "bad-pcr-24": header(two) + event(two, 24, EV_IPL, utf16z("x")),
        "bad-absurd-event-size": header(two) + event(two, 4, EV_IPL, b"")[:-4] + struct.pack("<I", 0xFFFFFFF0),
    }
    for name, data in seeds.items():
        assert len(data) < 8192, name
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
