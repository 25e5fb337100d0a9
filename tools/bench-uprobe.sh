#!/usr/bin/env bash
# The uprobe benchmark (`make bench`): what nettune's uprobes cost a Go
# net/http server per request, and what each kind of probe site costs per
# call, on this machine.
#
#  - per request: the goserver fixture (handler sleeps 0 ms) in a private
#    network namespace, one keep-alive connection, REQ requests per run
#    (tests/integration/helpers/httpget, which times each request itself);
#    ROUNDS rounds, each: no tracer, `nettune trace --probes http` (entry
#    probe on the stack check's jbe, the default), and the same with the
#    entry probe kept on the function's first instruction
#    (NETTUNE_GO_ENTRY_AT_START=1, the site before this change). Added ns per
#    request = the run's client p50 minus the untraced run's of the same
#    round; medians over the rounds.
#  - per call: nettune's own calibration at attach (see docs/probes.md), for
#    each kind of pair and entry site, from `nettune trace -v` on the
#    gospin/cspin fixtures; and what a 1.4 ns-class function (main.tiny)
#    reports raw and with the probes' time subtracted.
# Writes its section of docs/benchmarks.md (between the uprobe-bench markers).
#   tools/bench-uprobe.sh [--no-doc]      NT_BUILD, NT_FIXTURES: build dirs
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${NT_BUILD:-$ROOT/build}" && pwd)
FIX=$(cd "${NT_FIXTURES:-$BUILD/fixtures}" && pwd)
DOC=$ROOT/docs/benchmarks.md
WRITE_DOC=1
[ "${1:-}" = --no-doc ] && WRITE_DOC=0
ROUNDS=${BENCH_UPROBE_ROUNDS:-7} REQ=${BENCH_UPROBE_REQUESTS:-4000}
[ "$(id -u)" -eq 0 ] || { echo "bench-uprobe: needs root" >&2; exit 1; }
. "$ROOT/tools/bench/lock.sh"
for f in "$FIX/goserver" "$FIX/gospin" "$FIX/cspin" "$BUILD/tests/helpers/httpget" \
	"$BUILD/uprobesite"; do
	[ -x "$f" ] || { echo "bench-uprobe: $f missing (make; make $BUILD/fixtures/truth.txt)" >&2; exit 1; }
done
for c in jq objdump readelf nm; do
	command -v $c >/dev/null || { echo "bench-uprobe: $c is not installed" >&2; exit 1; }
done

