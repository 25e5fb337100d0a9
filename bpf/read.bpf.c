// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Read latency from tracepoints.
 *
 * read_wait: a socket's timer starts when data is queued while nothing was
 * unread, and stops at the read that leaves nothing unread (a partial read
 * keeps it running).
 *
 * read_syscall: read, readv, recvfrom, recvmsg and recvmmsg durations, only
 * for TCP sockets: the enter tracepoint stamps the thread, and the syscall
 * counts only if it reads a TCP socket.
 *
 * Preferred method: sock:sk_data_ready for arrival and sock:sock_recv_length
 * (the end of a socket read, in the reader's context) for reads, both as
 * tp_btf: the socket is a BTF pointer, its fields are plain loads, and no
 * tracepoint record is built. A socket's arrival time lives in its socket
 * storage from its second message on, and for its first (or where the
 * kernel refuses socket storage here) in a lock-free stamp table keyed by
 * the socket's address and its addresses' hash (bpf/sock_stamp.bpf.h,
 * stamp_key()). Both ends of a wait are TCP's own
 * clock of the socket (tcp_clock()). A read syscall ends
 * where sock_recv_length fires, just before the syscall returns (for
 * recvmmsg: its first message), so there are no exit programs.
 *
 * Fallback, for kernels without those tracepoints: tcp:tcp_probe (a segment
 * with data arrives) and the read syscall's exit, resolving its descriptor,
 * with probe reads and a hash map keyed by socket.
 *
 * Every read on the machine enters a read-family syscall, files and pipes
 * included, so the syscall stamp lives in task local storage: after a
 * thread's first read it is a plain store, where a hash map would take a
 * bucket lock twice per read. Even so it is the family's largest cost, and
 * one every process on the host pays: read_syscall is measured only on
 * request (--read-syscall), and without it the preferred method loads no
 * enter programs at all.
 */
#include "nettune.bpf.h"
#include "sock_stamp.bpf.h"
#include "row_table.bpf.h"
#include "read.h"

#define MSG_PEEK	2
#define EEXIST		17
#define RCV_SHUTDOWN	1
#define S_IFMT		00170000
#define S_IFSOCK	0140000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The ephemeral port range: a client socket's local port is one of these,
 * different for every connection, so they share one row (port 0) instead
 * of filling the map with a row per connection. */
const volatile __u16 targ_eph_lo = 0;
const volatile __u16 targ_eph_hi = 0;
/* read_syscall is measured (--read-syscall). */
const volatile bool targ_read_syscall = false;

/* A thread inside a read-family syscall. ts == 0: not inside one. */
struct read_call {
	__u64 ts;
	__s64 nr;	/* the syscall's number */
	__s32 fd;
	__u32 pad;
};

/* Preferred method: when each socket's first unread byte arrived. */
SOCK_STAMP_TABLE(read_since);

/* Fallback: the same, by socket address (user space shrinks it to one
 * entry on the preferred method). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, READ_MAX_UNREAD);
	__type(key, __u64);	/* struct sock * */
	__type(value, __u64);	/* when its first unread byte arrived */
} read_unread SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct read_call);
} read_calls SEC(".maps");

ROW_TABLE(read_stats, struct read_row, READ_MAX_KEYS);
/* read_syscall's rows; user space leaves it one slot without --read-syscall. */
ROW_TABLE(read_syscall_stats, struct read_syscall_row, READ_MAX_KEYS);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, READ_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} read_lost SEC(".maps");

/* Bytes received and not yet read; a received FIN takes a sequence number
 * but is no data. */
static __always_inline __s32 unread_of(__u32 rcv_nxt, __u32 copied_seq, __u8 shutdown)
{
	return (__s32)(rcv_nxt - copied_seq) - !!(shutdown & RCV_SHUTDOWN);
}

static __always_inline __u16 fold_ephemeral(__u16 port)
{
	return port >= targ_eph_lo && port <= targ_eph_hi ? 0 : port;
}

/* Process tgid's row for a socket's (netns, local port) in table
 * (read_stats or read_syscall_stats), with its comm set: the row's value,
 * or NULL. */
static __always_inline void *row_of(void *table, void *used, __u64 cgroup, __u32 tgid,
				    __u32 netns, __u16 lport)
{
	struct read_key key __attribute__((aligned(8))) = {};
	char *r, *comm;

	key.cgroup = cgroup;
	key.tgid = tgid;
	key.netns = netns;
	key.lport = fold_ephemeral(lport);
	r = row_find(table, used, (const __u64 *)&key, sizeof(key) / 8);
	if (!r) {
		counter_inc(&read_lost, READ_LOST_KEYS_FULL);
		return NULL;
	}
	comm = r + __builtin_offsetof(struct read_row, val.comm);
	if (!comm[0])
		bpf_get_current_comm(comm, 16);
	return r + __builtin_offsetof(struct read_row, val);
}

