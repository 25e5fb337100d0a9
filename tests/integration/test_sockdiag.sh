#!/usr/bin/env bash
# user/lib/sys/sockdiag.c against independent truths, through the listeners test
# helper: queue, limit, drops, inode and cookie must equal what ss reports
# for the same socket, the owner must be the server's pid, and the drops must
# add up with the namespace's TcpExt counters in two kernel paths:
#  1. accept queue full when a SYN arrives (plain listener that never
#     accepts): each dropped SYN counts once in sk_drops, ListenOverflows and
#     ListenDrops, and every SYN the client sent to the full queue (first
#     transmissions + TCPSynRetrans) is one of them;
#  2. accept queue full when the final ACK (here: the first data, because of
#     TCP_DEFER_ACCEPT) arrives: the request-socket path counts the overflow
#     once in ListenOverflows/ListenDrops but twice in sk_drops
#     (tcp_listendrop in syn_recv_sock, then sk_drops_skbadd at
#     discard_and_relse in tcp_v4_rcv); each bare ACK deferred by
#     TCP_DEFER_ACCEPT adds one more (TCPDeferAcceptDrop). So
#     sk_drops = 2 * ListenOverflows + TCPDeferAcceptDrop.
source "$(dirname "$0")/lib.sh"
nt_setup sockdiag

H=$NT_BUILD/tests/helpers
PY=/usr/bin/python3
for b in listeners tcpserver tcpclient; do
	[ -x "$H/$b" ] || nt_fail "$H/$b is not built"
done
command -v ss >/dev/null || nt_skip "ss (iproute2) is not installed"
[ -x "$PY" ] || nt_fail "$PY is missing (tools/install-deps.sh installs python3)"

# listener NS PORT: our helper's line for that port (path form: the helper
# enters the namespace itself through netns__run_in).
listener() { "$H/listeners" "$(nt_ns_path "$1")" | awk -v p="$2" '$2 == p'; }
# ss_listener NS PORT: "RECVQ SENDQ LOCAL DROPS INODE COOKIE" from ss.
ss_listener() {
	# ss -e looks for a cgroup2 mount that `ip netns exec` does not have.
	nt_exec "$1" ss -Hltnme "sport = :$2" 2>/dev/null | tr '\n\t' '  ' | awk '{
		match($0, /,d[0-9]+\)/); d = substr($0, RSTART + 2, RLENGTH - 3)
		match($0, /ino:[0-9]+/); ino = substr($0, RSTART + 4, RLENGTH - 4)
		match($0, / sk:[0-9a-f]+/); sk = substr($0, RSTART + 4, RLENGTH - 4)
		print $2, $3, $4, d, ino, sk }'
}
field() { awk -v i="$2" '{ print $i }' <<<"$1"; }

# compare_with_ss DESC NS PORT WANT_PID: our view and ss's, field by field.
compare_with_ss() {
	local ours theirs
	ours=$(listener "$2" "$3")
	theirs=$(ss_listener "$2" "$3")
	[ -n "$ours" ] || nt_fail "$1: the listeners helper does not list port $3"
	[ -n "$theirs" ] || nt_fail "$1: ss does not list port $3"
	nt_log "$1: ours: $ours"
	nt_log "$1: ss:   $theirs"
	nt_assert_eq "$1: queue vs ss Recv-Q" "$(field "$ours" 3)" "$(field "$theirs" 1)"
	nt_assert_eq "$1: limit vs ss Send-Q" "$(field "$ours" 4)" "$(field "$theirs" 2)"
	nt_assert_eq "$1: endpoint vs ss Local Address:Port" "$(field "$ours" 7)" "$(field "$theirs" 3)"
	nt_assert_eq "$1: drops vs ss skmem d" "$(field "$ours" 5)" "$(field "$theirs" 4)"
	nt_assert_eq "$1: inode vs ss ino" "$(field "$ours" 8)" "$(field "$theirs" 5)"
	nt_assert_eq "$1: cookie vs ss sk" "$(field "$ours" 9)" "$(field "$theirs" 6)"
	nt_assert_eq "$1: owner pid" "$(field "$ours" 6)" "$4"
}

# --- 1. accept queue full when the SYN arrives --------------------------------
N=20
nt_netns a
nt_bg a "$H/tcpserver" --port 9300 --backlog 4 --no-accept
srv=$NT_LAST_PID
nt_bg a "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 9301))
s.listen(7)
time.sleep(600)'
py=$NT_LAST_PID
nt_wait_port a 9300
nt_wait_port a 9301

# One connection at a time, so every handshake is complete before the next
# SYN (parallel SYNs could meet a queue that is not full yet and overflow at
# ACK time instead). A connect that gets no answer in 200 ms is closed, so
# its SYN is usually not retransmitted (the first SYN RTO is 1 s), and when
# the client returns no socket of it is left to send anything.
nt_exec a "$H/tcpclient" --addr 127.0.0.1 --port 9300 --count $N \
	--timeout-ms 200 >"$NT_TMP/a.json" || nt_fail "client failed"
