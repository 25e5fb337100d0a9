// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The census's listener owners: which process holds each listener socket,
 * found in one pass over /proc for all of them. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include "nswatch_state.h"
#include "procfd.h"

struct wanted {
	__u32 inode;
	size_t lst;	/* index in w->lst */
};

static int cmp_wanted(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

struct claim {
	struct nswatch *w;
	struct wanted *want;
	size_t n, taken;
	int pid;
	char comm[16];
};

/* A socket descriptor of the process being visited: if it is a wanted
 * listener with no owner yet, this process owns it. */
static int claim_socket(int fd, __u32 inode, void *ctx)
{
	struct wanted key = { .inode = inode }, *hit;
	struct claim *c = ctx;
	struct lst_state *s;

	(void)fd;
	hit = bsearch(&key, c->want, c->n, sizeof(*c->want), cmp_wanted);
	if (!hit || (s = &c->w->lst[hit->lst])->owner_known)
		return 0;
	if (!c->comm[0])
		procfd__comm(c->pid, c->comm);
	s->pub.pid = c->pid;
	memcpy(s->pub.comm, c->comm, sizeof(s->pub.comm));
	s->owner_known = true;
	c->taken++;
	return 0;
}

/* Gives the wanted sockets of one process that have no owner yet this
 * process as their owner; returns how many it took. */
static size_t claim_sockets(struct nswatch *w, const char *pid, struct wanted *want, size_t n)
{
	struct claim c = { .w = w, .want = want, .n = n, .pid = atoi(pid) };

	procfd__for_each_socket(c.pid, claim_socket, &c);	/* gone or hidden: none */
	return c.taken;
}

/* Owners of every published listener not resolved yet, in one pass over
 * /proc: the first process in /proc order holding the socket, as
 * sockdiag__owner() finds it, but without a /proc scan per listener (with
 * 10,000 listeners that was hours of readlink calls). */
void nswatch__resolve_owners_procfs(struct nswatch *w)
{
	struct wanted *want = calloc(w->nout_lst ? w->nout_lst : 1, sizeof(*want));
	size_t n = 0, left;
	struct dirent *de;
	DIR *d;

	if (!want)
		return;	/* the callers then see pid 0: owner unknown */
	for (size_t i = 0; i < w->nout_lst; i++) {
		struct lst_state *s = &w->lst[w->out_lst[i]];

		if (!s->owner_known)
			want[n++] = (struct wanted){ s->pub.diag.inode, w->out_lst[i] };
	}
	qsort(want, n, sizeof(*want), cmp_wanted);
	left = n;
	d = left ? opendir("/proc") : NULL;
	while (d && left && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			left -= claim_sockets(w, de->d_name, want, n);
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++) {
		struct lst_state *s = &w->lst[want[i].lst];

		if (!s->owner_known)
			s->pub.pid = 0;
		s->owner_known = true;
	}
	free(want);
}
