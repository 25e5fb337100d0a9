// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "benchreport.h"
#include "hist.h"

static struct json_object *at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && (!json_object_is_type(v, json_type_object) ||
		  !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return v;
}

static double num(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = at(o, a, b);
	double d;

	if (!v || !(json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))
		return 0;
	d = json_object_get_double(v);
	return isfinite(d) && d > 0 ? d : 0;
}

static __u64 cnt(struct json_object *o, const char *a, const char *b)
{
	return (__u64)num(o, a, b);
}

int benchreport__loadgen(struct json_object *lg, struct bench_metrics *m)
{
	struct json_object *lat = at(lg, "latency", NULL);

	if (!lg || !json_object_is_type(lg, json_type_object) || !at(lg, "operations", NULL))
		return -EINVAL;
	m->seconds = num(lg, "duration_s", NULL);
	m->ok = cnt(lg, "http_status", "2xx");
	m->ok_per_s = m->seconds > 0 ? (double)m->ok / m->seconds : 0;
	m->errors = cnt(lg, "errors", "refused") + cnt(lg, "errors", "reset") +
		    cnt(lg, "errors", "timeout") + cnt(lg, "errors", "other");
	m->slow_connects = cnt(lg, "connections", "slow");
	m->connect_p99_us = num(lat, "connect", "p99_us");
	m->response_p99_us = num(lat, "response", "p99_us");
	return 0;
}

void benchreport__trace(struct json_object *report, struct bench_metrics *m)
{
	m->accept_wait_p99_us = cnt(report, "accept", "count") ?
				num(report, "accept", "p99_us") : -1;
}

void benchreport__counters(__u64 overflows, __u64 listen_drops, struct bench_metrics *m)
{
	m->overflows = overflows;
	m->listen_drops = listen_drops;
	m->overflows_per_s = m->seconds > 0 ? (double)overflows / m->seconds : 0;
}

static void us_text(double us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else
		hist__fmt_ns(buf, len, (__u64)(us * 1000));
}

/* One table row: the field at offset OFF of each run, formatted by KIND
 * ('u' microseconds, 'f' a rate, 'n' a count): one loop for every row. */
static void row(FILE *out, const char *label, const struct bench_metrics *m, int n,
		int kind, size_t off)
{
	char cell[32];

	fprintf(out, "  %-22s", label);
	for (int i = 0; i < n; i++) {
		const char *p = (const char *)&m[i] + off;

		if (kind == 'u')
			us_text(*(const double *)p, cell, sizeof(cell));
		else if (kind == 'f' && *(const double *)p < 1e15)
			snprintf(cell, sizeof(cell), "%.1f", *(const double *)p);
		else if (kind == 'f')
			snprintf(cell, sizeof(cell), "%.3g", *(const double *)p);
		else if (*(const __u64 *)p < 1000000000000000ULL)
			snprintf(cell, sizeof(cell), "%llu", (unsigned long long)*(const __u64 *)p);
		else	/* still one cell wide */
			snprintf(cell, sizeof(cell), "%.3g", (double)*(const __u64 *)p);
		fprintf(out, " %18s", cell);
	}
	fputc('\n', out);
}

void benchreport__table(FILE *out, const char *const *names, const struct bench_metrics *m,
			int n)
{
	n = n > 4 ? 4 : n;
	fprintf(out, "  %-22s", "");
	for (int i = 0; i < n; i++)
		fprintf(out, " %18.18s", names[i]);
	fputc('\n', out);
	row(out, "throughput (2xx/s)", m, n, 'f', offsetof(struct bench_metrics, ok_per_s));
	row(out, "errors", m, n, 'n', offsetof(struct bench_metrics, errors));
	row(out, "connect p99", m, n, 'u', offsetof(struct bench_metrics, connect_p99_us));
	row(out, "connects >= 0.9 s", m, n, 'n', offsetof(struct bench_metrics, slow_connects));
	row(out, "accept-wait p99", m, n, 'u', offsetof(struct bench_metrics, accept_wait_p99_us));
	row(out, "response p99", m, n, 'u', offsetof(struct bench_metrics, response_p99_us));
	row(out, "listen overflows/s", m, n, 'f', offsetof(struct bench_metrics, overflows_per_s));
	row(out, "listen overflows", m, n, 'n', offsetof(struct bench_metrics, overflows));
	row(out, "listen drops", m, n, 'n', offsetof(struct bench_metrics, listen_drops));
}

struct json_object *benchreport__json(const struct bench_metrics *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", json_object_new_double(m->seconds));
	json_object_object_add(o, "ok", json_object_new_uint64(m->ok));
	json_object_object_add(o, "ok_per_s", json_object_new_double(m->ok_per_s));
	json_object_object_add(o, "errors", json_object_new_uint64(m->errors));
	json_object_object_add(o, "connect_p99_us", json_object_new_double(m->connect_p99_us));
	json_object_object_add(o, "slow_connects", json_object_new_uint64(m->slow_connects));
	json_object_object_add(o, "accept_wait_p99_us",
			       m->accept_wait_p99_us < 0 ? NULL :
			       json_object_new_double(m->accept_wait_p99_us));
	json_object_object_add(o, "response_p99_us", json_object_new_double(m->response_p99_us));
	json_object_object_add(o, "listen_overflows", json_object_new_uint64(m->overflows));
	json_object_object_add(o, "listen_overflows_per_s",
			       json_object_new_double(m->overflows_per_s));
	json_object_object_add(o, "listen_drops", json_object_new_uint64(m->listen_drops));
	return o;
}
