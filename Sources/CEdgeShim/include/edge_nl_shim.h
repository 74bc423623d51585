// Netlink part of the C shim: what Swift cannot import from libmnl and the kernel UAPI
// headers (function-like macros such as NLMSG_ALIGN / TC_H_MAKE / mnl_attr_for_each, and the
// layout arithmetic of NLMSG_ERROR replies).
//
// This header is public and shared by several modules, so it must not include
// <libmnl/libmnl.h> or any <linux/...> header: a second textual include of those from another
// module breaks clean builds. Only forward declarations and fixed-width integer types here;
// nl_shim.c includes the real headers.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct nlattr;
struct mnl_socket;

#ifdef __cplusplus
extern "C" {
#endif

/// NLMSG_ALIGN(len): netlink messages and attributes are padded to 4 bytes.
size_t edge_nl_align(size_t len);

/// TC_H_MAKE(major, minor): major keeps its upper 16 bits, minor its lower 16 bits.
uint32_t edge_nl_tc_h_make(uint32_t major, uint32_t minor);
/// TC_H_MAJ(handle) (upper 16 bits, still shifted).
uint32_t edge_nl_tc_h_maj(uint32_t handle);
/// TC_H_MIN(handle) (lower 16 bits).
uint32_t edge_nl_tc_h_min(uint32_t handle);

/// tcm_info of a filter: TC_H_MAKE(prio << 16, htons(protocol)).
uint32_t edge_nl_tc_filter_info(uint16_t priority, uint16_t protocol_host_order);
/// Priority half of a filter's tcm_info.
uint16_t edge_nl_tc_filter_priority(uint32_t info);
/// Protocol half of a filter's tcm_info, converted to host byte order.
uint16_t edge_nl_tc_filter_protocol(uint32_t info);

/// Turns on NETLINK_EXT_ACK (kernel error strings in NLMSG_ERROR replies).
/// Returns 0 or -1 with errno set.
int edge_nl_enable_ext_ack(struct mnl_socket *nl);

/// Walks the attribute stream [buf, buf + len) the way mnl_attr_for_each does.
/// *cursor is the byte offset of the next attribute (start with 0).
/// Returns 1 and fills type (flag bits NLA_F_NESTED/NLA_F_NET_BYTEORDER removed), payload and
/// payload_len when an attribute was read; 0 at the clean end of the stream; -1 when the
/// remaining bytes do not hold a well-formed attribute (length field too small or too large).
int edge_nl_attr_next(const void *buf, size_t len, size_t *cursor,
                      uint16_t *type, const void **payload, uint16_t *payload_len);

/// setns(fd, CLONE_NEWNET) for the calling thread (glibc only declares setns under
/// _GNU_SOURCE, which Swift's Glibc module does not see). Returns 0 or -1 with errno set.
int edge_nl_enter_netns(int netns_fd);

/// unshare(CLONE_NEWNET): moves the calling thread into a new, empty network namespace that
/// nothing else can see and that goes away with the thread. Returns 0 or -1 with errno set.
int edge_nl_unshare_netns(void);

/// Decodes an NLMSG_ERROR or NLMSG_DONE message.
/// Returns the positive errno it carries (0 for an ACK or a clean DONE), or -1 if the message
/// is too short to hold the status. *extack is set to the kernel's NLMSGERR_ATTR_MSG text
/// (pointing into the message, NUL-terminated) or to NULL when there is none.
int edge_nl_parse_status(const struct nlmsghdr *nlh, size_t len, const char **extack);

#ifdef __cplusplus
}
#endif
