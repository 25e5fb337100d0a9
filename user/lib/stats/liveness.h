/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What still exists, for reclaiming rows (user/lib/bpfread/snapshot.h):
 * processes, network namespaces and listeners. Each family's "owner is
 * gone" predicate (its reclaim_policy.gone) is built from these checks on
 * the owners its key names; a cgroup check (a cgroup id no longer in the
 * cgroup2 hierarchy) joins them the same way when keys carry one.
 *
 * Every check answers "gone" only when it knows: without a census
 * (no family reports listeners) namespaces and listeners are never gone,
 * nor are they when the census could not read them (a namespace found but
 * not read, a /proc entry not looked at), and 0 (no such owner in the
 * key) never is.
 */
#ifndef NETTUNE_LIB_LIVENESS_H
#define NETTUNE_LIB_LIVENESS_H

#include <stdbool.h>
#include <linux/types.h>
#include "listener.h"

struct nswatch;
struct liveness;

struct liveness *liveness__new(void);
void liveness__free(struct liveness *lv);	/* accepts NULL */
/* What the census (refreshed just before; NULL: none) says exists now. */
int liveness__refresh(struct liveness *lv, struct nswatch *census);
/* The process (thread group, as the kernel's init namespace numbers it:
 * nettune runs in the host's pid namespace) exited and was reaped. */
bool liveness__pid_gone(const struct liveness *lv, __u32 tgid);
/* No process and no /run/netns entry holds the namespace (the census
 * looked at every one). An inode a new
 * namespace reuses counts as alive: the rows then merge, as they did
 * before reclaiming (docs/reclaim.md). */
bool liveness__netns_gone(const struct liveness *lv, __u32 ino);
/* The listening socket is closed: not in sock_diag's census of its
 * namespace, read whole at that refresh, or its namespace is gone. */
bool liveness__listener_gone(const struct liveness *lv, const struct listener_key *k);

#endif
