// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Accept-queue wait: handshake done -> accept() returned, per listener and
 * accepting process, with the queue depth seen. Kernel side: bpf/accept.bpf.c */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "accept.h"
#include "accept.skel.h"
#include "probe.h"
#include "probe_util.h"
#include "breakdown.h"
#include "bpfmap.h"
#include "snapshot.h"
#include "report.h"
#include "liveness.h"

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct accept_bpf *skel;
	const struct bpf_object *hook;	/* the shared program at its state hook, or NULL */
	struct snapshot *snap;
	struct hist total;
	struct breakdown *by_pid;
	bool since_attach;	/* what the last collect read: since attach, or an interval */
};

static void merge_val(void *dst, const void *cpu)
{
	struct accept_val *d = dst;
	const struct accept_val *v = cpu;

	if (!d->comm[0] && v->comm[0])
		memcpy(d->comm, v->comm, sizeof(d->comm));
	if (v->peak_depth > d->peak_depth)
		d->peak_depth = v->peak_depth;
	/* Each CPU saw the limit at its own last accept: the newest is the
	 * limit now (a larger, older one may predate a relisten down). */
	if (v->limit_ns >= d->limit_ns) {
		d->limit = v->limit;
		d->limit_ns = v->limit_ns;
	}
	hist__add(&d->wait, &v->wait);
}

static void delta_val(void *val, const void *prev)
{
	struct accept_val *d = val;
	const struct accept_val *old = prev;

	/* peak_depth stays cumulative: a peak is not subtractable. */
	hist__delta(&d->wait, &d->wait, &old->wait);
}

static const struct snapshot_ops snap_ops = {
	.key_size = sizeof(struct accept_key),
	.val_size = sizeof(struct accept_val),
	.merge = merge_val,
	.delta = delta_val,
};

static int account(const void *key, const void *val, void *ctx)
{
	const struct accept_key *k = key;
	const struct accept_val *v = val;
	struct probe *p = ctx;

	if (!v->wait.count)
		return 0;
	hist__add(&p->total, &v->wait);
	return breakdown__add_in(p->by_pid, k->cgroup, k->tgid, v->comm, &v->wait, NULL);
}

static int accept_collect(struct probe *p, bool total)
{
	int err = snapshot__read_rows(p->snap, bpf_map__fd(p->skel->maps.accept_stats),
				      bpf_map__fd(p->skel->maps.accept_stats_used));

	if (err)
		return err;
	memset(&p->total, 0, sizeof(p->total));
	breakdown__reset(p->by_pid);
	p->since_attach = total;
	return snapshot__for_each(p->snap, total, account, p);
}

static void accept_print(struct probe *p, FILE *out)
{
	fprintf(out, "accept_wait: handshake done -> accept() returned\n");
	report__hist(out, "  ", &p->total);
	breakdown__print(p->by_pid, out, "by accepting process:", 10);
}

static void accept_json(struct probe *p, struct json_object *root, bool to_print)
{
	struct json_object *o = report__latency_json(&p->total);

	json_object_object_add(o, "by_pid", breakdown__json(p->by_pid, "comm", to_print));
	json_object_object_add(root, "accept", o);
	/* The family's name is the key; the old one stays for one release
	 * (docs/json.md). */
	json_object_object_add(root, "accept_wait", json_object_get(o));
}

static int add_listener(const void *key, const void *val, void *ctx)
{
	const struct accept_key *k = key;
	const struct accept_val *v = val;
	int err;

	if (!v->wait.count)
		return 0;
	err = listener_table__add_accepts(ctx, &k->listener, (int)k->tgid, v->comm, &v->wait,
					  v->peak_depth, v->limit, v->limit_ns);
	if (!err)
		listener_table__set_cgroup(ctx, &k->listener, k->cgroup);
	return err;
}

/* The rows of the last collect, into the listener table in place. */
static int accept_listeners(struct probe *p, struct listener_table *t)
{
	return snapshot__for_each(p->snap, p->since_attach, add_listener, t);
}

static struct bpf_object *accept_object(struct probe *p)
{
	return p->skel->obj;
}

static void accept_count_hook(struct probe *p, const struct bpf_object *hook)
{
	p->hook = hook;
}

/* A row's owners: its listener and the accepting process. Counts of an
 * exited process stay with its listener (tgid 0) while the listener is
 * open; a closed listener's are forgotten with its series. */
static bool accept_gone(const void *key, void *ctx)
{
	const struct accept_key *k = key;

	return liveness__listener_gone(ctx, &k->listener) || liveness__pid_gone(ctx, k->tgid);
}

