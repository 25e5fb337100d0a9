/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Internal to the tunerules module (tunerec.c: what rules build with;
 * tunerules.c: the system-wide rules and the evaluation; tunerules_listen.c:
 * the listener rules). Nothing else includes this file. Internal names start
 * with tr_.
 */
#ifndef NETTUNE_LIB_TUNERULES_INT_H
#define NETTUNE_LIB_TUNERULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "tunerules.h"

/* One evaluation: the evidence and the recommendations written so far. */
struct tr_ctx {
	const struct tune_evidence *ev;
	struct tune_rec *recs;
	size_t max, n;
	bool full;		/* a recommendation did not fit */
};

/* Appends printf output to the NUL-terminated BUF, truncating. */
void tr_cat(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 1234567 -> "1,234,567" in BUF (at least 32 bytes); returns BUF. */
const char *tr_count(__u64 v, char *buf);
/* A new zeroed recommendation of KIND and RULE, or NULL when full. */
struct tune_rec *tr_add(struct tr_ctx *c, enum tune_kind kind, const char *rule);
struct tune_rec *tr_find(struct tr_ctx *c, const char *id);
/* A sysctl recommendation: field info->field of KEY from CUR to PROP, where
 * the table says KEY lives; NULL for an unknown key or when full. */
struct tune_rec *tr_sysctl(struct tr_ctx *c, const char *rule, const char *key,
				      const char *cur, long long prop);
struct tune_rec *tr_sysctl_ll(struct tr_ctx *c, const char *rule,
					 const char *key, long long cur, long long prop);

/* a * b, LLONG_MAX when it overflows (tunerec.c). */
long long tr_sat_mul(long long a, long long b);

/* The listener rules (tunerules_listen.c). */
void tr_rule_listener(struct tr_ctx *c, const struct tune_listener *l,
			     long long *max_backlog);
void tr_rule_syn_backlog(struct tr_ctx *c, long long backlog);
void tr_rule_reuseport(struct tr_ctx *c, const struct tune_listener *l);

#endif
