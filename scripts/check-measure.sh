#!/bin/sh
# check-measure.sh OBJ... - fail if measure/ stops being pure C.
#
# measure/ is compiled into the EFI stub and into the host tools; the host's
# predictions are only trustworthy if both run the very same code. So:
#  1. measure/ sources include only freestanding C headers and each other;
#  2. its EFI objects reference no undefined symbol except each other's and
#     the few the compiler itself may emit (mem* builtins, stack protector).
set -eu
status=0
bad_includes=$(grep -nE '^[[:space:]]*#[[:space:]]*include' measure/*.c measure/*.h |
	grep -vE '#[[:space:]]*include[[:space:]]*(<(stdint|stddef|stdbool)\.h>|"[a-z0-9_-]+\.h")' || true)
if [ -n "$bad_includes" ]; then
	echo "check-measure: measure/ may include only <stdint.h>, <stddef.h>, <stdbool.h> and its own headers:" >&2
	echo "$bad_includes" >&2
	status=1
fi
allowed='^(memcpy|memset|memmove|memcmp|__stack_chk_fail|__stack_chk_guard|_GLOBAL_OFFSET_TABLE_)$'
# Symbols one measure/ object takes from another are fine.
defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
nm --defined-only "$@" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$defined"
for obj in "$@"; do
	undefined=$(nm -u "$obj" | awk '{print $2}' | grep -vE "$allowed" | sort -u | comm -23 - "$defined" || true)
	if [ -n "$undefined" ]; then
		echo "check-measure: $obj references symbols outside measure/: $undefined" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "check-measure: measure/ is freestanding ($# objects checked)"
exit $status
