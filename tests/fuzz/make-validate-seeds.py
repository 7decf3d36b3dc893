#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the validate fuzz targets (gpt, verity, imagefs, veritysig).

    tests/fuzz/make-validate-seeds.py [CORPUS_DIR]      (default: tests/fuzz/corpus)

* gpt: small disk images written here (protective MBR, GPT with Discoverable
  Partitions types, backup header), one byte of policy length and a policy
  string in front (the target's input format);
* verity: parameter bytes, data, and the flip selector (fuzz-verity.c);
* imagefs: squashfs images by mksquashfs (gzip, uncompressed, no fragments),
  erofs images by Debian 13's mkfs.erofs in the trixie chroot (compact and
  extended inodes, inline and plain data, chunks), zlib streams;
* veritysig: the verity-sig JSON of a DDI by systemd-repart, variants of
  it, and os-release texts.

Deterministic apart from the RSA signature inside the repart DDI.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cli"))
import ddi_images  # noqa: E402

SECTOR = 512
ROOT_X86_64 = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
ROOT_VERITY = "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
ROOT_SIG = "41092b05-9fc8-4523-994f-2def0408b176"
USR_X86_64 = "8484680c-9521-48c6-9c11-b0720656f69e"
USR_VERITY = "77ff5f63-e7b6-4633-acf4-1565b864c0e6"
USR_SIG = "e7bb33fb-06cf-4e81-8273-e543b413e2e2"
ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
GENERIC = "0fc63daf-8483-4772-8e79-3d69d8477de4"
ROOT_ARM64 = "b921b045-1df0-41c3-af44-4c6f280d3fae"


def guid(text):
    """The on-disk (mixed-endian) form of a GUID."""
    b = bytes.fromhex(text.replace("-", ""))
    return b[3::-1] + b[5:3:-1] + b[7:5:-1] + b[8:]


def disk(parts, sectors=48, ssz=SECTOR, n_entries=4):
    """A GPT disk: parts = [(type, first, last, attrs, label)] in sectors of @ssz."""
    img = bytearray(sectors * ssz)
    img[446 + 4] = 0xEE  # protective MBR entry
    struct.pack_into("<II", img, 446 + 8, 1, sectors - 1)
    img[510:512] = b"\x55\xaa"
    entries = bytearray(n_entries * 128)
    for i, (t, first, last, attrs, label) in enumerate(parts):
        e = guid(t) + guid(f"00000000-0000-4000-8000-{i:012x}") + struct.pack("<QQQ", first, last, attrs)
        entries[i * 128:i * 128 + 128] = e + label.encode("utf-16-le").ljust(72, b"\0")
    ent_sectors = len(entries) // ssz
    first_usable, last_usable = 2 + ent_sectors, sectors - 2 - ent_sectors
    for my, alt, ent in ((1, sectors - 1, 2), (sectors - 1, 1, sectors - 1 - ent_sectors)):
        h = bytearray(b"EFI PART" + struct.pack("<IIII", 0x10000, 92, 0, 0) +
                      struct.pack("<QQQQ", my, alt, first_usable, last_usable) + guid("11111111-2222-4333-8444-555555555555") +
                      struct.pack("<QIII", ent, n_entries, 128, zlib.crc32(entries)))
        struct.pack_into("<I", h, 16, zlib.crc32(h))
        img[my * ssz:my * ssz + 92] = h
        img[ent * ssz:ent * ssz + len(entries)] = entries
    return bytes(img)


def gpt_seeds(out):
    strict = b"root=signed+absent:usr=signed+absent"
    ddi = [(ROOT_X86_64, 4, 23, 1 << 60, "root-x86-64"), (ROOT_VERITY, 24, 39, 1 << 60, "root-x86-64-verity"),
           (ROOT_SIG, 40, 44, 0, "root-x86-64-verity-sig")]
    seeds = {
        "ddi-strict": (strict, disk(ddi)),
        "ddi-open": (b"*", disk(ddi)),
        "usr-only": (strict, disk([(USR_X86_64, 4, 23, 0, "usr"), (USR_VERITY, 24, 39, 0, "usr-verity"),
                                   (USR_SIG, 40, 44, 0, "usr-verity-sig")])),
        "unsigned": (b"root=verity+signed+absent", disk(ddi[:2])),
        "generic-and-esp": (b"=open", disk([(ESP, 4, 10, 0, "esp"), (GENERIC, 11, 40, 0, "data")])),
        "two-arches": (b"root=open", disk([(ROOT_ARM64, 4, 15, 0, "root-arm64"), (ROOT_X86_64, 16, 29, 0, "r-1.2"),
                                           (ROOT_X86_64, 30, 44, 0, "r-1.10")])),
        "4k-sectors": (strict, disk([(ROOT_X86_64, 4, 7, 0, "root"), (ROOT_VERITY, 8, 9, 0, "v"),
                                     (ROOT_SIG, 10, 10, 0, "s")], sectors=16, ssz=4096)),
        "policy-syntax": (b"root=signed+read-only-on:usr=absent:=unused+absent:root-verity=open", disk(ddi)),
        "no-gpt": (b"-", b"\0" * 1024 + bytes.fromhex("e2e1f5e0") + b"\0" * 3068),
    }
    for name, (pol, img) in seeds.items():
        (out / name).write_bytes(bytes([len(pol)]) + pol + img)


