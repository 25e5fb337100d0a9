/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* TCP listeners of a network namespace and their accept queues, from the
 * kernel's own bookkeeping (NETLINK_SOCK_DIAG): the truth `ss -ltnm` shows. */
#ifndef NETTUNE_LIB_SOCKDIAG_H
#define NETTUNE_LIB_SOCKDIAG_H

#include <stddef.h>
#include <linux/types.h>

struct sockdiag_listener {
	__u64 cookie;		/* socket cookie (as bpf_get_socket_cookie() sees it) */
	__u64 cgroup;		/* cgroup v2 id of the socket (INET_DIAG_CGROUP_ID), 0 if none */
	__u8 addr[16];		/* local address, network byte order (v4 in the first 4 bytes) */
	__u32 queue;		/* current accept-queue length (sk_ack_backlog) */
	__u32 limit;		/* accept-queue limit: the backlog after the somaxconn clamp;
				 * the queue is full only above it (it holds limit + 1) */
	__u32 drops;		/* sk_drops: listen overflows and other drops, see
				 * docs/kernels.md "Listen queues" */
	__u32 inode;		/* socket inode, to find the owning process */
	__u16 port;		/* local port, host byte order */
	__u8 family;		/* AF_INET or AF_INET6 */
};

/* All TCP listeners (IPv4 and IPv6) of network namespace NSFD (-1: the
 * calling thread's own). On success *OUT is a malloc'd array of *N entries
 * (NULL when there are none) that the caller frees. Returns 0 or -errno. */
int sockdiag__listeners(int nsfd, struct sockdiag_listener **out, size_t *n);
/* The first process (lowest pid in /proc order) holding socket INODE open,
 * and its comm. A listener shared by forked workers has several owners;
 * processes we may not inspect are skipped. -ENOENT if none is found. */
int sockdiag__owner(__u32 inode, int *pid, char comm[16]);
/* "0.0.0.0:8080", "[::1]:443"; always NUL-terminated when LEN > 0. */
void sockdiag__format_addr(const struct sockdiag_listener *l, char *buf, size_t len);

#endif
