#!/usr/bin/env bash
# Read latency against delays the test imposes, on both methods (the
# preferred tracepoints and, forced with the hidden --force-fallback, the
# path kernels without them take), with --read-syscall:
#  - read_wait: a server waits 30 ms after data becomes readable before
#    reading; 200 one-request connections: count 200, p50 = 30 ms;
#  - not a socket: that server also reads a file and a pipe around every
#    socket read; neither family counts them (exactly 200 each);
#  - read_syscall: a blocking reader whose client sends 100 ms after
#    connecting: p50 = 100 ms, one per connection;
#  - dead sockets: before those, a server closes 200 connections with their
#    data unread, and 0.5 s pass. The kernel reuses their memory for the
#    sockets that follow; none of their clocks may carry over (the slow
#    reader's longest wait stays near 30 ms, not 0.5 s);
#  - several messages per connection: 6 connections carry 4 each, the next
#    sent 100 ms after the server (30 ms late again) has read the last: 24
#    waits of 30 ms, none longer than 100 ms (a clock that carried over from
#    a socket's previous message would read 160 ms or more). On the preferred
#    method a socket's clock moves to its socket storage at its second
#    message: this is what measures that path.
#  - an ACK between arrival and read: 20 connections whose server, once the
#    request is readable, sends a byte, which the client's ACK then
#    acknowledges while the request waits 60 ms: 20 waits of 60 ms (a clock
#    keyed by anything of the socket's send state would be lost); server
#    and client pinned to different CPUs;
#  - a first message partly read: 3 connections; the server reads 1 byte of
#    the first message 30 ms after it arrived, the second arrives 200 ms
#    after the first, the server reads everything 30 ms later: one wait of
#    ~230 ms a connection, from the first message's arrival. On the
#    preferred method the socket gets its storage at the second message and
#    takes over the clock the stamp table still runs for the first (a clock
#    started afresh there would read ~30 ms).
# Two more passes without it, the default, on each method: read_wait as
# above, no read_syscall in the report and a single slot for its rows; on
# the preferred method no program on the read syscalls either: only the two
# read_wait needs. One more on the preferred method with its clocks in the
# stamp table only (the hidden --no-sk-storage: kernels that refuse socket
# storage in tracing programs).
source "$(dirname "$0")/lib.sh"
nt_setup read
H=$NT_BUILD/tests/helpers
N=200 M=20 C=6 K=4 P=3 GAP=200 A=20

nt_netns r
nt_exec r ip addr add 10.81.0.1/32 dev lo
nt_bg r "$H/tcpserver" --port 9700 --read-delay-ms 30 --read-file-and-pipe
slow_reader=$NT_LAST_PID
nt_bg r "$H/tcpserver" --port 9701 --block-read
blocking_reader=$NT_LAST_PID
nt_bg r "$H/tcpserver" --port 9702 --close-unread
nt_bg r "$H/tcpserver" --port 9703 --read-delay-ms 30 --messages $K
many_reader=$NT_LAST_PID
nt_bg r "$H/tcpserver" --port 9704 --read-delay-ms 30 --messages 2 --partial-first 1
partial_reader=$NT_LAST_PID
# Server and client on different CPUs: each clock starts on the client's
# (the data's arrival, in its send's softirq) and stops on the server's.
nt_bg r taskset -c 0 "$H/tcpserver" --port 9705 --read-delay-ms 60 --write-before-read
duplex_reader=$NT_LAST_PID
nt_wait_port r 9705
nt_wait_port r 9700
nt_wait_port r 9703
nt_wait_port r 9701
nt_wait_port r 9702
nt_wait_port r 9704

# Kernels without sock:sk_data_ready and sock:sock_recv_length (before 6.10
# and 6.3) take the fallback by default: doctor says so, and the "preferred"
# passes then run that default unforced.
PREFERRED="sock:sk_data_ready + sock:sock_recv_length"
STAMP="$PREFERRED, stamp table"
default_method=$(nt_method read)
[[ $default_method = "$PREFERRED"* ]] ||
	nt_log "this kernel's default read method: $default_method (docs/kernels.md)"
