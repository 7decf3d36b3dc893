"""Fixtures for tests/tpm: a fresh swtpm per test, keys, a UKI and sysext sets."""
import os
import shutil
from types import SimpleNamespace

import pytest

from tpm_helpers import CLI, STUB, TOOL, Swtpm, make_rsa_key, predict, require, run


@pytest.fixture
def tpm():
    require(TOOL)
    t = Swtpm()
    yield t
    t.close()


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    require("openssl")
    d = tmp_path_factory.mktemp("keys")
    key, pub = make_rsa_key(d, "signer")
    other_key, other_pub = make_rsa_key(d, "other")
    return SimpleNamespace(key=key, pub=pub, other_key=other_key, other_pub=other_pub)


def _write_set(directory, files):
    directory.mkdir(parents=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """One UKI from our stub and three per-UKI sysext sets for it.

    base: what the machine was signed for; tampered: one byte of one sysext
    changed; upgraded: one sysext replaced by a new version.
    """
    require(CLI, STUB)
    d = tmp_path_factory.mktemp("boot")
    kernel = d / "vmlinuz"
    shutil.copy(STUB, kernel)  # any PE serves as the .linux section here
    (d / "os-release").write_text('ID=demo\nPRETTY_NAME="signed policy test"\n')
    initrd = d / "initrd"
    initrd.write_bytes(os.urandom(4096))
    uki = d / "demo.efi"
    run([CLI, "build", "--stub", STUB, "--linux", kernel, "--os-release", f"@{d / 'os-release'}",
         "--cmdline", "console=ttyS0 root=/dev/mapper/root", "--initrd", initrd, "--output", uki])
    base = {"tools.sysext.raw": os.urandom(3000), "debug.sysext.raw": os.urandom(1500)}
    tampered = dict(base)
    t = bytearray(tampered["debug.sysext.raw"])
    t[700] ^= 0x01
    tampered["debug.sysext.raw"] = bytes(t)
    upgraded = dict(base)
    upgraded["tools.sysext.raw"] = os.urandom(3100)
    sets = SimpleNamespace(uki=uki)
    for name, files in (("base", base), ("tampered", tampered), ("upgraded", upgraded)):
        extra = _write_set(d / name / "demo.efi.extra.d", files)
        setattr(sets, name, extra)
        setattr(sets, f"{name}_prediction", predict(uki, extra))
    return sets


@pytest.fixture
def secret(tmp_path):
    s = tmp_path / "secret"
    s.write_bytes(b"volume key: " + os.urandom(8).hex().encode())
    return s
