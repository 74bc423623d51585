// The C boundary: CMnl. Only the thin wrapper targets import this module.
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <linux/pkt_cls.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