def verity_seeds(out):
    for i, (p0, salt, blocks) in enumerate([(0x01, 32, 3), (0x00, 0, 1), (0x1f, 63, 63), (0x09, 7, 40), (0x13, 16, 130)]):
        body = bytes((j * 37 + i) & 0xff for j in range(300))
        (out / f"params-{i}").write_bytes(bytes([p0, salt, blocks]) + body + struct.pack("<I", 0x80000000 * (i & 1) + 77 * i))


def squashfs_seeds(out, tree):
    for name, opts in [("squashfs-gzip", []), ("squashfs-plain", ["-noI", "-noD", "-noF", "-noX"]),
                       ("squashfs-nofrag", ["-no-fragments"])]:
        img = out / name
        subprocess.run(["mksquashfs", tree, img, "-noappend", "-all-root", "-quiet", "-mkfs-time", "0", "-all-time",
                        "0", *opts], check=True, capture_output=True)


def erofs_seeds(out, tree):
    work = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(tree, work / "tree", symlinks=True)
        variants = {"erofs-compact": "", "erofs-extended": "-Eforce-inode-extended",
                    "erofs-plain": "-Enoinline_data", "erofs-chunks": "--chunksize=4096 -Enoinline_data"}
        script = "\n".join(f"mkfs.erofs --quiet -T0 -U 01234567-89ab-4cde-8f01-23456789abcd --all-root {o} "
                           f"/w/{n} /w/tree" for n, o in variants.items())
        ddi_images.run_in(ddi_images.chroot(), script, work)
        for n in variants:
            shutil.copyfile(work / n, out / n)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def imagefs_seeds(out):
    tree = Path(tempfile.mkdtemp())
    try:
        d = tree / "usr/lib/extension-release.d"
        d.mkdir(parents=True)
        (d / "extension-release.hello").write_text("ID=_any\nSYSEXT_SCOPE=initrd\n")
        (d / "extension-release.other").symlink_to("../../share/rel")
        (tree / "usr/share").mkdir()
        (tree / "usr/share/rel").write_text("ID=debian\n" * 400)  # over one block: flat + tail
        (tree / "etc/extension-release.d").mkdir(parents=True)
        (tree / "etc/extension-release.d/extension-release.cfg").symlink_to("/usr/lib/extension-release.d/extension-release.hello")
        for i in range(4):
            (tree / f"usr/share/f{i:02d}").write_text(str(i))
        squashfs_seeds(out, tree)
        try:
            erofs_seeds(out, tree)
        except ddi_images.NetworkUnavailable as exc:
            print(f"erofs seeds skipped: no network to the Debian mirror ({exc})", file=sys.stderr)
    finally:
        shutil.rmtree(tree)
    (out / "zlib-text").write_bytes(zlib.compress(b"ID=_any\n" * 50, 9))
    (out / "zlib-stored").write_bytes(zlib.compress(os.urandom(0) + bytes(range(256)) * 3, 0))
    raw = zlib.compressobj(1, zlib.DEFLATED, -15)
    (out / "raw-fixed").write_bytes(raw.compress(b"abcabcabc" * 30) + raw.flush())


def veritysig_seeds(out):
    try:
        img = ddi_images.images()["good"]
        s = ddi_images.part(img, "-verity-sig")
        with open(img, "rb") as f:
            f.seek(s["offset"])
            sig = f.read(s["size"])
    except ddi_images.NetworkUnavailable as exc:
        print(f"DDI signature seed skipped: no network ({exc})", file=sys.stderr)
        sig = b'{"rootHash":"00","certificateFingerprint":"00","signature":"AAAA"}' + bytes(100)
    text = sig.rstrip(b"\0")
    j = json.loads(text)
    (out / "repart-sig").write_bytes(text + bytes(64))
    (out / "sig-escaped").write_bytes(json.dumps(j, ensure_ascii=True).replace("a", "\\u0061", 2).encode())
    (out / "sig-wrapped-base64").write_bytes(json.dumps({**j, "signature": j["signature"][:40] + "\n " +
                                                         j["signature"][40:]}).encode())
    (out / "release").write_bytes(b"# c\nID=debian\nVERSION_ID=\"13\"\nSYSEXT_LEVEL='1.2'\nSYSEXT_SCOPE=initrd system\n"
                                  b"ARCHITECTURE=x86-64\nA=b\\\nc\nB=\"q\\\"x\\$\"\n")


def main():
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"
    for name, fn in [("gpt", gpt_seeds), ("verity", verity_seeds), ("imagefs", imagefs_seeds),
                     ("veritysig", veritysig_seeds)]:
        d = base / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        fn(d)
        print(f"{d}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    main()
