// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/printbuf.h>
#include "breakdown.h"
#include "report.h"
#include "cgroup.h"
#include "text.h"

struct breakdown {
	const char *id_name;
	const char *const *counter_names;	/* NULL-terminated, may be NULL */
	int ncounters;
	bool amounts;		/* counters are amounts: not ranked */
	bool by_cgroup;		/* groups are cgroup v2 ids */
	struct breakdown_row *rows;
	size_t len, cap;
	int sorted;
};

struct breakdown *breakdown__new(const char *id_name, const char *const *counter_names)
{
	struct breakdown *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->id_name = id_name;
	b->counter_names = counter_names;
	while (counter_names && counter_names[b->ncounters] &&
	       b->ncounters < BREAKDOWN_COUNTERS)
		b->ncounters++;
	return b;
}

struct breakdown *breakdown__new_amounts(const char *id_name, const char *const *counter_names)
{
	struct breakdown *b = breakdown__new(id_name, counter_names);

	if (b)
		b->amounts = true;
	return b;
}

void breakdown__group_by_cgroup(struct breakdown *b)
{
	b->by_cgroup = true;
}

static void free_hists(struct breakdown *b)
{
	for (size_t i = 0; i < b->len; i++)
		sparse_hist__free(&b->rows[i].h);
}

void breakdown__free(struct breakdown *b)
{
	if (!b)
		return;
	free_hists(b);
	free(b->rows);
	free(b);
}

void breakdown__reset(struct breakdown *b)
{
	free_hists(b);
	b->len = 0;
}

static struct breakdown_row *find_or_add(struct breakdown *b, __u64 group, __u64 id)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->rows[i].id == id && b->rows[i].group == group)
			return &b->rows[i];
	if (b->len == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct breakdown_row *r = realloc(b->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		b->rows = r;
		b->cap = cap;
	}
	memset(&b->rows[b->len], 0, sizeof(b->rows[0]));
	b->rows[b->len].id = id;
	b->rows[b->len].group = group;
	return &b->rows[b->len++];
}

int breakdown__add(struct breakdown *b, __u64 id, const char *label,
		   const struct hist *h, const __u64 *counters)
{
	return breakdown__add_in(b, 0, id, label, h, counters);
}

int breakdown__add_in(struct breakdown *b, __u64 group, __u64 id, const char *label,
		      const struct hist *h, const __u64 *counters)
{
	struct breakdown_row *r = find_or_add(b, group, id);

	if (!r)
		return -ENOMEM;
	b->sorted = 0;
	if (label && !r->label[0])
		snprintf(r->label, sizeof(r->label), "%s", label);
	if (h && sparse_hist__add_hist(&r->h, h))
		return -ENOMEM;
	for (int i = 0; counters && i < b->ncounters; i++)
		r->counters[i] += counters[i];
	return 0;
}

/* What rows are sorted by: the count, plus counters of events. */
static __u64 rank(const struct breakdown *b, const struct breakdown_row *r)
{
	__u64 w = r->h.count;

	for (int c = 0; !b->amounts && c < BREAKDOWN_COUNTERS; c++)
		w += r->counters[c];
	return w;
}

static int cmp_rows(const void *a, const void *b, void *breakdown)
{
	const struct breakdown_row *ra = a, *rb = b;
	__u64 wa = rank(breakdown, ra), wb = rank(breakdown, rb);

	if (wa != wb)
		return wa > wb ? -1 : 1;
	if (ra->id != rb->id)
		return ra->id < rb->id ? -1 : 1;
	return ra->group < rb->group ? -1 : ra->group > rb->group;
}

const struct breakdown_row *breakdown__row(struct breakdown *b, size_t i)
{
	if (!b->sorted) {
		qsort_r(b->rows, b->len, sizeof(b->rows[0]), cmp_rows, b);
		b->sorted = 1;
	}
	return i < b->len ? &b->rows[i] : NULL;
}

/* Whether any of the first max_rows rows lies outside the root cgroup: the
 * cgroup column is printed only then, so a host that runs no services in
 * cgroups sees the table it always saw. */
static bool show_cgroups(struct breakdown *b, size_t max_rows)
{
	for (size_t i = 0; b->by_cgroup && i < b->len && i < max_rows; i++) {
		const char *path = cgroup__path(breakdown__row(b, i)->group);

		if (path && strcmp(path, "/"))
			return true;
	}
	return false;
}

