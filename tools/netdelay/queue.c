// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Bounded FIFO of held frames: a ring of pointers. */
#include <errno.h>
#include <stdlib.h>
#include "netdelay.h"

struct nd_queue {
	struct nd_frame **ring;
	uint32_t cap;		/* a power of two, so indexes wrap with a mask */
	uint32_t head;
	uint32_t count;
	uint64_t bytes;
	uint64_t max_bytes;
};

int nd_queue__new(uint32_t max_frames, uint64_t max_bytes, struct nd_queue **out)
{
	struct nd_queue *q;
	uint32_t cap = 1;
	int err = 0;

	while (cap < max_frames && cap < (1u << 31))
		cap <<= 1;
	q = calloc(1, sizeof(*q));
	if (!q) {
		err = -ENOMEM;
		goto cleanup;
	}
	q->ring = calloc(cap, sizeof(*q->ring));
	if (!q->ring) {
		err = -ENOMEM;
		goto cleanup;
	}
	q->cap = cap;
	q->max_bytes = max_bytes;
	*out = q;
	q = NULL;
cleanup:
	nd_queue__free(q);
	return err;
}

void nd_queue__free(struct nd_queue *q)
{
	if (!q)
		return;
	while (q->count)
		free(nd_queue__pop(q));
	free(q->ring);
	free(q);
}

int nd_queue__push(struct nd_queue *q, struct nd_frame *f)
{
	if (q->count == q->cap || q->bytes + f->len > q->max_bytes)
		return -ENOBUFS;
	q->ring[(q->head + q->count) & (q->cap - 1)] = f;
	q->count++;
	q->bytes += f->len;
	return 0;
}

struct nd_frame *nd_queue__head(const struct nd_queue *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

struct nd_frame *nd_queue__pop(struct nd_queue *q)
{
	struct nd_frame *f;

	if (!q->count)
		return NULL;
	f = q->ring[q->head];
	q->ring[q->head] = NULL;
	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
	q->bytes -= f->len;
	return f;
}

uint32_t nd_queue__len(const struct nd_queue *q)
{
	return q->count;
}
