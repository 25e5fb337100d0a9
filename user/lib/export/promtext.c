// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The Prometheus text format writer: families, label escaping, histograms
 * on the fixed `le` set, monotonic counters and the cardinality bound. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "promtext.h"

/* A series' values: counters use v[0]; histograms the per-`le` counts
 * (not cumulative), then count and sum in ns; gauges use g. */
#define HV_COUNT	PROM_NLE
#define HV_SUM		(PROM_NLE + 1)
#define NVALS		(PROM_NLE + 2)

struct sample {
	char *labels;	/* name="value",... escaped, no braces */
	char *id;	/* the identity part of labels */
	char *folded;	/* labels with every identity value "other" */
	__u64 v[NVALS];
	double g;
};

struct family {
	char *name, *help;
	enum prom_type type;
	int nid;
	struct sample *s;
	size_t n, cap;
	unsigned int admitted;	/* identities holding a place */
	__u64 folded_total;	/* identities ever folded */
};

/* What outlives an exposition, by key: a series' history ("S" name labels)
 * or an identity's place ("I" name id). */
struct entry {
	char *key;
	struct entry *next;
	unsigned long seen;	/* generation of the last exposition that had it */
	bool admitted, counted_folded, fresh;
	double g;		/* a folded gauge: the largest of its members */
	unsigned long added;	/* generation whose exposition has this series */
	/* As many values as the series has (none for an identity or a
	 * gauge, NVALS for a histogram): 10,000 listeners' counters held
	 * NVALS each were most of serve's memory. */
	__u64 *last;		/* the source's values at the last exposition */
	__u64 *out;		/* what was exported */
	__u64 vals[];		/* last, then out */
};

#define NBUCKETS_MAP	65536

struct promtext {
	unsigned int max_ids;
	unsigned long gen;
	struct family *fam;
	size_t nfam, capfam;
	int cur;			/* the open family, -1 if none */
	struct entry *map[NBUCKETS_MAP];
	__s8 le_of[HIST_NBUCKETS];	/* bucket idx -> `le` slot, -1: +Inf only */
	struct sample scratch;		/* where duplicate samples go */
};

__u64 promtext__le_ns(int i)
{
	return 1ULL << (PROM_LE_MIN_EXP + i);
}

void promtext__fmt_seconds(char *buf, size_t len, __u64 ns)
{
	int n = snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
			 (unsigned long long)(ns % 1000000000ULL));

	/* "0.250000000" -> "0.25", "5.000000000" -> "5" */
	while (n > 0 && (size_t)n < len && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && (size_t)n < len && buf[n - 1] == '.')
		buf[--n] = '\0';
}

static unsigned int hash(const char *s)
{
	unsigned int h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS_MAP;
}

/* The entry of KEY (kind, name, rest), created with room for NV values;
 * the key is built on the stack unless it is long. */
static struct entry *lookup(struct promtext *w, char kind, const char *name, const char *rest,
			    int nv)
{
	size_t len = strlen(name) + strlen(rest) + 3;
	char stack[512], *key = len <= sizeof(stack) ? stack : malloc(len);
	struct entry *e;
	unsigned int h;

	if (!key)
		return NULL;
	snprintf(key, len, "%c%s%c%s", kind, name, 1, rest);
	h = hash(key);
	for (e = w->map[h]; e; e = e->next)
		if (!strcmp(e->key, key))
			goto out;
	e = calloc(1, sizeof(*e) + 2 * (size_t)nv * sizeof(__u64));
	if (e)
		e->key = key == stack ? strdup(key) : key;
	if (e && !e->key) {
		free(e);
		e = NULL;
	}
	if (!e)
		goto out;
	key = NULL;	/* the entry's now */
	e->last = e->vals;
	e->out = e->vals + nv;
	e->fresh = true;
	e->next = w->map[h];
	w->map[h] = e;
out:
	if (key != stack)
		free(key);
	return e;
}

/* Values a series of family type T keeps between expositions. */
static int nvals(enum prom_type t)
{
	return t == PROM_HISTOGRAM ? NVALS : t == PROM_GAUGE ? 0 : 1;
}

struct promtext *promtext__new(unsigned int max_ids)
{
	struct promtext *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->max_ids = max_ids ? max_ids : PROM_DEFAULT_MAX_IDS;
	w->cur = -1;
	for (__u32 idx = 0; idx < HIST_NBUCKETS; idx++) {
		__u64 upper = hist__bucket_upper(idx);
		int i = 0;

		while (i < PROM_NLE && promtext__le_ns(i) < upper)
			i++;
		/* The last bucket holds everything from 2^37 ns up: +Inf. */
		w->le_of[idx] = (i < PROM_NLE && idx != HIST_NBUCKETS - 1) ? (__s8)i : -1;
	}
	return w;
}

