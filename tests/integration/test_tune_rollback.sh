#!/usr/bin/env bash
# nettune rollback restores every original exactly: every file under the
# namespace's /proc/sys/net and the listener's limit are compared with a
# snapshot taken before any tuning.
#  1. the tuner is SIGKILLed right after its first journaled write (a test
#     hook pauses it there): the change is made, its journal entry still
#     "pending"; rollback restores it; a second rollback finds nothing; the
#     same when it is killed right after the second write (the relisten);
#  2. a full --apply --relisten (somaxconn and a live listener); --status
#     shows both and where; --persist writes them as a sysctl.d snippet and
#     restores nothing; a rollback without CAP_SYS_ADMIN (it cannot enter
#     the namespace) fails and keeps both entries, the relisten included;
#     rollback restores both, same server process;
#  3. a state dir rollback may not read is an error, not "nothing to roll
#     back".
source "$(dirname "$0")/lib.sh"
nt_setup tune_rollback
source "$(dirname "$0")/tune_lib.sh"
command -v jq >/dev/null || nt_skip "jq is not installed"
PORT=9400

nt_netns d
nt_exec d sysctl -qw net.core.somaxconn=64 || nt_fail "cannot set somaxconn in the namespace"
nt_bg d "$TUNE_HELPERS/tcpserver" --port $PORT --backlog 4096 --accept-every-ms 10
server=$NT_LAST_PID
nt_wait_port d $PORT
snapshot() { tune_dump_ns d; echo "limit $(tune_sendq d $PORT)"; }
before=$(snapshot)

same_as_before() { # DESC
	local now; now=$(snapshot)
	[ "$now" = "$before" ] || { diff <(echo "$before") <(echo "$now") >&2; nt_fail "$1: differs"; }
	nt_log "ok: $1: every /proc/sys/net value and the limit are the originals"
}

# kill_at N NAME: --apply --relisten under a burst, SIGKILLed right after
# its N-th journaled write (the test hook pauses it there).
kill_at() {
	TUNE_ENV=NETTUNE_TEST_PAUSE_AFTER_WRITE=$1 tune_burst d $PORT 300 "$2" --apply --relisten
	for _ in $(seq 200); do
		grep -q "paused after journaled write $1" "$NT_TMP/$2.err" && break
		kill -0 "$TUNE_PID" 2>/dev/null || nt_fail "the tuner exited: $(cat "$NT_TMP/$2.err")"
		sleep 0.05
	done
	grep -q "paused after journaled write $1" "$NT_TMP/$2.err" ||
		nt_fail "the tuner never reached write $1"
	kill -KILL "$TUNE_PID"
	wait "$TUNE_PID" 2>/dev/null
	nt_log "SIGKILLed after write $1"
}

journal() { jq -r '[.entries[] | .key + " " + .state] | join(",")' "$TUNE_STATE/journal.json"; }

rollback() { # NAME
	"$NETTUNE" rollback --state-dir "$TUNE_STATE" >"$NT_TMP/$1.out" ||
		nt_fail "rollback failed: $(cat "$NT_TMP/$1.out")"
	nt_log "$(tr '\n' ' ' <"$NT_TMP/$1.out")"
}

# --- 1. SIGKILL right after the first write, then after the second ----------
kill_at 1 killed1
nt_assert_eq "the first write happened" "$(nt_exec d sysctl -n net.core.somaxconn)" 4096
nt_assert_eq "its journal entry is still pending" "$(journal)" "net.core.somaxconn pending"
rollback rb1
same_as_before "after SIGKILL at the first write and rollback"
rollback rb2
grep -q "nothing to roll back" "$NT_TMP/rb2.out" || nt_fail "second rollback: $(cat "$NT_TMP/rb2.out")"
same_as_before "after a second rollback"

kill_at 2 killed2
nt_assert_eq "the relisten happened" "$(tune_sendq d $PORT)" \
	"$(jq -r '.entries[1].new' "$TUNE_STATE/journal.json")"
