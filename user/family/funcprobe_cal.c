// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The uprobe pairs' own time, measured at attach and subtracted from what
 * they measure; see funcprobe.h and docs/probes.md ("What the probes cost"). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "funcprobe_int.h"
#include "uprobe.skel.h"
#include "hist.h"
#include "log.h"

/*
 * Calibration: the probes' own share of every duration they measure.
 *
 * The entry program takes its timestamp, then the kernel still has to
 * finish that trap (and single-step the displaced instruction, unless it
 * emulates it) and return to user space; at the return the next trap has
 * to be taken before the return program reads the clock. That time is in
 * every measured call, whatever the function does: a 1.4 ns function
 * measured 9.5 µs with a single-stepped entry on the test VM.
 *
 * So before the first attach of each kind of probe pair (Go: uprobe on the
 * entry site and on a RET; C: uprobe and uretprobe on the entry site) and
 * each class of entry instruction (probesite.h), nettune probes a function
 * of its own whose body is a few instructions of the same classes, with the
 * very same BPF programs, calls it CAL_CALLS times in each of CAL_ROUNDS
 * rounds, and takes the median of the rounds' median durations, less the function's own time without
 * probes (timed by the same loop before attaching). That median is what
 * the reports subtract (funcprobe__correct). The loop also gives the whole
 * cost per call a probed program pays, entry and return traps included.
 */
#define CAL_CALLS	150	/* per round */
#define CAL_ROUNDS	5

static double cal_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#if defined(__x86_64__)
/* nt_cal_call(fn, g): calls fn with r14 = g, as Go code runs with its
 * goroutine in r14. The functions probed, one per kind of pair and class of
 * entry site (the probes of one calibration stay attached, so none may
 * share a function with another):
 *   "go" shape: the prologue of a Go function, a stack bound check against
 *   g->stackguard0 (g points at zeroes, so the jbe is never taken), then
 *   RET; its cmp is single-stepped, its jbe emulated;
 *   "push" shape: push, pop, RET. */
#define CAL_GO_FN(name)							\
	".p2align 4\n.type " name ",@function\n" name ":\n"		\
	"	cmp 0x10(%r14), %rsp\n"	/* +0: 49 3b 66 10 */		\
	"	jbe 1f\n"		/* +4: 76 00 */			\
	"1:	ret\n"			/* +6 */			\
	".size " name ", .-" name "\n"
#define CAL_PUSH_FN(name)						\
	".p2align 4\n.type " name ",@function\n" name ":\n"		\
	"	push %rbp\n"		/* +0 */			\
	"	pop %rbp\n"						\
	"	ret\n"			/* +2 */			\
	".size " name ", .-" name "\n"
__asm__(".text\n"
	".p2align 4\n"
	".type nt_cal_call,@function\n"
	"nt_cal_call:\n"
	"	push %r14\n"
	"	mov %rsi, %r14\n"
	"	call *%rdi\n"
	"	pop %r14\n"
	"	ret\n"
	".size nt_cal_call, .-nt_cal_call\n"
	CAL_GO_FN("nt_cal_c_stepped")
	CAL_GO_FN("nt_cal_c_branch")
	CAL_PUSH_FN("nt_cal_c_push")
	CAL_GO_FN("nt_cal_go_stepped")
	CAL_GO_FN("nt_cal_go_branch")
	CAL_PUSH_FN("nt_cal_go_push"));
void nt_cal_call(void (*fn)(void), void *g);
void nt_cal_c_stepped(void), nt_cal_c_branch(void), nt_cal_c_push(void);
void nt_cal_go_stepped(void), nt_cal_go_branch(void), nt_cal_go_push(void);

static const struct cal_site {
	void (*fn)(void);
	__u32 entry, ret;	/* offsets in fn */
	const char *insn;
} cal_sites[2][PROBESITE_NR] = {	/* [is_go][class] */
	{
		[PROBESITE_STEPPED] = { nt_cal_c_stepped, 0, 6, "cmp rsp, [r14+0x10]" },
		[PROBESITE_BRANCH] = { nt_cal_c_branch, 4, 6, "jbe" },
		[PROBESITE_PUSH] = { nt_cal_c_push, 0, 2, "push rbp" },
	}, {
		[PROBESITE_STEPPED] = { nt_cal_go_stepped, 0, 6, "cmp rsp, [r14+0x10]" },
		[PROBESITE_BRANCH] = { nt_cal_go_branch, 4, 6, "jbe" },
		[PROBESITE_PUSH] = { nt_cal_go_push, 0, 2, "push rbp" },
	},
};

/* The calibration's goroutine: r14 points here, so [r14+0x10] is 0. */
static __u64 cal_g[4];

/* The file offset of addr in this process's executable mapping. */
static int own_file_offset(const void *addr, __u64 *off)
{
	unsigned long start, end, pgoff, a = (unsigned long)addr;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &pgoff) == 3 &&
		    a >= start && a < end) {
			*off = a - start + pgoff;
			found = 1;
		}
	fclose(f);
	return found ? 0 : -ENOENT;
}

