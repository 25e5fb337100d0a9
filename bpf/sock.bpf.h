/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Socket reads: a socket's namespace and protocol, the socket behind a
 * descriptor of the current task, and when TCP began on a segment; with
 * probe reads (any pointer) or plain loads (BTF pointers). */
#ifndef NETTUNE_SOCK_BPF_H
#define NETTUNE_SOCK_BPF_H

#include "base.bpf.h"

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The same reads for tp_btf programs, whose socket arguments are BTF
 * pointers: plain (CO-RE relocated) loads instead of bpf_probe_read_kernel
 * calls, a few ns each instead of tens.
 */
static __always_inline __u32 sk_netns_btf(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->ns.inum;
}

static __always_inline __u16 sk_protocol_btf(const struct sock *sk)
{
	/* A bitfield on kernels before 5.6: the macro reads either layout. */
	return BPF_CORE_READ_BITFIELD(sk, sk_protocol);
}

/* The file behind a descriptor of the current task, or NULL. The task, its
 * file table and fdtable are BTF pointers read with plain loads; the array
 * slot needs bpf_probe_read_kernel (the fd array is a pointer to pointers,
 * which the verifier does not walk). */
static __always_inline struct file *file_of_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fdarr = fdt->fd;
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdarr[fd]))
		return NULL;
	return file;
}

/* struct sock of a socket file descriptor of the current task. Only for
 * descriptors known to be sockets (accept's argument and result). */
static __always_inline const struct sock *sock_of_fd(int fd)
{
	struct file *file = file_of_fd(fd);
	struct socket *sock;

	if (!file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/*
 * bpf_rdonly_cast (Linux 6.2+) makes a read-only BTF pointer of any kernel
 * address: its fields are then plain loads, each a few ns, where a
 * bpf_probe_read_kernel() call costs tens (a fault reads as 0 either way).
 * The verifier turns the call itself into a move. Weak: an object that
 * declares it still loads where the kernel lacks it, as long as the
 * programs that call it are not loaded (user space tries them first and
 * falls back to the probe-read programs).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define core_cast(ptr, type) ((type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))

/* file_of_fd() without a helper call, in a file table the caller looked up
 * once for all its descriptors (fdtable_of_current()). The descriptor's
 * slot is a pointer to a pointer, which the verifier sees as a number;
 * bpf_rdonly_cast() makes it a BTF pointer, but only of a struct type, so
 * the slot is read as the first member of a kernel struct that begins with
 * a struct file pointer (struct kiocb's ki_filp). The load is fault-safe
 * like any on a cast pointer. CO-RE keeps the probe read on a kernel that
 * would move that member. Saves a bpf_probe_read_kernel() call per
 * descriptor: ~70 ns of accept()'s ~500 (two descriptors) on the bench VM. */
static __always_inline struct file *file_of_fd_cast(const struct fdtable *fdt, int fd)
{
	__u64 slot;

	if (bpf_core_field_offset(struct kiocb, ki_filp) != 0)
		return file_of_fd(fd);
	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	slot = (__u64)fdt->fd + (__u64)(unsigned int)fd * sizeof(struct file *);
	return core_cast((void *)slot, struct kiocb)->ki_filp;
}

/* The current task's file table, for file_of_fd_cast(). */
static __always_inline const struct fdtable *fdtable_of_current(void)
{
	return bpf_get_current_task_btf()->files->fdt;
}

/* sock_of_fd() with plain loads: the socket is a read-only BTF pointer. */
static __always_inline const struct sock *sock_of_fd_cast(const struct fdtable *fdt, int fd)
{
	struct file *file = file_of_fd_cast(fdt, fd);
	struct socket *sock;

	if (!file)
		return NULL;
	sock = core_cast(core_cast(file, struct file)->private_data, struct socket);
	return sock ? sock->sk : NULL;
}

/* When TCP began to process the segment it is handling on this socket, in
 * bpf_ktime_get_ns() time: the kernel refreshes tcp_mstamp (CLOCK_MONOTONIC
 * microseconds) as each received segment enters TCP's receive path
 * (tcp_rcv_established, tcp_rcv_state_process), so in those paths an
 * arrival costs a load where a clock read costs ~70 ns on this VM. Measured
 * under load: 0.5-2 us before sk_data_ready. The true instant lies in the
 * microsecond [us, us + 1): its middle is taken. Not for process context,
 * where tcp_mstamp is whenever the socket last sent or received. */
static __always_inline __u64 tcp_rx_time_ns(const struct tcp_sock *tp)
{
	return tp->tcp_mstamp * 1000 + 500;
}

/* A socket's address as a number, to hash: its distance from base, a
 * pointer that never moves (a map). The verifier allows no arithmetic on a
 * BTF pointer, and no reading half of a stored one, but lets a privileged
 * program subtract one pointer from another: in asm, so that the compiler
 * emits exactly that subtraction and folds nothing else into it (an XOR of
 * the result, read's key, must come after it). */
static __always_inline __u64 sk_addr_num(const void *sk, const void *base)
{
	__u64 addr = (__u64)sk;

	asm volatile("%[a] -= %[b]" : [a] "+r"(addr) : [b] "r"(base));
	return addr;
}

#endif /* NETTUNE_SOCK_BPF_H */
