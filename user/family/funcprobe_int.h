/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* funcprobe's internals, shared by funcprobe.c and funcprobe_cal.c only. */
#ifndef NETTUNE_FUNCPROBE_INT_H
#define NETTUNE_FUNCPROBE_INT_H

#include "funcprobe.h"
#include "probesite.h"

struct snapshot;
struct uprobe_bpf;

struct fp_link {
	__u32 func;
	pid_t pid;
	struct bpf_link *link;
};

struct funcprobe {
	struct uprobe_bpf *skel;
	struct snapshot *snap;
	struct funcprobe_cal cal[2][PROBESITE_NR];	/* [is_go][site class] */
	/* The probes of the calibrations this funcprobe ran, on nettune's own
	 * code: they fire only then, and stay attached until funcprobe__free()
	 * because removing a uprobe waits for an RCU grace period (~80 ms
	 * here), which startup need not pay. */
	struct bpf_link *cal_links[2 * 2 * PROBESITE_NR];
	size_t ncal_links;
	struct fp_link *links;
	size_t nlinks, cap;
};

/* Gives fp the calibration for (is_go, class), measured by the first
 * funcprobe of the process that needs it (funcprobe_cal.c). A failure is
 * said once; nothing is subtracted then. */
void funcprobe_cal__run(struct funcprobe *fp, bool is_go, int class);

#endif
