// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Listener and TCP drops, every path, per listener. Kernel side:
 * bpf/drops.bpf.c (kfree_skb by reason, ACK-time overflows by rx_sk, SYN-ACK
 * retransmits, resets). SYN-time overflows have no event: they are what is
 * left of a listener's sk_drops growth (sock_diag) once the drops seen as
 * events are taken out; the namespace's TcpExt counters are reported beside.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "drops.h"
#include "drops.skel.h"
#include "probe.h"
#include "probe_util.h"
#include "tracefs.h"
#include "bpfmap.h"
#include "dropreason.h"
#include "nswatch.h"
#include "snapshot.h"
#include "log.h"
#include "liveness.h"

#define NREASONS	(DROPS_KIND_NR * DROPS_MAX_REASONS)

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct drops_bpf *skel;
	struct snapshot *snap;
	struct dropreason *names;	/* loaded by drops_ready, off the attach path */
	const struct trace_opts *opts;
	bool since_attach;	/* what the last collect read: since attach, or an interval */
	__u64 reasons_prev[NREASONS], reasons[NREASONS];
	__u64 counters_prev[DROPS_COUNTER_NR], counters[DROPS_COUNTER_NR];
	/* The tracer's listener table, joined with its census: the
	 * per-listener counts and the namespace counters are reported from it. */
	struct listener_table *listeners;
	/* No TCP_LISTEN_OVERFLOW reason (6.1, 6.12): ACK-time overflows have
	 * no event of their own (docs/kernels.md). */
	bool no_overflow_reason;
};

static void merge_val(void *dst, const void *cpu)
{
	struct drops_listener_val *d = dst;
	const struct drops_listener_val *v = cpu;

	d->overflow_ack += v->overflow_ack;
	d->overflow_cookie += v->overflow_cookie;
	d->synack_retrans += v->synack_retrans;
	d->other_drops += v->other_drops;
	if (!d->cgroup)	/* every CPU's row names the same socket's */
		d->cgroup = v->cgroup;
}

static void delta_val(void *val, const void *prev)
{
	struct drops_listener_val *d = val;
	const struct drops_listener_val *old = prev;

	d->overflow_ack -= old->overflow_ack;
	d->overflow_cookie -= old->overflow_cookie;
	d->synack_retrans -= old->synack_retrans;
	d->other_drops -= old->other_drops;
}

static const struct snapshot_ops snap_ops = {
	.key_size = sizeof(struct listener_key),
	.val_size = sizeof(struct drops_listener_val),
	.merge = merge_val,
	.delta = delta_val,
};

static int add_listener(const void *key, const void *val, void *ctx)
{
	const struct drops_listener_val *v = val;
	int err;

	if (!v->overflow_ack && !v->overflow_cookie && !v->synack_retrans && !v->other_drops)
		return 0;
	err = listener_table__add_drops(ctx, key, v->overflow_ack, v->overflow_cookie,
					v->synack_retrans, v->other_drops);
	if (!err)
		listener_table__set_cgroup(ctx, key, v->cgroup);
	return err;
}

/* Reads cumulative per-CPU counters and turns them into this report's part. */
static int read_counters(int fd, __u32 n, __u64 *now, __u64 *prev, bool total)
{
	int err = bpfmap__sum_counters(fd, n, now);

	for (__u32 i = 0; !err && i < n; i++) {
		__u64 cur = now[i];

		now[i] = total ? cur : cur - prev[i];
		prev[i] = cur;
	}
	return err;
}

/* The drop reasons' names, from the kernel's BTF: a 50 ms parse with a
 * ~10 MiB peak, done once after every family is attached (probe_ops.ready
 * runs before the first report). */
static void drops_ready(struct probe *p)
{
	p->names = dropreason__load();
	if (!p->names)
		warn("drops: no drop reason names in the kernel's BTF; reporting numbers");
	else if ((p->no_overflow_reason = !dropreason__has(p->names, "TCP_LISTEN_OVERFLOW")))
		warn("drops: this kernel has no TCP_LISTEN_OVERFLOW drop reason: listen overflows "
		     "are counted, but ACK-time ones may show as syn_time");
}

