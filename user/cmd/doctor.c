// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `nettune doctor`: what this machine lets nettune do, found by trying. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "doctor.h"
#include "doctor.skel.h"
#include "dropreason.h"
#include "probe.h"
#include "shared_hooks.h"
#include "tracefs.h"
#include "cgroup.h"
#include "log.h"
#include "optable.h"
#include "opts.h"

/* kprobe and fentry need a kernel function present in BTF on every arch,
 * not inlined, and easy to trigger: nanosleep(2) reaches do_nanosleep. */
#define KFUNC_TARGET "do_nanosleep"

static const char *const attach_names[DOCTOR_NR] = {
	"tracepoint", "tp_btf", "raw_tracepoint", "uprobe", "kprobe", "fentry",
};

struct attach_result {
	bool works;
	char why[96];	/* when it does not */
};

struct doctor {
	struct utsname uts;
	bool btf, root, caps, tracefs;
	struct attach_result attach[DOCTOR_NR];
	/* probe_table[i]'s method here, or NULL: asked once, as some ask
	 * the kernel's BTF (tens of ms) */
	const char **method;
	/* the kernel names ACK-time listen overflows (6.18 does; 6.1 and 6.12
	 * do not); where it does not, drops cannot tell them from SYN-time
	 * ones (docs/kernels.md) */
	bool listen_overflow_reason;
	/* QUEUE_PURGE (6.12 has it, 6.1 not): without it, queues freed as a
	 * socket closes are NOT_SPECIFIED drops, not told apart */
	bool queue_purge_reason;
	/* where cgroup v2 is mounted, "" if it is not: rows then name no
	 * cgroup and --cgroup is refused (docs/containers.md) */
	char cgroup2[256];
	bool json;
};

static struct bpf_program *program_of(struct doctor_bpf *s, int kind)
{
	struct bpf_program *progs[DOCTOR_NR] = {
		s->progs.doctor_tracepoint, s->progs.doctor_tp_btf, s->progs.doctor_raw_tp,
		s->progs.doctor_uprobe, s->progs.doctor_kprobe, s->progs.doctor_fentry,
	};
	return progs[kind];
}

static struct bpf_link *attach_one(struct bpf_program *prog, int kind)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts, .func_name = "getpid");

	switch (kind) {
	case DOCTOR_UPROBE:
		return bpf_program__attach_uprobe_opts(prog, getpid(), "libc.so.6", 0, &uopts);
	case DOCTOR_KPROBE:
		return bpf_program__attach_kprobe(prog, false, KFUNC_TARGET);
	default:
		return bpf_program__attach(prog);
	}
}

static int quiet_print(enum libbpf_print_level l, const char *f, va_list a)
{
	(void)l; (void)f; (void)a;
	return 0;
}

/* Loads, attaches and fires one program type on its own. */
static void try_attach(int kind, struct attach_result *r)
{
	struct doctor_bpf *s = doctor_bpf__open();
	struct bpf_link *link = NULL;
	int err;

	if (!s) {
		snprintf(r->why, sizeof(r->why), "open: %s", strerror(errno));
		return;
	}
	s->rodata->targ_tgid = (__u32)getpid();
	for (int k = 0; k < DOCTOR_NR; k++)
		bpf_program__set_autoload(program_of(s, k), k == kind);
	if (kind == DOCTOR_FENTRY)
		bpf_program__set_attach_target(program_of(s, kind), 0, KFUNC_TARGET);
	err = doctor_bpf__load(s);
	if (err) {
		snprintf(r->why, sizeof(r->why), "load: %s", strerror(-err));
		goto out;
	}
	link = attach_one(program_of(s, kind), kind);
	if (!link) {
		snprintf(r->why, sizeof(r->why), "attach: %s", strerror(errno));
		goto out;
	}
	syscall(SYS_getpid);
	getpid();
	nanosleep(&(struct timespec){ .tv_nsec = 1000 }, NULL);
	r->works = s->bss->hits[kind] > 0;
	if (!r->works)
		snprintf(r->why, sizeof(r->why), "attached but never ran");
out:
	bpf_link__destroy(link);
	doctor_bpf__destroy(s);
}

static bool has_caps(void)
{
	/* CAP_SYS_ADMIN (21), or CAP_BPF (39) with CAP_PERFMON (38). */
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 21 & 1) || ((eff >> 39 & 1) && (eff >> 38 & 1));
}

static void probe_machine(struct doctor *d, bool verbose)
{
	struct dropreason *names;

	uname(&d->uts);
	d->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	d->root = geteuid() == 0;
	d->caps = has_caps();
	d->tracefs = tracefs__events_dir() != NULL;
	if (cgroup__mount(d->cgroup2, sizeof(d->cgroup2)))
		d->cgroup2[0] = '\0';
	if (!verbose)
		libbpf_set_print(quiet_print);	/* failures are the point here */
	for (int k = 0; k < DOCTOR_NR; k++)
		try_attach(k, &d->attach[k]);
	libbpf_set_print(log__libbpf_print);
	names = dropreason__load();
	d->listen_overflow_reason = dropreason__has(names, "TCP_LISTEN_OVERFLOW");
	d->queue_purge_reason = dropreason__has(names, "QUEUE_PURGE");
	dropreason__free(names);
	/* How each family with a preferred and a fallback method measures. */
	d->method = calloc(probe_table_len, sizeof(*d->method));
	for (int i = 0; d->method && i < probe_table_len; i++) {
		/* Where tp_btf cannot attach, trace falls back as if asked to. */
		const struct trace_opts opts = {
			.force_fallback = !d->attach[DOCTOR_TP_BTF].works,
		};

		if (probe_table[i]->method)
			d->method[i] = probe_table[i]->method(&opts);
	}
}