static void free_samples(struct family *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->s[i].labels);
		free(f->s[i].id);
		free(f->s[i].folded);
	}
	f->n = 0;
}

void promtext__begin(struct promtext *w)
{
	for (size_t i = 0; i < w->nfam; i++)
		free_samples(&w->fam[i]);
	w->cur = -1;
}

void promtext__free(struct promtext *w)
{
	if (!w)
		return;
	promtext__begin(w);
	for (size_t i = 0; i < w->nfam; i++) {
		free(w->fam[i].name);
		free(w->fam[i].help);
		free(w->fam[i].s);
	}
	free(w->fam);
	for (int h = 0; h < NBUCKETS_MAP; h++)
		for (struct entry *e = w->map[h], *next; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	free(w);
}

int promtext__family(struct promtext *w, const char *name, enum prom_type type, int nid,
		     const char *help)
{
	struct family *f;

	for (size_t i = 0; i < w->nfam; i++)
		if (!strcmp(w->fam[i].name, name)) {
			if (w->fam[i].type != type)
				return -EINVAL;
			w->cur = (int)i;
			return 0;
		}
	if (w->nfam == w->capfam) {
		size_t cap = w->capfam ? 2 * w->capfam : 32;
		struct family *n = realloc(w->fam, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->fam = n;
		w->capfam = cap;
	}
	f = &w->fam[w->nfam];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->help = strdup(help);
	f->type = type;
	f->nid = nid;
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return -ENOMEM;
	}
	w->cur = (int)w->nfam++;
	return 0;
}

/* Appends a label value escaped as the format wants: \\, \" and \n. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* labels, their identity part and the folded form, in one pass each. */
static char *fmt_labels(const struct prom_label *l, int nl, int from, int to, bool other)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (int i = from; i < to && i < nl; i++) {
		fprintf(f, "%s%s=\"", i > from ? "," : "", l[i].name);
		put_escaped(f, other ? "other" : (l[i].value ? l[i].value : ""));
		fputc('"', f);
	}
	fclose(f);
	return buf;
}

static char *fmt_folded(const struct prom_label *l, int nl, int nid)
{
	char *a = fmt_labels(l, nl, 0, nid, true), *b = fmt_labels(l, nl, nid, nl, false), *r;

	if (!a || !b || asprintf(&r, "%s%s%s", a, *a && *b ? "," : "", b) < 0)
		r = NULL;
	free(a);
	free(b);
	return r;
}

static struct sample *add_sample(struct promtext *w, enum prom_type type,
				 const struct prom_label *l, int nl)
{
	struct family *f;
	struct sample *s;
	struct entry *e;

	if (w->cur < 0 || w->fam[w->cur].type != type)
		return NULL;
	f = &w->fam[w->cur];
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct sample *n = realloc(f->s, cap * sizeof(*n));

		if (!n)
			return NULL;
		f->s = n;
		f->cap = cap;
	}
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s));
	s->labels = fmt_labels(l, nl, 0, nl, false);
	s->id = fmt_labels(l, nl, 0, f->nid, false);
	s->folded = fmt_folded(l, nl, f->nid);
	e = s->labels && s->id && s->folded ? lookup(w, 'S', f->name, s->labels, nvals(f->type)) : NULL;
	if (e && e->added != w->gen + 1) {
		e->added = w->gen + 1;
		e->seen = w->gen + 1;
		f->n++;
		return s;
	}
	free(s->labels);
	free(s->id);
	free(s->folded);
	if (!e)
		return NULL;
	/* One label set, one series: a second sample with the same labels
	 * (one listener reported twice) is dropped, never added: adding would
	 * count one object's events twice. It fills a scratch sample. */
	memset(&w->scratch, 0, sizeof(w->scratch));
	return &w->scratch;
}

#define SAMPLE_ERR(w, t) ((w)->cur < 0 || (w)->fam[(w)->cur].type != (t) ? -EINVAL : -ENOMEM)

int promtext__counter(struct promtext *w, const struct prom_label *l, int nl, __u64 v)
{
	enum prom_type t = w->cur >= 0 && w->fam[w->cur].type == PROM_COUNTER_NS ?
			   PROM_COUNTER_NS : PROM_COUNTER;
	struct sample *s = add_sample(w, t, l, nl);

	if (!s)
		return SAMPLE_ERR(w, t);
	s->v[0] = v;
	return 0;
}

int promtext__gauge(struct promtext *w, const struct prom_label *l, int nl, double v)
{
	struct sample *s = add_sample(w, PROM_GAUGE, l, nl);

	if (!s)
		return SAMPLE_ERR(w, PROM_GAUGE);
	s->g = v;
	return 0;
}

