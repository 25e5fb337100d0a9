#!/usr/bin/env bash
# Cgroup attribution and --cgroup (docs/containers.md). Two servers in one
# namespace, each in a cgroup of its own (A's one level deeper, below a
# slice), and a client for each, in a cgroup of its own as well, reaching the
# servers from another namespace through a delayed link: the SYN-ACK is held
# 3 ms by tools/netdelay, so each connect completes in softirq while the
# client sleeps in connect() and some other task (netdelay, ksoftirqd, the
# idle task) is current. The connect's cgroup is read when the socket enters
# SYN_SENT, in the client's own context, so what the delay proves is that
# the row written at completion keeps that cgroup rather than taking the
# softirq's current task's; it cannot tell the socket's cgroup from the
# client's, which are the same. Section 7 tells them apart: a server moved
# to another cgroup after listening. The clients run at the same time,
# pinned to different CPUs.
#
# Truths: the clients' own counts of successful connects (each sends one
# byte, which the server reads: one read_wait each), the cgroups the
# test created (and their names, built like systemd units), the ports.
#  1. no filter: each listener, accept, read and connect row names its own
#     cgroup and has its own count;
#  2. --cgroup A (the slice, by its path from the cgroup2 root): only A's
#     listener, accepts, reads and connects, every count A's own, through a
#     descendant of A;
#  3. --cgroup B (its full path on the mount): only B's;
#  4. serve --cgroup A: listener A's series with its cgroup label, none of B's;
#  5. no cgroup2 mount (a private mount namespace): doctor says so, rows have
#     no cgroup, counts are intact, --cgroup is refused;
#  6. in a cgroup namespace with cgroup2 mounted inside (as in a container):
#     --cgroup / and --cgroup of the client's cgroup by the namespace's path
#     keep every connect of the client (its own count), named by that path;
#  7. a server moved from cgroup X to Y after it listens: the listener, its
#     accepts and reads name X (the sockets' cgroup), not Y (the task's),
#     and --cgroup Y keeps none of them;
#  8. a --cgroup removed and created again while trace runs: its connects
#     before and after are counted, and each change is said once;
#  9. bad input: no such cgroup, and a directory that is not cgroup v2, get
#     one line and exit 2.
source "$(dirname "$0")/lib.sh"
nt_setup cgroup

MNT=$(nt_cgroup2_mount)
[ -n "$MNT" ] || nt_skip "cgroup v2 is not mounted"
command -v taskset >/dev/null || nt_skip "taskset is not installed"
CPUS=$(nproc)
NA=30 NB=45 PA=9411 PB=9412 SRV=10.82.0.2

nt_cgroup top "nettune-test-$NT_ID"
nt_cgroup sliceA "nettune-test-$NT_ID/ntA.slice"
nt_cgroup srvA "nettune-test-$NT_ID/ntA.slice/ntsrv-a.service"
nt_cgroup cliA "nettune-test-$NT_ID/ntA.slice/ntcli-a.scope"
nt_cgroup srvB "nettune-test-$NT_ID/ntsrv-b.service"
nt_cgroup cliB "nettune-test-$NT_ID/ntcli-b.scope"
# Every exit path removes them (nt_cleanup); the end of the test checks that
# none is left after a passing run.
rel() { printf '%s' "${1#"$MNT"}"; }	# a cgroup's path from the cgroup2 root

nt_netns srv
nt_netns cli
nt_delayed_link cli 10.82.0.1/24 srv $SRV/24 3
nt_bg_cgroup "$srvA" srv "$NT_BUILD/tests/helpers/tcpserver" --port $PA --block-read
serverA=$NT_LAST_PID
nt_bg_cgroup "$srvB" srv "$NT_BUILD/tests/helpers/tcpserver" --port $PB --block-read
serverB=$NT_LAST_PID
nt_wait_port srv $PA
nt_wait_port srv $PB
nt_assert_eq "server A's cgroup" "$(grep '^0::' /proc/$serverA/cgroup)" "0::$(rel "$srvA")"

