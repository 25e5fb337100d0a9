#!/usr/bin/env bash
# Go net/http handler latency (the http family) against what the client and
# the server saw, on servers started before nettune:
#   Handler latency: 2,000 requests to a handler that sleeps 5 ms, for the
#     default, stripped and PIE builds: http count = 2,000 = the server's
#     own count; p50 within 5% + one bucket of the client's own p50 and not
#     below the 5 ms sleep; Go version and module as `go version -m` says.
#   Stack growth: every request recurses deep enough on a new goroutine to
#     make the runtime copy its stack several times, with main.recurse
#     probed too (its prologue re-runs after each copy): the server exits
#     normally, the client sees no error, and all counts match.
#   Attach under load: 5 attach/detach cycles during a wrk run: no non-2xx
#     response and no socket error at wrk, and the server exits normally.
#   Bad input: --probes http on a process that is not Go: exit 2, one line.
# Nothing of nettune's may stay attached afterwards.
source "$(dirname "$0")/lib.sh"
nt_setup http

F=${NT_FIXTURES:-}
if [ -z "$F" ] || [ ! -r "$F/truth.txt" ]; then
	nt_skip "NT_FIXTURES is unset or not built (tests/fixtures/build.sh)"
fi
HTTPGET=$NT_BUILD/tests/helpers/httpget
[ -x "$HTTPGET" ] || nt_fail "$HTTPGET is not built"
nt_netns srv
GOVERSION=$(awk '$1 == "goversion" { print $2 }' "$F/truth.txt")
GOMODULE=$(awk '$1 == "mod" { print $2 }' "$F/truth.txt")

# start_server BIN PORT ARGS...: a fixture server in the namespace; $gs.
start_server() {
	local bin=$1 port=$2; shift 2
	nt_bg srv "$F/$bin" -addr "127.0.0.1:$port" "$@" >"$NT_TMP/$bin.$port.out"
	gs=$NT_LAST_PID
	nt_wait_port srv "$port"
}

# stop_server BIN PORT: SIGTERM; it must exit 0. Sets $served.
stop_server() {
	kill -TERM "$gs"
	wait "$gs" || nt_fail "$1 exited with $? (it must shut down cleanly)"
	served=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' "$NT_TMP/$1.$2.out")
	# the handler's own median, measured inside the server (ms)
	server_p50=$(sed -n 's/.*handler_p50_us=\([0-9.]*\).*/\1/p' "$NT_TMP/$1.$2.out" |
		awk '{ print $1 / 1000 }')
}

start_tracer() {
	local name=$1; shift
	"$NETTUNE" trace --json "$@" >"$NT_TMP/$name.json" 2>"$NT_TMP/$name.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	nt_wait_attached "$NT_TMP/$name.err"
}

stop_tracer() {
	kill -INT "$tracer"
	wait "$tracer" || nt_fail "nettune exited with $?: $(cat "$NT_TMP/$1.err")"
	out=$(tail -n 1 "$NT_TMP/$1.json")
	nt_assert_eq "$1: lost events" "$(jq .lost_events <<<"$out")" 0
}

# --- Handler latency: default, stripped, PIE --------------------------------
N=2000 SLEEP=5 port=8090
for bin in goserver goserver-stripped goserver-pie; do
	port=$((port + 1))
	start_server $bin $port -handler-sleep-ms $SLEEP
	start_tracer $bin -p "$gs" --probes http
	nt_exec srv "$HTTPGET" --port $port --requests $N --conns 4 >"$NT_TMP/$bin.client" ||
		nt_fail "$bin: client: $(cat "$NT_TMP/$bin.client")"
	stop_tracer $bin
	stop_server $bin $port
	nt_assert_eq "$bin: the server's own request count" "$served" $N
	nt_assert_eq "$bin: http count" "$(jq .http.count <<<"$out")" $N
	nt_assert_eq "$bin: GET count" \
		"$(jq '[.http.by_method[] | select(.method == "GET") | .latency.count][0]' <<<"$out")" $N
	row=$(jq -c ".http.by_pid[] | select(.pid == $gs)" <<<"$out")
	nt_assert_eq "$bin: pid's count" "$(jq .latency.count <<<"$row")" $N
	nt_assert_eq "$bin: Go version" "$(jq -r .go_version <<<"$row")" "$GOVERSION"
	nt_assert_eq "$bin: main module" "$(jq -r .module <<<"$row")" "$GOMODULE"
	p50=$(jq '.http.p50_us / 1000' <<<"$out")
	client_p50=$(jq '.p50_us / 1000' "$NT_TMP/$bin.client")
	# The handler sleeps 5 ms, and Go's timers round that up by up to a
	# millisecond (whole-ms epoll waits), so the truths are the handler's
	# own median, measured inside the server, and the client's median,
	# which adds only loopback and parsing to the handler.
	nt_assert_near "$bin: http p50 (ms) vs the server's own handler p50" "$p50" "$server_p50" 5 \
		"$(nt_bucket_width_ms "$server_p50")"
	nt_assert_near "$bin: http p50 (ms) vs the client's p50" "$p50" "$client_p50" 5 \
		"$(nt_bucket_width_ms "$client_p50")"
	nt_assert_ge "$bin: http p50 (ms) >= the sleep - one bucket" "$p50" \
		"$(awk -v s=$SLEEP -v w="$(nt_bucket_width_ms $SLEEP)" 'BEGIN { print s - w }')"
