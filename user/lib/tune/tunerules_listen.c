// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The listener rules: listen overflows and full SYN queues (which limit is
 * the cap decides what to change), tcp_max_syn_backlog where it applies, and
 * SO_REUSEPORT for a saturated accept loop. docs/tuning.md grounds each.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tunerules.h"
#include "tunerules_int.h"

#define REUSEPORT_WAIT_P99_US	50000.0	/* an accept loop this late is the bottleneck */
#define REUSEPORT_MIN_ACCEPTS	50	/* fewer samples say nothing about a p99 */
#define REUSEPORT_MAX		64
#define SOMAXCONN_DEFAULT	4096	/* since 5.4 */

static __u64 syn_queue_full(const struct tune_evidence *ev, const struct tune_listener *l)
{
	/* SYNs that found the SYN queue (limit = the listen backlog) full: the
	 * namespace counts them, not the listener, so they go to every listener
	 * that was in use. */
	return l->accepted || l->overflows ? ev->syn_queue_drops + ev->syncookies_sent : 0;
}

double tunerules__backlog_need(const struct tune_evidence *ev, const struct tune_listener *l)
{
	double turned = (double)l->overflows + (double)syn_queue_full(ev, l);
	double need = (double)l->limit + 1 + turned;
	double arrivals = (double)l->accepted + turned;

	if (ev->seconds > 0 && isfinite(ev->seconds) && l->wait_p99_us > 0 &&
	    isfinite(l->wait_p99_us)) {
		double little = 2 * arrivals / ev->seconds * (l->wait_p99_us / 1e6);

		if (little > need)
			need = little;
	}
	return need;
}

static void overflow_evidence(const struct tr_ctx *c, const struct tune_listener *l,
			      char *buf, size_t len)
{
	const struct tune_evidence *ev = c->ev;
	char a[32], b[32], d[32];

	if (l->overflows)
		tr_cat(buf, len, " overflowed %s times in %.1f s (%s%s when the SYN came, %s at "
		       "the final ACK)", tr_count(l->overflows, a), ev->seconds,
		       l->overflows_from_ns ? "TcpExtListenOverflows of its namespace, where it is "
		       "the only active listener; traced: " : "", tr_count(l->overflows_syn, b),
		       tr_count(l->overflows_ack, d));
	if (syn_queue_full(ev, l))
		tr_cat(buf, len, "%s the namespace sent %s SYN cookies and dropped %s SYNs on a "
		       "full SYN queue", l->overflows ? ";" : "", tr_count(ev->syncookies_sent, a),
		       tr_count(ev->syn_queue_drops, b));
}

static void listener_evidence(const struct tr_ctx *c, const struct tune_listener *l,
			      char *buf, size_t len)
{
	const struct tune_evidence *ev = c->ev;
	char a[32];

	snprintf(buf, len, "listener %s", l->address);
	if (l->pid)
		tr_cat(buf, len, " (pid %d %s)", l->pid, l->comm);
	overflow_evidence(c, l, buf, len);
	tr_cat(buf, len, "; its limit is %u", l->limit);
	if (l->limit < ev->somaxconn)
		tr_cat(buf, len, " = the backlog the application asked for");
	else if (l->limit == ev->somaxconn)
		tr_cat(buf, len, " = somaxconn: the application asked for at least that");
	else
		tr_cat(buf, len, ", above somaxconn: somaxconn was higher when it called listen()");
	tr_cat(buf, len, "; somaxconn is %lld; %s accepted, peak queue %u", ev->somaxconn,
	       tr_count(l->accepted, a), l->peak_queue);
	if (l->wait_p99_us > 0 && ev->seconds > 0)
		tr_cat(buf, len, "; %.1f attempts/s (accepts + overflows), accept wait p99 %.1f ms",
		       ((double)l->accepted + (double)l->overflows) / ev->seconds,
		       l->wait_p99_us / 1e3);
}