int promtext__hist(struct promtext *w, const struct prom_label *l, int nl, const struct hist *h)
{
	struct sample *s = add_sample(w, PROM_HISTOGRAM, l, nl);

	if (!s)
		return SAMPLE_ERR(w, PROM_HISTOGRAM);
	for (__u32 idx = 0; idx < HIST_NBUCKETS; idx++)
		if (h->buckets[idx] && w->le_of[idx] >= 0)
			s->v[w->le_of[idx]] += h->buckets[idx];
	s->v[HV_COUNT] = h->count;
	s->v[HV_SUM] = h->sum_ns;
	return 0;
}

int promtext__sparse_hist(struct promtext *w, const struct prom_label *l, int nl,
			  const struct sparse_hist *sh)
{
	struct sample *s = add_sample(w, PROM_HISTOGRAM, l, nl);

	if (!s)
		return SAMPLE_ERR(w, PROM_HISTOGRAM);
	for (__u32 i = 0; i < sh->len; i++)
		if (w->le_of[sh->b[i].idx] >= 0)
			s->v[w->le_of[sh->b[i].idx]] += sh->b[i].n;
	s->v[HV_COUNT] = sh->count;
	s->v[HV_SUM] = sh->sum_ns;
	return 0;
}

/* The growth of a source since the last exposition. A source below its
 * last value (a namespace deleted and its inode reused, a listener
 * re-created, or a derived count such as SYN-time overflows that a later
 * read corrects downwards) is taken as restarted at the value it has now:
 * nothing is added, and its later growth is. Treating it as restarted from
 * 0 would add all of a corrected count again. */
static void accumulate(struct entry *e, const __u64 *raw, int n, __u64 *inc)
{
	bool restarted = false;

	for (int i = 0; i < n; i++)
		restarted |= raw[i] < e->last[i];
	for (int i = 0; i < n; i++) {
		inc[i] = restarted ? 0 : raw[i] - e->last[i];
		e->last[i] = raw[i];
	}
}

/* Marks every identity present, and frees the places of absent ones. */
static int mark_identities(struct promtext *w)
{
	for (size_t fi = 0; fi < w->nfam; fi++) {
		struct family *f = &w->fam[fi];

		for (size_t i = 0; f->nid && i < f->n; i++) {
			struct entry *e = lookup(w, 'I', f->name, f->s[i].id, 0);

			if (!e)
				return -ENOMEM;
			e->seen = w->gen;
		}
	}
	for (int h = 0; h < NBUCKETS_MAP; h++)
		for (struct entry *e = w->map[h]; e; e = e->next) {
			if (e->key[0] != 'I' || !e->admitted || e->seen == w->gen)
				continue;
			e->admitted = false;
			for (size_t fi = 0; fi < w->nfam; fi++)
				if (!strncmp(e->key + 1, w->fam[fi].name, strlen(w->fam[fi].name)) &&
				    e->key[1 + strlen(w->fam[fi].name)] == 1)
					w->fam[fi].admitted--;
		}
	return 0;
}

