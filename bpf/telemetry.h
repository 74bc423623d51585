/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Map layouts shared between telemetry.bpf.c and the agent (EdgeBPF reads them as raw bytes). */
#pragma once

#define EDGE_MAX_PEERS 1024
#define EDGE_MAX_DROP_REASONS 256

/* one per-CPU histogram: RTT and run-queue latency, nanoseconds */
struct edge_hist {
	__u64 slots[512];
};

/* per remote peer: shared between CPUs, so 32-bit atomics keep the entry small (wraps are
 * handled by the reader's wrapping deltas) */
struct edge_peer_key {
	__u32 family; /* AF_INET or AF_INET6 */
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};

struct edge_peer_hist {
	__u32 slots[512];
};
