#!/bin/sh
# bench-predict.sh - prediction throughput against OpenSSL, same files, same run.
#
# A 1 GiB set (8 x 128 MiB sysexts) is hashed by `openssl dgst -sha256`
# (one process, one core) and by `sysext-stub predict --pcr 13` with one
# thread and with one thread per core, all from the page cache (one warm-up
# read first). Reports MiB/s and the ratios; the target is >= 0.9 x openssl
# per core used. Output also goes to build/bench/predict.txt.
set -eu
export LC_ALL=C # printf %.2f with a decimal point
B=${B:-build}
CLI=$B/sysext-stub
SET=$B/bench/predict-set
OUT=$B/bench/predict.txt
FILES=${BENCH_FILES:-8}
MIB=${BENCH_MIB:-128}
RUNS=${BENCH_RUNS:-3}

mkdir -p "$SET"
for i in $(seq 1 "$FILES"); do
	f=$SET/ext$i.sysext.raw
	[ -f "$f" ] && [ "$(stat -c %s "$f")" -eq $((MIB * 1048576)) ] && continue
	head -c $((MIB * 1048576)) /dev/urandom >"$f"
done
total_mib=$((FILES * MIB))
cores=$(nproc)
cat "$SET"/*.sysext.raw >/dev/null # warm the page cache

# Median wall time in seconds of RUNS runs of "$@".
median() {
	for _ in $(seq 1 "$RUNS"); do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

t_ssl=$(median openssl dgst -sha256 "$SET"/*.sysext.raw)
t_one=$(median "$CLI" predict --extra-dir "$SET" --pcr 13 --bank sha256 --threads 1)
t_all=$(median "$CLI" predict --extra-dir "$SET" --pcr 13 --bank sha256 --threads "$cores")
t_4b=$(median "$CLI" predict --extra-dir "$SET" --pcr 13 --threads "$cores")

# (printf, not bc's own output: bc prints .41 for 0.41)
rate() { printf '%.1f' "$(echo "$total_mib / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
{
	echo "prediction throughput, $FILES x $MIB MiB from the page cache, median of $RUNS, $(date -u +%Y-%m-%d), $(nproc) cores"
	printf '%-46s %8s MiB/s  %s\n' "openssl dgst -sha256 (1 core)" "$(rate "$t_ssl")" "1.00"
	printf '%-46s %8s MiB/s  %s x openssl\n' "sysext-stub predict sha256, 1 thread" "$(rate "$t_one")" "$(ratio "$t_ssl" "$t_one")"
	printf '%-46s %8s MiB/s  %s x openssl (%s per core)\n' "sysext-stub predict sha256, $cores threads" \
		"$(rate "$t_all")" "$(ratio "$t_ssl" "$t_all")" "$(ratio "$t_ssl" "$(echo "$t_all * $cores" | bc -l)")"
	printf '%-46s %8s MiB/s  %s x openssl-sha256\n' "sysext-stub predict all 4 banks, $cores threads" \
		"$(rate "$t_4b")" "$(ratio "$t_ssl" "$t_4b")"
} | tee "$OUT"