static int drops_collect(struct probe *p, bool total)
{
	int err = read_counters(bpf_map__fd(p->skel->maps.drops_by_reason), NREASONS,
				p->reasons, p->reasons_prev, total);
	if (!err)
		err = read_counters(bpf_map__fd(p->skel->maps.drops_counters), DROPS_COUNTER_NR,
				    p->counters, p->counters_prev, total);
	if (!err)
		err = snapshot__read_rows(p->snap, bpf_map__fd(p->skel->maps.drops_listeners),
					  bpf_map__fd(p->skel->maps.drops_listeners_used));
	p->since_attach = total;
	return err;
}

/* The rows of the last collect, into the listener table in place. */
static int drops_listeners(struct probe *p, struct listener_table *t)
{
	p->listeners = t;
	if (p->no_overflow_reason)
		listener_table__ack_overflows_unseen(t);
	return snapshot__for_each(p->snap, p->since_attach, add_listener, t);
}

/* A namespace counter summed over the namespaces of the census. */
static __u64 ns_total(struct probe *p, enum nswatch_counter c)
{
	const struct nswatch *ns = p->listeners ? listener_table__census(p->listeners) : NULL;
	__u64 n = 0;

	for (size_t i = 0; ns && i < nswatch__ns_count(ns); i++)
		n += nswatch__ns(ns, i)->delta[c];
	return n;
}

/* A per-listener count summed over the namespaces' listeners (-p aside). */
static __u64 listeners_total(struct probe *p, size_t field_off)
{
	if (!p->listeners)
		return 0;
	return *(const __u64 *)((const char *)listener_table__totals(p->listeners) + field_off);
}

#define SUM_ROWS(p, field) listeners_total(p, offsetof(struct listener_totals, field))

/* The reasons of one table that are drops (want_drops) or frees that are
 * not (dropreason__is_drop), on one line after title. */
static void print_reasons(struct probe *p, FILE *out, int kind, bool want_drops,
			  const char *title)
{
	int shown = 0;

	for (__u32 r = 0; r < DROPS_MAX_REASONS; r++) {
		__u64 n = p->reasons[kind * DROPS_MAX_REASONS + r];
		const char *name = dropreason__name(p->names, r);

		if (!n || dropreason__is_drop(name) != want_drops)
			continue;
		fprintf(out, "%s %s %llu", shown++ ? "," : title, name ? name : "?",
			(unsigned long long)n);
	}
	if (shown)
		fputc('\n', out);
}

static void drops_print(struct probe *p, FILE *out)
{
	fprintf(out, "drops: listen overflows %llu (syn-time %llu, ack-time %llu), listen drops %llu, "
		"syn-queue drops %llu, syncookies sent %llu\n",
		(unsigned long long)ns_total(p, NSC_LISTEN_OVERFLOWS),
		(unsigned long long)SUM_ROWS(p, overflow_syn),
		(unsigned long long)SUM_ROWS(p, overflow_ack),
		(unsigned long long)ns_total(p, NSC_LISTEN_DROPS),
		(unsigned long long)ns_total(p, NSC_REQQ_FULL_DROP),
		(unsigned long long)ns_total(p, NSC_SYNCOOKIES_SENT));
	fprintf(out, "  synack retransmits %llu, resets sent %llu, received %llu\n",
		(unsigned long long)SUM_ROWS(p, synack_retrans),
		(unsigned long long)p->counters[DROPS_RESETS_SENT],
		(unsigned long long)p->counters[DROPS_RESETS_RECEIVED]);
	print_reasons(p, out, DROPS_TCP_SOCKET, true, "  by reason (TCP sockets):");
	print_reasons(p, out, DROPS_NO_SOCKET, true, "  by reason (no socket yet, any IP):");
	print_reasons(p, out, DROPS_TCP_SOCKET, false,
		      "  freed, not dropped (queues of closed sockets):");
}

static struct json_object *reasons_json(struct probe *p, int kind, bool want_drops)
{
	struct json_object *o = json_object_new_object();
	char unknown[32];

	for (__u32 r = 0; r < DROPS_MAX_REASONS; r++) {
		__u64 n = p->reasons[kind * DROPS_MAX_REASONS + r];
		const char *name = dropreason__name(p->names, r);

		if (!n || dropreason__is_drop(name) != want_drops)
			continue;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "reason_%u", r);
			name = unknown;
		}
		json_object_object_add(o, name, json_object_new_uint64(n));
	}
	return o;
}

static struct json_object *namespaces_json(struct probe *p)
{
	const struct nswatch *w = p->listeners ? listener_table__census(p->listeners) : NULL;
	struct json_object *arr = json_object_new_array();

