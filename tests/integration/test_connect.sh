#!/usr/bin/env bash
# Connect latency against independent truths: N connects through a link
# delayed 20 ms each way must be counted exactly, with p50 equal to the RTT
# ping measures over the same link (and to the client's own timings), and
# connects to a closed port must be counted as refused, all of them charged
# to the client process; with the namespace's ephemeral ports exhausted,
# the client's EADDRNOTAVAIL errors must be counted as no_local_port. After
# SIGINT no nettune program may remain attached.
source "$(dirname "$0")/lib.sh"
nt_setup connect

N=40
REFUSED=5
nt_netns cli
nt_netns srv
nt_delayed_link cli 10.77.0.1/24 srv 10.77.0.2/24 20
nt_bg srv "$NT_BUILD/tests/helpers/tcpserver" --port 9000
nt_wait_port srv 9000

rtt=$(nt_ping_rtt cli 10.77.0.2 10)
[ -n "$rtt" ] || nt_fail "ping over the delayed link failed"
nt_log "ping RTT over the link: $rtt ms"

"$NETTUNE" trace --json --netns "$(nt_ns_path cli)" >"$NT_TMP/out.json" 2>"$NT_TMP/err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/err"
# A second tracer reports every 0.3 s: its intervals must add up to its total.
"$NETTUNE" trace --json -i 0.3 --netns "$(nt_ns_path cli)" --probes connect \
	>"$NT_TMP/intervals.json" 2>"$NT_TMP/err2" &
tracer2=$!
NT_PIDS+=("$tracer2")
nt_wait_attached "$NT_TMP/err2"

nt_exec cli "$NT_BUILD/tests/helpers/tcpclient" --addr 10.77.0.2 --port 9000 --count $N \
	>"$NT_TMP/client.json" || nt_fail "client failed"
nt_exec cli "$NT_BUILD/tests/helpers/tcpclient" --addr 10.77.0.2 --port 9001 --count $REFUSED \
	>"$NT_TMP/refused.json" || nt_fail "client failed"
# Traffic outside the traced namespace must not be counted.
nt_exec srv "$NT_BUILD/tests/helpers/tcpclient" --addr 127.0.0.1 --port 9000 --count 7 >/dev/null

# The programs the first tracer holds, by id, from its descriptors' fdinfo:
# other tracers (a concurrent run) must not count.
ids=$(nt_prog_ids "$tracer")
[ "$ids" != "[]" ] || nt_fail "the tracer holds no BPF program"
kill -INT "$tracer" "$tracer2"
wait "$tracer" || nt_fail "nettune exited with $? after SIGINT: $(cat "$NT_TMP/err")"
wait "$tracer2" || nt_fail "nettune -i exited with $? after SIGINT: $(cat "$NT_TMP/err2")"

out=$(tail -n 1 "$NT_TMP/out.json")
[ "$(jq -r .type <<<"$out")" = total ] || nt_fail "no final report after SIGINT"
client_ok=$(jq .ok "$NT_TMP/client.json")
client_p50=$(jq .connect_p50_us "$NT_TMP/client.json")
nt_assert_eq "client's own successful connects" "$client_ok" "$N"
nt_assert_eq "connect count" "$(jq .connect.count <<<"$out")" "$N"
nt_assert_eq "connects to port 9000" \
	"$(jq '[.connect.by_port[] | select(.port == 9000) | .latency.count] | add' <<<"$out")" "$N"

p50_ms=$(jq '.connect.p50_us / 1000' <<<"$out")
width=$(nt_bucket_width_ms "$rtt")
nt_assert_near "connect p50 (ms) vs ping RTT" "$p50_ms" "$rtt" 5 "$width"
nt_assert_near "connect p50 (ms) vs the client's own p50" "$p50_ms" \
	"$(awk -v u="$client_p50" 'BEGIN { print u / 1000 }')" 5 "$width"

