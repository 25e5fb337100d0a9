# shellcheck shell=bash
# Integration-test harness: private network namespaces, veth pairs, a delayed
# link, kernel counters, assertions, and cleanup on every exit path.
# A test sources this file, calls nt_setup, and ends with nt_pass. Exit codes:
# 0 passed, 77 skipped (with a reason), anything else failed.
# Nothing here touches the host's network or sysctls: every address, route and
# sysctl lives in a namespace the test created.

NT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NT_BUILD=${NT_BUILD:-$NT_ROOT/build}
NETTUNE=${NETTUNE:-$NT_BUILD/nettune}
NT_SKIP=77
NT_NAMESPACES=()
NT_PIDS=()
NT_CGROUPS=()
NT_TMP=

nt_log()  { printf '  [%s] %s\n' "${NT_TEST:-test}" "$*" >&2; }
nt_fail() { printf 'FAIL %s: %s\n' "${NT_TEST:-test}" "$*" >&2; exit 1; }
nt_skip() { printf 'SKIP %s: %s\n' "${NT_TEST:-test}" "$*" >&2; exit $NT_SKIP; }
nt_pass() { printf 'PASS %s\n' "${NT_TEST:-test}" >&2; exit 0; }

nt_cleanup() {
	local rc=$? ns
	nt_stop_pids
	nt_cgroups_remove
	for ns in "${NT_NAMESPACES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$NT_TMP" ] && rm -rf "$NT_TMP"
	exit $rc
}