	for (size_t n = 0; w && n < nswatch__ns_count(w); n++) {
		const struct nswatch_ns *ns = nswatch__ns(w, n);
		struct json_object *o;
		__u64 any = 0;

		for (int c = 0; c < NSC_NR; c++)
			any |= ns->delta[c];
		if (!any && p->opts->netns != ns->ino)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "netns", json_object_new_uint64(ns->ino));
		for (int c = 0; c < NSC_NR; c++)
			json_object_object_add(o, nswatch_counter_names[c],
					       json_object_new_uint64(ns->delta[c]));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void drops_json(struct probe *p, struct json_object *root, bool to_print)
{
	struct json_object *o = json_object_new_object();
	const struct { const char *key; __u64 v; } fields[] = {
		{ "listen_overflows", ns_total(p, NSC_LISTEN_OVERFLOWS) },
		{ "listen_overflows_syn_time", SUM_ROWS(p, overflow_syn) },
		{ "listen_overflows_ack_time", SUM_ROWS(p, overflow_ack) },
		{ "listen_drops", ns_total(p, NSC_LISTEN_DROPS) },
		{ "syn_queue_drops", ns_total(p, NSC_REQQ_FULL_DROP) },
		{ "syncookies_sent", ns_total(p, NSC_SYNCOOKIES_SENT) },
		{ "synack_retransmits", SUM_ROWS(p, synack_retrans) },
		{ "resets_sent", p->counters[DROPS_RESETS_SENT] },
		{ "resets_received", p->counters[DROPS_RESETS_RECEIVED] },
	};

	(void)to_print;	/* small arrays only */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_object_add(o, fields[i].key, json_object_new_uint64(fields[i].v));
	json_object_object_add(o, "by_reason", reasons_json(p, DROPS_TCP_SOCKET, true));
	json_object_object_add(o, "by_reason_no_socket", reasons_json(p, DROPS_NO_SOCKET, true));
	json_object_object_add(o, "freed_not_dropped", reasons_json(p, DROPS_TCP_SOCKET, false));
	json_object_object_add(o, "namespaces", namespaces_json(p));
	json_object_object_add(root, "drops", o);
}

static __u64 drops_lost(struct probe *p)
{
	__u64 c[DROPS_COUNTER_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.drops_counters), DROPS_COUNTER_NR, c);
	return c[DROPS_LOST_LISTENERS_FULL] + bpfmap__recursion_misses(p->skel->obj);
}

static void drops_detach(struct probe *p)
{
	if (!p)
		return;
	drops_bpf__destroy(p->skel);
	snapshot__free(p->snap);
	dropreason__free(p->names);
	free(p);
}

/* For serve: the namespaces' TcpExt listen counters, resets, drops by
 * reason, lost events (per-listener overflows are in the listener table). */
static const struct { const char *name, *help; } ns_metric[NSC_NR] = {
	[NSC_LISTEN_OVERFLOWS] = { "nettune_netns_listen_overflows_total",
		"Accept queue full, every listener of the namespace (TcpExtListenOverflows)" },
	[NSC_LISTEN_DROPS] = { "nettune_listen_drops_total",
		"Every drop of a listener's packet in the namespace (TcpExtListenDrops)" },
	[NSC_REQQ_FULL_DROP] = { "nettune_syn_queue_drops_total",
		"SYNs dropped, SYN queue full and no SYN cookies (TcpExtTCPReqQFullDrop)" },
	[NSC_REQQ_FULL_COOKIES] = { "nettune_syn_queue_full_cookies_total",
		"SYN queue full, answered with a SYN cookie (TcpExtTCPReqQFullDoCookies)" },
	[NSC_SYNCOOKIES_SENT] = { "nettune_syncookies_sent_total",
		"SYN cookies sent (TcpExtSyncookiesSent)" },
};

static void drops_metrics_reasons(struct probe *p, struct promtext *w)
{
	static const char *const kinds[DROPS_KIND_NR] = { "tcp", "none" };
	struct prom_label l[] = { { "reason", NULL }, { "socket", NULL } };
	char unknown[32];

	promtext__family(w, "nettune_drops_total", PROM_COUNTER, 0,
			 "Packets dropped (skb:kfree_skb) by reason; socket=\"none\": before any socket");
	for (int kind = 0; kind < DROPS_KIND_NR; kind++)
		for (__u32 r = 0; r < DROPS_MAX_REASONS; r++) {
			__u64 n = p->reasons[kind * DROPS_MAX_REASONS + r];

			if (!n)
				continue;
			l[0].value = dropreason__name(p->names, r);
			if (!l[0].value) {
				snprintf(unknown, sizeof(unknown), "reason_%u", r);
				l[0].value = unknown;
			}
			l[1].value = kinds[kind];
			promtext__counter(w, l, 2, n);
		}
}

