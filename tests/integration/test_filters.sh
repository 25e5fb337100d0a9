#!/usr/bin/env bash
# In-kernel filters and clean exit:
#  - -p PID keeps one server's accepts and listener and excludes a second,
#    unrelated server's traffic in the same namespace;
#  - with -p, 10,000 accepts by the other server lose nothing (their
#    queue clocks are stopped, not left to fill the table);
#  - --port does the same by port, for accepts and for connects;
#  - after SIGTERM the final report is printed and every BPF program the
#    tracer loaded is gone (checked by id with bpftool);
#  - the hidden --empty-programs (make bench's floor) attaches the same
#    programs, empty, and counts nothing.
source "$(dirname "$0")/lib.sh"
nt_setup filters
H=$NT_BUILD/tests/helpers
command -v bpftool >/dev/null || nt_skip "bpftool is not installed"

nt_netns f
nt_bg f "$H/tcpserver" --port 9601
srv_a=$NT_LAST_PID
nt_bg f "$H/tcpserver" --port 9602
nt_wait_port f 9601
nt_wait_port f 9602

run_traced() { # NAME ARGS...: trace with ARGS while 10 clients hit A and 7 hit B
	local name=$1; shift
	"$NETTUNE" trace --json --netns "$(nt_ns_path f)" "$@" >"$NT_TMP/$name.json" 2>"$NT_TMP/$name.err" &
	TRACER=$!
	NT_PIDS+=("$TRACER")
	nt_wait_attached "$NT_TMP/$name.err"
	nt_exec f "$H/tcpclient" --addr 127.0.0.1 --port 9601 --count 10 >/dev/null
	nt_exec f "$H/tcpclient" --addr 127.0.0.1 --port 9602 --count 7 >/dev/null
}

stop() { # NAME SIGNAL
	kill "-$2" "$TRACER"
	wait "$TRACER" || nt_fail "$1: nettune exited with an error: $(cat "$NT_TMP/$1.err")"
	OUT=$(tail -n 1 "$NT_TMP/$1.json")
	[ "$(jq -r .type <<<"$OUT")" = total ] || nt_fail "$1: no final report after SIG$2"
}

run_traced pid -p "$srv_a"
stop pid INT
nt_assert_eq "-p: accepts of server A only" "$(jq .accept_wait.count <<<"$OUT")" 10
nt_assert_eq "-p: listeners shown" "$(jq -c '[.listeners[].port]' <<<"$OUT")" "[9601]"
# The clients are other processes: -p excludes their connects.
nt_assert_eq "-p: connects of other processes" "$(jq .connect.count <<<"$OUT")" 0

# Accepts of processes outside -p still stop their children's clocks: 10,000
# accepts by server B must not fill the accept family's stamp table, which
# would push out clocks and count them as lost.
"$NETTUNE" trace --json --netns "$(nt_ns_path f)" --probes accept -p "$srv_a" \
	>"$NT_TMP/busy.json" 2>"$NT_TMP/busy.err" &
TRACER=$!
NT_PIDS+=("$TRACER")
nt_wait_attached "$NT_TMP/busy.err"
nt_exec f "$H/tcpclient" --addr 127.0.0.1 --port 9602 --count 10000 >/dev/null
nt_exec f "$H/tcpclient" --addr 127.0.0.1 --port 9601 --count 10 >/dev/null
sleep 0.2
# Runs the kernel skipped (a softirq's state change nested in a process
# context one on the same CPU) are lost events too, of another cause.
skipped=$(nt_progs "$(nt_prog_ids "$TRACER")" | jq '[.[].recursion_misses // 0] | add')
stop busy INT
nt_assert_eq "-p, a busy other server: accepts of server A" "$(jq .accept_wait.count <<<"$OUT")" 10
nt_log "-p, a busy other server: runs the kernel skipped: $skipped"
nt_assert_eq "-p, a busy other server: lost events, less skipped runs" \
	"$(( $(jq .lost_events <<<"$OUT") - skipped ))" 0

run_traced port --port 9602
# The programs the tracer holds, by id, from its descriptors' fdinfo.
ids=$(nt_prog_ids "$TRACER")
[ "$ids" != "[]" ] || nt_fail "the tracer (pid $TRACER) holds no BPF program"
nt_log "tracer's programs: $ids"
stop port TERM
nt_assert_eq "--port: accepts on 9602 only" "$(jq .accept_wait.count <<<"$OUT")" 7
nt_assert_eq "--port: connects to 9602 only" "$(jq .connect.count <<<"$OUT")" 7
nt_assert_eq "--port: listeners shown" "$(jq -c '[.listeners[].port]' <<<"$OUT")" "[9602]"
left=$(nt_progs "$ids")
nt_assert_eq "programs left after SIGTERM" "$left" "[]"

# The floor make bench compares with (the hidden --empty-programs): the
# same programs attach as without it, each reduced to a few instructions,
# and the traffic that a plain run counts leaves every count at 0.
run_traced plain
plain_progs=$(nt_prog_names "$TRACER")
stop plain INT
nt_assert_eq "no filter: accepts of both servers" "$(jq .accept_wait.count <<<"$OUT")" 17
nt_assert_eq "no filter: connects to both servers" "$(jq .connect.count <<<"$OUT")" 17
run_traced floor --empty-programs
nt_assert_eq "--empty-programs: the programs attached" "$(nt_prog_names "$TRACER")" "$plain_progs"
sizes=$(nt_progs "$(nt_prog_ids "$TRACER")" | jq -c '[.[].bytes_xlated] | [min, max]')
nt_log "--empty-programs: translated sizes [min, max] in bytes: $sizes"
[ "$(jq '.[1] <= 96' <<<"$sizes")" = true ] ||
	nt_fail "--empty-programs: a program has more than 12 instructions: $sizes"
stop floor INT
grep -q -- "--empty-programs: the programs return" "$NT_TMP/floor.err" ||
	nt_fail "--empty-programs: no warning on stderr: $(cat "$NT_TMP/floor.err")"
nt_assert_eq "--empty-programs: accepts" "$(jq .accept_wait.count <<<"$OUT")" 0
nt_assert_eq "--empty-programs: connects" "$(jq .connect.count <<<"$OUT")" 0
nt_assert_eq "--empty-programs: listeners" "$(jq -c '.listeners | length' <<<"$OUT")" 0
nt_pass