# nt_stop_pids: stop every process the test started (TERM, then KILL after
# 5 s) and reap it.
nt_stop_pids() {
	local p
	for p in "${NT_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${NT_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

# nt_cgroup2_mount: where cgroup v2 is mounted (empty if it is not). Never
# assume /sys/fs/cgroup: hybrid hosts mount it at /sys/fs/cgroup/unified.
nt_cgroup2_mount() {
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
		/proc/self/mountinfo | head -n 1
}

# nt_cgroup VAR REL: create the cgroup REL (a path below the cgroup2 mount,
# its parents first) and set VAR to its full path; removed at cleanup,
# children first, once every process in it is gone. (A variable, not
# output: in $(...) the list of cgroups to remove would be a subshell's.)
# Processes are moved into it from here, not from inside `ip netns exec`,
# which remounts /sys.
nt_cgroup() {
	local mnt dir
	mnt=$(nt_cgroup2_mount)
	[ -n "$mnt" ] || nt_fail "cgroup v2 is not mounted"
	dir="$mnt/${2#/}"
	mkdir "$dir" || nt_fail "cannot create cgroup $dir"
	NT_CGROUPS+=("$dir")
	printf -v "$1" '%s' "$dir"
}

# nt_cgroups_remove: kill whatever is left in the test's cgroups, then
# remove them, deepest (created last) first.
nt_cgroups_remove() {
	local i dir p
	for ((i = ${#NT_CGROUPS[@]} - 1; i >= 0; i--)); do
		dir=${NT_CGROUPS[i]}
		[ -d "$dir" ] || continue
		for _ in $(seq 50); do
			[ -s "$dir/cgroup.procs" ] || break
			while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$dir/cgroup.procs"
			sleep 0.1
		done
		rmdir "$dir" 2>/dev/null || printf 'cleanup: cannot remove cgroup %s\n' "$dir" >&2
	done
}

# nt_bg_cgroup CGROUP SHORT CMD...: nt_bg, with the command in CGROUP (a full
# path) from its first instruction: the subshell moves itself there from
# outside the namespace, then becomes the command (same pid).
nt_bg_cgroup() {
	local cg=$1 ns; ns=$(nt_ns "$2"); shift 2
	( echo "$BASHPID" >"$cg/cgroup.procs" || exit 1; exec ip netns exec "$ns" "$@" ) &
	NT_LAST_PID=$!
	NT_PIDS+=("$NT_LAST_PID")
}

# nt_setup NAME: check prerequisites, arm cleanup, make a scratch dir ($NT_TMP).
nt_setup() {
	NT_TEST=$1
	[ "$(id -u)" -eq 0 ] || nt_skip "needs root (network namespaces and BPF)"
	command -v ip >/dev/null || nt_skip "iproute2 is not installed"
	[ -x "$NETTUNE" ] || nt_fail "$NETTUNE is not built"
	NT_ID="nt$$"
	NT_TMP=$(mktemp -d "/tmp/nettune-test.XXXXXX")
	trap nt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# nt_method FAMILY: the method `nettune doctor` says FAMILY uses on this
# kernel by default (empty if the family has one method only). Tests expect
# what doctor predicts; docs/kernels.md says which kernels get which.
nt_method() { nt_doctor '.methods[$f] // ""' "$1"; }

# nt_limit FAMILY: what doctor says FAMILY cannot measure on this kernel
# (empty if nothing). A test leaves out only the checks such a limit names.
nt_limit() { nt_doctor '.limits[$f] // ""' "$1"; }

nt_doctor() { # JQ-FILTER FAMILY: from `nettune doctor --json`, asked once per test
	[ -s "$NT_TMP/doctor.json" ] || "$NETTUNE" doctor --json >"$NT_TMP/doctor.json" 2>/dev/null ||
		nt_fail "nettune doctor failed"
	jq -r --arg f "$2" "$1" "$NT_TMP/doctor.json"
}

# nt_ns SHORT: the full name of a test namespace.
nt_ns() { printf '%s-%s' "$NT_ID" "$1"; }
nt_ns_path() { printf '/run/netns/%s' "$(nt_ns "$1")"; }

# nt_netns SHORT: create a private namespace with loopback up.
nt_netns() {
	local ns; ns=$(nt_ns "$1")
	ip netns add "$ns" || nt_fail "cannot create namespace $ns"
	NT_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
}

# nt_exec SHORT CMD...: run a command inside a test namespace.
nt_exec() { local ns; ns=$(nt_ns "$1"); shift; ip netns exec "$ns" "$@"; }

# nt_bg SHORT CMD...: start a command in a namespace in the background; its
# pid is in $NT_LAST_PID and it is stopped at cleanup.
nt_bg() {
	local ns; ns=$(nt_ns "$1"); shift
	ip netns exec "$ns" "$@" &
	NT_LAST_PID=$!
	NT_PIDS+=("$NT_LAST_PID")
}

# nt_bg_host CMD...: same, in the current namespace (nettune itself runs here:
# BPF programs are global and nettune filters by namespace).
nt_bg_host() {
	"$@" &
	NT_LAST_PID=$!
	NT_PIDS+=("$NT_LAST_PID")
}

# nt_veth NS_A ADDR_A NS_B ADDR_B: a veth pair between two namespaces; ADDRs
# are CIDR (10.9.0.1/24).
nt_veth() {
	local a=$(nt_ns "$1") b=$(nt_ns "$3")
	local ia="v${NT_ID}a$RANDOM" ib="v${NT_ID}b$RANDOM"
	ip link add "${ia:0:15}" netns "$a" type veth peer name "${ib:0:15}" netns "$b" ||
		nt_fail "cannot create veth pair"
	ip -n "$a" addr add "$2" dev "${ia:0:15}" && ip -n "$a" link set "${ia:0:15}" up
	ip -n "$b" addr add "$4" dev "${ib:0:15}" && ip -n "$b" link set "${ib:0:15}" up
}

# nt_delayed_link NS_A ADDR_A NS_B ADDR_B DELAY_MS [LOSS_PCT]: connect two
# namespaces through a relay namespace where tools/netdelay holds each frame
# DELAY_MS in each direction (so RTT = 2 * DELAY_MS) and drops LOSS_PCT %.
# The project's machines have no netem; see docs/kernels.md "Test links".
nt_delayed_link() {
	local a=$(nt_ns "$1") b=$(nt_ns "$3") delay=$5 loss=${6:-0}
	local relay="relay$RANDOM" r; r=$(nt_ns "$relay")
	nt_netns "$relay"
	ip link add da netns "$a" type veth peer name ra netns "$r" || nt_fail "veth a"
	ip link add db netns "$b" type veth peer name rb netns "$r" || nt_fail "veth b"
	ip -n "$a" addr add "$2" dev da
	ip -n "$b" addr add "$4" dev db
	for x in "$a da" "$b db" "$r ra" "$r rb"; do
		set -- $x
		# Relayed frames carry no finished checksum unless TX offload is off.
		ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1
		ip -n "$1" link set "$2" up
	done
	[ -x "$NT_BUILD/netdelay" ] || nt_fail "netdelay is not built"
	nt_bg "$relay" "$NT_BUILD/netdelay" --dev-a ra --dev-b rb --delay-ms "$delay" --loss "$loss" \
		--ready-file "$NT_TMP/netdelay.$relay.ready"
	for _ in $(seq 100); do
		[ -e "$NT_TMP/netdelay.$relay.ready" ] && return 0
		kill -0 "$NT_LAST_PID" 2>/dev/null || nt_fail "netdelay exited"
		sleep 0.05
	done
	nt_fail "netdelay did not become ready"
}

# nt_netstat NS FIELD: a TcpExt counter (e.g. ListenOverflows) in a namespace.
nt_netstat() {
	nt_exec "$1" awk -v f="$2" '
		$1 == "TcpExt:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == "TcpExt:" && hdr { print (f in col) ? $col[f] : "missing"; exit }' /proc/net/netstat
}

# nt_ping_rtt NS ADDR [COUNT]: average ping RTT in ms, measured by ping. A
# first ping resolves ARP, whose extra round trip would skew the average.
nt_ping_rtt() {
	nt_exec "$1" ping -q -n -c 1 -W 2 "$2" >/dev/null
	nt_exec "$1" ping -q -n -c "${3:-10}" -i 0.2 "$2" |
		awk -F/ '/^rtt|^round-trip/ { print $5 }'
}

# nt_wait_port NS PORT: wait until something listens on TCP PORT.
nt_wait_port() {
	for _ in $(seq 100); do
		nt_exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	nt_fail "nothing listens on port $2 in $1"
}

# nt_wait_served NS PORT [SECONDS]: wait until a server on PORT has taken
# and closed every connection: nothing in its accept queue and no socket
# left with that local port but the listener (TIME-WAIT aside: the kernel
# keeps those 60 s after the server is done). Clients that do not wait for
# the server finish long before a slow server does.
nt_wait_served() {
	local tries=$(( ${3:-30} * 20 ))
	for _ in $(seq "$tries"); do
		if [ "$(nt_exec "$1" ss -Hltn "sport = :$2" | awk '{ print $2 }')" = 0 ] &&
		   [ -z "$(nt_exec "$1" ss -Htn state established state syn-recv state close-wait \
			state fin-wait-1 state fin-wait-2 state last-ack state closing "sport = :$2")" ]; then
			return 0
		fi
		sleep 0.05
	done
	nt_fail "the server on port $2 did not serve every connection in ${3:-30} s"
}

# nt_wait_attached LOGFILE: nettune prints "attached" on stderr once its
# programs are live.
nt_wait_attached() {
	for _ in $(seq 200); do
		grep -q 'attached' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$1" >&2
	nt_fail "nettune did not attach"
}

# nt_prog_ids PID: the BPF programs a process holds, by id (a JSON array),
# from its descriptors' fdinfo: other tracers on the machine do not count.
nt_prog_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un | jq -sc .
}

# nt_progs IDS: the loaded BPF programs whose ids are in IDS (a JSON array,
# as nt_prog_ids gives), as bpftool describes them (a JSON array).
nt_progs() {
	bpftool prog show -j | jq -c --argjson ids "$1" '[.[] | select(.id as $i | $ids | index($i))]'
}

# nt_free_port: a TCP port nobody listens on (in the host namespace), for a
# server that must listen there (serve, Prometheus).
nt_free_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + RANDOM % 20000 ))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	nt_fail "no free loopback port"
}

# nt_prog_names PID: their names, sorted and comma-separated.
nt_prog_names() {
	nt_progs "$(nt_prog_ids "$1")" | jq -r '[.[].name] | sort | join(",")'
}

# nt_progs_left IDS: how many of these programs are still loaded, waiting
# up to 3 s for 0: the kernel frees a closed program after an RCU grace period.
nt_progs_left() {
	local n
	for _ in $(seq 30); do
		n=$(nt_progs "$1" | jq length)
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	echo "$n"
}

# nt_map_ids PID: the BPF maps a process holds, by id (a JSON array).
nt_map_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "map_id:" { print $2 }' | sort -un | jq -sc .
}

