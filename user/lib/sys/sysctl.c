// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "netns.h"
#include "sysctl.h"

/*
 * Where each key lives was checked on kernel 6.18 by listing
 * /proc/sys/net/{core,ipv4} from a fresh namespace (`unshare -n ls -l`):
 * somaxconn and the tcp_* / ip_local_* keys are present and writable;
 * netdev_max_backlog and tcp_mem are absent; rmem_max, wmem_max,
 * rmem_default and wmem_default are present but mode 0444 (since about 6.15
 * they are read-only mirrors of the initial namespace's values). `nettune tune
 * --sysctls` repeats that check on any kernel, and test_tune.sh asserts it.
 */
static const struct sysctl_info table[] = {
	{ "net.core.somaxconn", SYSCTL_NETNS, "4096 (128 before 5.4)", 4096, 65535, 0,
	  "listen() clamps its backlog to it when called; existing listeners keep theirs" },
	{ "net.ipv4.tcp_max_syn_backlog", SYSCTL_NETNS,
	  "from memory, >= 128", 128, 65535, 0,
	  "max(128, established-hash buckets / 128); bounds SYNs only when tcp_syncookies=0" },
	{ "net.ipv4.tcp_syncookies", SYSCTL_NETNS, "1", 1, 1, 0,
	  "never proposed and never written as 0 by nettune" },
	{ "net.core.netdev_max_backlog", SYSCTL_GLOBAL, "1000", 1000, 16384, 0,
	  "per-CPU input queue; each queued packet may hold up to 64 KiB on every CPU" },
	{ "net.core.rmem_max", SYSCTL_GLOBAL, "212992; 4194304 lately", 212992,
	  67108864, 0, "caps SO_RCVBUF only; read-only in other namespaces since about 6.15" },
	{ "net.core.wmem_max", SYSCTL_GLOBAL, "212992; 4194304 lately", 212992,
	  67108864, 0, "caps SO_SNDBUF only; read-only in other namespaces since about 6.15" },
	{ "net.ipv4.tcp_rmem", SYSCTL_NETNS, "4096 131072 6-32 MiB",
	  6291456, 67108864, 2,
	  "the third field caps receive autotuning (6 MiB, 32 MiB since 6.16)" },
	{ "net.ipv4.tcp_wmem", SYSCTL_NETNS, "4096 16384 4194304", 4194304, 67108864, 2,
	  "the third field caps send autotuning; no rule writes it (no evidence source)" },
	{ "net.ipv4.tcp_mem", SYSCTL_GLOBAL, "from memory (pages)",
	  1, LLONG_MAX, 2, "3/64, 1/16, 3/32 of free buffer pages; the rule's ceiling: RAM / 4" },
	{ "net.ipv4.ip_local_port_range", SYSCTL_NETNS, "32768 60999", 16384, 65535, 0,
	  "ephemeral ports; the tuner never starts it below 16384 (service ports)" },
	{ "net.ipv4.tcp_tw_reuse", SYSCTL_NETNS, "2 (loopback only)", 0, 2, 0,
	  "1 lets connect() reuse TIME-WAIT ports when timestamps prove it safe" },
	{ "net.ipv4.ip_local_reserved_ports", SYSCTL_NETNS, "(empty)", 0, 0, 0,
	  "keeps listening ports out of the ephemeral range; advice only" },
};

