// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Function probe sets on bpf/uprobe.bpf.c; see funcprobe.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "funcprobe.h"
#include "uprobe.skel.h"
#include "probe_util.h"
#include "bpfmap.h"
#include "snapshot.h"
#include "hist.h"
#include "log.h"
#include "probesite.h"

struct fp_link {
	__u32 func;
	pid_t pid;
	struct bpf_link *link;
};

struct funcprobe {
	struct uprobe_bpf *skel;
	struct snapshot *snap;
	struct funcprobe_cal cal[2][PROBESITE_NR];	/* [is_go][site class] */
	/* The calibration's probes, on nettune's own code: they fire only when
	 * it calibrates, and stay attached until funcprobe__free() because
	 * removing a uprobe waits for an RCU grace period (~80 ms here), which
	 * startup need not pay. */
	struct bpf_link *cal_links[2 * 2 * PROBESITE_NR];
	size_t ncal_links;
	struct fp_link *links;
	size_t nlinks, cap;
};

static void merge_val(void *dst, const void *cpu)
{
	struct uprobe_val *d = dst;
	const struct uprobe_val *v = cpu;

	if (!d->comm[0] && v->comm[0])
		memcpy(d->comm, v->comm, sizeof(d->comm));
	hist__add(&d->lat, &v->lat);
}

static void delta_val(void *val, const void *prev)
{
	struct uprobe_val *d = val;
	const struct uprobe_val *old = prev;

	hist__delta(&d->lat, &d->lat, &old->lat);
}

static const struct snapshot_ops snap_ops = {
	.key_size = sizeof(struct uprobe_key),
	.val_size = sizeof(struct uprobe_val),
	.merge = merge_val,
	.delta = delta_val,
};

int funcprobe__new(const struct trace_opts *o, struct funcprobe **out)
{
	struct funcprobe *fp = calloc(1, sizeof(*fp));
	int err = -ENOMEM;

	if (!fp)
		return err;
	fp->snap = snapshot__new(&snap_ops);
	fp->skel = uprobe_bpf__open();
	if (!fp->snap || !fp->skel) {
		err = fp->skel ? -ENOMEM : -errno;
		goto fail;
	}
	/* The attachments already pick the processes; the filter makes sure
	 * of it even where several probes share one breakpoint. */
	PROBE_BEFORE_LOAD(fp->skel, o);
	err = uprobe_bpf__load(fp->skel);
	if (!err)
		err = PROBE_FILL_FILTERS(fp->skel, o);
	if (err)
		goto fail;
	*out = fp;
	return 0;
fail:
	funcprobe__free(fp);
	return err;
}

void funcprobe__free(struct funcprobe *fp)
{
	if (!fp)
		return;
	for (size_t i = 0; i < fp->nlinks; i++)
		bpf_link__destroy(fp->links[i].link);
	for (size_t i = 0; i < fp->ncal_links; i++)
		bpf_link__destroy(fp->cal_links[i]);
	free(fp->links);
	uprobe_bpf__destroy(fp->skel);
	snapshot__free(fp->snap);
	free(fp);
}

