// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Read latency: how long received data waits before the application reads
 * it (read_wait), and read-family syscall durations on TCP sockets
 * (read_syscall; only with --read-syscall). Kernel side: bpf/read.bpf.c */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "read.h"
#include "read.skel.h"
#include "probe.h"
#include "probe_util.h"
#include "breakdown.h"
#include "bpfmap.h"
#include "snapshot.h"
#include "report.h"
#include "tracefs.h"
#include "log.h"
#include "liveness.h"

#define METHOD_SK_STORAGE "sock:sk_data_ready + sock:sock_recv_length, socket storage"
#define METHOD_STAMP "sock:sk_data_ready + sock:sock_recv_length, stamp table"
#define METHOD_FALLBACK "tcp:tcp_probe + syscall exit (fd -> socket)"

/* The family's ways, from the cheapest: the tracepoints with each socket's
 * clock in its socket storage, the same with the clocks in a stamp table
 * (for a kernel that refuses socket storage there), the fallback. */
enum read_way { WAY_FALLBACK, WAY_STAMP, WAY_SK_STORAGE };

static const char *const way_method[] = {
	[WAY_FALLBACK] = METHOD_FALLBACK,
	[WAY_STAMP] = METHOD_STAMP,
	[WAY_SK_STORAGE] = METHOD_SK_STORAGE,
};

struct family_view {
	struct snapshot *snap;	/* its row table's rows, as last read */
	struct hist total;
	__u64 bytes;
	struct breakdown *by_pid, *by_port;
};

/* This translation unit's definition of the opaque probe handle. */
struct probe {
	struct read_bpf *skel;
	const char *method;
	bool syscall_on;	/* --read-syscall: read_syscall is measured */
	struct family_view wait, syscall;
};

static const char *const bytes_name[] = { "bytes", NULL };

static bool preferred_available(void)
{
	return tracefs__has("sock/sk_data_ready") && tracefs__has("sock/sock_recv_length");
}

/* The way to try first on this kernel. */
static enum read_way first_way(const struct trace_opts *o)
{
	if (o->force_fallback || !preferred_available())
		return WAY_FALLBACK;
	return o->no_sk_storage ? WAY_STAMP : WAY_SK_STORAGE;
}

static int load_way(struct read_bpf **s, enum read_way way, const struct trace_opts *o);

/* For doctor: the way attach would take, decided the same way: by loading
 * (not attaching) the programs, as only the verifier can tell whether it
 * allows socket storage in these tracepoints. */
static const char *read_method(const struct trace_opts *o)
{
	enum read_way way = first_way(o);
	struct read_bpf *s = NULL;

	if (way == WAY_SK_STORAGE && load_way(&s, way, o))
		way = WAY_STAMP;
	read_bpf__destroy(s);
	if (way == WAY_FALLBACK && !tracefs__has("tcp/tcp_probe"))
		return NULL;
	return way_method[way];
}

static void merge_wait(void *dst, const void *cpu)
{
	struct read_val *d = dst;
	const struct read_val *v = cpu;

	if (!d->comm[0] && v->comm[0])
		memcpy(d->comm, v->comm, sizeof(d->comm));
	hist__add(&d->wait, &v->wait);
}

static void delta_wait(void *val, const void *prev)
{
	struct read_val *d = val;
	const struct read_val *old = prev;

	hist__delta(&d->wait, &d->wait, &old->wait);
}

static void merge_syscall(void *dst, const void *cpu)
{
	struct read_syscall_val *d = dst;
	const struct read_syscall_val *v = cpu;

	if (!d->comm[0] && v->comm[0])
		memcpy(d->comm, v->comm, sizeof(d->comm));
	d->bytes += v->bytes;
	hist__add(&d->syscall, &v->syscall);
}

static void delta_syscall(void *val, const void *prev)
{
	struct read_syscall_val *d = val;
	const struct read_syscall_val *old = prev;

	d->bytes -= old->bytes;
	hist__delta(&d->syscall, &d->syscall, &old->syscall);
}

static const struct snapshot_ops wait_ops = {
	.key_size = sizeof(struct read_key),
	.val_size = sizeof(struct read_val),
	.merge = merge_wait,
	.delta = delta_wait,
};

static const struct snapshot_ops syscall_ops = {
	.key_size = sizeof(struct read_key),
	.val_size = sizeof(struct read_syscall_val),
	.merge = merge_syscall,
	.delta = delta_syscall,
};

