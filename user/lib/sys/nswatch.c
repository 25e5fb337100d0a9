// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "netstat.h"
#include "nswatch.h"
#include "nswatch_int.h"
#include "nswatch_state.h"
#include "rowindex.h"

const char *const nswatch_counter_names[NSC_NR] = {
	"ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "TCPReqQFullDoCookies",
	"SyncookiesSent",
};

/* Complete refreshes in a row a namespace may be missing before its state
 * goes. Liveness needs none of it (it asks about the last refresh only);
 * it is kept so that an inode handed out again soon to a new namespace is
 * still seen for one (its counters went backwards), as before. */
#define NS_GRACE_REFRESHES	8


static void *grow(void *arr, size_t *cap, size_t len, size_t elem)
{
	size_t ncap;
	void *p;

	if (len < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(arr, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}

static size_t ns_hash(__u32 ino)
{
	return rowindex__mix(ino);
}

static size_t ns_hash_row(const void *rows, size_t i)
{
	return ns_hash(((const struct ns_state *)rows)[i].ino);
}

static bool ns_is(const void *rows, size_t i, const void *key)
{
	return ((const struct ns_state *)rows)[i].ino == *(const __u32 *)key;
}

static const struct rowindex_ops ns_index_ops = { .hash_row = ns_hash_row, .row_is = ns_is };

static struct ns_state *ns_find(const struct nswatch *w, __u32 ino)
{
	size_t *slot;

	if (!w->ns_index.cap)
		return NULL;
	slot = rowindex__slot(&w->ns_index, &ns_index_ops, w->ns, ns_hash(ino), &ino);
	return *slot ? &w->ns[*slot - 1] : NULL;
}

static struct ns_state *ns_state(struct nswatch *w, __u32 ino)
{
	struct ns_state *a;
	size_t *slot;

	if (rowindex__reserve(&w->ns_index, &ns_index_ops, w->ns, w->nns))
		return NULL;
	slot = rowindex__slot(&w->ns_index, &ns_index_ops, w->ns, ns_hash(ino), &ino);
	if (*slot)
		return &w->ns[*slot - 1];
	a = grow(w->ns, &w->cap_ns, w->nns, sizeof(*a));
	if (!a)
		return NULL;
	w->ns = a;
	memset(&w->ns[w->nns], 0, sizeof(*a));
	w->ns[w->nns].ino = ino;
	*slot = ++w->nns;
	return &w->ns[w->nns - 1];
}

enum { FAIL_FIND, FAIL_COUNTERS, FAIL_LISTENERS, FAIL_DENIED };

static const char *const failure_what[4] = {
	"cannot look for a namespace there", "cannot read its TcpExt counters",
	"cannot read its listeners (sock_diag)", "may not look at its namespace",
};

/* Counted always (nswatch__failures); said when a kind fails with another
 * error than it last said: serve meets the same failure at every refresh
 * while it lasts. */
static void failed(struct nswatch *w, int kind, const char *where, int err)
{
	__u64 *n[4] = { &w->failures.find, &w->failures.counters, &w->failures.listeners,
			&w->failures.denied };

	(*n[kind])++;
	/* A process nettune may not look at is the host's lasting setup, not
	 * a failure to warn of at every start (before, it went unsaid). */
	if (w->warned[kind] == err || kind == FAIL_DENIED) {
		debug("%s: %s: %s", where, failure_what[kind], strerror(-err));
		return;
	}
	w->warned[kind] = err;
	warn("%s: %s: %s (counted in the census's failures; not said again for this error)",
	     where, failure_what[kind], strerror(-err));
}

struct lst_id {
	__u32 netns;
	__u64 cookie;
};

static size_t lst_hash(__u32 netns, __u64 cookie)
{
	return rowindex__mix(cookie ^ ((__u64)netns << 32 | netns));
}

static size_t lst_hash_row(const void *rows, size_t i)
{
	const struct lst_state *s = &((const struct lst_state *)rows)[i];

	return lst_hash(s->pub.netns, s->pub.diag.cookie);
}

static bool lst_is(const void *rows, size_t i, const void *key)
{
	const struct lst_state *s = &((const struct lst_state *)rows)[i];
	const struct lst_id *id = key;

	return s->pub.netns == id->netns && s->pub.diag.cookie == id->cookie;
}

static const struct rowindex_ops lst_index_ops = { .hash_row = lst_hash_row, .row_is = lst_is };

static struct lst_state *lst_state(struct nswatch *w, __u32 netns, __u64 cookie, bool *fresh)
{
	struct lst_id id = { .netns = netns, .cookie = cookie };
	struct lst_state *a;
	size_t *slot;

	*fresh = false;
	if (rowindex__reserve(&w->index, &lst_index_ops, w->lst, w->nlst))
		return NULL;
	slot = rowindex__slot(&w->index, &lst_index_ops, w->lst, lst_hash(netns, cookie), &id);
	if (*slot)
		return &w->lst[*slot - 1];
	a = grow(w->lst, &w->cap_lst, w->nlst, sizeof(*a));
	if (!a)
		return NULL;
	w->lst = a;
	memset(&w->lst[w->nlst], 0, sizeof(*a));
	/* The key is set here, so that the index can find it at once. */
	w->lst[w->nlst].pub.netns = netns;
	w->lst[w->nlst].pub.diag.cookie = cookie;
	*slot = ++w->nlst;
	*fresh = true;
	return &w->lst[w->nlst - 1];
}

static int read_listeners(struct nswatch *w, struct ns_state *ns, int fd)
{
	struct sockdiag_listener *ls = NULL;
	size_t n = 0;
	__u32 ino = ns->ino;
	int err = w->src->listeners(w->src->ctx, fd, ino, &ls, &n);
	bool first = !ns->listed;

	for (size_t i = 0; !err && i < n; i++) {
		bool fresh;
		struct lst_state *s = lst_state(w, ino, ls[i].cookie, &fresh);

		if (!s) {
			err = -ENOMEM;
			break;
		}
		s->pub.netns = ino;
		s->pub.diag = ls[i];
		if (fresh)	/* a listener born after attach starts from 0 */
			s->base_drops = s->prev_drops = first ? ls[i].drops : 0;
		s->seen = true;
	}
	free(ls);
	if (!err)
		ns->listeners_read = ns->listed = true;
	return err;
}

static bool went_back(const struct ns_state *ns)
{
	for (int c = 0; c < NSC_NR; c++)
		if (ns->cur[c] < ns->prev[c])
			return true;
	return false;
}

static int read_counters(struct nswatch *w, struct ns_state *ns, int fd)
{
	__u64 cur[NSC_NR];
	int err = w->src->counters(w->src->ctx, fd, ns->ino, cur);

	if (err)
		return err;	/* cur, prev and base stay: no growth is seen */
	memcpy(ns->cur, cur, sizeof(cur));
	if (!ns->has_base) {
		memcpy(ns->base, ns->cur, sizeof(ns->base));
		memcpy(ns->prev, ns->cur, sizeof(ns->prev));
		ns->has_base = true;
	} else if (went_back(ns)) {
		/* A namespace's inode number is handed out again once it is
		 * gone (the lowest free one): counters that went backwards are
		 * a new namespace's, born since the last refresh and so counted
		 * from 0, not from the dead one's values. */
		memset(ns->base, 0, sizeof(ns->base));
		memset(ns->prev, 0, sizeof(ns->prev));
	}
	ns->counters_read = true;
	return 0;
}

void nswatch__found(struct nswatch *w, __u32 ino, int fd)
{
	struct ns_state *ns;
	char where[32];
	int err;

	if (!ino || (w->only && ino != w->only))
		return;
	ns = ns_state(w, ino);
	if (!ns) {
		w->complete = false;	/* not recorded: it may look gone */
		return;
	}
	if (ns->found)
		return;	/* already read through another process */
	ns->found = true;
	ns->missed = 0;
	if (ino == w->only)
		w->only_found = true;
	snprintf(where, sizeof(where), "netns %u", ino);
	/* Each read on its own: a namespace whose counters cannot be read
	 * may still list its listeners, and the other way round. */
	err = read_counters(w, ns, fd);
	if (err)
		failed(w, FAIL_COUNTERS, where, err);
	err = read_listeners(w, ns, fd);
	if (err)
		failed(w, FAIL_LISTENERS, where, err);
}

/* EACCES and EPERM on /proc/PID/ns/net are a process nettune may never
 * look at (another user namespace's, an LSM's rule): it stays so, and
 * taking the search for incomplete would keep every gone namespace's rows
 * for good. Its namespace is not in the census (docs/reclaim.md, Limits).
 * Any other error (EMFILE, ENFILE, ENOMEM...) passes. */
void nswatch__not_found(struct nswatch *w, const char *what, int err)
{
	if (err == -EACCES || err == -EPERM) {
		failed(w, FAIL_DENIED, what, err);
		return;
	}
	w->complete = false;
	failed(w, FAIL_FIND, what, err);
}

static __u32 ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (__u32)st.st_ino;
}

/* Visits one candidate namespace file. A process that exited since the
 * directory was read is no failure; any other error is (nswatch__not_found
 * says which make the search incomplete). */
static void visit(struct nswatch *w, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	__u32 ino;

	if (fd < 0) {
		if (errno != ENOENT && errno != ESRCH)
			nswatch__not_found(w, path, -errno);
		return;
	}
	ino = ino_of_fd(fd);
	if (ino)
		nswatch__found(w, ino, fd);
	else
		nswatch__not_found(w, path, -errno);
	close(fd);
}

static void scan(struct nswatch *w, const char *dir, const char *fmt)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[300];

	if (!d) {
		if (errno != ENOENT || !strcmp(dir, "/proc"))	/* no /run/netns: none there */
			nswatch__not_found(w, dir, -errno);
		return;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				nswatch__not_found(w, dir, -errno);
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (!strcmp(dir, "/proc") && (e->d_name[0] < '0' || e->d_name[0] > '9'))
			continue;
		snprintf(path, sizeof(path), fmt, e->d_name);
		visit(w, path);
		if (w->only_found)
			break;	/* the one namespace asked for is read */
	}
	closedir(d);
}

