// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The relay: one AF_PACKET socket per interface, one queue per direction,
 * and an epoll loop woken by the sockets and by a timerfd armed for the
 * moment the next held frame is due. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include "log.h"
#include "netdelay.h"

/* veth passes GSO frames of up to 64 KiB of payload plus headers; reading
 * into a larger buffer lets MSG_TRUNC flag anything bigger (BIG TCP) as a
 * bad size instead of forwarding a cut frame. */
#define RX_BUF		(256 * 1024)
/* Frames read from one socket per wakeup: bounded so that a flood in one
 * direction cannot hold back frames due in the other. */
#define RX_BATCH	64
/* Kernel-side buffer for frames not yet read (the kernel doubles it for
 * its bookkeeping). Big enough for a TCP burst at veth speed while the loop
 * sleeps or sends; small enough that when the relay cannot keep up, frames
 * are dropped (and counted) after milliseconds of queueing rather than
 * queued for a hundred. */
#define RCVBUF_BYTES	(2 << 20)
#define VNET_HLEN	sizeof(struct virtio_net_hdr)
#define MAX_STAMP_AGE_NS 10000000000ull
#define PAIR_MAX_NS	5000
/* Timer wakeups arrive late (65-110 us median on this project's VMs, from
 * idle states). The timer is armed early by an estimate of that latency and
 * the rest of the wait is spent polling: frames keep being read, and each is
 * sent within a few us of its due time. Polling is bounded twice: at most
 * SPIN_MAX_NS before a frame, and at most 1/POLL_SHARE_DIV of the time (with
 * POLL_BUDGET_MAX_NS saved up for bursts), so that under steady traffic the
 * relay does not take a whole CPU from the endpoints it sits between; past
 * the budget, frames go out one wakeup latency late. */
#define SPIN_MAX_NS	500000ull
#define WAKE_LAT_INIT_NS 100000ull
#define POLL_SHARE_DIV	4
#define POLL_BUDGET_MAX_NS 5000000ull
#define TAG_TIMER	2

struct nd_relay {
	struct nd_queue *q[2];	/* q[i]: frames received on sock[i] */
	struct nd_stats st[2];
	const char *name[2];
	int sock[2];
	int timer_fd;
	int ep_fd;
	uint64_t delay_ns;
	uint64_t armed_ns;	/* what timer_fd is set to; 0: disarmed */
	uint64_t wake_lat_ns;	/* moving average of timer wakeup latency */
	uint64_t poll_budget_ns;
	uint64_t loop_ns;	/* when the last loop iteration was accounted */
	uint64_t rng;		/* splitmix64 state */
	double loss;
	unsigned char *buf;	/* receive scratch, RX_BUF bytes */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool lose_frame(struct nd_relay *r)
{
	if (r->loss <= 0)
		return false;
	/* The top 53 bits as a double in [0, 1): loss 1.0 always drops. */
	return (double)(rng_next(&r->rng) >> 11) * 0x1.0p-53 < r->loss;
}

/* Options that help but are not required: a kernel without them still
 * relays correctly. */
static void sock_tune(int fd, const char *name)
{
	int one = 1, rcvbuf = RCVBUF_BYTES;

	/* Without this the socket would also read back every frame it sends
	 * out of this interface; the pkttype check in relay_rx covers kernels
	 * older than 4.20 that lack it. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
		debug("%s: PACKET_IGNORE_OUTGOING: %s", name, strerror(errno));
	/* FORCE passes net.core.rmem_max, which defaults to 208 KiB. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		debug("%s: SO_RCVBUF: %s", name, strerror(errno));
	/* The kernel's receive stamp lets the hold start when the frame
	 * arrived, not when this loop read it (see arrival_ns). */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		debug("%s: SO_TIMESTAMPNS: %s", name, strerror(errno));
}

static int sock_open(const char *name, int ifindex, int *out)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };
	int fd, one = 1, err = 0;

	/* Protocol 0 receives nothing until bind() names the interface, so no
	 * frame from another interface can slip in before that. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		warn("%s: cannot open a packet socket: %s%s", name, strerror(-err),
		     err == -EPERM ? " (needs root or CAP_NET_RAW)" : "");
		goto cleanup;
	}
	/* A virtio_net_hdr before each frame carries the GSO and partial
	 * checksum state across: big veth frames and frames whose checksum
	 * the sender left to offload are sent on exactly as they came. */
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
		err = -errno;
		warn("%s: cannot enable PACKET_VNET_HDR: %s", name, strerror(-err));
		goto cleanup;
	}
	sock_tune(fd, name);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		warn("%s: cannot bind a packet socket: %s", name, strerror(-err));
		goto cleanup;
	}
	/* Frames crossing the relay are addressed to the far veth's MAC. The
	 * membership is dropped by the kernel when the socket closes. */
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		err = -errno;
		warn("%s: cannot enable promiscuous mode: %s", name, strerror(-err));
		goto cleanup;
	}
	*out = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