static double cal_loop_ns(void (*fn)(void))
{
	double t0 = cal_now_ns();

	for (int i = 0; i < CAL_CALLS; i++)
		nt_cal_call(fn, cal_g);
	return (cal_now_ns() - t0) / CAL_CALLS;
}

/* The calibration slot's histogram, its per-CPU copies merged. */
static int cal_read(struct funcprobe *fp, __u32 func, struct hist *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 slot = func - UPROBE_CAL_FUNC_BASE;
	struct hist *v;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));	/* sizeof(struct hist) % 8 == 0 */
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(fp->skel->maps.uprobe_cal), &slot, v))
		err = -errno;
	memset(out, 0, sizeof(*out));
	for (int i = 0; !err && i < ncpu; i++)
		hist__add(out, &v[i]);
	free(v);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* CAL_ROUNDS rounds of CAL_CALLS calls after one to warm up (first hits
 * set up the thread's uprobe state, the XOL page, caches): this machine is
 * shared, and one slow round must not decide. c gets the median of the
 * rounds' medians and the calls counted. Returns the median over the rounds
 * of the mean time per call with the probes, or -errno. (Not pinned to
 * each CPU in turn: on a busy machine waiting for a CPU cost ~100 ms.) */
static double cal_rounds(struct funcprobe *fp, __u32 func, void (*fn)(void),
			 struct funcprobe_cal *c)
{
	struct hist *prev = calloc(3, sizeof(*prev)), *cur = prev + 1, *d = prev + 2;
	__u64 p50[CAL_ROUNDS];
	double per_call[CAL_ROUNDS];
	int err = 0, r, k = 0;

	if (!prev)
		return -ENOMEM;
	for (r = 0; r <= CAL_ROUNDS && !err; r++) {
		double t = cal_loop_ns(fn);

		err = cal_read(fp, func, cur);
		if (err)
			break;
		hist__delta(d, cur, prev);
		*prev = *cur;
		if (r && d->count >= CAL_CALLS / 2) {	/* else the probes did not fire */
			per_call[k] = t;
			p50[k++] = hist__quantile(d, 0.5);
		}
	}
	c->calls = cur->count;
	free(prev);
	if (err)
		return err;
	if (k < CAL_ROUNDS / 2 + 1)
		return -ENODATA;
	for (int i = 0; i < k; i++)
		debug("uprobe calibration round %d: p50 %llu ns, %.0f ns per call", i + 1,
		      (unsigned long long)p50[i], per_call[i]);
	qsort(p50, (size_t)k, sizeof(p50[0]), cmp_u64);
	qsort(per_call, (size_t)k, sizeof(per_call[0]), cmp_double);
	c->raw_p50_ns = p50[k / 2];
	return per_call[k / 2];
}

static int cal_run(struct funcprobe *fp, bool is_go, int class, struct funcprobe_cal *c)
{
	const __u32 func = UPROBE_CAL_FUNC(is_go, class);
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = func | UPROBE_COOKIE_CALIB);
	const struct cal_site *site = &cal_sites[is_go][class];
	struct bpf_link *ret = NULL, *entry = NULL;
	__u64 off;
	double bare, probed;
	int err;

	err = own_file_offset((const void *)site->fn, &off);
	if (err)
		goto out;
	bare = cal_loop_ns(site->fn);
	opts.retprobe = !is_go;
	ret = bpf_program__attach_uprobe_opts(is_go ? fp->skel->progs.uprobe_go_ret
						    : fp->skel->progs.uprobe_c_ret, getpid(),
					      "/proc/self/exe",
					      off + (is_go ? site->ret
							   : site->entry), &opts);
	opts.retprobe = false;
	if (ret)
		entry = bpf_program__attach_uprobe_opts(is_go ? fp->skel->progs.uprobe_go_entry
							      : fp->skel->progs.uprobe_c_entry,
							getpid(), "/proc/self/exe",
							off + site->entry, &opts);
	if (!ret || !entry) {
		err = errno ? -errno : -EINVAL;
		goto out;
	}
	probed = cal_rounds(fp, func, site->fn, c);
	fp->cal_links[fp->ncal_links++] = entry;
	fp->cal_links[fp->ncal_links++] = ret;
	entry = ret = NULL;
	if (probed < 0) {
		err = (int)probed;
		goto out;
	}
	c->bare_ns = (__u64)(bare + 0.5);
	c->ns = c->raw_p50_ns > c->bare_ns ? c->raw_p50_ns - c->bare_ns : 0;
	c->added_ns = probed > bare ? (__u64)(probed - bare + 0.5) : 0;
	c->insn = site->insn;
out:
	bpf_link__destroy(entry);
	bpf_link__destroy(ret);
	return err;
}
#else
static int cal_run(struct funcprobe *fp, bool is_go, int class, struct funcprobe_cal *c)
{
	(void)fp; (void)is_go; (void)class; (void)c;
	return -EOPNOTSUPP;
}
#endif

