#!/usr/bin/env bash
# A/B cost of nettune builds on chosen families, alternating the builds
# (A B A B ...) under nginx + wrk Connection: close, with
# kernel.bpf_stats_enabled=1 (restored on every exit path). For comparing a
# change to a family's programs on a shared machine; `make bench` remains
# the reference.
#
#   tools/bench/ab.sh [--probes LIST] [--rounds N] [--seconds S] [--extra 'ARGS'] [--keepalive]
#                     NAME='PATH/TO/nettune [ARGS]' [NAME=... ...]
#   e.g. tools/bench/ab.sh --probes read old=/tmp/nettune-main new=build/nettune
#        tools/bench/ab.sh sks=build/nettune 'stamp=build/nettune --no-sk-storage' 
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "ab: needs root" >&2; exit 1; }
[ $# -gt 0 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
NS=ntbench-ab$$
PORT=8080
TMP=$(mktemp -d /tmp/nettune-ab.XXXXXX)
# Before the host's value is read: see lock.sh.
. "$HERE/lock.sh"
STATS=/proc/sys/kernel/bpf_stats_enabled
STATS_ORIG=$(cat "$STATS")
NGINX_PID=
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	echo "$STATS_ORIG" >"$STATS"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "$TMP/nginx"
sed -e "s|@DIR@|$TMP/nginx|g" -e "s|@PORT@|$PORT|g" "$HERE/nginx.conf.in" >"$TMP/nginx/nginx.conf"
ip netns exec "$NS" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
NGINX_PID=$!
for _ in $(seq 100); do
	ip netns exec "$NS" curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
	sleep 0.05
done
echo 1 >"$STATS"
ip netns exec "$NS" sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	exec env PYTHONPATH="$0" python3 "$0/ab.py" "$@"' "$HERE" --port "$PORT" --nginx-pid "$NGINX_PID" "$@"
