// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "topmodel.h"
#include "listeners_int.h"

const char *const top_family_names[TOP_FAMILY_NR] = { "connect", "accept wait", "read wait" };
const char *const top_sort_names[TOP_SORT_NR] = {
	"overflows", "accepts/s", "queue", "wait p99", "address",
};
/* Where each family's latency object sits in the report (docs/json.md):
 * under the family's key, then (read) its view. */
static const char *const report_keys[TOP_FAMILY_NR][2] = {
	{ "connect", NULL }, { "accept", NULL }, { "read", "wait" },
};

int topmodel__init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
	m->since_start = listener_table__new();
	return m->since_start ? 0 : -ENOMEM;
}

void topmodel__free(struct top_model *m)
{
	listener_table__free(m->since_start);
	free(m->ns);
	free(m->all);
	free(m->lines);
	memset(m, 0, sizeof(*m));
}

int topmodel__heat_bin(double us)
{
	int b;

	if (!(us >= 1))
		return 0;
	b = (int)floor(2 * log10(us));
	return b < TOP_HEAT_BINS ? b : TOP_HEAT_BINS - 1;
}

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

/* The family's latency object of the report: its summary and its buckets
 * into the heatmap's newest column. */
static void fold_latency(struct top_model *m, enum top_family f, struct json_object *report,
			 __u32 *column)
{
	struct top_latency *l = &m->latency[f];
	struct json_object *o, *buckets;

	memset(l, 0, sizeof(*l));
	if (!report || !json_object_object_get_ex(report, report_keys[f][0], &o) ||
	    (report_keys[f][1] && !json_object_object_get_ex(o, report_keys[f][1], &o)))
		return;
	l->measured = true;
	l->count = (__u64)num(o, "count");
	l->p50_us = num(o, "p50_us");
	l->p90_us = num(o, "p90_us");
	l->p99_us = num(o, "p99_us");
	l->max_us = num(o, "max_us");
	if (!json_object_object_get_ex(o, "buckets", &buckets))
		return;
	for (size_t i = 0; i < json_object_array_length(buckets); i++) {
		struct json_object *b = json_object_array_get_idx(buckets, i);
		double lo = num(b, "lo_us"), hi = num(b, "hi_us");

		column[topmodel__heat_bin(hi > lo ? (lo + hi) / 2 : lo)] += (__u32)num(b, "count");
	}
}

/* Adds one interval's row of a listener to its row since start (SYN-time
 * overflows: see since_start_syn_time()). */
static int fold_listener(struct top_model *m, const struct listener_row *r)
{
	struct listener_row *s = listener_table__row(m->since_start, &r->key);

	if (!s || sparse_hist__add(&s->wait, &r->wait))
		return -ENOMEM;
	s->sk_drops += r->sk_drops;
	s->overflow_ack += r->overflow_ack;
	s->overflow_cookie += r->overflow_cookie;
	s->drops_other += r->drops_other;
	s->syn_queue_drops += r->syn_queue_drops;
	s->queue = r->queue;
	if (r->limit)
		s->limit = r->limit;
	if (r->peak_depth > s->peak_depth)
		s->peak_depth = r->peak_depth;
	if (r->pid) {
		s->pid = r->pid;
		memcpy(s->comm, r->comm, sizeof(s->comm));
	}
	return 0;
}

static void line_of(struct top_line *l, struct listener_row *s, struct listener_table *t,
		    double secs)
{
	const struct listener_row *r;

	memset(l, 0, sizeof(*l));
	l->key = s->key;
	listener__format(&s->key, l->address, sizeof(l->address));
	if (s->pid)
		snprintf(l->owner, sizeof(l->owner), "%d/%s", s->pid, s->comm[0] ? s->comm : "?");
	else
		snprintf(l->owner, sizeof(l->owner), "-");
	l->queue = s->queue;
	l->limit = s->limit;
	l->peak = s->peak_depth;
	l->overflows = s->overflow_syn + s->overflow_ack;
	l->accepted = s->wait.count;
	if (s->wait.count) {
		l->wait_p50_ns = sparse_hist__quantile(&s->wait, 0.5);
		l->wait_p99_ns = sparse_hist__quantile(&s->wait, 0.99);
	}
	r = secs > 0 ? listener_table__find(t, &s->key) : NULL;
	if (r) {
		l->accepts_per_s = (double)r->wait.count / secs;
		l->overflows_per_s = (double)(r->overflow_syn + r->overflow_ack) / secs;
	}
}

/* Every listener seen since start, with this interval's rates. */
static int fill(struct top_model *m, struct listener_table *t, double secs)
{
	size_t n = listener_table__len(m->since_start);

	if (n > m->cap) {
		struct top_line *all = realloc(m->all, n * sizeof(*all));
		struct top_line *lines = realloc(m->lines, n * sizeof(*lines));

		if (all)
			m->all = all;
		if (lines)
			m->lines = lines;
		if (!all || !lines)
			return -ENOMEM;
		m->cap = n;
	}
	for (size_t i = 0; i < n; i++)
		line_of(&m->all[i], listener_table__at(m->since_start, i), t, secs);
	m->nlisteners = n;
	return 0;
}

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? 1 : a > b ? -1 : 0;	/* largest first */
}

