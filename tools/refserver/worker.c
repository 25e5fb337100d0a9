// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A worker: one thread, one epoll instance, its listener (shared or its
 * own), its connections and its timer lists. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "refserver.h"

#define RS_EVENTS		256
#define RS_ACCEPT_BATCH		64	/* accepts per wake-up, so a connection
					 * storm cannot starve established clients */
#define RS_EMFILE_PAUSE_NS	100000000ULL	/* 100 ms without accept */
#define RS_LINGER_NS		2000000000ULL	/* lingering close at most 2 s */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void rs_timer__set(struct rs_worker *w, struct rs_conn *c, enum rs_timer t)
{
	struct rs_list *l;

	if (c->timer != RS_T_NONE) {
		l = &w->timers[c->timer];
		if (c->tprev)
			c->tprev->tnext = c->tnext;
		else
			l->head = c->tnext;
		if (c->tnext)
			c->tnext->tprev = c->tprev;
		else
			l->tail = c->tprev;
	}
	c->timer = t;
	if (t == RS_T_NONE)
		return;
	l = &w->timers[t];
	c->deadline = w->now + w->timeout[t];
	c->tnext = NULL;
	c->tprev = l->tail;
	if (l->tail)
		l->tail->tnext = c;
	else
		l->head = c;
	l->tail = c;
}

int rs_worker__watch(struct rs_worker *w, struct rs_conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	int op = c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (c->registered && c->want_out == out)
		return 0;
	if (out)
		ev.events |= EPOLLOUT;
	ev.data.ptr = c;
	/* Edge-triggered, yet nothing is lost by registering late: adding
	 * polls the socket once and reports what is already pending. */
	if (epoll_ctl(w->epfd, op, c->fd, &ev))
		return -errno;
	c->registered = true;
	c->want_out = out;
	return 0;
}

/* The listener leaves the epoll set while accept is paused (EMFILE, or
 * --accept-delay-us): a level-triggered listener with a queue would
 * otherwise wake us in a loop. */
static int listener_arm(struct rs_worker *w, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int op = on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;

	if (w->listening == on)
		return 0;
	/* A shared listener wakes one worker per connection, not all (no
	 * thundering herd). */
	if (!w->opts->reuseport && w->opts->workers > 1)
		ev.events |= EPOLLEXCLUSIVE;
	ev.data.ptr = &w->listener_kind;
	if (epoll_ctl(w->epfd, op, w->listenfd, &ev))
		return -errno;
	w->listening = on;
	return 0;
}

static void accept_pause(struct rs_worker *w, uint64_t ns)
{
	if (listener_arm(w, false))
		return;	/* stays armed: at worst we retry sooner */
	w->accept_resume = w->now + ns;
}

static void accept_error(struct rs_worker *w, int err)
{
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		if (!w->stats.fd_exhaustion++)
			warn("worker %d: accept: %s: pausing accept for %llu ms at a time "
			     "(raise the limit with ulimit -n)", w->id, strerror(err),
			     RS_EMFILE_PAUSE_NS / 1000000);
		accept_pause(w, RS_EMFILE_PAUSE_NS);
		return;
	}
	w->stats.accept_errors++;
	/* A client that gave up before we accepted it is not worth a line. */
	if (err != ECONNABORTED && err != EPROTO && !w->logged_accept_error) {
		w->logged_accept_error = true;
		warn("worker %d: accept: %s", w->id, strerror(err));
	}
}

static void do_accept(struct rs_worker *w)
{
	int fd, err;

	for (int i = 0; i < RS_ACCEPT_BATCH && w->listening; i++) {
		fd = accept4(w->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			err = errno;
			if (err == EAGAIN || err == EINTR)
				return;
			accept_error(w, err);
			/* Errors about one aborted connection leave the queue usable. */
			if (err == ECONNABORTED || err == EPROTO || err == EPERM)
				continue;
			return;
		}
		if (!rs_conn__start(w, fd)) {
			w->stats.alloc_failures++;
			close(fd);
		}
		if (w->opts->accept_delay_ns) {
			accept_pause(w, w->opts->accept_delay_ns);
			return;
		}
	}
}

static void begin_stop(struct rs_worker *w)
{
	struct rs_conn *c, *next;

	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_deadline = w->now + w->opts->grace_ns;
	listener_arm(w, false);
	w->accept_resume = 0;
	for (c = w->all; c; c = next) {
		next = c->anext;
		rs_conn__stop(w, c);
	}
}

