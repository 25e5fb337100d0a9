#!/usr/bin/env bash
# loadgen measures the truth: across a link delayed 10 ms each way its connect
# p50 is ping's RTT (within 5%), and its keep-alive response p50 one RTT; it
# names errors by kind (refused, timeout, reset, each provoked on purpose);
# it does not hide a server stall (no coordinated omission); it says when it
# could not keep the asked rate; bad usage exits 2.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nt_setup loadgen
command -v jq >/dev/null || nt_skip "jq is not installed"
[ -x "$NT_BUILD/refserver" ] || nt_fail "$NT_BUILD/refserver is not built"
LG=$NT_BUILD/loadgen
ms() { jq ".latency.$2.$3 / 1e3" "$1"; }

# --- 1. truth across a delayed link -------------------------------------------------
DELAY=10
nt_netns c
nt_netns s
nt_delayed_link c 10.79.0.1/24 s 10.79.0.2/24 $DELAY
nt_bg s "$NT_BUILD/refserver" --addr 10.79.0.2 --port 8080 >/dev/null 2>&1
nt_wait_port s 8080
# The first ping also resolves ARP, which would add one round trip.
nt_exec c ping -q -n -c 2 -i 0.2 -W 2 10.79.0.2 >/dev/null || nt_fail "no ping across the link"
rtt=$(nt_ping_rtt c 10.79.0.2 10)
nt_log "ping RTT: $rtt ms"
nt_exec c "$LG" --addr 10.79.0.2 --port 8080 -m connect -r 50 -c 20 -d 2 --json \
	>"$NT_TMP/connect.json" || nt_fail "loadgen connect failed"
nt_assert_eq "connects completed" "$(jq '.operations.completed' "$NT_TMP/connect.json")" 100
nt_assert_near "loadgen connect p50 vs ping RTT (ms)" "$(ms "$NT_TMP/connect.json" connect p50_us)" \
	"$rtt" 5 0
nt_exec c "$LG" --addr 10.79.0.2 --port 8080 -m http-keepalive -r 50 -c 4 -d 2 --json \
	>"$NT_TMP/ka.json" || nt_fail "loadgen http-keepalive failed"
nt_assert_eq "keep-alive requests answered 2xx" "$(jq '.http_status."2xx"' "$NT_TMP/ka.json")" 100
nt_assert_near "keep-alive response p50 vs one RTT (ms)" "$(ms "$NT_TMP/ka.json" response p50_us)" \
	"$rtt" 5 0
nt_exec c "$LG" --addr 10.79.0.2 --port 8080 -m http-close -r 50 -c 20 -d 2 --json \
	>"$NT_TMP/close.json" || nt_fail "loadgen http-close failed"
nt_assert_near "http-close response p50 vs two RTTs (ms)" \
	"$(ms "$NT_TMP/close.json" response p50_us)" "$(awk -v r="$rtt" 'BEGIN { print 2 * r }')" 5 0

# --- 2. errors by kind --------------------------------------------------------------
nt_netns e
nt_exec e "$LG" --port 9 -m connect -r 200 -c 10 -d 0.5 --json >"$NT_TMP/refused.json" 2>/dev/null ||
	nt_fail "loadgen failed against a closed port"
nt_assert_eq "refused: connects to a closed port" "$(jq '.errors.refused' "$NT_TMP/refused.json")" 100
if command -v nft >/dev/null && nt_exec e nft add table inet nt 2>/dev/null; then
	nt_exec e nft add chain inet nt in '{ type filter hook input priority 0; }'
	nt_exec e nft add rule inet nt in tcp dport 9 drop
	nt_exec e "$LG" --port 9 -m connect -r 100 -c 10 -d 0.2 --timeout 0.3 --json \
		>"$NT_TMP/timeout.json" 2>/dev/null || nt_fail "loadgen failed against a black hole"
	nt_assert_eq "timeout: connects into a black hole" "$(jq '.errors.timeout' "$NT_TMP/timeout.json")" 20
	# Reset after the handshake: the request (the first segment with data)
	# is answered with RST.
	nt_bg e "$NT_BUILD/refserver" --port 8080 >/dev/null 2>&1
	nt_wait_port e 8080
	nt_exec e nft add rule inet nt in tcp dport 8080 'tcp flags & psh == psh' reject with tcp reset
	nt_exec e "$LG" --port 8080 -m http-close -r 100 -c 10 -d 0.2 --json >"$NT_TMP/reset.json" \
		2>/dev/null || nt_fail "loadgen failed against resets"
	nt_assert_eq "reset: requests answered with RST" "$(jq '.errors.reset' "$NT_TMP/reset.json")" 20
