// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* loadgen: parse options, run the threads on a common schedule, merge
 * their statistics, report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "opts.h"
#include "loadgen.h"

#define LG_START_NS	20000000ULL	/* threads start together, 20 ms from now */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static char *build_request(const struct lg_opts *o, uint32_t *len)
{
	char host[80];
	char *req = NULL;
	int n;

	if (o->host)
		snprintf(host, sizeof(host), "%s", o->host);
	else if (o->addr.ss_family == AF_INET6)
		snprintf(host, sizeof(host), "[%s]:%d", o->addr_str, o->port);
	else
		snprintf(host, sizeof(host), "%s:%d", o->addr_str, o->port);
	n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loadgen\r\n%s\r\n",
		     o->path, host, o->mode == LG_HTTP_CLOSE ? "Connection: close\r\n" : "");
	if (n < 0)
		return NULL;
	*len = (uint32_t)n;
	return req;
}

/* Rates are over the time operations were being started: -d, or less
 * when -n or a signal ended the run first. */
static double run_seconds(const struct lg_thread *th, int n, uint64_t t0)
{
	uint64_t end = t0;

	for (int i = 0; i < n; i++)
		if (th[i].t_done > end)
			end = th[i].t_done;
	return (double)(end - t0) / 1e9;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a reset peer costs an EPIPE, not the process */
}

int main(int argc, char **argv)
{
	struct lg_thread *th = NULL;
	struct lg_stats *total = NULL;
	struct lg_opts o;
	int err, ninit = 0, nstarted = 0, rc = EXIT_RUNTIME;
	uint32_t req_len = 0;
	char *req = NULL;
	uint64_t t0;

	log__init("loadgen", LOG_INFO);
	err = lg_opts__parse(&o, argc, argv);
	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	if (o.verbose)
		log__init("loadgen", LOG_DEBUG);
	setup_signals();
	req = build_request(&o, &req_len);
	th = calloc((size_t)o.threads, sizeof(*th));
	total = calloc(1, sizeof(*total));
	if (!req || !th || !total) {
		warn("out of memory");
		goto cleanup;
	}
	t0 = lg_now() + LG_START_NS;
	for (int i = 0; i < o.threads; i++, ninit++) {
		err = lg_thread__init(&th[i], i, &o, t0, req, req_len, &stop_flag);
		if (err) {
			warn("thread %d: setup failed: %s", i, strerror(-err));
			ninit++;
			goto join;
		}
	}
	for (; nstarted < o.threads; nstarted++) {
		err = pthread_create(&th[nstarted].thread, NULL, lg_thread__run, &th[nstarted]);
		if (err) {
			warn("cannot start thread %d: %s", nstarted, strerror(err));
			stop_flag = 1;
			goto join;
		}
	}
join:
	for (int i = 0; i < nstarted; i++) {
		pthread_join(th[i].thread, NULL);
		lg_stats__add(total, &th[i].st);
		err = th[i].err ?: err;
	}
	if (err || nstarted < o.threads)
		goto cleanup;
	if (lg_report__print(&o, total, run_seconds(th, o.threads, t0)))
		goto cleanup;
	rc = 0;
cleanup:
	for (int i = 0; i < ninit; i++)
		lg_thread__fini(&th[i]);
	free(th);
	free(total);
	free(req);
	return rc;
}
