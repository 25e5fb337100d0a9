#!/usr/bin/env bash
# Listener drops on every path, against the namespace's own counters:
#  1. accept queue full when the SYN arrives (no drop event exists): the
#     overflows nettune attributes to the listener = TcpExtListenOverflows;
#     the same with two SO_REUSEPORT sockets on the port: one listener row,
#     both sockets' overflows in it;
#  2. accept queue full when the final ACK arrives (TCP_DEFER_ACCEPT makes
#     the data segment the final ACK): same equality, all at ACK time;
#  3. SYN queue full with syncookies off (the client drops its own final
#     ACKs with nftables, so handshakes stay half-open): syn_queue_drops =
#     TcpExtTCPReqQFullDrop, and none of it is mistaken for an overflow;
#  4. a burst that fills the SYN queue first (syncookies on, the default):
#     SYN-cookie ACKs that find the accept queue full are ACK-time
#     overflows too, and the listener's total = TcpExtListenOverflows.
# Each case freezes its traffic before the final comparison.
# kfree_skb is traced as tp_btf where it has rx_sk (6.12+, this kernel);
# test_drops_fallback.sh runs all of this again on the classic tracepoint
# with probe reads (NT_DROPS_FALLBACK=1: the hidden --force-fallback).
source "$(dirname "$0")/lib.sh"
nt_setup "drops${NT_DROPS_FALLBACK:+-fallback}"
H=$NT_BUILD/tests/helpers
FALLBACK=() KFREE_PROG=drops_kfree_skb_btf
# Kernels whose kfree_skb has no rx_sk (before 6.12) get the classic
# tracepoint by default: doctor says so.
[[ $(nt_method drops) = *tp_btf* ]] || KFREE_PROG=drops_kfree_skb
[ -n "${NT_DROPS_FALLBACK:-}" ] && FALLBACK=(--force-fallback) KFREE_PROG=drops_kfree_skb
# Kernels without the TCP_LISTEN_OVERFLOW drop reason (6.1) cannot tell
# ACK-time overflows from SYN-time ones: doctor names that limit, and only
# the checks of the split are left out there; every total is still checked.
LIMIT=$(nt_limit drops | grep -o 'no TCP_LISTEN_OVERFLOW[^;]*')
[ -n "$LIMIT" ] && nt_log "doctor: drops: $LIMIT: SYN/ACK-time split not checked"
split() { [ -z "$LIMIT" ]; }

# trace_ns NS: start nettune on one namespace, JSON to $NT_TMP/NS.json
trace_ns() {
	"$NETTUNE" trace --json --netns "$(nt_ns_path "$1")" --probes accept,drops \
		"${FALLBACK[@]}" >"$NT_TMP/$1.json" 2>"$NT_TMP/$1.err" &
	TRACER=$!
	NT_PIDS+=("$TRACER")
	nt_wait_attached "$NT_TMP/$1.err"
	nt_assert_eq "$1: kfree_skb program" \
		"$(nt_prog_names "$TRACER" | tr , '\n' | grep kfree_skb)" "$KFREE_PROG"
}

stop_trace() { # NS: SIGINT and the final report in $OUT
	kill -INT "$TRACER"
	wait "$TRACER" || nt_fail "nettune failed: $(cat "$NT_TMP/$1.err")"
	OUT=$(tail -n 1 "$NT_TMP/$1.json")
}