const struct sysctl_info *sysctl__table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct sysctl_info *sysctl__info(const char *key)
{
	for (size_t i = 0; key && i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

const char *sysctl__scope_name(enum sysctl_scope s)
{
	return s == SYSCTL_GLOBAL ? "global" : "netns";
}

int sysctl__path(const char *key, char *buf, size_t len)
{
	size_t n;

	if (!key || strncmp(key, "net.", 4) || strstr(key, "..") || key[strlen(key) - 1] == '.')
		return -EINVAL;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return -EINVAL;
	n = (size_t)snprintf(buf, len, "/proc/sys/%s", key);
	if (n >= len)
		return -EINVAL;
	for (char *p = buf + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

void sysctl__normalize(char *val)
{
	char *w = val;
	bool space = false;

	for (const char *r = val; *r; r++) {
		if (isspace((unsigned char)*r)) {
			space = w != val;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

struct sysctl_call {
	const char *key;
	char *val;		/* read: out; write: in */
	size_t len;
	bool write;
	bool probe;
};

static int probe_path(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	/* The kernel checks the mode bits even for root (sysctl_perm). */
	return (st.st_mode & S_IWUSR) ? 0 : -EROFS;
}

static int read_path(const char *path, char *val, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, len - 1);
	if (n < 0)
		err = -errno;
	else if ((size_t)n == len - 1)
		err = -EOVERFLOW;	/* a truncated value must not be journaled */
	else
		val[n] = '\0';
	close(fd);
	if (!err)
		sysctl__normalize(val);
	return err;
}

static int write_path(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -EACCES && probe_path(path) == -EROFS)
			err = -EROFS;
		return err;
	}
	/* One write() at offset 0: sysctl handlers parse a single buffer. */
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int sysctl_in_ns(void *ctx)
{
	struct sysctl_call *c = ctx;
	char path[PATH_MAX];
	int err = sysctl__path(c->key, path, sizeof(path));

	if (err)
		return err;
	if (c->probe)
		return probe_path(path);
	return c->write ? write_path(path, c->val) : read_path(path, c->val, c->len);
}

int sysctl__read(int nsfd, const char *key, char *val, size_t len)
{
	struct sysctl_call c = { .key = key, .val = val, .len = len };

	if (!len)
		return -EINVAL;
	val[0] = '\0';
	return netns__run_in(nsfd, sysctl_in_ns, &c);
}

int sysctl__read_ll(int nsfd, const char *key, int field, long long *out)
{
	char val[SYSCTL_VALUE_MAX];
	int err = sysctl__read(nsfd, key, val, sizeof(val));

	return err ? err : sysctl__field(val, field, out);
}

/* The two values nettune refuses to write whatever a caller asks: tw_recycle
 * was removed in 4.12 and broke clients behind NAT; syncookies off turns a
 * SYN flood into an outage (docs/kernels.md "Sysctls"). */
static bool forbidden(const char *key, const char *val)
{
	long long v;

	if (strstr(key, "tw_recycle"))
		return true;
	return !strcmp(key, "net.ipv4.tcp_syncookies") &&
	       (sysctl__field(val, 0, &v) || v == 0);
}

int sysctl__write(int nsfd, const char *key, const char *val)
{
	struct sysctl_call c = { .key = key, .val = (char *)val, .write = true };

	if (!val || forbidden(key, val)) {
		warn("%s: refusing to write '%s' (nettune never does)", key, val ? val : "");
		return -EPERM;
	}
	return netns__run_in(nsfd, sysctl_in_ns, &c);
}

int sysctl__probe(int nsfd, const char *key)
{
	struct sysctl_call c = { .key = key, .probe = true };

	return netns__run_in(nsfd, sysctl_in_ns, &c);
}

int sysctl__field(const char *val, int field, long long *out)
{
	const char *p = val;
	char *end;

	if (!val || field < 0)
		return -EINVAL;
	for (int i = 0; i <= field; i++) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return -EINVAL;
		errno = 0;
		*out = strtoll(p, &end, 10);
		if (end == p || errno || (*end && !isspace((unsigned char)*end)))
			return -EINVAL;
		p = end;
	}
	return 0;
}

int sysctl__set_field(const char *val, int field, long long v, char *out, size_t len)
{
	char copy[SYSCTL_VALUE_MAX], *save = NULL, *tok;
	size_t used = 0;
	int i = 0, found = 0;

	if (!val || strlen(val) >= sizeof(copy) || !len)
		return -EINVAL;
	strcpy(copy, val);
	out[0] = '\0';
	for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), i++) {
		int n = i == field ? snprintf(out + used, len - used, "%s%lld", i ? " " : "", v)
				   : snprintf(out + used, len - used, "%s%s", i ? " " : "", tok);

		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
		found |= i == field;
	}
	return found ? 0 : -EINVAL;
}