static void add_relisten(struct tr_ctx *c, const struct tune_listener *l, long long prop,
			 const char *evidence, bool after_somaxconn)
{
	struct tune_rec *r;
	char id[sizeof(r->id)];

	snprintf(id, sizeof(id), "listen-backlog/%u/%s", l->netns, l->address);
	if (tr_find(c, id))
		return;	/* one change per listener, however the evidence came */
	r = tr_add(c, TUNE_RELISTEN, "listen-backlog");
	if (!r)
		return;
	r->scope = SYSCTL_NETNS;
	r->netns = l->netns;
	r->pid = l->pid;
	r->nsocks = l->nsocks_listed;
	r->nsocks_total = l->nsocks > l->nsocks_listed ? l->nsocks : l->nsocks_listed;
	memcpy(r->socks, l->socks, sizeof(r->socks));
	snprintf(r->address, sizeof(r->address), "%s", l->address);
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->setting, sizeof(r->setting), "listen backlog of %s", l->address);
	r->cur_num = l->limit;
	r->prop_num = prop;
	snprintf(r->current, sizeof(r->current), "%u", l->limit);
	snprintf(r->proposed, sizeof(r->proposed), "%lld", prop);
	snprintf(r->evidence, sizeof(r->evidence), "%s", evidence);
	snprintf(r->why, sizeof(r->why), after_somaxconn ?
		 "listen() clamped this listener to somaxconn when it started; raising somaxconn "
		 "does not change listeners that already listen: listen() again (--relisten) or "
		 "restart the server" :
		 "the application's backlog is the cap (its limit is below somaxconn, so "
		 "raising somaxconn changes nothing): listen() again with a larger backlog "
		 "(--relisten) and raise the backlog in the application's configuration");
	snprintf(r->effect, sizeof(r->effect), "the accept queue holds %lld connections instead "
		 "of %u, right away, without a restart; a burst that size no longer overflows",
		 prop + 1, l->limit + 1);
	if (l->nsocks > 1)
		tr_cat(r->effect, sizeof(r->effect), "; on each of the %u SO_REUSEPORT sockets",
		       l->nsocks);
}

static void add_somaxconn(struct tr_ctx *c, const struct tune_listener *l, long long prop,
			  const char *evidence)
{
	char id[64];
	struct tune_rec *r;

	snprintf(id, sizeof(id), "somaxconn/%u", c->ev->netns);
	r = tr_find(c, id);
	if (r) {	/* one per namespace: the largest need wins */
		r->prop_num = prop > r->prop_num ? prop : r->prop_num;
		snprintf(r->proposed, sizeof(r->proposed), "%lld", r->prop_num);
		tr_cat(r->evidence, sizeof(r->evidence), "; also %s", l->address);
		return;
	}
	r = tr_sysctl_ll(c, "somaxconn", "net.core.somaxconn", c->ev->somaxconn, prop);
	if (!r)
		return;
	snprintf(r->evidence, sizeof(r->evidence), "%s", evidence);
	if (c->ev->somaxconn < SOMAXCONN_DEFAULT)
		tr_cat(r->evidence, sizeof(r->evidence), "; somaxconn %lld is below the kernel "
		       "default %d", c->ev->somaxconn, SOMAXCONN_DEFAULT);
	snprintf(r->why, sizeof(r->why), "somaxconn is the cap: listen() clamps every backlog to "
		 "it; it is per namespace; existing listeners keep their limit until they "
		 "listen() again (--relisten) or restart");
	snprintf(r->effect, sizeof(r->effect), "listeners that call listen() from now on may "
		 "queue up to %lld connections", prop);
}

static void add_ceiling(struct tr_ctx *c, const struct tune_listener *l, const char *evidence)
{
	struct tune_rec *r;
	char id[sizeof(r->id)];

	snprintf(id, sizeof(id), "listen-ceiling/%u/%s", l->netns, l->address);
	if (tr_find(c, id) || !(r = tr_add(c, TUNE_ADVICE, "listen-ceiling")))
		return;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->setting, sizeof(r->setting), "accept capacity of %s", l->address);
	r->netns = l->netns;
	snprintf(r->evidence, sizeof(r->evidence), "%s", evidence);
	snprintf(r->why, sizeof(r->why), "the queue is at nettune's ceiling (%d): a longer "
		 "queue only adds waiting", TUNE_BACKLOG_CEILING);
	snprintf(r->effect, sizeof(r->effect), "accept faster: more accepting threads, or "
		 "SO_REUSEPORT listeners");
}

/* Listen overflows and full SYN queues: which limit is the cap decides what
 * to change (docs/tuning.md "listen-backlog" and "somaxconn"). */
void tr_rule_listener(struct tr_ctx *c, const struct tune_listener *l, long long *max_backlog)
{
	const struct tune_evidence *ev = c->ev;
	char evidence[640];
	double need;
	long long p, s;

	if (!(ev->known & TK_SOMAXCONN) || (!l->overflows && !syn_queue_full(ev, l)))
		return;
	listener_evidence(c, l, evidence, sizeof(evidence));
	need = tunerules__backlog_need(ev, l);
	p = tunerules__bounded(need, l->limit, 0, TUNE_BACKLOG_CEILING);
	if (l->limit < ev->somaxconn) {
		if (p <= l->limit) {
			add_ceiling(c, l, evidence);
			return;
		}
		if (p > ev->somaxconn) {
			s = tunerules__bounded((double)p, ev->somaxconn, SOMAXCONN_DEFAULT,
					       TUNE_BACKLOG_CEILING);
			if (s > ev->somaxconn)
				add_somaxconn(c, l, s, evidence);
			p = s > ev->somaxconn ? (p < s ? p : s) : ev->somaxconn;
		}
		if (p > l->limit)
			add_relisten(c, l, p, evidence, false);
	} else {
		/* limit >= somaxconn: clamped at listen() (or somaxconn was lowered
		 * since, and a relisten below somaxconn's new value would shrink it) */
		s = tunerules__bounded(need, ev->somaxconn, SOMAXCONN_DEFAULT,
				       TUNE_BACKLOG_CEILING);
		if (s <= ev->somaxconn || s <= l->limit) {
			add_ceiling(c, l, evidence);
			return;
		}
		add_somaxconn(c, l, s, evidence);
		p = p < s ? p : s;
		if (p > l->limit)
			add_relisten(c, l, p, evidence, true);
	}
	if (p > *max_backlog)
		*max_backlog = p;
}

