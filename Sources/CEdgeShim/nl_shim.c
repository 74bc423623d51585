// Implementation of edge_nl_shim.h. This file (not the public header) includes libmnl and the
// kernel UAPI headers.
#define _GNU_SOURCE
#include "edge_nl_shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>

size_t edge_nl_align(size_t len) { return NLMSG_ALIGN(len); }

uint32_t edge_nl_tc_h_make(uint32_t major, uint32_t minor) { return TC_H_MAKE(major, minor); }
uint32_t edge_nl_tc_h_maj(uint32_t handle) { return TC_H_MAJ(handle); }
uint32_t edge_nl_tc_h_min(uint32_t handle) { return TC_H_MIN(handle); }

uint32_t edge_nl_tc_filter_info(uint16_t priority, uint16_t protocol_host_order) {
    // The protocol travels in network byte order inside the host-order tcm_info word.
    return TC_H_MAKE((uint32_t)priority << 16, htons(protocol_host_order));
}

uint16_t edge_nl_tc_filter_priority(uint32_t info) { return (uint16_t)(TC_H_MAJ(info) >> 16); }

uint16_t edge_nl_tc_filter_protocol(uint32_t info) { return ntohs((uint16_t)TC_H_MIN(info)); }

int edge_nl_enable_ext_ack(struct mnl_socket *nl) {
    int one = 1;
    return mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
}

int edge_nl_attr_next(const void *buf, size_t len, size_t *cursor,
                      uint16_t *type, const void **payload, uint16_t *payload_len) {
    if (*cursor >= len) return 0;
    const struct nlattr *attr = (const struct nlattr *)((const char *)buf + *cursor);
    // mnl_attr_ok checks that the header fits, that nla_len covers the header and that
    // nla_len does not run past the remaining bytes: the same test mnl_attr_for_each uses.
    if (!mnl_attr_ok(attr, (int)(len - *cursor))) return -1;
    *type = mnl_attr_get_type(attr);
    *payload = mnl_attr_get_payload(attr);
    *payload_len = mnl_attr_get_payload_len(attr);
    size_t advance = MNL_ALIGN(attr->nla_len);
    *cursor = (*cursor + advance > len) ? len : *cursor + advance;
    return 1;
}

static const char *find_extack(const void *tlvs, size_t len) {
    size_t cursor = 0;
    uint16_t type = 0, plen = 0;
    const void *data = NULL;
    int rc;
    while ((rc = edge_nl_attr_next(tlvs, len, &cursor, &type, &data, &plen)) == 1) {
        // Only accept a NUL-terminated string that lies fully inside the attribute.
        if (type == NLMSGERR_ATTR_MSG && plen > 0 && memchr(data, '\0', plen) != NULL)
            return (const char *)data;
    }
    return NULL;
}

int edge_nl_parse_status(const struct nlmsghdr *nlh, size_t len, const char **extack) {
    *extack = NULL;
    if (len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len) return -1;
    const char *payload = (const char *)nlh + NLMSG_HDRLEN;
    size_t payload_len = nlh->nlmsg_len - NLMSG_HDRLEN;

    if (nlh->nlmsg_type == NLMSG_DONE) {
        // A dump's DONE carries an int status (0 or -errno), then the ext-ack TLVs.
        if (payload_len < sizeof(int)) return 0;  // very old kernels sent an empty DONE
        int status;
        memcpy(&status, payload, sizeof(status));
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
            *extack = find_extack(payload + NLMSG_ALIGN(sizeof(int)),
                                  payload_len - NLMSG_ALIGN(sizeof(int)));
        return status < 0 ? -status : status;
    }

    if (payload_len < sizeof(struct nlmsgerr)) return -1;
    const struct nlmsgerr *err = (const struct nlmsgerr *)payload;
    int code = err->error < 0 ? -err->error : err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return code;

    // The TLVs follow the echoed request: only its header when the kernel capped the echo
    // (always for ACKs, and with NETLINK_CAP_ACK), the whole request otherwise.
    size_t tlv_offset = sizeof(struct nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        if (err->msg.nlmsg_len < sizeof(struct nlmsghdr)) return code;
        tlv_offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
    }
    tlv_offset = NLMSG_ALIGN(tlv_offset);
    if (tlv_offset < payload_len)
        *extack = find_extack(payload + tlv_offset, payload_len - tlv_offset);
    return code;
}

int edge_nl_enter_netns(int netns_fd) { return setns(netns_fd, CLONE_NEWNET); }

int edge_nl_unshare_netns(void) { return unshare(CLONE_NEWNET); }
