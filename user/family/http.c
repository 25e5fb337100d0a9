// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* http: the latency of Go net/http server handlers, from the entry of
 * net/http.serverHandler.ServeHTTP to its return, in each -p process that
 * is a Go program; with the Go version and main module from its build info
 * and the request method. Kernel side: bpf/uprobe.bpf.c via funcprobe. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probe.h"
#include "funcprobe.h"
#include "probesite.h"
#include "report.h"
#include "log.h"
#include "procfd.h"
#include "probe_util.h"

#define HTTP_SYMBOL	"net/http.serverHandler.ServeHTTP"
#define HTTP_FUNC	0	/* one function: rows are told apart by tgid */
/* Where the status code is written (explicitly, or as the implicit 200 of
 * a first Write); the ServeHTTP return reads what it recorded. */
#define HTTP_STATUS_SYMBOL	"net/http.(*response).WriteHeader"
/* (method, status) rows kept for serve's metrics; more fold into "other" */
#define HTTP_MAX_CODES		64

static const char *const method_names[HTTP_METHOD_NR] = {
	"-", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "other",
};

enum target_state { TARGET_TRACED, TARGET_EXITED, TARGET_UNTRACED };
static const char *const state_names[] = { "traced", "exited", "exec-untraced" };

/* What identifies the program a pid runs: its executable's inode, and the
 * process start time, which tells a new process that reuses the pid. */
struct proc_id {
	dev_t dev;
	ino_t ino;
	__u64 start;	/* procfd__start_time() */
};

struct target {
	__u32 pid;
	enum target_state state;
	struct proc_id id;
	char exe[PATH_MAX];
	char comm[16];
	__u64 cgroup;		/* cgroup v2 id its handlers last ran in, 0 unknown */
	char go_version[64];
	char module[256];
	int entry_class;	/* enum probesite_class of its ServeHTTP entry probe */
	struct hist lat;	/* the probes' own time subtracted */
};

struct probe {
	struct funcprobe *fp;
	const struct trace_opts *opts;
	struct target t[FILTER_MAX_PIDS];
	int n;
	struct hist total;	/* the probes' own time subtracted */
	struct hist raw;	/* as measured */
	struct hist scratch;
	struct hist by_method[HTTP_METHOD_NR];
	/* by method and status code, for serve; status 0: not known */
	struct http_code {
		__u32 method, status;
		struct hist lat;
	} *codes;
	int ncodes;
};

/* A target being set up: its binary held open from resolution to attach. */
struct candidate {
	struct funcprobe_file file;
	struct gofunc_result res;
	struct gofunc_result status_res;	/* WriteHeader, when have_status */
	bool have_status;
};

static int proc_identify(__u32 pid, struct proc_id *id)
{
	char name[64];
	struct stat st;

	snprintf(name, sizeof(name), "/proc/%u/exe", pid);
	if (stat(name, &st))	/* also fails for a zombie: it has exited */
		return -ESRCH;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return procfd__start_time((int)pid, &id->start);
}