ok=$(jq .ok "$NT_TMP/a.json")
nt_assert_eq "connections completed (the queue holds backlog + 1)" "$ok" 5
compare_with_ss "SYN-time overflow" a 9300 "$srv"
compare_with_ss "IPv6 listener" a 9301 "$py"
nt_assert_eq "IPv6 endpoint format" "$(field "$(listener a 9301)" 7)" "[::1]:9301"
nt_assert_eq "IPv6 limit = its backlog" "$(field "$(listener a 9301)" 4)" 7
nt_assert_eq "listeners in the namespace, ours vs ss" \
	"$("$H/listeners" "$(nt_ns_path a)" | wc -l)" "$(nt_exec a ss -Hltn | wc -l)"
[ "$(nt_exec a "$H/listeners")" = "$("$H/listeners" "$(nt_ns_path a)")" ] ||
	nt_fail "the helper run inside the namespace (nsfd -1) disagrees with nsfd = its path"
nt_log "ok: same listeners from inside the namespace (nsfd -1) and through its path"

drops=$(field "$(listener a 9300)" 5)
lo=$(nt_netstat a ListenOverflows)
ld=$(nt_netstat a ListenDrops)
syns=$(( N - ok + $(nt_netstat a TCPSynRetrans) ))
nt_log "SYN-time: sk_drops=$drops ListenOverflows=$lo ListenDrops=$ld SYNs to a full queue=$syns"
nt_assert_ge "drops" "$drops" 1
nt_assert_eq "SYN-time: sk_drops = ListenDrops" "$drops" "$ld"
nt_assert_eq "SYN-time: ListenOverflows = ListenDrops" "$lo" "$ld"
nt_assert_eq "SYN-time: sk_drops = SYNs the client sent to a full queue" "$drops" "$syns"

# --- 2. accept queue full when the final ACK (with data) arrives --------------
# The SYN queue limit is also the backlog (5 request sockets at most), and a
# full accept queue drops SYNs, so the order matters: B's 4 connections
# finish their handshakes first and stay request sockets (TCP_DEFER_ACCEPT
# drops their bare ACKs); A's 5 sequential connections with data then fill
# the accept queue without ever meeting it full at SYN time; B's data,
# arriving later, overflows at ACK time only. Syncookies off (in this
# namespace only) so that no connection bypasses the request-socket path.
nt_netns cli
nt_netns srv
nt_veth cli 10.78.0.1/24 srv 10.78.0.2/24
nt_exec srv sysctl -qw net.ipv4.tcp_syncookies=0 || nt_fail "cannot set tcp_syncookies in srv"
nt_bg srv "$H/tcpserver" --port 9400 --backlog 4 --no-accept --defer-accept 5
srv=$NT_LAST_PID
nt_wait_port srv 9400

nt_bg cli "$H/tcpclient" --addr 10.78.0.2 --port 9400 --count 4 --parallel \
	--send-after-ms 1000 --payload x --timeout-ms 2000 >"$NT_TMP/late.json"
late=$NT_LAST_PID
for _ in $(seq 100); do
	[ "$(nt_netstat srv TCPDeferAcceptDrop)" -ge 4 ] && break
	sleep 0.02
done
nt_assert_eq "B's bare ACKs deferred" "$(nt_netstat srv TCPDeferAcceptDrop)" 4
nt_exec cli "$H/tcpclient" --addr 10.78.0.2 --port 9400 --count 5 --payload x \
	>"$NT_TMP/early.json" || nt_fail "client A failed"
nt_assert_eq "A's connections" "$(jq .ok "$NT_TMP/early.json")" 5
nt_assert_eq "accept queue after A (full: backlog + 1)" "$(field "$(listener srv 9400)" 3)" 5
wait "$late" || nt_fail "client B failed"
# B's orphaned sockets keep retransmitting their data and FIN, each one a new
# overflow; cutting the link freezes every counter for an exact comparison.
sleep 1
for dev in $(ip -n "$(nt_ns cli)" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
	ip -n "$(nt_ns cli)" link set "$dev" down
done
sleep 0.3

compare_with_ss "ACK-time overflow" srv 9400 "$srv"
drops=$(field "$(listener srv 9400)" 5)
lo=$(nt_netstat srv ListenOverflows)
ld=$(nt_netstat srv ListenDrops)
dad=$(nt_netstat srv TCPDeferAcceptDrop)
nt_log "ACK-time: sk_drops=$drops ListenOverflows=$lo ListenDrops=$ld TCPDeferAcceptDrop=$dad"
nt_assert_eq "no SYN was refused for a full SYN queue" "$(nt_netstat srv TCPReqQFullDrop)" 0
nt_assert_eq "no syncookies" "$(nt_netstat srv SyncookiesSent)" 0
nt_assert_ge "ACK-time ListenOverflows" "$lo" 4
nt_assert_eq "ACK-time: ListenOverflows = ListenDrops" "$lo" "$ld"
nt_assert_eq "ACK-time: sk_drops = 2 * ListenOverflows + TCPDeferAcceptDrop" \
	"$drops" "$((2 * lo + dad))"
nt_pass
