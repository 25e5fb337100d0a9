// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Function probe sets on bpf/uprobe.bpf.c; see funcprobe.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "funcprobe.h"
#include "funcprobe_int.h"
#include "uprobe.skel.h"
#include "probe_util.h"
#include "bpfmap.h"
#include "snapshot.h"
#include "hist.h"

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
		funcprobe_cal__run(fp, s->fn->is_go, s->fn->entry_class);
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
