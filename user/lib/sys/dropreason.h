/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Names of the kernel's skb drop reasons, read from its BTF (enum
 * skb_drop_reason): the numbers change between kernels, the names do not. */
#ifndef NETTUNE_LIB_DROPREASON_H
#define NETTUNE_LIB_DROPREASON_H

#include <stdbool.h>
#include <linux/types.h>

struct dropreason;

/* Loads the running kernel's names; NULL with errno set on failure. */
struct dropreason *dropreason__load(void);
void dropreason__free(struct dropreason *d);
/* "TCP_LISTEN_OVERFLOW" for its value, or NULL when the kernel has none. */
const char *dropreason__name(const struct dropreason *d, __u32 value);
/* Whether the kernel has the reason NAME ("TCP_LISTEN_OVERFLOW"). */
bool dropreason__has(const struct dropreason *d, const char *name);
/* Whether a reason is a drop of network data. Some kfree_skb calls free
 * what nobody will read any more (QUEUE_PURGE: a socket's queues emptied as
 * it is closed or destroyed), which happens on every busy server and says
 * nothing about the network: reports keep those apart (docs/probes.md). */
bool dropreason__is_drop(const char *name);

#endif
