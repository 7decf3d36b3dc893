"""PE addons (*.addon.efi, issue 14) on one ESP, booted with our stub and with
systemd-stub 262 (Debian unstable's systemd-boot-efi, fetched into the cache,
never installed), and once more under Secure Boot.

The ESP holds addons in \\loader\\addons and in the UKI's .extra.d: command
lines (with whitespace to mangle), a devicetree, microcode and initrd pieces,
one whose .uname matches the kernel, one whose .uname does not, one whose
.uname is a mere prefix of it (systemd-stub 262 takes it, we do not), a file
that is no PE image, and a credential and a configuration extension, so the
addons' PCR 12 events are checked where they fall among the others.

The guest reports /proc/cmdline, files from the addons' initrd pieces (whose
contents show the concatenation order: microcode addons, last one first,
before the UKI's initrd; initrd addons after everything), PCR 12 and its
event log. Our PCR 12 is recomputed here with hashlib from the addons'
bytes and the companion files; `predict` must equal it, and
`predict --scheme=systemd --systemd-version 262` must equal systemd-stub
262's PCR 12 on the same files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import harness
from test_boot import CLI, ROOT, sign_with_snakeoil, strip_signature, tail
from test_companions import systemd_stub_262  # noqa: F401  (a fixture)

ADDON_STUB = ROOT / "build" / "sysext-addon-x64.efi.stub"
EV_IPL = 0x0000000D
EV_EVENT_TAG = 0x00000006
TAG_DTB, TAG_INITRD, TAG_UCODE = 0x6C46F751, 0x49DFFE0F, 0xDAC08E1A
EXTRA_D = "EFI/BOOT/BOOTX64.EFI.extra.d"
GLOBAL = "loader/addons"
BASE_CMDLINE = "console=ttyS0 panic=-1"
OS_RELEASE = 'ID=debian\nPRETTY_NAME="addon test"\n'

#: Files of the test initrd whose contents show the piece order (path -> what the UKI's .initrd holds).
ORDER_FILES = {"/addon/order-ucode": b"embedded\n", "/addon/order-last": b"embedded\n"}
CHECK_PATHS = [*ORDER_FILES, "/addon/ucode-reversed", "/addon/b.txt", "/addon/c.txt", "/addon/prefix.txt"]


def cpio(files: dict[str, bytes]) -> bytes:
    archive = harness.CpioArchive()
    for path, data in files.items():
        archive.add_file(path, data)
    return archive.to_bytes()


def fdt_blob() -> bytes:
    """A tiny flattened devicetree header (nothing on x86 reads it; its bytes are measured)."""
    return struct.pack(">10I", 0xD00DFEED, 40, 40, 40, 40, 17, 16, 0, 0, 0)


class Addon:
    """One addon: its sections (section -> bytes) and where it lies on the ESP."""

    def __init__(self, esp_dir: str, name: str, **sections: bytes) -> None:
        self.esp_dir, self.name, self.sections = esp_dir, name, sections

    def build(self, workdir: Path) -> bytes:
        out = workdir / f"addon-{self.esp_dir.replace('/', '_')}-{self.name}"
        args = [str(CLI), "build", "--addon", "--stub", str(ADDON_STUB), "--output", str(out)]
        for section, data in self.sections.items():
            part = workdir / f"{out.name}.{section}"
            part.write_bytes(data)
            args += [f"--{section}", f"@{part}" if section in ("cmdline", "uname") else str(part)]
        subprocess.run(args, check=True)
        return out.read_bytes()


def addons(kernel_version: str) -> list[Addon]:
    """The addons of the shared ESP, in the order both stubs read them (global first, then by name)."""
    return [
        Addon(GLOBAL, "g.addon.efi", cmdline=b"addon.global=1\n", dtb=fdt_blob(),
              ucode=cpio({"addon/ucode-reversed": b"g\n", "addon/order-ucode": b"ucode g\n"})),
        Addon(EXTRA_D, "a-uname.addon.efi", cmdline=b"addon.mismatch=1", uname=b"0.0-not-this-kernel"),
        Addon(EXTRA_D, "b.addon.efi", cmdline=b"  addon.b=1\tx  \n",
              initrd=cpio({"addon/b.txt": b"from addon b\n", "addon/order-last": b"b\n"}),
              ucode=cpio({"addon/ucode-reversed": b"b\n", "addon/order-ucode": b"ucode b\n"})),
        Addon(EXTRA_D, "c.addon.efi", uname=kernel_version.encode(),
              initrd=cpio({"addon/c.txt": b"from addon c\n", "addon/order-last": b"c\n"})),
        Addon(EXTRA_D, "d.ADDON.EFI", cmdline=b"addon.d=1"),
        Addon(EXTRA_D, "p-prefix.addon.efi", uname=kernel_version.split("-")[0].encode(),
              cmdline=b"addon.prefix=1", initrd=cpio({"addon/prefix.txt": b"prefix uname\n"})),
    ]


#: Not a PE image: both stubs' firmware refuses to load it.
NOT_PE = ("notpe.addon.efi", b"MZ but nothing else\n")
CREDENTIAL = ("x.cred", b"a credential\n")
CONFEXT = ("conf.confext.raw", os.urandom(5000))


def used(all_addons: list[Addon], kernel_version: str, rule: str) -> list[Addon]:
    """The addons a stub uses: ours wants .uname equal to the kernel's, systemd-stub 262 a prefix of it."""
    def ok(a: Addon) -> bool:
        u = a.sections.get("uname")
        if u is None:
            return True
        return u.decode() == kernel_version if rule == "ours" else kernel_version.startswith(u.decode())
    return [a for a in all_addons if ok(a)]