static int view_add(struct family_view *v, const struct read_key *k, const char *comm,
		    const struct hist *h, __u64 bytes)
{
	__u64 counters[BREAKDOWN_COUNTERS] = { bytes };
	char label[32];
	int err;

	if (!h->count)
		return 0;
	hist__add(&v->total, h);
	v->bytes += bytes;
	err = breakdown__add_in(v->by_pid, k->cgroup, k->tgid, comm, h, counters);
	if (k->lport)
		snprintf(label, sizeof(label), "netns %u", k->netns);
	else
		snprintf(label, sizeof(label), "ephemeral ports");
	return err ? err : breakdown__add_in(v->by_port, k->netns, k->lport, label, h, counters);
}

static int account_wait(const void *key, const void *val, void *ctx)
{
	const struct read_val *v = val;

	return view_add(&((struct probe *)ctx)->wait, key, v->comm, &v->wait, 0);
}

static int account_syscall(const void *key, const void *val, void *ctx)
{
	const struct read_syscall_val *v = val;

	return view_add(&((struct probe *)ctx)->syscall, key, v->comm, &v->syscall, v->bytes);
}

static void view_reset(struct family_view *v)
{
	memset(&v->total, 0, sizeof(v->total));
	v->bytes = 0;
	breakdown__reset(v->by_pid);
	breakdown__reset(v->by_port);
}

static int read_collect(struct probe *p, bool total)
{
	struct read_bpf *s = p->skel;
	int err = snapshot__read_rows(p->wait.snap, bpf_map__fd(s->maps.read_stats),
				      bpf_map__fd(s->maps.read_stats_used));

	if (!err && p->syscall_on)
		err = snapshot__read_rows(p->syscall.snap, bpf_map__fd(s->maps.read_syscall_stats),
					  bpf_map__fd(s->maps.read_syscall_stats_used));
	if (err)
		return err;
	view_reset(&p->wait);
	view_reset(&p->syscall);
	err = snapshot__for_each(p->wait.snap, total, account_wait, p);
	if (!err && p->syscall_on)
		err = snapshot__for_each(p->syscall.snap, total, account_syscall, p);
	return err;
}

static void view_print(const struct family_view *v, FILE *out, const char *title)
{
	fprintf(out, "%s\n", title);
	report__hist(out, "  ", &v->total);
	breakdown__print(v->by_pid, out, "by process:", 10);
	breakdown__print(v->by_port, out, "by local port:", 10);
}

static void read_print(struct probe *p, FILE *out)
{
	char title[160];

	snprintf(title, sizeof(title), "read_wait: data queued -> read that drained it  [%s]", p->method);
	view_print(&p->wait, out, title);
	if (!p->syscall_on) {
		fprintf(out, "read_syscall: not measured (--read-syscall times each read syscall)\n");
		return;
	}
	snprintf(title, sizeof(title), "read_syscall: read-family syscalls on TCP sockets, %llu bytes",
		 (unsigned long long)p->syscall.bytes);
	view_print(&p->syscall, out, title);
}

static struct json_object *view_json(struct family_view *v, const char *method, bool bytes,
				     bool to_print)
{
	struct json_object *o = report__latency_json(&v->total);

	json_object_object_add(o, "method", json_object_new_string(method));
	if (bytes)
		json_object_object_add(o, "bytes", json_object_new_uint64(v->bytes));
	json_object_object_add(o, "by_pid", breakdown__json(v->by_pid, "comm", to_print));
	json_object_object_add(o, "by_port", breakdown__json(v->by_port, "netns", to_print));
	return o;
}

/* "read": { "wait": ..., "syscall": ... } under the family's name; the old
 * top-level keys stay for one release (docs/json.md). */
static void read_json(struct probe *p, struct json_object *root, bool to_print)
{
	struct json_object *o = json_object_new_object(), *wait, *syscall;

	wait = view_json(&p->wait, p->method, false, to_print);
	json_object_object_add(o, "wait", wait);
	json_object_object_add(root, "read_wait", json_object_get(wait));
	if (p->syscall_on) {
		syscall = view_json(&p->syscall, p->method, true, to_print);
		json_object_object_add(o, "syscall", syscall);
		json_object_object_add(root, "read_syscall", json_object_get(syscall));
	}
	json_object_object_add(root, "read", o);
}

static __u64 read_lost(struct probe *p)
{
	__u64 lost[READ_LOST_NR] = {}, n = 0;

	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.read_lost), READ_LOST_NR, lost);
	for (int i = 0; i < READ_LOST_NR; i++)
		n += lost[i];
	return n + bpfmap__recursion_misses(p->skel->obj);
}