nt_assert_eq "journal: somaxconn applied, relisten pending" "$(journal)" \
	"net.core.somaxconn applied,listen-backlog pending"
rollback rb3
same_as_before "after SIGKILL at the second write and rollback"

# --- 2. a full apply, status, persist, rollback -----------------------------
TUNE_ENV='' tune_burst d $PORT 300 apply --apply --relisten
nt_assert_eq "applied" "$(jq -r '[.recommendations[] | select(.kind != "advice") |
	.outcome.status] | join(",")' "$NT_TMP/apply.json")" "applied,applied"
new=$(tune_sendq d $PORT)
nt_log "applied: somaxconn $(nt_exec d sysctl -n net.core.somaxconn), limit $new"
"$NETTUNE" tune --status --json --state-dir "$TUNE_STATE" >"$NT_TMP/status.json" ||
	nt_fail "--status failed"
nt_assert_eq "status: what, where, original -> now" \
	"$(jq -r '[.changes[] | .setting + "@" + .where + ":" + .original + "->" + .now] | join(" ")' \
	"$NT_TMP/status.json")" \
	"net.core.somaxconn@netns $(stat -L -c %i "$(nt_ns_path d)") ($(nt_ns_path d)):64->4096 0.0.0.0:$PORT@netns $(stat -L -c %i "$(nt_ns_path d)") ($(nt_ns_path d)):64->$new"
"$NETTUNE" rollback --persist "$NT_TMP/90-nettune.conf" --state-dir "$TUNE_STATE" \
	>"$NT_TMP/persist.out" || nt_fail "--persist failed"
grep -q "^# netns .*: net.core.somaxconn = 4096 (sysctl.d applies to the initial namespace only" \
	"$NT_TMP/90-nettune.conf" || nt_fail "snippet: $(cat "$NT_TMP/90-nettune.conf")"
grep -q "^# listen backlog of 0.0.0.0:$PORT .*: $new; it belongs to the application" \
	"$NT_TMP/90-nettune.conf" || nt_fail "snippet lacks the listener: $(cat "$NT_TMP/90-nettune.conf")"
nt_assert_eq "snippet: no uncommented line (nothing lives in the initial namespace)" \
	"$(grep -vc '^#' "$NT_TMP/90-nettune.conf")" 0
nt_assert_eq "--persist restored nothing" "$(nt_exec d sysctl -n net.core.somaxconn)" 4096
setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin \
	"$NETTUNE" rollback --state-dir "$TUNE_STATE" >"$NT_TMP/nocap.out" 2>"$NT_TMP/nocap.err"
nt_assert_eq "rollback without CAP_SYS_ADMIN: exit" "$?" 1
nt_log "$(tr '\n' ' ' <"$NT_TMP/nocap.out")"
nt_assert_eq "rollback without CAP_SYS_ADMIN: both entries kept" "$(journal)" \
	"net.core.somaxconn applied,listen-backlog applied"
nt_assert_eq "rollback without CAP_SYS_ADMIN: nothing restored" \
	"$(nt_exec d sysctl -n net.core.somaxconn) $(tune_sendq d $PORT)" "4096 $new"
rollback rb4
same_as_before "after apply and rollback"
nt_assert_eq "same server process" "$(tune_listener_pid d $PORT)" "$server"

# --- 3. a state dir rollback may not read -----------------------------------
mkdir -m 700 "$NT_TMP/private"
mkdir "$NT_TMP/private/state"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$NETTUNE" rollback --state-dir "$NT_TMP/private/state" >"$NT_TMP/denied.out" \
	2>"$NT_TMP/denied.err"
nt_assert_eq "unreadable state dir: exit" "$?" 1
nt_assert_eq "unreadable state dir: the line" "$(cat "$NT_TMP/denied.err")" \
	"nettune: state dir $NT_TMP/private/state: Permission denied"
nt_pass
