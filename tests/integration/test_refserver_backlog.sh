#!/usr/bin/env bash
# The knobs refserver exposes for nettune do what they say, checked against
# the kernel: a short backlog behind a slow accept loop overflows under a
# connection burst (the namespace's TcpExtListenOverflows, and loadgen's
# timeouts and SYN-retransmit-delayed connects), and --reuseport --workers 2
# makes two listeners (ss) that both take connections.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nt_setup refserver_backlog
command -v jq >/dev/null || nt_skip "jq is not installed"
command -v ss >/dev/null || nt_skip "ss (iproute2) is not installed"
[ -x "$NT_BUILD/loadgen" ] || nt_fail "$NT_BUILD/loadgen is not built"
nt_netns s

# --- 1. --backlog 8 --accept-delay-us 20000 under a 2,000 conn/s burst ----------
nt_bg s "$NT_BUILD/refserver" --port 8080 --backlog 8 --accept-delay-us 20000 --json \
	>"$NT_TMP/slow.json" 2>/dev/null
SERVER=$NT_LAST_PID
nt_wait_port s 8080
limit=$(nt_exec s ss -Hltn 'sport = :8080' | awk '{ print $3 }')
nt_assert_eq "listen queue limit (ss Send-Q) = --backlog" "$limit" 8
before=$(nt_netstat s ListenOverflows)
nt_exec s "$NT_BUILD/loadgen" --port 8080 -m connect -r 2000 -c 2000 -d 1 --timeout 3 \
	--json >"$NT_TMP/burst.json" 2>/dev/null || nt_fail "loadgen failed"
after=$(nt_netstat s ListenOverflows)
overflows=$((after - before))
nt_assert_ge "TcpExtListenOverflows during the burst" "$overflows" 1
timeouts=$(jq '.errors.timeout' "$NT_TMP/burst.json")
slow=$(jq '.connections.slow' "$NT_TMP/burst.json")
nt_log "loadgen: $(jq -c '{started: .operations.started, completed: .operations.completed,
	timeouts: .errors.timeout, slow_connects: .connections.slow,
	connect_p50_ms: (.latency.connect.p50_us / 1e3)}' "$NT_TMP/burst.json")"
nt_assert_ge "loadgen connects that timed out or waited for a SYN retransmit" \
	$((timeouts + slow)) 1
nt_assert_eq "loadgen attempted the whole burst" "$(jq '.operations.started' "$NT_TMP/burst.json")" 2000
kill -TERM "$SERVER"
wait "$SERVER"
nt_assert_eq "refserver exit status after SIGTERM" "$?" 0
# 20 ms per accept: at most ~50 accepts/s, plus the grace period's.
accepted=$(jq '.total.accepted' "$NT_TMP/slow.json")
nt_log "refserver accepted $accepted connections with a 20 ms accept delay"
awk -v a="$accepted" 'BEGIN { exit !(a > 0 && a <= 50 * 5) }' ||
	nt_fail "accepted $accepted connections: the accept delay did not hold"

# --- 2. --reuseport --workers 2: two listeners, both used ---------------------------
nt_bg s "$NT_BUILD/refserver" --port 8081 --reuseport --workers 2 --json \
	>"$NT_TMP/rp.json" 2>/dev/null
RP=$NT_LAST_PID
nt_bg s "$NT_BUILD/refserver" --port 8082 --workers 2 2>/dev/null >/dev/null
nt_wait_port s 8081
nt_wait_port s 8082
nt_assert_eq "ss -ltn listeners on the --reuseport port" \
	"$(nt_exec s ss -Hltn 'sport = :8081' | wc -l)" 2
nt_assert_eq "ss -ltn listeners on the shared-listener port" \
	"$(nt_exec s ss -Hltn 'sport = :8082' | wc -l)" 1
nt_exec s "$NT_BUILD/loadgen" --port 8081 -m http-close -n 400 -c 20 -d 5 --json \
	>"$NT_TMP/rp-load.json" 2>/dev/null || nt_fail "loadgen failed"
nt_assert_eq "requests answered through two listeners" \
	"$(jq '.http_status."2xx"' "$NT_TMP/rp-load.json")" 400
kill -TERM "$RP"
wait "$RP"
for w in 0 1; do
	# 400 connections hashed over two listeners: each gets some.
	nt_assert_ge "worker $w connections (own listener)" \
		"$(jq ".workers[$w].accepted" "$NT_TMP/rp.json")" 50
done
nt_pass
