// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Connect latency from sock:inet_sock_set_state alone (no kprobes). This
 * object holds the family's maps, which user/family/connect.c reads; the
 * program is bpf/sock_state.bpf.c's, the one nettune program at that hook,
 * which accept's half shares (bpf/connect_state.bpf.h has connect's half).
 */
#include "connect_state.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
