// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <string.h>
#include "sysctl.h"
#include "tuneout.h"

#define WIDTH	100
#define INDENT	13	/* "   evidence  " */

void tuneout__wrap(FILE *out, const char *text, int indent, int width)
{
	int col = indent;
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void field(FILE *out, const char *name, const char *text)
{
	fprintf(out, "   %-9s ", name);
	tuneout__wrap(out, text, INDENT, WIDTH);
}

static void where(const struct tune_rec *rec, char *buf, size_t len)
{
	if (rec->kind == TUNE_RELISTEN && rec->nsocks > 1)
		snprintf(buf, len, "%s (pid %d, %u SO_REUSEPORT sockets), netns %u", rec->setting,
			 rec->pid, rec->nsocks, rec->netns);
	else if (rec->kind == TUNE_RELISTEN)
		snprintf(buf, len, "%s (pid %d), netns %u", rec->setting, rec->pid, rec->netns);
	else if (rec->kind == TUNE_ADVICE)
		snprintf(buf, len, "%s, netns %u", rec->setting, rec->netns);
	else if (rec->scope == SYSCTL_GLOBAL)
		snprintf(buf, len, "%s (global: the initial namespace)", rec->setting);
	else
		snprintf(buf, len, "%s in netns %u", rec->setting, rec->netns);
}

static void one(const struct tune_report *r, size_t i, FILE *out)
{
	const struct tune_rec *rec = &r->recs[i];
	char buf[2 * SYSCTL_VALUE_MAX + 8];

	fprintf(out, "%zu. %s  [%s]\n", i + 1, rec->id, tunerules__kind_name(rec->kind));
	where(rec, buf, sizeof(buf));
	field(out, "setting", buf);
	if (rec->current[0]) {
		snprintf(buf, sizeof(buf), "%s -> %s", rec->current, rec->proposed);
		field(out, "change", buf);
	}
	field(out, "evidence", rec->evidence);
	field(out, "rule", rec->why);
	field(out, "effect", rec->effect);
	if (r->outcomes) {
		snprintf(buf, sizeof(buf), "%s: %s", tuneapply__status_name(r->outcomes[i].status),
			 r->outcomes[i].message);
		field(out, "outcome", buf);
	}
	fputc('\n', out);
}

void tuneout__text(const struct tune_report *r, FILE *out)
{
	bool relisten = false;
	char head[512];

	snprintf(head, sizeof(head), "nettune tune: %.1f s observed in %s: %zu listener%s active, "
		 "%llu overflow%s; %zu recommendation%s", r->seconds, r->where, r->nlisteners,
		 r->nlisteners == 1 ? "" : "s", (unsigned long long)r->overflows,
		 r->overflows == 1 ? "" : "s", r->n, r->n == 1 ? "" : "s");
	tuneout__wrap(out, head, 0, WIDTH);
	fputc('\n', out);
	for (size_t i = 0; i < r->n; i++) {
		one(r, i, out);
		relisten |= r->recs[i].kind == TUNE_RELISTEN;
	}
	if (!r->n)
		fprintf(out, "Nothing to change: no rule found evidence in this window.\n");
	else if (!r->outcomes)
		tuneout__wrap(out, relisten ?
			      "Advice only: nothing was written. To apply: the same command "
			      "with --apply --relisten (nettune rollback undoes it)." :
			      "Advice only: nothing was written. To apply: the same command "
			      "with --apply (nettune rollback undoes it).", 0, WIDTH);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* The sockets a relisten raises: one, or each of an SO_REUSEPORT group. */
static struct json_object *sockets_json(const struct tune_rec *rec)
{
	struct json_object *arr = json_object_new_array();

	for (__u32 i = 0; i < rec->nsocks; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "inode", json_object_new_uint64(rec->socks[i].ino));
		json_object_object_add(o, "pid", json_object_new_int(rec->socks[i].pid));
		json_object_object_add(o, "backlog_limit",
				       json_object_new_uint64(rec->socks[i].limit));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *rec_json(const struct tune_report *r, size_t i)
{
	const struct tune_rec *rec = &r->recs[i];
	struct json_object *o = json_object_new_object(), *oc;

	add_str(o, "id", rec->id);
	add_str(o, "rule", rec->rule);
	add_str(o, "kind", tunerules__kind_name(rec->kind));
	add_str(o, "setting", rec->setting);
	add_str(o, "scope", rec->kind == TUNE_SYSCTL ? sysctl__scope_name(rec->scope) :
			    rec->kind == TUNE_RELISTEN ? "listener" : "application");
	json_object_object_add(o, "netns", json_object_new_uint64(rec->netns));
	add_str(o, "current", rec->current);
	add_str(o, "proposed", rec->proposed);
	json_object_object_add(o, "current_value", json_object_new_int64(rec->cur_num));
	json_object_object_add(o, "proposed_value", json_object_new_int64(rec->prop_num));
	add_str(o, "evidence", rec->evidence);
	add_str(o, "why", rec->why);
	add_str(o, "effect", rec->effect);
	if (rec->kind == TUNE_RELISTEN) {
		json_object_object_add(o, "pid", json_object_new_int(rec->pid));
		add_str(o, "address", rec->address);
		/* kept for one release (docs/json.md): the first socket */
		json_object_object_add(o, "socket_inode",
				       json_object_new_uint64(rec->nsocks ? rec->socks[0].ino : 0));
		json_object_object_add(o, "sockets", sockets_json(rec));
	}
	if (r->outcomes) {
		oc = json_object_new_object();
		add_str(oc, "status", tuneapply__status_name(r->outcomes[i].status));
		add_str(oc, "value", r->outcomes[i].value);
		add_str(oc, "message", r->outcomes[i].message);
		json_object_object_add(o, "outcome", oc);
	}
	return o;
}

struct json_object *tuneout__json(const struct tune_report *r, struct json_object *observation)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();

	add_str(root, "type", "tune");
	json_object_object_add(root, "seconds", json_object_new_double(r->seconds));
	json_object_object_add(root, "netns", json_object_new_uint64(r->netns));
	add_str(root, "where", r->where);
	json_object_object_add(root, "applied", json_object_new_boolean(r->outcomes != NULL));
	for (size_t i = 0; i < r->n; i++)
		json_object_array_add(arr, rec_json(r, i));
	json_object_object_add(root, "recommendations", arr);
	if (observation)
		json_object_object_add(root, "observation", observation);
	return root;
}
