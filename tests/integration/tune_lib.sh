# shellcheck shell=bash
# Helpers shared by the test_tune*.sh tests (sourced after lib.sh). Every
# nettune tune here is scoped with --netns to a namespace the test made, and
# its journal lives in $NT_TMP: nothing reaches the host's sysctls.

TUNE_HELPERS=$NT_BUILD/tests/helpers
TUNE_STATE=$NT_TMP/state

# tune_burst NS PORT COUNT NAME ARGS...: nettune tune -d 4 --json on NS with
# ARGS while COUNT clients connect at once to PORT (after nettune attached).
# JSON in $NT_TMP/NAME.json, stderr in NAME.err, the client's view in
# NAME.client. Extra environment for nettune goes in $TUNE_ENV.
tune_burst() {
	local ns=$1 port=$2 count=$3 name=$4 t
	shift 4
	# shellcheck disable=SC2086 # TUNE_ENV is empty or one VAR=VALUE word
	env $TUNE_ENV "$NETTUNE" tune --netns "$(nt_ns_path "$ns")" -d 4 --json \
		--state-dir "$TUNE_STATE" "$@" >"$NT_TMP/$name.json" 2>"$NT_TMP/$name.err" &
	t=$!
	# shellcheck disable=SC2034 # for the caller, when the tuner pauses (TUNE_ENV)
	TUNE_PID=$t
	NT_PIDS+=("$t")
	nt_wait_attached "$NT_TMP/$name.err"
	nt_exec "$ns" "$TUNE_HELPERS/tcpclient" --addr 127.0.0.1 --port "$port" --count "$count" \
		--parallel --timeout-ms 2500 >"$NT_TMP/$name.client" || nt_fail "client failed"
	[ -n "$TUNE_ENV" ] && return 0	# the caller deals with a paused tuner
	wait "$t" || nt_fail "nettune tune $* failed: $(cat "$NT_TMP/$name.err")"
	nt_log "$name: $(head -c 160 "$NT_TMP/$name.client")"
}

# tune_rec NAME RULE KIND: the first recommendation of RULE and KIND.
tune_rec() {
	jq -c --arg r "$2" --arg k "$3" \
		'[.recommendations[] | select(.rule == $r and .kind == $k)][0] // empty' "$NT_TMP/$1.json"
}

# tune_sendq NS PORT: the listener's accept-queue limit as ss shows it.
tune_sendq() {
	nt_exec "$1" ss -Hltn "sport = :$2" | awk '{ print $3; exit }'
}

# tune_listener_pid NS PORT: the process holding the listener, as ss shows it.
tune_listener_pid() {
	nt_exec "$1" ss -Hltnp "sport = :$2" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

# tune_dump_ns NS: every file under the namespace's /proc/sys/net, and the
# value of each readable one (write-only files such as route/flush are
# listed by name only).
tune_dump_ns() {
	nt_exec "$1" sh -c 'find /proc/sys/net -type f | sort; grep -rHs "" /proc/sys/net | sort'
}

# tune_dump_host: the host's net.core and net.ipv4 settings (not the
# per-device trees, which other tests' interfaces come and go in).
tune_dump_host() {
	find /proc/sys/net/core /proc/sys/net/ipv4 -maxdepth 1 -type f | sort | xargs grep -Hs ""
}
