#!/bin/bash
# SPDX-License-Identifier: MIT
# valgrind-cli.sh - representative sysext-stub invocations under valgrind,
# on success and on error paths: no invalid access, no use of uninitialised
# memory, no definite or indirect leak (make valgrind-check).
#
#   scripts/valgrind-cli.sh [CLI] [STUB]     (default build/sysext-stub, build/sysext-stub-x64.efi)
#
# The CLI must be the plain build (valgrind and ASan do not mix). Each line
# also checks the command's own exit status, so an error path that is not
# taken does not pass by accident.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=$(realpath "${1:-build/sysext-stub}")
STUB=$(realpath "${2:-build/sysext-stub-x64.efi}")
LOG=$PWD/tests/fuzz/corpus/tcglog/valid-ovmf-four-banks-locality3
VALGRIND=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--show-leak-kinds=definite,indirect)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
failed=0 ran=0

# vg WANTED-STATUS ARGS...: one invocation under valgrind.
vg() {
	local want=$1 got=0
	shift
	ran=$((ran + 1))
	"${VALGRIND[@]}" "$CLI" "$@" >"$w/stdout" 2>"$w/stderr" || got=$?
	if [ "$got" = 99 ] || [ "$got" != "$want" ]; then
		echo "valgrind-check: FAILED (exit $got, expected $want): sysext-stub $*" >&2
		sed 's/^/    /' "$w/stderr" >&2
		failed=$((failed + 1))
	else
		echo "ok   $got  sysext-stub $*"
	fi
}

# ---------------------------------------------------------------- inputs
cd "$w"
mkdir -p ext glob dangling
printf 'hello\n' >ext/a.sysext.raw
printf 'world' >ext/b.sysext.raw
printf 'skipped' >ext/notes.txt
head -c 70000 /dev/urandom >glob/g.sysext.raw
ln -s "$w/gone" dangling/x.sysext.raw
head -c 5000 /dev/urandom >initrd
printf 'ID=test\n' >os-release
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl pkey -in rsa.pem -pubout -out rsa-pub.pem
printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' >garbage.pem
fp=$(printf 'ab%.0s' $(seq 32))
printf '{"sha256":[{"pcrs":[11],"pkfp":"%s","pol":"%s","sig":"AAAA"}]}' "$fp" "$fp" >sig.json
sha256sum ext/a.sysext.raw ext/b.sysext.raw >SHA256SUMS
printf 'not a manifest line\n' >bad.sha256
printf 'not json' >garbage.json
printf '{"sha256":[{"pcr":13,"hash":"%s","events":[{"type":"EV_BOGUS","digest":"%s"}]}]}' "$fp" "$fp" >bad-event.json
head -c 100 "$LOG" >truncated.log
head -c 300 "$STUB" >truncated.efi
printf 'not a kernel' >junk

# ---------------------------------------------------------------- success paths
vg 0 build --stub "$STUB" --linux "$STUB" --initrd initrd --cmdline "console=ttyS0 quiet" \
	--os-release @os-release --uname 6.1.0 --pcrpkey pub.pem --pcrsig sig.json --output uki.efi
vg 0 build --stub "$STUB" --linux "$STUB" --initrd initrd --output nocmd.efi
vg 0 predict --uki uki.efi --extra-dir ext --global-dir glob --verbose
vg 0 predict --uki uki.efi --extra-dir ext --global-dir glob --json --threads 2
vg 0 predict --uki nocmd.efi --cmdline " console=ttyS0 " --sysext ext/a.sysext.raw --threads 3 --json
vg 0 predict --manifest SHA256SUMS --global-sysext glob/g.sysext.raw --pcr 13 --bank sha256 --os-separator
vg 0 predict --scheme=systemd --uki uki.efi --extra-dir ext --phase enter-initrd --threads 2
vg 0 cpio --extra-dir ext --global-dir glob --output out.cpio
"$CLI" predict --sysext ext/a.sysext.raw --sysext ext/b.sysext.raw --pcr 13 --json >expect.json
sed 's/"pcr":13/"pcr":12/' expect.json >mismatch.json
vg 0 eventlog --log "$LOG" --no-pcr-values --verbose
vg 0 eventlog --log "$LOG" --no-pcr-values --expect expect.json --json --verbose
vg 1 eventlog --log "$LOG" --no-pcr-values --expect mismatch.json
vg 1 eventlog --log "$LOG" --pcr-value "sha256:13=$fp" --pcr 13
one=(--uki uki.efi --extra-dir ext --bank sha256 --phase enter-initrd)
vg 0 sign --private-key rsa.pem --uki uki.efi --extra-dir ext --output signed.json
vg 0 sign --private-key rsa.pem --public-key rsa-pub.pem --uki uki.efi --extra-dir glob --pcrs 13 \
	--append signed.json --output merged.json
vg 0 sign --verify merged.json --public-key rsa-pub.pem --uki uki.efi --extra-dir ext
vg 1 sign --verify signed.json --private-key rsa.pem --uki uki.efi --extra-dir glob --pcrs 13
vg 1 sign --verify sig.json --public-key rsa-pub.pem "${one[@]}"
vg 0 sign --policy-digest-only --public-key rsa-pub.pem "${one[@]}" --output digest.json
sed 's/.*"pol":"\([0-9a-f]*\)".*/\1/' digest.json | xxd -r -p >pol.bin
openssl dgst -sha256 -sign rsa.pem -out pol.sig pol.bin
vg 0 sign --signature pol.sig --public-key rsa-pub.pem "${one[@]}" --append signed.json
# profiles, .ucode, .splash (issue 15); sysext-stub answering as systemd-measure 262, for ukify
BMP=$OLDPWD/tests/fuzz/corpus/bmp
vg 0 build --stub "$STUB" --profile 'ID=rescue' --cmdline "rescue" --initrd initrd --output p1.efi
vg 0 build --stub "$STUB" --linux "$STUB" --initrd initrd --ucode initrd --splash "$BMP/24bit-quadrants" --cmdline quiet \
	--join-profile p1.efi --output multi.efi
