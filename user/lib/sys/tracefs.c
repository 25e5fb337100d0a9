// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

bool tracefs__format_has_field(const char *format, const char *field)
{
	size_t n = strlen(field);

	/* "\tfield:struct sock * rx_sk;\toffset:..." : the name ends the
	 * declaration, after a space or a '*'. */
	for (const char *p = strstr(format, "field:"); p; p = strstr(p + 1, "field:")) {
		const char *end = strchr(p, ';');

		if (end && (size_t)(end - p) > n && !strncmp(end - n, field, n) &&
		    (end[-(long)n - 1] == ' ' || end[-(long)n - 1] == '*'))
			return true;
	}
	return false;
}

bool tracefs__has_field(const char *tp, const char *field)
{
	const char *dir = tracefs__events_dir();
	char path[PATH_MAX], buf[8192];
	size_t len;
	FILE *f;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/%s/format", dir, tp);
	f = fopen(path, "r");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return tracefs__format_has_field(buf, field);
}
