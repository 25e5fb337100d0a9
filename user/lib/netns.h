/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Network namespace identity: the inode number of its nsfs file. */
#ifndef NETTUNE_LIB_NETNS_H
#define NETTUNE_LIB_NETNS_H

#include <linux/types.h>

/* SPEC is a pid ("4242") or a path (/run/netns/x, /proc/4242/ns/net).
 * Returns 0 and the inode, or -errno after one clear message. */
int netns__resolve(const char *spec, __u32 *ino);
/* Inode of the caller's own network namespace. */
int netns__self(__u32 *ino);
/* Inode of process PID's network namespace. */
int netns__of_pid(int pid, __u32 *ino);

#endif
