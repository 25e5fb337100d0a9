/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Limits of the in-kernel filters, shared with user space. */
#ifndef NETTUNE_FILTER_H
#define NETTUNE_FILTER_H

#define FILTER_MAX_PIDS		64
#define FILTER_MAX_PORTS	64
#define FILTER_MAX_CGROUPS	8	/* --cgroup, repeatable */

#endif
