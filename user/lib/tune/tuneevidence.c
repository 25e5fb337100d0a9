// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tuneevidence.h"

/* report.a.b.c, or NULL when any step is missing. */
static struct json_object *at(struct json_object *o, const char *path)
{
	char key[64];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (p[n] == '.');
	}
	return o;
}

static double num(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);
	double d;

	if (!v || !(json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))
		return 0;
	d = json_object_is_type(v, json_type_int) ? (double)json_object_get_uint64(v) :
						   json_object_get_double(v);
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) < 0)
		d = 0;
	return isfinite(d) && d > 0 ? d : 0;
}

/* Counters are integers; anything else the report could hold is clamped. */
static __u64 cnt(struct json_object *o, const char *path)
{
	double d = num(o, path);

	return d >= 1.8e19 ? (__u64)1.8e19 : (__u64)d;
}

static __u32 u32_of(struct json_object *o, const char *path)
{
	__u64 v = cnt(o, path);

	return v > 0xffffffffULL ? 0xffffffffU : (__u32)v;
}

static void str(struct json_object *o, const char *path, char *buf, size_t len)
{
	struct json_object *v = at(o, path);

	snprintf(buf, len, "%s", v && json_object_is_type(v, json_type_string) ?
				   json_object_get_string(v) : "");
}

/* The listener's sockets, from the census in the report: an SO_REUSEPORT
 * group is raised socket by socket. */
static void sockets(struct json_object *o, struct tune_listener *l)
{
	struct json_object *arr = at(o, "sockets");
	size_t n = arr && json_object_is_type(arr, json_type_array) ?
		   json_object_array_length(arr) : 0;

	l->nsocks = n > 0xffffffffu ? 0xffffffffu : (__u32)n;
	for (size_t i = 0; i < n && l->nsocks_listed < TUNE_MAX_SOCKETS; i++) {
		struct json_object *so = json_object_array_get_idx(arr, i);
		struct tune_socket *s = &l->socks[l->nsocks_listed];

		s->ino = u32_of(so, "inode");
		s->limit = u32_of(so, "backlog_limit");
		s->pid = (int)(cnt(so, "pid") > 0x7fffffff ? 0 : cnt(so, "pid"));
		if (s->ino)
			l->nsocks_listed++;
	}
}

static void listener(struct json_object *o, struct tune_listener *l)
{
	memset(l, 0, sizeof(*l));
	str(o, "address", l->address, sizeof(l->address));
	str(o, "comm", l->comm, sizeof(l->comm));
	l->port = (__u16)(cnt(o, "port") > 65535 ? 0 : cnt(o, "port"));
	l->netns = u32_of(o, "netns");
	l->pid = (int)(cnt(o, "pid") > 0x7fffffff ? 0 : cnt(o, "pid"));
	l->limit = u32_of(o, "backlog_limit");
	l->peak_queue = u32_of(o, "peak_queue");
	l->accepted = cnt(o, "accepted");
	l->overflows_syn = cnt(o, "overflows.syn_time");
	l->overflows_ack = cnt(o, "overflows.ack_time");
	l->overflows = cnt(o, "overflows.total");
	if (l->overflows < l->overflows_syn + l->overflows_ack)
		l->overflows = l->overflows_syn + l->overflows_ack;
	l->wait_p99_us = num(o, "accept_wait.p99_us");
	l->wait_p50_us = num(o, "accept_wait.p50_us");
	sockets(o, l);
}

/* A listener the report shows twice (a report of an older nettune, or one
 * edited by hand) is one listener: its counts add up, so that one
 * recommendation covers it and no change is made twice. */
static void merge(struct tune_listener *d, const struct tune_listener *s)
{
	d->accepted += s->accepted;
	d->overflows += s->overflows;
	d->overflows_syn += s->overflows_syn;
	d->overflows_ack += s->overflows_ack;
	d->peak_queue = s->peak_queue > d->peak_queue ? s->peak_queue : d->peak_queue;
	d->wait_p99_us = s->wait_p99_us > d->wait_p99_us ? s->wait_p99_us : d->wait_p99_us;
	d->wait_p50_us = s->wait_p50_us > d->wait_p50_us ? s->wait_p50_us : d->wait_p50_us;
	if (!d->nsocks_listed && s->nsocks_listed) {
		memcpy(d->socks, s->socks, sizeof(d->socks));
		d->nsocks = s->nsocks;
		d->nsocks_listed = s->nsocks_listed;
		d->limit = s->limit;
	}
	if (!d->pid && s->pid) {
		d->pid = s->pid;
		memcpy(d->comm, s->comm, sizeof(d->comm));
	}
}

static struct tune_listener *find(struct tune_listener *ls, size_t n,
				  const struct tune_listener *l)
{
	for (size_t i = 0; l->address[0] && i < n; i++)
		if (ls[i].netns == l->netns && !strcmp(ls[i].address, l->address))
			return &ls[i];
	return NULL;
}

/* The namespace counter is exact. Per-listener attribution is exact on
 * kernels whose kfree_skb tracepoint names the receiving socket (rx_sk,
 * 6.12+); before that ACK-time overflows cannot be tied to a listener. With
 * a single active listener every overflow of the namespace is its own. */
static void ns_overflows(struct json_object *report, struct tune_evidence *ev,
			 struct tune_listener *l)
{
	struct json_object *arr = at(report, "drops.namespaces");
	__u64 ns = ev->listen_overflows;

	for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (ev->netns && cnt(o, "netns") == ev->netns)
			ns = cnt(o, "ListenOverflows");
	}
	if (ns > l->overflows) {
		l->overflows = ns;
		l->overflows_from_ns = true;
	}
}

int tuneevidence__from_report(struct json_object *report, struct tune_evidence *ev,
			      struct tune_listener *ls, size_t max)
{
	struct json_object *arr;
	size_t n = 0;

	if (!report || !json_object_is_type(report, json_type_object))
		return -EINVAL;
	ev->seconds = num(report, "seconds");
	ev->listen_overflows = cnt(report, "drops.listen_overflows");
	ev->syn_queue_drops = cnt(report, "drops.syn_queue_drops");
	ev->syncookies_sent = cnt(report, "drops.syncookies_sent");
	/* CPU_BACKLOG happens before any socket; count both tables anyway. */
	ev->drop_cpu_backlog = cnt(report, "drops.by_reason_no_socket.CPU_BACKLOG") +
			       cnt(report, "drops.by_reason.CPU_BACKLOG");
	ev->drop_rcvbuff = cnt(report, "drops.by_reason.SOCKET_RCVBUFF");
	ev->drop_proto_mem = cnt(report, "drops.by_reason.PROTO_MEM");
	ev->connect_no_port = cnt(report, "connect.failures.no_local_port");
	ev->connect_total = cnt(report, "connect.count") + cnt(report, "connect.failures.total");
	arr = at(report, "listeners");
	for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr) && n < max; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		struct tune_listener *same;

		if (!json_object_is_type(o, json_type_object))
			continue;
		listener(o, &ls[n]);
		if (ev->netns && ls[n].netns != ev->netns)
			continue;
		same = find(ls, n, &ls[n]);
		if (same)
			merge(same, &ls[n]);
		else
			n++;
	}
	ev->listeners = ls;
	ev->nlisteners = n;
	/* With -p, other processes' listeners were filtered out of the report:
	 * the namespace's count may be theirs. */
	if (n == 1 && !ev->pid_scoped)
		ns_overflows(report, ev, &ls[0]);
	return 0;
}