vg 0 predict --uki multi.efi --profile all --kernel-cmdline-extra "smbios words" --json
vg 0 sign --private-key rsa.pem --uki multi.efi --bank sha256 --phase enter-initrd --output multi.json
vg 0 systemd-measure calculate --linux=initrd --cmdline=os-release --profile=os-release --bank=sha256 --json=short
vg 0 systemd-measure sign --linux=initrd --private-key=rsa.pem --public-key=rsa-pub.pem --phase=enter-initrd

# ---------------------------------------------------------------- error paths
vg 1 build --stub "$STUB" --linux junk --output x.efi
vg 1 build --stub truncated.efi --linux "$STUB" --output x.efi
vg 1 build --stub "$STUB" --linux "$STUB" --pcrpkey garbage.json --output x.efi
vg 1 build --stub "$STUB" --linux "$STUB" --pcrsig garbage.json --output x.efi
vg 1 build --stub uki.efi --linux "$STUB" --output x.efi
vg 1 build --stub "$STUB" --linux "$STUB" --join-profile uki.efi --output x.efi
vg 1 build --stub "$STUB" --linux "$STUB" --splash "$BMP/truncated" --output x.efi
vg 1 predict --uki multi.efi --profile 7
vg 1 systemd-measure calculate --linux=missing --json=short
vg 1 predict --uki truncated.efi
vg 1 predict --uki missing.efi
vg 1 predict --uki uki.efi --extra-dir dangling
vg 1 predict --manifest bad.sha256 --extra-dir ext
vg 1 predict --extra-dir ext --pcr 24
vg 1 cpio --extra-dir ext --output "$w/no-such-dir/out.cpio"
vg 1 cpio --manifest SHA256SUMS --output x.cpio
vg 2 eventlog --log truncated.log --no-pcr-values
vg 2 eventlog --log "$LOG" --no-pcr-values --expect garbage.json
vg 2 eventlog --log "$LOG" --no-pcr-values --expect bad-event.json
vg 2 eventlog --log "$LOG" --pcr-value sha256:13=00
vg 2 sign --private-key garbage.pem "${one[@]}" --output x.json
vg 2 sign --private-key key.pem "${one[@]}" --output x.json
vg 2 sign --policy-digest-only --public-key rsa.pem "${one[@]}" --output x.json
vg 2 sign --private-key rsa.pem "${one[@]}" --append garbage.json --output x.json
vg 2 sign --signature pol.bin --public-key rsa-pub.pem "${one[@]}" --output x.json
vg 2 sign --verify garbage.json --public-key rsa-pub.pem "${one[@]}"

# ---------------------------------------------------------------- validate, admit
# bare file systems from the fuzz seeds, and (with network to the Debian mirror) repart's signed DDIs
SEEDS=$OLDPWD/tests/fuzz/corpus
mkdir -p v/e v/s v/g r/.extra/sysext r/etc
cp "$SEEDS/imagefs/erofs-chunks" v/e/hello.raw
cp "$SEEDS/imagefs/squashfs-gzip" v/s/hello.raw
tail -c +39 "$SEEDS/gpt/ddi-strict" >v/g/hello.raw # the disk without the fuzz input's policy prefix
cp v/s/hello.raw r/.extra/sysext/hello.sysext.raw
printf 'ID=debian\n' >r/etc/os-release
vg 0 validate --image-policy '*' v/e/hello.raw v/s/hello.raw
vg 0 validate --image-policy '*' --os-release os-release --json v/s/hello.raw
vg 1 validate v/e/hello.raw v/g/hello.raw
vg 2 validate v/missing.raw
vg 2 validate --image-policy 'root=bogus' v/e/hello.raw
vg 0 admit --root "$w/r" --cmdline os-release
if ddi=$(cd "$OLDPWD" && /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/cli"); import ddi_images; print(ddi_images.images()["dir"])' 2>/dev/null); then
	vg 0 validate --cert "$ddi/certA.pem" --threads 2 "$ddi/good/hello.raw"
	vg 1 validate --cert "$ddi/certB.pem" "$ddi/good/hello.raw" "$ddi/unsigned/hello.raw"
	cp "$ddi/good/hello.raw" hello.sysext.raw
	vg 1 sign --private-key rsa.pem --pcrs 13 --validate --cert "$ddi/certB.pem" --sysext hello.sysext.raw
else
	echo "skip validate of signed DDIs: no network to the Debian mirror (tests/cli/ddi_images.py)"
fi

[ ! -e x.efi ] && [ ! -e x.cpio ] && [ ! -e x.json ] || { echo "valgrind-check: an error path left an output file" >&2; failed=$((failed + 1)); }
if [ "$failed" -ne 0 ]; then
	echo "valgrind-check: $failed of $ran invocations failed" >&2
	exit 1
fi
echo "valgrind-check: $ran invocations, no memory errors or leaks"
