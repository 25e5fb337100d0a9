#!/usr/bin/env bash
# The uprobe families' calibration: durations are reported with the probes'
# own time taken off (measured at attach, per kind of probe pair and entry
# site), so functions of known duration come out at that duration.
#   Truth: the helpers (tests/fixtures/spin: cspin in C, gospin in Go) time
#   each call themselves with the monotonic clock, in a run without probes.
#   ~20 µs and ~1 ms busy loops: nettune's p50 within 10% or one histogram
#   bucket of the helper's own p50, in C (entry + uretprobe) and in Go (entry
#   + RET uprobes). A function of ~nanoseconds: p50 below 1 µs (raw, it
#   measures ~9.5 µs on the test VM), the raw p50 still in the JSON.
#   Go entry site: on the stack check's jbe, at the offset objdump shows.
# Helpers run pinned, C on one CPU and Go on the other. Nothing stays attached.
source "$(dirname "$0")/lib.sh"
nt_setup uprobe

F=${NT_FIXTURES:-}
if [ -z "$F" ] || [ ! -x "$F/cspin" ] || [ ! -x "$F/gospin" ]; then
	nt_skip "NT_FIXTURES is unset or has no cspin/gospin (tests/fixtures/build.sh)"
fi
[ "$(uname -m)" = x86_64 ] || nt_skip "calibration and entry sites are x86-64 only"
command -v objdump >/dev/null || nt_skip "objdump (binutils) not installed"

CPU_C=0 CPU_GO=$(( $(nproc) > 1 ? 1 : 0 ))

# own_p50 CPU BIN FUNC CALLS: the helper's own median, in µs, unprobed
own_p50() {
	local out
	out=$(echo go | taskset -c "$1" "$F/$2" "$3" "$4") || nt_fail "$2 $3 failed"
	awk -v l="$out" 'BEGIN { split(l, a, "p50_ns="); printf "%.3f", a[2] / 1000 }'
}

# within DESC GOT_US WANT_US: |got - want| <= 10% of want, or one bucket
within() {
	local w; w=$(nt_bucket_width_ms "$(awk -v u="$3" 'BEGIN { print u / 1000 }')")
	awk -v g="$2" -v t="$3" -v b="$w" 'BEGIN { d = g - t; if (d < 0) d = -d
		exit !(g != "" && (d <= t * 0.10 || d <= b * 1000)) }' ||
		nt_fail "$1: got $2 µs, want $3 µs within 10% or one bucket ($(awk -v b="$w" 'BEGIN { print b * 1000 }') µs)"
	nt_log "ok: $1 = $2 µs (helper's own: $3 µs)"
}

declare -A truth
truth[c20]=$(own_p50 $CPU_C cspin spin_20us 2000)
truth[c1m]=$(own_p50 $CPU_C cspin spin_1ms 300)
truth[ctiny]=$(own_p50 $CPU_C cspin tiny 20000)
truth[g20]=$(own_p50 $CPU_GO gospin spin20us 2000)
truth[g1m]=$(own_p50 $CPU_GO gospin spin1ms 300)
truth[gtiny]=$(own_p50 $CPU_GO gospin tiny 20000)
nt_log "helpers' own p50 (µs), unprobed: ${truth[*]}"

"$NETTUNE" trace --json --probes uprobe \
	--uprobe "$F/cspin:spin_20us" --uprobe "$F/cspin:spin_1ms" --uprobe "$F/cspin:tiny" \
	--uprobe "$F/gospin:main.spin20us" --uprobe "$F/gospin:main.spin1ms" \
	--uprobe "$F/gospin:main.tiny" >"$NT_TMP/t.json" 2>"$NT_TMP/t.err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/t.err"
ids=$(nt_prog_ids "$tracer")
for run in "$CPU_C cspin spin_20us 2000" "$CPU_C cspin spin_1ms 300" "$CPU_C cspin tiny 20000" \
	"$CPU_GO gospin spin20us 2000" "$CPU_GO gospin spin1ms 300" "$CPU_GO gospin tiny 20000"; do
	read -r cpu bin fn n <<<"$run"
	probed=$(echo go | taskset -c "$cpu" "$F/$bin" "$fn" "$n") || nt_fail "$bin $fn failed"
	nt_log "probed, the helper saw: $probed"
done
kill -INT "$tracer"
wait "$tracer" || nt_fail "nettune exited with $?: $(cat "$NT_TMP/t.err")"
out=$(tail -n 1 "$NT_TMP/t.json")
nt_assert_eq "lost events" "$(jq .lost_events <<<"$out")" 0

f() { jq -r --arg s "$1" "[.uprobe[] | select(.symbol == \$s)][0] | $2" <<<"$out"; }

for pair in "c20 spin_20us 2000" "c1m spin_1ms 300" "g20 main.spin20us 2000" "g1m main.spin1ms 300"; do
	read -r key sym n <<<"$pair"
	nt_assert_eq "$sym count" "$(f "$sym" .count)" "$n"
	nt_assert_eq "$sym calibrated" "$(f "$sym" .probe_cost.calibrated)" true
	nt_log "$sym: raw p50 $(f "$sym" .raw.p50_us) µs, subtracted $(f "$sym" .probe_cost.subtracted_ns) ns"
	within "$sym p50" "$(f "$sym" .p50_us)" "${truth[$key]}"
done

for pair in "ctiny tiny" "gtiny main.tiny"; do
	read -r key sym <<<"$pair"
	nt_assert_eq "$sym count" "$(f "$sym" .count)" 20000
	raw=$(f "$sym" .raw.p50_us)
	got=$(f "$sym" .p50_us)
	nt_assert_ge "$sym raw p50 (µs) holds the probes' time" "$raw" 1
	nt_assert_le "$sym p50 (µs), probes' time subtracted" "$got" 1
	nt_log "ok: $sym: raw p50 $raw µs, reported $got µs (helper's own ${truth[$key]} µs)"
done

# The Go entry probe sits on the jbe of the stack check, as objdump shows it.
read -r start jbe_at < <(objdump -d --no-show-raw-insn "$F/gospin" |
	awk '/<main.spin20us>:/ { s = 1; next } s && /^$/ { exit }
	     s { sub(":", "", $1); if (!a) a = $1; if ($2 == "jbe") { print a, $1; exit } }')
[ -n "$jbe_at" ] || nt_fail "objdump shows no jbe in main.spin20us"
jbe=$(( 0x$jbe_at - 0x$start ))
nt_assert_eq "main.spin20us entry probe offset = objdump's jbe" "$(f main.spin20us .entry_site_offset)" "$jbe"
nt_assert_eq "main.spin20us entry site" "$(f main.spin20us .entry_site)" branch
nt_assert_eq "spin_20us (C) entry site" "$(f spin_20us .entry_site_offset)" 0

# this nettune's programs only: other tracers on the machine do not count
nt_assert_ge "programs the tracer held" "$(jq length <<<"$ids")" 4
nt_assert_eq "nettune's programs left loaded" "$(nt_progs_left "$ids")" 0
nt_pass
