// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "listeners.h"
#include "liveness.h"
#include "nswatch.h"

struct ns_seen {
	__u32 ino;
	bool listeners_read;	/* its listeners are those of the census */
};

struct liveness {
	bool census;
	bool complete;			/* the census looked everywhere */
	struct ns_seen *ns;		/* sorted */
	size_t nns, capns;
	struct listener_key *lst;	/* sorted */
	size_t nlst, caplst;
};

struct liveness *liveness__new(void)
{
	return calloc(1, sizeof(struct liveness));
}

void liveness__free(struct liveness *lv)
{
	if (!lv)
		return;
	free(lv->ns);
	free(lv->lst);
	free(lv);
}

static int cmp_ns(const void *a, const void *b)
{
	__u32 x = ((const struct ns_seen *)a)->ino, y = ((const struct ns_seen *)b)->ino;

	return x < y ? -1 : x > y;
}

static int cmp_lst(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct listener_key));
}

static int grow(void **buf, size_t *cap, size_t want, size_t size)
{
	void *b;

	if (want <= *cap)
		return 0;
	b = realloc(*buf, want * size);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = want;
	return 0;
}

int liveness__refresh(struct liveness *lv, struct nswatch *census)
{
	size_t nns, nlst;
	int err;

	lv->census = census != NULL;
	lv->nns = lv->nlst = 0;
	if (!census)
		return 0;
	nns = nswatch__ns_count(census);
	nlst = nswatch__listener_count(census);
	err = grow((void **)&lv->ns, &lv->capns, nns, sizeof(*lv->ns));
	if (!err)
		err = grow((void **)&lv->lst, &lv->caplst, nlst, sizeof(*lv->lst));
	if (err) {
		lv->census = false;	/* unknown: nothing is gone */
		return err;
	}
	lv->complete = nswatch__complete(census);
	for (size_t i = 0; i < nns; i++) {
		const struct nswatch_ns *ns = nswatch__ns(census, i);

		lv->ns[lv->nns++] = (struct ns_seen){ ns->ino, ns->listeners_read };
	}
	for (size_t i = 0; i < nlst; i++) {
		const struct nswatch_listener *l = nswatch__listener(census, i);

		if (l)
			listener__key_of_diag(l->netns, l->diag.family, l->diag.addr, l->diag.port,
					      &lv->lst[lv->nlst++]);
	}
	qsort(lv->ns, lv->nns, sizeof(*lv->ns), cmp_ns);
	qsort(lv->lst, lv->nlst, sizeof(*lv->lst), cmp_lst);
	return 0;
}

bool liveness__pid_gone(const struct liveness *lv, __u32 tgid)
{
	(void)lv;
	return tgid && kill((pid_t)tgid, 0) && errno == ESRCH;
}

static const struct ns_seen *ns_of(const struct liveness *lv, __u32 ino)
{
	struct ns_seen key = { .ino = ino };

	return bsearch(&key, lv->ns, lv->nns, sizeof(key), cmp_ns);
}

/* Gone only when the census looked everywhere and did not find it: a
 * namespace found but not read (EPERM, EMFILE...) is alive, and so is any
 * while a /proc entry could not be looked at. */
bool liveness__netns_gone(const struct liveness *lv, __u32 ino)
{
	return ino && lv->census && lv->complete && !ns_of(lv, ino);
}

/* Gone when not listed and its namespace's listeners are known: the
 * namespace was read whole, or is gone. A namespace whose sock_diag read
 * failed (or may have been missed) says nothing of its listeners. */
bool liveness__listener_gone(const struct liveness *lv, const struct listener_key *k)
{
	const struct ns_seen *ns;

	if (!lv->census || !k->port || bsearch(k, lv->lst, lv->nlst, sizeof(*k), cmp_lst))
		return false;
	ns = ns_of(lv, k->netns);
	return ns ? ns->listeners_read : lv->complete;
}
