/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The read-only half of the tuner's evidence: the namespace's sysctls (and
 * the global ones from the initial namespace), its TCP socket counts and
 * memory-pressure counter, and sock_diag's view of the listeners the trace
 * report named. Nothing here writes anything.
 */
#ifndef NETTUNE_LIB_TUNECOLLECT_H
#define NETTUNE_LIB_TUNECOLLECT_H

#include "tunerules.h"

/* Fills EV's sysctls, socket counts, CPUs and memory (setting EV->known
 * for each field read) from namespace NSFD (global keys from INIT_NSFD;
 * < 0: they stay unknown). A value that cannot be read stays unknown.
 * Listeners are not read here: they come whole, sockets and all, from the
 * report's listener table (user/lib/stats/listeners.h). Returns 0. */
int tunecollect__namespace(int nsfd, int init_nsfd, struct tune_evidence *ev);
/* "TCP: inuse 5 orphan 0 tw 3 ..." -> inuse + tw. 0 or -EINVAL. Pure. */
int tunecollect__parse_sockstat(const char *text, __u64 *tcp_sockets);

#endif
