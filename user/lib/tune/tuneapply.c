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

/* The process and descriptor that hold socket S: its recorded owner first,
 * any other holder (forked workers, another process of a group) otherwise. */
static int find_holder(const struct tune_socket *s, int *pid, int *fd)
{
	char comm[16];

	*pid = s->pid;
	if (*pid > 0 && !relisten__find_fd(*pid, s->ino, fd))
		return 0;
	if (sockdiag__owner(s->ino, pid, comm))
		return -ENOENT;
	return relisten__find_fd(*pid, s->ino, fd);
}

/* The backlog listen() will really give: the kernel clamps to somaxconn. */
static long long effective_backlog(const struct tune_apply_opts *o, const struct tune_rec *r,
				   long long *somaxconn)
{
	*somaxconn = 0;
	if (!sysctl__read_ll(o->nsfd, "net.core.somaxconn", 0, somaxconn) &&
	    *somaxconn < r->prop_num)
		return *somaxconn;
	return r->prop_num;
}

/* What rollback needs: the process (with its start time: pids are reused),
 * the descriptor, the socket it must still be, and the old limit. */
static void relisten_entry(const struct tune_apply_opts *o, const struct tune_rec *r, int pid,
			   int fd, __u32 ino, __u32 limit, long long eff, struct journal_entry *e)
{
	e->ns = *o->ns;
	e->pid = pid;
	e->fd = fd;
	e->sock_ino = ino;
	procfd__start_time(pid, &e->pid_start);
	snprintf(e->key, sizeof(e->key), "listen-backlog");
	snprintf(e->address, sizeof(e->address), "%s", r->address);
	snprintf(e->old_value, sizeof(e->old_value), "%u", limit);
	snprintf(e->new_value, sizeof(e->new_value), "%lld", eff);
}

/* The holder, descriptor and limit of socket S now; why not, in WHY. */
static int check_socket(const struct tune_apply_opts *o, const struct tune_socket *s, int *pid,
			int *fd, __u32 *limit, char *why, size_t len)
{
	if (find_holder(s, pid, fd) || tuneapply__listener_limit(o->nsfd, s->ino, limit)) {
		snprintf(why, len, "socket %u is gone, or no process we may inspect holds it",
			 s->ino);
		return -1;
	}
	if (*limit != s->limit) {
		snprintf(why, len, "socket %u: its limit changed since it was observed (now %u)",
			 s->ino, *limit);
		return -1;
	}
	return 0;
}

/* Where a socket of the group is held, and its limit, as the check found. */
struct held_socket {
	int pid, fd;
	__u32 limit;
};

/* listen() again on one socket, journaled first, read back after: 0, 1 if
 * it needs no raise (a group's socket already at least EFF: never lowered),
 * -1 with WHY. relisten__apply() checks that the descriptor is still that
 * socket, listening. */
static int raise_socket(const struct tune_apply_opts *o, const struct tune_rec *r,
			const struct tune_socket *s, const struct held_socket *h, long long eff,
			char *why, size_t len, int *nwritten)
{
	struct journal_entry e = { .kind = JOURNAL_RELISTEN, .state = JOURNAL_PENDING };
	int pid = h->pid, fd = h->fd, err;
	__u32 limit = h->limit;
	size_t idx;

	if ((long long)limit >= eff)
		return 1;
	relisten_entry(o, r, pid, fd, s->ino, limit, eff, &e);
	err = journal__append(o->journal, &e, &idx);
	if (err) {
		snprintf(why, len, "socket %u: cannot journal it first: %s", s->ino, strerror(-err));
		return -1;
	}
	err = relisten__apply(pid, fd, s->ino, (int)eff);
	if (err) {
		forget(o->journal, idx);
		snprintf(why, len, "listen() on pid %d fd %d refused: %s", pid, fd, strerror(-err));
		return -1;
	}
	if (o->after_write)
		o->after_write(o->ctx, ++*nwritten);
	err = tuneapply__listener_limit(o->nsfd, s->ino, &limit);
	if (err || limit != (__u32)eff) {
		snprintf(why, len, "socket %u: limit read back %u instead of %lld", s->ino,
			 err ? 0 : limit, eff);
		return -1;
	}
	journal__mark(o->journal, idx, JOURNAL_APPLIED);
	return 0;
}

/* Why a relisten cannot start: nothing is raised unless every socket of
 * the group can be (a group half raised is a listener with two limits).
 * Where each is held goes to HELD, for the raise. */
static bool cannot_start(const struct tune_apply_opts *o, const struct tune_rec *r, long long eff,
			 long long somaxconn, struct held_socket *held, struct tune_outcome *out)
{
	char why[200];
	__u32 below = 0;

	if (!r->nsocks) {
		say(out, TUNE_SKIPPED, "listener %s is gone, or sock_diag did not show its "
		    "sockets", r->address);
		return true;
	}
	if (r->nsocks_total > r->nsocks) {
		say(out, TUNE_SKIPPED, "an SO_REUSEPORT group of %u sockets: nettune raises at most "
		    "%d; raise the backlog in the application", r->nsocks_total, TUNE_MAX_SOCKETS);
		return true;
	}
	for (__u32 i = 0; i < r->nsocks; i++) {
		struct held_socket *h = &held[i];

		if (check_socket(o, &r->socks[i], &h->pid, &h->fd, &h->limit, why, sizeof(why))) {
			say(out, TUNE_SKIPPED, "%s", why);
			return true;
		}
		below += (long long)h->limit < eff;
	}
	if (!below) {
		say(out, TUNE_SKIPPED, "somaxconn %lld would clamp listen(%lld) to at most the "
		    "current limit %lld: raise somaxconn first", somaxconn, r->prop_num, r->cur_num);
		return true;
	}
	return false;
}

/* Every socket of the listener (an SO_REUSEPORT group: each of them, in
 * whichever process holds it), each journaled, so rollback restores each. */
static int apply_relisten(const struct tune_apply_opts *o, const struct tune_rec *r,
			  struct tune_outcome *out, int *nwritten)
{
	struct held_socket held[TUNE_MAX_SOCKETS];
	long long eff, somaxconn;
	char why[200] = "";
	__u32 done = 0, raised = 0;
	int rc = 0;

	if (!o->relisten) {
		say(out, TUNE_NOT_APPLIED, "a live listener: add --relisten to raise it in place");
		return 0;
	}
	eff = effective_backlog(o, r, &somaxconn);
	if (cannot_start(o, r, eff, somaxconn, held, out))
		return 0;
	for (; done < r->nsocks && rc >= 0; done++) {
		rc = raise_socket(o, r, &r->socks[done], &held[done], eff, why, sizeof(why),
				  nwritten);
		raised += rc == 0;
	}
	if (raised)
		snprintf(out->value, sizeof(out->value), "%lld", eff);
	if (rc < 0) {
		say(out, TUNE_FAILED, "raised %u of %u sockets to %lld, then: %s (rollback restores "
		    "those raised)", raised, r->nsocks, eff, why);
		return -1;
	}
	say(out, TUNE_APPLIED, "listen(%lld) on %u of %u socket%s%s: limit %s -> %lld, same "
	    "process%s", eff, raised, r->nsocks, r->nsocks == 1 ? "" : "s",
	    raised < r->nsocks ? " (the others were at least that)" : "", r->current, eff,
	    r->nsocks == 1 ? "" : "es");
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
