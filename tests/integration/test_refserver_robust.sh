#!/usr/bin/env bash
# refserver survives what production servers meet: 1,000 idle connections
# and a slowloris client while normal requests keep being served (checked by
# loadgen: no errors, bounded latency), idle and slow clients timed out when
# their time comes, and descriptor exhaustion (EMFILE) survived without
# spinning (checked by the CPU time the server burns meanwhile).

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nt_setup refserver_robust
for c in python3 jq; do
	command -v "$c" >/dev/null || nt_skip "$c is not installed"
done
[ -x "$NT_BUILD/loadgen" ] || nt_fail "$NT_BUILD/loadgen is not built"
RAW="$NT_ROOT/tests/integration/helpers/httpraw.py"
PORT=8080
IDLE_TIMEOUT=6
HEADER_TIMEOUT=2
nt_netns s

# --- 1. 1,000 idle connections + slowloris + real load -------------------------
nt_bg s "$NT_BUILD/refserver" --port $PORT --workers 2 --idle-timeout $IDLE_TIMEOUT \
	--header-timeout $HEADER_TIMEOUT --json >"$NT_TMP/stats.json" 2>"$NT_TMP/server.err"
SERVER=$NT_LAST_PID
nt_wait_port s $PORT
# The idle holder waits past the idle timeout to see the server close them all.
nt_exec s python3 "$RAW" idle 127.0.0.1 $PORT 1000 $((IDLE_TIMEOUT + 3)) >"$NT_TMP/idle.out" &
IDLE=$!
sleep 1
nt_exec s python3 "$RAW" slowloris 127.0.0.1 $PORT 0.3 $((HEADER_TIMEOUT + 4)) >"$NT_TMP/slow.out" &
SLOW=$!
nt_exec s "$NT_BUILD/loadgen" --port $PORT -m http-keepalive -r 2000 -c 20 -d 3 --json \
	>"$NT_TMP/ka.json" || nt_fail "loadgen http-keepalive failed"
nt_exec s "$NT_BUILD/loadgen" --port $PORT -m http-close -r 500 -c 20 -d 1 --json \
	>"$NT_TMP/close.json" || nt_fail "loadgen http-close failed"
wait $SLOW
wait $IDLE
read -r opened idle_closed idle_last <"$NT_TMP/idle.out"
nt_assert_eq "idle connections opened" "$opened" 1000
for f in ka close; do
	j=$NT_TMP/$f.json
	nt_assert_eq "$f: requests answered 2xx" "$(jq '.http_status."2xx"' "$j")" \
		"$(jq '.operations.started' "$j")"
	nt_assert_ge "$f: requests sent" "$(jq '.operations.started' "$j")" 450
	nt_assert_eq "$f: errors of any kind" \
		"$(jq '[.errors.refused, .errors.reset, .errors.timeout, .errors.other] | add' "$j")" 0
	# Beside 1,000 idle sockets and a slow client, service stays interactive
	# (a generous bound: this is a shared 2-core machine).
	p99=$(jq '.latency.response.p99_us / 1e3' "$j")
	awk -v v="$p99" 'BEGIN { exit !(v < 100) }' || nt_fail "$f: response p99 $p99 ms >= 100 ms"
	nt_log "ok: $f: response p99 = $p99 ms (< 100)"
done
slow=$(cat "$NT_TMP/slow.out")
[ "$slow" != open ] || nt_fail "the slowloris client was never cut off"
nt_assert_near "slowloris cut off after the header timeout (s)" "$slow" $HEADER_TIMEOUT 0 0.6
nt_assert_eq "idle connections closed by the server" "$idle_closed" 1000
nt_assert_near "last idle connection closed at the idle timeout (s)" "$idle_last" \
	$IDLE_TIMEOUT 0 1.2
kill -TERM "$SERVER"
wait "$SERVER"
nt_assert_eq "refserver exit status after SIGTERM" "$?" 0
nt_assert_eq "header timeouts counted" "$(jq '.total.header_timeouts' "$NT_TMP/stats.json")" 1
nt_assert_eq "idle timeouts counted" "$(jq '.total.idle_timeouts' "$NT_TMP/stats.json")" 1000
nt_assert_ge "connections open at once (sum over workers)" \
	"$(jq '.total.open_max' "$NT_TMP/stats.json")" 1001

# --- 2. EMFILE: out of descriptors, the server pauses accept instead of spinning -
FDS=64
nt_bg s bash -c "ulimit -n $FDS && exec '$NT_BUILD/refserver' --port $((PORT + 1)) --json" \
	>"$NT_TMP/emfile.json" 2>"$NT_TMP/emfile.err"
SERVER=$NT_LAST_PID
nt_wait_port s $((PORT + 1))
# 200 connections: the server can hold ~60, the rest wait in its accept queue.
nt_exec s python3 "$RAW" idle 127.0.0.1 $((PORT + 1)) 200 4 >"$NT_TMP/hold.out" &
HOLD=$!
sleep 1.5
cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }	# utime + stime, ticks
c0=$(cpu)
sleep 2
c1=$(cpu)
ticks=$(getconf CLK_TCK)
busy=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" 'BEGIN { printf "%.2f", (b - a) / t }')
awk -v b="$busy" 'BEGIN { exit !(b < 0.2) }' || nt_fail "refserver burnt $busy s of CPU in 2 s at EMFILE"
nt_log "ok: CPU used in 2 s while out of descriptors = $busy s (< 0.2)"
wait $HOLD
# Descriptors are back: the server serves again.
nt_exec s "$NT_BUILD/loadgen" --port $((PORT + 1)) -m http-close -n 100 -c 10 -d 5 --json \
	>"$NT_TMP/after.json" || nt_fail "loadgen failed after EMFILE"
nt_assert_eq "requests answered after EMFILE" "$(jq '.http_status."2xx"' "$NT_TMP/after.json")" 100
grep -q 'EMFILE\|Too many open files' "$NT_TMP/emfile.err" ||
	nt_fail "refserver did not warn about descriptor exhaustion: $(cat "$NT_TMP/emfile.err")"
kill -TERM "$SERVER"
wait "$SERVER"
nt_assert_ge "accept pauses for descriptor exhaustion" \
	"$(jq '.total.fd_exhaustion' "$NT_TMP/emfile.json")" 1
nt_pass
