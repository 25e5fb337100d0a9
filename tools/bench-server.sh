#!/usr/bin/env bash
# Reference server vs nginx, side by side on this machine.
#
# Runs refserver and Debian's nginx (nginx-light: 2 workers, `return 200`,
# access log off, its own temporary config and pid file) on loopback inside a
# private network namespace, and drives each with wrk, keep-alive and
# Connection: close, in alternating rounds so that drifts of a shared machine
# hit both alike. Reports the median requests/s of each, their ratio, and the
# server CPU time per request (utime+stime of the server processes, from
# /proc), which is far less sensitive to noise from other processes than
# throughput. Then measures loadgen's own rate: connections/s it achieves,
# closed loop, against refserver.
#
# Writes (or replaces) the section "Reference server vs nginx" of
# docs/benchmarks.md. Nothing outside the namespace is touched.
#
#   tools/bench-server.sh [--rounds N] [--duration SEC] [--no-doc]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${NT_BUILD:-$ROOT/build}
ROUNDS=5
DURATION=4
CONNS=100
WRITE_DOC=1
DOC=$ROOT/docs/benchmarks.md

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--duration) DURATION=${2:?}; shift 2 ;;
	--no-doc) WRITE_DOC=0; shift ;;
	-h|--help) usage 0 ;;
	*) echo "bench-server: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "bench-server: --rounds: '$ROUNDS' is not 1..99" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]?$ ]] || { echo "bench-server: --duration: '$DURATION' is not 1..99" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || { echo "bench-server: needs root (network namespace)" >&2; exit 1; }
. "$ROOT/tools/bench/lock.sh"
for c in nginx wrk jq ip awk; do
	command -v "$c" >/dev/null || { echo "bench-server: $c is not installed (tools/install-deps.sh)" >&2; exit 1; }
done
for b in refserver loadgen; do
	[ -x "$BUILD/$b" ] || { echo "bench-server: $BUILD/$b is not built (make)" >&2; exit 1; }
done

NS=ntbench$$
TMP=$(mktemp -d /tmp/nettune-bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }

NGINX_PORT=8081
REF_PORT=8082
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
daemon off;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / { return 200; }
	}
}
EOF
# Started with ip netns exec itself (not a shell function) so that $! is the
# server's own pid: ip execs the command.
ip netns exec "$NS" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" &
PIDS+=($!)
# Same work as nginx's `return 200`: an empty body, two workers, one shared
# listener (nginx's default, no reuseport).
ip netns exec "$NS" "$BUILD/refserver" --port $REF_PORT --workers 2 --body-size 0 >/dev/null \
	2>"$TMP/refserver.err" &
REF_PID=$!
PIDS+=("$REF_PID")

wait_port() {
	for _ in $(seq 100); do
		nsx ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	echo "bench-server: nothing listens on port $1" >&2
	exit 1
}
wait_port $NGINX_PORT
wait_port $REF_PORT
NGINX_PIDS=$(pgrep -f "nginx: worker process" -P "$(cat "$TMP/nginx/nginx.pid")" | tr '\n' ' ')
[ -n "$NGINX_PIDS" ] || { echo "bench-server: nginx workers not found" >&2; exit 1; }

# CPU ticks (utime + stime) of the given processes with all their threads.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo $t
}

# run SERVER SHAPE: one wrk run; prints "req/s cpu_us_per_req".
run() {
	local port pids hdr=() out rps c0 c1 errs
	case $1 in
	nginx) port=$NGINX_PORT; pids=$NGINX_PIDS ;;
	refserver) port=$REF_PORT; pids=$REF_PID ;;
	esac
	[ "$2" = close ] && hdr=(-H 'Connection: close')
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $pids)
	out=$(nsx wrk -t2 -c$CONNS -d"${DURATION}s" "${hdr[@]}" "http://127.0.0.1:$port/")
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $pids)
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
	[ -z "$errs" ] || echo "bench-server: $1 $2: $errs" >&2
	awk -v r="$rps" -v a="$c0" -v b="$c1" -v d="$DURATION" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f %.1f\n", r, (b - a) / hz * 1e6 / (r * d) }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-server: $ROUNDS rounds of ${DURATION}s per server and load shape, wrk -t2 -c$CONNS" >&2