# nt_map_entries PID NAME TYPE: max_entries of the BPF map of TYPE (as
# bpftool names it) called NAME that the process holds (the kernel keeps 15
# characters of a map's name).
nt_map_entries() {
	local ids
	ids=$(nt_map_ids "$1")
	bpftool map show -j | jq -r --argjson ids "$ids" --arg name "${2:0:15}" \
		--arg type "$3" '.[] | select(.id as $i | $ids | index($i)) |
			select(.name == $name and .type == $type) | .max_entries'
}

# Assertions print what they compared, so a log shows the evidence.
nt_assert_eq() { # DESC GOT WANT
	[ "$2" = "$3" ] || nt_fail "$1: got '$2', want '$3'"
	nt_log "ok: $1 = $2"
}

# nt_assert_near DESC GOT WANT PCT ABS: |GOT-WANT| <= WANT*PCT/100 + ABS
nt_assert_near() {
	awk -v g="$2" -v w="$3" -v p="$4" -v a="$5" 'BEGIN {
		d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= w * p / 100 + a) }' ||
		nt_fail "$1: got $2, want $3 within $4% + $5"
	nt_log "ok: $1 = $2 (want $3 within $4% + $5)"
}

nt_assert_ge() { # DESC GOT MIN
	awk -v g="$2" -v m="$3" 'BEGIN { exit !(g != "" && g >= m) }' ||
		nt_fail "$1: got $2, want >= $3"
	nt_log "ok: $1 = $2 (>= $3)"
}