methods="preferred fallback preferred-default fallback-default"
[[ $default_method = "$PREFERRED"* ]] && methods+=" stamp-default"
for method in $methods; do
	extra=()
	[[ $method = fallback* ]] && extra=(--force-fallback)
	[[ $method = stamp* ]] && extra=(--no-sk-storage)
	[[ $method = *-default ]] || extra+=(--read-syscall)
	"$NETTUNE" trace --json --probes read -p "$slow_reader" -p "$blocking_reader" -p "$many_reader" \
		-p "$partial_reader" -p "$duplex_reader" \
		"${extra[@]}" >"$NT_TMP/$method.json" 2>"$NT_TMP/$method.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	nt_wait_attached "$NT_TMP/$method.err"
	progs=$(nt_prog_names "$tracer")
	syscall_rows=$(nt_map_entries "$tracer" read_syscall_stats percpu_array)
	nt_exec r "$H/tcpclient" --addr 10.81.0.1 --port 9702 --count $N --payload x \
		--wait-close >/dev/null || true	# reset by the server: expected
	sleep 0.5
	nt_exec r "$H/tcpclient" --addr 10.81.0.1 --port 9700 --count $N --payload "GET / HTTP/1.0" \
		--wait-close >/dev/null || nt_fail "client failed"
	nt_exec r "$H/tcpclient" --addr 10.81.0.1 --port 9701 --count $M --payload x \
		--send-after-ms 100 --wait-close >/dev/null || nt_fail "client failed"
	nt_exec r "$H/tcpclient" --addr 10.81.0.1 --port 9703 --count $C --payload "GET / HTTP/1.0" \
		--messages $K --send-after-ms 100 --wait-close >/dev/null || nt_fail "client failed"
	nt_exec r "$H/tcpclient" --addr 10.81.0.1 --port 9704 --count $P --payload "GET / HTTP/1.0" \
		--messages 2 --gap-ms $GAP --wait-close >/dev/null || nt_fail "client failed"
	nt_exec r taskset -c 1 "$H/tcpclient" --addr 10.81.0.1 --port 9705 --count $A --payload "GET / HTTP/1.0" \
		--wait-close >/dev/null || nt_fail "client failed"
	nt_wait_served r 9705
	nt_wait_served r 9700
	nt_wait_served r 9704
	nt_wait_served r 9703
	nt_wait_served r 9701
	kill -INT "$tracer"
	wait "$tracer" || nt_fail "$method: nettune failed: $(cat "$NT_TMP/$method.err")"
	out=$(tail -n 1 "$NT_TMP/$method.json")

	want_method=$default_method
	[[ $method = fallback* ]] && want_method="tcp:tcp_probe + syscall exit (fd -> socket)"
	[[ $method = stamp* ]] && want_method=$STAMP
	nt_assert_eq "$method: method reported" "$(jq -r .read.wait.method <<<"$out")" "$want_method"
	nt_assert_eq "$method: the old keys (one release) are the same objects" \
		"$(jq '.read.wait == .read_wait and .read.syscall == .read_syscall' <<<"$out")" true
	wait_row=$(jq -c ".read_wait.by_pid[] | select(.pid == $slow_reader)" <<<"$out")
	nt_assert_eq "$method: read_wait count (slow reader)" "$(jq .latency.count <<<"$wait_row")" $N
	nt_assert_near "$method: read_wait p50 (ms)" "$(jq '.latency.p50_us / 1000' <<<"$wait_row")" \
		30 5 "$(nt_bucket_width_ms 30)"
	nt_assert_le "$method: read_wait max (ms): no dead socket's clock" \
		"$(jq '.latency.max_us / 1000' <<<"$wait_row")" 200
	many_row=$(jq -c ".read_wait.by_pid[] | select(.pid == $many_reader)" <<<"$out")
	nt_assert_eq "$method: read_wait count ($K messages a connection)" \
		"$(jq .latency.count <<<"$many_row")" $((C * K))
	nt_assert_near "$method: read_wait p50 (ms), $K messages a connection" \
		"$(jq '.latency.p50_us / 1000' <<<"$many_row")" 30 5 "$(nt_bucket_width_ms 30)"
	nt_assert_le "$method: read_wait max (ms): no clock from the socket's last message" \
		"$(jq '.latency.max_us / 1000' <<<"$many_row")" 100
	part_row=$(jq -c ".read_wait.by_pid[] | select(.pid == $partial_reader)" <<<"$out")
	nt_assert_eq "$method: read_wait count (first message partly read)" \
		"$(jq .latency.count <<<"$part_row")" $P
	nt_assert_near "$method: read_wait p50 (ms) from the first message, partly read" \
		"$(jq '.latency.p50_us / 1000' <<<"$part_row")" $((GAP + 30)) 5 \
		"$(nt_bucket_width_ms $((GAP + 30)))"
	duplex_row=$(jq -c ".read_wait.by_pid[] | select(.pid == $duplex_reader)" <<<"$out")
	nt_assert_eq "$method: read_wait count (an ACK between arrival and read)" \
		"$(jq .latency.count <<<"$duplex_row")" $A
	nt_assert_near "$method: read_wait p50 (ms), an ACK between arrival and read" \
		"$(jq '.latency.p50_us / 1000' <<<"$duplex_row")" 60 5 "$(nt_bucket_width_ms 60)"
	nt_assert_eq "$method: lost events" "$(jq .lost_events <<<"$out")" 0
	if [[ $method = *-default ]]; then
		[ $method = preferred-default ] && [ "$default_method" = "$PREFERRED, socket storage" ] &&
			nt_assert_eq "$method: programs loaded" "$progs" \
				"read_data_ready_sks,read_recv_length_sks"
		[ $method = stamp-default ] &&
			nt_assert_eq "$method: programs loaded" "$progs" \
				"read_data_ready,read_recv_length"
		nt_assert_eq "$method: read_syscall reported" "$(jq 'has("read_syscall")' <<<"$out")" false
		nt_assert_eq "$method: read_syscall's row table (slots)" "$syscall_rows" 1
		continue
	fi
	# 2,048 declared; fewer (not below 64) on hosts with more than 7 CPUs.
	nt_assert_ge "$method: read_syscall's row table (slots)" "$syscall_rows" 64
	nt_assert_eq "$method: read syscall enter programs loaded" \
		"$(tr , '\n' <<<"$progs" | grep -c '^read_enter_')" 5
	sys_row=$(jq -c ".read_syscall.by_pid[] | select(.pid == $slow_reader)" <<<"$out")
	# The file and pipe reads around each socket read add nothing.
	nt_assert_eq "$method: read_syscall count (slow reader: sockets only)" \
		"$(jq .latency.count <<<"$sys_row")" $N
	nt_assert_eq "$method: bytes read by the slow reader" "$(jq .bytes <<<"$sys_row")" \
		$((N * 14))
	sys_row=$(jq -c ".read_syscall.by_pid[] | select(.pid == $blocking_reader)" <<<"$out")
	nt_assert_eq "$method: read_syscall count (blocking reader)" "$(jq .latency.count <<<"$sys_row")" $M
	nt_assert_near "$method: read_syscall p50 (ms)" "$(jq '.latency.p50_us / 1000' <<<"$sys_row")" \
		100 5 "$(nt_bucket_width_ms 100)"
done
nt_pass
