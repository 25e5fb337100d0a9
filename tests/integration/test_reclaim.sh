#!/usr/bin/env bash
# Tables that never fill: nettune serve under churn (tests/integration/
# helpers/churn.c: rounds of a server process on a new port that also
# accepts on one long-lived listener, a client process, every 10th round a
# new namespace; every process, port and namespace gone when its round
# ends), with its row tables shrunk (NETTUNE_TEST_ROW_SLOTS, test-only) so
# that the churn brings several times more keys to every CPU's copy than it
# has slots. Checked against the clients' own counts and the kernel:
#  - the long listener's nettune_accept_wait_seconds_count = the
#    connections the clients made to it and the server processes accepted,
#    though every one of its rows was freed: no count lost, and it never
#    went down between scrapes;
#  - no event lost for a full table (keys_full) in accept, connect and read;
#  - a listener that never accepts (backlog 1) gets one SYN from every
#    client: its overflows in serve (syn + ack paths) and the namespace's
#    overflow counter = the namespace's TcpExtListenOverflows, while the
#    census forgets the thousands of closed listeners around it;
#  - rows were freed (nettune_rows_reclaimed_total{family="accept"}) at
#    least as many as the rounds' keys that both CPUs' tables had no room
#    for: the tables really turned over;
#  - nettune's RSS after warm-up (half the run: serve remembers the label
#    sets of the last 64 expositions, and a scraper asks every 0.25 s) stays
#    within 10% + 2 MiB, and its BPF maps' kernel memory (bytes_memlock)
#    does not change;
#  - SIGTERM: exit 0, none of its BPF programs left.
# Every round also runs in a cgroup of its own under the cgroup v2 mount,
# created and removed (rows carry no cgroup yet: this is churn for later).
# Without reclaiming (NT_RECLAIM_OFF=1 sets NETTUNE_TEST_NO_RECLAIM) it
# fails: keys_full > 0 and the long listener's count short.
# NT_SOAK_SECONDS (default 40), NT_SOAK_SLOTS (default 256; empty: the real
# sizes), NT_SOAK_RATE (rounds a second, default 15), NT_SOAK_EVERY (seconds
# between samples, default 2), NT_SOAK_SCRAPE (seconds between scrapes,
# default 0.25) and NT_SOAK_REPORT (a file for the samples and
# totals, markdown) are for `make soak` (tools/soak.sh).
source "$(dirname "$0")/lib.sh"
nt_setup reclaim
command -v curl >/dev/null || nt_skip "curl is not installed"
command -v bpftool >/dev/null || nt_skip "bpftool is not installed"
[ "$(nproc)" -ge 2 ] || nt_skip "needs 2 CPUs (rows on both CPUs' copies)"
H=$NT_BUILD/tests/helpers
SECS=${NT_SOAK_SECONDS:-40}
SLOTS=${NT_SOAK_SLOTS-256}
RATE=${NT_SOAK_RATE:-15}
EVERY=${NT_SOAK_EVERY:-2}
SCRAPE=${NT_SOAK_SCRAPE:-0.25}
REPORT=${NT_SOAK_REPORT:-}

nt_netns a
INO=$(stat -L -c %i "$(nt_ns_path a)")
LONG=9400 OVF=9401
SERVE_PORT=$(nt_free_port)
env_args=()
[ -n "$SLOTS" ] && env_args+=("NETTUNE_TEST_ROW_SLOTS=$SLOTS")
[ -n "${NT_RECLAIM_OFF:-}" ] && env_args+=("NETTUNE_TEST_NO_RECLAIM=1")
env "${env_args[@]}" "$NETTUNE" serve --listen "127.0.0.1:$SERVE_PORT" -i 1 \
	>"$NT_TMP/serve.out" 2>"$NT_TMP/serve.err" &
SERVE=$!
NT_PIDS+=("$SERVE")
nt_wait_attached "$NT_TMP/serve.err"
PROGS=$(nt_prog_ids "$SERVE")