static void proc_comm(__u32 pid, char *comm, size_t len)
{
	char name[64];
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%u/comm", pid);
	comm[0] = '\0';
	f = fopen(name, "re");
	if (f && fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	if (f)
		fclose(f);
}

/*
 * Opens a pid's executable through /proc/PID/exe (the inode it runs even if
 * the path was deleted or replaced since) and resolves ServeHTTP in it.
 * Returns 0, -ESRCH (gone), -ENODEV (not Go), -ENOENT (no net/http server),
 * or gofunc's error after printing it.
 */
static int inspect(struct target *t, struct candidate *c)
{
	char link[64];
	ssize_t n;
	int err;

	snprintf(link, sizeof(link), "/proc/%u/exe", t->pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	if (n <= 0 || funcprobe__open_file(link, &c->file) || proc_identify(t->pid, &t->id)) {
		warn("pid %u: no such process (or one without an executable)", t->pid);
		return -ESRCH;
	}
	proc_comm(t->pid, t->comm, sizeof(t->comm));
	err = funcprobe__resolve(&c->file, t->exe, HTTP_SYMBOL, &c->res);
	snprintf(t->go_version, sizeof(t->go_version), "%s", c->res.go_version);
	snprintf(t->module, sizeof(t->module), "%s", c->res.go_module);
	if (!c->res.is_go || err == -ENOEXEC)
		return -ENODEV;
	if (err == -ENOENT)
		return err;
	if (err) {
		warn("pid %u: %s", t->pid, c->res.errmsg);
		return err;
	}
	if (!c->res.nr_rets) {
		warn("pid %u (%s): %s has no RET instruction to probe", t->pid, t->exe, HTTP_SYMBOL);
		return -EINVAL;
	}
	/* Without it, calls are still timed, with no status code. */
	c->have_status = !funcprobe__resolve(&c->file, t->exe, HTTP_STATUS_SYMBOL,
					     &c->status_res) && c->status_res.is_go;
	if (!c->have_status)
		debug("http: pid %u: no %s; no status codes", t->pid, HTTP_STATUS_SYMBOL);
	return 0;
}

/* The status writer first, so that no ServeHTTP entry that follows its
 * response finds it missing. */
static int attach_target(struct probe *p, struct target *t, const struct candidate *c)
{
	struct funcprobe_site w = {
		.path = c->file.path, .fn = &c->status_res, .pid = (pid_t)t->pid,
		.func = HTTP_FUNC, .status_writer = true,
	};
	struct funcprobe_site s = {
		.path = c->file.path, .fn = &c->res, .pid = (pid_t)t->pid,
		.func = HTTP_FUNC, .http_method = true,
		.http_status = c->have_status && !funcprobe__attach(p->fp, &w),
	};
	int err = funcprobe__attach(p->fp, &s);

	t->entry_class = c->res.entry_class;
	if (err == -ESRCH)
		warn("pid %u (%s) exited while being attached; continuing without it",
		     t->pid, t->comm);
	else if (err)
		warn("pid %u (%s): cannot attach uprobes: %s", t->pid, t->exe, strerror(-err));
	return err;
}

static void release(struct candidate *c)
{
	gofunc__result_free(&c->res);
	gofunc__result_free(&c->status_res);
	funcprobe__close_file(&c->file);
}

/* What one -p pid contributes. Without --probes http a pid that is not a
 * Go net/http server is simply not this family's business. */
static int classify(const struct target *t, int err, bool explicit)
{
	if (err == -ENODEV && explicit)
		warn("pid %u (%s): not a Go program", t->pid, t->exe);
	else if (err == -ENODEV)
		debug("http: pid %u (%s) is not a Go program; skipped", t->pid, t->exe);
	else if (err == -ENOENT && explicit)
		warn("pid %u (%s): no net/http server in this Go program (no %s)", t->pid,
		     t->exe, HTTP_SYMBOL);
	else if (err == -ENOENT)
		info("http: pid %u (%s) is a Go program without a net/http server; skipped",
		     t->pid, t->exe);
	else
		return err;
	return explicit ? err : 0;
}

static void http_detach(struct probe *p)
{
	if (!p)
		return;
	funcprobe__free(p->fp);
	free(p->codes);
	free(p);
}

/* Inspects every pid first, and loads BPF only if one is a target; p->n
 * candidates are left open for the caller to release. */
static int inspect_all(struct probe *p, struct candidate *c)
{
	int err, gone = 0;

	for (int i = 0; i < p->opts->npids; i++) {
		struct target *t = &p->t[p->n];

		memset(t, 0, sizeof(*t));
		t->pid = p->opts->pids[i];
		memset(&c[p->n], 0, sizeof(c[p->n]));
		c[p->n].file.fd = -1;
		err = inspect(t, &c[p->n]);
		if (!err) {
			p->n++;
			continue;
		}
		release(&c[p->n]);
		gone += err == -ESRCH;
		err = err == -ESRCH ? 0 : classify(t, err, p->opts->probes_explicit);
		if (err)
			return err;
	}
	if (!p->n)
		return gone && p->opts->probes_explicit ? -ESRCH : -ENODEV;
	return 0;
}

/* A pid that exits meanwhile is reported and left out; it is an error only
 * when none is left. */
static int attach_all(struct probe *p, struct candidate *c)
{
	int err = funcprobe__new(p->opts, &p->fp), gone = 0;

	for (int i = 0; !err && i < p->n; i++) {
		err = attach_target(p, &p->t[i], &c[i]);
		if (err == -ESRCH) {
			p->t[i].state = TARGET_EXITED;
			gone++;
			err = 0;
		}
	}
	if (!err && gone == p->n)
		err = -ESRCH;
	return err;
}

static int http_attach(struct probe **out, const struct trace_opts *o)
{
	struct candidate *c;
	struct probe *p;
	int err;

	if (!o->npids)
		return -ENODEV;
	p = calloc(1, sizeof(*p));
	c = calloc(FILTER_MAX_PIDS, sizeof(*c));
	if (!p || !c) {
		free(p);
		free(c);
		return -ENOMEM;
	}
	p->opts = o;
	err = inspect_all(p, c);
	if (!err)
		err = attach_all(p, c);
	for (int i = 0; i < p->n; i++)
		release(&c[i]);
	free(c);
	if (err) {
		http_detach(p);
		return err;
	}
	*out = p;
	return 0;
}

/* The pid runs another program now: trace it if it is a Go net/http
 * server too, and say so either way. Its rows keep accumulating by pid. */
static void reattach(struct probe *p, struct target *t)
{
	struct candidate c = { .file.fd = -1 };
	int err;

	funcprobe__detach(p->fp, HTTP_FUNC, (pid_t)t->pid);
	err = inspect(t, &c);
	if (!err)
		err = attach_target(p, t, &c);
	release(&c);
	if (!err) {
		warn("pid %u exec'd %s (%s): tracing the new program", t->pid, t->exe,
		     t->go_version[0] ? t->go_version : "Go");
		return;
	}
	t->state = err == -ESRCH ? TARGET_EXITED : TARGET_UNTRACED;
	if (err == -ENODEV || err == -ENOENT)
		warn("pid %u exec'd %s, %s: no longer traced", t->pid, t->exe,
		     err == -ENODEV ? "not a Go program" : "a Go program without net/http server");
	else if (err != -ESRCH)
		warn("pid %u exec'd %s: no longer traced", t->pid, t->exe);
}

/* At every report: a pid that exited or exec'd is said once. */
static void check_target(struct probe *p, struct target *t)
{
	struct proc_id now;

	if (t->state != TARGET_TRACED)
		return;
	if (proc_identify(t->pid, &now) || now.start != t->id.start) {
		warn("pid %u (%s) exited; its numbers so far stay in the report", t->pid, t->comm);
		t->state = TARGET_EXITED;
		funcprobe__detach(p->fp, HTTP_FUNC, (pid_t)t->pid);
	} else if (now.dev != t->id.dev || now.ino != t->id.ino) {
		reattach(p, t);
	}
}

/* The row of a (method, status) pair; the last place is kept for
 * (OTHER, 0), where every pair past the others goes. */
static int code_row(struct probe *p, __u32 method, __u32 status)
{
	for (int i = 0; i < p->ncodes; i++)
		if (p->codes[i].method == method && p->codes[i].status == status)
			return i;
	if (p->ncodes == HTTP_MAX_CODES - 1 && (method != HTTP_METHOD_OTHER || status))
		return code_row(p, HTTP_METHOD_OTHER, 0);
	p->codes[p->ncodes] = (struct http_code){ .method = method, .status = status };
	return p->ncodes++;
}

static void add_code(struct probe *p, __u32 method, __u32 status, const struct hist *h)
{
	if (method >= HTTP_METHOD_NR)
		method = HTTP_METHOD_OTHER;
	if (!p->codes && !(p->codes = calloc(HTTP_MAX_CODES, sizeof(*p->codes))))
		return;
	hist__add(&p->codes[code_row(p, method, status)].lat, h);
}

static int account(const struct uprobe_key *k, const struct uprobe_val *v, void *ctx)
{
	struct probe *p = ctx;
	const struct hist *h = &p->scratch;

	if (k->func != HTTP_FUNC)
		return 0;	/* funcprobe's calibration rows */
	for (int i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];

		if (t->pid != k->tgid)
			continue;
		if (!t->comm[0])
			memcpy(t->comm, v->comm, sizeof(t->comm));
		if (k->cgroup)
			t->cgroup = k->cgroup;
		funcprobe__correct(funcprobe__cal(p->fp, true, t->entry_class), &v->lat,
				   &p->scratch);
		hist__add(&p->raw, &v->lat);
		hist__add(&t->lat, h);
		hist__add(&p->total, h);
		hist__add(&p->by_method[HTTP_TAG_METHOD(k->tag) < HTTP_METHOD_NR ?
					HTTP_TAG_METHOD(k->tag) : HTTP_METHOD_OTHER], h);
		add_code(p, HTTP_TAG_METHOD(k->tag), HTTP_TAG_STATUS(k->tag), h);
		break;
	}
	return 0;
}

static int http_collect(struct probe *p, bool total)
{
	for (int i = 0; i < p->n; i++) {
		check_target(p, &p->t[i]);
		memset(&p->t[i].lat, 0, sizeof(p->t[i].lat));
	}
	memset(&p->total, 0, sizeof(p->total));
	memset(&p->raw, 0, sizeof(p->raw));
	memset(p->by_method, 0, sizeof(p->by_method));
	if (p->codes)
		memset(p->codes, 0, HTTP_MAX_CODES * sizeof(*p->codes));
	p->ncodes = 0;
	return funcprobe__collect(p->fp, total, account, p);
}

/* The calibration the totals were corrected with: that of the first
 * target's kind of entry site (each pid's own is in its JSON row). */
static const struct funcprobe_cal *http_cal(const struct probe *p)
{
	return funcprobe__cal(p->fp, true, p->n ? p->t[0].entry_class : PROBESITE_STEPPED);
}

static void http_print(struct probe *p, FILE *out)
{
	fprintf(out, "http: Go net/http handlers, %s entry -> return\n", HTTP_SYMBOL);
	funcprobe__print_cal(out, "  ", http_cal(p), &p->raw);
	report__hist(out, "  ", &p->total);
	fprintf(out, "  by method:\n");
	for (int m = 0; m < HTTP_METHOD_NR; m++) {
		if (!p->by_method[m].count)
			continue;
		fprintf(out, "    %-8s ", method_names[m]);
		report__summary_line(out, &p->by_method[m]);
		fputc('\n', out);
	}
	fprintf(out, "  by process:\n");
	for (int i = 0; i < p->n; i++) {
		const struct target *t = &p->t[i];

		fprintf(out, "    pid %u %s  %s  %s%s\n      ", t->pid, t->comm,
			t->go_version[0] ? t->go_version : "(Go version unknown)",
			t->module[0] ? t->module : "(module unknown)",
			t->state == TARGET_TRACED ? "" : t->state == TARGET_EXITED ?
			"  [exited]" : "  [exec'd another program]");
		report__summary_line(out, &t->lat);
		fputc('\n', out);
	}
}

static struct json_object *summary_json(const struct hist *h)
{
	struct hist_summary s;

	hist__summarize(h, &s);
	return report__summary_json(&s);
}

static struct json_object *targets_json(struct probe *p)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < p->n; i++) {
		const struct target *t = &p->t[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_uint64(t->pid));
		json_object_object_add(o, "comm", json_object_new_string(t->comm));
		report__cgroup_json(o, t->cgroup);
		json_object_object_add(o, "exe", json_object_new_string(t->exe));
		json_object_object_add(o, "go_version", json_object_new_string(t->go_version));
		json_object_object_add(o, "module", json_object_new_string(t->module));
		json_object_object_add(o, "state", json_object_new_string(state_names[t->state]));
		json_object_object_add(o, "latency", summary_json(&t->lat));
		json_object_object_add(o, "probe_cost_subtracted_ns", json_object_new_uint64(
			funcprobe__cal(p->fp, true, t->entry_class)->ok ?
			funcprobe__cal(p->fp, true, t->entry_class)->ns : 0));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void http_json(struct probe *p, struct json_object *root, bool to_print)
{
	struct json_object *o = report__latency_json(&p->total);
	struct json_object *methods = json_object_new_array();

	(void)to_print;	/* small arrays only */
	for (int m = 1; m < HTTP_METHOD_NR; m++) {
		struct json_object *row;

		if (!p->by_method[m].count)
			continue;
		row = json_object_new_object();
		json_object_object_add(row, "method", json_object_new_string(method_names[m]));
		json_object_object_add(row, "latency", summary_json(&p->by_method[m]));
		json_object_array_add(methods, row);
	}
	json_object_object_add(o, "by_method", methods);
	json_object_object_add(o, "by_pid", targets_json(p));
	json_object_object_add(o, "probe_cost", funcprobe__cal_json(http_cal(p)));
	json_object_object_add(o, "raw", report__latency_json(&p->raw));
	json_object_object_add(root, "http", o);
}

static __u64 http_lost(struct probe *p)
{
	return funcprobe__lost(p->fp);
}

/* For serve: handler latency by method and status code ("unknown" where
 * WriteHeader could not be probed), lost events. */
static void http_metrics(struct probe *p, struct promtext *w)
{
	static const char *const causes[] = { "maps_or_recursion" };
	struct prom_label l[] = { { "method", NULL }, { "code", NULL } };
	__u64 lost = funcprobe__lost(p->fp);
	char code[16];

	promtext__family(w, "nettune_http_handler_duration_seconds", PROM_HISTOGRAM, 0,
			 "Go net/http handler latency, ServeHTTP entry to return, by method and "
			 "status code");
	for (int i = 0; i < p->ncodes; i++) {
		const struct http_code *c = &p->codes[i];

		if (!c->lat.count || c->method == HTTP_METHOD_NONE)
			continue;
		l[0].value = method_names[c->method];
		snprintf(code, sizeof(code), "%u", c->status);
		l[1].value = c->status ? code : "unknown";
		promtext__hist(w, l, 2, &c->lat);
	}
	probe__lost_metrics(w, "http", causes, &lost, 1, 0);
}

const struct probe_ops http_probe_ops = {
	.needs_uprobes = true,
	.name = "http",
	.what = "Go net/http handler latency per -p process (uprobes, Go >= 1.17, amd64)",
	.attach = http_attach,
	.collect = http_collect,
	.print = http_print,
	.to_json = http_json,
	.lost = http_lost,
	.metrics = http_metrics,
	.detach = http_detach,
};
