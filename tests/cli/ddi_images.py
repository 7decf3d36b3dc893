"""Sysext disk images (DDIs) for the validate tests and the benchmark, built by
Debian 13's systemd-repart 257 in a trixie chroot (ovmf-tests/debian.py),
cached below ~/.cache/sysext-stub/ddi/ (never committed), rebuilt when the
recipe changes.

``images()`` returns a dict name -> Path of the built images (each in a
directory of its own, named as its extension-release file wants: hello.raw,
idm.raw) plus the keys:

* ``good``        signed with key A (root, root-verity, root-verity-sig; erofs),
                  extension-release.hello with ID=_any, SYSEXT_SCOPE=initrd system
* ``unsigned``    the same tree, root + root-verity only (no signature partition)
* ``wrongkey``    signed with key B, which no test trusts
* ``idmismatch``  extension-release.idm with ID=fedora VERSION_ID=40
* ``squashfs``    a bare squashfs of the same tree (mksquashfs's default, gzip)
* ``certA``, ``certB``: the certificates.

Cases made from ``good`` by changing bytes (flipped data, flipped hash tree,
truncated, renamed) are derived by the tests themselves with the helpers here.
A machine without network to the Debian mirror raises NetworkUnavailable.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ovmf-tests"))
import debian  # noqa: E402
import harness  # noqa: E402

NetworkUnavailable = debian.NetworkUnavailable
#: The chroot's packages: repart (257), its mkfs tools, systemd-dissect (systemd-container), openssl for keys.
PACKAGES = ["systemd", "systemd-repart", "systemd-container", "erofs-utils", "squashfs-tools", "libcryptsetup12", "openssl",
            "cryptsetup-bin", "fdisk"]
#: Bumped when what is built changes.
RECIPE = "4"
SEED = "0f5e0c5e-7a1d-4d1e-9b0e-5ee0de5ee0de"

HELLO_RELEASE = "ID=_any\nSYSEXT_SCOPE=initrd system\n"
IDM_RELEASE = "ID=fedora\nVERSION_ID=40\nSYSEXT_SCOPE=initrd system\n"

# Only root + root-verity: an image without a signature partition (what repart makes without a key).
UNSIGNED_DEFS = {
    "10-root.conf": "[Partition]\nType=root\nFormat=erofs\nCopyFiles=/usr/\nVerity=data\nVerityMatchKey=root\n"
                    "Minimize=best\n",
    "20-root-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\nMinimize=best\n",
}


def chroot() -> Path:
    return debian.chroot("trixie", PACKAGES, name="validate")


def run_in(root: Path, script: str, work: Path) -> str:
    return debian.chroot_run(root, ["sh", "-euc", script], binds=[(work, "/w")])


def _tree(path: Path, release_name: str, release: str, blob_bytes: int) -> None:
    """A sysext tree: /usr/bin/hello, the release file, and a blob (deterministic bytes) for a deep hash tree."""
    (path / "usr/lib/extension-release.d").mkdir(parents=True)
    (path / "usr/bin").mkdir(parents=True)
    (path / "usr/share/hello").mkdir(parents=True)
    (path / f"usr/lib/extension-release.d/extension-release.{release_name}").write_text(release)
    (path / "usr/bin/hello").write_text("#!/bin/sh\necho hello from a sysext\n")
    (path / "usr/bin/hello").chmod(0o755)
    rnd = random.Random(release_name)
    (path / "usr/share/hello/blob").write_bytes(rnd.randbytes(blob_bytes))


def cache_dir(kind: str) -> Path:
    key = hashlib.sha256(f"{RECIPE}\0{kind}\0{' '.join(PACKAGES)}".encode()).hexdigest()[:12]
    return harness.cache_base() / "ddi" / f"{kind}-{key}"


def _build_set(work: Path) -> None:
    root = chroot()
    _tree(work / "src-hello", "hello", HELLO_RELEASE, 1 << 20)
    _tree(work / "src-idm", "idm", IDM_RELEASE, 64 << 10)
    defs = work / "defs-unsigned"
    defs.mkdir()
    for name, text in UNSIGNED_DEFS.items():
        (defs / name).write_text(text)
    run_in(root, f"""
