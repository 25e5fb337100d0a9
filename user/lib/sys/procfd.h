/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What /proc says about a process's sockets: which descriptors are sockets
 * (by inode), and its comm. Shared by owner lookups and relisten. */
#ifndef NETTUNE_LIB_PROCFD_H
#define NETTUNE_LIB_PROCFD_H

#include <stdbool.h>
#include <linux/types.h>

/* Calls fn(fd, socket inode, ctx) for each socket descriptor of process pid
 * until fn returns non-zero, which is then returned. 0 when every socket
 * was visited, -ESRCH when the process is gone, -errno when /proc/PID/fd
 * cannot be read (not ours to look at). */
int procfd__for_each_socket(int pid, int (*fn)(int fd, __u32 inode, void *ctx), void *ctx);
/* The process's comm, or "?" when it cannot be read. */
void procfd__comm(int pid, char comm[16]);
/* Whether the process has exited and waits to be reaped (a zombie: state Z
 * or X); it is still in /proc, with nothing left to trace. */
bool procfd__exited(int pid);
/* Its start time in clock ticks since boot (with the pid, names one
 * process for good); 0, or -ESRCH when it cannot be read. */
int procfd__start_time(int pid, __u64 *start);

#endif