# run NAME ARGS...: trace while both clients connect; the last report in
# $NT_TMP/NAME.json (and as text in NAME.txt), the clients' pids in cA, cB.
run() {
	local name=$1 tracer text; shift
	"$NETTUNE" trace --json --probes connect,accept,drops,read "$@" \
		>"$NT_TMP/$name.json" 2>"$NT_TMP/$name.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	"$NETTUNE" trace --probes connect,accept,drops,read "$@" \
		>"$NT_TMP/$name.txt" 2>"$NT_TMP/$name-text.err" &
	text=$!
	NT_PIDS+=("$text")
	nt_wait_attached "$NT_TMP/$name.err"
	nt_wait_attached "$NT_TMP/$name-text.err"
	clients "$name"
	kill -INT "$tracer" "$text"
	wait "$tracer" || nt_fail "$name: nettune failed: $(cat "$NT_TMP/$name.err")"
	wait "$text" || nt_fail "$name: nettune failed: $(cat "$NT_TMP/$name-text.err")"
	out=$(tail -n 1 "$NT_TMP/$name.json")
}

# clients NAME: both clients at once, A's on the first CPU and B's on the
# last; their pids in cA and cB; back once the servers have served them.
clients() {
	local name=$1
	nt_bg_cgroup "$cliA" cli taskset -c 0 "$NT_BUILD/tests/helpers/tcpclient" \
		--addr $SRV --port $PA --count $NA --payload x >"$NT_TMP/$name-a.json"
	cA=$NT_LAST_PID
	nt_bg_cgroup "$cliB" cli taskset -c $((CPUS - 1)) "$NT_BUILD/tests/helpers/tcpclient" \
		--addr $SRV --port $PB --count $NB --payload x >"$NT_TMP/$name-b.json"
	cB=$NT_LAST_PID
	wait "$cA" || nt_fail "$name: client A failed"
	wait "$cB" || nt_fail "$name: client B failed"
	nt_assert_eq "$name: client A's own successful connects" \
		"$(jq .ok "$NT_TMP/$name-a.json")" $NA
	nt_assert_eq "$name: client B's own successful connects" \
		"$(jq .ok "$NT_TMP/$name-b.json")" $NB
	nt_wait_served srv $PA
	nt_wait_served srv $PB
}

# q JQ: a value from the last report.
q() { jq -c "$1" <<<"$out"; }

# listener PORT FIELD
listener() { q "[.listeners[] | select(.port == $1)][0].$2 // null"; }
# by_pid FAMILY PID FIELD: the family's by-process row of PID.
by_pid() { q "[.$1.by_pid[] | select(.pid == $2)][0].$3 // null"; }

# --- 1. no filter: every row names its own cgroup --------------------------
run all --netns "$(nt_ns_path srv)"
nt_assert_eq "listener A's cgroup" "$(listener $PA cgroup)" "\"$(rel "$srvA")\""
nt_assert_eq "listener A's cgroup name" "$(listener $PA cgroup_name)" '"ntsrv-a.service"'
nt_assert_eq "listener A's accepts" "$(listener $PA accepted)" $NA
nt_assert_eq "listener B's cgroup" "$(listener $PB cgroup)" "\"$(rel "$srvB")\""
nt_assert_eq "listener B's cgroup name" "$(listener $PB cgroup_name)" '"ntsrv-b.service"'
nt_assert_eq "listener B's accepts" "$(listener $PB accepted)" $NB
nt_assert_eq "accepts by server A: cgroup" "$(by_pid accept $serverA cgroup)" "\"$(rel "$srvA")\""
nt_assert_eq "accepts by server A: count" "$(by_pid accept $serverA latency.count)" $NA
nt_assert_eq "accepts by server B: cgroup" "$(by_pid accept $serverB cgroup)" "\"$(rel "$srvB")\""
nt_assert_eq "accepts by server B: count" "$(by_pid accept $serverB latency.count)" $NB
nt_assert_eq "accept rows: the two servers'" "$(q '.accept.count')" $((NA + NB))
# Each connection's one-byte payload waits once for the server's read.
nt_log "lost events: $(q .lost_events)"
nt_assert_eq "reads by server A: cgroup" "$(by_pid read.wait $serverA cgroup)" "\"$(rel "$srvA")\""
nt_assert_eq "reads by server A: count" "$(by_pid read.wait $serverA latency.count)" $NA
nt_assert_eq "reads by server B: cgroup" "$(by_pid read.wait $serverB cgroup)" "\"$(rel "$srvB")\""
nt_assert_eq "reads by server B: count" "$(by_pid read.wait $serverB latency.count)" $NB
# The text report shows them too: under each listener, and by process.
grep -qF "cgroup: ntsrv-a.service ($(rel "$srvA"))" "$NT_TMP/all.txt" ||
	nt_fail "no cgroup line for listener A in the text report: $(cat "$NT_TMP/all.txt")"
