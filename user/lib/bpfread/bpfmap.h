/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Reading BPF maps and program statistics from user space. */
#ifndef NETTUNE_LIB_BPFMAP_H
#define NETTUNE_LIB_BPFMAP_H

#include <stddef.h>
#include <linux/types.h>

struct bpf_object;

/* Called with one CPU's row of a row table: its key and value. */
typedef int (*bpfmap_row_fn)(const void *key, const void *value, void *ctx);

int bpfmap__ncpus(void);

/* Kernel memory one preallocated per-CPU row map may take: every row holds
 * its value on every possible CPU, used or not. */
#define BPFMAP_PERCPU_BUDGET	(64u << 20)
/* Rows a map keeps whatever the CPU count, over budget if need be. */
#define BPFMAP_PERCPU_MIN_ROWS	64u
/* How many rows of value_size bytes a per-CPU map declared with
 * max_entries rows gets on ncpus CPUs: as declared while they fit
 * BPFMAP_PERCPU_BUDGET, fewer (down to BPFMAP_PERCPU_MIN_ROWS) beyond. */
__u32 bpfmap__percpu_rows(__u32 max_entries, size_t value_size, int ncpus);
/* Applies bpfmap__percpu_rows() to every per-CPU array (the row tables; a
 * small array of counters always fits) of an opened, not yet
 * loaded object, saying on stderr (once per map name and process) which it
 * shrank. Returns 0 or -errno. */
int bpfmap__size_percpu_rows(struct bpf_object *obj);
/* The same for a given CPU count (tests). */
int bpfmap__size_percpu_rows_for(struct bpf_object *obj, int ncpus);
/* Visits every row of a row table (bpf/row_table.bpf.h): rows_fd its per-CPU
 * array of { tag, key, value }, used_fd its bitmap of used slots. fn gets one
 * CPU's row at a time, so a key can come more than once: from several CPUs,
 * or twice from one. Rows whose tag is not their key's hash (being claimed,
 * or copied mid-claim) are skipped. Returns 0 or -errno. */
int bpfmap__for_each_row(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			 bpfmap_row_fn fn, void *ctx);
/* The same, with where each row sits: its slot, its CPU and its tag (for
 * reclaiming it, user/lib/bpfread/snapshot.h). */
typedef int (*bpfmap_slot_fn)(const void *key, const void *value, __u32 idx, int cpu, __u64 tag,
			      void *ctx);
int bpfmap__for_each_slot(int rows_fd, int used_fd, size_t key_size, size_t value_size,
			  bpfmap_slot_fn fn, void *ctx);
/* Sum over CPUs of a per-CPU array of __u64 counters, into out[0..n). */
int bpfmap__sum_counters(int fd, __u32 n, __u64 *out);
/* Events the kernel skipped because a BPF program of this object could not
 * run (the per-CPU recursion guard), summed over its programs. */
__u64 bpfmap__recursion_misses(const struct bpf_object *obj);

#endif