/* Both clocks "now". Realtime is read first, so that being preempted
 * between the reads can only make a frame's age look shorter and its
 * release later, never earlier; a read pair that was preempted is retried. */
static void clock_pair(uint64_t *real, uint64_t *mono)
{
	uint64_t again;
	int tries = 3;

	do {
		*real = clock_ns(CLOCK_REALTIME);
		*mono = clock_ns(CLOCK_MONOTONIC);
		again = clock_ns(CLOCK_REALTIME);
	} while (again - *real > PAIR_MAX_NS && --tries);
}

/* The kernel stamps a frame (CLOCK_REALTIME) when the peer veth hands it
 * over. Holding from that stamp keeps this loop's wakeup latency out of the
 * delay. The stamp becomes CLOCK_MONOTONIC through its age; a stamp that is
 * missing, in the future or too old (a clock step, or a TCP delivery-time
 * stamp that is not wall-clock) falls back to now. */
static uint64_t arrival_ns(struct msghdr *msg, struct nd_stats *st)
{
	uint64_t mono, real, stamp = 0;
	struct cmsghdr *c;
	struct timespec ts;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS ||
		    c->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		stamp = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	clock_pair(&real, &mono);
	if (!stamp || stamp > real || real - stamp > MAX_STAMP_AGE_NS)
		return mono;
	st->kernel_stamps++;
	return mono - (real - stamp);
}

/* Copy the frame in r->buf into the direction's queue, or count why not. */
static void relay_hold(struct nd_relay *r, int i, struct msghdr *msg, size_t n)
{
	struct nd_stats *st = &r->st[i];
	struct virtio_net_hdr *vh;
	struct nd_frame *f;
	uint64_t t = arrival_ns(msg, st);
	uint32_t held;

	st->received++;
	if ((msg->msg_flags & MSG_TRUNC) || n > RX_BUF || n < VNET_HLEN + ETH_HLEN) {
		if (!st->bad_size++)
			warn("%s: dropping a %zu-byte frame: not between an Ethernet header "
			     "and %d bytes (further ones are only counted)", r->name[i], n, RX_BUF);
		return;
	}
	if (lose_frame(r)) {
		st->lost++;
		return;
	}
	f = malloc(sizeof(*f) + n);
	if (!f) {
		/* Out of memory is the queue's other bound. */
		st->queue_full++;
		return;
	}
	memcpy(f->data, r->buf, n);
	f->len = (uint32_t)n;
	f->release_ns = t + r->delay_ns;
	/* "Checksum verified" describes the receive side only; on send the
	 * header may ask for checksum completion and nothing else. */
	vh = (struct virtio_net_hdr *)f->data;
	vh->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	if (nd_queue__push(r->q[i], f)) {
		free(f);
		st->queue_full++;
		return;
	}
	held = nd_queue__len(r->q[i]);
	if (held > st->queue_peak)
		st->queue_peak = held;
}

/* Read up to RX_BATCH frames from sock[i]. 0 when the socket is drained. */
static int relay_rx(struct nd_relay *r, int i)
{
	char ctrl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = r->buf, .iov_len = RX_BUF };
	struct sockaddr_ll sll;
	struct msghdr msg = {
		.msg_name = &sll, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
	};
	ssize_t n = 0;
	int k, err;

	for (k = 0; k < RX_BATCH; k++) {
		msg.msg_namelen = sizeof(sll);
		msg.msg_controllen = sizeof(ctrl);
		msg.msg_flags = 0;
		n = recvmsg(r->sock[i], &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		relay_hold(r, i, &msg, (size_t)n);
	}
	if (n >= 0 || errno == EAGAIN || errno == EINTR)
		return 0;
	/* A link going down is reported once as an error; frames flow again
	 * when it comes back up. */
	err = -errno;
	if (err == -ENETDOWN) {
		warn("%s: interface is down; waiting for it to come back", r->name[i]);
		return 0;
	}
	warn("%s: receive failed: %s", r->name[i], strerror(-err));
	return err;
}

