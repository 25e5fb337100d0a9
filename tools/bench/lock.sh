# Sourced by the benchmark scripts: one benchmark at a time on this machine.
# Two at once would share its cores (each measuring the other's load) and
# would both save and restore kernel.bpf_stats_enabled, so that the second
# to finish could restore the first one's "1". The lock is held on a file
# descriptor until the script exits, however it exits; a second script
# waits for it and says so.
BENCH_LOCK=${NETTUNE_BENCH_LOCK:-/run/lock/nettune-bench.lock}
exec 9>>"$BENCH_LOCK"
if ! flock -n 9; then
	echo "${0##*/}: waiting for another nettune benchmark to finish ($BENCH_LOCK)" >&2
	flock 9
fi
