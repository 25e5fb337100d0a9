// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "procfd.h"
#include "relisten.h"
#include "sockdiag.h"
#include "sysctl.h"
#include "tuneapply.h"

const char *tuneapply__status_name(enum tune_status s)
{
	switch (s) {
	case TUNE_APPLIED: return "applied";
	case TUNE_SKIPPED: return "skipped";
	case TUNE_FAILED: return "failed";
	default: return "not applied";
	}
}

static void say(struct tune_outcome *out, enum tune_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct tune_outcome *out, enum tune_status st, const char *fmt, ...)
{
	va_list ap;

	out->status = st;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

int tuneapply__listener_limit(int nsfd, __u32 sock_ino, __u32 *limit)
{
	struct sockdiag_listener *ls = NULL;
	size_t n = 0;
	int err = sockdiag__listeners(nsfd, &ls, &n);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < n && err; i++) {
		if (ls[i].inode == sock_ino) {
			*limit = ls[i].limit;
			err = 0;
		}
	}
	free(ls);
	return err;
}

/* A failed write leaves the original in place: its entry has nothing to
 * undo. Removing it is tidiness only; rollback would see old == current. */
static void forget(struct journal *j, size_t idx)
{
	if (journal__remove(j, idx))
		debug("journal: entry %zu stays; rollback will find nothing to undo", idx);
}

static int apply_sysctl(const struct tune_apply_opts *o, const struct tune_rec *r,
			struct tune_outcome *out, int *nwritten)
{
	bool global = r->scope == SYSCTL_GLOBAL;
	int nsfd = global ? o->init_nsfd : o->nsfd, err;
	struct journal_entry e = { .kind = JOURNAL_SYSCTL, .state = JOURNAL_PENDING };
	char now[SYSCTL_VALUE_MAX];
	size_t idx;

	if (global && o->init_nsfd < 0) {
		say(out, TUNE_SKIPPED, "global setting: the initial namespace cannot be reached");
		return 0;
	}
	if (global && !o->ns_is_init && !o->allow_global) {
		say(out, TUNE_SKIPPED, "global setting: it lives in the initial namespace, not the "
		    "one tuned; add --allow-global to write it there");
		return 0;
	}
	err = sysctl__read(nsfd, r->setting, now, sizeof(now));
	if (err || strcmp(now, r->current)) {
		say(out, TUNE_SKIPPED, err ? "cannot read it: %s" : "changed since it was observed "
		    "(now %s): run tune again", err ? strerror(-err) : now);
		return 0;
	}
	e.ns = global ? *o->init_ns : *o->ns;
	snprintf(e.key, sizeof(e.key), "%s", r->setting);
	snprintf(e.old_value, sizeof(e.old_value), "%s", now);
	snprintf(e.new_value, sizeof(e.new_value), "%s", r->proposed);
	err = journal__append(o->journal, &e, &idx);
	if (err) {
		say(out, TUNE_FAILED, "not written: cannot journal it first: %s", strerror(-err));
		return -1;
	}
	err = sysctl__write(nsfd, r->setting, r->proposed);
	if (err) {
		forget(o->journal, idx);
		say(out, TUNE_FAILED, "write refused: %s%s", strerror(-err),
		    err == -EROFS ? " (read-only in this namespace: it is global)" : "");
		return -1;
	}
	if (o->after_write)
		o->after_write(o->ctx, ++*nwritten);
	err = sysctl__read(nsfd, r->setting, out->value, sizeof(out->value));
	if (err || strcmp(out->value, r->proposed)) {
		say(out, TUNE_FAILED, "read back %s instead of %s (journaled: rollback restores "
		    "%s)", err ? "nothing" : out->value, r->proposed, now);
		return -1;
	}
	journal__mark(o->journal, idx, JOURNAL_APPLIED);
	say(out, TUNE_APPLIED, "%s -> %s, read back %s", now, r->proposed, out->value);
	return 0;
}

/* The process and descriptor that hold the listener: the recorded pid
 * first, any other holder of the socket (forked workers) otherwise. */
static int find_holder(const struct tune_rec *r, int *pid, int *fd)
{
	char comm[16];

	*pid = r->pid;
	if (*pid > 0 && !relisten__find_fd(*pid, r->sock_ino, fd))
		return 0;
	if (sockdiag__owner(r->sock_ino, pid, comm))
		return -ENOENT;
	return relisten__find_fd(*pid, r->sock_ino, fd);
}

