/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map layouts shared between edt.bpf.c and the agent (Sources/EdgeAgent/Shaping reads and
 * writes them as raw bytes; EDTMapLayout.swift mirrors every offset here).
 *
 * A class is one rate limit. Packets find their class by source address (LPM trie, IPv4 stored
 * as an IPv4-mapped IPv6 address so one trie serves both families) or, failing that, by the
 * cgroup of their socket (the leaf cgroup or any ancestor up to EDT_CGROUP_DEPTH levels).
 */
#pragma once

#define EDT_MAX_CLASSES 1024
#define EDT_MAX_PREFIXES 4096
#define EDT_MAX_CGROUPS 1024
/* ancestors of the packet's cgroup that are looked up (a unit's sub-cgroups match the unit) */
#define EDT_CGROUP_DEPTH 8
/* bytes of selector text kept per class for the agent (never read by the program) */
#define EDT_SELECTOR_LEN 120

/* edt_config: the skb->mark bits that carry a class id from a pod's host-side veth to the
 * uplink. Default: bits 21-31 (class ids 1-2047), clear of kube-proxy's 0x4000/0x8000 and of
 * the bits Calico allocates first from its default 0xffff0000 mask (it takes them lowest first);
 * configurable ([shaping] mark_mask) for nodes where something else owns them. 0 switches the
 * mark off (the uplink then classifies by source address and cgroup only). */
#define EDT_DEFAULT_MARK_MASK 0xffe00000u
#define EDT_DEFAULT_MARK_SHIFT 21

/* edt_class.flags */
#define EDT_F_ECN 1 /* CE-mark ECT packets delayed by more than horizon/2 */

/* edt_prefixes value: the class id, with EDT_PREFIX_IPV6_ONLY set for an IPv6 selector. One trie
 * serves both families, so an IPv6 prefix shorter than /96 (::/0 above all) also covers the
 * IPv4-mapped addresses IPv4 packets are looked up as; the flag keeps such a match from
 * classifying an IPv4 packet (it falls through to the cgroup classes). */
#define EDT_PREFIX_IPV6_ONLY 0x80000000u

/* edt_prefixes key: prefixlen counts bits of addr; IPv4 a.b.c.d/n is ::ffff:a.b.c.d/(96+n) */
struct edt_prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* edt_classes value. Shared by every CPU: counters are atomic adds, t_last a compare-and-swap. */
struct edt_class {
	__u64 rate;       /* bytes per second, 125000 (1 Mbit/s) … 12500000000 (100 Gbit/s) */
	__u64 horizon_ns; /* packets that would leave later than now + horizon are dropped */
	__u64 t_last;     /* departure time of the last accepted packet, CLOCK_MONOTONIC ns */
	__u64 bytes;      /* wire bytes accepted (GSO packets counted as their segments) */
	__u64 packets;    /* packets accepted (a GSO packet counts once) */
	__u64 drops;      /* packets dropped past the horizon */
	__u64 ecn_marks;  /* packets CE-marked */
	__u32 flags;      /* EDT_F_* */
	__u32 pad;
};

/* edt_config value (a one-entry array, written by the agent at setup) */
struct edt_config {
	__u32 mark_mask;  /* skb->mark bits holding the class id; 0 = not used */
	__u32 mark_shift; /* the mask's lowest set bit */
};

/* edt_class_meta value: what the operator typed, so `shaping.list` survives agent restarts */
struct edt_class_meta {
	char selector[EDT_SELECTOR_LEN];
};