/* A read of ret bytes drained a socket after its data waited wait_ns. */
static __always_inline void record_wait(__u64 cgroup, __u32 netns, __u16 lport, __u64 wait_ns,
					int ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct read_val *val;

	if (ret <= 0 || !pid_allowed(tgid))
		return;
	val = row_of(&read_stats, &read_stats_used, cgroup, tgid, netns, lport);
	if (val)
		hist_record(&val->wait, wait_ns);
}

/* A read-family syscall that read a TCP socket took syscall_ns. */
static __always_inline void record_syscall(__u64 cgroup, __u32 netns, __u16 lport,
					   __u64 syscall_ns, long ret)
{
	struct read_syscall_val *val;

	if (ret < 0 || !targ_read_syscall)
		return;
	val = row_of(&read_syscall_stats, &read_syscall_stats_used, cgroup,
		     bpf_get_current_pid_tgid() >> 32, netns, lport);
	if (val) {
		hist_record(&val->syscall, syscall_ns);
		val->bytes += ret;
	}
}

/* When TCP last processed the socket, in bpf_ktime_get_ns() time: the
 * kernel refreshes this clock (tcp_mstamp_refresh) as a received segment
 * enters TCP's receive path, and in a read, as each copy to the reader
 * ends (tcp_rcv_space_adjust, called by every TCP read path: recvmsg,
 * read_sock, splice, kTLS). So at sk_data_ready it is the arrival, and
 * after a read that copied data it is the end of its last copy: a load
 * where bpf_ktime_get_ns() is a clock read, to the nanosecond where
 * tcp_rx_time_ns() is to the microsecond. */
static __always_inline __u64 tcp_clock(const struct tcp_sock *tp)
{
	return tp->tcp_clock_cache;
}

/* The tcp_sock view of a full socket (both tracepoints see only those),
 * or NULL if it is no TCP socket: the protocol tests of
 * bpf_skc_to_tcp_sock() as plain loads, without its call. */
static __always_inline const struct tcp_sock *tcp_of(const struct sock *sk)
{
	if (BPF_CORE_READ_BITFIELD(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ_BITFIELD(sk, sk_type) != SOCK_STREAM)
		return NULL;
	return core_cast(sk, struct tcp_sock);
}

/* Unread bytes of a tp_btf socket, through its tcp_sock view. */
static __always_inline __s32 unread_btf(const struct sock *sk, const struct tcp_sock *tp)
{
	return unread_of(tp->rcv_nxt, tp->copied_seq, BPF_CORE_READ_BITFIELD(sk, sk_shutdown));
}

/* Whether this thread is still in the syscall it stamped: the number its
 * registers saved at entry. */
static __always_inline bool in_syscall(__s64 nr)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

#if defined(__TARGET_ARCH_x86)
	return (__s64)regs->orig_ax == nr;
#elif defined(__TARGET_ARCH_arm64)
	return (__s64)regs->syscallno == nr;
#else
	return true;	/* no check: a stale stamp is only rare */
#endif
}

/* --- preferred method ---------------------------------------------------- */

/* Preferred method, where the kernel allows socket storage in tp_btf
 * programs: a socket's clock from its second message on, found through
 * the socket itself (no hashing, no other socket's clock to meet) and
 * freed with it. Its first message keeps its clock in the stamp table:
 * creating storage costs an allocation and a lock (and its free at the
 * socket's end another), which a socket that carries one message (a
 * connection per request) would pay for a single clock. */
struct read_sk {
	__u64 since;	/* when its first unread byte arrived; 0: none */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct read_sk);
} read_sk SEC(".maps");

/* The socket's storage if it has any (a load: most sockets have none). */
static __always_inline struct read_sk *sk_clock(struct sock *sk)
{
	return sk->sk_bpf_storage ? bpf_sk_storage_get(&read_sk, sk, NULL, 0) : NULL;
}

/* The socket's key in the stamp table: its address, which tells it from
 * every other socket alive, and its skc_hash (the hash of its addresses and
 * ports, fixed once it is hashed, before any data), which tells it from the
 * sockets that had that address before unless one had the same addresses
 * and ports too. Both lie in lines the programs load anyway. (Not snd_up:
 * out of urgent mode TCP moves it with snd_una, so an ACK between the
 * data's arrival and its read would change the key. Not the cookie: the
 * first message of every socket would pay for generating it, a helper call
 * and an atomic write to a line of the socket that its reader then has to
 * fetch back.) */
