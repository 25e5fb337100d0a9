// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/printbuf.h>
#include "listeners.h"
#include "report.h"
#include "rowindex.h"

struct listener_table {
	struct listener_row *rows;
	size_t len, cap;
	/* key -> row: every probe looks its listeners up at every report, and
	 * a linear search made that quadratic (0.24 s of CPU per report with
	 * 10,000 listeners). Stale after a sort or filter reorders rows. */
	struct rowindex index;
	bool index_stale;
};

struct listener_table *listener_table__new(void)
{
	return calloc(1, sizeof(struct listener_table));
}

static void free_hists(struct listener_table *t)
{
	for (size_t i = 0; i < t->len; i++)
		sparse_hist__free(&t->rows[i].wait);
}

void listener_table__free(struct listener_table *t)
{
	if (!t)
		return;
	free_hists(t);
	free(t->rows);
	rowindex__free(&t->index);
	free(t);
}

void listener_table__reset(struct listener_table *t)
{
	free_hists(t);
	t->len = 0;
	t->index_stale = true;
}

static bool same_listener(const struct listener_key *a, const struct listener_key *b)
{
	return a->netns == b->netns && a->port == b->port && a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
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

bool listener_table__row_exists(struct listener_table *t, const struct listener_key *k)
{
	size_t *slot = index_slot(t, k);

	/* Without memory for the index, listener_table__row() fails too. */
	return slot && *slot;
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

void listener_table__keep_pids(struct listener_table *t, const __u32 *pids, int n)
{
	size_t out = 0;

	if (!n)
		return;
	for (size_t i = 0; i < t->len; i++) {
		int j = 0;

		while (j < n && t->rows[i].pid != (int)pids[j])
			j++;
		if (j < n)
			t->rows[out++] = t->rows[i];
		else
			sparse_hist__free(&t->rows[i].wait);
	}
	t->len = out;
	t->index_stale = true;
}

void listener__format(const struct listener_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (k->family == AF_INET6) {
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, k->port);
	} else {
		inet_ntop(AF_INET, k->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, k->port);
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct listener_row *x = a, *y = b;
	__u64 wx = x->wait.count + x->overflow_syn + x->overflow_ack;
	__u64 wy = y->wait.count + y->overflow_syn + y->overflow_ack;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return x->key.port < y->key.port ? -1 : x->key.port > y->key.port;
}

/* Reports show the busiest listeners first. */
static void sort_rows(struct listener_table *t)
{
	qsort(t->rows, t->len, sizeof(t->rows[0]), cmp_rows);
	t->index_stale = true;
}

void listener_table__print(struct listener_table *t, FILE *out)
{
	char addr[64], p50[24], p99[24];

	if (!t->len)
		return;
	sort_rows(t);
	fprintf(out, "listeners:\n  %-21s %-10s %-14s %6s %5s %5s %8s %8s %8s %6s %9s %9s\n",
		"address", "netns", "owner", "limit", "queue", "peak", "accepted",
		"ovfl-syn", "ovfl-ack", "synack", "wait p50", "wait p99");
	for (size_t i = 0; i < t->len; i++) {
		struct listener_row *r = &t->rows[i];
		char owner[32];

		listener__format(&r->key, addr, sizeof(addr));
		snprintf(owner, sizeof(owner), "%d/%s", r->pid, r->comm[0] ? r->comm : "?");
		hist__fmt_ns(p50, sizeof(p50), sparse_hist__quantile(&r->wait, 0.5));
		hist__fmt_ns(p99, sizeof(p99), sparse_hist__quantile(&r->wait, 0.99));
		fprintf(out, "  %-21.21s %-10u %-14.14s %6u %5u %5u %8llu %8llu %8llu %6llu ", addr,
			r->key.netns, r->pid ? owner : "-", r->limit, r->queue, r->peak_depth,
			(unsigned long long)r->wait.count, (unsigned long long)r->overflow_syn,
			(unsigned long long)r->overflow_ack, (unsigned long long)r->synack_retrans);
		report__pad(out, r->wait.count ? p50 : "-", 9, 1);
		fputc(' ', out);
		report__pad(out, r->wait.count ? p99 : "-", 9, 1);
		fputc('\n', out);
	}
}

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *row_json(const struct listener_row *r)
{
	struct json_object *o = json_object_new_object(), *ov;
	struct hist_summary wait;
	char addr[64];

	listener__format(&r->key, addr, sizeof(addr));
	json_object_object_add(o, "address", json_object_new_string(addr));
	add_u64(o, "port", r->key.port);
	add_u64(o, "netns", r->key.netns);
	add_u64(o, "pid", (__u64)(r->pid > 0 ? r->pid : 0));
	json_object_object_add(o, "comm", json_object_new_string(r->comm));
	add_u64(o, "backlog_limit", r->limit);
	add_u64(o, "queue", r->queue);
	add_u64(o, "peak_queue", r->peak_depth);
	add_u64(o, "accepted", r->wait.count);
	ov = json_object_new_object();
	add_u64(ov, "total", r->overflow_syn + r->overflow_ack);
	add_u64(ov, "syn_time", r->overflow_syn);
	add_u64(ov, "ack_time", r->overflow_ack);
	add_u64(ov, "ack_time_syncookie", r->overflow_cookie);
	json_object_object_add(ov, "observed_by", json_object_new_string(
		"syn_time: growth of the listener's sk_drops (sock_diag) not explained by "
		"events; ack_time: skb:kfree_skb with rx_sk = the listener, reason "
		"TCP_LISTEN_OVERFLOW, or NO_SOCKET for a SYN-cookie ACK"));
	json_object_object_add(o, "overflows", ov);
	add_u64(o, "sk_drops", r->sk_drops);
	add_u64(o, "synack_retransmits", r->synack_retrans);
	add_u64(o, "other_drops", r->drops_other);
	sparse_hist__summarize(&r->wait, &wait);
	json_object_object_add(o, "accept_wait", report__summary_json(&wait));
	return o;
}

struct json_object *listener_table__json(struct listener_table *t)
{
	struct json_object *arr = json_object_new_array();

	sort_rows(t);
	for (size_t i = 0; i < t->len; i++)
		json_object_array_add(arr, row_json(&t->rows[i]));
	return arr;
}

/* json-c's serializer of the printed array: each row's objects live only
 * while that row is written. The text is what json-c writes for the array
 * of listener_table__json() with JSON_C_TO_STRING_PLAIN. */
static int print_rows(struct json_object *arr, struct printbuf *pb, int level, int flags)
{
	const struct listener_table *t = json_object_get_userdata(arr);

	(void)level;
	printbuf_strappend(pb, "[");
	for (size_t i = 0; i < t->len; i++) {
		struct json_object *o = row_json(&t->rows[i]);
		const char *text = json_object_to_json_string_ext(o, flags);

		if (i)
			printbuf_strappend(pb, ",");
		printbuf_memappend(pb, text, (int)strlen(text));
		json_object_put(o);
	}
	printbuf_strappend(pb, "]");
	return 0;
}

struct json_object *listener_table__json_printer(struct listener_table *t)
{
	struct json_object *arr = json_object_new_array();

	sort_rows(t);
	json_object_set_serializer(arr, print_rows, t, NULL);
	return arr;
}
