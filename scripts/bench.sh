#!/bin/sh
# bench.sh - `make bench`: every benchmark, each against peers measured in the
# same run, then one report (build/bench/report.txt) and the series plot
# (build/bench/series.png).
#
#   1. prediction: `sysext-stub predict` vs `openssl dgst -sha256` on the
#      same 1 GiB (scripts/bench-predict.sh), about a minute;
#   2. validate: `sysext-stub validate` vs `veritysetup verify` on the same
#      signed DDI (scripts/bench-validate.sh), about a minute;
#   3. boots: our stub vs systemd-stub 262, 257 and 252 under QEMU/OVMF/swtpm
#      (ovmf-tests/bench_boot.py): stub phase and where it goes, EFI
#      LoaderData at handover, the scaling series, the memory ceiling. One
#      line per boot on the terminal, with an estimate of the time left.
#
# BENCH_RUNS (default 5) boots per case of ours and 262; BENCH_PEER_RUNS
# (default 1) of 257 and 252; BENCH_JOBS (default 2) boots at once;
# BENCH_CASES narrows the cases; BENCH_SERIES=0 / BENCH_CEILING=0 skip those.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
OUT=$B/bench
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
start=$(date +%s)

# Prediction first: it wants an idle machine, and the boots leave none of their files.
echo "bench: prediction throughput against openssl (about a minute)"
B=$B BENCH_RUNS=3 scripts/bench-predict.sh
echo "bench: validate throughput against veritysetup (about a minute)"
B=$B PYTHON=$PYTHON scripts/bench-validate.sh
set -- --runs "${BENCH_RUNS:-5}" --peer-runs "${BENCH_PEER_RUNS:-1}" --jobs "${BENCH_JOBS:-2}" --out "$OUT"
[ -n "${BENCH_CASES:-}" ] && set -- "$@" --cases "$BENCH_CASES"
[ "${BENCH_SERIES:-1}" = 0 ] && set -- "$@" --no-series
[ "${BENCH_CEILING:-1}" = 0 ] && set -- "$@" --no-ceiling
"$PYTHON" -u ovmf-tests/bench_boot.py "$@"

{
	cat "$OUT/boot.txt"
	echo
	cat "$OUT/predict.txt"
	echo
	cat "$OUT/validate.txt"
	echo
	echo "plot: $OUT/series.png; per-boot figures: $OUT/boot.json; progress: $OUT/boot.log;" \
		"whole benchmark $(($(date +%s) - start)) s"
} >"$OUT/report.txt"
echo
echo "bench: report in $OUT/report.txt"
