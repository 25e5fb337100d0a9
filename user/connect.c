// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Connect latency: SYN_SENT -> ESTABLISHED per process and destination port,
 * and failed connects by outcome. Kernel side: bpf/connect.bpf.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "connect.h"
#include "connect.skel.h"
#include "probe.h"
#include "probe_util.h"
#include "breakdown.h"
#include "bpfmap.h"
#include "report.h"
#include "log.h"

struct conn_row {
	struct connect_key key;
	char comm[16];
	__u64 failed[CONNECT_FAIL_NR];
	struct hist lat;
};

struct snapshot {
	struct conn_row *rows;
	size_t len, cap;
};

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct connect_bpf *skel;
	struct snapshot cur, prev;
	struct hist total;
	__u64 failed[CONNECT_FAIL_NR];
	struct breakdown *by_pid, *by_port;
};

static const char *const fail_names[] = { "refused", "timeout", "other", NULL };

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct connect_key));
}

static int add_row(const void *key, const void *values, int ncpus, size_t stride, void *ctx)
{
	struct snapshot *s = ctx;
	struct conn_row *r;

	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *rows = realloc(s->rows, cap * sizeof(*r));

		if (!rows)
			return -ENOMEM;
		s->rows = rows;
		s->cap = cap;
	}
	r = &s->rows[s->len++];
	memset(r, 0, sizeof(*r));
	memcpy(&r->key, key, sizeof(r->key));
	for (int c = 0; c < ncpus; c++) {
		const struct connect_val *v = (const void *)((const char *)values + c * stride);

		if (!r->comm[0] && v->comm[0])
			memcpy(r->comm, v->comm, sizeof(r->comm));
		for (int k = 0; k < CONNECT_FAIL_NR; k++)
			r->failed[k] += v->failed[k];
		hist__add(&r->lat, &v->lat);
	}
	return 0;
}

/* The interval's part of a row: everything minus the previous snapshot. */
static void row_delta(struct probe *p, struct conn_row *r)
{
	struct conn_row *old = bsearch(&r->key, p->prev.rows, p->prev.len,
				       sizeof(*old), cmp_key);

	if (!old)
		return;
	for (int k = 0; k < CONNECT_FAIL_NR; k++)
		r->failed[k] -= old->failed[k];
	hist__delta(&r->lat, &r->lat, &old->lat);
}

static void account(struct probe *p, const struct conn_row *r)
{
	char label[48];
	__u64 fails[BREAKDOWN_COUNTERS] = {};
	__u64 total_fail = 0;

	for (int k = 0; k < CONNECT_FAIL_NR; k++) {
		fails[k] = r->failed[k];
		total_fail += r->failed[k];
		p->failed[k] += r->failed[k];
	}
	if (!r->lat.count && !total_fail)
		return;
	hist__add(&p->total, &r->lat);
	snprintf(label, sizeof(label), "%s", r->comm);
	breakdown__add(p->by_pid, r->key.tgid, label, &r->lat, fails);
	snprintf(label, sizeof(label), "netns %u", r->key.netns);
	breakdown__add(p->by_port, r->key.dport, label, &r->lat, fails);
}

static int connect_collect(struct probe *p, bool total)
{
	struct snapshot tmp;
	int err;

	/* The previous snapshot becomes the base; a fresh one is read. */
	tmp = p->prev;
	p->prev = p->cur;
	p->cur = tmp;
	p->cur.len = 0;
	err = bpfmap__for_each_percpu(bpf_map__fd(p->skel->maps.connect_stats),
				      sizeof(struct connect_key), sizeof(struct connect_val),
				      add_row, &p->cur);
	if (err)
		return err;
	qsort(p->cur.rows, p->cur.len, sizeof(struct conn_row), cmp_key);

	memset(&p->total, 0, sizeof(p->total));
	memset(p->failed, 0, sizeof(p->failed));
	breakdown__reset(p->by_pid);
	breakdown__reset(p->by_port);
	for (size_t i = 0; i < p->cur.len; i++) {
		struct conn_row r = p->cur.rows[i];

		if (!total)
			row_delta(p, &r);
		account(p, &r);
	}
	return 0;
}

static void connect_print(struct probe *p, FILE *out)
{
	__u64 nfail = p->failed[0] + p->failed[1] + p->failed[2];

	fprintf(out, "connect: SYN_SENT -> ESTABLISHED; %llu failed (refused %llu, timeout %llu, other %llu)\n",
		(unsigned long long)nfail, (unsigned long long)p->failed[CONNECT_FAIL_REFUSED],
		(unsigned long long)p->failed[CONNECT_FAIL_TIMEOUT],
		(unsigned long long)p->failed[CONNECT_FAIL_OTHER]);
	report__hist(out, "  ", &p->total);
	breakdown__print(p->by_pid, out, "by process:", 10);
	breakdown__print(p->by_port, out, "by destination port:", 10);
}

static void connect_json(struct probe *p, struct json_object *root)
{
	struct json_object *o = report__latency_json(&p->total), *f;
	__u64 nfail = 0;

	f = json_object_new_object();
	for (int k = 0; k < CONNECT_FAIL_NR; k++) {
		json_object_object_add(f, fail_names[k], json_object_new_uint64(p->failed[k]));
		nfail += p->failed[k];
	}
	json_object_object_add(f, "total", json_object_new_uint64(nfail));
	json_object_object_add(o, "failures", f);
	json_object_object_add(o, "by_pid", breakdown__json(p->by_pid, "comm"));
	json_object_object_add(o, "by_port", breakdown__json(p->by_port, "netns"));
	json_object_object_add(root, "connect", o);
}

static __u64 connect_lost(struct probe *p)
{
	__u64 lost[CONNECT_LOST_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.connect_lost), CONNECT_LOST_NR, lost);
	return lost[0] + lost[1] + bpfmap__recursion_misses(p->skel->obj);
}

static void connect_detach(struct probe *p)
{
	if (!p)
		return;
	connect_bpf__destroy(p->skel);
	free(p->cur.rows);
	free(p->prev.rows);
	breakdown__free(p->by_pid);
	breakdown__free(p->by_port);
	free(p);
}

static int connect_attach(struct probe **out, const struct trace_opts *o)
{
	struct probe *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		return err;
	p->by_pid = breakdown__new("pid", fail_names);
	p->by_port = breakdown__new("port", fail_names);
	p->skel = connect_bpf__open();
	if (!p->by_pid || !p->by_port || !p->skel) {
		err = p->skel ? -ENOMEM : -errno;
		goto fail;
	}
	PROBE_SET_FILTERS(p->skel, o);
	err = connect_bpf__load(p->skel);
	if (!err)
		err = PROBE_FILL_FILTERS(p->skel, o);
	if (!err)
		err = connect_bpf__attach(p->skel);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	connect_detach(p);
	return err;
}

static const char *const connect_tracepoints[] = { "sock/inet_sock_set_state", NULL };

const struct probe_ops connect_probe_ops = {
	.name = "connect",
	.what = "connect latency and failures, per process and destination port",
	.tracepoints = connect_tracepoints,
	.attach = connect_attach,
	.collect = connect_collect,
	.print = connect_print,
	.to_json = connect_json,
	.lost = connect_lost,
	.detach = connect_detach,
};
