#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-build: small stubs with parts to append.

    tests/fuzz/make-build-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/build)

A seed is bytes 0-1 (which parts are given, 16 bits little-endian: bit i
is part i of .osrel .cmdline .uname .pcrpkey .initrd .linux .pcrsig .dtb
.hwids .splash .ucode), then per given part a
16-bit little-endian length L and L + 1 bytes, then the stub. The stubs are
PE files from make-pe-seeds.py's builder with room for more section
headers; one carries a certificate table and a symbol table pointer (both
dropped), parts of odd length, one stub without room (refused). Deterministic.
"""
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("pe_seeds", os.path.join(HERE, "make-pe-seeds.py"))
pe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pe)


def stub(size_of_headers=0x400, extra=b"", file_alignment=0x200):
    b = pe.build([
        pe.section(".text", 0x1000, 0x180, size_of_headers, 0x200, pe.CODE),
        pe.section(".data", 0x2000, 0x1300, size_of_headers + 0x200, 0x200, pe.DATA),
        pe.section(".sbat", 0x4000, 0x40, size_of_headers + 0x400, 0x200),
    ], size_of_headers=size_of_headers, file_alignment=file_alignment)
    return bytes(b) + extra


def seed(parts, stub_bytes):
    mask, body = 0, b""
    for i, data in parts.items():
        mask |= 1 << i
        body += struct.pack("<H", len(data) - 1) + data
    return struct.pack("<H", mask) + body + stub_bytes


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "build")
    os.makedirs(out, exist_ok=True)
    signed = bytearray(stub())
    cert_at = len(signed)
    signed += b"\x10\x00\x00\x00\x00\x02\x02\x00" + b"\xcc" * 8  # WIN_CERTIFICATE, 16 bytes
    struct.pack_into("<II", signed, pe.OPT + 112 + 8 * 4, cert_at, 16)  # DataDirectory[4]
    symbols = bytearray(stub(extra=b"\0" * 18))
    struct.pack_into("<II", symbols, pe.COFF + 8, len(symbols) - 18, 1)
    seeds = {
        "all-parts": seed({0: b"ID=test\n", 1: b"console=ttyS0", 2: b"6.1.0", 3: b"-----BEGIN PUBLIC KEY-----\n",
                           4: bytes(range(256)) * 3, 5: b"MZ" + b"\x90" * 700,
                           6: b'{"sha256":[]}', 7: b"\xd0\x0d\xfe\xed", 8: b"hwids", 9: b"BM" + b"\0" * 60,
                           10: b"070701" + b"0" * 104}, stub(size_of_headers=0x800)),
        "linux-only": seed({5: b"MZ" + b"k" * 100}, stub()),
        "no-parts": seed({}, stub()),
        "signed-stub": seed({1: b"quiet", 5: b"MZ kernel"}, bytes(signed)),
        "symbol-table": seed({0: b"ID=x\n", 5: b"MZ"}, bytes(symbols)),
        "odd-length-part": seed({4: b"abc", 5: b"MZ odd"}, stub(file_alignment=0x200)),
        "no-room-for-headers": seed({0: b"a", 1: b"b", 2: b"c", 3: b"d", 4: b"e", 5: b"f", 6: b"g"},
                                    stub(size_of_headers=0x200)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
