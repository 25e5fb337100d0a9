// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The probe families, in report order: the one place a family is
 * registered (docs/probes.md, "Adding a family"). Each one's probe_ops
 * lives in its own user/family/<name>.c. */
#include "probe.h"

extern const struct probe_ops connect_probe_ops, accept_probe_ops, drops_probe_ops,
	read_probe_ops, http_probe_ops, uprobe_probe_ops;

const struct probe_ops *const probe_table[] = {
	&connect_probe_ops,
	&accept_probe_ops,
	&drops_probe_ops,
	&read_probe_ops,
	&http_probe_ops,
	&uprobe_probe_ops,
};
const int probe_table_len = sizeof(probe_table) / sizeof(probe_table[0]);