def mangle(s: str) -> str:
    """systemd-stub's command line mangling: control characters and spaces -> ' ', ends trimmed."""
    return "".join(" " if ord(c) <= 0x20 or ord(c) == 0x7F else c for c in s).strip(" ")


def joined_cmdline(addons_used: list[Addon]) -> str:
    joined = ""
    for a in addons_used:
        if "cmdline" in a.sections:
            part = mangle(a.sections["cmdline"].split(b"\0")[0].decode("latin-1"))
            joined = f"{joined} {part}" if joined else part
    return mangle(joined)


def tag_event(tag: int, name: str) -> bytes:
    desc = (name + "\0").encode("utf-16-le")
    return struct.pack("<II", tag, len(desc)) + desc


def pcr12_events(addons_used: list[Addon], archive_events: list[tuple[int, bytes, bytes]]) -> list:
    """(event type, event data, measured bytes) of PCR 12 in order: the addons' command line,
    devicetrees, @archive_events (credentials, confexts), microcode (last addon first), initrds."""
    events = []
    joined = joined_cmdline(addons_used)
    if joined:
        text = (joined + "\0").encode("utf-16-le")
        events.append((EV_IPL, text, text))
    events += [(EV_EVENT_TAG, tag_event(TAG_DTB, a.name), a.sections["dtb"]) for a in addons_used if "dtb" in a.sections]
    events += archive_events
    events += [(EV_EVENT_TAG, tag_event(TAG_UCODE, a.name), a.sections["ucode"])
               for a in reversed(addons_used) if "ucode" in a.sections]
    events += [(EV_EVENT_TAG, tag_event(TAG_INITRD, a.name), a.sections["initrd"])
               for a in addons_used if "initrd" in a.sections]
    return events


def extend(measured: list[bytes], algo: str = "sha256") -> bytes:
    pcr = bytes(hashlib.new(algo).digest_size)
    for data in measured:
        pcr = hashlib.new(algo, pcr + hashlib.new(algo, data).digest()).digest()
    return pcr


def build_uki(workdir: Path, kernel, stub: Path, name: str) -> Path:
    initrd = workdir / "initrd.cpio"
    harness.build_initrd(initrd, kernel, {p.lstrip("/"): d for p, d in ORDER_FILES.items()}, check_paths=CHECK_PATHS)
    uki = workdir / name
    subprocess.run([str(CLI), "build", "--stub", str(stub), "--linux", str(kernel.vmlinuz), "--initrd", str(initrd),
                    "--cmdline", BASE_CMDLINE, "--os-release", OS_RELEASE, "--uname", kernel.version,
                    "--output", str(uki)], check=True)
    return uki


def esp_files(workdir: Path, uki: Path, all_addons: list[Addon]) -> dict:
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki), f"{EXTRA_D}/{NOT_PE[0]}": NOT_PE[1],
             f"{EXTRA_D}/{CREDENTIAL[0]}": CREDENTIAL[1], f"{EXTRA_D}/{CONFEXT[0]}": CONFEXT[1]}
    for a in all_addons:
        files[f"{a.esp_dir}/{a.name}"] = a.build(workdir)
    return files