/* Forgets what no exposition has had for PROM_HISTORY_TTL generations. */
static void sweep(struct promtext *w)
{
	for (int h = 0; h < NBUCKETS_MAP; h++) {
		struct entry **pp = &w->map[h];

		while (*pp) {
			struct entry *e = *pp;

			if (w->gen - e->seen > PROM_HISTORY_TTL && !e->admitted) {
				*pp = e->next;
				free(e->key);
				free(e);
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Whether a sample keeps its own series: its identity holds a place, or
 * gets one now. */
static int admitted(struct promtext *w, struct family *f, struct sample *s, bool *yes)
{
	struct entry *e;

	*yes = true;
	if (!f->nid)
		return 0;
	e = lookup(w, 'I', f->name, s->id, 0);
	if (!e)
		return -ENOMEM;
	if (!e->admitted && f->admitted < w->max_ids) {
		e->admitted = true;
		f->admitted++;
	}
	*yes = e->admitted;
	if (!*yes && !e->counted_folded) {
		e->counted_folded = true;
		f->folded_total++;
	}
	return 0;
}

/* One series to write: a sample's own, or the "other" of its folded ones. */
struct outrow {
	const char *labels;
	const __u64 *v;
	double g;
	struct entry *other;	/* folded gauges: their largest is in other->g */
};

static int row_of(struct promtext *w, struct family *f, struct sample *s, struct outrow *rows,
		  size_t *n)
{
	struct entry *e;
	__u64 inc[NVALS];
	bool own;
	int err = admitted(w, f, s, &own), nv = f->type == PROM_HISTOGRAM ? NVALS : 1;

	if (err)
		return err;
	if (own && f->type == PROM_GAUGE) {
		rows[(*n)++] = (struct outrow){ .labels = s->labels, .g = s->g };
		return 0;
	}
	if (f->type != PROM_GAUGE) {
		e = lookup(w, 'S', f->name, s->labels, nv);
		if (!e)
			return -ENOMEM;
		e->seen = w->gen;
		accumulate(e, s->v, nv, inc);
		if (own) {
			for (int i = 0; i < nv; i++)
				e->out[i] += inc[i];
			rows[(*n)++] = (struct outrow){ .labels = s->labels, .v = e->out };
			return 0;
		}
	}
	e = lookup(w, 'O', f->name, s->folded, f->type == PROM_GAUGE ? 0 : nv);
	if (!e)
		return -ENOMEM;
	if (e->seen != w->gen || e->fresh) {	/* the first member this time */
		e->seen = w->gen;
		e->fresh = false;
		e->g = s->g;
		rows[(*n)++] = (struct outrow){ .labels = s->folded, .v = e->out, .other = e };
	}
	if (f->type == PROM_GAUGE && s->g > e->g)
		e->g = s->g;
	for (int i = 0; f->type != PROM_GAUGE && i < nv; i++)
		e->out[i] += inc[i];
	return 0;
}

static const char *const type_names[] = { "counter", "gauge", "histogram", "counter" };

static void put_help(FILE *out, const char *name, const char *help, enum prom_type t)
{
	fprintf(out, "# HELP %s ", name);
	for (const char *c = help; *c; c++)
		if (*c == '\\')
			fputs("\\\\", out);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	fprintf(out, "\n# TYPE %s %s\n", name, type_names[t]);
}

static void put_hist(FILE *out, const char *name, const struct outrow *r)
{
	const char *sep = *r->labels ? "," : "";
	char sec[40];
	__u64 cum = 0;

	for (int i = 0; i < PROM_NLE; i++) {
		cum += r->v[i];
		promtext__fmt_seconds(sec, sizeof(sec), promtext__le_ns(i));
		fprintf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, r->labels, sep, sec,
			(unsigned long long)cum);
	}
	fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, r->labels, sep,
		(unsigned long long)r->v[HV_COUNT]);
	promtext__fmt_seconds(sec, sizeof(sec), r->v[HV_SUM]);
	fprintf(out, *r->labels ? "%s_sum{%s} %s\n" : "%s_sum%s %s\n", name, r->labels, sec);
	fprintf(out, *r->labels ? "%s_count{%s} %llu\n" : "%s_count%s %llu\n", name, r->labels,
		(unsigned long long)r->v[HV_COUNT]);
}

static void put_row(FILE *out, const struct family *f, const struct outrow *r)
{
	const char *fmt_l = *r->labels ? "%s{%s} " : "%s%s ";

	if (f->type == PROM_HISTOGRAM) {
		put_hist(out, f->name, r);
		return;
	}
	fprintf(out, fmt_l, f->name, r->labels);
	if (f->type == PROM_COUNTER_NS) {
		char sec[40];

		promtext__fmt_seconds(sec, sizeof(sec), r->v[0]);
		fprintf(out, "%s\n", sec);
	} else if (f->type == PROM_COUNTER)
		fprintf(out, "%llu\n", (unsigned long long)r->v[0]);
	else
		fprintf(out, "%.15g\n", r->other ? r->other->g : r->g);
}

static int put_family(struct promtext *w, struct family *f, FILE *out)
{
	struct outrow *rows;
	size_t n = 0;
	int err = 0;

	if (!f->n)
		return 0;
	rows = calloc(f->n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < f->n && !err; i++)
		err = row_of(w, f, &f->s[i], rows, &n);
	if (!err) {
		put_help(out, f->name, f->help, f->type);
		for (size_t i = 0; i < n; i++)
			put_row(out, f, &rows[i]);
	}
	free(rows);
	return err;
}

/* The bound's own counter: one series per bounded family. */
static void put_folded(struct promtext *w, FILE *out)
{
	bool any = false;

	for (size_t i = 0; i < w->nfam; i++) {
		if (!w->fam[i].nid)
			continue;
		if (!any)
			put_help(out, "nettune_folded_series_total",
				 "Label sets folded into \"other\" past the per-family bound, each counted once",
				 PROM_COUNTER);
		any = true;
		fprintf(out, "nettune_folded_series_total{family=\"%s\"} %llu\n", w->fam[i].name,
			(unsigned long long)w->fam[i].folded_total);
	}
}

char *promtext__render(struct promtext *w, size_t *len)
{
	char *buf = NULL;
	FILE *out;
	int err;

	w->gen++;
	err = mark_identities(w);
	out = err ? NULL : open_memstream(&buf, len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < w->nfam && !err; i++)
		err = put_family(w, &w->fam[i], out);
	put_folded(w, out);
	fclose(out);
	sweep(w);
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}
