// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The statistics refserver prints when it stops. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "refserver.h"

/* One table drives the sum, the text and the JSON, so a counter cannot be
 * added to one and forgotten in another. */
static const struct {
	const char *name;
	size_t off;
} fields[] = {
#define F(x) { #x, offsetof(struct rs_stats, x) }
	F(accepted), F(closed), F(open_max), F(requests), F(bytes_in), F(bytes_out),
	F(idle_timeouts), F(header_timeouts), F(write_timeouts), F(resets), F(io_errors),
	F(accept_errors), F(fd_exhaustion), F(alloc_failures),
#undef F
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static uint64_t field(const struct rs_stats *s, size_t i)
{
	return *(const uint64_t *)((const char *)s + fields[i].off);
}

static void sum(struct rs_stats *dst, const struct rs_stats *src)
{
	for (size_t i = 0; i < NFIELDS; i++)
		*(uint64_t *)((char *)dst + fields[i].off) += field(src, i);
	for (int i = 0; i < HTTP_NSTATUS; i++)
		dst->status[i] += src->status[i];
}

static struct json_object *stats_json(const struct rs_stats *s)
{
	struct json_object *o = json_object_new_object(), *st = json_object_new_object();
	char code[8];

	if (!o || !st)
		goto fail;
	for (size_t i = 0; i < NFIELDS; i++)
		json_object_object_add(o, fields[i].name, json_object_new_int64((int64_t)field(s, i)));
	for (int i = 0; i < HTTP_NSTATUS; i++) {
		snprintf(code, sizeof(code), "%d", http__status_code((enum http_status)i));
		json_object_object_add(st, code, json_object_new_int64((int64_t)s->status[i]));
	}
	json_object_object_add(o, "status", st);
	return o;
fail:
	json_object_put(o);
	json_object_put(st);
	return NULL;
}

static int print_json(const struct rs_opts *o, const struct rs_worker *w, int n, double secs,
		      int port, const struct rs_stats *tot)
{
	struct json_object *root = json_object_new_object(), *l, *arr;
	int err = -ENOMEM;

	l = json_object_new_object();
	arr = json_object_new_array();
	if (!root || !l || !arr)
		goto cleanup;
	json_object_object_add(l, "addr", json_object_new_string(o->addr_str));
	json_object_object_add(l, "port", json_object_new_int(port));
	json_object_object_add(l, "backlog", json_object_new_int(o->backlog));
	json_object_object_add(l, "workers", json_object_new_int(o->workers));
	json_object_object_add(l, "reuseport", json_object_new_boolean(o->reuseport));
	json_object_object_add(root, "listen", l);
	l = NULL;
	json_object_object_add(root, "duration_s", json_object_new_double(secs));
	json_object_object_add(root, "total", stats_json(tot));
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, stats_json(&w[i].stats));
	json_object_object_add(root, "workers", arr);
	arr = NULL;
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	err = 0;
cleanup:
	json_object_put(arr);
	json_object_put(l);
	json_object_put(root);
	return err;
}

static void print_text(const struct rs_opts *o, const struct rs_worker *w, int n, double secs,
		       const struct rs_stats *t)
{
	printf("refserver: %.1f s, %d worker%s, %s\n", secs, n, n > 1 ? "s" : "",
	       o->reuseport ? "SO_REUSEPORT listeners" : "shared listener");
	printf("  connections  %llu accepted, %llu closed\n",
	       (unsigned long long)t->accepted, (unsigned long long)t->closed);
	printf("  requests     %llu (%.0f/s)", (unsigned long long)t->requests,
	       secs > 0 ? (double)t->requests / secs : 0.0);
	for (int i = 0; i < HTTP_NSTATUS; i++)
		if (t->status[i])
			printf("  %d: %llu", http__status_code((enum http_status)i),
			       (unsigned long long)t->status[i]);
	printf("\n  bytes        %llu in, %llu out\n", (unsigned long long)t->bytes_in,
	       (unsigned long long)t->bytes_out);
	printf("  timeouts     %llu idle, %llu header, %llu write\n",
	       (unsigned long long)t->idle_timeouts, (unsigned long long)t->header_timeouts,
	       (unsigned long long)t->write_timeouts);
	printf("  errors       %llu resets, %llu i/o, %llu accept, %llu fd exhaustion, "
	       "%llu out of memory\n", (unsigned long long)t->resets,
	       (unsigned long long)t->io_errors, (unsigned long long)t->accept_errors,
	       (unsigned long long)t->fd_exhaustion, (unsigned long long)t->alloc_failures);
	for (int i = 0; i < n && n > 1; i++)
		printf("  worker %-5d %llu accepted, %llu requests, at most %llu open\n", i,
		       (unsigned long long)w[i].stats.accepted,
		       (unsigned long long)w[i].stats.requests,
		       (unsigned long long)w[i].stats.open_max);
	if (n == 1)
		printf("  open         at most %llu at once\n",
		       (unsigned long long)w[0].stats.open_max);
}

int rs_stats__print(const struct rs_opts *o, const struct rs_worker *w, int n, double secs,
		    int port)
{
	struct rs_stats tot;

	memset(&tot, 0, sizeof(tot));
	for (int i = 0; i < n; i++)
		sum(&tot, &w[i].stats);
	if (o->json)
		return print_json(o, w, n, secs, port, &tot);
	print_text(o, w, n, secs, &tot);
	return 0;
}
