#!/usr/bin/env bash
# A namespace's inode number is reused once the namespace is gone. nettune
# keys its per-namespace counters (TcpExt ListenOverflows...) by inode, so
# a namespace that dies and another that takes its number must not be
# subtracted from each other: namespace A overflows its listener 30 times
# before nettune starts, dies; B gets A's inode and overflows 5 times.
# Every interval report must stay small (a subtraction across them wraps
# to ~1.8e19), and the final total for the inode must be B's own counter.
source "$(dirname "$0")/lib.sh"
nt_setup netns_reuse
H=$NT_BUILD/tests/helpers

overflow() { # NS COUNT: COUNT SYNs meet a full accept queue, one at a time
	nt_bg "$1" "$H/tcpserver" --port 9400 --backlog 1 --no-accept >/dev/null
	SERVER=$NT_LAST_PID
	nt_wait_port "$1" 9400
	nt_exec "$1" "$H/tcpclient" --addr 127.0.0.1 --port 9400 --count "$2" --timeout-ms 200 \
		>/dev/null
}

nt_netns a
ino=$(stat -L -c %i "$(nt_ns_path a)")
overflow a 30
before=$(nt_netstat a ListenOverflows)
nt_assert_ge "A's overflows before nettune" "$before" 20

"$NETTUNE" trace --json -i 1 --probes drops >"$NT_TMP/out.json" 2>"$NT_TMP/err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/err"
sleep 1.2	# a report with A in it

kill -TERM "$SERVER"
wait "$SERVER"
ip netns del "$(nt_ns a)"
sleep 1.5	# the namespace is freed, and a report without it
nt_netns b
[ "$(stat -L -c %i "$(nt_ns_path b)")" = "$ino" ] ||
	nt_skip "the kernel gave the new namespace another inode: nothing to test here"
overflow b 5
after=$(nt_netstat b ListenOverflows)
nt_assert_ge "B's own overflows" "$after" 1
nt_assert_le "B's own overflows" "$after" 10
sleep 1.5	# a report with B in it
kill -INT "$tracer"
wait "$tracer" || nt_fail "nettune failed: $(cat "$NT_TMP/err")"

per_ns() { # TYPE: the inode's ListenOverflows in every report of that type
	jq -r --arg t "$1" --argjson ino "$ino" \
		'select(.type == $t) | .drops.namespaces[]? | select(.netns == $ino) | .ListenOverflows' \
		"$NT_TMP/out.json"
}
intervals=$(per_ns interval | sort -n | tail -n 1)
nt_assert_ge "reports naming the inode" "$(per_ns interval | wc -l)" 2
nt_assert_le "largest interval value for the inode (no wrap)" "$intervals" 30
nt_assert_eq "total for the inode: B's own counter" "$(per_ns total)" "$after"
nt_pass
