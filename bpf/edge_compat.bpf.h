/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every kernel difference our programs meet, in one place, each with the kernel that made it
 * (in the manner of libbpf-tools' core_fixes.bpf.h). The study's oldest kernel is 5.15.
 *
 * Where a difference changes a tracepoint's arguments, CO-RE cannot help: a tp_btf program
 * that reads an argument the kernel's tracepoint does not pass is refused by the verifier
 * ("func 'btf_trace_X' doesn't have N-th argument"). Those differences get two programs, the
 * newer one and a _pre<version> fallback; the agent loads whichever the running kernel accepts
 * (KernelTelemetry.programs lists the pairs, and edge-agent(8) says what works on 5.15, 5.17
 * and 5.18+). Differences inside structs and enums are read with CO-RE below.
 *
 * What every program needs, whatever the version:
 *  - tp_btf (BTF-typed raw tracepoints, BPF trampoline): 5.5, and CONFIG_DEBUG_INFO_BTF=y.
 *  - BPF_MAP_TYPE_TASK_STORAGE from tracing programs (run-queue start stamps): 5.11.
 *  - tcp:tcp_probe: 4.16; tcp:tcp_retransmit_skb: 4.15 (arguments unchanged since for what we
 *    read; 6.13 appended an `err` argument to tcp_retransmit_skb, which we do not read).
 */
#pragma once

#include "edge_vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * 1. task_struct::state was renamed __state in 5.14 (commit 2f064a59a11f, "sched: Change
 *    task_struct::state"). 5.15 already has __state; the old name is kept so a backport
 *    kernel that still has `state` relocates too.
 */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long edge_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * 2. sched_switch gained its 4th argument `unsigned int prev_state` in 5.18 (commit
 *    fa2c3254d7cf, "sched/tracing: Don't re-read p->state when emitting sched_switch event").
 *    5.18+: edge_sched_switch takes the state the scheduler saw.
 *    5.15–5.17: edge_sched_switch_pre518 reads prev->__state instead; it can race with a wake-up
 *    that already made the task runnable again, which only makes a few preempted tasks look
 *    woken (their wait is counted from the wake-up instead of the preemption).
 */
#define EDGE_TASK_RUNNING 0

/*
 * 3. kfree_skb gained its 3rd argument `enum skb_drop_reason reason` in 5.17 (commit
 *    c504e5c2f964, "net: skb: introduce kfree_skb_reason()").
 *    5.17+: edge_kfree_skb counts by reason.
 *    5.15–5.16: edge_kfree_skb_pre517 counts every drop under EDGE_DROP_REASON_UNREPORTED.
 *    6.12 appended a 4th argument `struct sock *rx_sk`, which we do not read.
 */
/* the last slot of drop_count: reasons the kernel did not report, or beyond the map */
#define EDGE_DROP_REASON_UNREPORTED (EDGE_MAX_DROP_REASONS - 1)

/*
 * 4. The values of enum skb_drop_reason are not ABI: 5.19 put SKB_NOT_DROPPED_YET first and
 *    6.3 added SKB_CONSUMED (passed by paths that free without dropping), so every value is
 *    read from the running kernel's BTF. 6.4 (commit 071c0fc6fb91, "net: extend drop reasons for
 *    multiple subsystems") lets subsystems put their id in the high 16 bits; those land in
 *    EDGE_DROP_REASON_UNREPORTED.
 */
static __always_inline bool edge_drop_is_consumed(int reason)
{
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED);
}

static __always_inline __u32 edge_drop_slot(int reason)
{
	return reason < 0 || reason >= EDGE_DROP_REASON_UNREPORTED ? EDGE_DROP_REASON_UNREPORTED
								   : (__u32)reason;
}