/* With syncookies off, tcp_conn_request() also drops SYNs once the SYN queue
 * is over 3/4 of tcp_max_syn_backlog: raise it only where that threshold is
 * below the backlog the listeners are given. With cookies on it never applies. */
void tr_rule_syn_backlog(struct tr_ctx *c, long long backlog)
{
	const struct tune_evidence *ev = c->ev;
	const unsigned int need = TK_SYNCOOKIES | TK_SYN_BACKLOG;
	struct tune_rec *r;
	long long p;
	char a[32];

	if ((ev->known & need) != need || ev->syncookies != 0 || !ev->syn_queue_drops ||
	    backlog <= ev->max_syn_backlog / 4 * 3)
		return;
	p = tunerules__bounded((double)backlog * 4 / 3, ev->max_syn_backlog, 128,
			       TUNE_BACKLOG_CEILING);
	if (p <= ev->max_syn_backlog)
		return;	/* at or above the ceiling already: never lower it */
	r = tr_sysctl_ll(c, "syn-backlog", "net.ipv4.tcp_max_syn_backlog", ev->max_syn_backlog, p);
	if (!r)
		return;
	snprintf(r->evidence, sizeof(r->evidence), "%s SYNs dropped on a full SYN queue in %.1f s "
		 "(TcpExtTCPReqQFullDrop) with tcp_syncookies=0; the listeners get a backlog of "
		 "%lld but tcp_max_syn_backlog %lld drops SYNs above 3/4 of it",
		 tr_count(ev->syn_queue_drops, a), ev->seconds, backlog, ev->max_syn_backlog);
	snprintf(r->why, sizeof(r->why), "with syncookies off the SYN queue is bounded by the "
		 "backlog and by 3/4 of tcp_max_syn_backlog; the kernel default tcp_syncookies=1 "
		 "would answer a full queue with cookies instead (nettune never switches them)");
	snprintf(r->effect, sizeof(r->effect), "half-open connections up to the listeners' "
		 "backlog are kept instead of dropped");
}

void tr_rule_reuseport(struct tr_ctx *c, const struct tune_listener *l)
{
	const struct tune_evidence *ev = c->ev;
	double demand, served, need;
	struct tune_rec *r;
	char id[sizeof(r->id)];
	long long n, cpus = ev->ncpus > 2 ? ev->ncpus : 2;

	if (l->nsocks != 1 || l->accepted < REUSEPORT_MIN_ACCEPTS ||
	    !(l->wait_p99_us >= REUSEPORT_WAIT_P99_US) || !(ev->seconds > 0))
		return;
	demand = ((double)l->accepted + (double)l->overflows) / ev->seconds;
	served = (double)l->accepted / ev->seconds;
	/* The loop at 50% busy; clamped as a double, the ratio can be huge. */
	need = ceil(2 * demand / served);
	n = !(need < REUSEPORT_MAX) ? REUSEPORT_MAX : need < 2 ? 2 : (long long)need;
	n = n > cpus ? cpus : n;
	snprintf(id, sizeof(id), "reuseport/%u/%s", l->netns, l->address);
	if (tr_find(c, id) || !(r = tr_add(c, TUNE_ADVICE, "reuseport")))
		return;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->setting, sizeof(r->setting), "SO_REUSEPORT listeners on %s", l->address);
	r->netns = l->netns;
	r->cur_num = 1;
	r->prop_num = n;
	snprintf(r->current, sizeof(r->current), "1 listener");
	snprintf(r->proposed, sizeof(r->proposed), "%lld listeners", n);
	snprintf(r->evidence, sizeof(r->evidence), "one listener on port %u; accept wait p99 "
		 "%.1f ms (p50 %.1f ms) over %llu accepts in %.1f s: %.1f/s served, %.1f/s arrived",
		 l->port, l->wait_p99_us / 1e3, l->wait_p50_us / 1e3,
		 (unsigned long long)l->accepted, ev->seconds, served, demand);
	snprintf(r->why, sizeof(r->why), "a single accept loop is the bottleneck; SO_REUSEPORT "
		 "spreads new connections over N listeners by 4-tuple hash, each with its own "
		 "queue and accept loop (at most one per CPU)");
	snprintf(r->effect, sizeof(r->effect), "N accept loops share the load; the hash ignores "
		 "load, so one stalled worker still overflows its own queue");
}
