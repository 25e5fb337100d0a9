// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The schedule of one thread.
 *
 * Open loop (-r): operation k of this thread is due at
 *   t0 + offset + k * interval
 * whatever happened to the operations before it. Its latencies are
 * measured from that intended time. When the -c bound (or this loop
 * itself) holds an operation back, the wait counts in its latency, so a
 * server that stalls is charged for every request it delayed, not only for
 * the few that were in flight when it stalled (coordinated omission).
 * Operations due before the end that never started are reported as
 * unsent, and how late operations started is a histogram of its own.
 *
 * Closed loop (-r 0): a slot starts its next operation as soon as the last
 * one ended, as fast as the server allows; latencies are then from the
 * actual start. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "loadgen.h"

#define LG_EVENTS	256
#define LG_DRAIN_NS	100000000ULL	/* past the last timeout, give up */

uint64_t lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void lg_list__move(struct lg_thread *t, struct lg_conn *c, struct lg_list *l)
{
	struct lg_list *from = c->in;

	if (from) {
		if (c->prev)
			c->prev->next = c->next;
		else
			from->head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		else
			from->tail = c->prev;
	}
	c->in = l;
	if (l == &t->busy)
		c->deadline = t->now + t->o->timeout_ns;
	/* Idle and free slots are reused last-in first-out (warm in cache);
	 * the busy list appends, keeping deadlines in order. */
	if (l != &t->busy) {
		c->prev = NULL;
		c->next = l->head;
		if (l->head)
			l->head->prev = c;
		else
			l->tail = c;
		l->head = c;
		return;
	}
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static bool open_loop(const struct lg_thread *t)
{
	return t->interval_ns > 0;
}

static uint64_t due(const struct lg_thread *t, uint64_t k)
{
	return t->t0 + t->offset_ns + (uint64_t)((double)k * t->interval_ns);
}

static bool have_slot(const struct lg_thread *t)
{
	return t->free.head || (t->o->mode == LG_HTTP_KEEPALIVE && t->idle.head);
}

static bool start_one(struct lg_thread *t, uint64_t intended)
{
	struct lg_conn *c;

	if (t->o->mode == LG_HTTP_KEEPALIVE && (c = t->idle.head)) {
		lg_conn__request(t, c, intended);
		return true;
	}
	c = t->free.head;
	if (!c)
		return false;
	lg_conn__connect(t, c, intended, true);
	return true;
}

static void start_due(struct lg_thread *t)
{
	/* Each slot starts at most once per call: an operation can fail at
	 * once (refused, no port) and free its slot again, and closed loop
	 * must still get back to the clock and the event loop. */
	uint32_t budget = t->nconns;
	uint64_t intended, lag;

	/* Operations due before the end but held back (-c) may still start
	 * for one timeout after it; the rest are reported as unsent. */
	if (t->now >= t->t_end + t->o->timeout_ns)
		return;
	while (t->k < t->max_ops && budget--) {
		intended = open_loop(t) ? due(t, t->k) : t->now;
		if (intended > t->now || intended >= t->t_end)
			return;
		if (!have_slot(t)) {
			if (open_loop(t) && t->held_mark != t->k + 1) {
				t->st.held++;
				t->held_mark = t->k + 1;
			}
			return;
		}
		t->k++;
		t->st.started++;
		t->inflight++;
		if (open_loop(t)) {
			lag = t->now - intended;
			hist__record(&t->st.lag, lag);
			t->st.late += lag > LG_LATE_NS;
		}
		start_one(t, intended);
	}
}

static bool stopping(const struct lg_thread *t)
{
	return *t->stop || t->now >= t->t_end || t->k >= t->max_ops;
}

static struct timespec *next_wait(struct lg_thread *t, struct timespec *ts)
{
	uint64_t next = UINT64_MAX, wait;

	if (t->busy.head)
		next = t->busy.head->deadline;
	if (!stopping(t)) {
		if (t->t_end < next)
			next = t->t_end;
		if (open_loop(t) && have_slot(t) && due(t, t->k) < next)
			next = due(t, t->k);
	}
	if (next == UINT64_MAX)
		return NULL;
	wait = next > t->now ? next - t->now : 0;
	ts->tv_sec = (time_t)(wait / 1000000000ULL);
	ts->tv_nsec = (long)(wait % 1000000000ULL);
	return ts;
}

static void expire(struct lg_thread *t)
{
	struct lg_conn *c;

	while ((c = t->busy.head) && c->deadline <= t->now)
		lg_conn__expire(t, c);
}

/* Operations that were due before the end but never started. */
static void count_unsent(struct lg_thread *t)
{
	uint64_t span, n;

	if (!open_loop(t) || *t->stop || t->t_end <= t->t0 + t->offset_ns)
		return;
	span = t->t_end - t->t0 - t->offset_ns;
	n = (uint64_t)ceil((double)span / t->interval_ns);
	if (n > t->max_ops)
		n = t->max_ops;
	if (n > t->k)
		t->st.unsent = n - t->k;
}

static void wait_until(uint64_t when)
{
	struct timespec ts = {
		.tv_sec = (time_t)(when / 1000000000ULL),
		.tv_nsec = (long)(when % 1000000000ULL),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void *lg_thread__run(void *arg)
{
	struct lg_thread *t = arg;
	struct epoll_event ev[LG_EVENTS];
	/* Last start at t_end + timeout, which must end by one more timeout. */
	uint64_t hard_end = t->t_end + 2 * t->o->timeout_ns + LG_DRAIN_NS;
	struct timespec ts;
	int n;

	/* The default 50 us timer slack would add itself to every start. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	wait_until(t->t0);
	t->now = lg_now();
	if (t->o->mode == LG_HTTP_KEEPALIVE)	/* -c connections, opened at t0 */
		while (t->free.head)
			lg_conn__connect(t, t->free.head, t->t0, false);
	for (;;) {
		/* Also after the end: operations due before it still start. */
		if (!*t->stop)
			start_due(t);
		if (stopping(t) && (!t->inflight || t->now >= hard_end))
			break;
		n = epoll_pwait2(t->epfd, ev, LG_EVENTS, next_wait(t, &ts), NULL);
		if (n < 0 && errno != EINTR) {
			t->err = -errno;
			warn("thread %d: epoll_pwait2: %s", t->id, strerror(errno));
			break;
		}
		t->now = lg_now();
		for (int i = 0; i < n; i++)
			lg_conn__event(t, ev[i].data.ptr, ev[i].events);
		expire(t);
	}
	t->t_done = t->now < t->t_end ? t->now : t->t_end;
	count_unsent(t);
	for (uint32_t i = 0; i < t->nconns; i++)
		if (t->conns[i].fd >= 0)
			lg_conn__close(t, &t->conns[i]);
	return NULL;
}

int lg_thread__init(struct lg_thread *t, int id, const struct lg_opts *o, uint64_t t0,
		    const char *req, uint32_t req_len, volatile sig_atomic_t *stop)
{
	uint32_t nt = (uint32_t)o->threads;

	t->id = id;
	t->o = o;
	t->stop = stop;
	t->req = req;
	t->req_len = req_len;
	t->t0 = t0;
	t->t_end = t0 + o->duration_ns;
	t->epfd = -1;
	/* Each thread takes an equal share of the rate, -c and -n; phases
	 * interleave so that together they keep an even pace. */
	t->nconns = o->conc / nt + ((uint32_t)id < o->conc % nt);
	t->max_ops = UINT64_MAX;
	if (o->count)
		t->max_ops = o->count / nt + ((uint64_t)id < o->count % nt);
	if (o->rate > 0) {
		t->interval_ns = 1e9 * nt / o->rate;
		t->offset_ns = (uint64_t)(1e9 * id / o->rate);
	}
	t->conns = calloc(t->nconns, sizeof(*t->conns));
	if (!t->conns)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nconns; i++) {
		t->conns[i].fd = -1;
		lg_list__move(t, &t->conns[i], &t->free);
	}
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	return t->epfd < 0 ? -errno : 0;
}

void lg_thread__fini(struct lg_thread *t)
{
	if (!t)
		return;
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->conns);
}