static void read_detach(struct probe *p)
{
	if (!p)
		return;
	read_bpf__destroy(p->skel);
	snapshot__free(p->wait.snap);
	snapshot__free(p->syscall.snap);
	breakdown__free(p->wait.by_pid);
	breakdown__free(p->wait.by_port);
	breakdown__free(p->syscall.by_pid);
	breakdown__free(p->syscall.by_port);
	free(p);
}

/* For serve: read_wait, read_syscall with --read-syscall, lost events. */
/* A row's owners: the reading process and its namespace. serve exports
 * read's totals only: a freed row's counts go to one row of no process,
 * namespace or port, which is never freed. */
static bool read_gone(const void *key, void *ctx)
{
	const struct read_key *k = key;

	return liveness__pid_gone(ctx, k->tgid) || liveness__netns_gone(ctx, k->netns);
}

static bool read_fold(const void *key, void *out, void *ctx)
{
	(void)key;
	(void)out;
	(void)ctx;
	return true;	/* *out stays all zeroes */
}

static int read_reclaim(struct probe *p, const struct liveness *lv, struct reclaim_stats *st)
{
	struct reclaim_policy pol = { read_gone, read_fold, (void *)lv };
	struct row_table_fds wait = ROW_TABLE_FDS(p->skel, read_stats);
	struct row_table_fds sys = ROW_TABLE_FDS(p->skel, read_syscall_stats);
	int err = snapshot__reclaim(p->wait.snap, &wait, &pol, st);

	if (!err && p->syscall_on)
		err = snapshot__reclaim(p->syscall.snap, &sys, &pol, st);
	return err;
}

static void read_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[READ_LOST_NR] = {
		"unread_full", "displaced", "calls_full", "keys_full", "sk_storage_full",
	};
	__u64 lost[READ_LOST_NR] = {};

	promtext__family(w, "nettune_read_wait_seconds", PROM_HISTOGRAM, 0,
			 "Time from data queued on a TCP socket to the read that drained it");
	promtext__hist(w, NULL, 0, &p->wait.total);
	if (p->syscall_on) {
		promtext__family(w, "nettune_read_syscall_seconds", PROM_HISTOGRAM, 0,
				 "Duration of read-family syscalls on TCP sockets");
		promtext__hist(w, NULL, 0, &p->syscall.total);
		promtext__family(w, "nettune_read_syscall_bytes_total", PROM_COUNTER, 0,
				 "Bytes returned by read-family syscalls on TCP sockets");
		promtext__counter(w, NULL, 0, p->syscall.bytes);
	}
	bpfmap__sum_counters(bpf_map__fd(p->skel->maps.read_lost), READ_LOST_NR, lost);
	probe__lost_metrics(w, "read", causes, lost, READ_LOST_NR,
			    bpfmap__recursion_misses(p->skel->obj));
}

/* The ephemeral range of nettune's own namespace: where client sockets'
 * local ports come from (the usual range when it cannot be read). */
static void set_ephemeral_range(struct read_bpf *s)
{
	unsigned int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || lo > hi || hi > 65535) {
			lo = 32768;
			hi = 60999;
		}
		fclose(f);
	}
	s->rodata->targ_eph_lo = (__u16)lo;
	s->rodata->targ_eph_hi = (__u16)hi;
}

/* Readies a freshly opened skeleton for one way. The preferred ones end a
 * read syscall at sock_recv_length and keep arrival times in socket storage
 * or a stamp table: they need neither the syscall exits nor the fallback's
 * socket-keyed hash map (shrunk to one entry), and without read_syscall
 * (the default) no enter programs either. The fallback sees reads only
 * through the syscall hooks: it keeps them all, and reports read_syscall
 * only if asked. */
static void prepare(struct read_bpf *s, enum read_way way, const struct trace_opts *o)
{
	bool preferred = way != WAY_FALLBACK, enter = !preferred || o->read_syscall;

	bpf_program__set_autoload(s->progs.read_enter_read, enter);
	bpf_program__set_autoload(s->progs.read_enter_readv, enter);
	bpf_program__set_autoload(s->progs.read_enter_recvfrom, enter);
	bpf_program__set_autoload(s->progs.read_enter_recvmsg, enter);
	bpf_program__set_autoload(s->progs.read_enter_recvmmsg, enter);
	s->rodata->targ_read_syscall = o->read_syscall;
	bpf_program__set_autoload(s->progs.read_data_ready_sks, way == WAY_SK_STORAGE);
	bpf_program__set_autoload(s->progs.read_recv_length_sks, way == WAY_SK_STORAGE);
	bpf_program__set_autoload(s->progs.read_data_ready, way == WAY_STAMP);
	bpf_program__set_autoload(s->progs.read_recv_length, way == WAY_STAMP);
	bpf_program__set_autoload(s->progs.read_tcp_probe, !preferred);
	bpf_program__set_autoload(s->progs.read_exit_read, !preferred);
	bpf_program__set_autoload(s->progs.read_exit_readv, !preferred);
	bpf_program__set_autoload(s->progs.read_exit_recvfrom, !preferred);
	bpf_program__set_autoload(s->progs.read_exit_recvmsg, !preferred);
	bpf_program__set_autoload(s->progs.read_exit_recvmmsg, !preferred);
	if (preferred)
		bpf_map__set_max_entries(s->maps.read_unread, 1);
	/* The stamp table is a fixed array: one set where it is not used. */
	if (!preferred)
		bpf_map__set_max_entries(s->maps.read_since, 1);
	/* Without read_syscall its rows are never used: one slot, not 2,048
	 * histograms per CPU. */
	if (!o->read_syscall)
		bpf_map__set_max_entries(s->maps.read_syscall_stats, 1);
	set_ephemeral_range(s);
}

