/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Log-linear histogram slot math, shared by every BPF program that records a latency.
 * The userspace twin is EdgeCore's LogLinearHistogram: both MUST stay identical.
 *
 * 4 mantissa bits (16 sub-buckets per power of two) bound the relative bucket width at 1/16,
 * so a quantile interpolated inside its bucket is within ~6% of the exact value; 2 bits (25%)
 * would not meet the 10% target for p99. Values are nanoseconds; slot 511 holds >= 2^35 ns (34 s).
 */
#pragma once

#define EDGE_HIST_MANT_BITS 4
#define EDGE_HIST_SUB (1u << EDGE_HIST_MANT_BITS)
#define EDGE_HIST_SLOTS 512
#define EDGE_HIST_MAX_EXP 34

/* Index of the highest set bit of v (v > 0), without loops: BPF has no clz instruction. */
static __always_inline __u32 edge_fls64(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

static __always_inline __u32 edge_hist_slot(__u64 v)
{
	__u32 e, slot;

	if (v < EDGE_HIST_SUB)
		return (__u32)v;
	e = edge_fls64(v);
	if (e > EDGE_HIST_MAX_EXP)
		return EDGE_HIST_SLOTS - 1;
	slot = (e - (EDGE_HIST_MANT_BITS - 1)) * EDGE_HIST_SUB +
	       (__u32)((v >> (e - EDGE_HIST_MANT_BITS)) & (EDGE_HIST_SUB - 1));
	/* Keep the verifier's bound on the array index explicit. The empty asm stops clang from
	 * folding the clamp away: 6.1's verifier loses the bound of the OR above and would reject
	 * the map-value access ("unbounded min value"), 6.18's does not (found in the VM test bed). */
	asm volatile("" : "+r"(slot));
	return slot < EDGE_HIST_SLOTS ? slot : EDGE_HIST_SLOTS - 1;
}
