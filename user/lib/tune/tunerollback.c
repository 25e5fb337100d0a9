// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "log.h"
#include "procfd.h"
#include "relisten.h"
#include "sockdiag.h"
#include "sysctl.h"
#include "tuneapply.h"
#include "tunerollback.h"

enum undo { UNDO_DONE, UNDO_KEEP, UNDO_GONE };

static enum undo undo_sysctl(const struct journal_entry *e, int nsfd, FILE *out)
{
	char now[SYSCTL_VALUE_MAX], where[320];
	int err;

	nsref__describe(&e->ns, where, sizeof(where));
	err = sysctl__read(nsfd, e->key, now, sizeof(now));
	if (err) {
		fprintf(out, "  %s in %s: cannot read it: %s\n", e->key, where, strerror(-err));
		return UNDO_KEEP;
	}
	if (!strcmp(now, e->old_value)) {
		fprintf(out, "  %s in %s: already %s (original)\n", e->key, where, now);
		return UNDO_DONE;
	}
	if (strcmp(now, e->new_value))
		fprintf(out, "  %s in %s: now %s, not the %s nettune set: someone changed it "
			"since; restoring the original anyway\n", e->key, where, now, e->new_value);
	err = sysctl__write(nsfd, e->key, e->old_value);
	if (!err)
		err = sysctl__read(nsfd, e->key, now, sizeof(now));
	if (err || strcmp(now, e->old_value)) {
		fprintf(out, "  %s in %s: cannot restore %s: %s\n", e->key, where, e->old_value,
			err ? strerror(-err) : "read back another value");
		return UNDO_KEEP;
	}
	fprintf(out, "  %s in %s: %s -> %s (restored)\n", e->key, where, e->new_value, now);
	return UNDO_DONE;
}

/* The process that holds the journaled socket now: the recorded one if it
 * is still the same process (start time), else any holder of the inode. */
static int holder(const struct journal_entry *e, int *pid, int *fd)
{
	__u64 start = 0;
	char comm[16];

	if (!procfd__start_time(e->pid, &start) && start == e->pid_start &&
	    !relisten__find_fd(e->pid, e->sock_ino, fd)) {
		*pid = e->pid;
		return 0;
	}
	if (sockdiag__owner(e->sock_ino, pid, comm))
		return -ENOENT;
	return relisten__find_fd(*pid, e->sock_ino, fd);
}

static enum undo undo_relisten(const struct journal_entry *e, int nsfd, FILE *out)
{
	long long old = strtoll(e->old_value, NULL, 10);
	__u32 limit;
	int pid, fd, err;

	err = tuneapply__listener_limit(nsfd, e->sock_ino, &limit);
	if (err == -ENOENT) {
		fprintf(out, "  listen backlog of %s (pid %d): the listener is gone with its "
			"process; nothing to restore\n", e->address, e->pid);
		return UNDO_GONE;
	}
	if (err) {
		fprintf(out, "  listen backlog of %s (pid %d): cannot read the listeners: %s; "
			"kept\n", e->address, e->pid, strerror(-err));
		return UNDO_KEEP;
	}
	if (holder(e, &pid, &fd)) {
		fprintf(out, "  listen backlog of %s: no process we may inspect holds socket %u; "
			"kept\n", e->address, e->sock_ino);
		return UNDO_KEEP;
	}
	if ((long long)limit == old) {
		fprintf(out, "  listen backlog of %s (pid %d): already %u (original)\n", e->address,
			pid, limit);
		return UNDO_DONE;
	}
	err = relisten__apply(pid, fd, e->sock_ino, (int)old);
	if (!err)
		err = tuneapply__listener_limit(nsfd, e->sock_ino, &limit);
	if (err || (long long)limit != old) {
		fprintf(out, "  listen backlog of %s (pid %d): cannot restore %lld: %s\n",
			e->address, pid, old, err ? strerror(-err) : "read back another value");
		return UNDO_KEEP;
	}
	fprintf(out, "  listen backlog of %s (pid %d fd %d): %s -> %u (restored)\n", e->address,
		pid, fd, e->new_value, limit);
	return UNDO_DONE;
}

static enum undo undo_one(const struct journal_entry *e, bool forget_missing, FILE *out)
{
	char where[320];
	enum undo u;
	int nsfd = nsref__open(&e->ns);