/* A row's owner: its listener. A closed listener's counts end with its
 * series (the namespace counters, from the census, go on). */
static bool drops_gone(const void *key, void *ctx)
{
	return liveness__listener_gone(ctx, key);
}

static bool drops_fold(const void *key, void *out, void *ctx)
{
	(void)key;
	(void)out;
	(void)ctx;
	return false;
}

static int drops_reclaim(struct probe *p, const struct liveness *lv, struct reclaim_stats *st)
{
	struct reclaim_policy pol = { drops_gone, drops_fold, (void *)lv };
	struct row_table_fds fds = ROW_TABLE_FDS(p->skel, drops_listeners);

	return snapshot__reclaim(p->snap, &fds, &pol, st);
}

static void drops_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[] = { "listeners_full" };
	const struct nswatch *census = p->listeners ? listener_table__census(p->listeners) : NULL;
	struct prom_label l = { "netns", NULL };
	char ino[16];

	for (int c = 0; c < NSC_NR; c++) {
		promtext__family(w, ns_metric[c].name, PROM_COUNTER, 1, ns_metric[c].help);
		for (size_t n = 0; census && n < nswatch__ns_count(census); n++) {
			const struct nswatch_ns *ns = nswatch__ns(census, n);

			snprintf(ino, sizeof(ino), "%u", ns->ino);
			l.value = ino;
			promtext__counter(w, &l, 1, ns->delta[c]);
		}
	}
	promtext__family(w, "nettune_resets_total", PROM_COUNTER, 0, "TCP resets by direction");
	l = (struct prom_label){ "direction", "sent" };
	promtext__counter(w, &l, 1, p->counters[DROPS_RESETS_SENT]);
	l.value = "received";
	promtext__counter(w, &l, 1, p->counters[DROPS_RESETS_RECEIVED]);
	drops_metrics_reasons(p, w);
	probe__lost_metrics(w, "drops", causes, &p->counters[DROPS_LOST_LISTENERS_FULL], 1,
			    bpfmap__recursion_misses(p->skel->obj));
}

#define METHOD_BTF "skb:kfree_skb as tp_btf (with rx_sk)"
#define METHOD_CLASSIC "skb:kfree_skb, classic tracepoint with probe reads"

/* For doctor: the kfree_skb program this kernel gets. */
static const char *drops_method(const struct trace_opts *o)
{
	return !o->force_fallback && tracefs__has_field("skb/kfree_skb", "rx_sk") ? METHOD_BTF :
										     METHOD_CLASSIC;
}

/* kfree_skb as tp_btf where the tracepoint has rx_sk (6.12+), else the
 * classic tracepoint. */
static void choose_programs(struct drops_bpf *s, bool btf, const struct trace_opts *o)
{
	(void)o;
	bpf_program__set_autoload(s->progs.drops_kfree_skb_btf, btf);
	bpf_program__set_autoload(s->progs.drops_kfree_skb, !btf);
}

static int drops_attach(struct probe **out, const struct trace_opts *o)
{
	struct probe *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		return err;
	p->opts = o;
	p->snap = snapshot__new(&snap_ops);
	if (!p->snap)
		goto fail;
	err = PROBE_OPEN_LOAD_ATTACH(drops, &p->skel, o, choose_programs);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	drops_detach(p);
	return err;
}

static const char *const drops_tracepoints[] = {
	"skb/kfree_skb", "tcp/tcp_retransmit_synack", "tcp/tcp_send_reset",
	"tcp/tcp_receive_reset", NULL,
};

const struct probe_ops drops_probe_ops = {
	.name = "drops",
	.what = "listen overflows (SYN and ACK time), SYN-queue drops, TCP drops by reason",
	.tracepoints = drops_tracepoints,
	.explains_sk_drops = true,
	.method = drops_method,
	.attach = drops_attach,
	.ready = drops_ready,
	.collect = drops_collect,
	.print = drops_print,
	.to_json = drops_json,
	.listeners = drops_listeners,
	.lost = drops_lost,
	.metrics = drops_metrics,
	.reclaim = drops_reclaim,
	.detach = drops_detach,
};
