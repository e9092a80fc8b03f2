/* The kernel's network: find a NIC on PCI, bring up the stack on it with
 * the command-line configuration, and the wait primitive programs loop on.
 *
 * Command-line options: ip= (10.0.2.15), mask= (255.255.255.0), gw=
 * (10.0.2.1), nic=e1000|virtio|any (any: first supported found). */
#ifndef IOVIRT_GUEST_KERNEL_KNET_H
#define IOVIRT_GUEST_KERNEL_KNET_H

#include <stdint.h>

#include "guest/drivers/nic.h"
#include "guest/net/net.h"

#define KNET_DEFAULT_IP   NET_IP4(10, 0, 2, 15)
#define KNET_DEFAULT_MASK NET_IP4(255, 255, 255, 0)
#define KNET_DEFAULT_GW   NET_IP4(10, 0, 2, 1)
#define KNET_MAX_WAIT_NS  2000000ull  /* idle waits re-check stack timers this often */

struct kernel;

struct kernel_net {
    struct nic nic;
    uint64_t seen_irqs;
    struct net_stack stack;
};

/* 0 and k->net set, or -ENODEV (no NIC) / -EINVAL (bad options). */
int knet__up(struct kernel *k);
/* One pass of the stack (timers, RX via the driver's poll, TX). */
void knet__poll(struct kernel *k);
/* Halt until the NIC interrupts, deadline_ns passes, or KNET_MAX_WAIT_NS;
 * not at all while the last poll left frames in the ring. */
void knet__wait(struct kernel *k, uint64_t deadline_ns);
void knet__print_stats(struct kernel *k);

#endif
