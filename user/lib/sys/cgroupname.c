// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "cgroupname.h"

#define MAX_PARTS	32
#define ID_SHOWN	12	/* container ids are shown as docker ps shows them */

struct part {
	const char *s;
	size_t len;
};

static int split(const char *path, struct part *parts)
{
	int n = 0;

	while (*path && n < MAX_PARTS) {
		size_t len;

		while (*path == '/')
			path++;
		len = strcspn(path, "/");
		if (len)
			parts[n++] = (struct part){ path, len };
		path += len;
	}
	return n;
}

static bool has_prefix(const struct part *p, const char *pre)
{
	size_t n = strlen(pre);

	return p->len >= n && !memcmp(p->s, pre, n);
}

static bool has_suffix(const struct part *p, const char *suf)
{
	size_t n = strlen(suf);

	return p->len >= n && !memcmp(p->s + p->len - n, suf, n);
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return len > 0;
}

/* A container id: 64 lowercase hex digits, bare or as <prefix><id>.scope. */
static bool container_id(const struct part *p, const char *prefix, const char **id)
{
	size_t pre = strlen(prefix), len;

	if (!has_prefix(p, prefix))
		return false;
	len = p->len - pre;
	if (has_suffix(p, ".scope") && *prefix)
		len -= strlen(".scope");
	else if (*prefix)
		return false;
	if (len != 64 || !all_hex(p->s + pre, len))
		return false;
	*id = p->s + pre;
	return true;
}

static const struct runtime {
	const char *prefix;	/* of <prefix><id>.scope */
	const char *name;
} runtimes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "containerd-", "containerd" },
	{ "nerdctl-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
	{ NULL, NULL },
};

/* Part p as a container of any runtime; its runtime's name in *rt. */
static bool any_container(const struct part *p, const char **id, const char **rt)
{
	for (const struct runtime *r = runtimes; r->prefix; r++)
		if (container_id(p, r->prefix, id)) {
			*rt = r->name;
			return true;
		}
	return false;
}

/* A pod's cgroup: "pod<uid>" (cgroupfs driver) or "kubepods[-<qos>]-pod<uid
 * with _ for ->.slice" (systemd driver). The uid, with dashes, in uid. */
static bool pod_uid(const struct part *p, char *uid, size_t len)
{
	const char *s = NULL;
	size_t n = 0;

	if (has_prefix(p, "pod") && !has_suffix(p, ".slice")) {
		s = p->s + 3;
		n = p->len - 3;
	} else if (has_prefix(p, "kubepods") && has_suffix(p, ".slice")) {
		const char *pod = memmem(p->s, p->len, "-pod", 4);

		if (pod) {
			s = pod + 4;
			n = (size_t)(p->s + p->len - strlen(".slice") - s);
		}
	}
	if (!s || n < 32 || n >= len)	/* a UID is 36 characters */
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i] == '_' ? '-' : s[i];

		if (c != '-' && !isxdigit((unsigned char)c))
			return false;
		uid[i] = c;
	}
	uid[n] = '\0';
	return true;
}

static const char *const unit_suffixes[] = {
	".service", ".scope", ".socket", ".mount", ".swap", NULL,
};

char *cgroup__name(const char *path, char *buf, size_t len)
{
	struct part parts[MAX_PARTS];
	const char *id, *rt;
	char uid[64];
	int n = split(path, parts);

	if (!len)
		return buf;
	/* Kubernetes: a pod, then its container below it. */
	for (int i = 0; i < n; i++) {
		if (!has_prefix(&parts[0], "kubepods") || !pod_uid(&parts[i], uid, sizeof(uid)))
			continue;
		if (i + 1 < n && (any_container(&parts[i + 1], &id, &rt) ||
				  container_id(&parts[i + 1], "", &id)))
			snprintf(buf, len, "pod %s container %.*s", uid, ID_SHOWN, id);
		else
			snprintf(buf, len, "pod %s", uid);
		return buf;
	}
	/* A container of a runtime, deepest first. */
	for (int i = n - 1; i >= 0; i--) {
		if (any_container(&parts[i], &id, &rt)) {
			snprintf(buf, len, "%s %.*s", rt, ID_SHOWN, id);
			return buf;
		}
		/* Docker's cgroupfs driver: /docker/<id> */
		if (i > 0 && parts[i - 1].len == 6 && !memcmp(parts[i - 1].s, "docker", 6) &&
		    container_id(&parts[i], "", &id)) {
			snprintf(buf, len, "docker %.*s", ID_SHOWN, id);
			return buf;
		}
	}
	/* The deepest systemd unit; else the deepest slice. */
	for (int i = n - 1; i >= 0; i--)
		for (int s = 0; unit_suffixes[s]; s++)
			if (has_suffix(&parts[i], unit_suffixes[s])) {
				snprintf(buf, len, "%.*s", (int)parts[i].len, parts[i].s);
				return buf;
			}
	if (n && has_suffix(&parts[n - 1], ".slice")) {
		snprintf(buf, len, "%.*s", (int)parts[n - 1].len, parts[n - 1].s);
		return buf;
	}
	snprintf(buf, len, "%s", n ? path : "/");
	return buf;
}
