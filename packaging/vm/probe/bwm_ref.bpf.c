// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reference program for bwm-bench's per-packet cost figures: a tc program that does nothing
 * but let the packet pass. Attached on the pod's eth0 egress (clsact, direct-action) in every
 * arm, it sees the same packets as edt_classify; its run_time_ns / run_cnt under
 * kernel.bpf_stats_enabled is the floor on this machine (entering a program plus the stats'
 * own clock reads), which TCG inflates as much as it inflates ours.
 *
 * Not part of the agent; bwm-bench.sh compiles it on the host (clang -target bpf) and loads it
 * with `tc filter add ... bpf da obj`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int bwm_ref(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}