static bool accept_fold(const void *key, void *out, void *ctx)
{
	const struct accept_key *k = key;
	struct accept_key *o = out;

	if (liveness__listener_gone(ctx, &k->listener))
		return false;
	o->listener = k->listener;
	o->cgroup = k->cgroup;	/* the listener's, which never changes */
	return true;
}

static int accept_reclaim(struct probe *p, const struct liveness *lv, struct reclaim_stats *st)
{
	struct reclaim_policy pol = { accept_gone, accept_fold, (void *)lv };
	struct row_table_fds fds = ROW_TABLE_FDS(p->skel, accept_stats);

	return snapshot__reclaim(p->snap, &fds, &pol, st);
}

static __u64 accept_lost(struct probe *p)
{
	__u64 lost[ACCEPT_LOST_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.accept_lost), ACCEPT_LOST_NR, lost);
	return lost[0] + lost[1] + probe__recursion_misses(p->skel->obj, p->hook);
}

static int accept_event_maps(struct probe *p, int *ring, int *lost)
{
	return PROBE_EVENT_MAPS(p->skel, ring, lost);
}

static void accept_detach(struct probe *p)
{
	if (!p)
		return;
	accept_bpf__destroy(p->skel);
	snapshot__free(p->snap);
	breakdown__free(p->by_pid);
	free(p);
}

#define METHOD_CAST "accept() exits read sockets with plain loads (bpf_rdonly_cast)"
#define METHOD_PROBE_READ "accept() exits read sockets with probe reads"

/* For doctor: the exit programs this kernel gets. attach decides by
 * loading; this asks the kernel's BTF whether the kfunc exists. */
static const char *accept_method(const struct trace_opts *o)
{
	struct btf *btf;
	bool cast;

	if (o->force_fallback)
		return METHOD_PROBE_READ;
	btf = btf__load_vmlinux_btf();
	cast = btf && btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return cast ? METHOD_CAST : METHOD_PROBE_READ;
}

/* accept()'s exit programs: those that read the sockets with plain loads
 * (bpf_rdonly_cast, Linux 6.2+), or those with probe reads. */
static void choose_programs(struct accept_bpf *s, bool cast, const struct trace_opts *o)
{
	/* Empty programs (--empty-programs) never reach the kfunc call, so a
	 * kernel without it loads them too: ask its BTF, as doctor does, so
	 * the floor attaches what a real run would. */
	if (cast && o->empty_programs)
		cast = !strcmp(accept_method(o), METHOD_CAST);
	bpf_program__set_autoload(s->progs.accept4_exit_cast, cast);
	bpf_program__set_autoload(s->progs.accept_exit_cast, cast);
	bpf_program__set_autoload(s->progs.accept4_exit, !cast);
	bpf_program__set_autoload(s->progs.accept_exit, !cast);
}

static int accept_attach(struct probe **out, const struct trace_opts *o)
{
	struct probe *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		return err;
	p->by_pid = breakdown__new("pid", NULL);
	if (p->by_pid)
		breakdown__group_by_cgroup(p->by_pid);
	p->snap = snapshot__new(&snap_ops);
	if (!p->by_pid || !p->snap)
		goto fail;
	/* A kernel without bpf_rdonly_cast rejects the faster programs. */
	err = PROBE_OPEN_LOAD_ATTACH(accept, &p->skel, o, choose_programs);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	accept_detach(p);
	return err;
}

/* For serve: lost events (the wait is per listener, in the listener
 * table). */
static void accept_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[ACCEPT_LOST_NR] = { "displaced", "keys_full" };
	__u64 lost[ACCEPT_LOST_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.accept_lost), ACCEPT_LOST_NR, lost);
	probe__lost_metrics(w, "accept", causes, lost, ACCEPT_LOST_NR,
			    probe__recursion_misses(p->skel->obj, p->hook));
}

static const char *const accept_tracepoints[] = {
	"sock/inet_sock_set_state", "syscalls/sys_exit_accept4", "syscalls/sys_exit_accept", NULL,
};

const struct probe_ops accept_probe_ops = {
	.name = "accept",
	.what = "accept-queue wait and depth, per listener and accepting process",
	.tracepoints = accept_tracepoints,
	.needs_tp_btf = true,
	.method = accept_method,
	.attach = accept_attach,
	.collect = accept_collect,
	.print = accept_print,
	.to_json = accept_json,
	.listeners = accept_listeners,
	.lost = accept_lost,
	.metrics = accept_metrics,
	.reclaim = accept_reclaim,
	.event_maps = accept_event_maps,
	.detach = accept_detach,
	.object = accept_object,
	.count_hook = accept_count_hook,
};
