#!/usr/bin/env bash
# test_drops.sh again with the hidden --force-fallback: kfree_skb on the
# classic tracepoint with probe reads, as kernels before 6.12 get it (and
# accept's probe-read exit programs), against the same kernel counters.
NT_DROPS_FALLBACK=1 exec bash "$(dirname "$0")/test_drops.sh"
