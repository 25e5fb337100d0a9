#!/usr/bin/env bash
# make demo: nettune's main job on a built-in workload, on this machine,
# touching nothing outside private network namespaces it creates.
# A client namespace connects to a server namespace through a link that
# tools/netdelay delays 10 ms each way (this kernel may have no netem), and
# nettune traces the client namespace and reports connect latency.
set -u
NT_TEST=demo
source "$(dirname "$0")/../tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "make demo: needs root (BPF and network namespaces)" >&2; exit 1; }
nt_setup demo
CONNECTS=${DEMO_CONNECTS:-200}

echo "demo: two private network namespaces joined by a link delayed 10 ms each way"
nt_netns client
nt_netns server
nt_delayed_link client 10.88.0.1/24 server 10.88.0.2/24 10 2>/dev/null
nt_bg server "$NT_BUILD/tests/helpers/tcpserver" --port 8080 >/dev/null
nt_wait_port server 8080
echo "demo: ping RTT over the link: $(nt_ping_rtt client 10.88.0.2 5) ms"

echo "demo: nettune trace --netns $(nt_ns_path client)"
"$NETTUNE" trace --netns "$(nt_ns_path client)" >"$NT_TMP/report" 2>"$NT_TMP/err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/err"
echo "demo: $CONNECTS connects to the server, then 10 to a closed port"
nt_exec client "$NT_BUILD/tests/helpers/tcpclient" --addr 10.88.0.2 --port 8080 \
	--count "$CONNECTS" --parallel >/dev/null
nt_exec client "$NT_BUILD/tests/helpers/tcpclient" --addr 10.88.0.2 --port 8081 \
	--count 10 >/dev/null
kill -INT "$tracer"
wait "$tracer"
echo
cat "$NT_TMP/report"
echo "demo: connect p50 should be the link's RTT (~20 ms); the 10 refused connects are counted."
exit 0