	if (nsfd < 0 && nsfd != -ENOENT) {
		nsref__describe(&e->ns, where, sizeof(where));
		fprintf(out, "  %s: cannot check %s: %s; kept\n",
			e->kind == JOURNAL_RELISTEN ? e->address : e->key, where, strerror(-nsfd));
		return UNDO_KEEP;
	}
	if (nsfd < 0) {
		nsref__describe(&e->ns, where, sizeof(where));
		if (e->kind == JOURNAL_RELISTEN) {
			fprintf(out, "  listen backlog of %s: its %s is gone; nothing to restore\n",
				e->address, where);
			return UNDO_GONE;
		}
		fprintf(out, "  %s: %s cannot be found (no process or /run/netns name holds "
			"it)%s\n", e->key, where, forget_missing ? "; forgotten" :
			"; kept: rerun when it is reachable, or add --forget-missing");
		return forget_missing ? UNDO_GONE : UNDO_KEEP;
	}
	u = e->kind == JOURNAL_RELISTEN ? undo_relisten(e, nsfd, out) : undo_sysctl(e, nsfd, out);
	close(nsfd);
	return u;
}

int tunerollback__run(struct journal *j, bool forget_missing, FILE *out)
{
	size_t i = journal__len(j);
	int err, left = 0;

	if (!i) {
		fprintf(out, "nothing to roll back (%s has no changes)\n", journal__dir(j));
		return 0;
	}
	fprintf(out, "rolling back %zu change%s, newest first:\n", i, i == 1 ? "" : "s");
	/* Newest first: the same key changed twice goes back through its
	 * intermediate value to the first original; relistens are undone
	 * while the raised somaxconn still allows their old backlog. */
	while (i-- > 0) {
		if (undo_one(journal__at(j, i), forget_missing, out) == UNDO_KEEP) {
			left++;
			continue;
		}
		err = journal__remove(j, i);
		if (err)
			return err;
	}
	return left;
}

static void status_now(const struct journal_entry *e, char *now, size_t len)
{
	int nsfd = nsref__open(&e->ns);
	__u32 limit;

	snprintf(now, len, "unreachable");
	if (nsfd < 0)
		return;
	if (e->kind == JOURNAL_SYSCTL && sysctl__read(nsfd, e->key, now, len))
		snprintf(now, len, "unreadable");
	if (e->kind == JOURNAL_RELISTEN) {
		if (tuneapply__listener_limit(nsfd, e->sock_ino, &limit))
			snprintf(now, len, "gone");
		else
			snprintf(now, len, "%u", limit);
	}
	close(nsfd);
}

static struct json_object *status_json(const struct journal_entry *e, const char *now,
				       const char *where)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	json_object_object_add(o, "kind", json_object_new_string(journal__kind_name(e->kind)));
	json_object_object_add(o, "state", json_object_new_string(journal__state_name(e->state)));
	json_object_object_add(o, "netns", json_object_new_uint64(e->ns.ino));
	json_object_object_add(o, "where", json_object_new_string(where));
	json_object_object_add(o, "setting", json_object_new_string(
		e->kind == JOURNAL_RELISTEN ? e->address : e->key));
	if (e->kind == JOURNAL_RELISTEN)
		json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "original", json_object_new_string(e->old_value));
	json_object_object_add(o, "applied", json_object_new_string(e->new_value));
	json_object_object_add(o, "now", json_object_new_string(now));
	return o;
}

void tunerollback__status(struct journal *j, FILE *out, bool json)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char now[SYSCTL_VALUE_MAX], where[320];

	if (!json)
		fprintf(out, "%zu change%s journaled in %s%s\n", journal__len(j),
			journal__len(j) == 1 ? "" : "s", journal__dir(j),
			journal__len(j) ? " (nettune rollback undoes them):" : "");
	for (size_t i = 0; i < journal__len(j); i++) {
		const struct journal_entry *e = journal__at(j, i);

		status_now(e, now, sizeof(now));
		nsref__describe(&e->ns, where, sizeof(where));
		if (json) {
			json_object_array_add(arr, status_json(e, now, where));
			continue;
		}
		if (e->kind == JOURNAL_RELISTEN)
			fprintf(out, "  [%s] listen backlog of %s (pid %d fd %d) in %s: original "
				"%s, applied %s, now %s\n", journal__state_name(e->state),
				e->address, e->pid, e->fd, where, e->old_value, e->new_value, now);
		else
			fprintf(out, "  [%s] %s in %s: original %s, applied %s, now %s\n",
				journal__state_name(e->state), e->key, where, e->old_value,
				e->new_value, now);
	}
	json_object_object_add(root, "type", json_object_new_string("tune-status"));
	json_object_object_add(root, "state_dir", json_object_new_string(journal__dir(j)));
	json_object_object_add(root, "changes", arr);
	if (json)
		fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}
