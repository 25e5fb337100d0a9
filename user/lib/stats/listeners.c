// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The listener table: identity, the rows families fill in place, and the
 * join with the sock_diag census (listeners.h says who wins where). */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "listeners.h"
#include "listeners_int.h"
#include "nswatch.h"
#include "rowindex.h"

struct listener_table {
	struct listener_row *rows;
	size_t len, cap;
	/* key -> row: every family looks its listeners up at every report, and
	 * a linear search made that quadratic (0.24 s of CPU per report with
	 * 10,000 listeners). Stale after a sort or filter reorders rows. */
	struct rowindex index;
	bool index_stale;
	struct nswatch *census;	/* NULL unless watching */
	struct listener_totals totals;	/* of the last join, before -p */
	bool ack_overflows_unseen;	/* see listener_table__ack_overflows_unseen() */
};

struct listener_table *listener_table__new(void)
{
	return calloc(1, sizeof(struct listener_table));
}

static void free_row(struct listener_row *r)
{
	sparse_hist__free(&r->wait);
	free(r->sockets);
	free(r->acceptors);
}

static void reset_rows(struct listener_table *t)
{
	for (size_t i = 0; i < t->len; i++)
		free_row(&t->rows[i]);
	t->len = 0;
	t->index_stale = true;
}

void listener_table__free(struct listener_table *t)
{
	if (!t)
		return;
	reset_rows(t);
	free(t->rows);
	rowindex__free(&t->index);
	nswatch__free(t->census);
	free(t);
}

int listener_table__watch(struct listener_table *t, __u32 netns)
{
	if (t->census)
		return 0;
	t->census = nswatch__new(netns);
	return t->census ? 0 : -ENOMEM;
}

int listener_table__begin(struct listener_table *t, bool total)
{
	reset_rows(t);
	return t->census ? nswatch__refresh(t->census, total) : 0;
}

void listener_table__ack_overflows_unseen(struct listener_table *t)
{
	t->ack_overflows_unseen = true;
}

const struct nswatch *listener_table__census(const struct listener_table *t)
{
	return t->census;
}

void listener__key_of_diag(__u32 netns, int family, const __u8 addr[16], __u16 port,
			   struct listener_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->port = port;
	k->family = (__u16)family;
	/* sock_diag fills all 16 bytes for IPv6 and the first 4 for IPv4,
	 * as the BPF side does: copy only those, so the two keys are equal. */
	memcpy(k->addr, addr, family == AF_INET6 ? 16 : 4);
}