static int keep_link(struct funcprobe *fp, const struct funcprobe_site *s, struct bpf_link *l)
{
	if (fp->nlinks == fp->cap) {
		size_t cap = fp->cap ? fp->cap * 2 : 16;
		struct fp_link *n = realloc(fp->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fp->links = n;
		fp->cap = cap;
	}
	fp->links[fp->nlinks++] = (struct fp_link){ s->func, s->pid, l };
	return 0;
}

static int attach_at(struct funcprobe *fp, const struct funcprobe_site *s,
		     struct bpf_program *prog, __u64 offset, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = s->func);
	struct bpf_link *l;
	int err;

	if (s->http_method)
		opts.bpf_cookie |= UPROBE_COOKIE_HTTP_METHOD;
	if (s->http_status || s->status_writer)
		opts.bpf_cookie |= UPROBE_COOKIE_HTTP_STATUS;
	l = bpf_program__attach_uprobe_opts(prog, s->pid, s->path, offset, &opts);
	if (!l)
		return errno ? -errno : -EINVAL;
	err = keep_link(fp, s, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

/* Returns first, then the entry: a call that enters must find its return
 * probes in place, or it would leave a start time behind. */
static int attach_site(struct funcprobe *fp, const struct funcprobe_site *s)
{
	const struct gofunc_result *fn = s->fn;
	int err = 0;

	if (s->status_writer)
		return attach_at(fp, s, fp->skel->progs.uprobe_go_status, fn->entry_probe_offset,
				 false);
	if (!fn->is_go) {
		err = attach_at(fp, s, fp->skel->progs.uprobe_c_ret, fn->entry_probe_offset, true);
		return err ? err : attach_at(fp, s, fp->skel->progs.uprobe_c_entry,
					     fn->entry_probe_offset, false);
	}
	if (!fn->nr_rets)
		return -EINVAL;	/* callers check: nothing could end a call */
	for (size_t i = 0; i < fn->nr_rets && !err; i++)
		err = attach_at(fp, s, fp->skel->progs.uprobe_go_ret, fn->ret_offsets[i], false);
	return err ? err : attach_at(fp, s, fp->skel->progs.uprobe_go_entry,
				     fn->entry_probe_offset, false);
}

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

/* Not static, so the compiler keeps every load of g->stackguard0. */
__u64 nt_cal_g[4];

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
		nt_cal_call(fn, nt_cal_g);
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

/* Once per funcprobe, kind of pair and class of entry site: the first
 * attach that needs it measures it. A failure is said once and leaves
 * nothing subtracted. */
static void calibrate(struct funcprobe *fp, bool is_go, int class)
{
	struct funcprobe_cal *c;
	double t0;
	int err;

	if (class < 0 || class >= PROBESITE_NR)
		class = PROBESITE_STEPPED;
	c = &fp->cal[is_go][class];
	if (c->tried)
		return;
	c->tried = true;
	c->is_go = is_go;
	c->site_class = class;
	t0 = cal_now_ns();
	/* --empty-programs: the programs return at once, there is nothing
	 * to calibrate (and nothing measured to subtract from). */
	err = fp->skel->rodata->targ_empty ? -ECANCELED : cal_run(fp, is_go, class, c);
	c->ok = !err;
	if (err == -ECANCELED)
		debug("uprobe calibration skipped: empty programs");
	else if (err)
		warn("uprobe calibration (%s, %s entry) failed: %s; durations are reported "
		     "with the probes' own time in them", is_go ? "Go" : "C",
		     probesite__class_name(class), strerror(-err));
	else
		debug("uprobe calibration: %s pair, %s entry: p50 %llu ns over %llu calls, "
		      "bare %llu ns, subtract %llu ns, %llu ns added per call (%.1f ms)",
		      is_go ? "Go" : "C", probesite__class_name(class),
		      (unsigned long long)c->raw_p50_ns, (unsigned long long)c->calls,
		      (unsigned long long)c->bare_ns, (unsigned long long)c->ns,
		      (unsigned long long)c->added_ns, (cal_now_ns() - t0) / 1e6);
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

int funcprobe__attach(struct funcprobe *fp, const struct funcprobe_site *s)
{
	int err;

	/* A process known to be gone fails here with one line from the caller,
	 * not with libbpf's own lines for each probe. (libbpf's printer is
	 * process-wide and families attach on parallel threads: it is not
	 * ours to silence.) Only an exit in the next microseconds gets both. */
	if (s->pid > 0 && kill(s->pid, 0) && errno == ESRCH)
		return -ESRCH;
	if (!s->status_writer)
		calibrate(fp, s->fn->is_go, s->fn->entry_class);
	err = attach_site(fp, s);
	if (err)
		funcprobe__detach(fp, s->func, s->pid);
	return err;
}

/* The entry goes first (attached last), so no call starts while its
 * return probes are being removed. */
void funcprobe__detach(struct funcprobe *fp, __u32 func, pid_t pid)
{
	size_t i = fp->nlinks, kept = 0;

	while (i-- > 0)
		if (fp->links[i].func == func && fp->links[i].pid == pid) {
			bpf_link__destroy(fp->links[i].link);
			fp->links[i].link = NULL;
		}
	for (i = 0; i < fp->nlinks; i++)
		if (fp->links[i].link)
			fp->links[kept++] = fp->links[i];
	fp->nlinks = kept;
}

struct visit {
	funcprobe_row_fn fn;
	void *ctx;
};

static int visit_row(const void *key, const void *val, void *ctx)
{
	struct visit *v = ctx;

	return v->fn(key, val, v->ctx);
}

int funcprobe__collect(struct funcprobe *fp, bool total, funcprobe_row_fn fn, void *ctx)
{
	struct visit v = { fn, ctx };
	int err = snapshot__read_rows(fp->snap, bpf_map__fd(fp->skel->maps.uprobe_stats),
				      bpf_map__fd(fp->skel->maps.uprobe_stats_used));

	return err ? err : snapshot__for_each(fp->snap, total, visit_row, &v);
}

__u64 funcprobe__lost(struct funcprobe *fp)
{
	__u64 lost[UPROBE_LOST_NR] = {};

	bpfmap__sum_counters(bpf_map__fd(fp->skel->maps.uprobe_lost), UPROBE_LOST_NR, lost);
	return lost[0] + lost[1] + bpfmap__recursion_misses(fp->skel->obj);
}

int funcprobe__open_file(const char *path, struct funcprobe_file *f)
{
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &f->st)) {
		int err = -errno;

		close(f->fd);
		f->fd = -1;
		return err;
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	return 0;
}

void funcprobe__close_file(struct funcprobe_file *f)
{
	if (f && f->fd >= 0)
		close(f->fd);
	if (f)
		f->fd = -1;
}

int funcprobe__resolve(const struct funcprobe_file *f, const char *shown_path,
		       const char *symbol, struct gofunc_result *res)
{
	size_t n = strlen(f->path);
	char msg[sizeof(res->errmsg)];
	int err = gofunc__resolve(f->path, symbol, res);

	if (err && !strncmp(res->errmsg, f->path, n)) {
		snprintf(msg, sizeof(msg), "%s%s", shown_path, res->errmsg + n);
		memcpy(res->errmsg, msg, sizeof(msg));
	}
	switch (err) {
	case 0: case -ENOENT: case -ENOEXEC: case -EPROTONOSUPPORT: case -ENOMEM:
		return err;
	default:
		return -EINVAL;
	}
}

void funcprobe__print_cal(FILE *out, const char *indent, const struct funcprobe_cal *c,
			  const struct hist *raw)
{
	char sub[32], p50[32], added[32];

	if (!c || !c->ok) {
		fprintf(out, "%sprobes' own time: not calibrated, nothing subtracted\n", indent);
		return;
	}
	fprintf(out, "%sprobes' own time subtracted: %s per call (measured at attach on %llu "
		"calls of an empty function probed the same way, %s entry); raw p50 %s; "
		"the probes add %s per call to the program\n", indent,
		hist__fmt_ns(sub, sizeof(sub), c->ns), (unsigned long long)c->calls,
		probesite__class_name(c->site_class),
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
