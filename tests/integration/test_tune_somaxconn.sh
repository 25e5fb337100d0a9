#!/usr/bin/env bash
# nettune tune when somaxconn is the cap: namespace somaxconn 64, a server
# that asks for backlog 4096 (and gets 64) and accepts every 10 ms, bursts
# of 300 connects.
#  1. advice: raise somaxconn, in that namespace, and say that the existing
#     listener needs a relisten (a relisten recommendation follows it);
#  2. --apply --relisten: somaxconn is written where it lives and read back,
#     then the live listener is raised, same process;
#  3. the effect: the same burst no longer overflows (TcpExtListenOverflows);
#  4. rollback: somaxconn 64 and limit 64 again.
source "$(dirname "$0")/lib.sh"
nt_setup tune_somaxconn
source "$(dirname "$0")/tune_lib.sh"
command -v jq >/dev/null || nt_skip "jq is not installed"
PORT=9200

nt_netns b
nt_exec b sysctl -qw net.core.somaxconn=64 || nt_fail "cannot set somaxconn in the namespace"
nt_bg b "$TUNE_HELPERS/tcpserver" --port $PORT --backlog 4096 --accept-every-ms 10
server=$NT_LAST_PID
nt_wait_port b $PORT
nt_assert_eq "limit before = somaxconn" "$(tune_sendq b $PORT)" 64

# --- 1. advice -----------------------------------------------------------
lo0=$(nt_netstat b ListenOverflows)
tune_burst b $PORT 300 advice
lo=$(( $(nt_netstat b ListenOverflows) - lo0 ))
nt_assert_ge "overflows happened (TcpExtListenOverflows)" "$lo" 1
sx=$(tune_rec advice somaxconn sysctl)
[ -n "$sx" ] || nt_fail "no somaxconn recommendation: $(cat "$NT_TMP/advice.json")"
nt_log "recommendation: $(jq -r '.setting + ": " + .current + " -> " + .proposed' <<<"$sx")"
nt_log "evidence: $(jq -r .evidence <<<"$sx")"
nt_assert_eq "somaxconn: setting" "$(jq -r .setting <<<"$sx")" net.core.somaxconn
nt_assert_eq "somaxconn: lives in the namespace" "$(jq -r .scope <<<"$sx")" netns
nt_assert_eq "somaxconn: which namespace" "$(jq .netns <<<"$sx")" \
	"$(stat -L -c %i "$(nt_ns_path b)")"
nt_assert_eq "somaxconn: current" "$(jq -r .current <<<"$sx")" 64
nt_assert_eq "somaxconn: back to the kernel default" "$(jq -r .proposed <<<"$sx")" 4096
grep -qF "overflowed $lo times" <<<"$(jq -r .evidence <<<"$sx")" ||
	nt_fail "evidence lacks the $lo overflows"
grep -qF "= somaxconn" <<<"$(jq -r .evidence <<<"$sx")" || nt_fail "evidence: limit = somaxconn"
grep -qF "existing listeners keep their limit" <<<"$(jq -r .why <<<"$sx")" ||
	nt_fail "the rule does not say existing listeners need a relisten"
rl=$(tune_rec advice listen-backlog relisten)
[ -n "$rl" ] || nt_fail "no relisten recommendation after somaxconn"
nt_log "then: $(jq -r '.setting + ": " + .current + " -> " + .proposed' <<<"$rl")"
order=$(jq -r '[.recommendations[].rule] | index("somaxconn") < index("listen-backlog")' \
	"$NT_TMP/advice.json")
nt_assert_eq "somaxconn is applied before the relisten" "$order" true
nt_assert_eq "advice wrote nothing: somaxconn" "$(nt_exec b sysctl -n net.core.somaxconn)" 64

# --- 2. apply --relisten ------------------------------------------------------
tune_burst b $PORT 300 apply --apply --relisten
sx=$(tune_rec apply somaxconn sysctl)
rl=$(tune_rec apply listen-backlog relisten)
nt_assert_eq "somaxconn outcome" "$(jq -r .outcome.status <<<"$sx")" applied
nt_assert_eq "somaxconn in the namespace" "$(nt_exec b sysctl -n net.core.somaxconn)" \
	"$(jq -r .proposed <<<"$sx")"
nt_assert_eq "relisten outcome" "$(jq -r .outcome.status <<<"$rl")" applied
new=$(jq -r .proposed <<<"$rl")
nt_assert_eq "ss Send-Q = the new backlog" "$(tune_sendq b $PORT)" "$new"
nt_assert_eq "same server process" "$(tune_listener_pid b $PORT)" "$server"

# --- 3. the effect ----------------------------------------------------------
lo0=$(nt_netstat b ListenOverflows)
tune_burst b $PORT 300 rerun
nt_assert_eq "after: TcpExtListenOverflows delta" $(( $(nt_netstat b ListenOverflows) - lo0 )) 0
nt_assert_eq "after: no somaxconn recommendation" "$(tune_rec rerun somaxconn sysctl)" ""

# --- 4. rollback ---------------------------------------------------------
"$NETTUNE" rollback --state-dir "$TUNE_STATE" >"$NT_TMP/rollback.out" ||
	nt_fail "rollback failed: $(cat "$NT_TMP/rollback.out")"
nt_log "$(tr '\n' ' ' <"$NT_TMP/rollback.out")"
nt_assert_eq "rollback: somaxconn" "$(nt_exec b sysctl -n net.core.somaxconn)" 64
nt_assert_eq "rollback: limit" "$(tune_sendq b $PORT)" 64
nt_assert_eq "rollback: same server" "$(tune_listener_pid b $PORT)" "$server"
nt_pass
