// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Rules from measured evidence to recommendations: the framework and the
 * system-wide rules (the listener rules are in tunerules_listen.c). Grounding is in
 * docs/tuning.md and docs/kernels.md ("Listen queues", "Sysctls").
 * Every numeric proposal goes through tunerules__bounded() (bounded step,
 * hard ceiling, never below the kernel default) and tunerules__safe().
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tunerules.h"
#include "tunerules_int.h"

#define EPHEMERAL_MIN_FAILS	10
#define EPHEMERAL_MIN_SHARE	0.05	/* of finished connects */
#define PORT_RANGE_LOW_FLOOR	16384	/* below this lie service ports */
#define PORT_MAX		65535

const char *tunerules__kind_name(enum tune_kind k)
{
	return k == TUNE_SYSCTL ? "sysctl" : k == TUNE_RELISTEN ? "relisten" : "advice";
}

/* One step for settings sized by doubling rather than by a measured need:
 * exactly twice (a power of two is meaningless for byte and packet counts),
 * within the floor and ceiling. */
static long long doubled(long long cur, long long floor, long long ceiling)
{
	long long p = tr_sat_mul(cur < 1 ? 1 : cur, 2);

	p = p < floor ? floor : p;
	return p > ceiling ? ceiling : p;
}

static void rule_netdev_backlog(struct tr_ctx *c)
{
	const struct tune_evidence *ev = c->ev;
	struct tune_rec *r;
	long long p;
	char a[32];

	if (!ev->drop_cpu_backlog || !(ev->known & TK_NETDEV_BACKLOG))
		return;
	p = doubled(ev->netdev_max_backlog, 1000,
		    sysctl__info("net.core.netdev_max_backlog")->ceiling);
	if (p <= ev->netdev_max_backlog)
		return;	/* at or above the ceiling already: never lower it */
	r = tr_sysctl_ll(c, "netdev-backlog", "net.core.netdev_max_backlog",
			  ev->netdev_max_backlog, p);
	if (!r)
		return;
	snprintf(r->evidence, sizeof(r->evidence), "%s packets dropped with reason CPU_BACKLOG in "
		 "%.1f s: a CPU's input queue (netdev_max_backlog = %lld) was full",
		 tr_count(ev->drop_cpu_backlog, a), ev->seconds, ev->netdev_max_backlog);
	snprintf(r->why, sizeof(r->why), "CPU_BACKLOG is the drop when the per-CPU backlog queue "
		 "is longer than netdev_max_backlog; the setting is global (initial namespace)");
	snprintf(r->effect, sizeof(r->effect), "short bursts are queued instead of dropped; if "
		 "drops persist, spread receive work over CPUs (RSS/RPS) rather than queue more");
}

static void triple(const long long v[3], char *buf, size_t len)
{
	snprintf(buf, len, "%lld %lld %lld", v[0], v[1], v[2]);
}

static bool mem_pressure(const struct tune_evidence *ev)
{
	return (ev->known & TK_MEM_PRESSURES) && ev->mem_pressures > 0;
}

/* SOCKET_RCVBUFF, and PROTO_MEM without TCP memory pressure, are a socket's
 * own receive buffer: autotuning stops at tcp_rmem[2]. */
static void rule_rcvbuf(struct tr_ctx *c)
{
	const struct tune_evidence *ev = c->ev;
	const struct sysctl_info *i = sysctl__info("net.ipv4.tcp_rmem");
	__u64 sock = ev->drop_rcvbuff + (mem_pressure(ev) ? 0 : ev->drop_proto_mem);
	char cur[96], a[32], b[32], d[32];
	struct tune_rec *r;

	if (!sock || !(ev->known & TK_TCP_RMEM) || ev->tcp_rmem[2] >= i->ceiling)
		return;	/* at or above the ceiling already: never lower it */
	triple(ev->tcp_rmem, cur, sizeof(cur));
	r = tr_sysctl(c, "rcvbuf", "net.ipv4.tcp_rmem", cur,
		      doubled(ev->tcp_rmem[2], i->floor, i->ceiling));
	if (!r)
		return;
	snprintf(r->evidence, sizeof(r->evidence), "%s TCP packets dropped on a full receive "
		 "buffer in %.1f s (SOCKET_RCVBUFF %s, PROTO_MEM %s; no TCP memory pressure seen)",
		 tr_count(sock, a), ev->seconds, tr_count(ev->drop_rcvbuff, b),
		 tr_count(ev->drop_proto_mem, d));
	snprintf(r->why, sizeof(r->why), "receive autotuning grows a socket's buffer up to "
		 "tcp_rmem[2]; an application that sets SO_RCVBUF is capped by net.core.rmem_max "
		 "instead (global) and loses autotuning");
	snprintf(r->effect, sizeof(r->effect), "fast senders fill a larger window instead of "
		 "being dropped; a reader that is simply slow stays slow");
}