scrape() { curl -sf "http://127.0.0.1:$SERVE_PORT/metrics" >"$NT_TMP/m.txt"; }
metric() { awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' "$NT_TMP/m.txt"; }
lost_full() {
	awk '$1 ~ /^nettune_lost_events_total\{family="(accept|connect|read)",cause="keys_full"\}$/ {
		s += $2 } END { print s + 0 }' "$NT_TMP/m.txt"
}
long_count() { # whatever its comm label
	awk -v p="nettune_accept_wait_seconds_count{listener=\"127.0.0.1:$LONG\",netns=\"$INO\"," \
		'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$NT_TMP/m.txt"
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' /proc/"$SERVE"/status; }
map_bytes() {
	bpftool map show -j | jq --argjson ids "$(nt_map_ids "$SERVE")" \
		'[.[] | select(.id as $i | $ids | index($i)) | .bytes_memlock] | add'
}

# A cgroup per round under the cgroup v2 mount, when there is one: churn
# runs under `ip netns exec`, which remounts /sys, so it reaches the
# hierarchy through this shell's root (/proc/$$/root). Removed on every exit.
CGMNT=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' \
	/proc/self/mountinfo)
CG= cg_args=()
cg_cleanup() {
	local rc=$?
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		rmdir "$CG"/r* 2>/dev/null
		rmdir "$CG" 2>/dev/null
	fi
	return $rc
}
trap 'cg_cleanup; nt_cleanup' EXIT
if [ -n "$CGMNT" ] && mkdir "$CGMNT/nettune-test-$NT_ID" 2>/dev/null; then
	CG=$CGMNT/nettune-test-$NT_ID
	cg_args=(-g "/proc/$$/root$CG")
else
	nt_log "no cgroup v2 hierarchy to write in: rounds without cgroups"
fi

# Churn in the namespace; samples meanwhile.
ROUNDS=$(awk -v s="$SECS" -v r="$RATE" 'BEGIN { print int(s * r * 2) }')
nt_exec a "$H/churn" "${cg_args[@]}" -l $LONG -o $OVF -b 10000 -s 20000 -n "$ROUNDS" -r "$RATE" -c 2 -e 10 -t "$SECS" -H \
	>"$NT_TMP/churn.json" 2>"$NT_TMP/churn.err" &
CHURN=$!
NT_PIDS+=("$CHURN")
# A scraper, as Prometheus would be (serve's memory of past expositions
# is counted in scrapes).
( while sleep "$SCRAPE"; do curl -sf "http://127.0.0.1:$SERVE_PORT/metrics" >/dev/null || exit 0; done ) &
NT_PIDS+=("$!")
start=$(date +%s)
printf 'seconds rss_kib bpf_map_bytes long_accepts lost_keys_full reclaimed_accept reclaimed_connect reclaimed_read\n' \
	>"$NT_TMP/samples.txt"
prev_long=0
# Until it prints its totals (then it holds the long listener open).
while ! grep -q rounds "$NT_TMP/churn.json" 2>/dev/null; do
	kill -0 "$CHURN" 2>/dev/null || nt_fail "churn failed: $(cat "$NT_TMP/churn.err")"
	sleep "$EVERY"
	scrape || nt_fail "scrape failed: $(tail -3 "$NT_TMP/serve.err")"
	cur=$(long_count)
	[ "$cur" -ge "$prev_long" ] || nt_fail "the long listener's accept count went down: $prev_long -> $cur"
	prev_long=$cur
	printf '%s %s %s %s %s %s %s %s\n' "$(( $(date +%s) - start ))" "$(rss_kb)" "$(map_bytes)" "$cur" \
		"$(lost_full)" "$(metric 'nettune_rows_reclaimed_total{family="accept"}')" \
		"$(metric 'nettune_rows_reclaimed_total{family="connect"}')" \
		"$(metric 'nettune_rows_reclaimed_total{family="read"}')" >>"$NT_TMP/samples.txt"
done
cat "$NT_TMP/churn.json" >&2
cat "$NT_TMP/samples.txt" >&2
sleep 3	# two reclaim rounds: the last rounds' rows are freed too
scrape || nt_fail "scrape failed"

failed=$(jq .failed "$NT_TMP/churn.json")
long_ok=$(jq .long_ok "$NT_TMP/churn.json")
rounds=$(jq .rounds "$NT_TMP/churn.json")
[ "$failed" = 0 ] || nt_log "churn: $(cat "$NT_TMP/churn.err")"
nt_assert_eq "churn: every connection served" "$failed" 0
if [ -n "$CG" ]; then
	nt_assert_eq "churn: a cgroup per round, created and removed" "$(jq .cgroups "$NT_TMP/churn.json")" "$rounds"
	nt_assert_eq "cgroups left" "$(find "$CG" -mindepth 1 -maxdepth 1 -type d | wc -l)" 0
fi
nt_assert_ge "churn: rounds" "$rounds" $(( SECS * RATE / 2 ))
nt_assert_eq "long listener: accepts counted = the clients' connects to it" "$(long_count)" "$long_ok"
nt_assert_eq "events lost for a full table (accept, connect, read)" "$(lost_full)" 0
lo=$(nt_netstat a ListenOverflows)
nt_assert_ge "ListenOverflows in the namespace (half the SYNs to the full listener)" "$lo" \
	$(( $(jq .ovf_tries "$NT_TMP/churn.json") / 2 ))
ovf=$(awk -v p="nettune_listen_overflows_total{listener=\"127.0.0.1:$OVF\",netns=\"$INO\"," \
	'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$NT_TMP/m.txt")
nt_assert_eq "the full listener's overflows (syn + ack) = ListenOverflows" "$ovf" "$lo"
nt_assert_eq "the namespace's overflow counter = ListenOverflows" \
	"$(metric "nettune_netns_listen_overflows_total{netns=\"$INO\"}")" "$lo"
reclaimed=$(metric 'nettune_rows_reclaimed_total{family="accept"}')
if [ -n "$SLOTS" ]; then
	# Each round adds two accept keys (its new listener, and the long one
	# for its new process) to the table of the CPU its server ran on,
	# alternating; a round in a new namespace adds one (no long listener
	# there). With nothing lost, all but SLOTS of each CPU's keys were
	# freed. From the rounds the churn managed, not from the clock: a slow
	# VM (TCG) runs fewer.
	ns_rounds=$(jq .ns_rounds "$NT_TMP/churn.json")
	nt_assert_ge "churn: rounds beyond a table's slots" "$rounds" $(( SLOTS + SLOTS / 4 ))
	nt_assert_ge "accept rows freed (the keys both CPUs' tables had no room for)" "$reclaimed" \
		$(( 2 * rounds - ns_rounds - 2 * SLOTS ))
else
	nt_assert_ge "accept rows freed" "$reclaimed" "$rounds"
fi
# Flat after warm-up: the sample half-way against the last.
n=$(( $(wc -l <"$NT_TMP/samples.txt") - 1 ))
[ "$n" -ge 3 ] || nt_fail "too few samples ($n)"
warm=$(awk -v k=$(( n / 2 + 1 )) 'NR == k { print $2 }' "$NT_TMP/samples.txt")
last=$(rss_kb)
nt_assert_le "RSS after warm-up (KiB; ${warm} half-way)" "$last" $(( warm + warm / 10 + 2048 ))
map_warm=$(awk 'NR == 2 { print $3 }' "$NT_TMP/samples.txt")
nt_assert_eq "BPF maps' kernel memory (bytes)" "$(map_bytes)" "$map_warm"

if [ -n "$REPORT" ]; then
	{
		printf 'rounds=%s long_ok=%s new_ok=%s ns_rounds=%s failed=%s listen_overflows=%s serve_overflows=%s cgroups=%s\n' \
			"$rounds" "$long_ok" "$(jq .new_ok "$NT_TMP/churn.json")" \
			"$(jq .ns_rounds "$NT_TMP/churn.json")" "$failed" "$lo" "$ovf" \
			"$(jq .cgroups "$NT_TMP/churn.json")"
		printf 'long_accepts=%s lost_keys_full=%s reclaimed_accept=%s reclaimed_connect=%s reclaimed_read=%s retired_accept=%s rss_warm_kib=%s rss_end_kib=%s map_bytes=%s slots=%s\n' \
			"$(long_count)" "$(lost_full)" "$reclaimed" \
			"$(metric 'nettune_rows_reclaimed_total{family="connect"}')" \
			"$(metric 'nettune_rows_reclaimed_total{family="read"}')" \
			"$(metric 'nettune_rows_retired{family="accept"}')" "$warm" "$last" "$(map_bytes)" \
			"${SLOTS:-default}"
		cat "$NT_TMP/samples.txt"
	} >"$REPORT"
fi

kill -TERM "$SERVE"
wait "$SERVE"
nt_assert_eq "serve: exit code at SIGTERM" "$?" 0
nt_assert_eq "BPF programs left after serve exited" "$(nt_progs_left "$PROGS")" 0
nt_pass