static __always_inline __u64 stamp_key(const struct sock *sk)
{
	return sk_addr_num(sk, &read_since) ^ ((__u64)sk->__sk_common.skc_hash << 32);
}

/* The socket's clock in the stamp table stopped: its start, or 0. */
static __always_inline __u64 stamp_clock_stop(const struct sock *sk)
{
	return stamp_stop(&read_since, stamp_key(sk));
}

/* Data queued on a socket: its clock starts unless it runs already. */
static __always_inline void data_ready(struct sock *sk, const bool sks)
{
	const struct tcp_sock *tp;
	struct read_sk *st;

	/* A listener is woken for each connection it queues: the state lies
	 * in the line the caller just used, where its receive sequence
	 * numbers (always equal) would be a cache miss. */
	if (sk->__sk_common.skc_state == TCP_LISTEN)
		return;
	/* NULL unless a TCP socket. A FIN (nothing unread) ends here too. */
	tp = tcp_of(sk);
	if (!tp || unread_btf(sk, tp) <= 0 || !sk_allowed_local_btf(sk))
		return;
	if (sks && (st = sk_clock(sk))) {
		if (!st->since)
			st->since = tcp_clock(tp);
		return;
	}
	/* Nothing read yet (all it received, a FIN's sequence number included,
	 * is unread): the socket's first message, in the stamp table. */
	if (!sks || tp->bytes_received <= (__u32)(tp->rcv_nxt - tp->copied_seq)) {
		if (stamp_start(&read_since, stamp_key(sk), tcp_clock(tp)) ==
		    STAMP_DISPLACED)
			counter_inc(&read_lost, READ_LOST_DISPLACED);
		return;
	}
	/* A later message: the socket gets storage, and takes over a clock
	 * the stamp table may still run for it (its first message, partly
	 * read). */
	st = bpf_sk_storage_get(&read_sk, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		counter_inc(&read_lost, READ_LOST_SK_STORAGE);
	else if (!st->since)
		st->since = stamp_clock_stop(sk) ?: tcp_clock(tp);
}

/* The clock a read that left nothing unread stops: its start, or 0. */
static __always_inline __u64 clock_stop(struct sock *sk, const bool sks)
{
	struct read_sk *st;
	__u64 since;

	if (!sks || !(st = sk_clock(sk)))
		return stamp_clock_stop(sk);
	if (!(since = *(volatile __u64 *)&st->since))
		return 0;
	/* Unless data arriving on another CPU restarted it meanwhile. */
	return __sync_val_compare_and_swap(&st->since, since, 0) == since ? since : 0;
}

/* A socket read of ret bytes (or an error) ended. */
static __always_inline void recv_length(struct sock *sk, int ret, int flags, const bool sks)
{
	const struct tcp_sock *tp;
	struct read_call *call;
	__u64 since, cgroup;

	if (flags & MSG_PEEK)
		return;
	tp = tcp_of(sk);
	if (!tp || !sk_allowed_local_btf(sk))
		return;
	/* The wait ends as the read's last copy ends (tcp_clock()). */
	/* (The --cgroup filter is in sk_allowed_local_btf: sk_cgroup() only
	 * reads the id here.) */
	if (unread_btf(sk, tp) <= 0 && (since = clock_stop(sk, sks))) {
		sk_cgroup(sk, true, &cgroup);
		record_wait(cgroup, sk_netns_btf(sk), sk->__sk_common.skc_num,
			    stamp_elapsed(since, tcp_clock(tp)), ret);
	}
	/* read_syscall: only inside the read-family syscall that stamped the
	 * thread (sock_recvmsg also runs under io_uring and other callers). */
	if (!targ_read_syscall)
		return;
	call = bpf_task_storage_get(&read_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->ts || !in_syscall(call->nr))
		return;
	sk_cgroup(sk, true, &cgroup);
	record_syscall(cgroup, sk_netns_btf(sk), sk->__sk_common.skc_num,
		       bpf_ktime_get_ns() - call->ts, ret);
	call->ts = 0;	/* recvmmsg: the first message ends it */
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(read_data_ready_sks, struct sock *sk)
{
	RETURN_IF_EMPTY();
	data_ready(sk, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(read_recv_length_sks, struct sock *sk, int ret, int flags)
{
	RETURN_IF_EMPTY();
	recv_length(sk, ret, flags, true);
	return 0;
}

/* The same with the stamp table, for a kernel that refuses socket storage
 * in these programs. */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(read_data_ready, struct sock *sk)
{
	RETURN_IF_EMPTY();
	data_ready(sk, false);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(read_recv_length, struct sock *sk, int ret, int flags)
{
	RETURN_IF_EMPTY();
	recv_length(sk, ret, flags, false);
	return 0;
}

/* --- both methods: the syscall stamp -------------------------------------- */

static __always_inline int on_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct read_call *call;

	RETURN_IF_EMPTY();
	if (!pid_allowed(bpf_get_current_pid_tgid() >> 32))
		return 0;
	call = bpf_task_storage_get(&read_calls, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!call) {
		counter_inc(&read_lost, READ_LOST_CALLS_FULL);
		return 0;
	}
	call->nr = ctx->id;
	call->fd = (int)ctx->args[0];
	call->ts = bpf_ktime_get_ns();
	return 0;
}

/* --- fallback method ------------------------------------------------------ */

/* Unread bytes of a socket the fallback holds as a plain pointer. */
static __always_inline __s32 unread_probed(const struct sock *sk)
{
	const struct tcp_sock *tp = (const void *)sk;

	return unread_of(BPF_CORE_READ(tp, rcv_nxt), BPF_CORE_READ(tp, copied_seq),
			 BPF_CORE_READ(sk, sk_shutdown));
}

/* The fallback's clocks are keyed by socket address, which the kernel
 * reuses: a socket closed with data unread leaves its clock behind, and a
 * later socket at the same address must not inherit it (its first read
 * would count the dead socket's age). So a segment that arrives while
 * nothing is unread starts the clock afresh; only one arriving behind
 * unread data keeps the clock that runs. */
static __always_inline void fallback_arrival(const struct sock *sk)
{
	bool nothing_unread = unread_probed(sk) <= 0;
	__u64 key = (__u64)sk, now;
	long err;

	if (!nothing_unread && bpf_map_lookup_elem(&read_unread, &key))
		return;	/* the clock already runs from an earlier byte */
	now = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&read_unread, &key, &now, nothing_unread ? BPF_ANY : BPF_NOEXIST);
	if (err && err != -EEXIST)	/* EEXIST: another CPU started it first */
		counter_inc(&read_lost, READ_LOST_UNREAD_FULL);
}

/* Whether a segment carries data: tcp_probe fires with skb->data at the TCP
 * header, as the tracepoint's own data_len assumes. */
static __always_inline bool has_payload(const struct sk_buff *skb)
{
	const unsigned char *th = BPF_CORE_READ(skb, data);
	__u8 doff = 0;

	bpf_probe_read_kernel(&doff, sizeof(doff), th + 12);
	return BPF_CORE_READ(skb, len) > (__u32)(doff >> 4) * 4;
}

/* tcp_probe fires as a segment arrives, before its data is queued: what is
 * unread then is what earlier segments left. A raw tracepoint: the classic
 * record names its socket (skaddr) on recent kernels (6.12 does) but 6.1 has
 * none; the raw arguments (sk, skb) are the same on every kernel. */
SEC("raw_tracepoint/tcp_probe")
int read_tcp_probe(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	const struct sk_buff *skb = (const struct sk_buff *)ctx->args[1];

	RETURN_IF_EMPTY();
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP && sk_allowed_local(sk) &&
	    has_payload(skb))
		fallback_arrival(sk);
	return 0;
}

/* The TCP socket behind a descriptor, if it is one. */
static __always_inline const struct sock *tcp_sock_of_fd(int fd)
{
	struct file *file = file_of_fd(fd);
	struct socket *sock;
	const struct sock *sk;

	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;	/* a file or a pipe: private_data is no socket */
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	return sk && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP && sk_allowed_local(sk) ?
		sk : NULL;
}

static __always_inline int on_exit(long ret)
{
	struct read_call *call;
	const struct sock *sk;
	__u64 key, *since, ts, now, cgroup;
	__u32 netns;
	__u16 lport;

	RETURN_IF_EMPTY();
	call = bpf_task_storage_get(&read_calls, bpf_get_current_task_btf(), 0, 0);
	if (!call || !call->ts)
		return 0;
	ts = call->ts;
	call->ts = 0;
	sk = tcp_sock_of_fd(call->fd);
	if (!sk)
		return 0;
	now = bpf_ktime_get_ns();
	sk_cgroup(sk, false, &cgroup);	/* the filter is in tcp_sock_of_fd */
	netns = sk_netns(sk);
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	key = (__u64)sk;
	since = bpf_map_lookup_elem(&read_unread, &key);
	if (since && unread_probed(sk) <= 0) {
		record_wait(cgroup, netns, lport, now - *since, (int)ret);
		bpf_map_delete_elem(&read_unread, &key);
	}
	record_syscall(cgroup, netns, lport, now - ts, ret);
	return 0;
}

#define READ_SYSCALL(name)                                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int read_enter_##name(struct trace_event_raw_sys_enter *ctx)         \
	{                                                                    \
		return on_enter(ctx);                                        \
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
