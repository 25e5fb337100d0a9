#!/usr/bin/env bash
# make demo: nettune's main job on its built-in default workload.
# nettune bench runs the reference server with a small listen backlog and a
# slow accept loop in a private network namespace it creates, drives it with
# the load generator, traces it, lets `nettune tune --apply --relisten` fix
# what it measured (live, same server process), reruns the load and prints
# the before/after table. Nothing outside that namespace is touched.
set -eu
NT_BUILD=${NT_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo: needs root (BPF and network namespaces)" >&2
	exit 1
fi
exec "$NT_BUILD/nettune" bench --tools "$NT_BUILD" "$@"
