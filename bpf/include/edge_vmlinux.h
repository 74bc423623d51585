/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few kernel types our tracing programs read, declared by hand instead of a generated
 * vmlinux.h. Why: a full vmlinux.h is ~3 MB of one particular kernel's types; CO-RE only needs
 * the names of the structs and of the fields we touch, and libbpf relocates every offset against
 * the running kernel's BTF at load time. Keeping this file small makes the fields we depend on
 * reviewable, and a kernel that renames one fails loudly at load with the field named.
 *
 * Every struct here carries preserve_access_index, so field offsets below are never used as-is.
 */
#pragma once

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef _Bool bool;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
};

struct sock {
	struct sock_common __sk_common;
};

struct tcp_sock {
	/* smoothed RTT << 3, in microseconds (include/linux/tcp.h) */
	u32 srtt_us;
};

struct net_device {
	possible_net_t nd_net;
};

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
};

struct kernfs_node {
	u64 id; /* the cgroup id: the inode number of the cgroup's directory */
};

struct cgroup;

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys_state *parent;
};

struct cgroup {
	struct cgroup_subsys_state self;
	int level; /* 0 = the hierarchy's root */
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp; /* the task's cgroup in the v2 (default) hierarchy */
};

struct task_struct {
	int pid;
	unsigned int __state; /* `long state` before 5.14: see edge_compat.bpf.h */
	struct css_set *cgroups;
};

#pragma clang attribute pop

/* values are relocated against the running kernel with bpf_core_enum_value() */
enum skb_drop_reason {
	SKB_CONSUMED = 1,
};
