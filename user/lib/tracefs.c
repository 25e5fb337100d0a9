// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "tracefs.h"

static const char *const candidates[] = {
	"/sys/kernel/tracing/events",
	"/sys/kernel/debug/tracing/events",
};

static const char *find_events_dir(void)
{
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], F_OK) == 0)
			return candidates[i];
	return NULL;
}

const char *tracefs__events_dir(void)
{
	const char *dir = find_events_dir();

	if (dir)
		return dir;
	/* Minimal systems boot without tracefs mounted; mounting it is what
	 * perf and bpftool do too, and changes no kernel behaviour. */
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
		debug("mounted tracefs at /sys/kernel/tracing");
	/* Also after a failed mount: someone else may have just mounted it. */
	return find_events_dir();
}

bool tracefs__has(const char *tp)
{
	const char *dir = tracefs__events_dir();
	char path[PATH_MAX];
	struct stat st;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, tp);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
