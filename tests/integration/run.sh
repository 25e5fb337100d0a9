#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh (or those named) and prints a
# summary line. A test exits 0 (passed), 77 (skipped, with its reason) or
# anything else (failed). Each has a time limit so a hang cannot stall CI.
set -u
cd "$(dirname "$0")"
LIMIT=${NT_TEST_TIMEOUT:-240}
pass=0 fail=0 skip=0 failed=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(test_*.sh)
for t in "${tests[@]}"; do
	start=$(date +%s)
	printf '== %s\n' "$t"
	timeout --kill-after=10 "$LIMIT" bash "$t"
	rc=$?
	took=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); printf '   passed (%ss)\n' "$took" ;;
	77) skip=$((skip + 1)); printf '   skipped (%ss)\n' "$took" ;;
	124|137) fail=$((fail + 1)); failed+=("$t"); printf '   FAILED: timed out after %ss\n' "$LIMIT" ;;
	*) fail=$((fail + 1)); failed+=("$t"); printf '   FAILED (exit %s, %ss)\n' "$rc" "$took" ;;
	esac
done
[ $fail -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
printf 'integration: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
[ $fail -eq 0 ]
