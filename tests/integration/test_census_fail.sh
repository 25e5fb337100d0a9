#!/usr/bin/env bash
# A census that cannot read (docs/reclaim.md): nettune serve reclaiming
# every second while its descriptor limit is lowered (prlimit) to one more
# than the descriptors it holds, so that the census's reads fail with a
# real EMFILE from the kernel: opening /proc/PID/ns/net (while a scrape
# holds the spare descriptor), /proc/net/netstat in a namespace, or a
# sock_diag socket. For six reclaim rounds nothing it could not read may be
# taken for gone. Checked, against the client's own count and the kernel:
#  - the accepting listener's nettune_accept_wait_seconds_count = the
#    connections the client made, and a never-accepting listener's
#    overflows (syn + ack; the SYN-time ones come from the census's
#    sk_drops) = the namespace's TcpExtListenOverflows, before the failures,
#    in every scrape that got through during them, and after: no count
#    forgotten, none counted twice. The old census took every listener for
#    closed after one failed round, freed its rows at the second and forgot
#    their counts at the fourth. (The check is on the listeners: rows of
#    other processes on the host may rightly be freed meanwhile, so
#    nettune_rows_reclaimed_total is no measure.)
#  - the failures are counted (nettune_census_read_failures_total, at least
#    one a round) and said on stderr once per kind and error, not per round;
#  - with the limit back, reclaiming goes on: the accepting server, stopped
#    (its listener closed), has its rows freed and its series ended within
#    ten seconds (docs/reclaim.md: a closed listener's counts are forgotten);
#  - SIGTERM: exit 0, none of its BPF programs left.
source "$(dirname "$0")/lib.sh"
nt_setup census_fail
command -v curl >/dev/null || nt_skip "curl is not installed"
command -v prlimit >/dev/null || nt_skip "prlimit is not installed (util-linux)"
H=$NT_BUILD/tests/helpers
ACC=9420 OVF=9421 N=30

nt_netns a
INO=$(stat -L -c %i "$(nt_ns_path a)")
nt_bg a "$H/tcpserver" --port $ACC >/dev/null
ACC_SERVER=$NT_LAST_PID
nt_bg a "$H/tcpserver" --port $OVF --backlog 1 --no-accept >/dev/null
nt_wait_port a $ACC
nt_wait_port a $OVF

SERVE_PORT=$(nt_free_port)
# --max-series: other tests on the host may hold thousands of listeners;
# past the bound ours would fold into "other" (docs/metrics.md).
"$NETTUNE" serve --listen "127.0.0.1:$SERVE_PORT" -i 1 --probes accept,drops --max-series 1000000 \
	>"$NT_TMP/serve.out" 2>"$NT_TMP/serve.err" &
SERVE=$!
NT_PIDS+=("$SERVE")
nt_wait_attached "$NT_TMP/serve.err"
PROGS=$(nt_prog_ids "$SERVE")

