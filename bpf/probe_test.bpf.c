// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test fixture, not shipped (nothing embeds it): two programs on one hook, one of which every
 * kernel refuses the way 5.15 refuses edge_sched_switch (it reads a tracepoint argument the
 * kernel does not pass). BPFProbeTests check that only that one is left out.
 */
#include "edge_vmlinux.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 switches = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(probe_test_accepted, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__sync_fetch_and_add(&switches, 1);
	return 0;
}

/* sched_switch passes 4 arguments (3 before 5.18): an 8th is refused everywhere */
SEC("tp_btf/sched_switch")
int BPF_PROG(probe_test_refused, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state, long a5, long a6, long a7, long a8)
{
	if (a8)
		__sync_fetch_and_add(&switches, 1);
	return 0;
}