static void find_procfs(struct nswatch *w, void *ctx)
{
	(void)ctx;
	scan(w, "/proc", "/proc/%s/ns/net");
	if (!w->only_found)
		scan(w, "/run/netns", "/run/netns/%s");
}

static int counters_procfs(void *ctx, int fd, __u32 ino, __u64 cur[NSC_NR])
{
	struct netstat st = {};
	bool found;
	int err;

	(void)ctx;
	(void)ino;
	err = netstat__read(fd, &st);
	if (err)
		return err;
	for (int c = 0; c < NSC_NR; c++)
		cur[c] = netstat__get(&st, "TcpExt", nswatch_counter_names[c], &found);
	netstat__free(&st);
	return 0;
}

static int listeners_procfs(void *ctx, int fd, __u32 ino, struct sockdiag_listener **ls,
			    size_t *n)
{
	(void)ctx;
	(void)ino;
	return sockdiag__listeners(fd, ls, n);
}

static const struct nswatch_src procfs_src = {
	.find = find_procfs,
	.counters = counters_procfs,
	.listeners = listeners_procfs,
	.owners = nswatch__resolve_owners_procfs,
};

static void publish(struct nswatch *w)
{
	w->nout = 0;
	for (size_t i = 0; i < w->nns; i++) {
		struct ns_state *ns = &w->ns[i];
		const __u64 *from = w->total ? ns->base : ns->prev;
		struct nswatch_ns *o = &w->out_ns[w->nout];

		/* Not found while the search was incomplete: unknown, so as
		 * last read, like a namespace found but not read. */
		if (!ns->found && w->complete)
			continue;
		memset(o, 0, sizeof(*o));
		o->ino = ns->ino;
		o->counters_read = ns->counters_read;
		o->listeners_read = ns->listeners_read;
		/* Not read now: its last counters (no growth); never read: 0. */
		for (int c = 0; ns->has_base && c < NSC_NR; c++)
			o->delta[c] = ns->cur[c] - from[c];
		w->nout++;
		memcpy(ns->prev, ns->cur, sizeof(ns->prev));
	}
	w->nout_lst = 0;
	for (size_t i = 0; i < w->nlst; i++) {
		struct lst_state *s = &w->lst[i];

		if (!s->seen)
			continue;
		s->pub.drops_delta = s->pub.diag.drops - (w->total ? s->base_drops : s->prev_drops);
		s->prev_drops = s->pub.diag.drops;
		w->out_lst[w->nout_lst++] = i;
	}
}