static int cmp_lines(const void *pa, const void *pb, void *ctx)
{
	const struct top_line *a = pa, *b = pb;
	int c = 0;

	switch (*(const enum top_sort *)ctx) {
	case TOP_SORT_OVERFLOWS: c = cmp_u64(a->overflows, b->overflows); break;
	case TOP_SORT_ACCEPTS:
		c = a->accepts_per_s < b->accepts_per_s ? 1 : a->accepts_per_s > b->accepts_per_s ? -1 : 0;
		break;
	case TOP_SORT_QUEUE: c = cmp_u64(a->queue, b->queue); break;
	case TOP_SORT_WAIT: c = cmp_u64(a->wait_p99_ns, b->wait_p99_ns); break;
	default: break;
	}
	/* then by address and the rest of the key (one address in two
	 * namespaces), so that the order never flickers */
	if (!c)
		c = strcmp(a->address, b->address);
	return c ? c : memcmp(&a->key, &b->key, sizeof(a->key));
}

static bool wanted(const struct top_model *m, const struct top_line *l)
{
	return !m->filter[0] || strstr(l->address, m->filter) || strstr(l->owner, m->filter);
}

int topmodel__view(struct top_model *m)
{
	m->nlines = 0;
	for (size_t i = 0; i < m->nlisteners; i++)
		if (wanted(m, &m->all[i]))
			m->lines[m->nlines++] = m->all[i];
	qsort_r(m->lines, m->nlines, sizeof(m->lines[0]), cmp_lines, &m->sort);
	return 0;
}

/* Adds an interval report's namespace counters to those since start. */
static int fold_namespaces(struct top_model *m, struct json_object *report)
{
	struct json_object *drops, *arr;

	if (!report || !json_object_object_get_ex(report, "drops", &drops) ||
	    !json_object_object_get_ex(drops, "namespaces", &arr))
		return 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		__u32 netns = (__u32)num(o, "netns");
		size_t n = 0;

		while (n < m->nns && m->ns[n].netns != netns)
			n++;
		if (n == m->nns) {
			struct top_ns_overflows *ns = realloc(m->ns, (m->nns + 1) * sizeof(*ns));

			if (!ns)
				return -ENOMEM;
			m->ns = ns;
			m->ns[m->nns++] = (struct top_ns_overflows){ .netns = netns };
		}
		m->ns[n].listen_overflows += (__u64)num(o, "ListenOverflows");
	}
	return 0;
}

/* SYN-time overflows since start, worked out again from the summed inputs
 * (sk_drops growth and the events): an event read in the interval after
 * its sk_drops growth would otherwise count twice, once per interval. Then
 * capped, like each interval's, by each namespace's ListenOverflows since
 * start: where a kernel gives ACK-time overflows no event (before 6.9,
 * TCP_LISTEN_OVERFLOW), each grows sk_drops by two and would count twice.
 * A namespace the reports never named keeps its sum: no counter, no cap. */
static void since_start_syn_time(struct top_model *m, bool syn_time)
{
	for (size_t i = 0; i < listener_table__len(m->since_start); i++) {
		struct listener_row *s = listener_table__at(m->since_start, i);

		s->overflow_syn = syn_time ? listeners__syn_time(s) : 0;
	}
	for (size_t n = 0; syn_time && n < m->nns; n++)
		listeners__cap_syn_time(m->since_start, m->ns[n].netns, m->ns[n].listen_overflows,
					false);
}

int topmodel__update(struct top_model *m, struct listener_table *t, struct json_object *report,
		     double secs)
{
	__u32 *column;
	int err = 0;

	/* SYN-time overflows are known when the drops family runs. */
	bool syn_time = report && json_object_object_get_ex(report, "drops", NULL);

	m->interval_s = secs;
	for (size_t i = 0; i < listener_table__len(m->since_start); i++)
		listener_table__at(m->since_start, i)->queue = 0;	/* not in t: empty */
	for (size_t i = 0; i < listener_table__len(t) && !err; i++)
		err = fold_listener(m, listener_table__at(t, i));
	if (!err)
		err = fold_namespaces(m, report);
	since_start_syn_time(m, syn_time);
	for (int f = 0; f < TOP_FAMILY_NR; f++) {
		column = m->heat[f][m->heat_next];
		memset(column, 0, sizeof(m->heat[f][0]));
		fold_latency(m, f, report, column);
	}
	m->heat_next = (m->heat_next + 1) % TOP_HEAT_COLS;
	if (m->heat_len < TOP_HEAT_COLS)
		m->heat_len++;
	if (err)
		return err;
	err = fill(m, t, secs);
	return err ? err : topmodel__view(m);
}

const __u32 *topmodel__heat_column(const struct top_model *m, enum top_family f, size_t c)
{
	if (c >= m->heat_len)
		return NULL;
	return m->heat[f][(m->heat_next + TOP_HEAT_COLS - 1 - c) % TOP_HEAT_COLS];
}
