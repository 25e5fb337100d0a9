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
#include "snapshot.h"
#include "report.h"
#include "log.h"
#include "liveness.h"

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct connect_bpf *skel;
	const struct bpf_object *hook;	/* the shared program at its state hook, or NULL */
	struct snapshot *snap;
	struct hist total;
	__u64 failed[CONNECT_FAIL_NR];
	struct breakdown *by_pid, *by_port;
};

static const char *const fail_names[] = { "refused", "timeout", "no_local_port", "other", NULL };
_Static_assert(sizeof(fail_names) / sizeof(fail_names[0]) == CONNECT_FAIL_NR + 1,
	       "a name for every connect_fail");
_Static_assert(CONNECT_FAIL_NR <= BREAKDOWN_COUNTERS, "breakdown rows count every kind");

static void merge_val(void *dst, const void *cpu)
{
	struct connect_val *d = dst;
	const struct connect_val *v = cpu;

	if (!d->comm[0] && v->comm[0])
		memcpy(d->comm, v->comm, sizeof(d->comm));
	for (int k = 0; k < CONNECT_FAIL_NR; k++)
		d->failed[k] += v->failed[k];
	hist__add(&d->lat, &v->lat);
}

static void delta_val(void *val, const void *prev)
{
	struct connect_val *d = val;
	const struct connect_val *old = prev;

	for (int k = 0; k < CONNECT_FAIL_NR; k++)
		d->failed[k] -= old->failed[k];
	hist__delta(&d->lat, &d->lat, &old->lat);
}

static const struct snapshot_ops snap_ops = {
	.key_size = sizeof(struct connect_key),
	.val_size = sizeof(struct connect_val),
	.merge = merge_val,
	.delta = delta_val,
};

static int account(const void *key, const void *val, void *ctx)
{
	const struct connect_key *k = key;
	const struct connect_val *v = val;
	struct probe *p = ctx;
	__u64 fails[BREAKDOWN_COUNTERS] = {};
	__u64 total_fail = 0;
	char label[48];

	for (int i = 0; i < CONNECT_FAIL_NR; i++) {
		fails[i] = v->failed[i];
		total_fail += v->failed[i];
		p->failed[i] += v->failed[i];
	}
	if (!v->lat.count && !total_fail)
		return 0;
	hist__add(&p->total, &v->lat);
	snprintf(label, sizeof(label), "%s", v->comm);
	breakdown__add_in(p->by_pid, k->cgroup, k->tgid, label, &v->lat, fails);
	snprintf(label, sizeof(label), "netns %u", k->netns);
	return breakdown__add_in(p->by_port, k->netns, k->dport, label, &v->lat, fails);
}

static int connect_collect(struct probe *p, bool total)
{
	int err = snapshot__read_rows(p->snap, bpf_map__fd(p->skel->maps.connect_stats),
				      bpf_map__fd(p->skel->maps.connect_stats_used));

	if (err)
		return err;
	memset(&p->total, 0, sizeof(p->total));
	memset(p->failed, 0, sizeof(p->failed));
	breakdown__reset(p->by_pid);
	breakdown__reset(p->by_port);
	return snapshot__for_each(p->snap, total, account, p);
}

static void connect_print(struct probe *p, FILE *out)
{
	__u64 nfail = 0;

	for (int k = 0; k < CONNECT_FAIL_NR; k++)
		nfail += p->failed[k];
	fprintf(out, "connect: SYN_SENT -> ESTABLISHED; %llu failed (refused %llu, timeout %llu, "
		"no local port %llu, other %llu)\n",
		(unsigned long long)nfail, (unsigned long long)p->failed[CONNECT_FAIL_REFUSED],
		(unsigned long long)p->failed[CONNECT_FAIL_TIMEOUT],
		(unsigned long long)p->failed[CONNECT_FAIL_NO_PORT],
		(unsigned long long)p->failed[CONNECT_FAIL_OTHER]);
	report__hist(out, "  ", &p->total);
	breakdown__print(p->by_pid, out, "by process:", 10);
	breakdown__print(p->by_port, out, "by destination port:", 10);
}

