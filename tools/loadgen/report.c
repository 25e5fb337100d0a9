// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Results: merged statistics, the terminal summary and --json. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "report.h"
#include "log.h"
#include "loadgen.h"

/* nettune's latency object (docs/json.md): one shape for every tool. */
static struct json_object *latency_json(const struct hist *h, bool buckets)
{
	struct json_object *o = report__latency_json(h);

	if (!buckets)
		json_object_object_del(o, "buckets");
	return o;
}

static const char *const err_names[LG_E_COUNT] = {
	[LG_E_REFUSED] = "refused",
	[LG_E_RESET] = "reset",
	[LG_E_TIMEOUT] = "timeout",
	[LG_E_OTHER] = "other",
};

void lg_stats__add(struct lg_stats *dst, const struct lg_stats *src)
{
	hist__add(&dst->connect, &src->connect);
	hist__add(&dst->response, &src->response);
	hist__add(&dst->lag, &src->lag);
	dst->started += src->started;
	dst->completed += src->completed;
	dst->failed += src->failed;
	dst->connections += src->connections;
	dst->late += src->late;
	dst->held += src->held;
	dst->unsent += src->unsent;
	for (int i = 0; i < LG_E_COUNT; i++)
		dst->err[i] += src->err[i];
	for (int i = 0; i < LG_NCAUSES; i++)
		dst->cause[i] += src->cause[i];
	for (int i = 0; i < 6; i++)
		dst->status[i] += src->status[i];
	dst->bytes_out += src->bytes_out;
	dst->bytes_in += src->bytes_in;
}

static const char *cause_name(int cause)
{
	const char *n;

	switch (cause) {
	case LG_CAUSE_EOF: return "EOF";
	case LG_CAUSE_PROTO: return "PROTOCOL";
	case LG_CAUSE_TIMEOUT: return "TIMEOUT";
	}
	n = strerrorname_np(cause);
	return n ? n : "UNKNOWN";
}

/* Open loop only: the asked rate was kept when every operation due before
 * the end was started, and the median start was on time. Single late
 * starts are not enough to say otherwise: a virtual machine can wake a
 * thread 20 ms late now and then (measured on this project's machines),
 * and those starts are charged to latency anyway; a loadgen that cannot
 * keep up falls behind steadily, which moves the median. */
static bool rate_kept(const struct lg_stats *s)
{
	return !s->unsent && hist__quantile(&s->lag, 0.5) <= LG_LATE_NS;
}

static double per_s(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

static struct json_object *json_u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static struct json_object *rate_json(const struct lg_opts *o, const struct lg_stats *s,
				     double secs)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "asked_per_s", json_object_new_double(o->rate));
	json_object_object_add(r, "started_per_s", json_object_new_double(per_s(s->started, secs)));
	json_object_object_add(r, "completed_per_s",
			       json_object_new_double(per_s(s->completed, secs)));
	json_object_object_add(r, "kept", o->rate > 0 ? json_object_new_boolean(rate_kept(s))
						      : NULL);
	json_object_object_add(r, "late", json_u64(s->late));
	json_object_object_add(r, "held", json_u64(s->held));
	json_object_object_add(r, "unsent", json_u64(s->unsent));
	return r;
}

static struct json_object *errors_json(const struct lg_stats *s)
{
	struct json_object *e = json_object_new_object(), *d = json_object_new_object();

	for (int i = 0; i < LG_E_COUNT; i++)
		json_object_object_add(e, err_names[i], json_u64(s->err[i]));
	for (int i = 1; i < LG_NCAUSES; i++)
		if (s->cause[i])
			json_object_object_add(d, cause_name(i), json_u64(s->cause[i]));
	json_object_object_add(e, "causes", d);
	return e;
}

