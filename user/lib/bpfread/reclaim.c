// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Reclaiming the rows of a row table whose owner is gone (snapshot.h; the
 * kernel side and why it is safe: bpf/row_table.bpf.h). Apart from
 * snapshot.c so that the unit tests of snapshots, which stand in for the
 * table, need no BPF. */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bpfmap.h"
#include "log.h"
#include "row_table.h"
#include "snapshot.h"
#include "snapshot_int.h"
#include "wordpack.h"

struct reclaim_req {
	struct row_reclaim_req r;
	size_t key;		/* index of its key in keys */
};

struct reclaim_round {
	struct snapshot *s;
	const struct reclaim_policy *pol;
	struct reclaim_req *reqs;
	size_t nreqs, capreqs;
	char *keys;		/* the requests' keys */
	size_t nkeys, capkeys;
	char *gone;		/* keys found gone this round: the next suspects */
	size_t ngone, capgone;
	struct gen add;		/* the retired rows after this round */
};

static int push_key(char **buf, size_t *n, size_t *cap, const void *key, size_t ks)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char *b = realloc(*buf, c * ks);

		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + (*n)++ * ks, key, ks);
	return 0;
}

static bool was_suspect(const struct snapshot *s, const void *key)
{
	snap_cmp_key_size = s->ops->key_size;
	return s->nsuspects &&
	       bsearch(key, s->suspects, s->nsuspects, s->ops->key_size, snap_cmp_key) != NULL;
}

/* Each CPU's row in the table: a request to free it if its owner was gone
 * at the previous round as well. */
static int visit_slot(const void *key, const void *value, __u32 idx, int cpu, __u64 tag,
		      void *ctx)
{
	struct reclaim_round *rr = ctx;
	size_t ks = rr->s->ops->key_size;
	int err;

	(void)value;
	if (!rr->pol->gone(key, rr->pol->ctx))
		return 0;
	err = push_key(&rr->gone, &rr->ngone, &rr->capgone, key, ks);
	if (err || !was_suspect(rr->s, key))
		return err;
	if (rr->nreqs == rr->capreqs) {
		size_t c = rr->capreqs ? rr->capreqs * 2 : 64;
		struct reclaim_req *r = realloc(rr->reqs, c * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rr->reqs = r;
		rr->capreqs = c;
	}
	rr->reqs[rr->nreqs++] = (struct reclaim_req){
		.r = { .cpu = (__u32)cpu, .idx = idx, .tag = tag }, .key = rr->nkeys,
	};
	return push_key(&rr->keys, &rr->nkeys, &rr->capkeys, key, ks);
}

/* A key with a row on a CPU this thread may not run on (a cpuset) keeps
 * all its rows: were the others freed, and their counts forgotten by the
 * family's fold (a closed listener's), the row left on that CPU would still
 * make a row of the key, whose counters would then fall to what it holds. */
static void hold_unrunnable(struct reclaim_round *rr)
{
	size_t ks = rr->s->ops->key_size, nheld = 0, out = 0;
	cpu_set_t allowed;
	char *held;

	if (!rr->nreqs || sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	held = malloc(rr->nreqs * ks);
	if (!held) {
		rr->nreqs = 0;	/* free nothing this round rather than half */
		return;
	}
	for (size_t i = 0; i < rr->nreqs; i++) {
		__u32 cpu = rr->reqs[i].r.cpu;

		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed))
			memcpy(held + nheld++ * ks, rr->keys + rr->reqs[i].key * ks, ks);
	}
	for (size_t i = 0; i < rr->nreqs && nheld; i++) {
		const char *k = rr->keys + rr->reqs[i].key * ks;
		bool hold = false;

		for (size_t h = 0; h < nheld && !hold; h++)
			hold = !memcmp(held + h * ks, k, ks);
		if (!hold)
			rr->reqs[out++] = rr->reqs[i];
	}
	if (nheld)
		rr->nreqs = out;
	free(held);
}

/* Keeps a freed row's (or a retired row's) counts under the key the family
 * folds it to, or forgets them. val is one CPU's row as the kernel lays it
 * out, or a packed retired value. */
static int retire(struct reclaim_round *rr, const void *key, const void *val, bool packed,
		  struct reclaim_stats *st)
{
	struct snapshot *s = rr->s;
	__u64 fk[32];

	if (s->ops->key_size > sizeof(fk))
		return -EINVAL;
	memset(fk, 0, sizeof(fk));
	if (!rr->pol->fold(key, fk, rr->pol->ctx)) {
		st->forgotten++;
		return 0;
	}
	if (packed) {
		wordpack__unpack(val, s->ops->val_size, s->val);
	} else {
		memset(s->val, 0, s->ops->val_size);
		s->ops->merge(s->val, val);
	}
	return snap_append(s, &rr->add, fk);
}

static void warn_once_restore(int e)
{
	static bool said;

	if (!said)
		warn("reclaim: cannot restore this thread's CPU affinity: %s", strerror(e));
	said = true;
}

/* Runs the table's reclaim program on CPU cpu: from this thread, pinned
 * there for the run, so that the program runs in process context with
 * preemption off (bpf/row_table.bpf.h says why that is safe); never as an
 * interrupt on that CPU, which BPF_F_TEST_RUN_ON_CPU from another one
 * would be, and which could land in the middle of a program's update. */