static void connect_json(struct probe *p, struct json_object *root, bool to_print)
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
	json_object_object_add(o, "by_pid", breakdown__json(p->by_pid, "comm", to_print));
	json_object_object_add(o, "by_port", breakdown__json(p->by_port, "netns", to_print));
	json_object_object_add(root, "connect", o);
}

static struct bpf_object *connect_object(struct probe *p)
{
	return p->skel->obj;
}

static void connect_count_hook(struct probe *p, const struct bpf_object *hook)
{
	p->hook = hook;
}

static __u64 connect_lost(struct probe *p)
{
	__u64 lost[CONNECT_LOST_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.connect_lost), CONNECT_LOST_NR, lost);
	return lost[0] + lost[1] + probe__recursion_misses(p->skel->obj, p->hook);
}

static int connect_event_maps(struct probe *p, int *ring, int *lost)
{
	return PROBE_EVENT_MAPS(p->skel, ring, lost);
}

static void connect_detach(struct probe *p)
{
	if (!p)
		return;
	connect_bpf__destroy(p->skel);
	snapshot__free(p->snap);
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
	if (p->by_pid)
		breakdown__group_by_cgroup(p->by_pid);
	p->snap = snapshot__new(&snap_ops);
	p->skel = connect_bpf__open();
	if (!p->by_pid || !p->by_port || !p->snap || !p->skel) {
		err = p->skel ? -ENOMEM : -errno;
		goto fail;
	}
	err = PROBE_LOAD_ATTACH(connect, p->skel, o);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	connect_detach(p);
	return err;
}

/* For serve: connect latency, failures by outcome, lost events. */
/* A row's owners: the connecting process and its namespace. serve
 * exports connect's totals only, so a freed row's counts all go to one
 * row of no process, namespace or port, which is never freed. */
static bool connect_gone(const void *key, void *ctx)
{
	const struct connect_key *k = key;

	return liveness__pid_gone(ctx, k->tgid) || liveness__netns_gone(ctx, k->netns);
}

static bool connect_fold(const void *key, void *out, void *ctx)
{
	(void)key;
	(void)out;
	(void)ctx;
	return true;	/* *out stays all zeroes */
}

static int connect_reclaim(struct probe *p, const struct liveness *lv, struct reclaim_stats *st)
{
	struct reclaim_policy pol = { connect_gone, connect_fold, (void *)lv };
	struct row_table_fds fds = ROW_TABLE_FDS(p->skel, connect_stats);

	return snapshot__reclaim(p->snap, &fds, &pol, st);
}

static void connect_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[CONNECT_LOST_NR] = { "inflight_full", "keys_full" };
	struct prom_label l = { "outcome", NULL };
	__u64 lost[CONNECT_LOST_NR] = {};

	promtext__family(w, "nettune_connect_duration_seconds", PROM_HISTOGRAM, 0,
			 "Connect latency, SYN_SENT to ESTABLISHED");
	promtext__hist(w, NULL, 0, &p->total);
	promtext__family(w, "nettune_connect_failures_total", PROM_COUNTER, 0,
			 "Failed connects by outcome");
	for (int k = 0; k < CONNECT_FAIL_NR; k++) {
		l.value = fail_names[k];
		promtext__counter(w, &l, 1, p->failed[k]);
	}
	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.connect_lost), CONNECT_LOST_NR, lost);
	probe__lost_metrics(w, "connect", causes, lost, CONNECT_LOST_NR,
			    probe__recursion_misses(p->skel->obj, p->hook));
}

static const char *const connect_tracepoints[] = { "sock/inet_sock_set_state", NULL };

const struct probe_ops connect_probe_ops = {
	.name = "connect",
	.what = "connect latency and failures, per process and destination port",
	.tracepoints = connect_tracepoints,
	.needs_tp_btf = true,
	.attach = connect_attach,
	.collect = connect_collect,
	.print = connect_print,
	.to_json = connect_json,
	.lost = connect_lost,
	.metrics = connect_metrics,
	.reclaim = connect_reclaim,
	.event_maps = connect_event_maps,
	.detach = connect_detach,
	.object = connect_object,
	.count_hook = connect_count_hook,
};