static bool same_listener(const struct listener_key *a, const struct listener_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static size_t key_hash(const struct listener_key *k)
{
	unsigned long long a, b;

	memcpy(&a, k->addr, sizeof(a));
	memcpy(&b, k->addr + 8, sizeof(b));
	return rowindex__mix(((unsigned long long)k->netns << 32 | (unsigned)k->port << 16 |
			      k->family) ^ rowindex__mix(a ^ rowindex__mix(b)));
}

static size_t hash_row(const void *rows, size_t i)
{
	return key_hash(&((const struct listener_row *)rows)[i].key);
}

static bool row_is(const void *rows, size_t i, const void *key)
{
	return same_listener(&((const struct listener_row *)rows)[i].key, key);
}

static const struct rowindex_ops index_ops = { .hash_row = hash_row, .row_is = row_is };

/* The index slot of k, with room for one more row; NULL without memory. */
static size_t *index_slot(struct listener_table *t, const struct listener_key *k)
{
	if (t->index_stale) {
		if (rowindex__rebuild(&t->index, &index_ops, t->rows, t->len))
			return NULL;
		t->index_stale = false;
	}
	if (rowindex__reserve(&t->index, &index_ops, t->rows, t->len))
		return NULL;
	return rowindex__slot(&t->index, &index_ops, t->rows, key_hash(k), k);
}

struct listener_row *listener_table__find(struct listener_table *t, const struct listener_key *k)
{
	size_t *slot = index_slot(t, k);

	/* Without memory for the index, listener_table__row() fails too. */
	return slot && *slot ? &t->rows[*slot - 1] : NULL;
}

struct listener_row *listener_table__row(struct listener_table *t, const struct listener_key *k)
{
	size_t *slot = index_slot(t, k);

	if (!slot)
		return NULL;
	if (*slot)
		return &t->rows[*slot - 1];
	if (t->len == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct listener_row *r = realloc(t->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	memset(&t->rows[t->len], 0, sizeof(t->rows[0]));
	t->rows[t->len].key = *k;
	*slot = ++t->len;
	return &t->rows[t->len - 1];
}

size_t listener_table__len(const struct listener_table *t)
{
	return t->len;
}

struct listener_row *listener_table__at(struct listener_table *t, size_t i)
{
	return i < t->len ? &t->rows[i] : NULL;
}

/* Room for one more element in *arr of *n elements of size sz. */
static void *grow(void *arr, size_t n, size_t sz)
{
	/* Rows hold a few sockets and acceptors: grow by powers of two. */
	if (n & (n - 1) || (n && n < 4))
		return arr;
	return realloc(arr, (n ? n * 2 : 4) * sz);
}

static struct listener_acceptor *acceptor_of(struct listener_row *r, int pid)
{
	struct listener_acceptor *a;

	for (size_t i = 0; i < r->nacceptors; i++)
		if (r->acceptors[i].pid == pid)
			return &r->acceptors[i];
	a = grow(r->acceptors, r->nacceptors, sizeof(*a));
	if (!a)
		return NULL;
	r->acceptors = a;
	a = &r->acceptors[r->nacceptors++];
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	return a;
}

int listener_table__add_accepts(struct listener_table *t, const struct listener_key *k,
				int pid, const char comm[16], const struct hist *wait,
				__u32 peak_depth, __u32 limit, __u64 limit_ns)
{
	struct listener_row *r = listener_table__row(t, k);
	struct listener_acceptor *a;

	if (!r || sparse_hist__add_hist(&r->wait, wait))
		return -ENOMEM;
	if (peak_depth > r->peak_depth)
		r->peak_depth = peak_depth;
	if (limit_ns >= r->accept_limit_ns) {	/* the newest limit seen */
		r->accept_limit = limit;
		r->accept_limit_ns = limit_ns;
	}
	a = acceptor_of(r, pid);
	if (!a)
		return -ENOMEM;
	a->accepted += wait->count;
	memcpy(a->comm, comm, sizeof(a->comm));
	a->comm[sizeof(a->comm) - 1] = '\0';
	return 0;
}

int listener_table__add_drops(struct listener_table *t, const struct listener_key *k,
			      __u64 overflow_ack, __u64 overflow_cookie, __u64 synack_retrans,
			      __u64 drops_other)
{
	struct listener_row *r = listener_table__row(t, k);

	if (!r)
		return -ENOMEM;
	/* A SYN-cookie ACK that found the queue full is an ACK-time overflow. */
	r->overflow_ack += overflow_ack + overflow_cookie;
	r->overflow_cookie += overflow_cookie;
	r->synack_retrans += synack_retrans;
	r->drops_other += drops_other;
	return 0;
}

void listener_table__set_cgroup(struct listener_table *t, const struct listener_key *k,
				__u64 cgroup)
{
	struct listener_row *r = cgroup ? listener_table__find(t, k) : NULL;

	if (r && !r->cgroup)
		r->cgroup = cgroup;
}

static bool port_wanted(const struct listener_filter *f, __u16 port)
{
	for (int i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return !f->nports;
}

static bool pid_wanted(const struct listener_filter *f, int pid)
{
	for (int i = 0; i < f->npids; i++)
		if ((int)f->pids[i] == pid)
			return true;
	return false;
}

/* -p: a listener its processes own (any socket of a group) or accept from. */
static bool row_wanted(const struct listener_filter *f, const struct listener_row *r)
{
	bool in_cgroup = !f->ncgroups;

	for (int i = 0; i < f->ncgroups && !in_cgroup; i++)
		in_cgroup = cgroup__within(r->cgroup, f->cgroups[i]);
	if (!in_cgroup)
		return false;
	if (!f->npids || pid_wanted(f, r->pid))
		return true;
	for (size_t i = 0; i < r->nsockets; i++)
		if (pid_wanted(f, r->sockets[i].pid))
			return true;
	for (size_t i = 0; i < r->nacceptors; i++)
		if (pid_wanted(f, r->acceptors[i].pid))
			return true;
	return false;
}

static void keep_wanted(struct listener_table *t, const struct listener_filter *f)
{
	size_t out = 0;

	for (size_t i = 0; i < t->len; i++) {
		if (row_wanted(f, &t->rows[i]))
			t->rows[out++] = t->rows[i];
		else
			free_row(&t->rows[i]);
	}
	t->len = out;
	t->index_stale = true;
}

static int add_socket(struct listener_row *r, const struct nswatch_listener *l)
{
	struct listener_socket *s = grow(r->sockets, r->nsockets, sizeof(*s));

	if (!s)
		return -ENOMEM;
	r->sockets = s;
	s = &r->sockets[r->nsockets++];
	memset(s, 0, sizeof(*s));
	s->inode = l->diag.inode;
	s->limit = l->diag.limit;
	s->queue = l->diag.queue;
	s->pid = l->pid;
	memcpy(s->comm, l->comm, sizeof(s->comm));
	if (!r->seen_in_diag || l->diag.limit > r->limit)
		r->limit = l->diag.limit;
	if (!r->seen_in_diag || l->diag.queue > r->queue)
		r->queue = l->diag.queue;
	if (!r->pid && l->pid) {	/* the first socket with a known owner */
		r->pid = l->pid;
		memcpy(r->comm, l->comm, sizeof(r->comm));
	}
	r->seen_in_diag = true;
	if (l->diag.cgroup)	/* the kernel's word on the socket wins */
		r->cgroup = l->diag.cgroup;
	r->sk_drops += l->drops_delta;
	return 0;
}

static void census_key(const struct nswatch_listener *l, struct listener_key *k)
{
	listener__key_of_diag(l->netns, l->diag.family, l->diag.addr, l->diag.port, k);
}

int listeners__join_sockets(struct listener_table *t, const struct nswatch_listener *const *ls,
			    size_t n, const struct listener_filter *f)
{
	struct listener_key k;
	int err = 0;

	/* First the listeners the census alone has something to say about,
	 * then every socket of every row: a group's quiet sockets too. */
	for (size_t i = 0; i < n; i++) {
		if (!port_wanted(f, ls[i]->diag.port) || (!ls[i]->drops_delta && !ls[i]->diag.queue))
			continue;
		census_key(ls[i], &k);
		if (!listener_table__row(t, &k))
			return -ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++) {
		struct listener_row *r;

		census_key(ls[i], &k);
		r = port_wanted(f, ls[i]->diag.port) ? listener_table__find(t, &k) : NULL;
		if (r)
			err = add_socket(r, ls[i]);
	}
	for (size_t i = 0; i < t->len; i++) {
		struct listener_row *r = &t->rows[i];

		if (!r->seen_in_diag)
			r->limit = r->accept_limit;
		else if (f->syn_time)
			r->overflow_syn = listeners__syn_time(r);
	}
	return err;
}

int listener_table__join(struct listener_table *t, const struct listener_filter *f)
{
	const struct nswatch_listener **ls = NULL;
	size_t n = t->census ? nswatch__listener_count(t->census) : 0;
	int err = 0;

	if (n) {
		ls = calloc(n, sizeof(*ls));
		if (!ls)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			ls[i] = nswatch__listener(t->census, i);
	}
	err = listeners__join_sockets(t, ls, n, f);
	free(ls);
	if (t->census && f->syn_time)
		listeners__split_syn_queue_drops(t, t->census, t->ack_overflows_unseen);
	memset(&t->totals, 0, sizeof(t->totals));
	for (size_t i = 0; i < t->len; i++) {
		t->totals.overflow_syn += t->rows[i].overflow_syn;
		t->totals.overflow_ack += t->rows[i].overflow_ack;
		t->totals.synack_retrans += t->rows[i].synack_retrans;
	}
	keep_wanted(t, f);
	return err;
}

const struct listener_totals *listener_table__totals(const struct listener_table *t)
{
	return &t->totals;
}

/* How much one event grows the listener's sk_drops (measured on 6.18): an
 * ACK-time overflow is counted by tcp_listendrop() and again when
 * tcp_v4_rcv() discards the ACK (sk_drops_add); a SYN-cookie ACK that
 * overflows only by tcp_listendrop() (tcp_v4_do_rcv discards it without
 * sk_drops_add); other drops of a listener's packets only by the discard. */
#define SK_DROPS_PER_ACK_OVERFLOW	2
#define SK_DROPS_PER_COOKIE_OVERFLOW	1
#define SK_DROPS_PER_OTHER_DROP		1

__u64 listeners__syn_time(const struct listener_row *r)
{
	__u64 seen_as_events = SK_DROPS_PER_ACK_OVERFLOW * (r->overflow_ack - r->overflow_cookie) +
			       SK_DROPS_PER_COOKIE_OVERFLOW * r->overflow_cookie +
			       SK_DROPS_PER_OTHER_DROP * r->drops_other + r->syn_queue_drops;

	return r->sk_drops > seen_as_events ? r->sk_drops - seen_as_events : 0;
}

void listeners__cap_syn_time(struct listener_table *t, __u32 netns, __u64 listen_overflows,
			     bool to_syn_queue)
{
	__u64 unexplained = 0, ack = 0, syn_overflows;

	for (size_t i = 0; i < t->len; i++) {
		if (t->rows[i].key.netns == netns) {
			unexplained += t->rows[i].overflow_syn;
			ack += t->rows[i].overflow_ack;
		}
	}
	/* The namespace counter says how many were overflows. */
	syn_overflows = listen_overflows > ack ? listen_overflows - ack : 0;
	for (size_t i = 0; unexplained && i < t->len; i++) {
		struct listener_row *r = &t->rows[i];

		/* A share, never more: with --port the rows hold some of the
		 * namespace's listeners, its counters all of them. */
		if (r->key.netns == netns && syn_overflows < unexplained) {
			__u64 share = r->overflow_syn * syn_overflows / unexplained;

			if (to_syn_queue)
				r->syn_queue_drops += r->overflow_syn - share;
			r->overflow_syn = share;
		}
	}
}

void listeners__split_syn_queue_drops(struct listener_table *t, const struct nswatch *census,
				      bool ack_overflows_unseen)
{
	for (size_t n = 0; n < nswatch__ns_count(census); n++) {
		const struct nswatch_ns *ns = nswatch__ns(census, n);

		/* Where ACK-time overflows have no event they grow sk_drops
		 * unexplained too: cap by ListenOverflows always there. */
		if (!ns->delta[NSC_REQQ_FULL_DROP] && !ack_overflows_unseen)
			continue;
		listeners__cap_syn_time(t, ns->ino, ns->delta[NSC_LISTEN_OVERFLOWS],
					ns->delta[NSC_REQQ_FULL_DROP] != 0);
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct listener_row *x = a, *y = b;
	__u64 wx = x->wait.count + x->overflow_syn + x->overflow_ack;
	__u64 wy = y->wait.count + y->overflow_syn + y->overflow_ack;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	if (x->key.port != y->key.port)
		return x->key.port < y->key.port ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

void listener_table__sort(struct listener_table *t)
{
	qsort(t->rows, t->len, sizeof(t->rows[0]), cmp_rows);
	t->index_stale = true;
}
