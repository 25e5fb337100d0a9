#!/usr/bin/env bash
# The serve benchmark (`make bench`): what a Prometheus scrape of nettune
# serve costs with 10,000 listeners, and serve's memory through an
# hour-equivalent of listener churn.
#
# A private network namespace holds 10,000 listeners (tools/bench/churn.py),
# each of which has accepted a connection, so each is a row with an
# accept-wait histogram. nettune serve watches that namespace with every
# family. Measured:
#  - scrape: 20 GETs of /metrics, one after the other: latency (curl's
#    time_total: median and max), serve's CPU per scrape (utime + stime from
#    /proc/PID/stat over the 20), and the exposition's size; with the
#    default bound (1,000 listeners, the rest folded into "other") and with
#    --max-series 20000 (every listener its own series);
#  - churn: 240 scrapes (an hour at a 15 s scrape interval), 500 listeners
#    replaced by new ones (new addresses: new label sets) before each;
#    serve's RSS (VmRSS) after 0, 60, 120, 180 and 240 of them, and its peak.
# Writes its section of docs/benchmarks.md (between the serve-bench markers).
#   tools/bench-serve.sh [--no-doc]     BENCH_QUICK=1: 2,000 listeners, 24 rounds
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${NT_BUILD:-$ROOT/build}" && pwd)
DOC=$ROOT/docs/benchmarks.md
WRITE_DOC=1
[ "${1:-}" = --no-doc ] && WRITE_DOC=0
N=10000 ROUNDS=240 CHURN=500
if [ "${BENCH_QUICK:-0}" = 1 ]; then N=2000 ROUNDS=24 CHURN=100 WRITE_DOC=0; fi
[ "$(id -u)" -eq 0 ] || { echo "bench-serve: needs root" >&2; exit 1; }
. "$ROOT/tools/bench/lock.sh"
for c in curl python3 ip; do
	command -v $c >/dev/null || { echo "bench-serve: $c is not installed" >&2; exit 1; }
done

NS=ntbench-serve$$ SERVE= OUT=$(mktemp -d)
cleanup() {
	[ -n "$SERVE" ] && kill -TERM "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
	[ -n "${CHURN_PID:-}" ] && kill "$CHURN_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
coproc CH { ip netns exec "$NS" python3 "$ROOT/tools/bench/churn.py" "$N"; }
CHURN_PID=$CH_PID
read -r ready _ <&"${CH[0]}"
[ "$ready" = ready ] || { echo "bench-serve: churn.py failed" >&2; exit 1; }
PORT=$(( 20000 + RANDOM % 20000 ))

start_serve() { # ARGS...
	"$BUILD/nettune" serve --netns "/run/netns/$NS" --listen "127.0.0.1:$PORT" "$@" \
		>/dev/null 2>"$OUT/serve.err" &
	SERVE=$!
	for _ in $(seq 300); do
		if grep -q attached "$OUT/serve.err"; then
			echo touch >&"${CH[1]}"	# every listener accepts once, traced
			read -r _ _ <&"${CH[0]}"
			return
		fi
		sleep 0.1
	done
	cat "$OUT/serve.err" >&2; exit 1
}
stop_serve() { kill -TERM "$SERVE"; wait "$SERVE" || true; SERVE=; }
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVE/stat"; }
scrape() { curl -sf -o "$OUT/m.txt" -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics"; }

measure() { # LABEL: 20 scrapes after a first one
	local t0 t1 hz
	scrape >/dev/null
	hz=$(getconf CLK_TCK)
	t0=$(ticks)
	for _ in $(seq 20); do scrape; done >"$OUT/lat"
	t1=$(ticks)
	sort -n "$OUT/lat" | awk -v label="$1" -v cpu=$(( t1 - t0 )) -v hz="$hz" \
		-v bytes="$(wc -c <"$OUT/m.txt")" -v lines="$(wc -l <"$OUT/m.txt")" \
		-v series="$(grep -c '^nettune_accept_wait_seconds_count' "$OUT/m.txt")" \
		-v rows="$(grep -c '^nettune_listener_backlog_limit' "$OUT/m.txt")" '
		{ v[NR] = $1 } END {
		printf "| %s | %d | %d | %.0f ms | %.0f ms | %.0f ms | %.1f MB (%d lines) |\n", label, rows, series,
			v[int((NR + 1) / 2)] * 1000, v[NR] * 1000, cpu / hz / 20 * 1000, bytes / 1e6, lines }'
}

rss() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/$SERVE/status"; }
hwm() { awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' "/proc/$SERVE/status"; }

echo "bench-serve: $N listeners; scrapes with the default bound" >&2
start_serve
scrape_default=$(measure "default (--max-series 1000)")
stop_serve
echo "bench-serve: scrapes with every listener its own series" >&2
start_serve --max-series 20000
scrape_all=$(measure "--max-series 20000")

echo "bench-serve: churn, $ROUNDS rounds of $CHURN new listeners" >&2
churn_rows="| 0 | $(rss) MB |"$'\n'
for r in $(seq "$ROUNDS"); do
	echo "churn $CHURN" >&"${CH[1]}"
	read -r _ _ <&"${CH[0]}"
	scrape >/dev/null
	if [ $(( r % (ROUNDS / 4) )) -eq 0 ]; then
		churn_rows+="| $r | $(rss) MB |"$'\n'
	fi
done
peak=$(hwm)
lost=$(awk '/^nettune_lost_events_total/ { s += $2 } END { print s + 0 }' "$OUT/m.txt")
folded=$(awk '/^nettune_folded_series_total/ { s += $2 } END { print s + 0 }' "$OUT/m.txt")
stop_serve

section=$(cat <<EOF
<!-- serve-bench:begin (written by tools/bench-serve.sh) -->
## nettune serve: scrape cost and memory (\`make bench\`)

Measured on $(nproc) CPUs, kernel $(uname -r), $(date -u +%F). $N listeners in a
private namespace, each having accepted a connection (so each has a row and
an accept-wait histogram); serve with every family, watching that namespace.
A scrape is 20 GETs of /metrics in a row after a first one; CPU is serve's
utime + stime over the 20, per scrape. "listener series" counts
nettune_listener_backlog_limit series, "accept-wait histograms" the
listeners with an nettune_accept_wait_seconds series (both include the one
"other" series past the bound); the accept family's BPF map holds a bounded
number of rows, and the accepts it has no row for are counted as lost
events (nettune_lost_events_total{family="accept",cause="keys_full"}).

| bound | listener series | accept-wait histograms | scrape p50 | scrape max | CPU per scrape | exposition |
|---|---|---|---|---|---|---|
$scrape_default
$scrape_all

Churn: $ROUNDS scrapes (an hour at a 15 s interval) with --max-series 20000,
$CHURN listeners replaced by new ones (new addresses and ports, so new label
sets) before each. serve's RSS after N scrapes:

| scrapes | RSS |
|---|---|
${churn_rows%$'\n'}

Peak RSS (VmHWM) $peak MB. Lost events at the end: $lost (events the BPF
maps had no row for: closed listeners' rows stay, as totals since start
must); series folded: $folded. The tuner's rules ran every 15 s of wall time, not once per
simulated interval.
<!-- serve-bench:end -->
EOF
)
if [ "$WRITE_DOC" = 1 ]; then
	python3 "$ROOT/tools/bench/docsection.py" "$DOC" serve-bench "$section"
	echo "bench-serve: wrote its section of $DOC" >&2
else
	echo "$section"
fi
