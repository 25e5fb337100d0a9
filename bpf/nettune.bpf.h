/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a family's BPF object includes: the shared helpers, one header per
 * concern (socket reads, keys, filters, histograms, the slow-event log),
 * and the switch the bench's floor uses. Each probe object includes this
 * once; the filter globals and maps are per object, and user space fills
 * them through the skeleton.
 */
#ifndef NETTUNE_BPF_H
#define NETTUNE_BPF_H

#include "base.bpf.h"
#include "sock.bpf.h"
#include "keys.bpf.h"
#include "filters.bpf.h"
#include "hist.bpf.h"
#include "slowlog.bpf.h"

/* The bench's floor (the hidden --empty-programs): every program returns
 * as it starts, so a run costs what being attached to these hooks costs
 * any tracer, without nettune's work. Read-only data, so the verifier keeps
 * one of the two paths: with it off, what is left of the test is a load of
 * the flag from the line the filters above are read from. */
const volatile bool targ_empty = false;
#define RETURN_IF_EMPTY()		\
	do {				\
		if (targ_empty)		\
			return 0;	\
	} while (0)

#endif /* NETTUNE_BPF_H */
