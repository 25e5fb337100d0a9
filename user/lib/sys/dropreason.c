// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include "dropreason.h"

#define PREFIX "SKB_DROP_REASON_"
/* The enum also holds masks (SKB_DROP_REASON_SUBSYS_MASK = 0xffff0000):
 * only values below this are reasons a drop can carry. */
#define MAX_REASON_VALUE 4096

struct dropreason {
	char **names;	/* indexed by value */
	__u32 n;
};

void dropreason__free(struct dropreason *d)
{
	if (!d)
		return;
	for (__u32 i = 0; d->names && i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d);
}

static int fill(struct dropreason *d, const struct btf *btf, const struct btf_type *t)
{
	const struct btf_enum *e = btf_enum(t);
	__u16 vlen = btf_vlen(t);

	for (__u16 i = 0; i < vlen; i++)
		if ((__u32)e[i].val < MAX_REASON_VALUE && (__u32)e[i].val + 1 > d->n)
			d->n = (__u32)e[i].val + 1;
	d->names = calloc(d->n, sizeof(char *));
	if (!d->names)
		return -ENOMEM;
	for (__u16 i = 0; i < vlen; i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if (!name || (__u32)e[i].val >= d->n)
			continue;
		if (!strncmp(name, PREFIX, strlen(PREFIX)))
			name += strlen(PREFIX);
		d->names[e[i].val] = strdup(name);
	}
	return 0;
}

struct dropreason *dropreason__load(void)
{
	struct dropreason *d = calloc(1, sizeof(*d));
	struct btf *btf = btf__load_vmlinux_btf();
	int id, err = -ENOENT;

	if (!d || !btf) {
		err = -ENOMEM;
		goto fail;
	}
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id > 0)
		err = fill(d, btf, btf__type_by_id(btf, id));
	if (err)
		goto fail;
	btf__free(btf);
	return d;
fail:
	btf__free(btf);
	dropreason__free(d);
	errno = -err;
	return NULL;
}

const char *dropreason__name(const struct dropreason *d, __u32 value)
{
	return d && value < d->n ? d->names[value] : NULL;
}

bool dropreason__has(const struct dropreason *d, const char *name)
{
	for (__u32 i = 0; d && i < d->n; i++)
		if (d->names[i] && !strcmp(d->names[i], name))
			return true;
	return false;
}

bool dropreason__is_drop(const char *name)
{
	static const char *const freed[] = { "QUEUE_PURGE" };

	for (size_t i = 0; name && i < sizeof(freed) / sizeof(freed[0]); i++)
		if (!strcmp(name, freed[i]))
			return false;
	return true;
}
