#!/usr/bin/env bash
# Accept-queue wait against a schedule the server imposes: 20 clients connect
# at once to a server that accepts one connection every 50 ms, so the k-th
# accepted connection waited k*50 ms (k = 0..19). nettune must count all 20
# and report the schedule's median and maximum within 5% plus one bucket,
# and attribute them to the listener and the accepting process. The slow
# log (--min-us 675000) must print exactly the 6 accepts that waited
# 700..950 ms, and lose none. Twice: with the accept() exit programs that
# read sockets through bpf_rdonly_cast (this kernel has it), and with the
# probe-read ones older kernels get (forced with the hidden --force-fallback).
source "$(dirname "$0")/lib.sh"
nt_setup accept

N=20 EVERY=50 PORT=9100
nt_netns srv
nt_exec srv ip addr add 10.78.0.1/32 dev lo
nt_bg srv "$NT_BUILD/tests/helpers/tcpserver" --port $PORT --accept-every-ms $EVERY
server=$NT_LAST_PID
nt_wait_port srv $PORT

# Without bpf_rdonly_cast (before 6.2) the default is the probe-read one
# (doctor says so), and both passes run it: once chosen, once forced.
methods="cast probe-read"
[[ $(nt_method accept) = *bpf_rdonly_cast* ]] || methods="default probe-read"
for method in $methods; do
	extra=() want_progs=accept4_exit_cast,accept_exit_cast,sock_state
	[ $method = default ] && want_progs=accept4_exit,accept_exit,sock_state
	[ $method = probe-read ] && extra=(--force-fallback) want_progs=accept4_exit,accept_exit,sock_state
	"$NETTUNE" trace --json --netns "$(nt_ns_path srv)" --probes accept --min-us 675000 \
		"${extra[@]}" >"$NT_TMP/$method.json" 2>"$NT_TMP/$method.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	nt_wait_attached "$NT_TMP/$method.err"
	nt_assert_eq "$method: programs loaded" "$(nt_prog_names "$tracer")" "$want_progs"

	nt_exec srv "$NT_BUILD/tests/helpers/tcpclient" --addr 10.78.0.1 --port $PORT --count $N \
		--parallel --hold-ms 1500 >"$NT_TMP/$method-client.json" || nt_fail "client failed"
	nt_assert_eq "client's own successful connects" "$(jq .ok "$NT_TMP/$method-client.json")" $N
	sleep 0.3	# the last accept happens ~950 ms after the burst
	kill -INT "$tracer"
	wait "$tracer" || nt_fail "nettune exited with an error: $(cat "$NT_TMP/$method.err")"
	out=$(tail -n 1 "$NT_TMP/$method.json")

	# The schedule: waits are 0, 50, ..., 950 ms. Nearest-rank p50 of 20 is the
	# 10th value (450 ms); the max is the 20th (950 ms).
	want_p50=$(( (N / 2 - 1) * EVERY ))
	want_max=$(( (N - 1) * EVERY ))
	nt_assert_eq "accept count" "$(jq .accept.count <<<"$out")" $N
	nt_assert_eq "the old key accept_wait (one release) is the same object" \
		"$(jq '.accept == .accept_wait' <<<"$out")" true
	got_p50=$(jq '.accept_wait.p50_us / 1000' <<<"$out")
	got_max=$(jq '.accept_wait.max_us / 1000' <<<"$out")
	nt_assert_near "accept_wait p50 (ms)" "$got_p50" $want_p50 5 "$(nt_bucket_width_ms $want_p50)"
	nt_assert_near "accept_wait max (ms)" "$got_max" $want_max 5 "$(nt_bucket_width_ms $want_max)"

	row=$(jq -c ".listeners[] | select(.port == $PORT)" <<<"$out")
	[ -n "$row" ] || nt_fail "no listener row for port $PORT: $out"
	nt_assert_eq "listener accepted" "$(jq .accepted <<<"$row")" $N
	nt_assert_eq "listener owner pid" "$(jq .pid <<<"$row")" "$server"
	nt_assert_eq "listener backlog limit" "$(jq .backlog_limit <<<"$row")" 128
	# The first accept() was already waiting: it took the first connection
	# alone, or, on a busy machine, woke only after the whole burst was queued;
	# 50 ms later the next found the rest queued either way.
	peak=$(jq .peak_queue <<<"$row")
	[ "$peak" -eq $((N - 1)) ] || [ "$peak" -eq $N ] || nt_fail "peak queue depth: got $peak, want $((N - 1)) or $N"
	nt_log "ok: peak queue depth seen at accept = $peak"
	nt_assert_eq "accepting process" "$(jq '.accept_wait.by_pid[0].pid' <<<"$out")" "$server"

	slow=$(jq -c 'select(.type == "slow")' "$NT_TMP/$method.json")
	nt_assert_eq "slow accepts logged" "$(grep -c . <<<"$slow")" 6
	nt_assert_eq "slow events below the threshold" \
		"$(jq -s '[.[] | select(.latency_us < 675000)] | length' <<<"$slow")" 0
	nt_assert_eq "slow events of the server, on its port" \
		"$(jq -s "[.[] | select(.pid == $server and .family == \"accept\" and (.local | endswith(\":$PORT\")))] | length" <<<"$slow")" 6
	nt_assert_eq "slow events lost" "$(jq '.slow_events_lost_per_cpu | add' <<<"$out")" 0
done
nt_pass
