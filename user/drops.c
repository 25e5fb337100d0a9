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

/* How much one event grows the listener's sk_drops (measured on 6.18): an
 * ACK-time overflow is counted by tcp_listendrop() and again when
 * tcp_v4_rcv() discards the ACK (sk_drops_add); a SYN-cookie ACK that
 * overflows only by tcp_listendrop() (tcp_v4_do_rcv discards it without
 * sk_drops_add); other drops of a listener's packets only by the discard. */
#define SK_DROPS_PER_ACK_OVERFLOW	2
#define SK_DROPS_PER_COOKIE_OVERFLOW	1
#define SK_DROPS_PER_OTHER_DROP		1

#define NREASONS	(DROPS_KIND_NR * DROPS_MAX_REASONS)

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct drops_bpf *skel;
	struct snapshot *snap;
	struct dropreason *names;	/* loaded by drops_ready, off the attach path */
	struct nswatch *ns;
	const struct trace_opts *opts;
	__u64 reasons_prev[NREASONS], reasons[NREASONS];
	__u64 counters_prev[DROPS_COUNTER_NR], counters[DROPS_COUNTER_NR];
	__u64 ns_total[NSC_NR];
	struct listener_table *rows;
	/* No TCP_LISTEN_OVERFLOW reason (6.1): ACK-time overflows have no
	 * event and add 2 each to sk_drops, so the unexplained growth must
	 * always be capped by the namespace's ListenOverflows. */
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

