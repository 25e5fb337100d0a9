// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What every tuning rule builds with (tunerules.c: the system-wide rules,
 * tunerules_listen.c: the listener rules): a recommendation added or found
 * by its id, a sysctl change where the sysctl table says it lives, numbers
 * people read, and the bounded step every numeric proposal takes. Apart
 * from the rules so that both files use it and neither uses the other.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "tunerules.h"
#include "tunerules_int.h"

void tr_cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Evidence is read by people: thousands get separators. */
const char *tr_count(__u64 v, char *buf)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

long long tr_sat_mul(long long a, long long b)
{
	return a > LLONG_MAX / b ? LLONG_MAX : a * b;
}

long long tunerules__bounded(double need, long long cur, long long floor, long long ceiling)
{
	long long lo, hi, p = 1;

	if (cur < 1)
		cur = 1;
	lo = tr_sat_mul(cur, TUNE_STEP_MIN);
	hi = tr_sat_mul(cur, TUNE_STEP_MAX);
	/* NaN and infinity fail every comparison: they end at hi. The loop
	 * never doubles past hi, so it cannot overflow. */
	while ((double)p < need && p <= hi / 2)
		p *= 2;
	if (!((double)p >= need))
		p = hi;
	p = p < lo ? lo : p > hi ? hi : p;
	p = p < floor ? floor : p;
	return p > ceiling ? ceiling : p;
}

struct tune_rec *tr_add(struct tr_ctx *c, enum tune_kind kind, const char *rule)
{
	struct tune_rec *r;

	if (c->n >= c->max) {
		c->full = true;
		return NULL;
	}
	r = &c->recs[c->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->rule, sizeof(r->rule), "%s", rule);
	return r;
}

struct tune_rec *tr_find(struct tr_ctx *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->recs[i].id, id))
			return &c->recs[i];
	return NULL;
}

/* A recommendation to set field FIELD of sysctl KEY from CUR to PROP. */
struct tune_rec *tr_sysctl(struct tr_ctx *c, const char *rule, const char *key,
				   const char *cur, long long prop)
{
	const struct sysctl_info *info = sysctl__info(key);
	struct tune_rec *r;

	if (!info || (r = tr_add(c, TUNE_SYSCTL, rule)) == NULL)
		return NULL;
	r->scope = info->scope;
	r->netns = info->scope == SYSCTL_NETNS ? c->ev->netns : 0;
	snprintf(r->setting, sizeof(r->setting), "%s", key);
	if (info->scope == SYSCTL_NETNS)
		snprintf(r->id, sizeof(r->id), "%s/%u", rule, r->netns);
	else
		snprintf(r->id, sizeof(r->id), "%s/global", rule);
	snprintf(r->current, sizeof(r->current), "%s", cur);
	sysctl__field(cur, info->field, &r->cur_num);
	r->prop_num = prop;
	if (sysctl__set_field(cur, info->field, prop, r->proposed, sizeof(r->proposed)))
		r->proposed[0] = '\0';	/* tunerules__safe() drops it */
	return r;
}

struct tune_rec *tr_sysctl_ll(struct tr_ctx *c, const char *rule, const char *key,
				      long long cur, long long prop)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", cur);
	return tr_sysctl(c, rule, key, v, prop);
}