static int run_on_cpu(int prog_fd, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	cpu_set_t old, one;
	int err;

	if (sched_getaffinity(0, sizeof(old), &old))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;	/* a CPU this process may not use: its rows stay */
	/* The run's own result decides whether its rows were freed (and must
	 * be retired); failing to move back afterwards is said, not mixed in. */
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (sched_setaffinity(0, sizeof(old), &old))
		warn_once_restore(errno);
	return err;
}

/* Frees reqs[0..n) (n <= ROW_RECLAIM_MAX) and retires what was freed. */
static int free_batch(struct reclaim_round *rr, const struct row_table_fds *fds,
		      const struct reclaim_req *reqs, __u32 n, struct reclaim_stats *st)
{
	struct snapshot *s = rr->s;
	size_t ks = s->ops->key_size, stride = (8 + ks + s->ops->val_size + 7) / 8 * 8;
	struct row_reclaim_args args = { .n = n };
	/* Per CPU: 0 not run yet, 1 run, 2 could not run. Only a CPU whose
	 * run succeeded wrote its results: another's are a past batch's. */
	unsigned char ran[CPU_SETSIZE];
	__u32 zero = 0;
	char *row = malloc(stride);
	int err = 0;

	if (!row)
		return -ENOMEM;
	memset(ran, 0, sizeof(ran));
	for (__u32 i = 0; i < n; i++)
		args.req[i] = reqs[i].r;
	if (bpf_map_update_elem(fds->args, &zero, &args, BPF_ANY)) {
		free(row);
		return -errno;
	}
	for (__u32 i = 0; i < n && !err; i++) {
		int cpu = (int)reqs[i].r.cpu;

		if (cpu >= CPU_SETSIZE || ran[cpu])
			continue;
		err = run_on_cpu(fds->prog, cpu);
		ran[cpu] = err ? 2 : 1;
		if (err == -EINVAL)
			err = 0;	/* not allowed there: those rows stay */
	}
	/* Every request's result, even after an error: a row freed is in
	 * nothing else now. */
	for (__u32 i = 0; i < n; i++) {
		__u64 tag;
		int e;

		if (bpf_map_lookup_elem(fds->out, &i, row)) {
			err = err ? err : -errno;
			break;
		}
		memcpy(&tag, row, sizeof(tag));
		if (reqs[i].r.cpu >= CPU_SETSIZE || ran[reqs[i].r.cpu] != 1 ||
		    tag != reqs[i].r.tag) {
			st->missed++;
			continue;
		}
		st->freed++;
		e = retire(rr, rr->keys + reqs[i].key * ks, row + 8 + ks, false, st);
		err = err ? err : e;
	}
	free(row);
	return err;
}

static size_t uniq_keys(char *keys, size_t n, size_t ks)
{
	size_t out = 0;

	snap_cmp_key_size = ks;
	qsort(keys, n, ks, snap_cmp_key);
	for (size_t i = 0; i < n; i++)
		if (!out || memcmp(keys + (out - 1) * ks, keys + i * ks, ks))
			memmove(keys + out++ * ks, keys + i * ks, ks);
	return out;
}

int snapshot__reclaim(struct snapshot *s, const struct row_table_fds *fds,
		      const struct reclaim_policy *pol, struct reclaim_stats *st)
{
	struct reclaim_round rr = { .s = s, .pol = pol };
	size_t ks = s->ops->key_size;
	int err = 0, ferr;

	ferr = bpfmap__for_each_slot(fds->rows, fds->used, ks, s->ops->val_size, visit_slot, &rr);
	if (!ferr)
		hold_unrunnable(&rr);
	for (size_t i = 0; i < rr.nreqs && !ferr; i += ROW_RECLAIM_MAX) {
		__u32 n = rr.nreqs - i < ROW_RECLAIM_MAX ? (__u32)(rr.nreqs - i) : ROW_RECLAIM_MAX;

		ferr = free_batch(&rr, fds, rr.reqs + i, n, st);
	}
	/* The retired rows: those whose owner is gone as well (at the last
	 * round too) are folded again or forgotten, the rest stay. After an
	 * error as well, for the rows freed before it. */
	for (size_t i = 0; i < s->retired.len && !err; i++) {
		const char *e = s->retired.entries + i * s->entry_size;
		const __u64 *w = s->retired.words + snap_entry_offset(s, e);

		if (pol->gone(e, pol->ctx)) {
			err = push_key(&rr.gone, &rr.ngone, &rr.capgone, e, ks);
			if (!err && was_suspect(s, e)) {
				err = retire(&rr, e, w, true, st);
				continue;
			}
		}
		if (!err) {
			wordpack__unpack(w, s->ops->val_size, s->val);
			err = snap_append(s, &rr.add, e);
		}
	}
	if (!err) {
		snap_sort_gen(s, &rr.add);
		err = snap_coalesce(s, &rr.add);
	}
	if (!err) {
		snap_gen_free(&s->retired);
		s->retired = rr.add;
		rr.add = (struct gen){};
		free(s->suspects);
		s->nsuspects = rr.ngone ? uniq_keys(rr.gone, rr.ngone, ks) : 0;
		s->suspects = rr.gone;
		rr.gone = NULL;
	}
	st->retired += s->retired.len;	/* a gauge: the caller zeroes it per round, a family may have several tables */
	snap_gen_free(&rr.add);
	free(rr.reqs);
	free(rr.keys);
	free(rr.gone);
	return ferr ? ferr : err;
}