/* The listeners of a namespace found but whose sock_diag read failed, and
 * while the search was incomplete those of any namespace not found, stay
 * as last read (stale): they may be open, their baselines must not be
 * lost, and a listener missing from one report would have its SYN-time
 * overflows go to 0 and back (counted twice by serve). */
static void keep_unread(struct nswatch *w)
{
	for (size_t i = 0; i < w->nlst; i++) {
		struct lst_state *s = &w->lst[i];
		const struct ns_state *ns;

		if (s->seen)
			continue;
		ns = ns_find(w, s->pub.netns);
		if ((ns && ns->found) ? !ns->listeners_read : !w->complete)
			s->seen = s->pub.stale = true;
	}
}

/* Listeners not seen at this refresh are closed, and a socket cookie is
 * never handed out again: their state goes, so that weeks of short-lived
 * listeners (nettune serve) do not grow it without bound. Done once they
 * are half of it, which keeps the cost a constant per listener. */
static void forget_closed(struct nswatch *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->nlst; i++)
		kept += w->lst[i].seen;
	if (w->nlst < 64 || kept > w->nlst / 2)
		return;
	kept = 0;
	for (size_t i = 0; i < w->nlst; i++)
		if (w->lst[i].seen)
			w->lst[kept++] = w->lst[i];
	w->nlst = kept;
	if (rowindex__rebuild(&w->index, &lst_index_ops, w->lst, w->nlst)) {
		/* No memory for the index: an empty one, rebuilt as listeners
		 * are met again (their baselines then restart). */
		rowindex__free(&w->index);
		w->nlst = 0;
	}
}

