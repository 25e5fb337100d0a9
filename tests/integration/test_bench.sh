#!/usr/bin/env bash
# nettune bench --scenario backlog: the closed loop in a namespace of its own.
# Before tuning the burst overflows the listener; nettune tune relistens the
# live refserver (same process); after, no overflow, and the successful
# throughput is higher or the connect p99 lower. Every number of the table
# is checked against loadgen's own JSON, which bench embeds. The host's
# settings are untouched and nothing bench started is left running.
source "$(dirname "$0")/lib.sh"
nt_setup bench
source "$(dirname "$0")/tune_lib.sh"
command -v jq >/dev/null || nt_skip "jq is not installed"
if [ ! -x "$NT_BUILD/refserver" ] || [ ! -x "$NT_BUILD/loadgen" ]; then
	nt_fail "refserver/loadgen not built"
fi
host_before=$(tune_dump_host)

"$NETTUNE" bench --scenario backlog --json >"$NT_TMP/bench.json" 2>"$NT_TMP/bench.err" ||
	nt_fail "bench failed: $(cat "$NT_TMP/bench.err")"
grep -q '^nettune: bench \[3/3\] after' "$NT_TMP/bench.err" || nt_fail "no progress lines"
nt_log "progress: $(grep -c '^nettune: bench \[' "$NT_TMP/bench.err") lines on stderr"
run() { jq -c --arg n "$1" '.runs[] | select(.name == $n)' "$NT_TMP/bench.json"; }
before=$(run before) after=$(run after) tuned=$(run tune)
if [ -z "$before" ] || [ -z "$after" ] || [ -z "$tuned" ]; then
	nt_fail "runs missing: $(cat "$NT_TMP/bench.json")"
fi

# Each metric is loadgen's own number.
for r in "$before" "$after"; do
	nt_assert_eq "2xx = loadgen's" "$(jq .metrics.ok <<<"$r")" "$(jq '.loadgen.http_status["2xx"]' <<<"$r")"
	nt_assert_eq "errors = loadgen's" "$(jq .metrics.errors <<<"$r")" \
		"$(jq '.loadgen.errors | .refused + .reset + .timeout + .other' <<<"$r")"
	nt_assert_eq "connect p99 = loadgen's" "$(jq .metrics.connect_p99_us <<<"$r")" \
		"$(jq .loadgen.latency.connect.p99_us <<<"$r")"
done

ov0=$(jq .metrics.listen_overflows <<<"$before")
nt_assert_ge "overflows before" "$ov0" 1
nt_assert_eq "overflows after" "$(jq .metrics.listen_overflows <<<"$after")" 0
nt_assert_eq "slow connects (a SYN retransmitted, loadgen) after" \
	"$(jq .loadgen.connections.slow <<<"$after")" 0
rl=$(jq -c '.recommendations[] | select(.rule == "listen-backlog")' <<<"$tuned")
nt_assert_eq "the tuner relistened the live server" "$(jq -r .outcome.status <<<"$rl")" applied
nt_assert_eq "the same refserver process after (relistened, not restarted)" \
	"$(jq .server.pid <<<"$after")" "$(jq .server.pid <<<"$before")"
nt_assert_eq "its backlog after = the relisten's, read back" "$(jq .server.backlog <<<"$after")" \
	"$(jq -r .outcome.value <<<"$rl")"
better=$(jq -n --argjson a "$before" --argjson z "$after" \
	'($z.metrics.ok_per_s > $a.metrics.ok_per_s) or
	 ($z.metrics.connect_p99_us < $a.metrics.connect_p99_us)')
nt_assert_eq "higher throughput or lower connect p99 after" "$better" true
nt_log "connect p99 $(jq .metrics.connect_p99_us <<<"$before") -> $(jq .metrics.connect_p99_us <<<"$after") us;" \
	"2xx/s $(jq .metrics.ok_per_s <<<"$before") -> $(jq .metrics.ok_per_s <<<"$after")"

# Nothing left behind.
for p in /proc/[0-9]*; do
	exe=$(readlink "$p/exe" 2>/dev/null) || continue
	case $exe in "$NT_BUILD/refserver"|"$NT_BUILD/loadgen") nt_fail "left running: $p ($exe)" ;; esac
done
nt_log "ok: no refserver or loadgen of this build left running"
ls -d /tmp/nettune-bench-journal.* >/dev/null 2>&1 && nt_fail "a bench journal dir was left in /tmp"
[ "$(tune_dump_host)" = "$host_before" ] || nt_fail "a host setting changed"
nt_log "ok: the host's net.core and net.ipv4 settings are unchanged"
nt_pass
