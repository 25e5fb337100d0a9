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
/* Inode of process PID's network namespace; flag names the option PID came
 * from in messages ("-p", "--netns"). */
int netns__of_pid(const char *flag, int pid, __u32 *ino);
/* An O_RDONLY fd on the network namespace whose nsfs inode is INO, found
 * through /proc/<pid>/ns/net (then /run/netns/<name>); -ENOENT if no process
 * or name holds it. The caller closes the fd. */
int netns__open_by_ino(__u32 ino);
/* Runs FN(CTX) inside the network namespace NSFD (-1: the current one)
 * without moving the calling thread; returns FN's result, or -errno when the
 * namespace cannot be entered. Inside FN, /proc/thread-self/net shows that
 * namespace and new sockets belong to it. */
int netns__run_in(int nsfd, int (*fn)(void *ctx), void *ctx);

#endif
