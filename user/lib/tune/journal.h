/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The tuner's journal: every change nettune makes, recorded before it is
 * made, so that `nettune rollback` can restore each original exactly even
 * when the tuner was killed between two writes.
 *
 * One JSON file, STATE_DIR/journal.json, rewritten whole on every change:
 * written to journal.json.tmp, fsync'ed, renamed over the old file, and the
 * directory fsync'ed. A crash at any point leaves either the old or the new
 * journal, never a mixture; a leftover .tmp is ignored. A lock file
 * (flock) keeps two tuners or rollbacks from interleaving.
 *
 * An entry is appended in state PENDING before the write it describes and
 * marked APPLIED after; rollback treats both alike (restore the original if
 * the current value differs), which is what makes a kill between the write
 * and the mark harmless.
 */
#ifndef NETTUNE_LIB_JOURNAL_H
#define NETTUNE_LIB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "nsref.h"
#include "sysctl.h"

#define JOURNAL_DEFAULT_DIR	"/var/lib/nettune"
#define JOURNAL_FILE		"journal.json"

enum journal_kind {
	JOURNAL_SYSCTL = 1,	/* key in ns: old_value -> new_value */
	JOURNAL_RELISTEN = 2,	/* listen(fd of pid, backlog): old_value -> new_value */
};

enum journal_state {
	JOURNAL_PENDING = 0,	/* recorded; the write may or may not have happened */
	JOURNAL_APPLIED = 1,	/* written and read back */
};

struct journal_entry {
	__u64 seq;		/* assigned by journal__append, increasing */
	__s64 time;		/* unix seconds, assigned by journal__append */
	enum journal_kind kind;
	enum journal_state state;
	struct nsref ns;	/* where the setting lives */
	char key[128];		/* sysctl key; "listen-backlog" for relisten */
	char old_value[SYSCTL_VALUE_MAX];
	char new_value[SYSCTL_VALUE_MAX];
	/* relisten only: the process and descriptor whose socket was relistened */
	__u64 pid_start;
	__u32 sock_ino;
	int pid;
	int fd;
	char address[64];
};

struct journal;

/* Opens (CREATE: makes DIR, mode 0700, if missing) and locks the journal of
 * state directory DIR and loads its entries. Without CREATE a missing DIR is
 * an empty journal. -EBUSY when another nettune holds the lock, -EBADMSG when
 * journal.json cannot be parsed (it is then left untouched). */
int journal__open(const char *dir, bool create, struct journal **out);
/* Unlocks and frees; accepts NULL. */
void journal__close(struct journal *j);
const char *journal__dir(const struct journal *j);
size_t journal__len(const struct journal *j);
const struct journal_entry *journal__at(const struct journal *j, size_t i);
/* Appends E (seq and time assigned) and makes it durable before returning:
 * only then may the caller perform the change. *IDX is its position. */
int journal__append(struct journal *j, const struct journal_entry *e, size_t *idx);
/* Changes the state of entry IDX, durably. */
int journal__mark(struct journal *j, size_t idx, enum journal_state state);
/* Removes entry IDX (restored by rollback), durably. */
int journal__remove(struct journal *j, size_t idx);

const char *journal__kind_name(enum journal_kind k);
const char *journal__state_name(enum journal_state s);

#endif
