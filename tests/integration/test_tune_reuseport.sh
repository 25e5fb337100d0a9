#!/usr/bin/env bash
# An SO_REUSEPORT group of 3 listening sockets (backlog 8 each, never
# accepting) overflows under a burst. The report shows it as one listener
# row with its 3 sockets; tune makes exactly one relisten recommendation for
# it; --apply --relisten raises all three (ss shows the new limit on each,
# same process) and journals each; rollback restores 8 on all three.
source "$(dirname "$0")/lib.sh"
nt_setup tune_reuseport
source "$(dirname "$0")/tune_lib.sh"
PORT=9410 BACKLOG=8

nt_netns d
nt_bg d "$TUNE_HELPERS/tcpserver" --port $PORT --backlog $BACKLOG --no-accept --reuseport 3
server=$NT_LAST_PID
nt_wait_port d $PORT

limits() { nt_exec d ss -Hltn "sport = :$PORT" | awk '{ print $3 }' | sort | tr '\n' ' '; }
nt_assert_eq "three sockets, limit $BACKLOG each" "$(limits)" "$BACKLOG $BACKLOG $BACKLOG "

tune_burst d $PORT 150 apply --apply --relisten
out=$NT_TMP/apply.json
row=$(jq -c "[.observation.listeners[] | select(.port == $PORT)]" "$out")
nt_assert_eq "listener rows of the group" "$(jq length <<<"$row")" 1
nt_assert_eq "its sockets" "$(jq '.[0].sockets | length' <<<"$row")" 3
over=$(jq '.[0].overflows.total' <<<"$row")
[ "$over" -gt 0 ] || nt_fail "the group did not overflow: $row"
nt_log "ok: the group overflowed $over times"
recs=$(jq -c "[.recommendations[] | select(.kind == \"relisten\")]" "$out")
nt_assert_eq "relisten recommendations" "$(jq length <<<"$recs")" 1
nt_assert_eq "sockets it raises" "$(jq '.[0].sockets | length' <<<"$recs")" 3
nt_assert_eq "outcome" "$(jq -r '.[0].outcome.status' <<<"$recs")" applied
new=$(jq -r '.[0].proposed_value' <<<"$recs")
[ "$new" -gt $BACKLOG ] || nt_fail "proposed $new"
grep -q "on 3 of 3 sockets" <<<"$(jq -r '.[0].outcome.message' <<<"$recs")" ||
	nt_fail "outcome message: $(jq -r '.[0].outcome.message' <<<"$recs")"
nt_assert_eq "ss: every socket raised" "$(limits)" "$new $new $new "
nt_assert_eq "journal: one entry per socket" \
	"$(jq '[.entries[] | select(.key == "listen-backlog")] | length' "$TUNE_STATE/journal.json")" 3
nt_assert_eq "same server process" "$(tune_listener_pid d $PORT)" "$server"

"$NETTUNE" rollback --state-dir "$TUNE_STATE" >"$NT_TMP/rollback.out" ||
	nt_fail "rollback failed: $(cat "$NT_TMP/rollback.out")"
nt_log "$(tr '\n' ' ' <"$NT_TMP/rollback.out")"
nt_assert_eq "ss: every socket restored" "$(limits)" "$BACKLOG $BACKLOG $BACKLOG "
nt_pass
