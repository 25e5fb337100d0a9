// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "log.h"
#include "text.h"
#include "netns.h"
#include "sysctl.h"
#include "tunetarget.h"

/* The fd of the namespace SPEC names, checked to be inode INO (the path
 * could have been replaced between netns__resolve() and here). */
static int open_spec(const char *spec, __u32 ino)
{
	char path[64];
	struct stat st;
	int fd;

	if (text__all_digits(spec)) {
		snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
		spec = path;
	}
	fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (__u32)st.st_ino != ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int open_target_ns(const struct tune_target_opts *o, struct tune_target *t)
{
	char path[64];
	__u32 pid_ino;
	int err;

	if (o->netns) {
		err = netns__resolve(o->netns, &t->ino);
		if (err)
			return err;
		err = o->pid ? netns__of_pid("-p", o->pid, &pid_ino) : 0;
		if (err)
			return err;
		if (o->pid && pid_ino != t->ino) {
			warn("-p %d lives in netns %u, not in --netns %s (netns %u)", o->pid,
			     pid_ino, o->netns, t->ino);
			return -EINVAL;
		}
		t->nsfd = open_spec(o->netns, t->ino);
	} else {
		snprintf(path, sizeof(path), o->pid ? "/proc/%d/ns/net" : "/proc/self/ns/net",
			 o->pid);
		err = o->pid ? netns__of_pid("-p", o->pid, &t->ino) : netns__self(&t->ino);
		if (err)
			return err;
		t->nsfd = open_spec(path, t->ino);
	}
	if (t->nsfd < 0) {
		warn("netns %u: cannot open it: %s", t->ino, strerror(-t->nsfd));
		return t->nsfd;
	}
	return 0;
}

/* The initial namespace is the only one where the global keys exist
 * (register_net_sysctl() puts net_core_table in init_net alone), which
 * tells it apart without trusting pid 1: in a sandbox /proc/1/ns/net may be
 * unreadable even to root. Candidates: pid 1's, then nettune's own. */
static int open_init_ns(struct tune_target *t)
{
	static const char *const cand[] = { "/proc/1/ns/net", "/proc/self/ns/net" };
	struct stat st;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		int fd = open(cand[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (!fstat(fd, &st) &&
		    sysctl__probe(fd, "net.core.netdev_max_backlog") != -ENOENT) {
			t->init_nsfd = fd;
			t->init_ino = (__u32)st.st_ino;
			return 0;
		}
		close(fd);
	}
	debug("the initial network namespace cannot be reached: global settings are left alone");
	return -ENOENT;
}

int tunetarget__open(const struct tune_target_opts *o, struct tune_target *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->nsfd = t->init_nsfd = -1;
	err = open_target_ns(o, t);
	if (err)
		goto fail;
	t->have_init = !open_init_ns(t);
	t->is_init = t->have_init && t->init_ino == t->ino;
	err = nsref__capture(t->nsfd, o->pid, &t->ns);
	if (!err && t->have_init)
		err = nsref__capture(t->init_nsfd, 1, &t->init_ns);
	if (err) {
		warn("netns %u: cannot record it: %s", t->ino, strerror(-err));
		goto fail;
	}
	nsref__describe(&t->ns, t->where, sizeof(t->where));
	return 0;
fail:
	tunetarget__close(t);
	return err;
}

void tunetarget__close(struct tune_target *t)
{
	if (t->nsfd >= 0)
		close(t->nsfd);
	if (t->init_nsfd >= 0)
		close(t->init_nsfd);
	t->nsfd = t->init_nsfd = -1;
}

static const char *here_name(int probe)
{
	return probe == 0 ? "writable" : probe == -EROFS ? "read-only" :
	       probe == -ENOENT ? "absent" : "unknown";
}

int tunetarget__sysctls(const struct tune_target *t, FILE *out, bool json)
{
	struct json_object *arr = json_object_new_array();
	const struct sysctl_info *tab;
	size_t n;

	tab = sysctl__table(&n);
	if (!json)
		fprintf(out, "%-32s %-6s %-10s %-20s %s\n", "KEY", "LIVES", "IN NETNS", "VALUE",
			"KERNEL DEFAULT");
	for (size_t i = 0; i < n; i++) {
		char val[SYSCTL_VALUE_MAX] = "-";
		int here = sysctl__probe(t->nsfd, tab[i].key);
		bool global = tab[i].scope == SYSCTL_GLOBAL;
		struct json_object *o;

		if (!global || t->have_init)
			sysctl__read(global ? t->init_nsfd : t->nsfd, tab[i].key, val, sizeof(val));
		if (!json) {
			fprintf(out, "%-32s %-6s %-10s %-20s %s\n", tab[i].key,
				sysctl__scope_name(tab[i].scope), here_name(here), val,
				tab[i].kernel_default);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "key", json_object_new_string(tab[i].key));
		json_object_object_add(o, "scope",
				       json_object_new_string(sysctl__scope_name(tab[i].scope)));
		json_object_object_add(o, "in_netns", json_object_new_string(here_name(here)));
		json_object_object_add(o, "value", json_object_new_string(val));
		json_object_object_add(o, "kernel_default",
				       json_object_new_string(tab[i].kernel_default));
		json_object_object_add(o, "floor", json_object_new_int64(tab[i].floor));
		json_object_object_add(o, "ceiling", json_object_new_int64(tab[i].ceiling));
		json_object_object_add(o, "note", json_object_new_string(tab[i].note));
		json_object_array_add(arr, o);
	}
	if (json)
		fprintf(out, "{\"type\":\"tune-sysctls\",\"netns\":%u,\"sysctls\":%s}\n", t->ino,
			json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	else
		fprintf(out, "IN NETNS: what %s shows; global keys are read and written\n"
			"in the initial namespace. --json adds the bounds and why.\n", t->where);
	json_object_put(arr);
	return 0;
}
