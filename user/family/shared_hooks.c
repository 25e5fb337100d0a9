// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* One BPF program per hook point, shared by the families that need the
 * hook (shared_hooks.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "shared_hooks.h"
#include "sock_state.skel.h"
#include "probe_util.h"
#include "log.h"

static const char *const sock_state_families[] = { "connect", "accept", NULL };

const struct shared_hook_info shared_hook_table[] = {
	{ "sock/inet_sock_set_state", "sock_state", sock_state_families },
};
const int shared_hook_table_len = sizeof(shared_hook_table) / sizeof(shared_hook_table[0]);

struct shared_hooks {
	struct sock_state_bpf *sock_state;
};

/* The attached families a hook serves: their probes and ops, in the
 * hook's order of families. */
struct served {
	const struct probe_ops *ops[TRACE_MAX_PROBES];
	struct probe *probes[TRACE_MAX_PROBES];
	int n;
};

static void find_served(const struct shared_hook_info *hook, const struct probe_ops *const *ops,
			struct probe *const *probes, int n, struct served *s)
{
	s->n = 0;
	for (const char *const *f = hook->families; *f; f++)
		for (int i = 0; i < n; i++)
			if (!strcmp(ops[i]->name, *f) && ops[i]->object) {
				s->ops[s->n] = ops[i];
				s->probes[s->n++] = probes[i];
			}
}

static bool serves(const struct served *s, const char *family)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->ops[i]->name, family))
			return true;
	return false;
}

/*
 * Every map of the shared object is a served family's map of the same name
 * (the first family in the hook's order that has one: the filter sets and
 * the slow-event log are alike in all of them, as user space fills them
 * the same). A map no served family has belongs to a family that is off:
 * its half of the program is pruned by the verifier, so the map shrinks to
 * one entry rather than take its full size in kernel memory.
 */
static int borrow_maps(struct bpf_object *shared, const struct served *s)
{
	struct bpf_map *map;
	int err = 0;

	bpf_object__for_each_map(map, shared) {
		const char *name = bpf_map__name(map);
		int fd = -1;

		if (bpf_map__is_internal(map))
			continue;	/* .rodata: this object's own switches */
		for (int i = 0; i < s->n && fd < 0; i++) {
			const struct bpf_map *own =
				bpf_object__find_map_by_name(s->ops[i]->object(s->probes[i]), name);

			fd = own ? bpf_map__fd(own) : -1;
		}
		if (fd >= 0)
			err = bpf_map__reuse_fd(map, fd);
		else if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF)
			err = bpf_map__set_max_entries(map, 1);
		if (err) {
			warn("%s: cannot share map %s: %s", bpf_object__name(shared), name,
			     strerror(-err));
			return err;
		}
	}
	return 0;
}

static int attach_sock_state(struct shared_hooks *h, const struct served *s,
			     const struct trace_opts *o)
{
	struct sock_state_bpf *skel = sock_state_bpf__open();
	int err;

	if (!skel)
		return -errno;
	h->sock_state = skel;
	PROBE_BEFORE_LOAD(skel, o);
	/* The families' objects reclaim the rows this program writes (serve),
	 * with their own copies of the reclaim programs. */
	probe__reclaim_programs(skel->obj, false);
	skel->rodata->targ_connect = serves(s, "connect");
	skel->rodata->targ_accept = serves(s, "accept");
	err = borrow_maps(skel->obj, s);
	if (!err)
		err = sock_state_bpf__load(skel);
	if (!err)
		err = sock_state_bpf__attach(skel);
	if (err) {
		warn("sock_state: cannot attach the program at sock:inet_sock_set_state: %s",
		     strerror(-err));
		return err;
	}
	/* Its recursion misses are lost events of every family it serves;
	 * one of them counts them, so that the total counts each once. */
	if (s->ops[0]->count_hook)
		s->ops[0]->count_hook(s->probes[0], skel->obj);
	return 0;
}

int shared_hooks__attach(struct shared_hooks **out, const struct probe_ops *const *ops,
			 struct probe *const *probes, int n, const struct trace_opts *o)
{
	struct shared_hooks *h;
	struct served s;
	int err;

	*out = NULL;
	find_served(&shared_hook_table[0], ops, probes, n, &s);
	if (!s.n)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = attach_sock_state(h, &s, o);
	if (err) {
		shared_hooks__detach(h);
		return err;
	}
	*out = h;
	return 0;
}

void shared_hooks__detach(struct shared_hooks *h)
{
	if (!h)
		return;
	sock_state_bpf__destroy(h->sock_state);
	free(h);
}