cd /w
for k in A B; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key$k.pem -out cert$k.pem -days 36500 -subj /CN=validate-test-$k 2>/dev/null
done
repart() {{ systemd-repart --offline=yes --seed={SEED} --json=off --no-pager "$@" >/dev/null 2>repart.log || {{ cat repart.log >&2; exit 1; }}; }}
mkdir good wrongkey idmismatch unsigned squashfs
repart --make-ddi=sysext --private-key=/w/keyA.pem --certificate=/w/certA.pem --copy-source=/w/src-hello /w/good/hello.raw
repart --make-ddi=sysext --private-key=/w/keyB.pem --certificate=/w/certB.pem --copy-source=/w/src-hello /w/wrongkey/hello.raw
repart --make-ddi=sysext --private-key=/w/keyA.pem --certificate=/w/certA.pem --copy-source=/w/src-idm /w/idmismatch/idm.raw
repart --empty=create --size=auto --definitions=/w/defs-unsigned --copy-source=/w/src-hello /w/unsigned/hello.raw
mksquashfs /w/src-hello /w/squashfs/hello.raw -noappend -all-root -quiet >/dev/null
""", work)


def images() -> dict:
    """Build (once) and return the image set."""
    d = cache_dir("set")
    names = ["good", "unsigned", "wrongkey", "idmismatch", "squashfs"]
    if not (d / ".complete").exists():
        tmp = d.with_name(d.name + ".building")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _build_set(tmp)
        for f in tmp.glob("src-*"):
            shutil.rmtree(f)
        (tmp / ".complete").write_text("\n".join(names) + "\n")
        shutil.rmtree(d, ignore_errors=True)
        os.rename(tmp, d)
    out = {n: d / n / ("idm.raw" if n == "idmismatch" else "hello.raw") for n in names}
    out.update(certA=d / "certA.pem", certB=d / "certB.pem", dir=d)
    return out


def bench_image(mib: int) -> Path:
    """A signed DDI whose root file system holds @mib MiB of incompressible data (for make bench)."""
    d = cache_dir(f"bench{mib}")
    img = d / "bench.raw"
    if (d / ".complete").exists():
        return img
    tmp = d.with_name(d.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _tree(tmp / "src", "bench", HELLO_RELEASE, 4096)
    with open(tmp / "src/usr/share/hello/data", "wb") as f:
        rnd = random.Random(mib)
        for _ in range(mib):
            f.write(rnd.randbytes(1 << 20))
    run_in(chroot(), f"""
cd /w
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 36500 -subj /CN=validate-bench 2>/dev/null
systemd-repart --offline=yes --seed={SEED} --json=off --no-pager --make-ddi=sysext --private-key=/w/key.pem \
  --certificate=/w/cert.pem --copy-source=/w/src /w/bench.raw >/dev/null 2>repart.log || {{ cat repart.log >&2; exit 1; }}
""", tmp)
    shutil.rmtree(tmp / "src")
    (tmp / ".complete").write_text("bench.raw\n")
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    return img


# ----------------------------------------------------------------------------
# Reading a DDI independently of the code under test (struct, no sysext-stub)
# ----------------------------------------------------------------------------

def partitions(path: Path) -> list[dict]:
    """The GPT entries (512-byte sectors, as repart writes them): type, offset, size, uuid."""
    data = Path(path).read_bytes()
    assert data[512:520] == b"EFI PART"
    entries_lba, n, size = struct.unpack_from("<QII", data, 512 + 72)
    out = []
    for i in range(n):
        e = data[entries_lba * 512 + i * size:entries_lba * 512 + (i + 1) * size]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        name = e[56:128].decode("utf-16-le").rstrip("\0")
        out.append({"label": name, "offset": first * 512, "size": (last - first + 1) * 512, "entry": e})
    return out


def part(path: Path, label_suffix: str) -> dict:
    """The partition whose label ends with @label_suffix ("x86-64", "-verity", "-verity-sig")."""
    for p in partitions(path):
        if p["label"].endswith(label_suffix):
            return p
    raise KeyError(label_suffix)


def verity_superblock(path: Path) -> dict:
    h = part(path, "-verity")
    with open(path, "rb") as f:
        f.seek(h["offset"])
        sb = f.read(512)
    assert sb[:8] == b"verity\0\0"
    data_bs, hash_bs, data_blocks, salt_size = struct.unpack_from("<IIQH", sb, 64)
    return {"data_block_size": data_bs, "hash_block_size": hash_bs, "data_blocks": data_blocks,
            "algorithm": sb[32:64].rstrip(b"\0").decode(), "salt": sb[88:88 + salt_size]}


def flip(src: Path, dst: Path, offset: int) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))
