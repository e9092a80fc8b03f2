/* The guest's e1000 driver: the portable core drivers/e1000 behind the
 * netdev interface.  BAR0 is the register window (VA == its bus address;
 * accesses trap when emulated, run natively when directly mapped), DMA
 * addresses are GPAs (VA == GPA; the IOMMU, if any, maps GPA to host
 * memory).  Interrupts: MSI if the function has the capability, else INTx;
 * the handler only reads ICR (read-to-clear acknowledges it); RX and TX
 * completion are handled in the kernel loop (netdev poll).
 *
 * Offloads: TCP/IPv4 checksum insertion and TCP segmentation (SDM 3.5)
 * are advertised to the stack unless the command line says `tso=off`
 * (checksum offload only) or `offload=off` (neither), so one benchmark can
 * compare them. */
#include <errno.h>
#include <string.h>

#include "drivers/e1000/e1000_drv.h"
#include "guest/drivers/nic.h"
#include "guest/hal/hal.h"
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/net.h"

/* Receive descriptors: enough for TCP's largest window in full segments
 * (the stack offers no more than rx_slots segments, netdev.h), so a burst
 * the sender was allowed to send fits while the kernel is elsewhere;
 * 256 lost frames at 1 Gb/s once the window was 512 KiB. */
#define E1000G_RX_DESC 1024
/* Transmit descriptors: a 64 KiB TSO frame takes ~34 (one context + 2 KiB
 * bounce slots), so 256 held 7 frames, 0.4 ms at 10 Gb/s: less than the
 * time an assigned guest takes to answer a completion interrupt (the ring
 * ran dry 1,500 times in 2 s, 6.6-8.6 Gb/s); 1024 hold ~30 frames (Linux's
 * e1000 allows up to 4096 on this part). */
#define E1000G_TX_DESC 1024
_Static_assert((E1000G_RX_DESC - 1) * NET_TCP_MSS_LOCAL >= NET_TCP_RCVBUF,
               "the RX ring holds a full receive window");

struct e1000g {
    struct e1000_drv drv;
    uintptr_t regs;
    struct nic *nic;
    volatile bool link;  /* cached: STATUS is read at init and on LSC only */
};

static uint32_t e1000g__read32(void *ctx, uint32_t off)
{
    return hal__mmio_read32(((struct e1000g *)ctx)->regs + off);
}

static void e1000g__write32(void *ctx, uint32_t off, uint32_t val)
{
    hal__mmio_write32(((struct e1000g *)ctx)->regs + off, val);
}

static uint64_t e1000g__bus_addr(void *ctx, const void *va)
{
    (void)ctx;
    return hal__dma_addr(va);
}

static void e1000g__delay_us(void *ctx, unsigned us)
{
    (void)ctx;
    uint64_t end = hal__now_ns() + (uint64_t)us * 1000;
    while (hal__now_ns() < end)
        __asm__ volatile("pause");
}

static const struct e1000_drv_ops e1000g_ops = {
    .read32 = e1000g__read32,
    .write32 = e1000g__write32,
    .bus_addr = e1000g__bus_addr,
    .delay_us = e1000g__delay_us,
};

static int e1000g__transmit(struct netdev *dev, const struct net_frag *frags, unsigned nfrags)
{
    struct e1000g *g = ((struct nic *)dev->priv)->drv;
    struct e1000_drv_frag f[NETDEV_MAX_FRAGS];
    if (nfrags > NETDEV_MAX_FRAGS)
        return -NET_EINVAL;
    for (unsigned i = 0; i < nfrags; i++)
        f[i] = (struct e1000_drv_frag){.data = frags[i].base, .len = frags[i].len};
    int rc = e1000_drv__tx(&g->drv, f, nfrags, NULL);
    if (rc == E1000_DRV_EBUSY)
        return -NET_EBUSY;
    if (rc == E1000_DRV_EMSGSIZE)
        return -NET_EMSGSIZE;
    return rc ? -NET_EIO : 0;
}

/* netdev.h's layout to the NIC's context (SDM 3.3.6): IPv4 checksum at
 * byte 10 of its header, TCP's at byte 16. */
static int e1000g__transmit_offload(struct netdev *dev, const struct net_frag *frags,
                                   unsigned nfrags, const struct netdev_offload *o)
{
    struct e1000g *g = ((struct nic *)dev->priv)->drv;
    struct e1000_drv_frag f[NETDEV_MAX_FRAGS];
    if (nfrags > NETDEV_MAX_FRAGS || o->l3_off > 235 || o->l4_off > 235 ||
        o->l4_off <= o->l3_off || o->hdr_len > 255)
        return -NET_EINVAL;
    for (unsigned i = 0; i < nfrags; i++)
        f[i] = (struct e1000_drv_frag){.data = frags[i].base, .len = frags[i].len};
    struct e1000_drv_offload off = {
        .ipcss = (uint8_t)o->l3_off, .ipcso = (uint8_t)(o->l3_off + 10),
        .ipcse = (uint16_t)(o->l4_off - 1),
        .tucss = (uint8_t)o->l4_off, .tucso = (uint8_t)(o->l4_off + 16), .tucse = 0,
        .ip_csum = o->mss != 0, /* the stack's header checksum is right unless segmented */
        .l4_csum = true, .tcp = true,
    };
    int rc = o->mss ? e1000_drv__tx_tso(&g->drv, f, nfrags, &off, (uint8_t)o->hdr_len, o->mss)
                    : e1000_drv__tx_offload(&g->drv, f, nfrags, &off);
    if (rc == E1000_DRV_EBUSY)
        return -NET_EBUSY;
    if (rc == E1000_DRV_EMSGSIZE)
        return -NET_EMSGSIZE;
    return rc ? -NET_EIO : 0;
}