/* PROTO_MEM while the namespace has been under TCP memory pressure: the
 * protocol-wide limit, tcp_mem (pages, global). */
static void rule_tcp_mem(struct tr_ctx *c)
{
	const struct tune_evidence *ev = c->ev;
	const unsigned int need = TK_TCP_MEM | TK_MEM_PAGES;
	long long m[3], p;
	char cur[96], a[32], b[32];
	struct tune_rec *r;

	if (!mem_pressure(ev) || !ev->drop_proto_mem || (ev->known & need) != need ||
	    ev->tcp_mem[2] <= 0)
		return;
	p = doubled(ev->tcp_mem[2], 1, (long long)(ev->mem_pages / 4));
	if (p <= ev->tcp_mem[2])
		return;	/* a quarter of RAM already */
	for (int k = 0; k < 2; k++) {	/* keep the three thresholds' proportions */
		double v = (double)ev->tcp_mem[k] * ((double)p / (double)ev->tcp_mem[2]);

		m[k] = v < 0 ? 0 : v < 9e18 ? (long long)v : p;
	}
	m[2] = p;
	triple(ev->tcp_mem, cur, sizeof(cur));
	r = tr_sysctl(c, "tcp-mem", "net.ipv4.tcp_mem", cur, p);
	if (!r)
		return;
	triple(m, r->proposed, sizeof(r->proposed));
	snprintf(r->evidence, sizeof(r->evidence), "%s packets dropped with reason PROTO_MEM in "
		 "%.1f s and TCP memory pressure entered %s times (TcpExtTCPMemoryPressures)",
		 tr_count(ev->drop_proto_mem, a), ev->seconds, tr_count(ev->mem_pressures, b));
	snprintf(r->why, sizeof(r->why), "tcp_mem (pages, global) bounds all TCP buffers; "
		 "nettune never proposes more than a quarter of RAM");
	snprintf(r->effect, sizeof(r->effect), "TCP may use up to %lld pages before dropping; a "
		 "cgroup memory limit can cause PROTO_MEM too", m[2]);
}

/* Connects that failed for want of a local port (EADDRNOTAVAIL). */
static bool ports_short(const struct tune_evidence *ev)
{
	long long range = ev->port_hi - ev->port_lo + 1;

	if (ev->connect_no_port < EPHEMERAL_MIN_FAILS || !(ev->known & TK_PORT_RANGE) ||
	    (double)ev->connect_no_port < EPHEMERAL_MIN_SHARE * (double)ev->connect_total ||
	    ev->port_hi < ev->port_lo || ev->port_lo < 1 || ev->port_hi > PORT_MAX)
		return false;
	/* Fewer TCP sockets than half the range cannot exhaust it. */
	return !(ev->known & TK_TCP_SOCKETS) || (long long)ev->tcp_sockets >= range / 2;
}

static void rule_port_range(struct tr_ctx *c)
{
	const struct tune_evidence *ev = c->ev;
	long long range = ev->port_hi - ev->port_lo + 1, lo, hi;
	char a[32], b[32], d[32], v[64];
	struct tune_rec *r;

	/* At most double the range: up first (no service ports there), then
	 * down for the rest, never below the floor. */
	hi = ev->port_hi + range > PORT_MAX ? PORT_MAX : ev->port_hi + range;
	lo = ev->port_lo - (range - (hi - ev->port_hi));
	lo = lo < PORT_RANGE_LOW_FLOOR ? PORT_RANGE_LOW_FLOOR : lo;
	lo = lo > ev->port_lo ? ev->port_lo : lo;
	if (lo == ev->port_lo && hi == ev->port_hi)
		return;
	snprintf(v, sizeof(v), "%lld %lld", ev->port_lo, ev->port_hi);
	r = tr_sysctl(c, "ephemeral-ports", "net.ipv4.ip_local_port_range", v, lo);
	if (!r)
		return;
	snprintf(r->proposed, sizeof(r->proposed), "%lld %lld", lo, hi);
	snprintf(r->evidence, sizeof(r->evidence), "%s of %s connects found no free local port "
		 "(EADDRNOTAVAIL) in %.1f s; %s ports in the range", tr_count(ev->connect_no_port, a),
		 tr_count(ev->connect_total, b), ev->seconds, tr_count((__u64)range, d));
	if (ev->known & TK_TCP_SOCKETS)
		tr_cat(r->evidence, sizeof(r->evidence), ", %llu TCP sockets in use or TIME-WAIT",
		       (unsigned long long)ev->tcp_sockets);
	snprintf(r->why, sizeof(r->why), "each connection to one destination needs its own "
		 "local port, and TIME-WAIT holds it 60 s; never start below %d: list listening "
		 "ports in the range in net.ipv4.ip_local_reserved_ports", PORT_RANGE_LOW_FLOOR);
	snprintf(r->effect, sizeof(r->effect), "%lld ephemeral ports instead of %lld",
		 hi - lo + 1, range);
}