/* The backlog listen() will really give: the kernel clamps to somaxconn,
 * and a clamp below the current limit would shrink the queue. */
static long long effective_backlog(const struct tune_apply_opts *o, const struct tune_rec *r,
				   __u32 limit, struct tune_outcome *out)
{
	long long somaxconn = 0;
	long long eff = r->prop_num;

	if (!sysctl__read_ll(o->nsfd, "net.core.somaxconn", 0, &somaxconn) && somaxconn < eff)
		eff = somaxconn;
	if (eff <= (long long)limit) {
		say(out, TUNE_SKIPPED, "somaxconn %lld would clamp listen(%lld) to at most the "
		    "current limit %u: raise somaxconn first", somaxconn, r->prop_num, limit);
		return -1;
	}
	return eff;
}

/* What rollback needs: the process (with its start time: pids are reused),
 * the descriptor, the socket it must still be, and the old limit. */
static void relisten_entry(const struct tune_apply_opts *o, const struct tune_rec *r, int pid,
			   int fd, __u32 limit, long long eff, struct journal_entry *e)
{
	e->ns = *o->ns;
	e->pid = pid;
	e->fd = fd;
	e->sock_ino = r->sock_ino;
	procfd__start_time(pid, &e->pid_start);
	snprintf(e->key, sizeof(e->key), "listen-backlog");
	snprintf(e->address, sizeof(e->address), "%s", r->address);
	snprintf(e->old_value, sizeof(e->old_value), "%u", limit);
	snprintf(e->new_value, sizeof(e->new_value), "%lld", eff);
}

static int apply_relisten(const struct tune_apply_opts *o, const struct tune_rec *r,
			  struct tune_outcome *out, int *nwritten)
{
	struct journal_entry e = { .kind = JOURNAL_RELISTEN, .state = JOURNAL_PENDING };
	__u32 limit = 0;
	long long eff;
	int pid, fd, err;
	size_t idx;

	if (!o->relisten) {
		say(out, TUNE_NOT_APPLIED, "a live listener: add --relisten to raise it in place");
		return 0;
	}
	if (!r->sock_ino || find_holder(r, &pid, &fd) ||
	    tuneapply__listener_limit(o->nsfd, r->sock_ino, &limit)) {
		say(out, TUNE_SKIPPED, "listener %s is gone, or no process we may inspect holds "
		    "it", r->address);
		return 0;
	}
	if (limit != r->cur_num) {
		say(out, TUNE_SKIPPED, "its limit changed since it was observed (now %u)", limit);
		return 0;
	}
	eff = effective_backlog(o, r, limit, out);
	if (eff < 0)
		return 0;
	relisten_entry(o, r, pid, fd, limit, eff, &e);
	err = journal__append(o->journal, &e, &idx);
	if (err) {
		say(out, TUNE_FAILED, "not done: cannot journal it first: %s", strerror(-err));
		return -1;
	}
	err = relisten__apply(pid, fd, r->sock_ino, (int)eff);
	if (err) {
		forget(o->journal, idx);
		say(out, TUNE_FAILED, "listen() on pid %d fd %d refused: %s", pid, fd,
		    strerror(-err));
		return -1;
	}
	if (o->after_write)
		o->after_write(o->ctx, ++*nwritten);
	err = tuneapply__listener_limit(o->nsfd, r->sock_ino, &limit);
	snprintf(out->value, sizeof(out->value), "%u", limit);
	if (err || limit != (__u32)eff) {
		say(out, TUNE_FAILED, "limit read back %s instead of %lld", err ? "nothing" :
		    out->value, eff);
		return -1;
	}
	journal__mark(o->journal, idx, JOURNAL_APPLIED);
	say(out, TUNE_APPLIED, "listen(fd %d of pid %d, %lld): limit %s -> %u, same process",
	    fd, pid, eff, r->current, limit);
	return 0;
}

int tuneapply__apply(const struct tune_apply_opts *o, const struct tune_rec *recs, size_t n,
		     struct tune_outcome *out)
{
	int failed = 0, nwritten = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (recs[i].kind == TUNE_SYSCTL)
			failed += apply_sysctl(o, &recs[i], &out[i], &nwritten) ? 1 : 0;
		else if (recs[i].kind == TUNE_RELISTEN)
			failed += apply_relisten(o, &recs[i], &out[i], &nwritten) ? 1 : 0;
		else
			say(&out[i], TUNE_NOT_APPLIED, "advice: a change to the application or its "
			    "deployment");
	}
	return failed;
}
