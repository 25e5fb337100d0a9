/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Identity of a listening socket, shared by the accept and drops probes and
 * by user space, which joins it with sock_diag's view of the listener. */
#ifndef NETTUNE_LISTENER_H
#define NETTUNE_LISTENER_H

/* No cgroup in it: a listener is one row whichever family saw it and
 * however it is seen (sock_diag's census joins on this key). A listening
 * socket's cgroup never changes, so rows carry it as a value (drops) or in
 * their own key beside this one (accept). */
struct listener_key {
	__u32 netns;	/* network namespace inode */
	__u16 port;	/* local port, host byte order */
	__u16 family;	/* AF_INET or AF_INET6 */
	__u8 addr[16];	/* local address, network byte order; v4 in addr[0..3] */
};
_Static_assert(sizeof(struct listener_key) == 24, "listener_key layout");

#endif