static void e1000g__mac(struct netdev *dev, uint8_t mac[6])
{
    struct nic *n = dev->priv;
    for (int i = 0; i < 6; i++)
        mac[i] = n->mac[i];
}

static void e1000g__rx(void *ctx, const uint8_t *frame, size_t len)
{
    net__input(ctx, frame, len);
}

static int e1000g__poll(struct netdev *dev, struct net_stack *stack, int budget)
{
    struct e1000g *g = ((struct nic *)dev->priv)->drv;
    unsigned got = e1000_drv__rx_poll(&g->drv, e1000g__rx, stack, budget > 0 ? (unsigned)budget : 0);
    e1000_drv__tx_reclaim(&g->drv);
    return (int)got;
}

static bool e1000g__link_up(struct netdev *dev)
{
    /* Asked on every transmit: answer from the cache, as a real driver
     * does, instead of a (trapping) STATUS read per packet. */
    struct e1000g *g = ((struct nic *)dev->priv)->drv;
    return g->link;
}

static const struct netdev_ops e1000g_netdev_ops = {
    .transmit = e1000g__transmit,
    .mac = e1000g__mac,
    .poll = e1000g__poll,
    .link_up = e1000g__link_up,
    .transmit_offload = e1000g__transmit_offload,
};

/* tso=off / offload=off on the command line (see the top). */
static uint32_t e1000g__features(struct kernel *k)
{
    const char *off = cmdline__get(&k->cl, "offload");
    const char *tso = cmdline__get(&k->cl, "tso");
    if (off && !strcmp(off, "off"))
        return 0;
    if (tso && !strcmp(tso, "off"))
        return NETDEV_F_CSUM_TCP4;
    return NETDEV_F_CSUM_TCP4 | NETDEV_F_TSO4;
}

static void e1000g__irq(void *ctx, unsigned vector)
{
    (void)vector;
    struct nic *n = ctx;
    struct e1000g *g = n->drv;
    if (e1000_drv__irq(&g->drv) & E1000_ICR_LSC)
        g->link = e1000_drv__link_up(&g->drv);
    n->irqs++;
}

static void e1000g__print_stats(struct nic *n)
{
    struct e1000g *g = n->drv;
    const struct e1000_drv_stats *s = &g->drv.stats;
    kprintf("%s: tx %llu (busy %llu) rx %llu (errors %llu, missed %llu) irqs %llu\n", n->name,
            (unsigned long long)s->tx_frames, (unsigned long long)s->tx_busy,
            (unsigned long long)s->rx_frames, (unsigned long long)s->rx_errors,
            (unsigned long long)e1000_drv__rx_missed(&g->drv), (unsigned long long)n->irqs);
}

int e1000_glue__probe(struct kernel *k, struct pci_dev *d, struct nic *n)
{
    const struct pci_bar *bar = &d->bar[0];
    if (!bar->addr || bar->io || bar->size < 0x20000) {
        kprintf("e1000: BAR0 is not a 128 KiB memory BAR\n");
        return -ENODEV;
    }
    struct e1000g *g = kernel__alloc_pages(k, (sizeof(*g) + PMEM_PAGE - 1) / PMEM_PAGE);
    void *rx_ring = kernel__alloc_pages(k, E1000G_RX_DESC * 16 / PMEM_PAGE);
    void *tx_ring = kernel__alloc_pages(k, E1000G_TX_DESC * 16 / PMEM_PAGE);
    uint8_t *rx_bufs = kernel__alloc_pages(k, E1000G_RX_DESC * E1000_DRV_BUF_SIZE / PMEM_PAGE);
    uint8_t *tx_bufs = kernel__alloc_pages(k, E1000G_TX_DESC * E1000_DRV_BUF_SIZE / PMEM_PAGE);
    if (!g || !rx_ring || !tx_ring || !rx_bufs || !tx_bufs)
        return -ENOMEM;
    g->regs = (uintptr_t)bar->addr;
    g->nic = n;
    *n = (struct nic){.name = "e1000", .drv = g, .print_stats = e1000g__print_stats, .vector = -1};
    /* One descriptor always stays with the driver (RDH == RDT: empty). */
    n->dev = (struct netdev){.ops = &e1000g_netdev_ops, .priv = n, .rx_slots = E1000G_RX_DESC - 1,
                             .features = e1000g__features(k)};

    pci__enable(d);
    /* irq=intx: leave MSI off and take INTA#, as Linux's e1000 driver does */
    nic__setup_irq(k, d, n, nic__irq_allow(k), e1000g__irq, n);
    struct e1000_drv_config cfg = {
        .rx_ring = rx_ring, .rx_count = E1000G_RX_DESC, .rx_bufs = rx_bufs,
        .tx_ring = tx_ring, .tx_count = E1000G_TX_DESC, .tx_bufs = tx_bufs,
        .ims = n->irq_mode == NIC_IRQ_POLL ? 0 : E1000_DRV_IMS_DEFAULT,
    };
    int rc = e1000_drv__init(&g->drv, &e1000g_ops, g, &cfg);
    if (rc) {
        kprintf("e1000: init failed (%d)\n", rc);
        return rc;
    }
    g->link = e1000_drv__link_up(&g->drv);
    for (int i = 0; i < 6; i++)
        n->mac[i] = g->drv.mac[i];
    kprintf("e1000: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, offload %s\n", n->mac[0],
            n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
            e1000_drv__link_up(&g->drv) ? "up" : "down",
            (n->dev.features & NETDEV_F_TSO4) ? "csum+tso" : n->dev.features ? "csum" : "off");
    return 0;
}