cut_links() { # NS: freeze a namespace's traffic (orphans keep retransmitting)
	for dev in $(ip -n "$(nt_ns "$1")" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		ip -n "$(nt_ns "$1")" link set "$dev" down
	done
	sleep 0.3
}

listener() { jq -c ".listeners[] | select(.port == $1)" <<<"$OUT"; }

# --- 1. SYN time ---------------------------------------------------------
# syn_time NS PORT COUNT SERVER-ARGS...: a listener that never accepts, traced
# while COUNT connects come one at a time, each given up before the first SYN
# retransmit (a full queue meets exactly one SYN per refused connect). Then
# $lo is the namespace's ListenOverflows growth and $OUT the final report.
syn_time() {
	local ns=$1 port=$2 count=$3 lo0
	shift 3
	nt_netns "$ns"
	nt_bg "$ns" "$H/tcpserver" --port "$port" --no-accept "$@"
	nt_wait_port "$ns" "$port"
	trace_ns "$ns"
	lo0=$(nt_netstat "$ns" ListenOverflows)
	nt_exec "$ns" "$H/tcpclient" --addr 127.0.0.1 --port "$port" --count "$count" \
		--timeout-ms 200 >"$NT_TMP/$ns-client.json"
	sleep 0.2
	lo=$(( $(nt_netstat "$ns" ListenOverflows) - lo0 ))
	stop_trace "$ns"
}

syn_time a 9300 50 --backlog 4
row=$(listener 9300)
nt_log "SYN time: client $(cat "$NT_TMP/a-client.json"), ListenOverflows +$lo"
nt_assert_ge "SYN-time overflows happened" "$lo" 40
nt_assert_eq "SYN time: listener overflows = TcpExtListenOverflows" "$(jq .overflows.total <<<"$row")" "$lo"
split && nt_assert_eq "SYN time: all at SYN time" "$(jq .overflows.syn_time <<<"$row")" "$lo"
split && nt_assert_eq "SYN time: none at ACK time" "$(jq .overflows.ack_time <<<"$row")" 0
nt_assert_eq "SYN time: namespace total" "$(jq .drops.listen_overflows <<<"$OUT")" "$lo"
nt_assert_eq "SYN time: backlog limit" "$(jq .backlog_limit <<<"$row")" 4

# SO_REUSEPORT: the kernel spreads the connections over two sockets, which
# share an address and port, so events cannot tell them apart: one row.
syn_time rp 9301 60 --backlog 4 --reuseport 2
nt_assert_ge "SO_REUSEPORT: SYN-time overflows happened" "$lo" 40
nt_assert_eq "SO_REUSEPORT: one listener row" "$(jq '[.listeners[] | select(.port == 9301)] | length' \
	<<<"$OUT")" 1
nt_assert_eq "SO_REUSEPORT: listener overflows = TcpExtListenOverflows" \
	"$(jq .overflows.total <<<"$(listener 9301)")" "$lo"

# --- 2. ACK time ---------------------------------------------------------
# The SYN queue limit is the backlog too, so the order matters: B's 4
# handshakes finish first and stay request sockets (TCP_DEFER_ACCEPT drops
# their bare ACKs); A's 5 connections with data fill the accept queue
# without ever meeting it full at SYN time; B's data, arriving later,
# overflows at ACK time only. Syncookies off, in this namespace only, so no
# connection bypasses the request-socket path.
nt_netns cli
nt_netns srv
nt_veth cli 10.79.0.1/24 srv 10.79.0.2/24
nt_exec srv sysctl -qw net.ipv4.tcp_syncookies=0 || nt_fail "cannot set tcp_syncookies in srv"
nt_bg srv "$H/tcpserver" --port 9400 --backlog 4 --no-accept --defer-accept 5
nt_wait_port srv 9400
trace_ns srv
lo0=$(nt_netstat srv ListenOverflows)
nt_bg cli "$H/tcpclient" --addr 10.79.0.2 --port 9400 --count 4 --parallel \
	--send-after-ms 1000 --payload x --timeout-ms 2000 >/dev/null
late=$NT_LAST_PID
for _ in $(seq 100); do
	[ "$(nt_netstat srv TCPDeferAcceptDrop)" -ge 4 ] && break
	sleep 0.02
done
nt_exec cli "$H/tcpclient" --addr 10.79.0.2 --port 9400 --count 5 --payload x >/dev/null
wait "$late"
sleep 1
cut_links cli
lo=$(( $(nt_netstat srv ListenOverflows) - lo0 ))
stop_trace srv
row=$(listener 9400)
nt_assert_ge "ACK-time overflows happened" "$lo" 4
nt_assert_eq "ACK time: listener overflows = TcpExtListenOverflows" "$(jq .overflows.total <<<"$row")" "$lo"
split && nt_assert_eq "ACK time: all at ACK time" "$(jq .overflows.ack_time <<<"$row")" "$lo"
split && nt_assert_eq "ACK time: none at SYN time" "$(jq .overflows.syn_time <<<"$row")" 0
split && nt_assert_eq "ACK time: TCP_LISTEN_OVERFLOW drops by reason" \
	"$(jq '.drops.by_reason.TCP_LISTEN_OVERFLOW' <<<"$OUT")" "$lo"

# --- 3. SYN queue full, syncookies off -----------------------------------
nt_netns c2
nt_netns s2
nt_veth c2 10.80.0.1/24 s2 10.80.0.2/24
nt_exec s2 sysctl -qw net.ipv4.tcp_syncookies=0 || nt_fail "cannot set tcp_syncookies in s2"
nt_bg s2 "$H/tcpserver" --port 9500 --backlog 4 --no-accept
nt_wait_port s2 9500
# The client drops its own final ACKs: every handshake stays half-open on
# the server, filling the SYN queue.
nt_exec c2 nft -f - <<'NFT' || nt_skip "nftables cannot load rules here"
table inet nettune_test {
	chain out {
		type filter hook output priority 0;
		tcp dport 9500 tcp flags & (syn | ack) == ack drop
	}
}
NFT
trace_ns s2
rq0=$(nt_netstat s2 TCPReqQFullDrop)
lo0=$(nt_netstat s2 ListenOverflows)
nt_exec c2 "$H/tcpclient" --addr 10.80.0.2 --port 9500 --count 30 --parallel --timeout-ms 300 >/dev/null
sleep 0.2
cut_links c2
rq=$(( $(nt_netstat s2 TCPReqQFullDrop) - rq0 ))
lo=$(( $(nt_netstat s2 ListenOverflows) - lo0 ))
stop_trace s2
nt_assert_ge "SYN-queue drops happened" "$rq" 10
nt_assert_eq "syn_queue_drops = TcpExtTCPReqQFullDrop" "$(jq .drops.syn_queue_drops <<<"$OUT")" "$rq"
row=$(listener 9500)
nt_assert_eq "SYN-queue drops are not overflows (ListenOverflows +$lo)" \
	"$(jq '.overflows.total' <<<"$row")" "$lo"

# --- 4. SYN cookies under a burst ----------------------------------------
nt_netns k
nt_bg k "$H/tcpserver" --port 9600 --backlog 16 --accept-every-ms 20
nt_wait_port k 9600
trace_ns k
lo0=$(nt_netstat k ListenOverflows)
ck0=$(nt_netstat k SyncookiesRecv)
nt_exec k "$H/tcpclient" --addr 127.0.0.1 --port 9600 --count 300 --parallel --timeout-ms 2000 >/dev/null
sleep 1	# the clients are gone: nothing more can overflow
lo=$(( $(nt_netstat k ListenOverflows) - lo0 ))
ck=$(( $(nt_netstat k SyncookiesRecv) - ck0 ))
stop_trace k
row=$(listener 9600)
nt_log "cookies: SyncookiesRecv +$ck, ListenOverflows +$lo, listener $(jq -c .overflows <<<"$row")"
nt_assert_ge "SYN-cookie ACKs received" "$ck" 10
split && nt_assert_ge "cookie-path overflows seen" "$(jq .overflows.ack_time_syncookie <<<"$row")" 1
nt_assert_eq "cookies: listener overflows = TcpExtListenOverflows" "$(jq .overflows.total <<<"$row")" "$lo"
nt_pass