static const char *family_method(const struct doctor *d, int i)
{
	return d->method ? d->method[i] : NULL;
}

static bool family_ok(const struct doctor *d, int i)
{
	const struct probe_ops *ops = probe_table[i];

	if (!d->attach[DOCTOR_TRACEPOINT].works)
		return false;
	if (ops->needs_uprobes && !d->attach[DOCTOR_UPROBE].works)
		return false;
	if (ops->needs_tp_btf && !d->attach[DOCTOR_TP_BTF].works)
		return false;
	if (ops->method && !family_method(d, i))
		return false;
	for (const char *const *tp = ops->tracepoints; tp && *tp; tp++)
		if (!tracefs__has(*tp))
			return false;
	return true;
}

/* Why nettune cannot run at all here, or NULL. */
static const char *fatal_reason(const struct doctor *d)
{
	if (!d->caps)
		return "no BPF privileges: run as root (or with CAP_BPF and CAP_PERFMON)";
	if (!d->btf)
		return "the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load";
	if (!d->tracefs)
		return "tracefs is not mounted and cannot be mounted at /sys/kernel/tracing";
	if (!d->attach[DOCTOR_TRACEPOINT].works)
		return "tracepoint programs cannot attach";
	return NULL;
}

#define LIMIT_QUEUE_PURGE "no QUEUE_PURGE drop reason: queues freed as a socket closes " \
	"are counted among NOT_SPECIFIED drops"
#define LIMIT_OVERFLOW_SPLIT "no TCP_LISTEN_OVERFLOW drop reason: listen overflows are " \
	"counted per listener, but ACK-time ones may show as syn_time"

static void print_text(const struct doctor *d)
{
	printf("kernel        %s %s (%s)\n", d->uts.sysname, d->uts.release, d->uts.machine);
	printf("BTF           %s\n", d->btf ? "yes (/sys/kernel/btf/vmlinux)" : "NO");
	printf("privileges    %s\n", d->caps ? (d->root ? "root" : "CAP_BPF + CAP_PERFMON") : "NONE");
	printf("tracefs       %s\n", d->tracefs ? tracefs__events_dir() : "NOT MOUNTED");
	if (d->cgroup2[0])
		printf("cgroup v2     %s\n", d->cgroup2);
	else
		printf("cgroup v2     NOT MOUNTED: rows name no cgroup, --cgroup is refused "
		       "(docs/containers.md)\n");
	printf("\nattach types (each loaded, attached and fired here):\n");
	for (int k = 0; k < DOCTOR_NR; k++)
		printf("  %-16s %s%s%s\n", attach_names[k], d->attach[k].works ? "yes" : "no",
		       d->attach[k].works ? "" : "   ", d->attach[k].why);
	printf("\ntracepoints nettune uses:\n");
	for (int i = 0; i < probe_table_len; i++)
		for (const char *const *tp = probe_table[i]->tracepoints; tp && *tp; tp++)
			printf("  %-34s %-4s (%s)\n", *tp, tracefs__has(*tp) ? "yes" : "NO",
			       probe_table[i]->name);
	printf("\nhooks several families share (one program serves them all):\n");
	for (int h = 0; h < shared_hook_table_len; h++) {
		const struct shared_hook_info *hk = &shared_hook_table[h];

		printf("  %-34s %s:", hk->tracepoint, hk->program);
		for (const char *const *f = hk->families; *f; f++)
			printf("%s %s", f == hk->families ? "" : ",", *f);
		printf("\n");
	}
	printf("\nwhat nettune measures on this machine:\n");
	for (int i = 0; i < probe_table_len; i++) {
		const char *method = family_method(d, i);

		printf("  %-12s %-4s %s\n", probe_table[i]->name, family_ok(d, i) ? "yes" : "NO",
		       probe_table[i]->what);
		if (method)
			printf("  %-12s      method: %s\n", "", method);
	}
	if (!d->listen_overflow_reason || !d->queue_purge_reason)
		printf("\nlimits on this kernel (docs/kernels.md):\n");
	if (!d->listen_overflow_reason)
		printf("  %-12s %s\n", "drops", LIMIT_OVERFLOW_SPLIT);
	if (!d->queue_purge_reason)
		printf("  %-12s %s\n", "drops", LIMIT_QUEUE_PURGE);
	if (!d->attach[DOCTOR_KPROBE].works || !d->attach[DOCTOR_FENTRY].works)
		printf("\nkprobes/fentry are unavailable: nettune needs neither (tracepoints only).\n");
}