def predicted(workdir: Path, files: dict, *args: str) -> dict:
    """`predict --esp` over a host copy of the ESP: bank -> {pcr: value}."""
    root = workdir / "esp-host"
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(data).read_bytes() if isinstance(data, str) else data)
    r = subprocess.run([str(CLI), "predict", "--esp", str(root), "--esp-path", "\\EFI\\BOOT\\BOOTX64.EFI", "--json",
                        *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {bank: {e["pcr"]: bytes.fromhex(e["hash"]) for e in entries} for bank, entries in json.loads(r.stdout).items()}


def logged_pcr12(facts) -> list:
    return [(e.type, e.data, e.digests[harness.TPM2_ALG_SHA256]) for e in harness.parse_tcg_log(facts.eventlog)
            if e.pcr == 12]


def assert_order_files(facts) -> None:
    """Microcode addons go before the UKI's initrd, the last addon's first; initrd addons after everything."""
    def got(path):
        return facts.files.get(path)

    def want(data: bytes):
        return (len(data), hashlib.sha256(data).hexdigest())

    assert got("/addon/order-ucode") == want(b"embedded\n"), "a microcode addon came after the UKI's initrd"
    assert got("/addon/ucode-reversed") == want(b"g\n"), "microcode addons not in reverse order (g read last)"
    assert got("/addon/order-last") == want(b"c\n"), "initrd addons not last, or not in name order"
    assert got("/addon/b.txt") == want(b"from addon b\n") and got("/addon/c.txt") == want(b"from addon c\n")


def test_our_stub_applies_and_measures_addons(kernel, workdir):
    all_addons = addons(kernel.version)
    uki = build_uki(workdir, kernel, harness.REPO_ROOT / "build" / "sysext-stub-x64.efi", "uki.efi")
    esp = workdir / "esp.img"
    files = esp_files(workdir, uki, all_addons)
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    ours = used(all_addons, kernel.version, "ours")

    # The command line: the UKI's, then every addon's, global first, each mangled, joined by one space.
    assert facts.cmdline == f"{BASE_CMDLINE} addon.global=1 addon.b=1 x addon.d=1", facts.cmdline
    assert_order_files(facts)
    assert facts.files.get("/addon/prefix.txt") is None, "the addon whose .uname is only a prefix was used"

    # PCR 12, recomputed: addon events where systemd-stub 262 puts them, our per-file companion events between.
    cred_path, conf_path = f".extra/credentials/{CREDENTIAL[0]}", f".extra/confext/{CONFEXT[0]}"
    archives = [(EV_IPL, (p + "\0").encode("utf-16-le"), d) for p, data in ((cred_path, CREDENTIAL[1]),
                                                                           (conf_path, CONFEXT[1]))
                for d in (p.encode() + b"\0", data)]
    events = pcr12_events(ours, archives)
    assert logged_pcr12(facts) == [(t, ed, hashlib.sha256(m).digest()) for t, ed, m in events]
    prediction = predicted(workdir, files, "--pcr", "12", "--pcr", "9")
    for bank in ("sha1", "sha256", "sha384"):
        assert facts.pcrs[bank][12] == extend([m for _, _, m in events], bank), f"PCR 12 ({bank})"
        # predict agrees, and on PCR 9 too: the kernel's command line and the whole initrd, addon pieces included.
        assert prediction[bank][12] == facts.pcrs[bank][12], f"predict: PCR 12 ({bank})"
        assert prediction[bank][9] == facts.pcrs[bank][9], f"predict: PCR 9 ({bank})"

    log = result.log
    for name, why in (("a-uname.addon.efi", "skipped, .uname does not match the UKI's"),
                      ("p-prefix.addon.efi", "skipped, .uname does not match the UKI's"),
                      (NOT_PE[0], "skipped, the firmware cannot load it")):
        assert f"\\EFI\\BOOT\\BOOTX64.EFI.extra.d\\{name}: {why}" in log, name
    features, = struct.unpack("<Q", facts.efivars["StubFeatures"])
    assert features & (1 << 5) and features & (1 << 7), f"cmdline and devicetree addon bits: {features:#x}"
    assert facts.efivar_str("StubPcrKernelParameters") == "12"


def test_systemd_stub_262_applies_the_same_addons(kernel, workdir, systemd_stub_262):
    """The peer on the same ESP: the same command line and pieces, but for the addon whose .uname is only a
    prefix of the kernel's (262 compares with strncmp over the addon's bytes); the same addon events,
    with one event per companion archive between them."""
    all_addons = addons(kernel.version)
    uki = build_uki(workdir, kernel, systemd_stub_262, "uki262.efi")
    esp = workdir / "esp262.img"
    files = esp_files(workdir, uki, all_addons)
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot262", tpm=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    theirs = used(all_addons, kernel.version, "systemd")

    assert facts.cmdline == f"{BASE_CMDLINE} addon.global=1 addon.b=1 x addon.d=1 addon.prefix=1", facts.cmdline
    assert_order_files(facts)
    assert facts.files.get("/addon/prefix.txt") == (13, hashlib.sha256(b"prefix uname\n").hexdigest())

    # Its archive events ("Credentials initrd", ...) cover whole cpio archives: taken from its log here,
    # every addon event recomputed.
    logged = logged_pcr12(facts)
    archives = [(t, d, None) for t, d, _ in logged if t == EV_IPL and
                d.decode("utf-16-le").rstrip("\0") in ("Credentials initrd", "Configuration extension initrd")]
    assert [a[1].decode("utf-16-le").rstrip("\0") for a in archives] == ["Credentials initrd",
                                                                         "Configuration extension initrd"]
    events = pcr12_events(theirs, archives)
    assert [(t, d) for t, d, _ in logged] == [(t, d) for t, d, _ in events]
    for (_, _, digest), (_, _, data) in zip(logged, events):
        assert data is None or digest == hashlib.sha256(data).digest()
    replayed = bytes(32)
    for _, _, digest in logged:
        replayed = hashlib.sha256(replayed + digest).digest()
    assert facts.pcrs["sha256"][12] == replayed
    # predict models systemd-stub 262: its prefix .uname rule, its archives, the same addon events.
    prediction = predicted(workdir, files, "--scheme=systemd", "--systemd-version", "262", "--pcr", "12")
    for bank in ("sha1", "sha256", "sha384"):
        assert prediction[bank][12] == facts.pcrs[bank][12], f"predict --scheme=systemd: PCR 12 ({bank})"
    assert ".uname mismatch between a-uname.addon.efi and UKI, ignoring" in result.log


def make_signed_addon(workdir: Path, name: str, cmdline: bytes, sign: bool, tamper: bool = False) -> bytes:
    addon = Addon(EXTRA_D, name, cmdline=cmdline)
    path = workdir / name
    path.write_bytes(addon.build(workdir))
    data = sign_with_snakeoil(workdir, path).read_bytes() if sign else path.read_bytes()
    if tamper:
        data = bytearray(data)
        data[data.index(cmdline) + len(cmdline) - 1] ^= 0x01
        data = bytes(data)
    return data


def test_secure_boot_uses_signed_addons_and_refuses_the_others(kernel, workdir):
    """Under Secure Boot (OVMF's snakeoil db) the firmware verifies each addon as it loads it: the signed one
    is used; an unsigned one and a signed one with a byte changed are refused, one line each, and the
    signed UKI boots on with its own command line plus the signed addon's. No TPM here: the addon
    applies all the same, unmeasured."""
    unsigned_kernel = dataclasses.replace(kernel, vmlinuz=strip_signature(workdir, kernel.vmlinuz))
    uki = sign_with_snakeoil(workdir, build_uki(workdir, unsigned_kernel,
                                                harness.REPO_ROOT / "build" / "sysext-stub-x64.efi", "uki.efi"))
    files = {"EFI/BOOT/BOOTX64.EFI": str(uki),
             f"{EXTRA_D}/signed.addon.efi": make_signed_addon(workdir, "signed.addon.efi", b"addon.signed=1", True),
             f"{EXTRA_D}/unsigned.addon.efi": make_signed_addon(workdir, "unsigned.addon.efi", b"addon.unsigned=1",
                                                                False),
             f"{EXTRA_D}/tampered.addon.efi": make_signed_addon(workdir, "tampered.addon.efi", b"addon.tampered=1",
                                                                True, tamper=True)}
    esp = workdir / "esp-sb.img"
    harness.build_esp(esp, files)
    result = harness.boot(esp, workdir=workdir / "boot-sb", tpm=False, secure_boot=True)
    facts = result.facts
    assert result.reason == "poweroff" and facts.complete, tail(result)
    assert facts.secure_boot is True, "the guest must see SecureBoot=1"
    assert not facts.tpm_present and facts.efivar_str("StubPcrKernelParameters") is None
    assert facts.cmdline == f"{BASE_CMDLINE} addon.signed=1", facts.cmdline
    lines = [line for line in result.log.splitlines() if "sysext-stub:" in line]
    for name in ("unsigned.addon.efi", "tampered.addon.efi"):
        about = [line for line in lines if name in line]
        assert len(about) == 1 and "skipped, Secure Boot refused it" in about[0], about
    assert any("\\signed.addon.efi: addon used: .cmdline" in line for line in lines), lines