done

# --- Stack growth on every request -------------------------------------------
# 256 frames of > 512 bytes outgrow the 8 KiB starting stack 5 times; with
# --close each request runs on a new goroutine, whose stack starts small.
N=200 port=8095
start_server goserver $port -handler-sleep-ms 1 -recurse-depth 256
start_tracer grow -p "$gs" --probes http,uprobe --uprobe "$F/goserver:main.recurse"
nt_exec srv "$HTTPGET" --port $port --requests $N --conns 2 --close >"$NT_TMP/grow.client" ||
	nt_fail "stack growth: client: $(cat "$NT_TMP/grow.client")"
stop_tracer grow
stop_server goserver $port
nt_assert_eq "stack growth: client errors" "$(jq '.errors + .non2xx' "$NT_TMP/grow.client")" 0
nt_assert_eq "stack growth: server's own count" "$served" $N
nt_assert_eq "stack growth: http count" "$(jq .http.count <<<"$out")" $N
# Only the innermost call of a recursion is timed (the outer ones find
# their goroutine's entry taken): one per request, entries re-run or not.
nt_assert_eq "stack growth: main.recurse count" "$(jq '.uprobes[0].count' <<<"$out")" $N

# --- Attach and detach under load ----------------------------------------------
if command -v wrk >/dev/null; then
	port=8096
	start_server goserver $port -handler-sleep-ms 1
	nt_exec srv wrk -t 2 -c 16 -d 14s "http://127.0.0.1:$port/" >"$NT_TMP/wrk.out" 2>&1 &
	wrk=$!
	NT_PIDS+=("$wrk")
	sleep 1
	for i in 1 2 3 4 5; do
		"$NETTUNE" trace --json -p "$gs" --probes http -d 1 >"$NT_TMP/load$i.json" \
			2>"$NT_TMP/load$i.err" || nt_fail "cycle $i: nettune: $(cat "$NT_TMP/load$i.err")"
		nt_assert_ge "cycle $i: requests seen" "$(tail -n 1 "$NT_TMP/load$i.json" | jq .http.count)" 1
		sleep 0.5
	done
	wait "$wrk" || nt_fail "wrk failed: $(cat "$NT_TMP/wrk.out")"
	nt_log "wrk: $(grep -E 'requests in|Non-2xx|Socket errors' "$NT_TMP/wrk.out" | tr -s ' ' | tr '\n' ';')"
	grep -q 'requests in' "$NT_TMP/wrk.out" || nt_fail "no wrk summary: $(cat "$NT_TMP/wrk.out")"
	nt_assert_eq "wrk: non-2xx responses" "$(grep -c 'Non-2xx' "$NT_TMP/wrk.out")" 0
	nt_assert_eq "wrk: socket errors" "$(grep -c 'Socket errors' "$NT_TMP/wrk.out")" 0
	stop_server goserver $port
	nt_log "server served $served requests and exited 0"
else
	nt_log "wrk is not installed: attach-under-load part not run"
fi

# --- Bad input: not a Go program -------------------------------------------------
nt_bg srv sleep 60
"$NETTUNE" trace -p "$NT_LAST_PID" --probes http -d 1 >"$NT_TMP/nogo.out" 2>"$NT_TMP/nogo.err"
rc=$?
nt_assert_eq "not Go: exit code" "$rc" 2
nt_assert_eq "not Go: lines on stderr" "$(wc -l <"$NT_TMP/nogo.err")" 1
grep -q "pid $NT_LAST_PID (.*): not a Go program" "$NT_TMP/nogo.err" ||
	nt_fail "not Go: message: $(cat "$NT_TMP/nogo.err")"
nt_log "ok: $(cat "$NT_TMP/nogo.err")"

# other tracers' programs (other tests on this machine) do not count
nt_assert_eq "nettune uprobe programs left loaded" \
	"$(nt_named_progs_left '^uprobe_(go|c)_(entry|ret|status)$')" 0
nt_pass
