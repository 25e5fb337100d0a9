/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What every nettune BPF header stands on: the kernel's types (CO-RE),
 * libbpf's helpers, and the few constants vmlinux.h lacks. */
#ifndef NETTUNE_BASE_BPF_H
#define NETTUNE_BASE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#ifndef AF_INET
#define AF_INET		2
#define AF_INET6	10
#endif
#ifndef IPPROTO_TCP
#define IPPROTO_TCP	6
#endif

#endif /* NETTUNE_BASE_BPF_H */
