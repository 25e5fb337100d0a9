/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What /proc says about a process's sockets: which descriptors are sockets
 * (by inode), and its comm. Shared by owner lookups and relisten. */
#ifndef NETTUNE_LIB_PROCFD_H
#define NETTUNE_LIB_PROCFD_H

#include <linux/types.h>

/* Calls fn(fd, socket inode, ctx) for each socket descriptor of process pid
 * until fn returns non-zero, which is then returned. 0 when every socket
 * was visited, -ESRCH when the process is gone, -errno when /proc/PID/fd
 * cannot be read (not ours to look at). */
int procfd__for_each_socket(int pid, int (*fn)(int fd, __u32 inode, void *ctx), void *ctx);
/* The process's comm, or "?" when it cannot be read. */
void procfd__comm(int pid, char comm[16]);

#endif
