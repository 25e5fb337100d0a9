// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <string.h>
#include "cgroup.h"
#include "cgroupname.h"
#include "report.h"

static int display_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)	/* skip UTF-8 continuation */
			w++;
	return w;
}

void report__pad(FILE *out, const char *s, int width, int right_align)
{
	int pad = width - display_width(s);

	if (right_align)
		while (pad-- > 0)
			fputc(' ', out);
	fputs(s, out);
	if (!right_align)
		while (pad-- > 0)
			fputc(' ', out);
}

void report__summary_line(FILE *out, const struct hist *h)
{
	struct hist_summary s;
	char b[5][24];

	hist__summarize(h, &s);
	if (!s.count) {
		fprintf(out, "count 0");
		return;
	}
	fprintf(out, "count %llu  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		(unsigned long long)s.count,
		hist__fmt_ns(b[0], sizeof(b[0]), s.p50_ns),
		hist__fmt_ns(b[1], sizeof(b[1]), s.p90_ns),
		hist__fmt_ns(b[2], sizeof(b[2]), s.p99_ns),
		hist__fmt_ns(b[3], sizeof(b[3]), s.p999_ns),
		hist__fmt_ns(b[4], sizeof(b[4]), s.max_ns));
}

/* Merge factor (sub-buckets per row) keeping the rows within the limit. */
static __u32 row_group(__u32 lo, __u32 hi)
{
	__u32 g;

	for (g = 1; g < HIST_SUB; g *= 2)
		if ((hi / g - lo / g + 1) <= REPORT_MAX_ROWS)
			break;
	return g;
}

static void print_row(FILE *out, const char *indent, __u32 first, __u32 last,
		      __u64 n, __u64 peak)
{
	char lo[24], hi[24], bar[REPORT_BAR_WIDTH + 1];
	int len = peak ? (int)((n * REPORT_BAR_WIDTH + peak - 1) / peak) : 0;
	__u64 upper = hist__bucket_upper(last);

	hist__fmt_ns(lo, sizeof(lo), hist__bucket_lower(first));
	if (upper == ~0ULL)
		snprintf(hi, sizeof(hi), "inf");
	else
		hist__fmt_ns(hi, sizeof(hi), upper);
	memset(bar, '#', (size_t)len);
	bar[len] = '\0';
	fprintf(out, "%s", indent);
	report__pad(out, lo, 9, 1);
	fputs(" .. ", out);
	report__pad(out, hi, 9, 1);
	fprintf(out, " %9llu |", (unsigned long long)n);
	report__pad(out, bar, REPORT_BAR_WIDTH, 0);
	fputs("|\n", out);
}

void report__hist(FILE *out, const char *indent, const struct hist *h)
{
	__u32 lo = HIST_NBUCKETS, hi = 0, g, i;
	__u64 peak = 0;

	fputs(indent, out);
	report__summary_line(out, h);
	fputc('\n', out);
	for (i = 0; i < HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		if (lo == HIST_NBUCKETS)
			lo = i;
		hi = i;
	}
	if (lo == HIST_NBUCKETS)
		return;
	g = row_group(lo, hi);
	for (int pass = 0; pass < 2; pass++) {
		for (i = lo / g * g; i <= hi; i += g) {
			__u64 n = 0;

			for (__u32 j = i; j < i + g && j < HIST_NBUCKETS; j++)
				n += h->buckets[j];
			if (pass == 0 && n > peak)
				peak = n;
			else if (pass == 1)
				print_row(out, indent, i, i + g - 1 < HIST_NBUCKETS ?
					  i + g - 1 : HIST_NBUCKETS - 1, n, peak);
		}
	}
}

struct json_object *report__us(__u64 ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu.%03llu", (unsigned long long)(ns / 1000),
		 (unsigned long long)(ns % 1000));
	return json_object_new_double_s((double)ns / 1000.0, buf);
}

static struct json_object *buckets_json(const struct hist *h)
{
	struct json_object *arr = json_object_new_array();

	for (__u32 i = 0; i < HIST_NBUCKETS; i++) {
		struct json_object *b;
		__u64 upper;

		if (!h->buckets[i])
			continue;
		b = json_object_new_object();
		upper = hist__bucket_upper(i);
		json_object_object_add(b, "lo_us", report__us(hist__bucket_lower(i)));
		json_object_object_add(b, "hi_us", upper == ~0ULL ? NULL : report__us(upper));
		json_object_object_add(b, "count", json_object_new_uint64(h->buckets[i]));
		json_object_array_add(arr, b);
	}
	return arr;
}

struct json_object *report__summary_json(const struct hist_summary *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_uint64(s->count));
	json_object_object_add(o, "p50_us", report__us(s->p50_ns));
	json_object_object_add(o, "p90_us", report__us(s->p90_ns));
	json_object_object_add(o, "p99_us", report__us(s->p99_ns));
	json_object_object_add(o, "p999_us", report__us(s->p999_ns));
	json_object_object_add(o, "max_us", report__us(s->max_ns));
	json_object_object_add(o, "mean_us", report__us(s->mean_ns));
	return o;
}

struct json_object *report__latency_json(const struct hist *h)
{
	struct hist_summary s;
	struct json_object *o;

	hist__summarize(h, &s);
	o = report__summary_json(&s);
	json_object_object_add(o, "buckets", buckets_json(h));
	return o;
}

void report__cgroup_json(struct json_object *o, __u64 cgroup)
{
	const char *path = cgroup__path(cgroup);
	char name[128];

	json_object_object_add(o, "cgroup", path ? json_object_new_string(path) : NULL);
	json_object_object_add(o, "cgroup_name",
			       path ? json_object_new_string(cgroup__name(path, name, sizeof(name))) :
				      NULL);
}

const char *report__cgroup_name(__u64 cgroup, char *buf, size_t len)
{
	const char *path = cgroup__path(cgroup);

	return path ? cgroup__name(path, buf, len) : "-";
}
