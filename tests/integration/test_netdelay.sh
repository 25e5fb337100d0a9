#!/usr/bin/env bash
# netdelay, the user-space delay/loss link the other integration tests stand
# on (this kernel has no netem). Checked against independent truth: ping's
# RTT and loss, a TCP client's own connect timing and byte-for-byte compare
# of an echoed transfer, and exit codes and stderr of bad invocations.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nt_setup netdelay
for c in ping python3; do
	command -v "$c" >/dev/null || nt_skip "$c is not installed"
done
ND=$NT_BUILD/netdelay

# ping_median NS ADDR COUNT: the median of ping's own per-reply RTTs in ms.
# The median, unlike ping's average, is not moved by one reply that waited
# behind unrelated work on a busy 2-core machine.
ping_median() {
	nt_exec "$1" ping -n -c "$3" -i 0.2 "$2" |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
DELAY=20	# ms each way
PORT=5201
BYTES=$((4 << 20))

# --- 1. ping RTT is twice the delay -----------------------------------------
nt_netns a
nt_netns b
nt_delayed_link a 10.77.0.1/24 b 10.77.0.2/24 "$DELAY"
# The first ping also resolves ARP, which would add one round trip.
nt_exec a ping -q -n -c 2 -i 0.2 -W 2 10.77.0.2 >/dev/null || nt_fail "no ping across the link"
rtt=$(ping_median a 10.77.0.2 21)
nt_assert_near "ping RTT over a $DELAY ms link, median of 21 (ms)" "$rtt" $((2 * DELAY)) 5 1

# --- 2. TCP across the link: handshake time and an echoed transfer -----------
cat >"$NT_TMP/echo_server.py" <<'EOF'
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(16)
while True:
    c, _ = l.accept()
    buf = bytearray()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            buf += b
        c.sendall(buf)
    except OSError:
        pass
    c.close()
EOF
cat >"$NT_TMP/echo_client.py" <<'EOF'
import os, socket, statistics, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
for _ in range(5):
    s = socket.socket()
    t = time.monotonic()
    s.connect((host, port))
    times.append((time.monotonic() - t) * 1000)
    s.close()
data = os.urandom(n)
s = socket.create_connection((host, port))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("%.3f %d %d" % (statistics.median(times), len(got), got == data))
EOF
nt_bg b python3 "$NT_TMP/echo_server.py" 10.77.0.2 "$PORT"
nt_wait_port b "$PORT"
out=$(nt_exec a timeout 60 python3 "$NT_TMP/echo_client.py" 10.77.0.2 "$PORT" "$BYTES") ||
	nt_fail "TCP client failed across the link"
read -r connect_ms echoed same <<<"$out"
nt_assert_near "TCP connect time, median of 5 (ms)" "$connect_ms" $((2 * DELAY)) 5 1
nt_assert_near "TCP connect time vs ping RTT (ms)" "$connect_ms" "$rtt" 5 0.5
nt_assert_eq "bytes echoed back over TCP" "$echoed" "$BYTES"
nt_assert_eq "echoed bytes equal the sent bytes" "$same" 1

# --- 3. loss: 50% each way loses 1 - 0.5 * 0.5 = 75% of round trips ----------
nt_netns c
nt_netns d
nt_delayed_link c 10.78.0.1/24 d 10.78.0.2/24 1 50
# Lost ARP frames would fail pings for reasons other than the coin: pin the
# neighbours so every ping is exactly one request and one reply frame.
mac_c=$(nt_exec c cat /sys/class/net/da/address)
mac_d=$(nt_exec d cat /sys/class/net/db/address)
nt_exec c ip neigh replace 10.78.0.2 lladdr "$mac_d" dev da nud permanent
nt_exec d ip neigh replace 10.78.0.1 lladdr "$mac_c" dev db nud permanent
n=400
lost=$(nt_exec c ping -q -n -c "$n" -i 0.01 -W 1 10.78.0.2 |
	awk '/packet loss/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) { sub(/%/, "", $i); print $i } }')
# Binomial: sd = sqrt(0.75 * 0.25 / 400) = 2.2 points; 10 points is > 4 sd.
nt_assert_near "ping loss over $n pings with 50% loss each way (%)" "$lost" 75 0 10

# --- 4. bad input: exit 2 and exactly one line on stderr ---------------------
check_usage() { # DESC ARGS...
	local desc=$1 rc lines; shift
	nt_exec a "$ND" "$@" >"$NT_TMP/usage.out" 2>"$NT_TMP/usage.err"
	rc=$?
	lines=$(wc -l <"$NT_TMP/usage.err")
	nt_assert_eq "$desc: exit code" "$rc" 2
	nt_assert_eq "$desc: stderr lines ($(head -c 80 "$NT_TMP/usage.err"))" "$lines" 1
	nt_assert_eq "$desc: stdout bytes" "$(wc -c <"$NT_TMP/usage.out")" 0
}
check_usage "bad number" --dev-a da --dev-b lo --delay-ms 2O
check_usage "negative delay" --dev-a da --dev-b lo --delay-ms -1
check_usage "loss over 100" --dev-a da --dev-b lo --delay-ms 1 --loss 101
check_usage "unknown interface" --dev-a da --dev-b nosuch0 --delay-ms 1
check_usage "same interface twice" --dev-a da --dev-b da --delay-ms 1
check_usage "unknown flag" --dev-a da --dev-b lo --delay-ms 1 --jitter 5
check_usage "missing --dev-b" --dev-a da --delay-ms 1

# --- 5. SIGTERM: exit 0, counts on stderr, ready file removed ----------------
nt_netns e
# Two pairs, not one: bridging the two ends of one veth pair would circle
# every frame back to the relay.
for i in 1 2; do
	ip -n "$(nt_ns e)" link add "x$i" type veth peer name "y$i" || nt_fail "veth in e"
	ip -n "$(nt_ns e)" link set "x$i" up && ip -n "$(nt_ns e)" link set "y$i" up
done
ready=$NT_TMP/e.ready
# Not through nt_exec: a backgrounded function is a subshell, and the signal
# must reach netdelay itself (ip netns exec execs it in place).
ip netns exec "$(nt_ns e)" "$ND" --dev-a x1 --dev-b x2 --delay-ms 0 --ready-file "$ready" \
	2>"$NT_TMP/e.err" &
pid=$!
NT_PIDS+=("$pid")
for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
[ -e "$ready" ] || nt_fail "netdelay in e did not become ready: $(cat "$NT_TMP/e.err")"
kill -TERM "$pid"
wait "$pid"
nt_assert_eq "exit code after SIGTERM" "$?" 0
nt_assert_eq "per-direction count lines" "$(grep -c ' forwarded, ' "$NT_TMP/e.err")" 2
nt_assert_eq "bridging line" "$(grep -c '^netdelay: bridging x1 <-> x2, delay 0 ms each way, loss 0%$' \
	"$NT_TMP/e.err")" 1
nt_assert_eq "ready file removed on exit" "$([ -e "$ready" ] && echo present || echo gone)" gone

nt_pass
