// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * EDT (earliest departure time) egress shaping, attached as a direct-action cls_bpf filter on
 * clsact egress of an Ethernet device.
 *
 * For a packet of a known class:
 *     delay = round(wire_len * NSEC_PER_SEC / rate)
 *     slot  = max(now, t_last) + delay
 *     slot - now >  horizon            -> drop (TC_ACT_SHOT), t_last unchanged
 *     t     = max(slot, skb->tstamp)   (the packet's own departure time is never brought forward)
 *     t - now >  horizon/2, ECT, ECN   -> set CE, then accept
 *     accept: t_last = t, skb->tstamp = t
 * With fq below (mq/fq or a root fq) the timestamp is honoured: the packet waits until t, so a
 * class is paced at its rate and its queueing delay is bounded by the horizon instead of being
 * one unbounded virtual FIFO. Without fq the timestamp is ignored and the same arithmetic
 * polices: a class may run ahead of its rate by at most one horizon, then its packets drop
 * (a local drop makes TCP back off at once, see tcp_transmit_skb's NET_XMIT handling).
 *
 * The packet's own stamp: TCP sets skb->tstamp to its pacing departure time (BBR, or any
 * socket with SO_MAX_PACING_RATE) and SO_TXTIME sockets set it themselves. Cilium's
 * edt_sched_departure takes the later of that stamp and the class's slot; so do we. The class
 * books t (t_last = t), so a stamp later than the slot also delays the class's next packets: the
 * class is busy until this packet has left. The horizon only judges the class's own backlog
 * (slot - now): a socket that paces itself far ahead is fq's business (its own horizon), not a
 * sign that the class is overbooked. Forwarding clears receive timestamps before egress
 * (skb_clear_tstamp), so a stamp seen here is a delivery time on CLOCK_MONOTONIC or 0.
 *
 * CE at horizon/2 gives ECN flows a signal while there is still room, so they slow down before
 * anything is dropped; non-ECT flows only ever see the drop at the horizon.
 *
 * wire_len: the bytes the packet occupies on the wire above L1. For a GSO/TSO super-packet
 * (gso_segs > 1) each segment repeats the headers, as in the kernel's qdisc_pkt_len_init():
 *     wire_len = skb->len + (gso_segs - 1) * hdr_len,
 *     hdr_len  = Ethernet + IP header (+ options) + TCP header (doff*4) | UDP header (8).
 * Preamble, inter-frame gap and FCS are not counted (tc and fq do not count them either).
 *
 * Overflow: wire_len < 2^26 (skb->len < 2^17 for GSO, gso_segs < 2^16, hdr_len < 2^8, or
 * skb->len < 2^32 otherwise) and NSEC_PER_SEC < 2^30, so wire_len * NSEC_PER_SEC < 2^56 for
 * every GSO packet; in general the product fits u64 for any wire_len < 2^34 (16 GiB), far
 * above anything an skb can carry. Adding rate/2 (< 2^33 at 100 Gbit/s) for rounding keeps it
 * below 2^64. The division is by rate >= 125000 bytes/s (1 Mbit/s), so the delay of one packet
 * is at most ~2^26 * 8 µs ≈ 9 minutes and t cannot wrap a u64 of nanoseconds.
 * Rounding to the nearest ns errs by at most 0.5 ns per packet: 0.4 % of a 1500-byte packet's
 * 120 ns at 100 Gbit/s, nothing at lower rates.
 *
 * Concurrency: classes are shared by all CPUs. t_last advances with a compare-and-swap loop
 * (BPF ISA v3, kernel >= 5.12) so two CPUs never book the same slot; after EDT_CAS_ATTEMPTS
 * lost races the packet is accepted with a plain store, which is what Cilium always does (it
 * can let a few packets through early under heavy contention, never holds one back). Objects
 * built for an older ISA (clang < 20 without -mcpu=v3) use that plain store only.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "edt.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NSEC_PER_SEC 1000000000ULL
#define EDT_CAS_ATTEMPTS 4
#define INET_ECN_MASK 3
#define INET_ECN_CE 3

#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/* source prefix -> class id */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, EDT_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edt_prefix_key);
	__type(value, __u32);
} edt_prefixes SEC(".maps");

/* cgroup id (cgroup2 inode number) -> class id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EDT_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u32);
} edt_cgroups SEC(".maps");

/* class id -> rate, horizon, departure state and counters */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EDT_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct edt_class);
} edt_classes SEC(".maps");

