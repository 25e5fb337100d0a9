/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The measured half of the tuner's evidence, taken from a trace report in
 * the documented JSON schema (docs/json.md), so the tuner depends on the
 * tracer's contract and nothing else. Pure: no I/O.
 */
#ifndef NETTUNE_LIB_TUNEEVIDENCE_H
#define NETTUNE_LIB_TUNEEVIDENCE_H

#include <stddef.h>
#include <json-c/json.h>
#include "tunerules.h"

/* Fills EV's window, counters and listeners from REPORT. Listener rows go
 * to LS (at most MAX; EV->listeners points there, EV->nlisteners counts
 * them); rows of namespaces other than EV->netns (when it is non-zero) are
 * skipped. A single listener (unless EV->pid_scoped) takes the namespace's
 * TcpExtListenOverflows when that is larger. A missing or mistyped key
 * counts as 0; negative or fractional counters are clamped to 0. Sysctls and
 * sock_diag data are not touched. Returns 0, or -EINVAL when REPORT is not
 * an object. */
int tuneevidence__from_report(struct json_object *report, struct tune_evidence *ev,
			      struct tune_listener *ls, size_t max);

#endif
