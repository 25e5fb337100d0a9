// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The one nettune program at sock:inet_sock_set_state. Two families need
 * this hook, connect and accept, and it fires about ten times per
 * connection: two programs there cost two runs each time, where one run
 * can serve both (issue 23: 20 runs per connection became 10). Each half is
 * switched by read-only data, so the verifier drops the half that is off.
 *
 * The maps are the families': this object declares them by the same names
 * (bpf/connect_state.bpf.h, bpf/accept_state.bpf.h), and user space
 * (user/tracer/hooks.c) hands it the families' own maps before load, so each
 * family reads what this program wrote through its own skeleton.
 *
 * Attached as tp_btf (a raw tracepoint with BTF arguments): the kernel
 * calls the program with the socket pointer itself, without building the
 * classic tracepoint's record, and the socket's fields are plain loads.
 * About eight of the ten state changes of a connection are none of ours
 * and must cost next to nothing.
 */
#include "connect_state.bpf.h"
#include "accept_state.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Which families this program serves: set by user space. */
const volatile bool targ_connect = false;
const volatile bool targ_accept = false;

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, int oldstate, int newstate)
{
	RETURN_IF_EMPTY();
	if (targ_connect)
		connect_on_state(sk, oldstate, newstate);
	if (targ_accept)
		accept_on_state(sk, oldstate, newstate);
	return 0;
}
