#!/usr/bin/env bash
# Runs the cmocka unit test binaries given as arguments; prints a summary.
set -u
pass=0 fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
printf 'unit: %d passed, %d failed\n' "$pass" "$fail"
[ $fail -eq 0 ]