grep -qE "^ +$serverB +tcpserver .* ntsrv-b.service\$" "$NT_TMP/all.txt" ||
	nt_fail "no cgroup for server B's accepts in the text report: $(cat "$NT_TMP/all.txt")"
nt_log "ok: the text report names the listeners' and the servers' cgroups"

# The connects: their SYN-ACKs were processed in softirq, 3 ms after the SYN.
run connects --netns "$(nt_ns_path cli)"
nt_assert_eq "connects by client A: cgroup" "$(by_pid connect $cA cgroup)" "\"$(rel "$cliA")\""
nt_assert_eq "connects by client A: name" "$(by_pid connect $cA cgroup_name)" '"ntcli-a.scope"'
nt_assert_eq "connects by client A: count" "$(by_pid connect $cA latency.count)" $NA
nt_assert_eq "connects by client B: cgroup" "$(by_pid connect $cB cgroup)" "\"$(rel "$cliB")\""
nt_assert_eq "connects by client B: count" "$(by_pid connect $cB latency.count)" $NB
nt_assert_eq "connect rows: the two clients'" "$(q '.connect.count')" $((NA + NB))
nt_assert_ge "connect p50 (us): the link's 6 ms RTT" "$(q '.connect.p50_us')" 6000

# --- 2. --cgroup A: A's listener, accepts and connects only ----------------
# No --netns: the kernel filter alone keeps out every other socket on the host.
run onlyA --cgroup "$(rel "$sliceA")"
nt_assert_eq "A: listeners" "$(q '[.listeners[].port] | sort')" "[$PA]"
nt_assert_eq "A: listener A's accepts" "$(listener $PA accepted)" $NA
nt_assert_eq "A: accept count" "$(q '.accept.count')" $NA
nt_assert_eq "A: accepting processes" "$(q '[.accept.by_pid[].pid]')" "[$serverA]"
nt_assert_eq "A: reading processes" "$(q '[.read.wait.by_pid[].pid]')" "[$serverA]"
nt_assert_eq "A: read count" "$(q '.read.wait.count')" $NA
nt_assert_eq "A: connect count" "$(q '.connect.count')" $NA
nt_assert_eq "A: connecting processes" "$(q '[.connect.by_pid[].pid]')" "[$cA]"
nt_assert_eq "A: the connects' cgroup" "$(by_pid connect $cA cgroup)" "\"$(rel "$cliA")\""

# --- 3. --cgroup B, by its full path on the mount ---------------------------
run onlyB --cgroup "$srvB" --cgroup "$cliB"
nt_assert_eq "B: listeners" "$(q '[.listeners[].port] | sort')" "[$PB]"
nt_assert_eq "B: accept count" "$(q '.accept.count')" $NB
nt_assert_eq "B: accepting processes" "$(q '[.accept.by_pid[].pid]')" "[$serverB]"
nt_assert_eq "B: connect count" "$(q '.connect.count')" $NB

# --- 4. serve: the cgroup label, and --cgroup A -----------------------------
SP=$((20000 + $$ % 20000))
"$NETTUNE" serve --listen 127.0.0.1:$SP --textfile "$NT_TMP/metrics.prom" -i 1 \
	--probes accept,drops --cgroup "$(rel "$sliceA")" >/dev/null 2>"$NT_TMP/serve.err" &
serve=$!
NT_PIDS+=("$serve")
nt_wait_attached "$NT_TMP/serve.err"
clients serve
sleep 2.5	# the textfile is rewritten every second
metric() { # NAME LISTENER-PORT: the sample of that listener, its labels and value
	grep "^$1{listener=\"0.0.0.0:$2\"" "$NT_TMP/metrics.prom"
}
nt_assert_eq "serve: listener A's accept_wait count" \
	"$(metric nettune_accept_wait_seconds_count $PA)" \
	"nettune_accept_wait_seconds_count{listener=\"0.0.0.0:$PA\",netns=\"$(
	stat -L -c %i "$(nt_ns_path srv)")\",comm=\"tcpserver\",cgroup=\"$(rel "$srvA")\"} $NA"