nt_assert_le() { # DESC GOT MAX
	awk -v g="$2" -v m="$3" 'BEGIN { exit !(g != "" && g <= m) }' ||
		nt_fail "$1: got $2, want <= $3"
	nt_log "ok: $1 = $2 (<= $3)"
}

# nt_bucket_width_ms VALUE_MS: the width of the histogram bucket holding a
# value (1/16 of its power of two), for "within x% plus one bucket" checks.
nt_bucket_width_ms() {
	awk -v v="$1" 'BEGIN { ns = v * 1e6; p = 1; while (p * 2 <= ns) p *= 2; print p / 16 / 1e6 }'
}

# nt_named_progs_left REGEX: BPF programs whose name matches REGEX that are
# still loaded and held by no process, or by a process running $NETTUNE;
# waits up to 3 s for 0 (a closed program is freed after a grace period).
# Programs other tracers on the machine hold (other builds, other tests'
# nettune) do not count; a program nobody holds is a leak and does.
nt_named_progs_left() {
	local n id pids p ours
	ours=$(readlink -f "$NETTUNE")
	for _ in $(seq 30); do
		n=0
		for id in $(bpftool prog show -j | jq -r --arg re "$1" '.[] | select(.name | test($re)) | .id'); do
			pids=$(grep -ls "^prog_id:[[:space:]]*$id\$" /proc/[0-9]*/fdinfo/* 2>/dev/null |
				cut -d/ -f3 | sort -u)
			[ -z "$pids" ] && { n=$((n + 1)); continue; }
			for p in $pids; do
				[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$ours" ] && { n=$((n + 1)); break; }
			done
		done
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	echo "$n"
}