static void print_json(const struct doctor *d)
{
	struct json_object *root = json_object_new_object(), *a, *tps, *fam;
	struct json_object *methods = json_object_new_object(), *limits, *shared;

	json_object_object_add(root, "kernel", json_object_new_string(d->uts.release));
	json_object_object_add(root, "btf", json_object_new_boolean(d->btf));
	json_object_object_add(root, "privileged", json_object_new_boolean(d->caps));
	json_object_object_add(root, "tracefs", json_object_new_boolean(d->tracefs));
	json_object_object_add(root, "cgroup2", d->cgroup2[0] ? json_object_new_string(d->cgroup2) :
								 NULL);
	a = json_object_new_object();
	for (int k = 0; k < DOCTOR_NR; k++)
		json_object_object_add(a, attach_names[k], json_object_new_boolean(d->attach[k].works));
	json_object_object_add(root, "attach", a);
	tps = json_object_new_object();
	fam = json_object_new_object();
	for (int i = 0; i < probe_table_len; i++) {
		for (const char *const *tp = probe_table[i]->tracepoints; tp && *tp; tp++)
			json_object_object_add(tps, *tp, json_object_new_boolean(tracefs__has(*tp)));
		json_object_object_add(fam, probe_table[i]->name,
				       json_object_new_boolean(family_ok(d, i)));
		if (family_method(d, i))
			json_object_object_add(methods, probe_table[i]->name,
					       json_object_new_string(family_method(d, i)));
	}
	json_object_object_add(root, "tracepoints", tps);
	json_object_object_add(root, "measures", fam);
	json_object_object_add(root, "methods", methods);
	shared = json_object_new_object();
	for (int h = 0; h < shared_hook_table_len; h++) {
		const struct shared_hook_info *hk = &shared_hook_table[h];
		struct json_object *o = json_object_new_object(), *f = json_object_new_array();

		json_object_object_add(o, "program", json_object_new_string(hk->program));
		for (const char *const *n = hk->families; *n; n++)
			json_object_array_add(f, json_object_new_string(*n));
		json_object_object_add(o, "families", f);
		json_object_object_add(shared, hk->tracepoint, o);
	}
	json_object_object_add(root, "shared_hooks", shared);
	limits = json_object_new_object();
	/* One string per family: its limits joined, each naming its reason. */
	if (!d->listen_overflow_reason || !d->queue_purge_reason) {
		char both[sizeof(LIMIT_OVERFLOW_SPLIT) + sizeof(LIMIT_QUEUE_PURGE) + 2];

		snprintf(both, sizeof(both), "%s%s%s",
			 d->listen_overflow_reason ? "" : LIMIT_OVERFLOW_SPLIT,
			 !d->listen_overflow_reason && !d->queue_purge_reason ? "; " : "",
			 d->queue_purge_reason ? "" : LIMIT_QUEUE_PURGE);
		json_object_object_add(limits, "drops", json_object_new_string(both));
	}
	json_object_object_add(root, "limits", limits);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
}

struct doctor_opts {
	bool json, verbose;
};

static int set_json(void *v, const char *a)
{
	(void)a;
	((struct doctor_opts *)v)->json = true;
	return 0;
}

static int set_verbose(void *v, const char *a)
{
	(void)a;
	((struct doctor_opts *)v)->verbose = true;
	log__init("nettune", LOG_DEBUG);
	return 0;
}

static const struct optable_opt doctor_opts[] = {
	{ "json", 0, NULL, "the same report as one JSON object", set_json, NULL },
	{ "verbose", 'v', NULL, "libbpf and debug messages on stderr", set_verbose, NULL },
	{ 0 },
};

static const struct optable_opt *const doctor_groups[] = { doctor_opts, NULL };
static const struct optable doctor_table = { .cmd = "doctor", .groups = doctor_groups };

static void usage(FILE *out, struct doctor_opts *o)
{
	fprintf(out,
"Usage: nettune doctor [--json] [-v]\n"
"Report what this machine lets nettune do: kernel, BTF, privileges, which BPF\n"
"attach types work (each is loaded, attached and fired), which tracepoints\n"
"exist, and so which probe families will measure. Exits 1 when nettune cannot\n"
"run here at all, with the reason.\n\n");
	optable__print(&doctor_table, o, out);
	fprintf(out, "\n"
"EXAMPLES\n"
"  nettune doctor\n"
"  nettune doctor --json | jq .attach\n");
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_opts o = {};
	struct doctor d = {};
	bool verbose;
	const char *why;
	int err = optable__parse(&doctor_table, argc, argv, &o);

	if (err == OPTABLE_HELP) {
		usage(stdout, &o);
		return 0;
	}
	if (err)
		return EXIT_USAGE;
	d.json = o.json;
	verbose = o.verbose;
	probe_machine(&d, verbose);
	if (d.json)
		print_json(&d);
	else
		print_text(&d);
	free(d.method);
	why = fatal_reason(&d);
	if (why) {
		warn("cannot trace on this machine: %s", why);
		return EXIT_RUNTIME;
	}
	return 0;
}