void breakdown__print(struct breakdown *b, FILE *out, const char *title, size_t max_rows)
{
	bool cgroups = show_cgroups(b, max_rows);
	char s[3][24];

	if (!b->len)
		return;
	fprintf(out, "  %s\n    %-8s %-18s %9s", title, b->id_name, "", "count");
	for (int c = 0; c < b->ncounters; c++)
		fprintf(out, " %9.9s", b->counter_names[c]);
	fprintf(out, " %9s %9s %9s%s\n", "p50", "p99", "max", cgroups ? "  cgroup" : "");
	for (size_t i = 0; i < b->len && i < max_rows; i++) {
		const struct breakdown_row *r = breakdown__row(b, i);
		struct hist_summary sum;

		sparse_hist__summarize(&r->h, &sum);
		fprintf(out, "    %-8llu %-18.18s %9llu", (unsigned long long)r->id,
			r->label, (unsigned long long)sum.count);
		for (int c = 0; c < b->ncounters; c++)
			fprintf(out, " %9llu", (unsigned long long)r->counters[c]);
		hist__fmt_ns(s[0], sizeof(s[0]), sum.p50_ns);
		hist__fmt_ns(s[1], sizeof(s[1]), sum.p99_ns);
		hist__fmt_ns(s[2], sizeof(s[2]), sum.max_ns);
		for (int k = 0; k < 3; k++) {
			fputc(' ', out);
			report__pad(out, sum.count ? s[k] : "-", 9, 1);
		}
		if (cgroups) {
			char name[128], shown[41];	/* 40 bytes at most, whole characters */

			fprintf(out, "  %s", text__printable(report__cgroup_name(r->group, name,
										 sizeof(name)),
							     shown, sizeof(shown)));
		}
		fputc('\n', out);
	}
	if (b->len > max_rows)
		fprintf(out, "    ... %zu more (see --json)\n", b->len - max_rows);
}

static struct json_object *row_json(struct breakdown *b, size_t i, const char *label_name)
{
	const struct breakdown_row *r = breakdown__row(b, i);
	struct json_object *o = json_object_new_object();
	struct hist_summary sum;

	json_object_object_add(o, b->id_name, json_object_new_uint64(r->id));
	if (label_name)
		json_object_object_add(o, label_name, json_object_new_string(r->label));
	for (int c = 0; c < b->ncounters; c++)
		json_object_object_add(o, b->counter_names[c], json_object_new_uint64(r->counters[c]));
	if (b->by_cgroup)
		report__cgroup_json(o, r->group);
	sparse_hist__summarize(&r->h, &sum);
	json_object_object_add(o, "latency", report__summary_json(&sum));
	return o;
}

struct printed {
	struct breakdown *b;
	const char *label_name;
};

/* json-c's serializer of a printed array: the text json-c writes for
 * the rows' array with JSON_C_TO_STRING_PLAIN, each row's objects made
 * and freed as it is written. */
static int print_rows(struct json_object *arr, struct printbuf *pb, int level, int flags)
{
	struct printed *pr = json_object_get_userdata(arr);

	(void)level;
	printbuf_strappend(pb, "[");
	for (size_t i = 0; i < pr->b->len; i++) {
		struct json_object *o = row_json(pr->b, i, pr->label_name);
		const char *text = json_object_to_json_string_ext(o, flags);

		if (i)
			printbuf_strappend(pb, ",");
		printbuf_memappend(pb, text, (int)strlen(text));
		json_object_put(o);
	}
	printbuf_strappend(pb, "]");
	return 0;
}

static void free_printed(struct json_object *arr, void *userdata)
{
	(void)arr;
	free(userdata);
}

struct json_object *breakdown__json(struct breakdown *b, const char *label_name, bool to_print)
{
	struct json_object *arr = json_object_new_array();
	struct printed *pr;

	if (to_print && (pr = malloc(sizeof(*pr)))) {
		*pr = (struct printed){ .b = b, .label_name = label_name };
		json_object_set_serializer(arr, print_rows, pr, free_printed);
		return arr;
	}
	for (size_t i = 0; i < b->len; i++)
		json_object_array_add(arr, row_json(b, i, label_name));
	return arr;
}