static void relay_send(struct nd_relay *r, int i, const struct nd_frame *f)
{
	struct nd_stats *st = &r->st[i];
	uint64_t late = clock_ns(CLOCK_MONOTONIC) - f->release_ns;

	if (send(r->sock[!i], f->data, f->len, 0) < 0) {
		if (!st->send_errors++)
			warn("%s: send failed: %s (further failures are only counted)",
			     r->name[!i], strerror(errno));
		return;
	}
	st->forwarded++;
	st->late_sum_ns += late;
	if (late > st->late_max_ns)
		st->late_max_ns = late;
}

/* The direction whose head frame is due first, or -1 if both are empty. */
static int relay_next(const struct nd_relay *r)
{
	const struct nd_frame *f0 = nd_queue__head(r->q[0]);
	const struct nd_frame *f1 = nd_queue__head(r->q[1]);

	if (!f0 || !f1)
		return f0 ? 0 : f1 ? 1 : -1;
	return f1->release_ns < f0->release_ns ? 1 : 0;
}

/* How long before a frame is due the loop wakes and starts polling: the
 * expected wakeup latency with room to spare, or 0 once the budget is spent. */
static uint64_t relay_margin(const struct nd_relay *r)
{
	uint64_t m = r->wake_lat_ns + r->wake_lat_ns / 2;

	if (!r->poll_budget_ns)
		return 0;
	return m < SPIN_MAX_NS ? m : SPIN_MAX_NS;
}

/* All time refills the poll budget at 1/POLL_SHARE_DIV; time in an
 * iteration that polled spends it. */
static void relay_account(struct nd_relay *r, bool polled)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), dt = now - r->loop_ns;
	uint64_t b = r->poll_budget_ns + dt / POLL_SHARE_DIV;

	if (polled)
		b = b > dt ? b - dt : 0;
	r->poll_budget_ns = b < POLL_BUDGET_MAX_NS ? b : POLL_BUDGET_MAX_NS;
	r->loop_ns = now;
}

/* Send every frame that is due, in due order across both directions. */
static void relay_release(struct nd_relay *r)
{
	struct nd_frame *f;
	int i;

	while ((i = relay_next(r)) >= 0) {
		f = nd_queue__head(r->q[i]);
		if (f->release_ns > clock_ns(CLOCK_MONOTONIC))
			break;
		nd_queue__pop(r->q[i]);
		relay_send(r, i, f);
		free(f);
	}
}

/* Arm the timer for the next frame due (absolute time, so the time spent
 * getting here does not add to the wait), or disarm it. */
static int relay_arm(struct nd_relay *r)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0;
	int err, i = relay_next(r);

	if (i >= 0) {
		next = nd_queue__head(r->q[i])->release_ns;
		next = next > relay_margin(r) ? next - relay_margin(r) : 1;
	}
	if (next == r->armed_ns)
		return 0;
	its.it_value.tv_sec = (time_t)(next / 1000000000ull);
	its.it_value.tv_nsec = (long)(next % 1000000000ull);
	if (timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		err = -errno;
		warn("cannot arm the release timer: %s", strerror(-err));
		return err;
	}
	r->armed_ns = next;
	return 0;
}

/* The wait timeout: poll (0) when a frame is due within the margin, else
 * sleep until a socket or the timer wakes the loop (-1). */
static int relay_timeout(const struct nd_relay *r)
{
	int i = relay_next(r);

	if (i < 0)
		return -1;
	return nd_queue__head(r->q[i])->release_ns <=
	       clock_ns(CLOCK_MONOTONIC) + relay_margin(r) ? 0 : -1;
}

/* Learn the wakeup latency from each expiry the loop slept for (one found
 * while polling says nothing about waking up): an average over about eight
 * wakeups, one sample capped so a single stall does not dominate. */
