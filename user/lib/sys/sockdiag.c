// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include "log.h"
#include "netns.h"
#include "sockdiag.h"
#include "procfd.h"

struct listeners {
	struct sockdiag_listener *v;
	size_t n, cap;
};

static int push(struct listeners *ls, const struct sockdiag_listener *l)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 16;
		struct sockdiag_listener *v = realloc(ls->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ls->v = v;
		ls->cap = cap;
	}
	ls->v[ls->n++] = *l;
	return 0;
}

static int send_dump(int fd, __u8 family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = 1U << TCP_LISTEN,
			/* ext bits are numbered from attribute 1 */
			.idiag_ext = 1U << (INET_DIAG_SKMEMINFO - 1),
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

static int add_listener(struct listeners *ls, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct sockdiag_listener l = {};
	const struct rtattr *a;
	int rtlen;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	l.family = m->idiag_family;
	memcpy(l.addr, m->id.idiag_src, l.family == AF_INET ? 4 : 16);
	l.port = ntohs(m->id.idiag_sport);
	/* For a listener the kernel reports the accept queue in the
	 * receive/send queue fields: sk_ack_backlog and sk_max_ack_backlog. */
	l.queue = m->idiag_rqueue;
	l.limit = m->idiag_wqueue;
	l.inode = m->idiag_inode;
	l.cookie = (__u64)m->id.idiag_cookie[0] | (__u64)m->id.idiag_cookie[1] << 32;
	a = (const struct rtattr *)(m + 1);
	rtlen = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (; RTA_OK(a, rtlen); a = RTA_NEXT(a, rtlen)) {
		if (a->rta_type == INET_DIAG_SKMEMINFO &&
		    RTA_PAYLOAD(a) >= (SK_MEMINFO_DROPS + 1) * sizeof(__u32))
			l.drops = ((const __u32 *)RTA_DATA(a))[SK_MEMINFO_DROPS];
		else if (a->rta_type == INET_DIAG_CGROUP_ID && RTA_PAYLOAD(a) >= sizeof(__u64))
			memcpy(&l.cgroup, RTA_DATA(a), sizeof(l.cgroup));
	}
	return push(ls, &l);
}

/* Reads one dump to NLMSG_DONE. A dump datagram is at most 32 KiB (the
 * kernel sizes it to the reader's buffer, capped there), so MSG_TRUNC
 * catching a bigger one means a protocol change, not a retry case. */
static int recv_dump(int fd, struct listeners *ls)
{
	static const size_t bufsz = 32768;
	__u32 *buf = malloc(bufsz);	/* u32 for nlmsghdr alignment */
	const struct nlmsghdr *nlh;
	bool done = false;
	ssize_t len;
	int err = buf ? 0 : -ENOMEM;

	while (!err && !done) {
		len = recv(fd, buf, bufsz, MSG_TRUNC);
		if (len < 0)
			err = errno == EINTR ? 0 : -errno;
		else if ((size_t)len > bufsz || len == 0)
			err = -EMSGSIZE;
		for (nlh = (const struct nlmsghdr *)buf; !err && len > 0 && !done &&
		     NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
				/* Both carry an errno (negative) first; DONE's is 0 on success. */
				const int *e = NLMSG_DATA(nlh);

				done = true;
				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)))
					err = *e;
			} else if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
				err = add_listener(ls, nlh);
			}
		}
	}
	free(buf);
	return err;
}

/* Runs inside the target namespace: sock_diag reports the sockets of the
 * namespace its netlink socket was created in, so the socket is made here. */
static int dump_listeners(void *ctx)
{
	static const __u8 families[] = { AF_INET, AF_INET6 };
	struct listeners *ls = ctx;
	int fd, err = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		err = -errno;
		warn("sock_diag: cannot open a netlink socket: %s", strerror(errno));
		goto out;
	}
	/* A v6 dual-stack listener appears only in the AF_INET6 dump, so the
	 * two dumps never report the same socket. */
	for (size_t i = 0; !err && i < sizeof(families); i++) {
		err = send_dump(fd, families[i]);
		if (!err)
			err = recv_dump(fd, ls);
		if (err)
			warn("sock_diag: listing %s TCP listeners failed: %s",
			     families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-err));
	}
	close(fd);
out:
	return err;
}

int sockdiag__listeners(int nsfd, struct sockdiag_listener **out, size_t *n)
{
	struct listeners ls = {};
	int err;

	*out = NULL;
	*n = 0;
	err = netns__run_in(nsfd, dump_listeners, &ls);
	if (err) {
		free(ls.v);
		goto out;
	}
	*out = ls.v;
	*n = ls.n;
out:
	return err;
}

/* Stops the visit when the descriptor is the socket looked for. */
static int is_inode(int fd, __u32 inode, void *want)
{
	(void)fd;
	return inode == *(const __u32 *)want;
}

int sockdiag__owner(__u32 inode, int *pid, char comm[16])
{
	struct dirent *de;
	int err = -ENOENT;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		err = -errno;
		warn("/proc: %s", strerror(errno));
		goto out;
	}
	while (err == -ENOENT && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    procfd__for_each_socket(atoi(de->d_name), is_inode, &inode) != 1)
			continue;
		*pid = atoi(de->d_name);
		procfd__comm(*pid, comm);
		err = 0;
	}
	closedir(d);
out:
	return err;
}

void sockdiag__format_addr(const struct sockdiag_listener *l, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if (!inet_ntop(l->family, l->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (l->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, l->port);
	else
		snprintf(buf, len, "%s:%u", a, l->port);
}