/*
 * Once per process, kind of pair and class of entry site: the first attach
 * that needs it measures it, with its own funcprobe's programs (every
 * funcprobe loads the same BPF object), and every funcprobe copies the
 * result. One measurement, not one per family: the http and uprobe
 * families attach in parallel, and a second calibration of the same kind
 * would run on the same function with the first one's probes still on it
 * (they stay until exit), measuring both. The lock also keeps two
 * calibrations from running at once, each disturbing the other.
 */
static pthread_mutex_t cal_lock = PTHREAD_MUTEX_INITIALIZER;
static struct funcprobe_cal cal_done[2][PROBESITE_NR];

void funcprobe_cal__run(struct funcprobe *fp, bool is_go, int class)
{
	struct funcprobe_cal *c;
	double t0;
	int err;

	if (class < 0 || class >= PROBESITE_NR)
		class = PROBESITE_STEPPED;
	if (fp->cal[is_go][class].tried)
		return;
	/* --empty-programs: the programs return at once, there is nothing
	 * to calibrate (and nothing measured to subtract from). */
	if (fp->skel->rodata->targ_empty) {
		fp->cal[is_go][class] = (struct funcprobe_cal){ .tried = true, .is_go = is_go,
								 .site_class = class };
		debug("uprobe calibration skipped: empty programs");
		return;
	}
	pthread_mutex_lock(&cal_lock);
	c = &cal_done[is_go][class];
	if (!c->tried) {
		c->tried = true;
		c->is_go = is_go;
		c->site_class = class;
		t0 = cal_now_ns();
		err = cal_run(fp, is_go, class, c);
		c->ok = !err;
		if (err)
			warn("uprobe calibration (%s, %s entry) failed: %s; durations are "
			     "reported with the probes' own time in them", is_go ? "Go" : "C",
			     probesite__class_name(class), strerror(-err));
		else
			debug("uprobe calibration: %s pair, %s entry: p50 %llu ns over %llu "
			      "calls, bare %llu ns, subtract %llu ns, %llu ns added per call "
			      "(%.1f ms)", is_go ? "Go" : "C", probesite__class_name(class),
			      (unsigned long long)c->raw_p50_ns, (unsigned long long)c->calls,
			      (unsigned long long)c->bare_ns, (unsigned long long)c->ns,
			      (unsigned long long)c->added_ns, (cal_now_ns() - t0) / 1e6);
	}
	fp->cal[is_go][class] = *c;
	pthread_mutex_unlock(&cal_lock);
}

const struct funcprobe_cal *funcprobe__cal(const struct funcprobe *fp, bool is_go, int class)
{
	if (class < 0 || class >= PROBESITE_NR)
		class = PROBESITE_STEPPED;
	return &fp->cal[is_go][class];
}

void funcprobe__correct(const struct funcprobe_cal *c, const struct hist *raw, struct hist *out)
{
	hist__shift_down(out, raw, c && c->ok ? c->ns : 0);
}

void funcprobe__print_cal(FILE *out, const char *indent, const struct funcprobe_cal *c,
			  const struct hist *raw)
{
	char sub[32], p50[32], added[32];

	if (!c || !c->ok) {
		fprintf(out, "%sprobes' own time: not calibrated, nothing subtracted\n", indent);
		return;
	}
	fprintf(out, "%sprobes' own time subtracted: %s per call (calibrated at attach: %llu "
		"calls, %s entry)\n%sraw p50 %s; the probes add %s per call to the program\n",
		indent, hist__fmt_ns(sub, sizeof(sub), c->ns), (unsigned long long)c->calls,
		probesite__class_name(c->site_class), indent,
		hist__fmt_ns(p50, sizeof(p50), hist__quantile(raw, 0.5)),
		hist__fmt_ns(added, sizeof(added), c->added_ns));
}

struct json_object *funcprobe__cal_json(const struct funcprobe_cal *c)
{
	struct json_object *o = json_object_new_object();
	bool ok = c && c->ok;

	json_object_object_add(o, "calibrated", json_object_new_boolean(ok));
	json_object_object_add(o, "subtracted_ns", json_object_new_uint64(ok ? c->ns : 0));
	if (!ok)
		return o;
	json_object_object_add(o, "pair", json_object_new_string(c->is_go ? "entry+ret"
									   : "entry+uretprobe"));
	json_object_object_add(o, "entry_site",
			       json_object_new_string(probesite__class_name(c->site_class)));
	json_object_object_add(o, "calibration_calls", json_object_new_uint64(c->calls));
	json_object_object_add(o, "calibration_p50_ns", json_object_new_uint64(c->raw_p50_ns));
	json_object_object_add(o, "calibration_bare_ns", json_object_new_uint64(c->bare_ns));
	json_object_object_add(o, "added_ns_per_call", json_object_new_uint64(c->added_ns));
	return o;
}
