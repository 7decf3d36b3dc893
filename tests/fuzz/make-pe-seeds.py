#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-pe: small PE images, valid and malformed.

    tests/fuzz/make-pe-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/pe)

Deterministic: running it again rewrites the same bytes. The valid seeds
cover PE32+ and PE32, 0..6 sections, a UKI-like section list, sections
without raw data or with VirtualSize 0, 8-character and duplicate names,
and an image whose file and memory layouts coincide (so PE_LAYOUT_MEMORY
accepts it too). The malformed ones each break a single rule. Every seed
stays under 8 KiB.
"""
import os
import struct
import sys

LFANEW = 0x40
COFF = LFANEW + 4
OPT = COFF + 20
MAX_SEED = 8 * 1024

CODE = 0x60000020  # CNT_CODE | MEM_EXECUTE | MEM_READ
DATA = 0xC0000040  # CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE
RODATA = 0x40000040  # CNT_INITIALIZED_DATA | MEM_READ


def section(name, va, vsize, raw_offset, raw_size, flags=RODATA):
    return dict(name=name, va=va, vsize=vsize, raw_offset=raw_offset, raw_size=raw_size, flags=flags)


def build(sections, *, magic=0x20B, n_dirs=16, section_alignment=0x1000, file_alignment=0x200,
          size_of_image=None, size_of_headers=0x200, file_size=None, machine=0x8664):
    """Lay out a PE file; raw data of section i is filled with byte 0xa1 + i."""
    opt_base = 112 if magic == 0x20B else 96
    opt_size = opt_base + 8 * n_dirs
    table = OPT + opt_size
    if size_of_image is None:
        size_of_image = max([s["va"] + max(s["vsize"], s["raw_size"]) for s in sections] + [size_of_headers])
        size_of_image = (size_of_image + section_alignment - 1) & ~(section_alignment - 1)
    if file_size is None:
        file_size = max([s["raw_offset"] + s["raw_size"] for s in sections if s["raw_size"]] + [size_of_headers])
    b = bytearray(file_size)
    b[0:2] = b"MZ"
    struct.pack_into("<I", b, 0x3C, LFANEW)
    b[LFANEW:LFANEW + 4] = b"PE\0\0"
    # Machine, NumberOfSections, TimeDateStamp, PointerToSymbolTable,
    # NumberOfSymbols, SizeOfOptionalHeader, Characteristics
    struct.pack_into("<HHIIIHH", b, COFF, machine, len(sections), 0, 0, 0, opt_size, 0x0206)
    struct.pack_into("<H", b, OPT, magic)
    struct.pack_into("<II", b, OPT + 16, 0x1000, 0x1000)  # AddressOfEntryPoint, BaseOfCode
    if magic == 0x20B:
        struct.pack_into("<Q", b, OPT + 24, 0x140000000)
    else:
        struct.pack_into("<I", b, OPT + 28, 0x400000)
    struct.pack_into("<II", b, OPT + 32, section_alignment, file_alignment)
    struct.pack_into("<II", b, OPT + 56, size_of_image, size_of_headers)
    struct.pack_into("<HH", b, OPT + 68, 10, 0x0100)  # EFI application, NX compatible
    struct.pack_into("<I", b, OPT + opt_base - 4, n_dirs)
    for i, s in enumerate(sections):
        name = s["name"].encode("latin-1")[:8].ljust(8, b"\0")
        struct.pack_into("<8sIIIIIIHHI", b, table + 40 * i, name, s["vsize"], s["va"], s["raw_size"],
                         s["raw_offset"], 0, 0, 0, 0, s["flags"])
        end = min(s["raw_offset"] + s["raw_size"], file_size)
        for at in range(s["raw_offset"], end):
            b[at] = (0xA1 + i) & 0xFF
    return b


def golden():
    return build([
        section(".text", 0x1000, 0x180, 0x200, 0x200, CODE),
        section(".data", 0x2000, 0x300, 0x400, 0x200, DATA),
        section(".linux", 0x3000, 0x100, 0x600, 0x200),
    ])


def patched(b, fmt, offset, value):
    b = bytearray(b)
    struct.pack_into(fmt, b, offset, value)
    return b


def seeds():
    g = golden()
    yield "valid-pe32plus-3-sections", g
    yield "valid-pe32-2-sections", build([
        section(".text", 0x1000, 0x200, 0x200, 0x200, CODE),
        section(".data", 0x2000, 0x80, 0x400, 0x200, DATA),
    ], magic=0x10B)
    yield "valid-uki-like", build([
        section(".text", 0x1000, 0x100, 0x400, 0x200, CODE),
        section(".osrel", 0x2000, 0x40, 0x600, 0x200),
        section(".cmdline", 0x3000, 0x20, 0x800, 0x200),
        section(".initrd", 0x4000, 0x200, 0xA00, 0x200),
        section(".linux", 0x5000, 0x200, 0xC00, 0x200, CODE),
    ], size_of_headers=0x400)
    yield "valid-memory-equals-file", build([
        section(".text", 0x200, 0x200, 0x200, 0x200, CODE),
        section(".data", 0x400, 0x100, 0x400, 0x200, DATA),
        section(".sbat", 0x600, 0x40, 0x600, 0x200),
    ], section_alignment=0x200)
    yield "valid-no-sections", build([], size_of_image=0x1000)
    yield "valid-bss-and-vsize-zero", build([
        section(".text", 0x1000, 0, 0x200, 0x200, CODE),   # VirtualSize 0: SizeOfRawData counts
        section(".bss", 0x2000, 0x800, 0, 0, DATA),        # no raw data at all
        section(".data", 0x3000, 0x400, 0x400, 0x200, DATA),  # zero-filled tail
    ])
    yield "valid-names", build([
        section(".initrdX", 0x1000, 0x10, 0x400, 0x200),
        section(".initrd", 0x2000, 0x10, 0x600, 0x200),
        section(".dup", 0x3000, 0x10, 0x800, 0x200),
        section(".dup", 0x4000, 0x10, 0xA00, 0x200),
        section(".text\0XY", 0x5000, 0x10, 0xC00, 0x200, CODE),
        section("", 0x6000, 0x10, 0xE00, 0x200),
    ], size_of_headers=0x400)

    yield "bad-truncated-in-section-table", g[:0x150]
    yield "bad-pe-signature", patched(g, "<I", LFANEW, 0x00014550)
    yield "bad-lfanew-overflow", patched(g, "<I", 0x3C, 0xFFFFFFF0)
    yield "bad-optional-magic", patched(g, "<H", OPT, 0x107)
    yield "bad-97-sections", patched(g, "<H", COFF + 2, 97)
    yield "bad-too-many-data-dirs", patched(g, "<I", OPT + 108, 17)
    yield "bad-section-alignment", patched(g, "<I", OPT + 32, 0x1800)
    yield "bad-raw-overlap", build([
        section(".text", 0x1000, 0x180, 0x200, 0x200, CODE),
        section(".data", 0x2000, 0x300, 0x300, 0x200, DATA),
    ], file_size=0x800)
    yield "bad-descending-vas", build([
        section(".text", 0x2000, 0x180, 0x200, 0x200, CODE),
        section(".data", 0x1000, 0x300, 0x400, 0x200, DATA),
    ])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "pe")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        assert len(data) < MAX_SEED, (name, len(data))
        with open(os.path.join(out, name + ".efi"), "wb") as f:
            f.write(data)
        print(f"{name}.efi: {len(data)} bytes")


if __name__ == "__main__":
    main()
