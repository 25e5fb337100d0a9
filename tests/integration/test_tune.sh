#!/usr/bin/env bash
# nettune tune when the application's backlog is the cap: namespace
# somaxconn 4096, a server that listens with backlog 16 and accepts one
# connection every 20 ms, bursts of 100 connects.
#  1. advice: raise that listener's backlog (relisten), not somaxconn, with
#     the measured overflows as evidence; nothing is written;
#  2. --apply --relisten raises it live: ss shows the new limit on the same
#     server process;
#  3. a rerun under the same burst sees 0 overflows, and so does the
#     namespace's own TcpExtListenOverflows;
#  4. rollback puts the backlog back to 16;
#  5. where each setting lives, per the table, is what this kernel shows in a
#     fresh namespace, and the host's settings are untouched throughout.
source "$(dirname "$0")/lib.sh"
nt_setup tune
source "$(dirname "$0")/tune_lib.sh"
command -v jq >/dev/null || nt_skip "jq is not installed"
PORT=9100
host_before=$(tune_dump_host)

nt_netns a
nt_exec a sysctl -qw net.core.somaxconn=4096 || nt_fail "cannot set somaxconn in the namespace"
nt_bg a "$TUNE_HELPERS/tcpserver" --port $PORT --backlog 16 --accept-every-ms 20
server=$NT_LAST_PID
nt_wait_port a $PORT
nt_assert_eq "limit before" "$(tune_sendq a $PORT)" 16

# --- 1. advice -----------------------------------------------------------
lo0=$(nt_netstat a ListenOverflows)
tune_burst a $PORT 100 advice
lo=$(( $(nt_netstat a ListenOverflows) - lo0 ))
nt_assert_ge "overflows happened (TcpExtListenOverflows)" "$lo" 1
rec=$(tune_rec advice listen-backlog relisten)
[ -n "$rec" ] || nt_fail "no listen-backlog recommendation: $(cat "$NT_TMP/advice.json")"
# A busy listener is one listener: one row, one recommendation per rule.
nt_assert_eq "listener rows of the server" \
	"$(jq "[.observation.listeners[] | select(.port == $PORT)] | length" "$NT_TMP/advice.json")" 1
nt_assert_eq "recommendations per listener and rule" \
	"$(jq -c '[.recommendations[] | .id] | group_by(.) | map(length) | unique' \
	"$NT_TMP/advice.json")" "[1]"
nt_log "recommendation: $(jq -r '.id + ": " + .current + " -> " + .proposed' <<<"$rec")"
nt_log "evidence: $(jq -r .evidence <<<"$rec")"
nt_assert_eq "no somaxconn recommendation" \
	"$(jq '[.recommendations[] | select(.setting == "net.core.somaxconn")] | length' \
	"$NT_TMP/advice.json")" 0
nt_assert_eq "current = the listener's limit" "$(jq -r .current <<<"$rec")" 16
proposed=$(jq -r .proposed <<<"$rec")
nt_assert_ge "proposed > 16" "$proposed" 17
[ "$proposed" -le 256 ] || nt_fail "proposed $proposed exceeds the 16x step"
nt_assert_eq "relisten targets the server" "$(jq .pid <<<"$rec")" "$server"
ev=$(jq -r .evidence <<<"$rec")
for want in "overflowed $lo times" "its limit is 16 = the backlog the application asked for" \
	"somaxconn is 4096"; do
	grep -qF "$want" <<<"$ev" || nt_fail "evidence lacks '$want': $ev"
done
nt_log "ok: the evidence names the overflows (= TcpExtListenOverflows), the limit and somaxconn"
nt_assert_eq "advice wrote nothing: limit" "$(tune_sendq a $PORT)" 16
[ -e "$TUNE_STATE" ] && nt_fail "advice created the state dir"
nt_log "ok: no state dir after advice"

# --- 2. apply --relisten ------------------------------------------------------
tune_burst a $PORT 100 apply --apply --relisten
rec=$(tune_rec apply listen-backlog relisten)
applied=$(jq -r .proposed <<<"$rec")
nt_assert_eq "relisten outcome" "$(jq -r .outcome.status <<<"$rec")" applied
nt_assert_eq "limit read back" "$(jq -r .outcome.value <<<"$rec")" "$applied"
nt_assert_eq "ss Send-Q = the new backlog" "$(tune_sendq a $PORT)" "$applied"
nt_assert_eq "same server process holds it" "$(tune_listener_pid a $PORT)" "$server"
kill -0 "$server" || nt_fail "the server died"
"$NETTUNE" tune --status --json --state-dir "$TUNE_STATE" >"$NT_TMP/status.json" ||
	nt_fail "tune --status failed"
nt_assert_eq "status: one relisten applied" \
	"$(jq -r '.changes[] | .kind + " " + .state + " " + .original + "->" + .now' \
	"$NT_TMP/status.json")" "relisten applied 16->$applied"

# --- 3. rerun: no overflows --------------------------------------------------
lo0=$(nt_netstat a ListenOverflows)
tune_burst a $PORT 100 rerun
lo=$(( $(nt_netstat a ListenOverflows) - lo0 ))
nt_assert_eq "rerun: TcpExtListenOverflows delta" "$lo" 0
row=$(jq -c ".observation.listeners[] | select(.port == $PORT)" "$NT_TMP/rerun.json")
nt_assert_eq "rerun: listener overflows" "$(jq .overflows.total <<<"$row")" 0
# (the previous burst's last connections may still be queued, hence >=)
nt_assert_ge "rerun: accepted the whole burst" "$(jq .accepted <<<"$row")" 100
nt_assert_eq "rerun: no backlog recommendation" "$(tune_rec rerun listen-backlog relisten)" ""

# --- 4. rollback ---------------------------------------------------------
"$NETTUNE" rollback --state-dir "$TUNE_STATE" >"$NT_TMP/rollback.out" ||
	nt_fail "rollback failed: $(cat "$NT_TMP/rollback.out")"
nt_assert_eq "rollback: limit" "$(tune_sendq a $PORT)" 16
nt_assert_eq "rollback: same server" "$(tune_listener_pid a $PORT)" "$server"

# --- 5. where settings live; the host untouched ------------------------------
nt_netns fresh
"$NETTUNE" tune --sysctls --json --netns "$(nt_ns_path fresh)" >"$NT_TMP/sysctls.json" ||
	nt_fail "tune --sysctls failed"
bad=$(jq -r '.sysctls[] | select((.scope == "netns") != (.in_netns == "writable")) |
	.key + " (" + .scope + ", " + .in_netns + ")"' "$NT_TMP/sysctls.json")
[ -z "$bad" ] || nt_fail "the table disagrees with this kernel: $bad"
nt_log "ok: every per-netns key is writable in a fresh namespace, every global one is not"
[ "$(tune_dump_host)" = "$host_before" ] || nt_fail "a host setting changed"
nt_log "ok: the host's net.core and net.ipv4 settings are unchanged"
nt_pass