NS=ntbench-uprobe$$ OUT=$(mktemp -d) GS= TR=
cleanup() {
	[ -n "$TR" ] && kill -INT "$TR" 2>/dev/null && wait "$TR" 2>/dev/null
	[ -n "$GS" ] && kill -TERM "$GS" 2>/dev/null && wait "$GS" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
PORT=$(( 20000 + RANDOM % 20000 ))
# server on one CPU, client on the other (2-core machine: both are used)
ip netns exec "$NS" taskset -c 0 "$FIX/goserver" -addr "127.0.0.1:$PORT" -handler-sleep-ms 0 \
	>"$OUT/gs.out" 2>&1 &
GS=$!
for _ in $(seq 100); do grep -q listening "$OUT/gs.out" && break; sleep 0.05; done
grep -q listening "$OUT/gs.out" || { echo "bench-uprobe: goserver did not start" >&2; exit 1; }

# client_us: REQ requests one after the other; the mean time per request
# in µs, from the wall time of the whole run (httpget's own p50 comes from
# histogram buckets ~4 µs wide here, too coarse for the differences).
client_us() {
	local t0 t1 ok
	t0=$(date +%s%N)
	ok=$(ip netns exec "$NS" taskset -c 1 "$BUILD/tests/helpers/httpget" --port "$PORT" \
		--requests "$REQ" --conns 1 | jq -r '.ok')
	t1=$(date +%s%N)
	[ "$ok" = "$REQ" ] || { echo "bench-uprobe: $ok of $REQ requests ok" >&2; exit 1; }
	awk -v a="$t0" -v b="$t1" -v n="$REQ" 'BEGIN { printf "%.2f", (b - a) / n / 1000 }'
}
start_tracer() { # ENV...: nettune trace --probes http on the server, attached
	env "$@" "$BUILD/nettune" trace --json --probes http -p "$GS" >"$OUT/t.json" 2>"$OUT/t.err" &
	TR=$!
	for _ in $(seq 200); do grep -q attached "$OUT/t.err" && return; sleep 0.05; done
	cat "$OUT/t.err" >&2; echo "bench-uprobe: nettune did not attach" >&2; exit 1
}
stop_tracer() {
	kill -INT "$TR"; wait "$TR"; TR=
	tail -n 1 "$OUT/t.json" >"$OUT/last.json"
}

client_us >/dev/null	# warm up the server
: >"$OUT/rounds"
for r in $(seq "$ROUNDS"); do
	none=$(client_us)
	start_tracer
	jbe=$(client_us)
	stop_tracer
	jbe_nettune=$(jq -r '.http.p50_us' "$OUT/last.json")
	jbe_raw=$(jq -r '.http.raw.p50_us' "$OUT/last.json")
	jbe_sub=$(jq -r '.http.probe_cost.subtracted_ns' "$OUT/last.json")
	start_tracer NETTUNE_GO_ENTRY_AT_START=1
	start0=$(client_us)
	stop_tracer
	start0_nettune=$(jq -r '.http.p50_us' "$OUT/last.json")
	start0_raw=$(jq -r '.http.raw.p50_us' "$OUT/last.json")
	start0_sub=$(jq -r '.http.probe_cost.subtracted_ns' "$OUT/last.json")
	echo "$none $jbe $start0 $jbe_nettune $jbe_raw $jbe_sub $start0_nettune $start0_raw $start0_sub" \
		>>"$OUT/rounds"
	echo "bench-uprobe: round $r: µs per request: untraced $none, jbe $jbe, entry at +0 $start0" >&2
done

# median COLUMN [MINUS_COLUMN [FORMAT]]: median over the rounds of $c (or $c - $m)
median() {
	awk -v c="$1" -v m="${2:-0}" '{ print $c - (m ? $m : 0) }' "$OUT/rounds" | sort -g |
		awk -v f="${3:-%.2f}" '{ v[NR] = $1 }
			END { printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
us_to_ns() { awk -v u="$1" 'BEGIN { printf "%\047d", u * 1000 }'; }

# Per site, bare uprobes (no BPF program; tools/uprobesite) on functions of
# known duration, which time themselves: what the trap and the emulation or
# single-step of each instruction add per call.
# file_off BIN VADDR: the file offset of VADDR, from readelf's PT_LOADs
file_off() {
	local va=$(( $2 )) off vaddr filesz
	while read -r off vaddr filesz; do
		if (( va >= vaddr && va < vaddr + filesz )); then
			echo $(( va - vaddr + off ))
			return
		fi
	done < <(readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $3, $5 }')
}
# insn_addr BIN FUNC N: address of FUNC's Nth instruction (1-based), or "ret"
insn_addr() {
	objdump -d --no-show-raw-insn "$1" | awk -v f="<$2>:" -v n="$3" '
		$2 == f { s = 1; next } s && /^$/ { exit }
		s { sub(":", "", $1); i++; if (i == n || (n == "ret" && $2 == "ret")) { print "0x" $1; exit } }'
}
site_us() { # BIN OFFSETS FUNC-ARGS...: the helper's own p50 in µs, median of 3
	local bin=$1 offs=$2; shift 2
	for _ in 1 2 3; do
		echo go | taskset -c 1 "$BUILD/uprobesite" "$FIX/$bin" "$offs" -- "$FIX/$bin" "$@" |
			sed -n 's/.*p50_ns=\([0-9]*\).*/\1/p'
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[2] / 1000 }'
}
g_cmp=$(file_off "$FIX/gospin" "$(insn_addr "$FIX/gospin" main.spin20us 1)")
g_jbe=$(file_off "$FIX/gospin" "$(insn_addr "$FIX/gospin" main.spin20us 2)")
g_ret=$(file_off "$FIX/gospin" "$(insn_addr "$FIX/gospin" main.spin20us ret)")
c_push=$(file_off "$FIX/cspin" "$(insn_addr "$FIX/cspin" spin_for 1)")
c_mov=$(file_off "$FIX/cspin" "$(insn_addr "$FIX/cspin" spin_for 2)")
site_rows=""
g_none=$(site_us gospin none spin20us 2000)
c_none=$(site_us cspin none spin_20us 2000)
for row in "gospin|$g_cmp|first instruction: \`cmp rsp,[r14+0x10]\`|spin20us" \
	"gospin|$g_jbe|the stack check's \`jbe\`|spin20us" \
	"gospin|$g_ret|\`ret\`|spin20us" \
	"gospin|$g_cmp,$g_ret|\`cmp\` and \`ret\` (the old Go pair)|spin20us" \
	"gospin|$g_jbe,$g_ret|\`jbe\` and \`ret\` (the Go pair now)|spin20us" \
	"cspin|$c_push|\`push rbp\` (C, spin_for's first)|spin_20us" \
	"cspin|$c_mov|\`mov rbp,rsp\` (C, spin_for's second)|spin_20us"; do
	IFS='|' read -r bin offs what fn <<<"$row"
	[ -n "$offs" ] && [ "${offs#,}" = "$offs" ] && [ "${offs%,}" = "$offs" ] || continue
	got=$(site_us "$bin" "$offs" "$fn" 2000)
	base=$([ "$bin" = gospin ] && echo "$g_none" || echo "$c_none")
	site_rows+="| $what | $got µs | $(us_to_ns "$(awk -v a="$got" -v b="$base" 'BEGIN { print a - b }')") ns |"$'\n'
done

# Per call: the calibration each kind of site gets, and a tiny function,
# timed by itself unprobed first.
echo go | taskset -c 1 "$FIX/gospin" tiny 20000 >"$OUT/tiny.out"
"$BUILD/nettune" trace -v --json --probes uprobe --uprobe "$FIX/gospin:main.spin20us" \
	--uprobe "$FIX/gospin:main.tiny" --uprobe "$FIX/cspin:tiny" >"$OUT/cal.json" 2>"$OUT/cal.err" &
TR=$!
for _ in $(seq 200); do grep -q attached "$OUT/cal.err" && break; sleep 0.05; done
echo go | taskset -c 1 "$FIX/gospin" tiny 20000 >/dev/null
kill -INT "$TR"; wait "$TR"; TR=
cal_rows=$(sed -n 's/.*uprobe calibration: \(Go\|C\) pair, \([a-z]*\) entry: p50 \([0-9]*\) ns over \([0-9]*\) calls, bare \([0-9]*\) ns, subtract \([0-9]*\) ns, \([0-9]*\) ns added per call (\([0-9.]*\) ms).*/| \1 | \2 | \6 | \7 | \8 ms |/p' "$OUT/cal.err" |
	sed 's/| Go |/| Go: entry + RET uprobes |/; s/| C |/| C: entry uprobe + uretprobe |/; s/| branch |/| branch (jbe, emulated) |/; s/| stepped |/| stepped (cmp, single-stepped) |/')
tiny_raw=$(tail -n 1 "$OUT/cal.json" | jq -r '[.uprobe[] | select(.symbol == "main.tiny")][0].raw.p50_us')
tiny_got=$(tail -n 1 "$OUT/cal.json" | jq -r '[.uprobe[] | select(.symbol == "main.tiny")][0].p50_us')
tiny_own=$(sed -n 's/.*p50_ns=\([0-9]*\).*/\1/p' "$OUT/tiny.out")

goversion=$(go version 2>/dev/null | awk '{ print $3 }' || true)
section=$(cat <<EOF
<!-- uprobe-bench:begin (written by tools/bench-uprobe.sh, make bench) -->
## Uprobe cost (http and uprobe families)

Measured by \`tools/bench-uprobe.sh\` on $(date -u +%F): $(nproc) cores, Linux $(uname -r),
goserver fixture built by ${goversion:-Go (version unknown)}. $REQ requests per run, one after
the other over one keep-alive connection (the handler does nothing), client and
server on different CPUs; time per request = the client's wall time / $REQ;
medians of $ROUNDS rounds, each round untraced, then traced twice. Each request
hits three probes: ServeHTTP's entry and RET, and WriteHeader's entry.

| Go HTTP server | time per request | added per request | nettune's ServeHTTP p50 (raw) | subtracted |
|---|---|---|---|---|
| untraced | $(median 1) µs | | | |
| \`--probes http\`, entry probe on the jbe (default) | $(median 2) µs | $(us_to_ns "$(median 2 1)") ns | $(median 4) µs ($(median 5) µs) | $(median 6 0 %d) ns |
| entry probe on the first instruction (before) | $(median 3) µs | $(us_to_ns "$(median 3 1)") ns | $(median 7) µs ($(median 8) µs) | $(median 9 0 %d) ns |

Bare uprobes (no BPF program, \`tools/uprobesite\`) at single sites of
functions that time themselves (gospin's main.spin20us, unprobed $g_none µs;
cspin's spin_20us, unprobed $c_none µs, whose spin_for is probed); medians of 3
runs of 2,000 calls:

| probe site | helper's p50 | added per call |
|---|---|---|
${site_rows%$'\n'}

Per call, as nettune calibrates at attach (an empty function of its own, the
same BPF programs): "subtracted" is the probes' time inside each measured
duration, "added" what a probed call costs the program in all.

| pair | entry site | subtracted (ns) | added per call (ns) | calibration took |
|---|---|---|---|---|
${cal_rows}

A function that takes ${tiny_own:-?} ns unprobed (gospin's main.tiny, 20,000 calls, its
own clock around each call): nettune reports p50 $tiny_got µs (raw: $tiny_raw µs).

Probes nested inside a measured call are not subtracted: WriteHeader's entry
probe fires inside ServeHTTP when the handler writes, and with the entry at
the first instruction its single-step (~9.5 µs) landed in ServeHTTP's time
(the last row of the first table); on the jbe it adds ~0.8 µs.
<!-- uprobe-bench:end -->
EOF
)
if [ "$WRITE_DOC" = 1 ]; then
	python3 "$ROOT/tools/bench/docsection.py" "$DOC" uprobe-bench "$section"
	echo "bench-uprobe: wrote its section of $DOC" >&2
else
	echo "$section"
fi