scrape() { curl -sf --max-time 5 "http://127.0.0.1:$SERVE_PORT/metrics" >"$NT_TMP/m.txt"; }
metric() { awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' "$NT_TMP/m.txt"; }
listener_sum() { # METRIC PORT: over every series of that listener
	awk -v p="$1{listener=\"0.0.0.0:$2\",netns=\"$INO\"," \
		'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$NT_TMP/m.txt"
}
accepts() { # DESC: the accepting listener's count is the client's
	local got; got=$(listener_sum nettune_accept_wait_seconds_count $ACC)
	[ "$got" = "$ok" ] || grep -E 'accept_wait_seconds_count|census|reclaimed' "$NT_TMP/m.txt" >&2
	nt_assert_eq "$1" "$got" "$ok"
}
overflows() { # DESC: the never-accepting listener's, syn + ack, = ListenOverflows
	local got; got=$(listener_sum nettune_listen_overflows_total $OVF)
	[ "$got" = "$lo" ] || grep -E "9421|netns_listen" "$NT_TMP/m.txt" >&2
	nt_assert_eq "$1" "$got" "$lo"
}
failures() {
	# denied: processes nettune may never look at (this host may have some)
	awk '$1 ~ /^nettune_census_read_failures_total\{/ && $1 !~ /denied/ { s += $2 }
		END { print s + 0 }' "$NT_TMP/m.txt"
}

# Traffic on both CPUs: accepted connections, and SYNs to a full queue.
nt_exec a taskset -c 0 "$H/tcpclient" --addr 127.0.0.1 --port $ACC --count $N \
	>"$NT_TMP/acc.json" || nt_fail "client failed"
nt_exec a taskset -c 1 "$H/tcpclient" --addr 127.0.0.1 --port $OVF --count 20 --timeout-ms 200 \
	>/dev/null
nt_wait_served a $ACC
ok=$(jq .ok "$NT_TMP/acc.json")
nt_assert_eq "client: connections made" "$ok" $N
sleep 2.5	# two reclaim rounds that read everything
scrape || nt_fail "scrape failed"
accepts "accepts before the failures"
f0=$(failures)
lo=$(nt_netstat a ListenOverflows)
nt_assert_ge "ListenOverflows in the namespace" "$lo" 5
overflows "the full listener's overflows (syn + ack) = ListenOverflows, before the failures"

# One descriptor to spare: the fewest serve holds between its rounds, + 1.
soft=$(prlimit --pid "$SERVE" --nofile --noheadings --output SOFT)
hard=$(prlimit --pid "$SERVE" --nofile --noheadings --output HARD)
held=$(for _ in $(seq 20); do ls /proc/"$SERVE"/fd | wc -l; sleep 0.05; done | sort -n | head -n 1)
prlimit --pid "$SERVE" --nofile="$((held + 1)):$hard" || nt_fail "prlimit failed"
through=0
for _ in $(seq 6); do	# six rounds: the old census freed the rows at the second
	sleep 1
	scrape || continue
	through=$((through + 1))
	accepts "accepts, during the failures"
	nt_assert_eq "the full listener's overflows, during the failures" \
		"$(listener_sum nettune_listen_overflows_total $OVF)" "$lo"
done
nt_log "scrapes that got through during the failures: $through of 6"
prlimit --pid "$SERVE" --nofile="$soft:$hard" || nt_fail "prlimit failed"
scrape || nt_fail "scrape failed: $(tail -3 "$NT_TMP/serve.err")"
grep -E 'census|rows_reclaimed' "$NT_TMP/m.txt" >&2
nt_assert_ge "census read failures counted (one a round at least)" $(( $(failures) - f0 )) 6
accepts "accepts after the failures: the client's count"
nt_assert_eq "the full listener's overflows (syn + ack) = ListenOverflows" \
	"$(listener_sum nettune_listen_overflows_total $OVF)" "$(nt_netstat a ListenOverflows)"
nt_assert_eq "ListenOverflows unchanged since" "$(nt_netstat a ListenOverflows)" "$lo"
warned=$(grep -c 'counted in the census' "$NT_TMP/serve.err")
nt_assert_ge "failure warnings" "$warned" 1
nt_assert_le "failure warnings (once per kind and error, not per round)" "$warned" 5

# Reads work again: the accepting server, stopped, has its rows freed.
kill -TERM "$ACC_SERVER"
wait "$ACC_SERVER" 2>/dev/null
freed0=$(metric 'nettune_rows_reclaimed_total{family="accept"}')
freed=$freed0
for _ in $(seq 40); do
	sleep 0.25
	scrape || nt_fail "scrape failed"
	freed=$(metric 'nettune_rows_reclaimed_total{family="accept"}')
	[ "$(listener_sum nettune_accept_wait_seconds_count $ACC)" = 0 ] && break
done
nt_assert_ge "accept rows freed" "$freed" $((freed0 + 1))
nt_assert_eq "the closed listener's series ended (its rows freed, counts forgotten)" \
	"$(listener_sum nettune_accept_wait_seconds_count $ACC)" 0

kill -TERM "$SERVE"
wait "$SERVE"
nt_assert_eq "serve: exit code at SIGTERM" "$?" 0
nt_assert_eq "BPF programs left after serve exited" "$(nt_progs_left "$PROGS")" 0
nt_pass
