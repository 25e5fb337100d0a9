/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Raising (or restoring) a live listener's accept-queue limit without
 * restarting its server: listen() on a listening socket only updates its
 * backlog, so a process holding a duplicate of the listener's descriptor
 * can do it. The duplicate comes from pidfd_open(pid) + pidfd_getfd(pidfd,
 * fd) (Linux 5.6+), which needs ptrace rights over the server
 * (PTRACE_MODE_ATTACH_REALCREDS: root, or the same user where Yama allows).
 */
#ifndef NETTUNE_LIB_RELISTEN_H
#define NETTUNE_LIB_RELISTEN_H

#include <linux/types.h>

/* The descriptor number under which process PID holds socket inode SOCK_INO
 * (a "socket:[N]" link in /proc/PID/fd). 0 and *FD, -ENOENT, or -errno. */
int relisten__find_fd(int pid, __u32 sock_ino, int *fd);
/* A duplicate of descriptor FD of process PID in the caller; checked to be
 * socket SOCK_INO and listening. The caller closes it. Returns the new fd or
 * -errno after one clear line: -EPERM (no ptrace rights), -ESRCH (no such
 * process), -EBADF (no such fd), -ENOSYS (kernel before 5.6), -ESTALE (the
 * fd is another socket now), -EINVAL (not a listening socket). */
int relisten__dup(int pid, int fd, __u32 sock_ino);
/* listen(duplicate of PID's FD, BACKLOG) after the checks of relisten__dup.
 * The kernel clamps BACKLOG to the socket's namespace somaxconn. 0 or -errno. */
int relisten__apply(int pid, int fd, __u32 sock_ino, int backlog);

#endif
