/* See knet.h. */
#include "guest/kernel/knet.h"

#include <errno.h>
#include <string.h>

#include "drivers/virtio/virtio_regs.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "drivers/e1000/e1000_regs.h"

static uint64_t knet__clock(void *ctx)
{
    (void)ctx;
    return hal__now_ns();
}

static int knet__opt_ip(struct kernel *k, const char *key, uint32_t def, uint32_t *out)
{
    const char *v = cmdline__get(&k->cl, key);
    *out = def;
    if (v && cmdline__parse_ipv4(v, out)) {
        kprintf("net: bad %s=%s\n", key, v);
        return -EINVAL;
    }
    return 0;
}

static int knet__probe(struct kernel *k, struct nic *n)
{
    const char *want = cmdline__get(&k->cl, "nic");
    if (!want)
        want = "any";
    bool any = strcmp(want, "any") == 0;
    if (!any && strcmp(want, "e1000") && strcmp(want, "virtio")) {
        kprintf("net: nic=%s: use e1000, virtio or any\n", want);
        return -EINVAL;
    }
    struct pci_bus *bus = kernel__pci(k);
    for (unsigned i = 0; i < bus->ndevs; i++) {
        struct pci_dev *d = &bus->devs[i];
        if (d->claimed)
            continue;
        int rc = -ENODEV;
        if ((any || !strcmp(want, "e1000")) && d->vendor == E1000_PCI_VENDOR_INTEL &&
            d->device == E1000_PCI_DEV_82540EM)
            rc = e1000_glue__probe(k, d, n);
        else if ((any || !strcmp(want, "virtio")) && d->vendor == VIRTIO_PCI_VENDOR_ID &&
                 (d->device == VIRTIO_PCI_DEVICE_ID_NET ||
                  d->device == VIRTIO_PCI_DEVICE_ID_NET_TRANSITIONAL))
            rc = virtio_net__probe(k, d, n);
        if (rc == 0) {
            d->claimed = true;
            return 0;
        }
    }
    kprintf("net: no usable NIC (nic=%s)\n", want);
    return -ENODEV;
}

int knet__up(struct kernel *k)
{
    if (k->net)
        return 0;
    struct net_config cfg = {.clock = knet__clock, .seed = (uint32_t)hal__rdtsc()};
    if (knet__opt_ip(k, "ip", KNET_DEFAULT_IP, &cfg.ip) ||
        knet__opt_ip(k, "mask", KNET_DEFAULT_MASK, &cfg.netmask) ||
        knet__opt_ip(k, "gw", KNET_DEFAULT_GW, &cfg.gateway))
        return -EINVAL;
    struct kernel_net *kn = kernel__alloc_pages(k, (sizeof(*kn) + PMEM_PAGE - 1) / PMEM_PAGE);
    if (!kn)
        return -ENOMEM;
    int rc = knet__probe(k, &kn->nic);
    if (rc)
        return rc;
    if (net__init(&kn->stack, &kn->nic.dev, &cfg)) {
        kprintf("net: stack refused the configuration\n");
        return -EINVAL;
    }
    k->net = kn;
    kprintf("net: %s ip %u.%u.%u.%u mask %u.%u.%u.%u gw %u.%u.%u.%u\n", kn->nic.name,
            cfg.ip >> 24, cfg.ip >> 16 & 255, cfg.ip >> 8 & 255, cfg.ip & 255, cfg.netmask >> 24,
            cfg.netmask >> 16 & 255, cfg.netmask >> 8 & 255, cfg.netmask & 255, cfg.gateway >> 24,
            cfg.gateway >> 16 & 255, cfg.gateway >> 8 & 255, cfg.gateway & 255);
    return 0;
}

void knet__poll(struct kernel *k)
{
    net__poll(&k->net->stack, hal__now_ns());
}

void knet__wait(struct kernel *k, uint64_t deadline_ns)
{
    struct kernel_net *kn = k->net;
    /* Frames the last poll's budget left in the ring raise no interrupt
     * of their own: halting would leave them there until the timer (2 ms:
     * a sender whose whole window sat in the ring got 64 frames per 2 ms,
     * ~400 Mb/s, in maerts runs). */
    if (net__rx_pending(&kn->stack))
        return;
    uint64_t now = hal__now_ns();
    uint64_t cap = now + KNET_MAX_WAIT_NS;
    if (deadline_ns > cap)
        deadline_ns = cap;
    bool was = hal__irq_save();
    /* Halt only if no NIC interrupt arrived since the last look: the
     * check and the halt are atomic (hal__irq_wait), so none is lost. */
    if (kn->nic.irqs == kn->seen_irqs && kn->nic.vector >= 0 && hal__now_ns() < deadline_ns) {
        ktimer__arm_at(&k->timer, deadline_ns);
        hal__irq_wait();
    } else if (kn->nic.vector < 0 && hal__now_ns() < deadline_ns) {
        /* Polled NIC: a short nap on the timer only. */
        uint64_t nap = hal__now_ns() + 100000;
        ktimer__arm_at(&k->timer, nap < deadline_ns ? nap : deadline_ns);
        hal__irq_wait();
    }
    kn->seen_irqs = kn->nic.irqs;
    hal__irq_restore(was);
}

void knet__print_stats(struct kernel *k)
{
    struct kernel_net *kn = k->net;
    const struct net_stats *s = net__stats(&kn->stack);
    if (kn->nic.print_stats)
        kn->nic.print_stats(&kn->nic);
    kprintf("net: rx %llu tx %llu (busy %llu, drop %llu) bad %llu tcp segs in %llu out %llu "
            "(tso %llu) retrans %llu rto %llu delacks %llu ooo %llu/%llu rcvbuf grew %llu\n",
            (unsigned long long)s->rx_frames,
            (unsigned long long)s->tx_frames, (unsigned long long)s->tx_busy,
            (unsigned long long)s->tx_drop, (unsigned long long)s->rx_bad,
            (unsigned long long)s->tcp_segs_in, (unsigned long long)s->tcp_segs_out,
            (unsigned long long)s->tcp_tso_out, (unsigned long long)s->tcp_retrans_segs,
            (unsigned long long)s->tcp_rto_events,
            (unsigned long long)s->tcp_delacks, (unsigned long long)s->tcp_ooo_in,
            (unsigned long long)s->tcp_ooo_drop, (unsigned long long)s->tcp_rcvbuf_grow);
}