static void run_timers(struct rs_worker *w)
{
	struct rs_conn *c;

	for (int t = 0; t < RS_T_COUNT; t++)
		while ((c = w->timers[t].head) && c->deadline <= w->now) {
			rs_timer__set(w, c, RS_T_NONE);
			rs_conn__expire(w, c);
		}
	if (w->accept_resume && w->accept_resume <= w->now && !w->stopping) {
		w->accept_resume = 0;
		if (listener_arm(w, true))
			w->accept_resume = w->now + RS_EMFILE_PAUSE_NS;
	}
}

/* Time to the next deadline, or NULL to wait for events only. */
static struct timespec *next_wait(struct rs_worker *w, struct timespec *ts)
{
	uint64_t next = UINT64_MAX, wait;

	for (int t = 0; t < RS_T_COUNT; t++)
		if (w->timers[t].head && w->timers[t].head->deadline < next)
			next = w->timers[t].head->deadline;
	if (w->accept_resume && w->accept_resume < next)
		next = w->accept_resume;
	if (w->stopping && w->stop_deadline < next)
		next = w->stop_deadline;
	if (next == UINT64_MAX)
		return NULL;
	wait = next > w->now ? next - w->now : 0;
	ts->tv_sec = (time_t)(wait / 1000000000ULL);
	ts->tv_nsec = (long)(wait % 1000000000ULL);
	return ts;
}

static void dispatch(struct rs_worker *w, struct epoll_event *ev, int n)
{
	bool wake = false;

	for (int i = 0; i < n; i++) {
		enum rs_kind *k = ev[i].data.ptr;

		if (*k == RS_K_CONN)
			rs_conn__event(w, (struct rs_conn *)k, ev[i].events);
		else if (*k == RS_K_LISTENER)
			do_accept(w);
		else
			wake = true;
	}
	/* After the batch: stopping closes connections that later events of
	 * this same batch may still point to. */
	if (wake)
		begin_stop(w);
}

void *rs_worker__run(void *arg)
{
	struct rs_worker *w = arg;
	struct epoll_event ev[RS_EVENTS];
	struct timespec ts;
	int n;

	w->now = mono_ns();
	w->err = listener_arm(w, true);
	while (!w->err) {
		n = epoll_pwait2(w->epfd, ev, RS_EVENTS, next_wait(w, &ts), NULL);
		if (n < 0 && errno != EINTR) {
			w->err = -errno;
			warn("worker %d: epoll_pwait2: %s", w->id, strerror(errno));
			break;
		}
		w->now = mono_ns();
		dispatch(w, ev, n < 0 ? 0 : n);
		run_timers(w);
		if (w->stopping && (!w->all || w->now >= w->stop_deadline))
			break;
	}
	while (w->all)
		rs_conn__close(w, w->all);
	/* A worker that failed takes the server down instead of leaving it
	 * half alive; main waits for this signal. */
	if (w->err)
		kill(getpid(), SIGTERM);
	return NULL;
}

int rs_worker__init(struct rs_worker *w, int id, int listenfd, const struct rs_opts *o,
		   const char *body)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->opts = o;
	w->listenfd = listenfd;
	w->listener_kind = RS_K_LISTENER;
	w->wake_kind = RS_K_WAKE;
	w->wakefd = -1;
	w->epfd = -1;
	w->timeout[RS_T_IDLE] = o->idle_timeout_ns;
	w->timeout[RS_T_HEADER] = o->header_timeout_ns;
	w->timeout[RS_T_WRITE] = o->idle_timeout_ns;
	w->timeout[RS_T_DELAY] = o->handler_delay_ns;
	w->timeout[RS_T_LINGER] = o->idle_timeout_ns < RS_LINGER_NS ? o->idle_timeout_ns
								    : RS_LINGER_NS;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wakefd < 0)
		return -errno;
	ev.data.ptr = &w->wake_kind;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev))
		return -errno;
	err = http_cache__init(&w->cache, body, o->body_size, time(NULL));
	return err;
}

void rs_worker__fini(struct rs_worker *w)
{
	struct rs_conn *c;

	if (!w)
		return;
	while ((c = w->free)) {
		w->free = c->anext;
		free(c);
	}
	http_cache__fini(&w->cache);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
}