nt_assert_eq "serve: no series for listener B" "$(metric nettune_listener_backlog_limit $PB)" ""
kill -TERM "$serve"
wait "$serve" || nt_fail "serve failed: $(cat "$NT_TMP/serve.err")"

# --- 5. no cgroup v2 mount: doctor says so, rows name no cgroup, all else works
# (in a private mount namespace whose cgroup2 mount is gone: the host keeps its)
NOMNT=(unshare -m --propagation private sh -c 'umount -l "$0" && exec "$@"' "$MNT")
nomnt() { "${NOMNT[@]}" "$@"; }
nt_assert_eq "doctor without cgroup2" "$(nomnt "$NETTUNE" doctor | grep '^cgroup v2')" \
	"cgroup v2     NOT MOUNTED: rows name no cgroup, --cgroup is refused (docs/containers.md)"
nt_assert_eq "doctor --json without cgroup2" "$(nomnt "$NETTUNE" doctor --json | jq .cgroup2)" null
# Not through the function: in the background it would be a subshell, and
# the tracer's pid must be $! (unshare and sh exec it).
"${NOMNT[@]}" "$NETTUNE" trace --json --probes accept,drops --netns "$(nt_ns_path srv)" \
	>"$NT_TMP/nomnt.json" 2>"$NT_TMP/nomnt.err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/nomnt.err"
clients nomnt
kill -INT "$tracer"
wait "$tracer" || nt_fail "nettune without cgroup2 failed: $(cat "$NT_TMP/nomnt.err")"
out=$(tail -n 1 "$NT_TMP/nomnt.json")
nt_assert_eq "no cgroup2: listener A's accepts" "$(listener $PA accepted)" $NA
nt_assert_eq "no cgroup2: listener A's cgroup" "$(listener $PA cgroup)" null
nt_assert_eq "no cgroup2: server B's accepts" "$(by_pid accept $serverB latency.count)" $NB
nt_assert_eq "no cgroup2: server B's cgroup" "$(by_pid accept $serverB cgroup)" null
rc=0
nomnt "$NETTUNE" trace -d 1 --cgroup "$(rel "$srvA")" 2>"$NT_TMP/bad.err" >/dev/null || rc=$?
nt_assert_eq "no cgroup2: --cgroup refused" "$rc: $(cat "$NT_TMP/bad.err")" \
	"2: nettune: --cgroup $(rel "$srvA"): cgroup v2 is not mounted on this host"

# --- 6. in a cgroup namespace: --cgroup by the namespace's paths -------------
# nettune runs in a cgroup namespace rooted at ntns.scope, with cgroup2
# mounted again inside (a private mount namespace), as in a container; the
# client runs in ntns.scope/ntcli-ns.scope. Inside, that cgroup is
# /ntcli-ns.scope, one level below the mount's root, but three below the
# real root, where the kernel counts levels: the filter must compare ids,
# not a depth user space computed.
nt_cgroup nsRoot "nettune-test-$NT_ID/ntns.scope"
nt_cgroup nsCli "nettune-test-$NT_ID/ntns.scope/ntcli-ns.scope"
cat >"$NT_TMP/incgns.sh" <<'EOF2'
#!/bin/sh
# incgns.sh CGROUP MNT CMD...: CMD in a cgroup namespace rooted at CGROUP,
# with cgroup2 mounted at MNT in a private mount namespace (the same pid).
cg=$1 mnt=$2
shift 2
echo $$ >"$cg/cgroup.procs" || exit 1
exec unshare -C -m --propagation private \
	sh -c 'umount -l "$0" && mount -t cgroup2 none "$0" && exec "$@"' "$mnt" "$@"