for s in nginx refserver; do	# warm-up, not recorded
	nsx wrk -t2 -c$CONNS -d1s "http://127.0.0.1:$([ $s = nginx ] && echo $NGINX_PORT || echo $REF_PORT)/" >/dev/null
done
for r in $(seq "$ROUNDS"); do
	for shape in keepalive close; do
		# Alternate who goes first, so neither always follows the other.
		if [ $((r % 2)) -eq 1 ]; then order="nginx refserver"; else order="refserver nginx"; fi
		for s in $order; do
			read -r rps cpu <<<"$(run "$s" "$shape")"
			echo "$rps" >>"$TMP/$s.$shape.rps"
			echo "$cpu" >>"$TMP/$s.$shape.cpu"
			printf '  round %d  %-10s %-9s %8s req/s  %6s us CPU/req\n' "$r" "$s" "$shape" \
				"$rps" "$cpu" >&2
		done
		# Paired within the round: drift between rounds cancels out.
		paste "$TMP/refserver.$shape.rps" "$TMP/nginx.$shape.rps" | tail -n 1 |
			awk '{ printf "%.4f\n", $1 / $2 }' >>"$TMP/ratio.$shape.rps"
		paste "$TMP/refserver.$shape.cpu" "$TMP/nginx.$shape.cpu" | tail -n 1 |
			awk '{ printf "%.4f\n", $1 / $2 }' >>"$TMP/ratio.$shape.cpu"
	done
done

# loadgen's own speed: connect+close as fast as it goes (closed loop, two
# threads), with --rst so that TIME_WAIT does not exhaust ephemeral ports,
# and without for comparison; then open loop at 20,000/s, where it must keep
# the rate (or say it could not).
# Its own refserver, tuned so that accepting does not limit the rate: one
# SO_REUSEPORT listener per worker with the namespace's largest queue.
LG_PORT=8083
ip netns exec "$NS" "$BUILD/refserver" --port $LG_PORT --workers 2 --reuseport --backlog 4096 \
	>/dev/null 2>>"$TMP/refserver.err" &
PIDS+=("$!")
wait_port $LG_PORT
lg() { nsx "$BUILD/loadgen" --port $LG_PORT -m connect -t 2 -d "$DURATION" --json "$@" 2>/dev/null; }
LG_RST=$(lg -c 200 --rst | jq '.operations.completed / .duration_s | floor')
LG_FIN=$(lg -c 200 | jq '.operations.completed / .duration_s | floor')
LG_OPEN=$(lg -c 1000 -r 20000 --rst |
	jq -r '"started \(.rate.started_per_s | floor)/s, completed \(.rate.completed_per_s | floor)/s, rate kept: \(.rate.kept), connect p50 \(.latency.connect.p50_us | floor) µs, p99 \(.latency.connect.p99_us | floor) µs"')

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A M
for s in nginx refserver; do
	for shape in keepalive close; do
		M[$s.$shape.rps]=$(median <"$TMP/$s.$shape.rps")
		M[$s.$shape.cpu]=$(median <"$TMP/$s.$shape.cpu")
	done
done
ratio() { median <"$TMP/ratio.$1" | awk '{ printf "%.2f", $1 }'; }
RK=$(ratio keepalive.rps)
RC=$(ratio close.rps)
CK=$(ratio keepalive.cpu)
CC=$(ratio close.cpu)

