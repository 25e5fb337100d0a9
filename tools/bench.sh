#!/usr/bin/env bash
# The overhead benchmark (`make bench`): what nettune costs the server it
# watches, side by side with no tracing and with a bpftrace script of the
# same probes (the anchor).
#
# Runs nginx (nginx-light: 2 workers, `return 200`, access log off, its own
# config, pid and log files in a temporary directory) on loopback inside a
# private network namespace, and drives it with wrk and loadgen from inside
# that namespace. Measures, in alternating runs: throughput and p99 under
# wrk keep-alive and Connection: close; with kernel.bpf_stats_enabled=1,
# each nettune BPF program's ns per run and the BPF ns per connection at
# three load levels; nettune's own CPU and peak RSS; startup to "attached"
# and to the first report; 1, 100, 10,000 listeners with a connection
# each; and what the hooks cost outside the programs (tools/hookcost's
# loops with no tracer, nettune's hooks with empty programs, and nettune).
# Writes its section of docs/benchmarks.md (between the nettune-overhead
# markers); other sections are left alone.
#
# The host is left as found: the only host setting touched is
# kernel.bpf_stats_enabled, restored on every exit path; everything started
# is stopped and the namespace deleted.
#
#   tools/bench.sh [--no-doc] [--phases LIST]
#   BENCH_QUICK=1 tools/bench.sh    a short smoke run; prints the section
#                                   instead of writing docs/benchmarks.md
#   NT_BUILD=dir                    binaries from dir (default build/)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${NT_BUILD:-$ROOT/build}" 2>/dev/null && pwd) ||
	{ echo "bench: ${NT_BUILD:-$ROOT/build} does not exist (make)" >&2; exit 1; }
QUICK=${BENCH_QUICK:-0}
DOC=$ROOT/docs/benchmarks.md
WRITE_DOC=1
[ "$QUICK" = 1 ] && WRITE_DOC=0
PHASES=startup,throughput,cost,listeners,hooks

usage() {
	# The comment block at the top of this file, whatever its length.
	awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
while [ $# -gt 0 ]; do
	case $1 in
	--no-doc) WRITE_DOC=0; shift ;;
	--phases) PHASES=${2:?}; WRITE_DOC=0; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (BPF, network namespace)" >&2; exit 1; }
for c in nginx wrk bpftrace bpftool python3 ip curl; do
	command -v "$c" >/dev/null || { echo "bench: $c is not installed (tools/install-deps.sh)" >&2; exit 1; }
done
for b in nettune hookcost; do
	[ -x "$BUILD/$b" ] || { echo "bench: $BUILD/$b is not built (make)" >&2; exit 1; }
done

NS=ntbench-ovh$$
PORT=8080
TMP=$(mktemp -d /tmp/nettune-bench.XXXXXX)
# Before the host's value is read: see lock.sh.
. "$ROOT/tools/bench/lock.sh"
STATS_SYSCTL=/proc/sys/kernel/bpf_stats_enabled
STATS_ORIG=$(cat "$STATS_SYSCTL")
NGINX_PID=
DRIVER_PID=
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$DRIVER_PID" ] && kill -TERM "$DRIVER_PID" 2>/dev/null && wait "$DRIVER_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	echo "$STATS_ORIG" >"$STATS_SYSCTL"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }

mkdir -p "$TMP/nginx"
sed -e "s|@DIR@|$TMP/nginx|g" -e "s|@PORT@|$PORT|g" "$ROOT/tools/bench/nginx.conf.in" \
	>"$TMP/nginx/nginx.conf"
# Not through nsx: a function run with & is a subshell, and $! must be
# nginx itself (ip netns exec execs it) for the CPU figures and the cleanup.
ip netns exec "$NS" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
NGINX_PID=$!
for _ in $(seq 100); do
	nsx curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	sleep 0.05
done
nsx curl -sf -o /dev/null "http://127.0.0.1:$PORT/" ||
	{ echo "bench: nginx did not start: $(cat "$TMP/nginx/error.log" 2>/dev/null)" >&2; exit 1; }

mkdir -p "$BUILD/bench"
RESULTS=$BUILD/bench/overhead.json
args=(--build "$BUILD" --port "$PORT" --nginx-pid "$NGINX_PID" --out "$RESULTS"
      --stats-orig "$STATS_ORIG" --phases "$PHASES")
[ "$QUICK" = 1 ] && args+=(--quick)
# In the background and waited for, so that a signal is handled at once.
ip netns exec "$NS" python3 "$ROOT/tools/bench/bench.py" "${args[@]}" &
DRIVER_PID=$!
wait "$DRIVER_PID"
DRIVER_PID=

SECTION=$BUILD/bench/overhead.md
python3 "$ROOT/tools/bench/report.py" "$RESULTS" >"$SECTION"
if [ "$WRITE_DOC" = 1 ]; then
	python3 "$ROOT/tools/bench/report.py" --update "$DOC" "$RESULTS"
	echo "bench: updated $DOC" >&2
else
	cat "$SECTION"
	echo "bench: section in $SECTION (docs/benchmarks.md not changed)" >&2
fi