else
	nt_log "nftables unavailable: timeout and reset kinds not provoked"
fi

# --- 3. no coordinated omission: a 1 s stall shows in the percentiles -----------------
nt_netns co
nt_bg co "$NT_BUILD/refserver" --port 8080 >/dev/null 2>&1
CO_SERVER=$NT_LAST_PID
nt_wait_port co 8080
nt_exec co "$LG" --port 8080 -m http-keepalive -r 1000 -c 50 -d 3 --json >"$NT_TMP/co.json" \
	2>"$NT_TMP/co.err" &
LOAD=$!
sleep 1
kill -STOP "$CO_SERVER"
sleep 1
kill -CONT "$CO_SERVER"
wait $LOAD || nt_fail "loadgen failed across the stall"
# A third of the 3,000 requests were due during the stall, with latencies
# spread from 0 to 1 s: p90 is ~0.7 s. Measured from actual send times, only
# the 50 in flight would show the stall and p90 would stay below 1 ms.
nt_log "latency with a 1 s stall: $(jq -c '.latency.response | {p50_us, p90_us, p99_us, max_us}' "$NT_TMP/co.json")"
nt_assert_ge "response p90 with a 1 s stall (ms)" "$(ms "$NT_TMP/co.json" response p90_us)" 300
nt_assert_ge "response max with a 1 s stall (ms)" "$(ms "$NT_TMP/co.json" response max_us)" 900
nt_assert_eq "every request due was sent" "$(jq '.operations.started' "$NT_TMP/co.json")" 3000
nt_assert_ge "requests that waited for a free connection (-c 50)" "$(jq '.rate.held' "$NT_TMP/co.json")" 1

# --- 4. a rate it cannot keep is reported ----------------------------------------------
nt_bg co "$NT_BUILD/refserver" --port 8081 --handler-delay-us 100000 >/dev/null 2>&1
nt_wait_port co 8081
# 5 connections x 10 responses/s = 50/s at most, 1,000/s asked.
nt_exec co "$LG" --port 8081 -m http-keepalive -r 1000 -c 5 -d 1 --timeout 1 --json \
	>"$NT_TMP/slow.json" \
	2>"$NT_TMP/slow.err" || nt_fail "loadgen failed against a slow server"
nt_assert_eq "rate.kept against a 50/s server at 1000/s" "$(jq '.rate.kept' "$NT_TMP/slow.json")" false
nt_assert_ge "operations never started" "$(jq '.rate.unsent' "$NT_TMP/slow.json")" 800
grep -q 'could not keep the asked rate' "$NT_TMP/slow.err" ||
	nt_fail "no warning about the rate: $(cat "$NT_TMP/slow.err")"
nt_log "ok: warned: $(cat "$NT_TMP/slow.err")"
nt_exec co "$LG" --port 8080 -r 200 -c 10 -d 1 --json >"$NT_TMP/fast.json" 2>/dev/null ||
	nt_fail "loadgen failed against a fast server"
nt_assert_eq "rate.kept at 200/s against a fast server" "$(jq '.rate.kept' "$NT_TMP/fast.json")" true

# --- 5. bad usage: one line on stderr, exit 2 --------------------------------------------
for args in "-r abc" "-r -5" "-m bogus" "-c 0" "-d 0" "--port 0" "--addr ::g" "-t 4 -c 2" \
	"--path x" "--bogus"; do
	# shellcheck disable=SC2086
	"$LG" $args >"$NT_TMP/out" 2>"$NT_TMP/err"
	rc=$?
	nt_assert_eq "loadgen $args: exit status" "$rc" 2
	nt_assert_eq "loadgen $args: lines on stderr" "$(wc -l <"$NT_TMP/err")" 1
done
"$LG" --help | tail -n 15 | grep -q '^EXAMPLES' || nt_fail "--help does not end with EXAMPLES"
nt_pass