/* class id -> selector text; the agent's bookkeeping, pinned with the rest so it survives
 * restarts together with the classes it describes. The program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EDT_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct edt_class_meta);
} edt_class_meta SEC(".maps");

/* key 0: the mark bits (struct edt_config). A map, not .rodata, so that a restarted agent with
 * another mask reaches the program already attached (the pinned one it adopts) and every veth
 * classifier at once. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edt_config);
} edt_config SEC(".maps");

/* What the lookup and the scheduler need from the headers. */
struct edt_pkt {
	struct edt_prefix_key key;
	__u32 hdr_len; /* L2 + L3 + L4 header bytes, repeated by every GSO segment */
	__u8 ecn;      /* the ECN field (INET_ECN_*) */
	__u8 family;   /* 4, 6, or 0 for anything else */
};

static __always_inline __u32 l4_header_len(struct __sk_buff *skb, __u8 proto, __u32 l4_off)
{
	__u8 doff_byte;

	if (proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, l4_off + 12, &doff_byte, 1))
			return 0;
		return (__u32)(doff_byte >> 4) * 4;
	}
	if (proto == IPPROTO_UDP)
		return 8;
	return 0;
}

/*
 * The fast path of parse: the headers read in place (direct packet access) when they lie in the
 * skb's linear part, which they do for nearly every packet (the stack and veth put headers there;
 * GSO packets keep theirs linear). Two bpf_skb_load_bytes copies cost more than the trie lookup
 * they feed. Returns 0 when the headers are not all in place; parse() then copies them.
 * `l4`: also the L4 header length (the uplink needs it for GSO segments, the classifier not).
 */
static __always_inline int parse_direct(struct __sk_buff *skb, struct edt_pkt *p, int l4)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + ETH_HLEN;
		__u32 ihl;

		if ((void *)(ip + 1) > data_end)
			return 0;
		ihl = (__u32)ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return 1; /* not IPv4 we can read: unclassified, as parse() would leave it */
		p->hdr_len = 0;
		if (l4 && ip->protocol == IPPROTO_TCP) {
			__u8 *doff = data + ETH_HLEN + (ihl & 0x3c) + 12;

			if ((void *)(doff + 1) > data_end)
				return 0;
			p->hdr_len = ETH_HLEN + ihl + (__u32)(*doff >> 4) * 4;
		} else if (l4 && ip->protocol == IPPROTO_UDP) {
			p->hdr_len = ETH_HLEN + ihl + 8;
		} else if (l4) {
			p->hdr_len = ETH_HLEN + ihl;
		}
		p->family = 4;
		p->key.prefixlen = 128;
		p->key.addr[10] = 0xff;
		p->key.addr[11] = 0xff;
		__builtin_memcpy(&p->key.addr[12], &ip->saddr, 4);
		p->ecn = ip->tos & INET_ECN_MASK;
		return 1;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;
		__u8 *raw = (__u8 *)ip6;

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		p->hdr_len = 0;
		if (l4 && ip6->nexthdr == IPPROTO_TCP) {
			__u8 *doff = (__u8 *)(ip6 + 1) + 12;

			if ((void *)(doff + 1) > data_end)
				return 0;
			p->hdr_len = ETH_HLEN + sizeof(*ip6) + (__u32)(*doff >> 4) * 4;
		} else if (l4 && ip6->nexthdr == IPPROTO_UDP) {
			p->hdr_len = ETH_HLEN + sizeof(*ip6) + 8;
		} else if (l4) {
			p->hdr_len = ETH_HLEN + sizeof(*ip6);
		}
		p->family = 6;
		p->key.prefixlen = 128;
		__builtin_memcpy(p->key.addr, &ip6->saddr, 16);
		p->ecn = (raw[1] >> 4) & INET_ECN_MASK;
		return 1;
	}
	return 1; /* neither IPv4 nor IPv6: unclassified */
}

