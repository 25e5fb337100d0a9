/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* netdelay: a user-space delay/loss link between two interfaces, for kernels
 * without tc netem. Types shared by the option parser, the frame queue and
 * the relay loop. */
#ifndef NETTUNE_TOOLS_NETDELAY_H
#define NETTUNE_TOOLS_NETDELAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define ND_MAX_DELAY_MS	60000.0	/* a minute: anything longer is a typo */
/* Per direction. 64 Ki frames or 64 MiB, whichever fills first, holds a
 * 20 ms delay at several Gbit/s and still bounds memory. */
#define ND_QUEUE_FRAMES	65536u
#define ND_QUEUE_BYTES	(64ull << 20)

struct nd_opts {
	uint64_t delay_ns;	/* each way */
	uint64_t seed;
	double loss;		/* probability 0..1 per frame */
	const char *dev[2];	/* interface names, a and b */
	int ifindex[2];
	const char *ready_file;	/* NULL: none */
};

/* One frame held in a queue. data[] starts with the virtio_net_hdr the
 * kernel prepends (PACKET_VNET_HDR) and hands back unchanged on send. */
struct nd_frame {
	uint64_t release_ns;	/* CLOCK_MONOTONIC */
	uint32_t len;		/* bytes in data[] */
	unsigned char data[];
};

/* FIFO of frames in arrival order. With a constant delay arrival order is
 * release order, so the head is always the next frame due. */
struct nd_queue;

int nd_queue__new(uint32_t max_frames, uint64_t max_bytes, struct nd_queue **out);
void nd_queue__free(struct nd_queue *q);
/* 0, or -ENOBUFS when the frame or byte bound would be exceeded (the caller
 * still owns the frame then). */
int nd_queue__push(struct nd_queue *q, struct nd_frame *f);
struct nd_frame *nd_queue__head(const struct nd_queue *q);
struct nd_frame *nd_queue__pop(struct nd_queue *q);
uint32_t nd_queue__len(const struct nd_queue *q);

struct nd_stats {
	uint64_t received;	/* frames read from the input interface */
	uint64_t forwarded;	/* frames sent out of the other one */
	uint64_t lost;		/* dropped on purpose (--loss) */
	uint64_t queue_full;	/* dropped: queue at its bound */
	uint64_t bad_size;	/* dropped: cut by the receive buffer, or runt */
	uint64_t send_errors;	/* dropped: send() failed */
	uint64_t kernel_drops;	/* dropped by the kernel: receive buffer full */
	uint64_t kernel_stamps;	/* frames held from the kernel's receive stamp */
	uint64_t late_sum_ns;	/* sent minus due time, summed over forwarded */
	uint64_t late_max_ns;
	uint32_t queue_peak;	/* most frames held at once */
};

/* The two sockets, the two queues and the event loop. */
struct nd_relay;

int nd_relay__open(const struct nd_opts *o, struct nd_relay **out);
/* Runs until *stop is set by a SIGINT/SIGTERM handler. The caller blocks
 * those signals; they are let through only while the loop waits. */
int nd_relay__run(struct nd_relay *r, volatile sig_atomic_t *stop);
/* dir 0 is a -> b, dir 1 is b -> a. */
/* Also collects the kernel's count of frames it dropped before the relay
 * could read them. */
const struct nd_stats *nd_relay__stats(struct nd_relay *r, int dir);
/* Frames still queued in a direction (discarded when the relay closes). */
uint32_t nd_relay__held(const struct nd_relay *r, int dir);
void nd_relay__close(struct nd_relay *r);

#endif
