/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Undoing what the tuner applied, from its journal alone: walk it newest
 * first and put every original back where it lives. Idempotent (a value
 * already original is left alone) and indifferent to how the tuner ended:
 * an entry still "pending" after a SIGKILL is restored like any other.
 */
#ifndef NETTUNE_LIB_TUNEROLLBACK_H
#define NETTUNE_LIB_TUNEROLLBACK_H

#include <stdbool.h>
#include <stdio.h>
#include "journal.h"

/* Restores every journaled original, newest first, removing each entry once
 * its original is back (or its listener is gone with its process). Entries
 * whose namespace cannot be found stay, unless FORGET_MISSING. Prints one
 * line per entry to OUT. Returns the number of entries left (0: done), or
 * -errno when the journal cannot be updated. */
int tunerollback__run(struct journal *j, bool forget_missing, FILE *out);
/* What the journal says is applied, where, and what each value is now. */
void tunerollback__status(struct journal *j, FILE *out, bool json);

#endif
