/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Cgroup v2 identity: a cgroup's id (what bpf_get_current_cgroup_id() and
 * cgroup->kn->id give) is the inode number of its directory on the cgroup2
 * mount. Ids are turned back into paths by walking that mount, and paths
 * into ids by stat(). Only cgroup v2 counts: v1 hierarchies are ignored.
 */
#ifndef NETTUNE_LIB_CGROUP_H
#define NETTUNE_LIB_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Where cgroup2 is mounted (the first such mount in /proc/self/mountinfo,
 * which need not be /sys/fs/cgroup: hybrid hosts mount it at
 * /sys/fs/cgroup/unified). 0, or -ENOENT when it is not mounted. */
int cgroup__mount(char *buf, size_t len);
/* --cgroup PATH: a directory on the cgroup2 mount, absolute
 * (/sys/fs/cgroup/system.slice/x.service) or relative to the mount's root
 * (/system.slice/x.service, system.slice/x.service). Its id: 0, or -errno
 * after one clear line. */
int cgroup__resolve(const char *path, __u64 *id);
/* One --cgroup PATH of a repeatable option: resolved and appended to ids
 * and args (*n of each so far, at most max). 0, or -errno after one line. */
int cgroup__add_filter(const char *path, __u64 *ids, const char **args, int *n, int max);
/* The same without the line: what PATH names now (a --cgroup removed and
 * created again has a new id). 0, or -errno. */
int cgroup__id(const char *path, __u64 *id);
/* The path (relative to the cgroup2 root, "/" for the root) of cgroup ID,
 * or NULL: 0, no cgroup2 mount, or a cgroup never seen. Paths come from a
 * walk of the mount, made again (at most once a second) when an id is not
 * known, or between two walks from the id's file handle; each walk
 * replaces the last, so the memo follows the tree, not its history. The
 * last path of each id is remembered apart (up to 1024 ids), so a removed
 * cgroup keeps its path and a name never flaps. The string is valid until
 * the next call. */
const char *cgroup__path(__u64 id);
/* Tests: take DIR for the cgroup2 mount (NULL: back to mountinfo). */
void cgroup__use_mount(const char *dir);
/* Whether cgroup ID is WANT or lies below it (by their paths). Any ID is
 * below the hierarchy's root, even one whose path is not known; below the
 * root of a cgroup namespace's mount, only one whose path is. */
bool cgroup__within(__u64 id, __u64 want);

#endif
