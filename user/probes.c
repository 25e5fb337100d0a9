// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "probe.h"

const struct probe_ops *const probe_table[] = {
	&connect_probe_ops,
	&accept_probe_ops,
	&drops_probe_ops,
	&read_probe_ops,
	&http_probe_ops,
	&uprobe_probe_ops,
};
const int probe_table_len = sizeof(probe_table) / sizeof(probe_table[0]);