EOF2
chmod +x "$NT_TMP/incgns.sh"
NNS=12
for want in / /ntcli-ns.scope; do
	tag=cgns${want//[\/.-]/}
	"$NT_TMP/incgns.sh" "$nsRoot" "$MNT" "$NETTUNE" trace --json --probes connect \
		--cgroup "$want" >"$NT_TMP/$tag.json" 2>"$NT_TMP/$tag.err" &
	tracer=$!
	NT_PIDS+=("$tracer")
	nt_wait_attached "$NT_TMP/$tag.err"
	nt_bg_cgroup "$nsCli" cli "$NT_BUILD/tests/helpers/tcpclient" \
		--addr $SRV --port $PA --count $NNS --payload x >"$NT_TMP/$tag-cli.json"
	cN=$NT_LAST_PID
	wait "$cN" || nt_fail "$tag: the client failed"
	nt_assert_eq "$tag: the client's own successful connects" "$(jq .ok "$NT_TMP/$tag-cli.json")" $NNS
	nt_wait_served srv $PA
	kill -INT "$tracer"
	wait "$tracer" || nt_fail "$tag: nettune failed: $(cat "$NT_TMP/$tag.err")"
	out=$(tail -n 1 "$NT_TMP/$tag.json")
	nt_assert_eq "cgroup namespace, --cgroup $want: connects" "$(q '.connect.count')" $NNS
	nt_assert_eq "cgroup namespace, --cgroup $want: connecting processes" \
		"$(q '[.connect.by_pid[].pid]')" "[$cN]"
	nt_assert_eq "cgroup namespace, --cgroup $want: the client's cgroup, by the namespace's path" \
		"$(by_pid connect $cN cgroup)" '"/ntcli-ns.scope"'
done

# --- 7. a server moved to another cgroup after it listens --------------------
# Its listener, and the connections it accepts and reads, stay in the cgroup
# the listener was created in (X), while the server runs in Y: the rows name
# the socket's cgroup, not the current task's. The only case where the two
# differ in process context.
PM=9413 NM=20
nt_cgroup mvX "nettune-test-$NT_ID/ntmv-x.service"
nt_cgroup mvY "nettune-test-$NT_ID/ntmv-y.service"
nt_bg_cgroup "$mvX" srv "$NT_BUILD/tests/helpers/tcpserver" --port $PM --block-read
serverM=$NT_LAST_PID
nt_wait_port srv $PM
echo "$serverM" >"$mvY/cgroup.procs" || nt_fail "cannot move the server to $mvY"
nt_assert_eq "moved server's cgroup" "$(grep '^0::' /proc/$serverM/cgroup)" "0::$(rel "$mvY")"
"$NETTUNE" trace --json --probes accept,drops,read --netns "$(nt_ns_path srv)" \
	>"$NT_TMP/moved.json" 2>"$NT_TMP/moved.err" &
tracer=$!
NT_PIDS+=("$tracer")
"$NETTUNE" trace --json --probes accept,drops,read --cgroup "$(rel "$mvY")" \
	>"$NT_TMP/movedY.json" 2>"$NT_TMP/movedY.err" &
tracerY=$!
NT_PIDS+=("$tracerY")
nt_wait_attached "$NT_TMP/moved.err"
nt_wait_attached "$NT_TMP/movedY.err"
nt_bg_cgroup "$cliA" cli taskset -c $((CPUS - 1)) "$NT_BUILD/tests/helpers/tcpclient" \
	--addr $SRV --port $PM --count $NM --payload x >"$NT_TMP/moved-cli.json"
cM=$NT_LAST_PID
wait "$cM" || nt_fail "moved: the client failed"
nt_assert_eq "moved: the client's own successful connects" "$(jq .ok "$NT_TMP/moved-cli.json")" $NM
nt_wait_served srv $PM
kill -INT "$tracer" "$tracerY"
wait "$tracer" || nt_fail "moved: nettune failed: $(cat "$NT_TMP/moved.err")"
wait "$tracerY" || nt_fail "moved: nettune --cgroup Y failed: $(cat "$NT_TMP/movedY.err")"
out=$(tail -n 1 "$NT_TMP/moved.json")
nt_assert_eq "moved: the listener's cgroup (its own, X)" "$(listener $PM cgroup)" "\"$(rel "$mvX")\""
nt_assert_eq "moved: the listener's accepts" "$(listener $PM accepted)" $NM
nt_assert_eq "moved: accepts by the server: cgroup X" "$(by_pid accept $serverM cgroup)" \
	"\"$(rel "$mvX")\""
nt_assert_eq "moved: accepts by the server: count" "$(by_pid accept $serverM latency.count)" $NM
nt_assert_eq "moved: reads by the server: cgroup X" "$(by_pid read.wait $serverM cgroup)" \
	"\"$(rel "$mvX")\""
nt_assert_eq "moved: reads by the server: count" "$(by_pid read.wait $serverM latency.count)" $NM
out=$(tail -n 1 "$NT_TMP/movedY.json")
nt_assert_eq "moved, --cgroup Y: no listener" "$(q '[.listeners[].port]')" "[]"
nt_assert_eq "moved, --cgroup Y: no accept" "$(q '.accept.count')" 0
nt_assert_eq "moved, --cgroup Y: no read" "$(q '.read.wait.count')" 0

# --- 8. a wanted cgroup removed and created again (a restarted unit) --------
# The new cgroup has a new id at the same path: nettune must follow it
# (stat'ing the path every second while it sleeps), and say once that the
# cgroup was gone and once that it is back.
N1=5 N2=7
nt_cgroup re "nettune-test-$NT_ID/ntre.service"
recli() { # COUNT TAG: a client in the cgroup, COUNT connects, its own count checked
	nt_bg_cgroup "$re" cli "$NT_BUILD/tests/helpers/tcpclient" \
		--addr $SRV --port $PA --count "$1" --payload x >"$NT_TMP/re-$2.json"
	wait "$NT_LAST_PID" || nt_fail "recreated: client $2 failed"
	nt_assert_eq "recreated: client $2's own successful connects" "$(jq .ok "$NT_TMP/re-$2.json")" "$1"
}
waitlog() { # PATTERN: until the tracer's stderr has it (5 s)
	for _ in $(seq 100); do grep -q "$1" "$NT_TMP/re.err" && return 0; sleep 0.05; done
	nt_fail "recreated: no '$1' from nettune: $(cat "$NT_TMP/re.err")"
}
"$NETTUNE" trace --json --probes connect --cgroup "$(rel "$re")" \
	>"$NT_TMP/re.json" 2>"$NT_TMP/re.err" &
tracer=$!
NT_PIDS+=("$tracer")
nt_wait_attached "$NT_TMP/re.err"
recli $N1 first
rmdir "$re" || nt_fail "cannot remove $re"
waitlog "the cgroup is gone"
mkdir "$re" || nt_fail "cannot create $re again"
waitlog "created again"
recli $N2 second
sleep 2	# two more looks: still one line each
kill -INT "$tracer"
wait "$tracer" || nt_fail "recreated: nettune failed: $(cat "$NT_TMP/re.err")"
out=$(tail -n 1 "$NT_TMP/re.json")
nt_assert_eq "recreated: connects of both cgroups at that path" "$(q '.connect.count')" $((N1 + N2))
nt_assert_eq "recreated: 'gone' said once" "$(grep -c 'the cgroup is gone' "$NT_TMP/re.err")" 1
nt_assert_eq "recreated: 'created again' said once" "$(grep -c 'created again' "$NT_TMP/re.err")" 1
nt_log "   $(grep -e 'is gone' -e 'created again' "$NT_TMP/re.err" | tr '\n' ' ')"

# --- 9. bad input ------------------------------------------------------------
for bad in "/nettune-no-such-cgroup-$NT_ID" /proc; do
	rc=0
	"$NETTUNE" trace -d 1 --cgroup "$bad" >"$NT_TMP/bad.out" 2>"$NT_TMP/bad.err" || rc=$?
	nt_assert_eq "--cgroup $bad: exit code" $rc 2
	nt_assert_eq "--cgroup $bad: one line on stderr" "$(wc -l <"$NT_TMP/bad.err")" 1
	nt_assert_eq "--cgroup $bad: nothing on stdout" "$(wc -c <"$NT_TMP/bad.out")" 0
	nt_log "   $(cat "$NT_TMP/bad.err")"
done

# Every cgroup the test made is gone once its processes are (nt_cleanup
# does the same on every other exit path).
nt_stop_pids
nt_cgroups_remove
for dir in "${NT_CGROUPS[@]}"; do
	[ ! -d "$dir" ] || nt_fail "cgroup $dir is left after the run"
done
nt_log "ok: the test's ${#NT_CGROUPS[@]} cgroups are removed"
nt_pass