static __always_inline void parse(struct __sk_buff *skb, struct edt_pkt *p)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		__u32 ihl;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
			return;
		ihl = (__u32)ip.ihl * 4;
		if (ihl < sizeof(ip))
			return;
		p->family = 4;
		p->key.prefixlen = 128;
		p->key.addr[10] = 0xff;
		p->key.addr[11] = 0xff;
		__builtin_memcpy(&p->key.addr[12], &ip.saddr, 4);
		p->ecn = ip.tos & INET_ECN_MASK;
		p->hdr_len = ETH_HLEN + ihl + l4_header_len(skb, ip.protocol, ETH_HLEN + ihl);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u8 *raw = (__u8 *)&ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)))
			return;
		p->family = 6;
		p->key.prefixlen = 128;
		__builtin_memcpy(p->key.addr, &ip6.saddr, 16);
		/* traffic class straddles bytes 0 and 1; its ECN bits are bits 4-5 of byte 1 */
		p->ecn = (raw[1] >> 4) & INET_ECN_MASK;
		/* extension headers are not walked: GSO packets carry TCP or UDP right after */
		p->hdr_len = ETH_HLEN + sizeof(ip6) + l4_header_len(skb, ip6.nexthdr, ETH_HLEN + sizeof(ip6));
	}
}

static __always_inline __u32 *cgroup_class(struct __sk_buff *skb)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	__u32 *cid;
	int level;

	if (!id) /* no socket (forwarded traffic) or no cgroup2 data */
		return NULL;
	cid = bpf_map_lookup_elem(&edt_cgroups, &id);
	if (cid)
		return cid;
	/* most specific ancestor first: a unit's class covers its sub-cgroups */
	for (level = EDT_CGROUP_DEPTH; level >= 1; level--) {
		id = bpf_skb_ancestor_cgroup_id(skb, level);
		if (!id)
			continue;
		cid = bpf_map_lookup_elem(&edt_cgroups, &id);
		if (cid)
			return cid;
	}
	return NULL;
}

/* Sets the ECN field to CE (the caller checked the packet is ECT). IPv4 fixes the header
 * checksum incrementally; IPv6 has none. Returns 1 when the packet was marked. */
static __always_inline int mark_ce(struct __sk_buff *skb, const struct edt_pkt *p)
{
	__u8 head[2];

	if (bpf_skb_load_bytes(skb, ETH_HLEN, head, 2))
		return 0;
	if (p->family == 4) {
		__u16 old_word, new_word;

		__builtin_memcpy(&old_word, head, 2);
		head[1] |= INET_ECN_CE;
		__builtin_memcpy(&new_word, head, 2);
		if (bpf_skb_store_bytes(skb, ETH_HLEN, head, 2, 0))
			return 0;
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_word, new_word, 2))
			return 0;
		return 1;
	}
	head[1] |= INET_ECN_CE << 4;
	return bpf_skb_store_bytes(skb, ETH_HLEN + 1, &head[1], 1, 0) == 0;
}

/* The class whose id the veth classifier wrote into the mark, if it still exists. */
static __always_inline struct edt_class *mark_class(struct __sk_buff *skb)
{
	__u32 zero = 0, id;
	struct edt_config *cfg = bpf_map_lookup_elem(&edt_config, &zero);

	if (!cfg || !cfg->mark_mask)
		return NULL;
	id = (skb->mark & cfg->mark_mask) >> (cfg->mark_shift & 31);
	if (!id)
		return NULL;
	return bpf_map_lookup_elem(&edt_classes, &id);
}

