#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-addon: a UKI .uname and a small addon PE image.

    tests/fuzz/make-addon-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/addon)

Each seed is: one byte N (the UKI's .uname length, 0..15), N bytes of it,
then the addon. Deterministic. The addons come from make-pe-seeds.py's
layout (raw data of section i is byte 0xa1 + i, unless given): used ones
with every part, a .uname equal to, a prefix of, or other than the UKI's,
a command line with control characters and a NUL, sections whose
VirtualSize is 0 or past their raw data, duplicate names, one whose file
and memory layouts coincide; refused ones: a UKI (.linux), no applicable
section (.dtbauto only), another machine, a PE32, no PE at all.
"""
import importlib.util
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("pe_seeds", os.path.join(HERE, "make-pe-seeds.py"))
pe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pe)
section = pe.section
MAX_SEED = 8 * 1024
UNAME = b"6.1.0-57-amd64"


def with_data(image, offset, data):
    b = bytearray(image)
    b[offset:offset + len(data)] = data
    return bytes(b)


def addon(parts, **kw):
    """parts: [(name, data or None, vsize)] laid out one per 0x200 of file, 0x1000 of memory."""
    sections, fills = [], []
    for i, (name, data, vsize) in enumerate(parts):
        raw = 0x400 + 0x200 * i
        sections.append(section(name, 0x1000 * (i + 1), vsize, raw, 0x200))
        if data is not None:
            fills.append((raw, data))
    image = pe.build(sections, size_of_headers=0x400, **kw)
    for raw, data in fills:
        image = with_data(image, raw, data + b"\0" * (0x200 - len(data)))
    return image


def seed(uname, image):
    assert len(uname) < 16
    return bytes([len(uname)]) + uname + bytes(image)


def seeds():
    full = [(".text", None, 0x10), (".cmdline", b"quiet addon=1", 13), (".uname", UNAME, len(UNAME)),
            (".initrd", b"070701", 6), (".ucode", b"UCODE", 5), (".dtb", b"\xd0\x0d\xfe\xed", 4)]
    yield "used-every-part", seed(UNAME, addon(full))
    yield "used-no-uki-uname", seed(b"", addon(full))
    yield "uname-prefix", seed(UNAME, addon([(".cmdline", b"p=1", 3), (".uname", b"6.1.0", 5)]))
    yield "uname-other", seed(UNAME, addon([(".cmdline", b"o=1", 3), (".uname", b"6.2.0-1-amd64", 13)]))
    yield "uname-nul-inside", seed(UNAME, addon([(".initrd", b"x", 1), (".uname", b"6.1.0\0junk", 10)]))
    yield "cmdline-control-chars", seed(b"", addon([(".cmdline", b"\t a=1\x7f\nb=2 \0 c=3", 17)]))
    yield "cmdline-all-space", seed(b"", addon([(".cmdline", b" \t\r\n ", 5)]))
    yield "vsize-zero-first", seed(b"", addon([(".cmdline", b"first", 0), (".cmdline", b"second", 6),
                                                (".initrd", b"i", 1)]))
    yield "vsize-past-raw", seed(b"", addon([(".initrd", b"short", 0x1800)]))
    yield "memory-equals-file", seed(UNAME, pe.build([section(".cmdline", 0x200, 0x20, 0x200, 0x200),
                                                      section(".initrd", 0x400, 0x40, 0x400, 0x200)],
                                                     section_alignment=0x200))
    yield "refused-uki", seed(UNAME, addon([(".cmdline", b"x", 1), (".linux", b"MZ", 2)]))
    yield "refused-dtbauto-only", seed(b"", addon([(".text", None, 0x10), (".dtbauto", b"\xd0\x0d", 2)]))
    yield "refused-aarch64", seed(b"", addon([(".cmdline", b"x", 1)], machine=0xAA64))
    yield "refused-pe32", seed(b"", addon([(".cmdline", b"x", 1)], magic=0x10B))
    yield "refused-not-pe", seed(b"", b"MZ but nothing else\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "addon")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        assert len(data) < MAX_SEED, (name, len(data))
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
        print(f"{name}.bin: {len(data)} bytes")


if __name__ == "__main__":
    main()