NGINX_VER=$(nginx -v 2>&1 | sed 's/.*nginx\///')
WRK_VER=$(wrk --version 2>&1 | awk 'NR == 1 { print $2 }' || true)	# wrk --version exits 1
MACHINE="$(nproc) cores, Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
table() {
	cat <<EOF
| load (wrk -t2 -c$CONNS) | nginx req/s | refserver req/s | refserver/nginx | nginx µs CPU/req | refserver µs CPU/req | CPU ratio |
|---|---:|---:|---:|---:|---:|---:|
| keep-alive | ${M[nginx.keepalive.rps]} | ${M[refserver.keepalive.rps]} | **$RK** | ${M[nginx.keepalive.cpu]} | ${M[refserver.keepalive.cpu]} | $CK |
| Connection: close | ${M[nginx.close.rps]} | ${M[refserver.close.rps]} | **$RC** | ${M[nginx.close.cpu]} | ${M[refserver.close.cpu]} | $CC |
EOF
}

echo
echo "Reference server vs nginx ($MACHINE)"
table
echo
echo "loadgen connect+close, closed loop, -t 2 -c 200: $LG_RST conn/s with --rst, $LG_FIN conn/s with FIN close"
echo "loadgen connect, open loop -r 20000 -t 2 -c 1000 --rst: $LG_OPEN"

[ "$WRITE_DOC" = 1 ] || exit 0
BEGIN_MARK='<!-- BEGIN refserver-vs-nginx: generated by tools/bench-server.sh (make bench-server); edits here are lost -->'
END_MARK='<!-- END refserver-vs-nginx -->'
section=$(cat <<EOF
$BEGIN_MARK
## Reference server vs nginx

Measured by \`tools/bench-server.sh\` (\`make bench-server\`) on $(date -u +%F): $MACHINE;
nginx $NGINX_VER (nginx-light), wrk $WRK_VER. Both servers run on loopback in a private
network namespace with 2 workers and an empty 200 response (nginx: \`return 200\`,
\`access_log off\`; refserver: \`--workers 2 --body-size 0\`, one shared listener). Each cell
is the median of $ROUNDS runs of ${DURATION} s, the two servers alternating; each ratio is the
median of the $ROUNDS per-round ratios, so drift between rounds cancels out. wrk, the server
and anything else running share the same 2 cores, so absolute numbers are noisy; the CPU
columns (server utime+stime per request, from /proc) are the steadier comparison. Load
average before and after the run: $LOAD_BEFORE; $LOAD_AFTER.

$(table)

Ratios above 1 (req/s) and below 1 (CPU) favour refserver. Per connection-per-request
exchange refserver makes 4 system calls (accept4, read, write, close: it serves a new
connection before it enters epoll) where nginx makes about 6, and it sends its response
with MSG_MORE so the FIN rides in the same segment (8 TCP segments per exchange against
nginx's 10, counted with \`nstat TcpOutSegs\`).

loadgen's own speed, in the same namespace (connect mode, 2 threads), against a refserver
that accepts as fast as it can (\`--workers 2 --reuseport --backlog 4096\`):

- closed loop, \`-c 200 --rst\`: **$LG_RST connections/s**; $LG_FIN connections/s when it closes
  with FIN instead, because every connection then leaves a TIME_WAIT socket on the client and
  connect() has to search the ephemeral port range for one it may reuse;
- open loop at 20,000 connections/s (\`-r 20000 -c 1000 --rst\`): $LG_OPEN.

$END_MARK
EOF
)
mkdir -p "$(dirname "$DOC")"
# shellcheck disable=SC2016	# backquotes are Markdown
[ -f "$DOC" ] || printf '# Benchmarks\n\nResults of `make bench` and its parts, with the machine they ran on.\n' >"$DOC"
# Replace what lies between the markers, or append: other sections (tools/bench.sh
# keeps its own between its own markers) are left alone.
NEW=$section B=$BEGIN_MARK E=$END_MARK awk '
	BEGIN { new = ENVIRON["NEW"]; b = ENVIRON["B"]; e = ENVIRON["E"] }
	$0 == b { print new; skip = 1; done = 1; next }
	skip { if ($0 == e) skip = 0; next }
	{ print }
	END { if (!done) print "\n" new }' "$DOC" >"$TMP/doc" && cat "$TMP/doc" >"$DOC"
echo "bench-server: updated $DOC" >&2
