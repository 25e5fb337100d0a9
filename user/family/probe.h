/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What every probe family implements for `nettune trace`. A probe owns its
 * skeleton and its snapshots; trace.c drives them all through this table.
 */
#ifndef NETTUNE_PROBE_H
#define NETTUNE_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include <json-c/json.h>
#include "trace_opts.h"
#include "listeners.h"


struct probe;
struct promtext;
struct bpf_object;
struct liveness;
struct reclaim_stats;

struct probe_ops {
	const char *name;		/* family name, as in --probes and JSON keys */
	const char *what;		/* one line for doctor and --help */
	const char *const *tracepoints;	/* "category/name", NULL-terminated */
	bool needs_uprobes;		/* measures only where uprobes attach */
	bool needs_tp_btf;		/* attaches tp_btf programs (BTF raw tracepoints) */
	bool explains_sk_drops;		/* its listener events account for sk_drops growth:
					 * the rest is SYN-time overflows */
	/* optional: how this family measures on this kernel, for doctor and
	 * the reports when it has a preferred and a fallback method */
	const char *(*method)(const struct trace_opts *o);
	/* open, configure filters, load and attach; returns 0 or -errno.
	 * -ENODEV: nothing to measure with these options (e.g. no Go process
	 * among -p): the family is skipped unless --probes named it. A probe
	 * prints its own one-line reason for any other error it returns. */
	int (*attach)(struct probe **out, const struct trace_opts *o);
	/* optional: work that can wait until every family is attached (it
	 * runs after "attached" is printed, before the first report), such as
	 * parsing the kernel's BTF for names: off the startup path, and not
	 * while the other families' loads or a large report hold memory */
	void (*ready)(struct probe *p);
	/* read the kernel maps; total=true reports since attach, else the
	 * interval since the previous collect */
	int (*collect)(struct probe *p, bool total);
	void (*print)(struct probe *p, FILE *out);
	/* to_print: root is only printed (JSON_C_TO_STRING_PLAIN) before the
	 * next collect, so large arrays may be made as they are printed
	 * (breakdown__json) */
	void (*to_json)(struct probe *p, struct json_object *root, bool to_print);
	/* optional: the slow-event ring buffer and its per-CPU lost counter */
	int (*event_maps)(struct probe *p, int *ringbuf_fd, int *lost_fd);
	/* optional: add what the last collect saw about each listener to the
	 * tracer's listener table, in place (listener_table__add_*); the table
	 * is then joined with the census, and stays valid until detach, so a
	 * family may report from it. 0 or -errno. */
	int (*listeners)(struct probe *p, struct listener_table *t);
	/* events this probe could not record (full maps, ring buffer, BPF
	 * recursion guard), cumulative */
	__u64 (*lost)(struct probe *p);
	/* optional: the last collect (since attach) as Prometheus metrics,
	 * docs/metrics.md, for `nettune serve`; per-listener rows are
	 * exported from the listener table, not here */
	void (*metrics)(struct probe *p, struct promtext *w);
	/* optional, for a family whose hook is shared with others
	 * (shared_hooks.h): its BPF object, whose maps the shared program
	 * borrows by name ... */
	struct bpf_object *(*object)(struct probe *p);
	/* ... and the shared program's object, whose recursion misses this
	 * family then counts among its lost events (one family per shared
	 * program does, so that the total counts each miss once) */
	void (*count_hook)(struct probe *p, const struct bpf_object *hook);
	/* optional: frees the rows whose owner is gone (user/lib/bpfread/
	 * snapshot.h; for serve, which runs for weeks), right after a collect
	 * since attach; lv says what still exists. Its predicates are the
	 * family's: which owners (process, listener, namespace) its keys
	 * name. Adds to *st; 0 or -errno. */
	int (*reclaim)(struct probe *p, const struct liveness *lv, struct reclaim_stats *st);
	void (*detach)(struct probe *p);	/* accepts NULL */
};


/* The probe families, in report order (user/family/probes.c: the one place
 * a family is registered). */
extern const struct probe_ops *const probe_table[];
extern const int probe_table_len;

#endif