static int print_json(const struct lg_opts *o, const struct lg_stats *s, double secs)
{
	struct json_object *root = json_object_new_object(), *x;
	static const char *const cls[6] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

	if (!root)
		return -ENOMEM;
	json_object_object_add(root, "mode", json_object_new_string(lg_mode__name(o->mode)));
	x = json_object_new_object();
	json_object_object_add(x, "addr", json_object_new_string(o->addr_str));
	json_object_object_add(x, "port", json_object_new_int(o->port));
	json_object_object_add(x, "path", json_object_new_string(o->path));
	json_object_object_add(root, "target", x);
	json_object_object_add(root, "threads", json_object_new_int(o->threads));
	json_object_object_add(root, "concurrency", json_u64(o->conc));
	json_object_object_add(root, "timeout_s", json_object_new_double((double)o->timeout_ns / 1e9));
	json_object_object_add(root, "duration_s", json_object_new_double(secs));
	json_object_object_add(root, "rate", rate_json(o, s, secs));
	x = json_object_new_object();
	json_object_object_add(x, "started", json_u64(s->started));
	json_object_object_add(x, "completed", json_u64(s->completed));
	json_object_object_add(x, "failed", json_u64(s->failed));
	json_object_object_add(root, "operations", x);
	x = json_object_new_object();
	json_object_object_add(x, "opened", json_u64(s->connections));
	json_object_object_add(x, "slow", json_u64(hist__count_from(&s->connect,
								   LG_SLOW_CONNECT_NS)));
	json_object_object_add(root, "connections", x);
	json_object_object_add(root, "errors", errors_json(s));
	x = json_object_new_object();
	for (int i = 0; i < 6; i++)
		json_object_object_add(x, cls[i], json_u64(s->status[i]));
	json_object_object_add(root, "http_status", x);
	x = json_object_new_object();
	json_object_object_add(x, "sent", json_u64(s->bytes_out));
	json_object_object_add(x, "received", json_u64(s->bytes_in));
	json_object_object_add(root, "bytes", x);
	x = json_object_new_object();
	json_object_object_add(x, "connect", latency_json(&s->connect, o->buckets));
	json_object_object_add(x, "response", latency_json(&s->response, o->buckets));
	json_object_object_add(x, "start_lag", latency_json(&s->lag, o->buckets));
	json_object_object_add(root, "latency", x);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

/* hist__fmt_ns writes "µs", two bytes for one column: pad by hand. */
static void print_ns(uint64_t ns)
{
	char buf[32];
	int w = 10;

	hist__fmt_ns(buf, sizeof(buf), ns);
	if (strstr(buf, "µ"))
		w++;
	printf("%*s", w, buf);
}

static void print_hist(const char *name, const struct hist *h)
{
	struct hist_summary s;

	if (!h->count)
		return;
	hist__summarize(h, &s);
	printf("  %-10s %9llu", name, (unsigned long long)s.count);
	print_ns(s.p50_ns);
	print_ns(s.p90_ns);
	print_ns(s.p99_ns);
	print_ns(s.p999_ns);
	print_ns(s.max_ns);
	print_ns(s.mean_ns);
	putchar('\n');
}

static void print_text(const struct lg_opts *o, const struct lg_stats *s, double secs)
{
	printf("loadgen: %s to %s port %d, %.1f s, %d thread%s, ", lg_mode__name(o->mode),
	       o->addr_str, o->port, secs, o->threads, o->threads > 1 ? "s" : "");
	if (o->rate > 0)
		printf("open loop at %.0f/s, at most %u in flight\n", o->rate, o->conc);
	else
		printf("closed loop, %u in flight\n", o->conc);
	printf("  operations %llu started (%.0f/s), %llu completed (%.0f/s), %llu failed\n",
	       (unsigned long long)s->started, per_s(s->started, secs),
	       (unsigned long long)s->completed, per_s(s->completed, secs),
	       (unsigned long long)s->failed);
	printf("  errors     refused %llu, reset %llu, timeout %llu, other %llu",
	       (unsigned long long)s->err[LG_E_REFUSED], (unsigned long long)s->err[LG_E_RESET],
	       (unsigned long long)s->err[LG_E_TIMEOUT], (unsigned long long)s->err[LG_E_OTHER]);
	for (int i = 1; i < LG_NCAUSES; i++)
		if (s->cause[i] && i != LG_CAUSE_TIMEOUT && i != ECONNREFUSED)
			printf(" %s:%llu", cause_name(i), (unsigned long long)s->cause[i]);
	putchar('\n');
	if (o->mode != LG_CONNECT)
		printf("  http       2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu, other %llu\n",
		       (unsigned long long)s->status[2], (unsigned long long)s->status[3],
		       (unsigned long long)s->status[4], (unsigned long long)s->status[5],
		       (unsigned long long)(s->status[0] + s->status[1]));
	printf("  latency        count       p50       p90       p99     p99.9       max      mean\n");
	print_hist("connect", &s->connect);
	print_hist("response", &s->response);
	print_hist("start lag", &s->lag);
	if (s->connect.count)
		printf("  connects taking 0.9 s or more (a SYN retransmitted): %llu\n",
		       (unsigned long long)hist__count_from(&s->connect, LG_SLOW_CONNECT_NS));
}

int lg_report__print(const struct lg_opts *o, const struct lg_stats *s, double secs)
{
	int err = 0;

	if (o->json)
		err = print_json(o, s, secs);
	else
		print_text(o, s, secs);
	fflush(stdout);	/* the warnings below follow the summary */
	if (o->rate > 0 && !rate_kept(s))
		warn("could not keep the asked rate of %.0f/s: started %.0f/s, median start "
		     "%.2f ms late, %llu never started, %llu waited for a free slot (-c %u)%s",
		     o->rate, per_s(s->started, secs),
		     (double)hist__quantile(&s->lag, 0.5) / 1e6, (unsigned long long)s->unsent,
		     (unsigned long long)s->held, o->conc,
		     s->held ? ": the server is slower than the rate, or raise -c"
			     : ": loadgen itself is the limit, add threads (-t)");
	if (s->cause[EADDRNOTAVAIL])
		warn("%llu connects found no free local port (EADDRNOTAVAIL): widen "
		     "net.ipv4.ip_local_port_range or use --rst",
		     (unsigned long long)s->cause[EADDRNOTAVAIL]);
	return err;
}