SEC("tc")
int edt_egress(struct __sk_buff *skb)
{
	struct edt_pkt p = {};
	struct edt_class *c;
	__u32 *cid = NULL;
	__u32 class_id;
	__u64 wire, rate, horizon, delay, now, last, stamp, slot = 0, t = 0;
	__u32 segs;
	int i, booked = 0;

	if (!parse_direct(skb, &p, 1))
		parse(skb, &p);
	/* 1. the class a pod's veth classifier put in the mark (its source address may be gone:
	 * masquerade), 2. the source address, 3. the socket's cgroup */
	c = mark_class(skb);
	if (!c) {
		if (p.family) {
			cid = bpf_map_lookup_elem(&edt_prefixes, &p.key);
			/* an IPv6 selector (::/0 included) never classifies an IPv4 packet */
			if (cid && p.family == 4 && (*cid & EDT_PREFIX_IPV6_ONLY))
				cid = NULL;
		}
		if (!cid)
			cid = cgroup_class(skb);
		if (!cid)
			return TC_ACT_OK;
		class_id = *cid & ~EDT_PREFIX_IPV6_ONLY;
		c = bpf_map_lookup_elem(&edt_classes, &class_id);
		if (!c)
			return TC_ACT_OK;
	}
	rate = READ_ONCE(c->rate);
	if (!rate)
		return TC_ACT_OK;
	horizon = READ_ONCE(c->horizon_ns);

	wire = skb->len;
	segs = skb->gso_segs;
	if (segs > 1 && p.hdr_len)
		wire += (__u64)(segs - 1) * p.hdr_len;
	delay = (wire * NSEC_PER_SEC + rate / 2) / rate;
	now = bpf_ktime_get_ns();

	/* A departure time the packet already carries (TCP pacing, BBR, SO_TXTIME) is kept when it
	 * is later than the class's slot: the class never makes a paced packet leave earlier. A
	 * stamp in the past counts as now. */
	stamp = skb->tstamp;
	if (stamp < now)
		stamp = now;

	for (i = 0; i < EDT_CAS_ATTEMPTS; i++) {
		last = READ_ONCE(c->t_last);
		slot = (last > now ? last : now) + delay;
		if (slot - now > horizon) {
			__sync_fetch_and_add(&c->drops, 1);
			return TC_ACT_SHOT;
		}
		t = slot > stamp ? slot : stamp;
#if defined(__BPF_CPU_VERSION__) && __BPF_CPU_VERSION__ >= 3
		if (__sync_val_compare_and_swap(&c->t_last, last, t) == last) {
			booked = 1;
			break;
		}
#else
		break;
#endif
	}
	if (!booked)
		WRITE_ONCE(c->t_last, t);

	if ((READ_ONCE(c->flags) & EDT_F_ECN) && p.ecn && p.ecn != INET_ECN_CE &&
	    slot - now > horizon / 2 && mark_ce(skb, &p))
		__sync_fetch_and_add(&c->ecn_marks, 1);

	__sync_fetch_and_add(&c->bytes, wire);
	__sync_fetch_and_add(&c->packets, 1);
	skb->tstamp = t;
	return TC_ACT_OK;
}

/*
 * The classifier on a pod's host-side veth, clsact ingress (what the pod sends). Here the source
 * address is still the pod's own; after masquerade at the uplink it is the node's. The class id
 * goes into skb->mark under edt_config's mask, the rest of the mark is kept:
 *  - the mark survives routing, forwarding and NAT inside the host namespace (iptables/nft
 *    MASQUERADE rewrites addresses, never skb->mark; conntrack's mark is a separate field), and is
 *    only cleared when a packet crosses into another namespace (skb_scrub_packet), which also
 *    means a pod cannot forge it: its own marks are scrubbed on the way out of its namespace;
 *  - queue_mapping (Cilium's choice) doubles as the recorded RX queue that the uplink's TX queue
 *    selection hashes with (skb_tx_hash), so a class id left there steers TX queues and must be
 *    cleared at the uplink; priority and tc_classid are read by qdiscs (mq/fq, prio, htb). The
 *    mark has no meaning for the kernel outside the bits other tools chose, hence the mask.
 * Nothing is dropped or delayed here: scheduling happens once, at the uplink.
 */
SEC("tc")
int edt_classify(struct __sk_buff *skb)
{
	struct edt_pkt p = {};
	struct edt_config *cfg;
	__u32 zero = 0, bits, class_id, *cid;

	cfg = bpf_map_lookup_elem(&edt_config, &zero);
	if (!cfg || !cfg->mark_mask)
		return TC_ACT_OK;
	if (!parse_direct(skb, &p, 0))
		parse(skb, &p);
	if (!p.family)
		return TC_ACT_OK;
	cid = bpf_map_lookup_elem(&edt_prefixes, &p.key);
	if (!cid)
		return TC_ACT_OK;
	/* an IPv6 selector (::/0 included) never classifies an IPv4 packet */
	if (p.family == 4 && (*cid & EDT_PREFIX_IPV6_ONLY))
		return TC_ACT_OK;
	class_id = *cid & ~EDT_PREFIX_IPV6_ONLY;
	bits = (class_id << (cfg->mark_shift & 31)) & cfg->mark_mask;
	/* an id the mask cannot hold whole is not written: a truncated id would be another class */
	if (bits >> (cfg->mark_shift & 31) != class_id)
		return TC_ACT_OK;
	skb->mark = (skb->mark & ~cfg->mark_mask) | bits;
	return TC_ACT_OK;
}
