// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* refserver: parse options, open listeners, run the workers until a signal
 * (or -d), shut down gracefully, print statistics. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "opts.h"
#include "refserver.h"

struct server {
	struct rs_opts opts;
	int listenfd[RS_MAX_WORKERS];
	int nlisten;
	int port;
	char *body;
	struct rs_worker *workers;
	int ninit;		/* workers initialised */
	int nstarted;		/* worker threads running */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_listeners(struct server *s)
{
	const struct rs_opts *o = &s->opts;
	int n = o->reuseport ? o->workers : 1, port = o->port, err;

	for (int i = 0; i < n; i++) {
		err = rs_listen__open(o, port, &s->listenfd[i]);
		if (err)
			return err;
		s->nlisten++;
		if (i == 0) {
			port = rs_listen__port(s->listenfd[0]);
			if (port < 0)
				return port;
		}
	}
	s->port = port;
	info("listening on %s port %d (backlog %d, %d worker%s, %s)", o->addr_str, port,
	     o->backlog, o->workers, o->workers > 1 ? "s" : "",
	     o->reuseport ? "one SO_REUSEPORT listener each" : "one shared listener");
	return 0;
}

static int start_workers(struct server *s)
{
	const struct rs_opts *o = &s->opts;
	int err;

	s->body = http__make_body(o->body_size);
	s->workers = calloc((size_t)o->workers, sizeof(*s->workers));
	if (!s->body || !s->workers)
		return -ENOMEM;
	for (int i = 0; i < o->workers; i++) {
		err = rs_worker__init(&s->workers[i], i, s->listenfd[o->reuseport ? i : 0], o,
				      s->body);
		s->ninit++;
		if (err) {
			warn("worker %d: setup failed: %s", i, strerror(-err));
			return err;
		}
	}
	for (int i = 0; i < o->workers; i++) {
		err = pthread_create(&s->workers[i].thread, NULL, rs_worker__run, &s->workers[i]);
		if (err) {
			warn("worker %d: cannot start thread: %s", i, strerror(err));
			return -err;
		}
		s->nstarted++;
	}
	return 0;
}

/* Waits for SIGTERM/SIGINT, or the end of -d. Workers block these signals
 * (they inherit the mask), so only this thread ever sees them. */
static void wait_for_stop(const struct rs_opts *o, const sigset_t *set)
{
	struct timespec ts = {
		.tv_sec = (time_t)(o->duration_ms / 1000),
		.tv_nsec = (long)(o->duration_ms % 1000) * 1000000,
	};
	double end = mono_s() + (double)o->duration_ms / 1000;
	int sig;

	for (;;) {
		sig = o->duration_ms ? sigtimedwait(set, NULL, &ts) : sigwaitinfo(set, NULL);
		if (sig > 0 || (sig < 0 && errno == EAGAIN))
			return;
		if (o->duration_ms) {	/* EINTR: wait for what is left */
			double left = end - mono_s();

			if (left <= 0)
				return;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		}
	}
}

static int stop_workers(struct server *s)
{
	uint64_t one = 1;
	int err = 0;

	for (int i = 0; i < s->nstarted; i++)
		if (write(s->workers[i].wakefd, &one, sizeof(one)) < 0)
			warn("worker %d: cannot wake: %s", i, strerror(errno));
	for (int i = 0; i < s->nstarted; i++) {
		pthread_join(s->workers[i].thread, NULL);
		if (s->workers[i].err)
			err = s->workers[i].err;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct server s = { .nlisten = 0 };
	sigset_t set;
	double t0 = mono_s();
	int err, rc = EXIT_RUNTIME;

	log__init("refserver", LOG_INFO);
	err = rs_opts__parse(&s.opts, argc, argv);
	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	if (s.opts.verbose)
		log__init("refserver", LOG_DEBUG);
	/* A client that goes away mid-response must cost an EPIPE, not the
	 * process. The stop signals are blocked before any thread starts. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	err = open_listeners(&s);
	if (err)
		goto cleanup;
	err = start_workers(&s);
	if (!err) {
		t0 = mono_s();
		wait_for_stop(&s.opts, &set);
	}
	err = stop_workers(&s) ?: err;
	if (err)
		goto cleanup;
	if (rs_stats__print(&s.opts, s.workers, s.opts.workers, mono_s() - t0, s.port))
		goto cleanup;
	rc = 0;
cleanup:
	for (int i = 0; i < s.ninit; i++)
		rs_worker__fini(&s.workers[i]);
	for (int i = 0; i < s.nlisten; i++)
		close(s.listenfd[i]);
	free(s.workers);
	free(s.body);
	return rc;
}