static void rule_tw_reuse(struct tr_ctx *c)
{
	const struct tune_evidence *ev = c->ev;
	struct tune_rec *r;
	char a[32];

	if (!(ev->known & TK_TW_REUSE) || ev->tw_reuse == 1)
		return;
	r = tr_sysctl_ll(c, "ephemeral-ports", "net.ipv4.tcp_tw_reuse", ev->tw_reuse, 1);
	if (!r)
		return;
	snprintf(r->id, sizeof(r->id), "tw-reuse/%u", ev->netns);
	snprintf(r->evidence, sizeof(r->evidence), "%s connects found no free local port in "
		 "%.1f s; tcp_tw_reuse is %lld", tr_count(ev->connect_no_port, a), ev->seconds,
		 ev->tw_reuse);
	snprintf(r->why, sizeof(r->why), "tcp_tw_reuse=1 lets connect() take a TIME-WAIT port "
		 "when TCP timestamps prove it safe (the default 2 does it on loopback only); "
		 "tcp_tw_recycle is gone since 4.12 and is never written");
	snprintf(r->effect, sizeof(r->effect), "outgoing connections reuse ports held in "
		 "TIME-WAIT instead of failing");
}

bool tunerules__safe(const struct tune_rec *r)
{
	const struct sysctl_info *info;
	long long v;

	if (strstr(r->setting, "tw_recycle") || strstr(r->proposed, "tw_recycle"))
		return false;
	if (r->kind == TUNE_ADVICE)
		return true;
	if (r->kind == TUNE_RELISTEN)
		return r->prop_num > r->cur_num && r->prop_num <= TUNE_BACKLOG_CEILING &&
		       r->prop_num > 0;
	info = sysctl__info(r->setting);
	if (!info || !r->proposed[0] || !strcmp(r->proposed, r->current))
		return false;
	/* No rule proposes syncookies at all; 0 would be refused anyway. */
	if (!strcmp(r->setting, "net.ipv4.tcp_syncookies"))
		return false;
	if (sysctl__field(r->proposed, info->field, &v) || v != r->prop_num)
		return false;
	return v >= info->floor && v <= info->ceiling;
}

static int kind_rank(enum tune_kind k)
{
	return k == TUNE_SYSCTL ? 0 : k == TUNE_RELISTEN ? 1 : 2;
}

/* Drops unsafe entries and orders sysctls, relistens, advice (stable). */
static void finish(struct tr_ctx *c)
{
	struct tune_rec tmp;
	size_t w = 0;

	for (size_t i = 0; i < c->n; i++)
		if (tunerules__safe(&c->recs[i]))
			c->recs[w++] = c->recs[i];
	c->n = w;
	for (size_t i = 1; i < c->n; i++)
		for (size_t k = i; k > 0 && kind_rank(c->recs[k - 1].kind) >
					    kind_rank(c->recs[k].kind); k--) {
			tmp = c->recs[k];
			c->recs[k] = c->recs[k - 1];
			c->recs[k - 1] = tmp;
		}
}

int tunerules__evaluate(const struct tune_evidence *ev, struct tune_rec *recs, size_t max,
			size_t *n)
{
	struct tr_ctx c = { .ev = ev, .recs = recs, .max = max };
	long long backlog = 0;

	for (size_t i = 0; ev->listeners && i < ev->nlisteners; i++)
		tr_rule_listener(&c, &ev->listeners[i], &backlog);
	tr_rule_syn_backlog(&c, backlog);
	rule_netdev_backlog(&c);
	rule_rcvbuf(&c);
	rule_tcp_mem(&c);
	if (ports_short(ev)) {
		rule_port_range(&c);
		rule_tw_reuse(&c);
	}
	for (size_t i = 0; ev->listeners && i < ev->nlisteners; i++)
		tr_rule_reuseport(&c, &ev->listeners[i]);
	finish(&c);
	*n = c.n;
	return c.full ? -ENOSPC : 0;
}
