// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * edge-agent kernel telemetry: TCP RTT (per node and per peer), TCP retransmits, packet drops
 * by kfree_skb reason, and run-queue latency. All hooks are tp_btf: typed arguments, no tracefs.
 *
 * Counters are cumulative; the agent reads them every interval and keeps deltas in userspace,
 * so nothing here resets or allocates on the hot path.
 */
#include "edge_vmlinux.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "edge_hist.h"
#include "telemetry.h"
#include "edge_compat.bpf.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Network namespace filter (inode number of the netns, 0 = every namespace). Set before load. */
const volatile __u32 targ_netns_inum = 0;

/* Run-queue latency scope (telemetry.cgroup): the id of a cgroup v2 directory (its inode) and its
 * depth below the hierarchy's root; 0 = every task. Set before load. */
const volatile __u64 targ_cgroup_id = 0;
const volatile __u32 targ_cgroup_level = 0;
#define EDGE_MAX_CGROUP_DEPTH 32

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge_hist);
} rtt_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge_hist);
} runq_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, EDGE_MAX_PEERS);
	__type(key, struct edge_peer_key);
	__type(value, struct edge_peer_hist);
} peer_rtt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} retrans_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EDGE_MAX_DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} drop_count SEC(".maps");

/* wakeup timestamp per task: task storage is cheaper than a pid-keyed hash on the sched hooks */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} runq_start SEC(".maps");

static __always_inline bool netns_ok(struct net *net)
{
	if (!targ_netns_inum)
		return 1;
	if (!net)
		return 0;
	return BPF_CORE_READ(net, ns.inum) == targ_netns_inum;
}

static __always_inline bool sock_netns_ok(struct sock *sk)
{
	if (!targ_netns_inum)
		return 1;
	return netns_ok(BPF_CORE_READ(sk, __sk_common.skc_net.net));
}

static __always_inline void hist_add(void *map, __u64 value)
{
	__u32 zero = 0;
	struct edge_hist *h = bpf_map_lookup_elem(map, &zero);
	__u32 slot;

	if (!h)
		return;
	slot = edge_hist_slot(value);
	if (slot < EDGE_HIST_SLOTS)
		h->slots[slot]++; /* per-CPU value: no atomic needed */
}

static __always_inline void peer_add(struct sock *sk, __u64 rtt_ns)
{
	struct edge_peer_key key = {};
	struct edge_peer_hist *h;
	__u32 slot;

	key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (key.family == AF_INET) {
		__be32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(key.addr, &daddr, 4);
	} else if (key.family == AF_INET6) {
		BPF_CORE_READ_INTO(&key.addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return;
	}

	h = bpf_map_lookup_elem(&peer_rtt, &key);
	if (!h) {
		static const struct edge_peer_hist empty = {};
		bpf_map_update_elem(&peer_rtt, &key, &empty, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&peer_rtt, &key);
		if (!h)
			return;
	}
	slot = edge_hist_slot(rtt_ns);
	if (slot < EDGE_HIST_SLOTS)
		__sync_fetch_and_add(&h->slots[slot], 1);
}

/* Every received segment on an established socket: sample its smoothed RTT. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(edge_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 srtt_us8, rtt_ns;

	if (!sock_netns_ok(sk))
		return 0;
	srtt_us8 = BPF_CORE_READ(tp, srtt_us);
	if (!srtt_us8)
		return 0; /* no RTT measured yet */
	rtt_ns = srtt_us8 * 125; /* srtt_us is usec << 3: usec/8 * 1000 */
	hist_add(&rtt_hist, rtt_ns);
	peer_add(sk, rtt_ns);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(edge_tcp_retransmit, struct sock *sk, struct sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *c;

	if (!sock_netns_ok(sk))
		return 0;
	c = bpf_map_lookup_elem(&retrans_count, &zero);
	if (c)
		(*c)++;
	return 0;
}

static __always_inline bool skb_netns_ok(struct sk_buff *skb)
{
	struct net_device *dev;
	struct net *net = 0;

	if (!targ_netns_inum)
		return 1;
	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		net = BPF_CORE_READ(dev, nd_net.net);
	else {
		struct sock *sk = BPF_CORE_READ(skb, sk);
		if (sk)
			net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	}
	return netns_ok(net);
}

static __always_inline void drop_add(__u32 key)
{
	__u64 *c = bpf_map_lookup_elem(&drop_count, &key);

	if (c)
		(*c)++;
}

/* 5.17+: drops by reason (edge_compat.bpf.h, 3) */
SEC("tp_btf/kfree_skb")
int BPF_PROG(edge_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	if (edge_drop_is_consumed(reason) || !skb_netns_ok(skb))
		return 0;
	drop_add(edge_drop_slot(reason));
	return 0;
}

/* 5.15–5.16: the tracepoint has no reason; count the drop all the same */
SEC("tp_btf/kfree_skb")
int BPF_PROG(edge_kfree_skb_pre517, struct sk_buff *skb, void *location)
{
	if (!skb_netns_ok(skb))
		return 0;
	drop_add(EDGE_DROP_REASON_UNREPORTED);
	return 0;
}

static __always_inline void runq_enqueued(struct task_struct *p)
{
	__u64 *ts = bpf_task_storage_get(&runq_start, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
}

/* Is the task in targ_cgroup's subtree? Its v2 cgroup is walked up to targ_cgroup_level and that
 * ancestor's id compared. The v2 cgroup identifies tasks even on v1/hybrid hosts, where the unified
 * hierarchy carries no controllers. */
static __always_inline bool task_in_scope(struct task_struct *p)
{
	struct cgroup *cg;
	int level, i;

	if (!targ_cgroup_id)
		return 1;
	cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	if (!cg)
		return 0;
	level = BPF_CORE_READ(cg, level);
	if (level < (int)targ_cgroup_level)
		return 0;
	for (i = 0; i < EDGE_MAX_CGROUP_DEPTH && level > (int)targ_cgroup_level; i++, level--) {
		cg = BPF_CORE_READ(cg, self.parent, cgroup);
		if (!cg)
			return 0;
	}
	if (level != (int)targ_cgroup_level)
		return 0;
	return BPF_CORE_READ(cg, kn, id) == targ_cgroup_id;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(edge_sched_wakeup, struct task_struct *p)
{
	runq_enqueued(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(edge_sched_wakeup_new, struct task_struct *p)
{
	runq_enqueued(p);
	return 0;
}

static __always_inline void runq_switched(struct task_struct *prev, struct task_struct *next, long prev_state)
{
	__u64 *ts;

	/* a preempted task goes straight back to the run queue */
	if (prev_state == EDGE_TASK_RUNNING)
		runq_enqueued(prev);

	ts = bpf_task_storage_get(&runq_start, next, 0, 0);
	if (!ts || !*ts)
		return;
	/* telemetry.cgroup: only tasks of the scoped cgroup count, in every sched_switch variant */
	if (task_in_scope(next))
		hist_add(&runq_hist, bpf_ktime_get_ns() - *ts);
	*ts = 0;
}

/* 5.18+: the scheduler passes prev's state (edge_compat.bpf.h, 2) */
SEC("tp_btf/sched_switch")
int BPF_PROG(edge_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	runq_switched(prev, next, prev_state);
	return 0;
}

/* 5.15–5.17: no prev_state argument; read it from the task */
SEC("tp_btf/sched_switch")
int BPF_PROG(edge_sched_switch_pre518, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	runq_switched(prev, next, edge_task_state(prev));
	return 0;
}
