#!/bin/sh
# install-deps.sh - install, with apt-get, every Debian 12 package that
# building, demoing and testing sysext-stub needs and that is missing.
# Idempotent; does nothing when all are present. Needs root (or sudo).
# systemd is here for systemd-measure (PCR 11 differential tests) and its
# libsystemd-shared-252.so (the JSON parser tests/test-systemd-json.c compares
# measure/json.c with), bc for
# make bench; a minimal Debian image has neither. libtss2/tpm2-tools and
# cryptsetup-bin are for the signed-policy unseal and LUKS tests; valgrind for
# the CLI leak check; gnuplot-nox for the benchmark plot; strace for the test of
# where systemd 252's cryptsetup token plugin looks for the PCR signature; xxd
# (and jq) for the README's external-signer flow, which the tests follow;
# squashfs-tools for the demo's sample sysexts; mmdebstrap for chroots of
# Debian 13/unstable (ovmf-tests/debian.py: their systemd tools need their own glibc;
# ovmf-tests/systemd_guest.py builds the systemd 257 initrd from one, zstd packs it).
# validate's tests: zlib1g-dev (fuzz-imagefs compares our inflate with zlib's),
# e2fsprogs (an ext4 image, which validate must call unsupported); veritysetup
# (cryptsetup-bin) is their hash-tree oracle and squashfs-tools makes images.
# python3-pefile for ukify 262 (Debian unstable's systemd-ukify, fetched by the tests, runs on
# Debian 12's python3 with it: the "build with ukify" tests).
set -eu

PACKAGES="
make gcc binutils pkg-config
gnu-efi libssl-dev
libcmocka-dev clang libclang-rt-14-dev
python3 python3-pytest
qemu-system-x86 ovmf swtpm swtpm-tools
mtools dosfstools fdisk busybox-static cpio xz-utils zstd
systemd systemd-boot-efi sbsigntool openssl bc
libtss2-dev libtss2-tcti-swtpm0 tpm2-tools cryptsetup-bin
valgrind gnuplot-nox strace
xxd jq squashfs-tools
mmdebstrap python3-pefile
zlib1g-dev e2fsprogs
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all build and test dependencies are installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or install sudo) so apt-get can install them" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
