// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Read latency from tracepoints.
 *
 * read_wait: a socket's timer starts when data is queued while nothing was
 * unread, and stops at the read that leaves nothing unread (a partial read
 * keeps it running). Preferred: sock:sk_data_ready for arrival and
 * sock:sock_recv_length (process context, gives the socket) for reads.
 * Fallback for kernels without them: tcp:tcp_probe (a segment with data
 * arrives) and the read syscall's exit, resolving its descriptor.
 *
 * read_syscall: read, readv, recvfrom, recvmsg and recvmmsg durations, only
 * for TCP sockets: the enter tracepoint stamps the thread, and the syscall
 * counts only if it turned out to read a TCP socket (sock_recv_length fired
 * inside it, or, on the fallback, its descriptor is a TCP socket).
 */
#include "nettune.bpf.h"
#include "read.h"

#define MSG_PEEK	2
#define EEXIST		17
#define RCV_SHUTDOWN	1
#define S_IFMT		00170000
#define S_IFSOCK	0140000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Fallback mode: arrival from tcp_probe, reads at syscall exit. */
const volatile bool targ_fallback = false;
/* The ephemeral port range: a client socket's local port is one of these,
 * different for every connection, so they share one row (port 0) instead
 * of filling the map with a row per connection. */
const volatile __u16 targ_eph_lo = 0;
const volatile __u16 targ_eph_hi = 0;

struct read_call {
	__u64 ts;
	__u64 sk;	/* the TCP socket it read, once known */
	__s32 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, READ_MAX_UNREAD);
	__type(key, __u64);	/* struct sock * */
	__type(value, __u64);	/* when its first unread byte arrived */
} read_unread SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, READ_MAX_CALLS);
	__type(key, __u32);	/* thread id */
	__type(value, struct read_call);
} read_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, READ_MAX_KEYS);
	__type(key, struct read_key);
	__type(value, struct read_val);
} read_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct read_val);
} read_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, READ_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} read_lost SEC(".maps");

static __always_inline bool tcp_sk_allowed(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP && sk_allowed_local(sk);
}

/* Bytes received and not yet read; a received FIN takes a sequence number
 * but is no data. */
static __always_inline __s32 unread_bytes(const struct sock *sk)
{
	const struct tcp_sock *tp = (const void *)sk;
	__s32 n = (__s32)(BPF_CORE_READ(tp, rcv_nxt) - BPF_CORE_READ(tp, copied_seq));

	if (BPF_CORE_READ(sk, sk_shutdown) & RCV_SHUTDOWN)
		n--;
	return n;
}

static __always_inline void on_arrival(const struct sock *sk)
{
	__u64 key = (__u64)sk, now;
	long err;

	if (!tcp_sk_allowed(sk) || bpf_map_lookup_elem(&read_unread, &key))
		return;	/* the clock already runs from an earlier byte */
	now = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&read_unread, &key, &now, BPF_NOEXIST);
	if (err && err != -EEXIST)	/* EEXIST: another CPU started it first */
		counter_inc(&read_lost, READ_LOST_UNREAD_FULL);
}

static __always_inline struct read_val *row(const struct sock *sk)
{
	struct read_key key = {};
	struct read_val *val;
	__u32 zero = 0;
	void *tmpl = bpf_map_lookup_elem(&read_zero, &zero);

	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.netns = sk_netns(sk);
	key.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (key.lport >= targ_eph_lo && key.lport <= targ_eph_hi)
		key.lport = 0;
	val = tmpl ? lookup_or_init(&read_stats, &key, tmpl) : NULL;
	if (!val) {
		counter_inc(&read_lost, READ_LOST_KEYS_FULL);
		return NULL;
	}
	if (!val->comm[0])
		bpf_get_current_comm(val->comm, sizeof(val->comm));
	return val;
}

/* A read returned on sk: stop the clock if it left nothing unread. */
static __always_inline void on_read(const struct sock *sk, int ret)
{
	__u64 key = (__u64)sk, *since;
	struct read_val *val;

	if (unread_bytes(sk) > 0)
		return;	/* partial read: the first unread byte still waits */
	since = bpf_map_lookup_elem(&read_unread, &key);
	if (!since)
		return;
	if (ret > 0 && pid_allowed(bpf_get_current_pid_tgid() >> 32) && (val = row(sk)))
		hist_record(&val->wait, bpf_ktime_get_ns() - *since);
	bpf_map_delete_elem(&read_unread, &key);
}

SEC("tracepoint/sock/sk_data_ready")
int read_data_ready(struct trace_event_raw_sk_data_ready *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (ctx->protocol == IPPROTO_TCP && unread_bytes(sk) > 0)
		on_arrival(sk);
	return 0;
}

SEC("tracepoint/tcp/tcp_probe")
int read_tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	if (ctx->data_len)
		on_arrival(ctx->skaddr);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int read_recv_length(struct trace_event_raw_sock_msg_length *ctx)
{
	const struct sock *sk = ctx->sk;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct read_call *call;

	if (ctx->protocol != IPPROTO_TCP || (ctx->flags & MSG_PEEK) || !sk_allowed_local(sk))
		return 0;
	call = bpf_map_lookup_elem(&read_calls, &tid);
	if (call)
		call->sk = (__u64)sk;	/* this syscall read a TCP socket */
	on_read(sk, ctx->ret);
	return 0;
}

static __always_inline int on_enter(int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct read_call call = { .fd = fd };
	__u32 tid = (__u32)id;

	if (!pid_allowed(id >> 32))
		return 0;
	call.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&read_calls, &tid, &call, BPF_ANY))
		counter_inc(&read_lost, READ_LOST_CALLS_FULL);
	return 0;
}

/* Fallback: the socket behind a descriptor, if it is one. */
static __always_inline const struct sock *tcp_sock_of_fd(int fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct file **fdarr = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *file = NULL;
	struct socket *sock;
	const struct sock *sk;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdarr[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;	/* a file or a pipe: private_data is no socket */
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	return sk && tcp_sk_allowed(sk) ? sk : NULL;
}

static __always_inline int on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct read_call *call = bpf_map_lookup_elem(&read_calls, &tid);
	const struct sock *sk;
	struct read_val *val;

	if (!call)
		return 0;
	sk = (const void *)call->sk;
	if (targ_fallback) {
		sk = tcp_sock_of_fd(call->fd);
		if (sk)
			on_read(sk, (int)ret);
	}
	if (sk && ret >= 0 && (val = row(sk))) {
		hist_record(&val->syscall, bpf_ktime_get_ns() - call->ts);
		val->bytes += ret;
	}
	bpf_map_delete_elem(&read_calls, &tid);
	return 0;
}

#define READ_SYSCALL(name)                                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int read_enter_##name(struct trace_event_raw_sys_enter *ctx)         \
	{                                                                    \
		return on_enter((int)ctx->args[0]);                          \
	}                                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #name)                           \
	int read_exit_##name(struct trace_event_raw_sys_exit *ctx)           \
	{                                                                    \
		return on_exit(ctx->ret);                                    \
	}

READ_SYSCALL(read)
READ_SYSCALL(readv)
READ_SYSCALL(recvfrom)
READ_SYSCALL(recvmsg)
READ_SYSCALL(recvmmsg)
