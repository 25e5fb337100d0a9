#!/usr/bin/env bash
# The soak (`make soak`, not part of `make test`): nettune serve for
# SOAK_SECONDS (default 600) under churn, with its row tables at their real
# sizes: tests/integration/test_reclaim.sh, the same checks as its 40 s
# version in `make test` (which shrinks the tables to 256 slots), with a
# sample every 10 s. The churn (tests/integration/helpers/churn.c) makes 15
# rounds a second: a server process on a new port, a client process, and
# every 10th round a new network namespace, each round in a cgroup of its
# own, all gone when the round ends;
# some 9,000 rounds, four times the accept table's 2,048 slots on each CPU.
# Writes its section of docs/benchmarks.md (between the soak markers):
# nettune's RSS and BPF map memory over time, lost events, and serve's
# counts against the clients' own.
#   tools/soak.sh [--no-doc]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${NT_BUILD:-$ROOT/build}" && pwd)
DOC=$ROOT/docs/benchmarks.md
WRITE_DOC=1
[ "${1:-}" = --no-doc ] && WRITE_DOC=0
SECS=${SOAK_SECONDS:-600}
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root" >&2; exit 1; }
. "$ROOT/tools/bench/lock.sh"
REPORT=$(mktemp)
trap 'rm -f "$REPORT"' EXIT

rc=0
NT_BUILD=$BUILD NT_FIXTURES=${NT_FIXTURES:-$ROOT/tests/fixtures} NT_TEST_TIMEOUT=$(( SECS + 120 )) \
	NT_SOAK_SECONDS=$SECS NT_SOAK_SLOTS= NT_SOAK_EVERY=10 NT_SOAK_SCRAPE=1 NT_SOAK_REPORT="$REPORT" \
	"$ROOT/tests/integration/run.sh" test_reclaim.sh || rc=$?
[ -s "$REPORT" ] || { echo "soak: failed before its report (exit $rc)" >&2; exit 1; }

kv() { tr ' ' '\n' <"$REPORT" | head -40 | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }
samples=$(awk 'NR > 3 { printf "| %s | %.1f | %.1f | %s | %s | %s |\n", $1, $2 / 1024, $3 / 1048576, $4, $5, $6 }' "$REPORT")
section=$(cat <<EOF
<!-- soak:begin (written by tools/soak.sh) -->
## Soak: serve under churn (\`make soak\`)

Measured on $(nproc) CPUs, kernel $(uname -r), $(date -u +%F), for $SECS s with the
row tables at their real sizes. Churn: $(kv rounds) rounds (a server process on a
new port, a client, every 10th round in a new network namespace:
$(kv ns_rounds) namespaces; each round in a cgroup of its own: $(kv cgroups)
cgroups), each gone when its round ends; the client made
$(kv long_ok) connections to one long-lived listener and $(kv new_ok) to the
rounds' own ports ($(kv failed) failed).

| s | RSS (MiB) | BPF maps (MiB) | long listener's accepts | lost (keys_full) | accept rows freed |
|---|---|---|---|---|---|
${samples}

- serve's count of the long listener's accepts: $(kv long_accepts), the
  clients' own: $(kv long_ok).
- Events lost for a full table (accept, connect, read): $(kv lost_keys_full).
- A listener that never accepts, one SYN from each client: serve's overflows
  for it $(kv serve_overflows), the namespace's ListenOverflows $(kv listen_overflows).
- Rows freed: accept $(kv reclaimed_accept), connect $(kv reclaimed_connect),
  read $(kv reclaimed_read); retired accept rows kept: $(kv retired_accept).
- RSS: $(kv rss_warm_kib) KiB half-way (a scraper asked every second), $(kv rss_end_kib) KiB at the
  end. BPF maps' kernel memory (bytes_memlock): $(kv map_bytes) bytes throughout.
- Result: $([ "$rc" = 0 ] && echo "every check of test_reclaim.sh passed" || echo "FAILED (exit $rc): see the run's log")
<!-- soak:end -->
EOF
)
if [ "$WRITE_DOC" = 1 ]; then
	python3 "$ROOT/tools/bench/docsection.py" "$DOC" soak "$section"
	echo "soak: wrote its section of $DOC" >&2
else
	echo "$section"
fi
exit "$rc"
