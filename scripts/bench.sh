#!/bin/sh
# bench.sh - `make bench`: every benchmark, each against a peer measured in the
# same run, then one report (build/bench/report.txt) and the plot
# (build/bench/boot.png).
#
#   1. boot: our stub vs Debian's systemd-stub, alternating boots under
#      QEMU/OVMF/swtpm (ovmf-tests/bench_boot.py): stub phase, time to the
#      initrd, EFI LoaderData at handover, our own peak allocation;
#   2. prediction: `sysext-stub predict` vs `openssl dgst -sha256` on the
#      same 1 GiB (scripts/bench-predict.sh).
#   3. validate: `sysext-stub validate` vs `veritysetup verify` on the same
#      signed DDI (scripts/bench-validate.sh).
#
# BENCH_RUNS (default 5) boots per stub and case; BENCH_CASES narrows the cases.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
OUT=$B/bench
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
start=$(date +%s)

# Prediction first: it wants an idle machine, and the boots leave none of their files.
B=$B scripts/bench-predict.sh >/dev/null
B=$B PYTHON=$PYTHON scripts/bench-validate.sh >/dev/null
set -- --runs "${BENCH_RUNS:-5}" --out "$OUT"
[ -n "${BENCH_CASES:-}" ] && set -- "$@" --cases "$BENCH_CASES"
"$PYTHON" ovmf-tests/bench_boot.py "$@" >"$OUT/boot.log"

{
	cat "$OUT/boot.txt"
	echo
	cat "$OUT/predict.txt"
	echo
	cat "$OUT/validate.txt"
	echo
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1);" \
		"$(qemu-system-x86_64 --version | head -n 1); ovmf $(dpkg-query -W -f '${Version}' ovmf 2>/dev/null);" \
		"swtpm $(dpkg-query -W -f '${Version}' swtpm 2>/dev/null);" \
		"systemd-stub $(dpkg-query -W -f '${Version}' systemd-boot-efi 2>/dev/null)"
	echo "plot: $OUT/boot.png; per-boot figures: $OUT/boot.json, $OUT/boot.log;" \
		"whole benchmark $(($(date +%s) - start)) s"
} >"$OUT/report.txt"
cat "$OUT/report.txt"