/* Opens *s afresh (destroying what it held) and loads it for one way;
 * libbpf is quiet unless it is the last way left. 0 or a negative errno. */
static int load_way(struct read_bpf **s, enum read_way way, const struct trace_opts *o)
{
	int err;

	read_bpf__destroy(*s);
	*s = read_bpf__open();
	if (!*s)
		return -errno;
	prepare(*s, way, o);
	PROBE_BEFORE_LOAD(*s, o);
	log__quiet_libbpf(way != WAY_FALLBACK);
	err = read_bpf__load(*s);
	log__quiet_libbpf(false);
	return err;
}

static int read_attach(struct probe **out, const struct trace_opts *o)
{
	struct probe *p = calloc(1, sizeof(*p));
	enum read_way way;
	int err = -ENOMEM;

	if (!p)
		return err;
	way = first_way(o);
	if (way == WAY_FALLBACK && !tracefs__has("tcp/tcp_probe")) {
		warn("read: this kernel has neither sock:sk_data_ready/sock_recv_length nor tcp:tcp_probe");
		free(p);
		return -ENOENT;
	}
	p->wait.by_pid = breakdown__new("pid", NULL);
	p->wait.by_port = breakdown__new("port", NULL);
	p->syscall.by_pid = breakdown__new_amounts("pid", bytes_name);
	p->syscall.by_port = breakdown__new_amounts("port", bytes_name);
	if (p->wait.by_pid)
		breakdown__group_by_cgroup(p->wait.by_pid);
	if (p->syscall.by_pid)
		breakdown__group_by_cgroup(p->syscall.by_pid);
	p->wait.snap = snapshot__new(&wait_ops);
	p->syscall.snap = snapshot__new(&syscall_ops);
	if (!p->wait.by_pid || !p->wait.by_port || !p->syscall.by_pid || !p->syscall.by_port ||
	    !p->wait.snap || !p->syscall.snap)
		goto fail;
	/* The cheapest way first (the verifier may still refuse tp_btf, or
	 * socket storage in it), then each next one. */
	for (;; way--) {
		err = load_way(&p->skel, way, o);
		if (!err)
			err = PROBE_FILL_FILTERS(p->skel, o);
		if (!err)
			err = read_bpf__attach(p->skel);
		if (!err || way == WAY_FALLBACK)
			break;
		debug("read: %s: %s", way_method[way], strerror(-err));
	}
	if (err)
		goto fail;
	p->method = way_method[way];
	p->syscall_on = o->read_syscall;
	*out = p;
	return 0;
fail:
	read_detach(p);
	return err;
}

static const char *const read_tracepoints[] = {
	"syscalls/sys_enter_read", "syscalls/sys_exit_read",
	"syscalls/sys_enter_readv", "syscalls/sys_exit_readv",
	"syscalls/sys_enter_recvfrom", "syscalls/sys_exit_recvfrom",
	"syscalls/sys_enter_recvmsg", "syscalls/sys_exit_recvmsg",
	"syscalls/sys_enter_recvmmsg", "syscalls/sys_exit_recvmmsg", NULL,
};

const struct probe_ops read_probe_ops = {
	.name = "read",
	.what = "read_wait (data queued -> read); with --read-syscall, read-syscall durations on TCP sockets",
	.tracepoints = read_tracepoints,
	.method = read_method,	/* its fallback needs no tp_btf */
	.attach = read_attach,
	.collect = read_collect,
	.print = read_print,
	.to_json = read_json,
	.lost = read_lost,
	.metrics = read_metrics,
	.reclaim = read_reclaim,
	.detach = read_detach,
};