static int account_bpf_row(const void *key, const void *val, void *ctx)
{
	const struct drops_listener_val *v = val;
	struct probe *p = ctx;
	struct listener_row *r;

	if (!v->overflow_ack && !v->overflow_cookie && !v->synack_retrans && !v->other_drops)
		return 0;
	r = listener_table__row(p->rows, key);
	if (!r)
		return -ENOMEM;
	r->overflow_ack += v->overflow_ack + v->overflow_cookie;
	r->overflow_cookie += v->overflow_cookie;
	r->synack_retrans += v->synack_retrans;
	r->drops_other += v->other_drops;
	return 0;
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

static bool port_wanted(const struct trace_opts *o, __u16 port)
{
	for (int i = 0; i < o->nports; i++)
		if (o->ports[i] == port)
			return true;
	return !o->nports;
}

static void key_of_diag(const struct nswatch_listener *l, struct listener_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = l->netns;
	k->port = l->diag.port;
	k->family = l->diag.family;
	memcpy(k->addr, l->diag.addr, sizeof(k->addr));
}

/* Joins sock_diag's view with the events: limit, queue, owner, and the
 * SYN-time overflows no event shows. SO_REUSEPORT sockets share an address
 * and port, so events cannot tell them apart: they make one row, with the
 * fullest queue, the largest limit and the sum of their drops, and only
 * that sum is compared with the events. */
static int account_diag(struct probe *p)
{
	for (size_t i = 0; i < nswatch__listener_count(p->ns); i++) {
		const struct nswatch_listener *l = nswatch__listener(p->ns, i);
		struct listener_key k;
		struct listener_row *r;
		bool first;

		if (!port_wanted(p->opts, l->diag.port))
			continue;
		key_of_diag(l, &k);
		r = listener_table__row(p->rows, &k);
		if (!r)
			return -ENOMEM;
		first = !r->seen_in_diag;
		r->seen_in_diag = true;
		if (l->diag.limit > r->limit)
			r->limit = l->diag.limit;
		if (l->diag.queue > r->queue)
			r->queue = l->diag.queue;
		r->sk_drops += l->drops_delta;
		if (l->pid && (first || !r->pid)) {	/* the owner over an accepting process */
			r->pid = l->pid;
			memcpy(r->comm, l->comm, sizeof(r->comm));
		}
	}
	for (size_t i = 0; i < listener_table__len(p->rows); i++) {
		struct listener_row *r = listener_table__at(p->rows, i);
		__u64 seen_as_events;

		if (!r->seen_in_diag)
			continue;
		seen_as_events = SK_DROPS_PER_ACK_OVERFLOW * (r->overflow_ack - r->overflow_cookie) +
				 SK_DROPS_PER_COOKIE_OVERFLOW * r->overflow_cookie +
				 SK_DROPS_PER_OTHER_DROP * r->drops_other;
		r->overflow_syn = r->sk_drops > seen_as_events ? r->sk_drops - seen_as_events : 0;
	}
	return 0;
}

/* With syncookies off, a full SYN queue also grows sk_drops without an
 * event, and so does every ACK-time overflow where the kernel has no
 * TCP_LISTEN_OVERFLOW reason. The namespace counters say how many of the unexplained drops
 * were overflows; scale each listener's share when the two are mixed. */
static void split_syn_queue_drops(struct probe *p)
{
	for (size_t n = 0; n < nswatch__ns_count(p->ns); n++) {
		const struct nswatch_ns *ns = nswatch__ns(p->ns, n);
		__u64 unexplained = 0, ack = 0, syn_overflows;

		if (!ns->delta[NSC_REQQ_FULL_DROP] && !p->no_overflow_reason)
			continue;
		for (size_t i = 0; i < listener_table__len(p->rows); i++) {
			struct listener_row *r = listener_table__at(p->rows, i);

			if (r->key.netns == ns->ino) {
				unexplained += r->overflow_syn;
				ack += r->overflow_ack;
			}
		}
		syn_overflows = ns->delta[NSC_LISTEN_OVERFLOWS] > ack ?
				ns->delta[NSC_LISTEN_OVERFLOWS] - ack : 0;
		for (size_t i = 0; unexplained && i < listener_table__len(p->rows); i++) {
			struct listener_row *r = listener_table__at(p->rows, i);

			/* A share, never more: with --port the rows hold some of
			 * the namespace's listeners, its counters all of them. */
			if (r->key.netns == ns->ino && syn_overflows < unexplained)
				r->overflow_syn = r->overflow_syn * syn_overflows / unexplained;
		}
	}
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
	if (!err)
		err = nswatch__refresh(p->ns, total);
	if (err)
		return err;
	listener_table__reset(p->rows);
	err = snapshot__for_each(p->snap, total, account_bpf_row, p);
	if (!err)
		err = account_diag(p);
	split_syn_queue_drops(p);
	memset(p->ns_total, 0, sizeof(p->ns_total));
	for (size_t n = 0; n < nswatch__ns_count(p->ns); n++)
		for (int c = 0; c < NSC_NR; c++)
			p->ns_total[c] += nswatch__ns(p->ns, n)->delta[c];
	return err;
}

static __u64 sum_rows(struct probe *p, size_t field_off)
{
	__u64 n = 0;

	for (size_t i = 0; i < listener_table__len(p->rows); i++)
		n += *(const __u64 *)((const char *)listener_table__at(p->rows, i) + field_off);
	return n;
}

#define SUM_ROWS(p, field) sum_rows(p, offsetof(struct listener_row, field))

static void print_reasons(struct probe *p, FILE *out, int kind, const char *title)
{
	int shown = 0;

	for (__u32 r = 0; r < DROPS_MAX_REASONS; r++) {
		__u64 n = p->reasons[kind * DROPS_MAX_REASONS + r];
		const char *name = dropreason__name(p->names, r);

		if (!n)
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
		(unsigned long long)p->ns_total[NSC_LISTEN_OVERFLOWS],
		(unsigned long long)SUM_ROWS(p, overflow_syn),
		(unsigned long long)SUM_ROWS(p, overflow_ack),
		(unsigned long long)p->ns_total[NSC_LISTEN_DROPS],
		(unsigned long long)p->ns_total[NSC_REQQ_FULL_DROP],
		(unsigned long long)p->ns_total[NSC_SYNCOOKIES_SENT]);
	fprintf(out, "  synack retransmits %llu, resets sent %llu, received %llu\n",
		(unsigned long long)SUM_ROWS(p, synack_retrans),
		(unsigned long long)p->counters[DROPS_RESETS_SENT],
		(unsigned long long)p->counters[DROPS_RESETS_RECEIVED]);
	print_reasons(p, out, DROPS_TCP_SOCKET, "  by reason (TCP sockets):");
	print_reasons(p, out, DROPS_NO_SOCKET, "  by reason (no socket yet, any IP):");
}

static struct json_object *reasons_json(struct probe *p, int kind)
{
	struct json_object *o = json_object_new_object();
	char unknown[32];

	for (__u32 r = 0; r < DROPS_MAX_REASONS; r++) {
		__u64 n = p->reasons[kind * DROPS_MAX_REASONS + r];
		const char *name = dropreason__name(p->names, r);

		if (!n)
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
	struct json_object *arr = json_object_new_array();

	for (size_t n = 0; n < nswatch__ns_count(p->ns); n++) {
		const struct nswatch_ns *ns = nswatch__ns(p->ns, n);
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

static void drops_json(struct probe *p, struct json_object *root)
{
	struct json_object *o = json_object_new_object();
	const struct { const char *key; __u64 v; } fields[] = {
		{ "listen_overflows", p->ns_total[NSC_LISTEN_OVERFLOWS] },
		{ "listen_overflows_syn_time", SUM_ROWS(p, overflow_syn) },
		{ "listen_overflows_ack_time", SUM_ROWS(p, overflow_ack) },
		{ "listen_drops", p->ns_total[NSC_LISTEN_DROPS] },
		{ "syn_queue_drops", p->ns_total[NSC_REQQ_FULL_DROP] },
		{ "syncookies_sent", p->ns_total[NSC_SYNCOOKIES_SENT] },
		{ "synack_retransmits", SUM_ROWS(p, synack_retrans) },
		{ "resets_sent", p->counters[DROPS_RESETS_SENT] },
		{ "resets_received", p->counters[DROPS_RESETS_RECEIVED] },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_object_add(o, fields[i].key, json_object_new_uint64(fields[i].v));
	json_object_object_add(o, "by_reason", reasons_json(p, DROPS_TCP_SOCKET));
	json_object_object_add(o, "by_reason_no_socket", reasons_json(p, DROPS_NO_SOCKET));
	json_object_object_add(o, "namespaces", namespaces_json(p));
	json_object_object_add(root, "drops", o);
}

/* Only listeners with something to say: the table is for problems. */
static void drops_listeners(struct probe *p, struct listener_table *t)
{
	for (size_t i = 0; i < listener_table__len(p->rows); i++) {
		struct listener_row *s = listener_table__at(p->rows, i), *d;

		if (!s->overflow_syn && !s->overflow_ack && !s->synack_retrans &&
		    !s->drops_other && !s->sk_drops && !s->queue &&
		    !listener_table__row_exists(t, &s->key))
			continue;
		d = listener_table__row(t, &s->key);
		if (!d)
			return;
		d->overflow_syn = s->overflow_syn;
		d->overflow_ack = s->overflow_ack;
		d->overflow_cookie = s->overflow_cookie;
		d->synack_retrans = s->synack_retrans;
		d->drops_other = s->drops_other;
		d->sk_drops = s->sk_drops;
		d->queue = s->queue;
		d->seen_in_diag = s->seen_in_diag;
		if (s->limit)
			d->limit = s->limit;
		if (!d->pid && s->pid) {
			d->pid = s->pid;
			memcpy(d->comm, s->comm, sizeof(d->comm));
		}
	}
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
	nswatch__free(p->ns);
	listener_table__free(p->rows);
	free(p);
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
	p->rows = listener_table__new();
	p->snap = snapshot__new(&snap_ops);
	if (!p->rows || !p->snap)
		goto fail;
	err = PROBE_OPEN_LOAD_ATTACH(drops, &p->skel, o, choose_programs);
	if (err)
		goto fail;
	/* The baseline of the kernel's own counters, read once attached. */
	p->ns = nswatch__new(o->netns);
	if (!p->ns) {
		err = -ENOMEM;
		goto fail;
	}
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
	.method = drops_method,
	.attach = drops_attach,
	.ready = drops_ready,
	.collect = drops_collect,
	.print = drops_print,
	.to_json = drops_json,
	.listeners = drops_listeners,
	.lost = drops_lost,
	.detach = drops_detach,
};
