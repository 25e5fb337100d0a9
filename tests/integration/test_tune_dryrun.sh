#!/usr/bin/env bash
# nettune tune without --apply writes nothing: with a server that overflows
# (so there is something to recommend), every file under the namespace's
# /proc/sys/net has the same value before and after, the listener keeps its
# limit, and no state directory appears; scoped by --netns and by -p. Then
# bad input: one line and exit code 2, before anything is observed.
source "$(dirname "$0")/lib.sh"
nt_setup tune_dryrun
source "$(dirname "$0")/tune_lib.sh"
command -v jq >/dev/null || nt_skip "jq is not installed"
PORT=9300

nt_netns c
nt_exec c sysctl -qw net.core.somaxconn=1024 net.ipv4.tcp_syncookies=0 >/dev/null ||
	nt_fail "cannot set sysctls in the namespace"
nt_bg c "$TUNE_HELPERS/tcpserver" --port $PORT --backlog 8 --accept-every-ms 20
server=$NT_LAST_PID
nt_wait_port c $PORT
before=$(tune_dump_ns c)
nt_log "$(grep -c . <<<"$before") lines of /proc/sys/net in the namespace"

tune_burst c $PORT 100 byns
n=$(jq '.recommendations | length' "$NT_TMP/byns.json")
nt_assert_ge "--netns: recommendations made" "$n" 1
nt_assert_eq "--netns: nothing applied" "$(jq .applied "$NT_TMP/byns.json")" false
[ "$(tune_dump_ns c)" = "$before" ] || {
	diff <(echo "$before") <(tune_dump_ns c) >&2
	nt_fail "--netns: a value under /proc/sys/net changed"
}
nt_log "ok: --netns: every /proc/sys/net value unchanged"

# The same by pid: nettune follows the process into its namespace.
"$NETTUNE" tune -p "$server" -d 3 --state-dir "$TUNE_STATE" >"$NT_TMP/bypid.txt" \
	2>"$NT_TMP/bypid.err" &
t=$!
NT_PIDS+=("$t")
nt_wait_attached "$NT_TMP/bypid.err"
nt_exec c "$TUNE_HELPERS/tcpclient" --addr 127.0.0.1 --port $PORT --count 100 --parallel \
	--timeout-ms 2500 >/dev/null
wait "$t" || nt_fail "tune -p failed: $(cat "$NT_TMP/bypid.err")"
grep -q "listen-backlog/$(stat -L -c %i "$(nt_ns_path c)")/0.0.0.0:$PORT" "$NT_TMP/bypid.txt" ||
	nt_fail "-p: no recommendation for the server's listener: $(cat "$NT_TMP/bypid.txt")"
grep -q "Advice only: nothing was written" "$NT_TMP/bypid.txt" || nt_fail "-p: no advice-only note"
[ "$(tune_dump_ns c)" = "$before" ] || nt_fail "-p: a value under /proc/sys/net changed"
nt_log "ok: -p: every /proc/sys/net value unchanged"
nt_assert_eq "listener limit unchanged" "$(tune_sendq c $PORT)" 8
[ -e "$TUNE_STATE" ] && nt_fail "a dry run created the state dir"
nt_log "ok: no state dir"
# syncookies are off here (so SYNs are dropped): the tuner must still never
# propose switching them, nor tw_recycle.
nt_assert_eq "never a tcp_syncookies or tw_recycle recommendation" \
	"$(jq '[.recommendations[] | select(.setting | test("syncookies|tw_recycle"))] | length' \
	"$NT_TMP/byns.json")" 0

# --- bad input: exit 2, one line, nothing observed ------------------------
nt_netns other
bad() { # DESC ARGS...
	local desc=$1 rc
	shift
	"$NETTUNE" "$@" >"$NT_TMP/bad.out" 2>"$NT_TMP/bad.err"
	rc=$?
	nt_assert_eq "$desc: exit code" "$rc" 2
	nt_assert_eq "$desc: one line on stderr" "$(grep -c . "$NT_TMP/bad.err")" 1
	grep -q attached "$NT_TMP/bad.err" && nt_fail "$desc: it observed anyway"
	nt_log "   $(cat "$NT_TMP/bad.err")"
}
bad "--relisten without --apply" tune --relisten --netns "$(nt_ns_path c)"
bad "-d 0" tune -d 0 --netns "$(nt_ns_path c)"
bad "-d words" tune -d ten --netns "$(nt_ns_path c)"
bad "no such namespace" tune --netns /run/netns/nettune-no-such-ns
bad "no such pid" tune -p 2147483000
bad "pid outside --netns" tune -p "$server" --netns "$(nt_ns_path other)"
bad "unknown option" tune --frobnicate
bad "--status with --apply" tune --status --apply
bad "rollback extra argument" rollback now
"$NETTUNE" tune --help | grep -q '^EXAMPLES' || nt_fail "tune --help has no EXAMPLES"
"$NETTUNE" rollback --help | grep -q '^EXAMPLES' || nt_fail "rollback --help has no EXAMPLES"
nt_log "ok: --help ends with EXAMPLES"
nt_pass
