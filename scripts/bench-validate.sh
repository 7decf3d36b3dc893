#!/bin/sh
# bench-validate.sh - `sysext-stub validate` hash tree throughput against
# `veritysetup verify` (Debian's cryptsetup-bin), same image, same run.
#
# The image is a signed DDI made by Debian 13's systemd-repart with
# BENCH_VALIDATE_MIB MiB (default 256) of incompressible data in its erofs
# (tests/cli/ddi_images.py builds it once into the cache; needs the Debian
# mirror). veritysetup verifies the image's own data and hash partitions,
# copied to files (it takes no offsets into one file), with the root hash
# from the image's verity-sig partition; validate reads the DDI itself and
# also parses the GPT, checks the signature and reads the extension-release
# file. Everything from the page cache (one warm-up read), median of
# BENCH_RUNS (3). MB/s counts the data bytes the tree covers (10^6 bytes).
# Output also goes to build/bench/validate.txt.
set -eu
export LC_ALL=C
B=${B:-build}
CLI=$B/sysext-stub
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$B/bench/validate.txt
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_VALIDATE_MIB:-256}
WORK=$B/bench/validate
mkdir -p "$WORK"

# the image, and its partitions as files, with root hash, certificate and covered bytes
eval "$("$PYTHON" - "$MIB" "$WORK" <<'PY'
import json, shutil, sys
sys.path.insert(0, "tests/cli")
import ddi_images as d
mib, work = int(sys.argv[1]), sys.argv[2]
img = d.bench_image(mib)
sb = d.verity_superblock(img)
raw = open(img, "rb")
for name, suffix in (("data", "x86-64"), ("hash", "-verity"), ("sig", "-verity-sig")):
    p = d.part(img, suffix)
    raw.seek(p["offset"])
    with open(f"{work}/{name}.part", "wb") as f:
        f.write(raw.read(p["size"]))
sig = json.loads(open(f"{work}/sig.part", "rb").read().rstrip(b"\0"))
shutil.copyfile(img, f"{work}/bench.raw")
print(f"ROOT_HASH={sig['rootHash']} CERT={img.parent}/cert.pem BYTES={sb['data_blocks'] * sb['data_block_size']}")
PY
)"
cat "$WORK/bench.raw" "$WORK/data.part" "$WORK/hash.part" >/dev/null # warm the page cache
cores=$(nproc)

median() {
	for _ in $(seq 1 "$RUNS"); do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

"$CLI" validate --cert "$CERT" "$WORK/bench.raw" >/dev/null # must be ok, or the figures mean nothing
t_vs=$(median veritysetup verify "$WORK/data.part" "$WORK/hash.part" "$ROOT_HASH")
t_one=$(median "$CLI" validate --threads 1 --cert "$CERT" "$WORK/bench.raw")
t_all=$(median "$CLI" validate --threads "$cores" --cert "$CERT" "$WORK/bench.raw")

rate() { printf '%.0f' "$(echo "$BYTES / 1000000 / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
{
	echo "validate: dm-verity hash tree over $((BYTES / 1048576)) MiB of a repart DDI from the page cache," \
		"median of $RUNS, $(date -u +%Y-%m-%d), $cores cores"
	printf '%-46s %8s MB/s  %s\n' "veritysetup verify $(veritysetup --version | cut -d' ' -f2)" "$(rate "$t_vs")" "1.00"
	printf '%-46s %8s MB/s  %s x veritysetup\n' "sysext-stub validate, 1 thread" "$(rate "$t_one")" \
		"$(ratio "$t_vs" "$t_one")"
	printf '%-46s %8s MB/s  %s x veritysetup\n' "sysext-stub validate, $cores threads" "$(rate "$t_all")" \
		"$(ratio "$t_vs" "$t_all")"
} | tee "$OUT"