static void relay_timer_ack(struct nd_relay *r, bool slept)
{
	uint64_t expirations, now = clock_ns(CLOCK_MONOTONIC), late;

	/* Non-blocking: a spurious wakeup just reads EAGAIN. */
	if (read(r->timer_fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	if (slept && r->armed_ns > 1 && now > r->armed_ns) {
		late = now - r->armed_ns;
		if (late > 2 * SPIN_MAX_NS)
			late = 2 * SPIN_MAX_NS;
		r->wake_lat_ns = r->wake_lat_ns - r->wake_lat_ns / 8 + late / 8;
	}
	r->armed_ns = 0;
}

int nd_relay__run(struct nd_relay *r, volatile sig_atomic_t *stop)
{
	struct epoll_event ev[3];
	sigset_t waitmask;
	int n, k, timeout, err = 0;

	/* The caller blocks SIGINT/SIGTERM; epoll_pwait lets them in only
	 * while waiting, so a signal can never land between the check of
	 * *stop and the wait and be missed until the next frame. */
	sigprocmask(SIG_SETMASK, NULL, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	r->loop_ns = clock_ns(CLOCK_MONOTONIC);
	r->poll_budget_ns = POLL_BUDGET_MAX_NS;
	while (!*stop) {
		timeout = relay_timeout(r);
		n = epoll_pwait(r->ep_fd, ev, 3, timeout, &waitmask);
		relay_account(r, timeout == 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			warn("epoll_pwait failed: %s", strerror(-err));
			break;
		}
		for (k = 0; k < n && !err; k++) {
			if (ev[k].data.u32 == TAG_TIMER)
				relay_timer_ack(r, timeout != 0);
			else
				err = relay_rx(r, (int)ev[k].data.u32);
		}
		relay_release(r);
		if (!err)
			err = relay_arm(r);
		if (err)
			break;
	}
	return err;
}

static int relay_epoll(struct nd_relay *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i, err = 0;

	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->timer_fd < 0 || r->ep_fd < 0) {
		err = -errno;
		warn("cannot create the event loop: %s", strerror(-err));
		goto cleanup;
	}
	for (i = 0; i <= TAG_TIMER; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(r->ep_fd, EPOLL_CTL_ADD, i == TAG_TIMER ? r->timer_fd : r->sock[i],
			      &ev)) {
			err = -errno;
			warn("cannot add to the event loop: %s", strerror(-err));
			goto cleanup;
		}
	}
	/* Every timer expiry is otherwise deferred by up to 50 us of slack,
	 * added to the delay twice per round trip. */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
		debug("PR_SET_TIMERSLACK: %s", strerror(errno));
cleanup:
	return err;
}

int nd_relay__open(const struct nd_opts *o, struct nd_relay **out)
{
	struct nd_relay *r;
	int i, err = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sock[0] = r->sock[1] = r->timer_fd = r->ep_fd = -1;
	r->delay_ns = o->delay_ns;
	r->loss = o->loss;
	r->rng = o->seed;
	r->wake_lat_ns = WAKE_LAT_INIT_NS;
	r->buf = malloc(RX_BUF);
	if (!r->buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < 2; i++) {
		r->name[i] = o->dev[i];
		err = nd_queue__new(ND_QUEUE_FRAMES, ND_QUEUE_BYTES, &r->q[i]);
		if (err) {
			warn("cannot allocate the frame queue: %s", strerror(-err));
			goto cleanup;
		}
		err = sock_open(o->dev[i], o->ifindex[i], &r->sock[i]);
		if (err)
			goto cleanup;
	}
	err = relay_epoll(r);
	if (err)
		goto cleanup;
	*out = r;
	r = NULL;
cleanup:
	nd_relay__close(r);
	return err;
}

const struct nd_stats *nd_relay__stats(struct nd_relay *r, int dir)
{
	struct tpacket_stats ks;
	socklen_t len = sizeof(ks);

	/* The kernel resets these counters on every read: accumulate. */
	if (!getsockopt(r->sock[dir], SOL_PACKET, PACKET_STATISTICS, &ks, &len))
		r->st[dir].kernel_drops += ks.tp_drops;
	return &r->st[dir];
}

uint32_t nd_relay__held(const struct nd_relay *r, int dir)
{
	return nd_queue__len(r->q[dir]);
}

void nd_relay__close(struct nd_relay *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < 2; i++) {
		if (r->sock[i] >= 0)
			close(r->sock[i]);
		nd_queue__free(r->q[i]);
	}
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	if (r->ep_fd >= 0)
		close(r->ep_fd);
	free(r->buf);
	free(r);
}