# The answer arrives in softirq: the connecting process is what nettune
# remembered at the SYN. Both client runs are tcpclient; nothing else.
nt_assert_eq "connects attributed to tcpclient" \
	"$(jq '[.connect.by_pid[] | select(.comm == "tcpclient") | .latency.count] | add' <<<"$out")" "$N"
nt_assert_eq "refusals attributed to tcpclient" \
	"$(jq '[.connect.by_pid[] | select(.comm == "tcpclient") | .refused] | add' <<<"$out")" "$REFUSED"
nt_assert_eq "by_pid rows of other processes" \
	"$(jq '[.connect.by_pid[] | select(.comm != "tcpclient")] | length' <<<"$out")" 0

nt_assert_eq "client saw refused" "$(jq .refused "$NT_TMP/refused.json")" "$REFUSED"
nt_assert_eq "refused connects" "$(jq .connect.failures.refused <<<"$out")" "$REFUSED"
nt_assert_eq "timed-out connects" "$(jq .connect.failures.timeout <<<"$out")" 0
nt_assert_eq "connects without a local port" "$(jq .connect.failures.no_local_port <<<"$out")" 0
nt_assert_eq "lost events" "$(jq .lost_events <<<"$out")" 0

iv=$NT_TMP/intervals.json
nt_assert_ge "interval reports" "$(jq -s '[.[] | select(.type == "interval")] | length' "$iv")" 3
nt_assert_eq "-i: sum of interval counts" \
	"$(jq -s '[.[] | select(.type == "interval") | .connect.count] | add' "$iv")" $N
nt_assert_eq "-i: total count" "$(jq -s '[.[] | select(.type == "total")][0].connect.count' "$iv")" $N
nt_assert_eq "-i: sum of interval refusals" \
	"$(jq -s '[.[] | select(.type == "interval") | .connect.failures.refused] | add' "$iv")" $REFUSED

if command -v bpftool >/dev/null; then
	left=$(nt_progs "$ids")
	nt_assert_eq "the tracer's programs left after SIGINT" "$left" "[]"
fi

# Ephemeral ports exhausted: a namespace whose range has 4 ports, and 10
# connects to one destination held open at once. The ones that find no
# port fail with EADDRNOTAVAIL (the client's own count is the truth) and
# must be counted as no_local_port, not as other.
nt_netns ports
nt_exec ports sysctl -qw net.ipv4.ip_local_port_range="40000 40003"
nt_bg ports "$NT_BUILD/tests/helpers/tcpserver" --port 9100
nt_wait_port ports 9100
"$NETTUNE" trace --json --netns "$(nt_ns_path ports)" --probes connect \
	>"$NT_TMP/ports.json" 2>"$NT_TMP/err3" &
tracer3=$!
NT_PIDS+=("$tracer3")
nt_wait_attached "$NT_TMP/err3"
nt_exec ports "$NT_BUILD/tests/helpers/tcpclient" --addr 127.0.0.1 --port 9100 --count 10 \
	--parallel --hold-ms 200 >"$NT_TMP/ports-client.json" || nt_fail "client failed"
kill -INT "$tracer3"
wait "$tracer3" || nt_fail "nettune exited with $? after SIGINT: $(cat "$NT_TMP/err3")"
ports=$(tail -n 1 "$NT_TMP/ports.json")
no_port=$(jq .no_local_port "$NT_TMP/ports-client.json")
nt_assert_ge "client's EADDRNOTAVAIL errors" "$no_port" 1
nt_assert_eq "no_local_port failures" "$(jq .connect.failures.no_local_port <<<"$ports")" "$no_port"
nt_assert_eq "other failures with ports exhausted" "$(jq .connect.failures.other <<<"$ports")" 0
nt_assert_eq "connects that found a port" "$(jq .connect.count <<<"$ports")" \
	"$(jq .ok "$NT_TMP/ports-client.json")"
nt_pass
