// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* --uprobe PATH:SYMBOL[:uretprobe]: the latency of any function of any ELF
 * file, per process. Go functions get uprobes on each RET, C functions a
 * uretprobe (see funcprobe.h; kernel side bpf/uprobe.bpf.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "probe.h"
#include "funcprobe.h"
#include "breakdown.h"
#include "report.h"
#include "log.h"
#include "probe_util.h"
#include "probesite.h"

#define URETPROBE_SUFFIX ":uretprobe"

struct ufunc {
	const char *spec;	/* as given */
	char path[PATH_MAX];
	char symbol[512];
	bool force_uretprobe;
	bool is_go;
	size_t nr_rets;
	int entry_class;	/* enum probesite_class of the entry probe's site */
	__u64 entry_moved;	/* bytes from the function's entry to that site */
	char go_version[64];
	struct hist total;	/* the probes' own time subtracted */
	struct hist raw;	/* as measured */
	struct breakdown *by_pid;
};

struct probe {
	struct funcprobe *fp;
	struct hist scratch;
	struct ufunc funcs[TRACE_MAX_UPROBES];
	int n;
};

/* PATH:SYMBOL or PATH:SYMBOL:uretprobe. The symbol is after the last colon
 * (Go and mangled C++ names have none), so a path may contain colons. */
static int parse_spec(const char *spec, struct ufunc *f)
{
	size_t len = strlen(spec), slen = strlen(URETPROBE_SUFFIX);
	const char *colon;

	f->spec = spec;
	if (len > slen && !strcmp(spec + len - slen, URETPROBE_SUFFIX)) {
		f->force_uretprobe = true;
		len -= slen;
	}
	colon = memrchr(spec, ':', len);
	if (!colon || colon == spec || colon + 1 == spec + len) {
		warn("--uprobe: '%s' is not PATH:SYMBOL or PATH:SYMBOL:uretprobe", spec);
		return -EINVAL;
	}
	if ((size_t)(colon - spec) >= sizeof(f->path) ||
	    (size_t)(spec + len - colon - 1) >= sizeof(f->symbol)) {
		warn("--uprobe: '%s': path or symbol too long", spec);
		return -EINVAL;
	}
	memcpy(f->path, spec, colon - spec);
	memcpy(f->symbol, colon + 1, spec + len - colon - 1);
	return 0;
}

/* 1 if pid maps the file, 0 if not, -ENOENT if the process is gone (a
 * zombie, or a kernel thread, has no mappings at all). */
static int pid_maps_file(__u32 pid, const struct stat *st)
{
	char name[64], line[PATH_MAX + 128];
	unsigned int maj, min;
	unsigned long long ino;
	int found = 0, lines = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%u/maps", pid);
	f = fopen(name, "re");
	if (!f)
		return -ENOENT;
	while (!found && fgets(line, sizeof(line), f)) {
		lines++;
		found = sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 &&
			ino == st->st_ino && makedev(maj, min) == st->st_dev;
	}
	fclose(f);
	return lines ? found : -ENOENT;
}

static int attach_pid(struct probe *p, struct funcprobe_site *s, const struct stat *st)
{
	const struct ufunc *f = &p->funcs[s->func];
	int err, maps = s->pid < 0 ? 1 : pid_maps_file((__u32)s->pid, st);

	if (maps == -ENOENT) {
		warn("pid %d: no such process; %s not traced there", s->pid, f->spec);
		return -ESRCH;
	}
	if (!maps)
		warn("pid %d does not map %s: its calls count only once it loads it",
		     s->pid, f->path);
	err = funcprobe__attach(p->fp, s);
	if (err == -ESRCH)
		warn("pid %d exited while being attached; %s not traced there", s->pid, f->spec);
	else if (err)
		warn("%s: cannot attach uprobes%s: %s", f->spec,
		     s->pid < 0 ? "" : " in that pid", strerror(-err));
	return err;
}

/* Every -p pid, or every process (-1). Pids that are gone are reported
 * and skipped; it is an error only if none is left. */
static int attach_func(struct probe *p, int id, const struct trace_opts *o,
		       const struct gofunc_result *res, const struct funcprobe_file *file)
{
	struct funcprobe_site s = { .path = file->path, .fn = res, .pid = -1, .func = id };
	int err = 0, attached = 0;

	if (!o->npids)
		return attach_pid(p, &s, &file->st);
	for (int i = 0; i < o->npids; i++) {
		s.pid = (pid_t)o->pids[i];
		err = attach_pid(p, &s, &file->st);
		if (err && err != -ESRCH)
			return err;
		attached += !err;
	}
	return attached ? 0 : -ESRCH;
}

static int check_target(const struct ufunc *f, const struct gofunc_result *res)
{
	if (res->is_go && f->force_uretprobe) {
		warn("%s: refusing a uretprobe on a Go function: Go moves goroutine stacks and "
		     "the program would die (\"unexpected return pc\"); drop ':uretprobe', "
		     "nettune probes each RET instead", f->spec);
		return -EINVAL;
	}
	if (res->is_go && !res->nr_rets) {
		warn("%s: %s has no RET instruction (it never returns, or leaves by a tail "
		     "jump): its latency cannot be measured", f->path, f->symbol);
		return -EINVAL;
	}
	return 0;
}

static int setup_func(struct probe *p, int id, const struct trace_opts *o)
{
	struct ufunc *f = &p->funcs[id];
	struct funcprobe_file file = { .fd = -1 };
	struct gofunc_result res;
	int err;

	err = parse_spec(o->uprobes[id], f);
	if (err)
		return err;
	err = funcprobe__open_file(f->path, &file);
	if (err) {
		warn("%s: %s (--uprobe %s)", f->path, strerror(-err), f->spec);
		return err == -ENOMEM ? err : -ENOENT;
	}
	err = funcprobe__resolve(&file, f->path, f->symbol, &res);
	if (err)
		warn("%s", res.errmsg);
	if (!err)
		err = check_target(f, &res);
	if (!err) {
		f->is_go = res.is_go;
		f->nr_rets = res.nr_rets;
		f->entry_class = res.entry_class;
		f->entry_moved = res.entry_probe_offset - res.entry_offset;
		snprintf(f->go_version, sizeof(f->go_version), "%s", res.go_version);
		err = attach_func(p, id, o, &res, &file);
	}
	gofunc__result_free(&res);
	funcprobe__close_file(&file);
	return err;
}

static void uprobe_detach(struct probe *p)
{
	if (!p)
		return;
	funcprobe__free(p->fp);
	for (int i = 0; i < p->n; i++)
		breakdown__free(p->funcs[i].by_pid);
	free(p);
}

static int uprobe_attach(struct probe **out, const struct trace_opts *o)
{
	struct probe *p;
	int err;

	if (!o->nuprobes)
		return -ENODEV;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = funcprobe__new(o, &p->fp);
	for (int i = 0; !err && i < o->nuprobes; i++) {
		p->funcs[i].by_pid = breakdown__new("pid", NULL);
		if (p->funcs[i].by_pid)
			breakdown__group_by_cgroup(p->funcs[i].by_pid);
		p->n++;
		err = p->funcs[i].by_pid ? setup_func(p, i, o) : -ENOMEM;
	}
	if (err) {
		uprobe_detach(p);
		return err;
	}
	*out = p;
	return 0;
}

static int account(const struct uprobe_key *k, const struct uprobe_val *v, void *ctx)
{
	struct probe *p = ctx;
	struct ufunc *f;

	if (k->func >= (__u32)p->n || !v->lat.count)
		return 0;
	f = &p->funcs[k->func];
	funcprobe__correct(funcprobe__cal(p->fp, f->is_go, f->entry_class), &v->lat, &p->scratch);
	hist__add(&f->raw, &v->lat);
	hist__add(&f->total, &p->scratch);
	return breakdown__add_in(f->by_pid, k->cgroup, k->tgid, v->comm, &p->scratch, NULL);
}

static int uprobe_collect(struct probe *p, bool total)
{
	for (int i = 0; i < p->n; i++) {
		memset(&p->funcs[i].total, 0, sizeof(p->funcs[i].total));
		memset(&p->funcs[i].raw, 0, sizeof(p->funcs[i].raw));
		breakdown__reset(p->funcs[i].by_pid);
	}
	return funcprobe__collect(p->fp, total, account, p);
}

static void uprobe_print(struct probe *p, FILE *out)
{
	for (int i = 0; i < p->n; i++) {
		const struct ufunc *f = &p->funcs[i];

		if (f->is_go)
			fprintf(out, "uprobe: %s %s (Go %s, entry probe at +%llu (%s), %zu RET "
				"probe%s)\n", f->path, f->symbol,
				f->go_version[0] ? f->go_version : "version unknown",
				(unsigned long long)f->entry_moved,
				probesite__class_name(f->entry_class),
				f->nr_rets, f->nr_rets == 1 ? "" : "s");
		else
			fprintf(out, "uprobe: %s %s (entry probe (%s) and uretprobe)\n", f->path,
				f->symbol, probesite__class_name(f->entry_class));
		funcprobe__print_cal(out, "  ", funcprobe__cal(p->fp, f->is_go, f->entry_class),
				     &f->raw);
		report__hist(out, "  ", &f->total);
		breakdown__print(f->by_pid, out, "by process:", 10);
	}
}

static void uprobe_json(struct probe *p, struct json_object *root, bool to_print)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < p->n; i++) {
		const struct ufunc *f = &p->funcs[i];
		struct json_object *o = json_object_new_object();
		struct json_object *lat = report__latency_json(&f->total);

		json_object_object_add(o, "path", json_object_new_string(f->path));
		json_object_object_add(o, "symbol", json_object_new_string(f->symbol));
		json_object_object_add(o, "go", json_object_new_boolean(f->is_go));
		json_object_object_add(o, "probe",
				       json_object_new_string(f->is_go ? "ret" : "uretprobe"));
		/* The latency fields inline, as in every family's object. */
		json_object_object_foreach(lat, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_put(lat);
		json_object_object_add(o, "by_pid", breakdown__json(f->by_pid, "comm", to_print));
		json_object_object_add(o, "entry_site", json_object_new_string(
					       probesite__class_name(f->entry_class)));
		json_object_object_add(o, "entry_site_offset", json_object_new_uint64(f->entry_moved));
		json_object_object_add(o, "probe_cost",
				       funcprobe__cal_json(funcprobe__cal(p->fp, f->is_go,
									  f->entry_class)));
		json_object_object_add(o, "raw", report__latency_json(&f->raw));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "uprobe", arr);
	/* the old key, for one release (docs/json.md) */
	json_object_object_add(root, "uprobes", json_object_get(arr));
}

static __u64 uprobe_lost(struct probe *p)
{
	return funcprobe__lost(p->fp);
}

/* For serve: each --uprobe function's latency, lost events. */
static void uprobe_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[] = { "maps_or_recursion" };
	struct prom_label l[] = { { "binary", NULL }, { "function", NULL } };
	__u64 lost = funcprobe__lost(p->fp);

	promtext__family(w, "nettune_uprobe_duration_seconds", PROM_HISTOGRAM, 0,
			 "Latency of each function named by --uprobe, entry to return");
	for (int i = 0; i < p->n; i++) {
		l[0].value = p->funcs[i].path;
		l[1].value = p->funcs[i].symbol;
		promtext__hist(w, l, 2, &p->funcs[i].total);
	}
	probe__lost_metrics(w, "uprobe", causes, &lost, 1, 0);
}

const struct probe_ops uprobe_probe_ops = {
	.needs_uprobes = true,
	.name = "uprobe",
	.what = "latency of functions named by --uprobe PATH:SYMBOL, per process",
	.attach = uprobe_attach,
	.collect = uprobe_collect,
	.print = uprobe_print,
	.to_json = uprobe_json,
	.lost = uprobe_lost,
	.metrics = uprobe_metrics,
	.detach = uprobe_detach,
};
