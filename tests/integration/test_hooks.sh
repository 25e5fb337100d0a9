#!/usr/bin/env bash
# One BPF program per hook point (docs/probes.md, "One program per hook"):
# whatever families run, and on either method, each hook nettune attaches
# to holds exactly one of its programs, as the kernel lists its
# attachments (bpftool perf). connect and accept share
# sock:inet_sock_set_state through sock_state; with both on, each family
# still counts exactly the connections the clients made (their own counts
# are the truth), with the clients pinned to one CPU and then the other so
# that both CPUs' rows are merged.
source "$(dirname "$0")/lib.sh"
nt_setup hooks
command -v bpftool >/dev/null || nt_skip "bpftool is not installed"

PORT=9400
N=60
nt_netns srv
nt_exec srv ip link set lo up
nt_bg srv "$NT_BUILD/tests/helpers/tcpserver" --port $PORT
nt_wait_port srv $PORT

# hooks PID: "hook=programs" per hook the process holds, sorted.
hooks() {
	bpftool perf show -j | jq -r --argjson pid "$1" \
		'[.[] | select(.pid == $pid)] | group_by(.tracepoint)[] |
		 "\(.[0].tracepoint)=\(length)"' | sort
}

start() { # NAME ARGS...: a tracer of the test namespace, attached
	local name=$1
	shift
	"$NETTUNE" trace --json --netns "$(nt_ns_path srv)" "$@" >"$NT_TMP/$name.json" \
		2>"$NT_TMP/$name.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	nt_wait_attached "$NT_TMP/$name.err"
}

stop() { # NAME
	kill -INT "$tracer"
	wait "$tracer" || nt_fail "$1: nettune exited with $? after SIGINT: $(cat "$NT_TMP/$1.err")"
}

check_one_per_hook() { # NAME WANT-STATE-HOOK(0|1)
	local h
	h=$(hooks "$tracer")
	[ -n "$h" ] || nt_fail "$1: the tracer holds no attachment"
	nt_log "$1: $(tr '\n' ' ' <<<"$h")"
	nt_assert_eq "$1: hooks with more than one nettune program" \
		"$(grep -cv '=1$' <<<"$h")" 0
	nt_assert_eq "$1: programs at inet_sock_set_state" \
		"$(grep -c '^inet_sock_set_state=' <<<"$h")" "$2"
}

combos=(
	"default|"
	"connect|--probes connect"
	"accept|--probes accept"
	"connect-accept|--probes connect,accept"
	"fallback|--force-fallback"
	"read-syscall|--probes read --read-syscall"
	"drops|--probes drops"
)
for c in "${combos[@]}"; do
	name=${c%%|*}
	read -ra args <<<"${c#*|}"
	start "$name" "${args[@]}"
	want=1
	[[ $name = read-syscall || $name = drops ]] && want=0
	check_one_per_hook "$name" $want
	stop "$name"
done

# Both halves of the shared program, on both CPUs.
start both --probes connect,accept
names=$(nt_prog_names "$tracer")
nt_assert_eq "programs of connect and accept" \
	"$(tr , '\n' <<<"$names" | grep -c '^sock_state$')" 1
ok=0
for cpu in 0 1; do
	nt_exec srv taskset -c $cpu "$NT_BUILD/tests/helpers/tcpclient" --addr 127.0.0.1 \
		--port $PORT --count $((N / 2)) >"$NT_TMP/client$cpu.json" || nt_fail "client failed"
	ok=$((ok + $(jq .ok "$NT_TMP/client$cpu.json")))
done
nt_assert_eq "the clients' own successful connects" $ok $N
sleep 0.3	# the server's last accepts
stop both
out=$(tail -n 1 "$NT_TMP/both.json")
nt_assert_eq "connect count, shared program" "$(jq .connect.count <<<"$out")" $N
nt_assert_eq "accept count, shared program" "$(jq .accept.count <<<"$out")" $N
nt_assert_eq "lost events" "$(jq .lost_events <<<"$out")" 0
nt_pass
