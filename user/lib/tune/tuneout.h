/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The tuner's recommendations on the terminal (100 columns) and as JSON
 * (docs/tuning.md "JSON"). Pure formatting. */
#ifndef NETTUNE_LIB_TUNEOUT_H
#define NETTUNE_LIB_TUNEOUT_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "tuneapply.h"
#include "tunerules.h"

struct tune_report {
	const struct tune_rec *recs;
	const struct tune_outcome *outcomes;	/* NULL without --apply */
	size_t n;
	double seconds;
	__u32 netns;
	const char *where;		/* "netns 4026532301 (/run/netns/blue)" */
	size_t nlisteners;		/* listeners with activity in the window */
	__u64 overflows;		/* their overflows, summed */
};

void tuneout__text(const struct tune_report *r, FILE *out);
/* A new object (caller puts it); OBSERVATION, the trace report, is added
 * under "observation" with its reference taken over (may be NULL). */
struct json_object *tuneout__json(const struct tune_report *r, struct json_object *observation);
/* Prints TEXT from column INDENT, wrapped at WIDTH, continuing lines
 * indented the same; the first line starts where the cursor is. */
void tuneout__wrap(FILE *out, const char *text, int indent, int width);

#endif
