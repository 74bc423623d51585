// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Random packet loss for the experiment test bed (scenario S2), where sch_netem is missing:
 * a direct-action cls_bpf program on a veth's clsact egress drops each packet with probability
 * LOSS_PER_10000 / 10000, independently (bpf_get_prandom_u32 is a per-CPU PRNG).
 *
 * Not part of the agent: edge-experiment attaches it with `tc filter add ... bpf da obj`
 * inside a namespace it created. The experiment also sets gso_max_segs 1 on the device, so
 * every skb seen here is one wire packet and the rate is a per-packet rate, as netem's is.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* 2% (the study's S2). A compile-time constant: tc's object loader needs no map or .rodata setup. */
#define LOSS_PER_10000 200

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int edge_random_loss(struct __sk_buff *skb)
{
	if (bpf_get_prandom_u32() % 10000 < LOSS_PER_10000)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