/* Namespaces missing from NS_GRACE_REFRESHES complete refreshes in a row
 * are gone: their state goes (weeks of pod churn must not grow it). A
 * refresh whose search failed somewhere ages nothing. */
static void forget_gone(struct nswatch *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->nns; i++) {
		struct ns_state *ns = &w->ns[i];

		if (!ns->found && ++ns->missed >= NS_GRACE_REFRESHES)
			continue;
		w->ns[kept++] = *ns;
	}
	if (kept == w->nns)
		return;
	w->nns = kept;
	/* The index shrinks with the namespaces, not only grows. */
	if (w->ns_index.cap > 64 && (w->nns + 1) * 8 < w->ns_index.cap)
		rowindex__free(&w->ns_index);
	if (rowindex__rebuild(&w->ns_index, &ns_index_ops, w->ns, w->nns)) {
		/* No memory for the index: start again with none (baselines
		 * restart, as for a namespace found for the first time). */
		rowindex__free(&w->ns_index);
		w->nns = 0;
	}
}

int nswatch__refresh(struct nswatch *w, bool total)
{
	void *a;

	for (size_t i = 0; i < w->nns; i++) {
		w->ns[i].found = w->ns[i].counters_read = w->ns[i].listeners_read = false;
	}
	for (size_t i = 0; i < w->nlst; i++)
		w->lst[i].seen = w->lst[i].pub.stale = false;
	w->complete = true;
	w->only_found = false;
	w->src->find(w, w->src->ctx);
	keep_unread(w);
	if (w->complete) {	/* else nothing is known gone */
		forget_closed(w);
		forget_gone(w);
	}
	a = realloc(w->out_ns, (w->nns + 1) * sizeof(*w->out_ns));
	if (!a)
		return -ENOMEM;
	w->out_ns = a;
	a = realloc(w->out_lst, (w->nlst + 1) * sizeof(*w->out_lst));
	if (!a)
		return -ENOMEM;
	w->out_lst = a;
	w->total = total;
	publish(w);
	return 0;
}

struct nswatch *nswatch__new_src(__u32 ino, const struct nswatch_src *src)
{
	struct nswatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->only = ino;
	w->src = src;
	if (nswatch__refresh(w, true)) {
		nswatch__free(w);
		return NULL;
	}
	return w;
}

struct nswatch *nswatch__new(__u32 ino)
{
	return nswatch__new_src(ino, &procfs_src);
}

void nswatch__free(struct nswatch *w)
{
	if (!w)
		return;
	free(w->ns);
	rowindex__free(&w->ns_index);
	free(w->out_ns);
	free(w->lst);
	rowindex__free(&w->index);
	free(w->out_lst);
	free(w);
}

size_t nswatch__ns_count(const struct nswatch *w)
{
	return w->nout;
}

const struct nswatch_ns *nswatch__ns(const struct nswatch *w, size_t i)
{
	return i < w->nout ? &w->out_ns[i] : NULL;
}

bool nswatch__complete(const struct nswatch *w)
{
	return w->complete;
}

const struct nswatch_failures *nswatch__failures(const struct nswatch *w)
{
	return &w->failures;
}

size_t nswatch__ns_state_count(const struct nswatch *w)
{
	return w->nns;
}

size_t nswatch__listener_count(const struct nswatch *w)
{
	return w->nout_lst;
}

static void resolve_owners(struct nswatch *w)
{
	if (w->src->owners) {
		w->src->owners(w);
		return;
	}
	for (size_t i = 0; i < w->nout_lst; i++)	/* a source without owners */
		w->lst[w->out_lst[i]].owner_known = true;
}

const struct nswatch_listener *nswatch__listener(struct nswatch *w, size_t i)
{
	struct lst_state *s;

	if (i >= w->nout_lst)
		return NULL;
	s = &w->lst[w->out_lst[i]];
	if (!s->owner_known)
		resolve_owners(w);
	return &s->pub;
}
