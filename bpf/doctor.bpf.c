// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * One trivial program per attach type. `nettune doctor` loads and attaches
 * each alone, triggers it, and checks that it ran: the only reliable way to
 * know what works on a kernel (config, lockdown and LSMs all interfere).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "doctor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;
__u64 hits[DOCTOR_NR];

static __always_inline void hit(__u32 kind)
{
	if ((bpf_get_current_pid_tgid() >> 32) == targ_tgid && kind < DOCTOR_NR)
		__sync_fetch_and_add(&hits[kind], 1);
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int doctor_tracepoint(void *ctx)
{
	hit(DOCTOR_TRACEPOINT);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(doctor_tp_btf, struct pt_regs *regs, long id)
{
	hit(DOCTOR_TP_BTF);
	return 0;
}

SEC("raw_tp/sys_enter")
int doctor_raw_tp(void *ctx)
{
	hit(DOCTOR_RAW_TP);
	return 0;
}

SEC("uprobe")
int doctor_uprobe(struct pt_regs *ctx)
{
	hit(DOCTOR_UPROBE);
	return 0;
}

SEC("kprobe")
int doctor_kprobe(struct pt_regs *ctx)
{
	hit(DOCTOR_KPROBE);
	return 0;
}

SEC("fentry")
int BPF_PROG(doctor_fentry)
{
	hit(DOCTOR_FENTRY);
	return 0;
}
