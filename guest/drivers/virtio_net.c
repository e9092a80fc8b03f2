/* virtio-net 1.x driver (virtio 1.2 section 5.1) on the modern PCI
 * transport, behind the netdev interface.
 *
 * Initialisation follows 3.1.1: reset, ACKNOWLEDGE, DRIVER, negotiate
 * (VIRTIO_F_VERSION_1 required; MAC, EVENT_IDX and the offloads CSUM,
 * GUEST_CSUM, HOST_TSO4, GUEST_TSO4, MRG_RXBUF taken when offered and not
 * switched off on the command line: virtio_net_offload.h), FEATURES_OK and
 * check it stuck, set up receiveq1 (0) and transmitq1 (1), DRIVER_OK.
 *
 * RX: queue 0 is kept full of 2 KiB buffers (12-byte virtio_net_hdr, then
 * the frame); without MRG_RXBUF each holds a whole frame (5.1.6.3.1), with
 * it a frame spans num_buffers of them and is gathered into one scratch
 * buffer; a NEEDS_CSUM frame (GUEST_CSUM) has its checksum finished here;
 * interrupts on.  TX: one 2 KiB bounce buffer per descriptor (header +
 * frame copied in), or, for a TSO frame (HOST_TSO4: the stack's
 * transmit_offload with an MSS), one of 16 68-KiB ones; the header
 * carries the stack's offload request (5.1.6.2: NEEDS_CSUM with
 * csum_start/offset at the TCP checksum, gso_type TCPV4 with gso_size = the
 * MSS).  TX interrupts are suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT or
 * used_event), completed buffers reclaimed lazily on the next transmit.
 * Interrupts: MSI-X entry 0 for receiveq1 (no ISR read needed), else MSI or
 * INTx with an ISR read to acknowledge. */
#include <errno.h>
#include <string.h>

#include "guest/drivers/nic.h"
#include "guest/drivers/virtio_net_offload.h"
#include "guest/drivers/virtio_pci.h"
#include "drivers/virtio/virtio_regs.h"
#include "guest/hal/hal.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/net.h"

#define VNET_RXQ_MAX   256  /* as many RX buffers as the device allows (VIRTQ_DRV_MAX) */
#define VNET_TXQ_MAX   128
#define VNET_BUF_SIZE  2048u
#define VNET_HDR_LEN   sizeof(struct virtio_net_hdr)
/* TSO frames: a few large bounce buffers (header + 64 KiB frame, in pages) */
#define VNET_BIG_SLOTS 16u
#define VNET_BIG_PAGES ((VNET_HDR_LEN + NETDEV_TSO_MAX_FRAME + PMEM_PAGE - 1) / PMEM_PAGE)
#define VNET_BIG_SIZE  (VNET_BIG_PAGES * PMEM_PAGE)
#define VNET_BIG_COOKIE 0x1000u /* cookie = base + slot + 1 for a large buffer */
#define F(bit) (1ull << (bit))

_Static_assert(VNET_BUF_SIZE >= VIRTIO_NET_MIN_RX_BUF, "RX buffers too small (5.1.6.3.1)");

struct vnet_stats {
    uint64_t tx_frames, tx_busy, tx_notify, rx_frames, rx_bad, rx_notify, isr_reads;
    uint64_t tx_stops;   /* ring full: TX completion interrupt requested */
    uint64_t tx_tso, tx_csum;      /* frames sent with GSO / with NEEDS_CSUM only */
    uint64_t rx_merged, rx_csum;   /* frames over several buffers / checksum finished here */
};

struct vnet {
    struct virtio_pci vp;
    struct nic *nic;
    struct virtq rx, tx;
    uint8_t *rx_bufs, *tx_bufs;
    uint16_t tx_free[VNET_TXQ_MAX];   /* stack of free TX buffer indexes */
    unsigned tx_nfree;
    uint8_t *tx_big;                    /* HOST_TSO4: VNET_BIG_SLOTS large buffers */
    uint16_t big_free[VNET_BIG_SLOTS];
    unsigned big_nfree;
    uint8_t *rx_scratch;                /* MRG_RXBUF: one frame gathered */
    uint64_t features;
    struct vnet_stats st;
};

static uint8_t *vnet__rx_buf(struct vnet *vn, unsigned i) { return vn->rx_bufs + (size_t)i * VNET_BUF_SIZE; }
static uint8_t *vnet__tx_buf(struct vnet *vn, unsigned i) { return vn->tx_bufs + (size_t)i * VNET_BUF_SIZE; }

static int vnet__rx_post(struct vnet *vn, unsigned i)
{
    struct virtq_sg sg = {hal__dma_addr(vnet__rx_buf(vn, i)), VNET_BUF_SIZE};
    /* cookie = index + 1 (never NULL) */
    return virtq__add(&vn->rx, &sg, 0, 1, (void *)(uintptr_t)(i + 1));
}

static void vnet__tx_reclaim(struct vnet *vn)
{
    void *c;
    while ((c = virtq__get(&vn->tx, NULL)) != NULL) {
        uintptr_t i = (uintptr_t)c - 1;
        if (i < vn->tx.size && vn->tx_nfree < vn->tx.size)
            vn->tx_free[vn->tx_nfree++] = (uint16_t)i;
        else if (i >= VNET_BIG_COOKIE && i - VNET_BIG_COOKIE < VNET_BIG_SLOTS &&
                 vn->big_nfree < VNET_BIG_SLOTS)
            vn->big_free[vn->big_nfree++] = (uint16_t)(i - VNET_BIG_COOKIE);
    }
    if (vn->tx.cb_enabled && vn->tx_nfree && vn->tx.num_free)
        virtq__disable_cb(&vn->tx); /* the queue runs again: completions unwatched */
}

static bool vnet__tx_full(const struct vnet *vn, bool big)
{
    return (big ? vn->big_nfree : vn->tx_nfree) == 0 || vn->tx.num_free == 0;
}

/* Copy header + frame into a free bounce buffer and queue it. */
static int vnet__queue(struct netdev *dev, const struct net_frag *frags, unsigned nfrags,
                       const struct virtio_net_hdr *h)
{
    struct nic *n = dev->priv;
    struct vnet *vn = n->drv;
    size_t total = 0;
    for (unsigned i = 0; i < nfrags; i++)
        total += frags[i].len;
    bool big = total > VNET_BUF_SIZE - VNET_HDR_LEN;
    if (nfrags > NETDEV_MAX_FRAGS || total == 0 || (big && !vn->tx_big) ||
        total > (big ? VNET_BIG_SIZE : VNET_BUF_SIZE) - VNET_HDR_LEN)
        return -NET_EMSGSIZE;
    if (vnet__tx_full(vn, big))
        vnet__tx_reclaim(vn);
    /* Ring full: stop, and ask the device for an interrupt once most of
     * the ring is used, so the kernel wakes to send again (as Linux's
     * virtio-net: netif_stop_queue + virtqueue_enable_cb_delayed).
     * Without it, TX completions raise no interrupt (callbacks are off)
     * and a guest waiting on a full ring sleeps until the next ACK or
     * timer while the wire runs dry. */
    if (vnet__tx_full(vn, big) && !vn->tx.cb_enabled) {
        vn->st.tx_stops++;
        if (virtq__enable_cb_delayed(&vn->tx))
            vnet__tx_reclaim(vn);
    }
    if (vnet__tx_full(vn, big)) {
        vn->st.tx_busy++;
        return -NET_EBUSY;
    }
    unsigned bi = big ? vn->big_free[--vn->big_nfree] : vn->tx_free[--vn->tx_nfree];
    uint8_t *buf = big ? vn->tx_big + (size_t)bi * VNET_BIG_SIZE : vnet__tx_buf(vn, bi);
    uintptr_t cookie = (big ? VNET_BIG_COOKIE : 0) + bi + 1;
    memcpy(buf, h, VNET_HDR_LEN);
    size_t at = VNET_HDR_LEN;
    for (unsigned i = 0; i < nfrags; i++) {
        memcpy(buf + at, frags[i].base, frags[i].len);
        at += frags[i].len;
    }
    struct virtq_sg sg = {hal__dma_addr(buf), (uint32_t)at};
    if (virtq__add(&vn->tx, &sg, 1, 0, (void *)cookie)) {
        if (big)
            vn->big_free[vn->big_nfree++] = (uint16_t)bi;
        else
            vn->tx_free[vn->tx_nfree++] = (uint16_t)bi;
        vn->st.tx_busy++;
        return -NET_EBUSY;
    }
    vn->st.tx_frames++;
    if (virtq__publish(&vn->tx)) {
        vn->st.tx_notify++;
        virtio_pci__notify(&vn->vp, VIRTIO_NET_TX_VQ);
    }
    return 0;
}

static int vnet__transmit(struct netdev *dev, const struct net_frag *frags, unsigned nfrags)
{
    static const struct virtio_net_hdr plain; /* no checksum offload, no GSO */
    return vnet__queue(dev, frags, nfrags, &plain);
}

/* netdev.h's offload request as a virtio_net_hdr (5.1.6.2): the TCP
 * checksum field already holds the pseudo-header sum the device adds to. */
static int vnet__transmit_offload(struct netdev *dev, const struct net_frag *frags,
                                  unsigned nfrags, const struct netdev_offload *o)
{
    struct vnet *vn = ((struct nic *)dev->priv)->drv;
    if (!(vn->features & F(VIRTIO_NET_F_CSUM)) || (o->mss && !(vn->features & F(VIRTIO_NET_F_HOST_TSO4))))
        return -NET_EINVAL;
    struct virtio_net_hdr h = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .csum_start = o->l4_off,
        .csum_offset = 16, /* TCP checksum (RFC 9293 3.1) */
    };
    if (o->mss) {
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = o->mss;
        h.hdr_len = o->hdr_len;
    }
    int r = vnet__queue(dev, frags, nfrags, &h);
    if (r == 0 && o->mss)
        vn->st.tx_tso++;
    else if (r == 0)
        vn->st.tx_csum++;
    return r;
}

static void vnet__mac(struct netdev *dev, uint8_t mac[6])
{
    struct nic *n = dev->priv;
    memcpy(mac, n->mac, 6);
}

/* MRG_RXBUF (5.1.6.4): the first buffer's header says how many buffers
 * the frame fills; the rest follow in the used ring, without headers.
 * Gathered into rx_scratch; each buffer goes back to the device.  Returns
 * the frame's length, or 0 (dropped: the device returned too few or too
 * much). */
static size_t vnet__gather(struct vnet *vn, const uint8_t *first, size_t len, unsigned nbufs)
{
    size_t room = VNET_BIG_SIZE, at = len;
    bool ok = nbufs <= vn->rx.size && len <= room;
    if (ok)
        memcpy(vn->rx_scratch, first, len);
    for (unsigned k = 1; k < nbufs; k++) {
        uint32_t l;
        void *c = virtq__get(&vn->rx, &l);
        if (!c)
            return 0; /* the device published fewer than it announced */
        uintptr_t j = (uintptr_t)c - 1;
        if (j >= vn->rx.size)
            continue;
        if (ok && l <= VNET_BUF_SIZE && at + l <= room)
            memcpy(vn->rx_scratch + at, vnet__rx_buf(vn, (unsigned)j), l);
        else
            ok = false;
        at += l;
        vnet__rx_post(vn, (unsigned)j);
    }
    return ok ? at : 0;
}

static int vnet__poll(struct netdev *dev, struct net_stack *stack, int budget)
{
    struct nic *n = dev->priv;
    struct vnet *vn = n->drv;
    int got = 0;
    void *c;
    uint32_t len;
    while (got < budget && (c = virtq__get(&vn->rx, &len)) != NULL) {
        uintptr_t i = (uintptr_t)c - 1;
        if (i >= vn->rx.size)
            continue;
        uint8_t *buf = vnet__rx_buf(vn, (unsigned)i);
        struct virtio_net_hdr h;
        memcpy(&h, buf, VNET_HDR_LEN); /* read once: the device shares it */
        uint8_t *frame = buf + VNET_HDR_LEN;
        size_t flen = len >= VNET_HDR_LEN ? len - VNET_HDR_LEN : 0;
        unsigned nbufs = (vn->features & F(VIRTIO_NET_F_MRG_RXBUF)) ? h.num_buffers : 1;
        if (nbufs > 1) {
            flen = vnet__gather(vn, frame, flen, nbufs);
            frame = vn->rx_scratch;
            vn->st.rx_merged++;
        }
        bool bad = len < VNET_HDR_LEN + 14 || len > VNET_BUF_SIZE || nbufs == 0 || flen < 14;
        /* 5.1.6.4: NEEDS_CSUM only with GUEST_CSUM; finished here, the stack checks every sum. */
        if (!bad && (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            bad = !(vn->features & F(VIRTIO_NET_F_GUEST_CSUM)) ||
                  vnet__finish_csum(frame, flen, h.csum_start, h.csum_offset);
            vn->st.rx_csum += !bad;
        }
        if (bad) {
            vn->st.rx_bad++;
        } else {
            net__input(stack, frame, flen);
            vn->st.rx_frames++;
            got++;
        }
        vnet__rx_post(vn, (unsigned)i);
    }
    if (virtq__publish(&vn->rx)) {
        vn->st.rx_notify++;
        virtio_pci__notify(&vn->vp, VIRTIO_NET_RX_VQ);
    }
    vnet__tx_reclaim(vn);
    return got;
}

static const struct netdev_ops vnet_ops = {
    .transmit = vnet__transmit,
    .mac = vnet__mac,
    .poll = vnet__poll,
    .transmit_offload = vnet__transmit_offload,
};

static void vnet__irq(void *ctx, unsigned vector)
{
    (void)vector;
    struct nic *n = ctx;
    struct vnet *vn = n->drv;
    if (n->irq_mode != NIC_IRQ_MSIX) { /* shared-style: ISR read acknowledges */
        virtio_pci__isr(&vn->vp);
        vn->st.isr_reads++;
    }
    n->irqs++;
}

static void vnet__print_stats(struct nic *n)
{
    struct vnet *vn = n->drv;
    kprintf("%s: tx %llu (busy %llu, notify %llu, tso %llu, csum %llu) rx %llu (bad %llu, notify %llu, "
            "merged %llu, csum %llu) irqs %llu bad_used %llu tx_stops %llu\n", n->name,
            (unsigned long long)vn->st.tx_frames, (unsigned long long)vn->st.tx_busy,
            (unsigned long long)vn->st.tx_notify, (unsigned long long)vn->st.tx_tso,
            (unsigned long long)vn->st.tx_csum, (unsigned long long)vn->st.rx_frames,
            (unsigned long long)vn->st.rx_bad, (unsigned long long)vn->st.rx_notify,
            (unsigned long long)vn->st.rx_merged, (unsigned long long)vn->st.rx_csum,
            (unsigned long long)n->irqs, (unsigned long long)(vn->rx.bad_used + vn->tx.bad_used),
            (unsigned long long)vn->st.tx_stops);
}

static int vnet__fail(struct vnet *vn, const char *why, int rc)
{
    kprintf("virtio-net: %s (%d)\n", why, rc);
    if (vn->vp.common)
        virtio_pci__add_status(&vn->vp, VIRTIO_CONFIG_S_FAILED);
    return rc;
}

int virtio_net__probe(struct kernel *k, struct pci_dev *d, struct nic *n)
{
    size_t pages = (sizeof(struct vnet) + PMEM_PAGE - 1) / PMEM_PAGE;
    struct vnet *vn = kernel__alloc_pages(k, pages);
    if (!vn)
        return -ENOMEM;
    vn->nic = n;
    *n = (struct nic){.name = "virtio-net", .drv = vn, .print_stats = vnet__print_stats, .vector = -1};
    n->dev = (struct netdev){.ops = &vnet_ops, .priv = n};

    pci__enable(d);
    int rc = virtio_pci__init(&vn->vp, d);
    if (rc)
        return vnet__fail(vn, "no modern virtio capabilities", rc);
    if ((rc = virtio_pci__reset(&vn->vp)))
        return vnet__fail(vn, "reset did not complete", rc);
    virtio_pci__add_status(&vn->vp, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    virtio_pci__add_status(&vn->vp, VIRTIO_CONFIG_S_DRIVER);

    uint64_t offered = virtio_pci__device_features(&vn->vp);
    /* ACCESS_PLATFORM (virtio 1.1, 6): the device's DMA goes through the
     * platform's IOMMU like any other device's; a device behind an IOMMU
     * (an assigned QEMU virtio-net-pci with iommu_platform=on) offers it and
     * fails FEATURES_OK without it.  Our addresses are bus addresses
     * already (hal__dma_addr), so accepting it changes nothing here. */
    if (!(offered & 1ull << VIRTIO_F_VERSION_1))
        return vnet__fail(vn, "device does not offer VIRTIO_F_VERSION_1", -ENODEV);
    struct vnet_switches sw = {.offload = cmdline__get(&k->cl, "offload"),
                               .tso = cmdline__get(&k->cl, "tso"),
                               .vnet_off = cmdline__get(&k->cl, "vnet_off")};
    vn->features = vnet__choose_features(offered, &sw);
    virtio_pci__set_driver_features(&vn->vp, vn->features);
    virtio_pci__add_status(&vn->vp, VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(virtio_pci__status(&vn->vp) & VIRTIO_CONFIG_S_FEATURES_OK))
        return vnet__fail(vn, "device refused our features", -EIO);

    /* Interrupt first: the queue's MSI-X vector is programmed with it. */
    nic__setup_irq(k, d, n, nic__irq_allow(k), vnet__irq, n);
    bool msix = n->irq_mode == NIC_IRQ_MSIX;
    if (msix)
        virtio_pci__set_config_msix(&vn->vp, VIRTIO_MSI_NO_VECTOR);

    bool event_idx = (vn->features & 1ull << VIRTIO_F_EVENT_IDX) != 0;
    size_t rxpages = (virtq__mem_size(VNET_RXQ_MAX) + PMEM_PAGE - 1) / PMEM_PAGE;
    size_t txpages = (virtq__mem_size(VNET_TXQ_MAX) + PMEM_PAGE - 1) / PMEM_PAGE;
    void *rxq = kernel__alloc_pages(k, rxpages), *txq = kernel__alloc_pages(k, txpages);
    vn->rx_bufs = kernel__alloc_pages(k, VNET_RXQ_MAX * VNET_BUF_SIZE / PMEM_PAGE);
    vn->tx_bufs = kernel__alloc_pages(k, VNET_TXQ_MAX * VNET_BUF_SIZE / PMEM_PAGE);
    if (!rxq || !txq || !vn->rx_bufs || !vn->tx_bufs)
        return vnet__fail(vn, "out of memory for queues", -ENOMEM);
    if (vn->features & F(VIRTIO_NET_F_HOST_TSO4)) {
        vn->tx_big = kernel__alloc_pages(k, VNET_BIG_SLOTS * VNET_BIG_PAGES);
        if (!vn->tx_big)
            return vnet__fail(vn, "out of memory for TSO buffers", -ENOMEM);
        for (unsigned i = 0; i < VNET_BIG_SLOTS; i++)
            vn->big_free[vn->big_nfree++] = (uint16_t)i;
    }
    if ((vn->features & F(VIRTIO_NET_F_MRG_RXBUF)) &&
        !(vn->rx_scratch = kernel__alloc_pages(k, VNET_BIG_PAGES)))
        return vnet__fail(vn, "out of memory for receive gathering", -ENOMEM);
    rc = virtio_pci__setup_queue(&vn->vp, &vn->rx, VIRTIO_NET_RX_VQ, VNET_RXQ_MAX, rxq, event_idx,
                                 msix ? 0 : VIRTIO_MSI_NO_VECTOR);
    if (rc)
        return vnet__fail(vn, "receiveq1 setup failed", rc);
    rc = virtio_pci__setup_queue(&vn->vp, &vn->tx, VIRTIO_NET_TX_VQ, VNET_TXQ_MAX, txq, event_idx,
                                 VIRTIO_MSI_NO_VECTOR);
    if (rc)
        return vnet__fail(vn, "transmitq1 setup failed", rc);
    virtq__disable_cb(&vn->tx);
    for (unsigned i = 0; i < vn->tx.size; i++)
        vn->tx_free[vn->tx_nfree++] = (uint16_t)i;
    for (unsigned i = 0; i < vn->rx.size; i++)
        vnet__rx_post(vn, i);
    n->dev.rx_slots = vn->rx.size; /* TCP's window stays within the queue */

    if (vn->features & 1ull << VIRTIO_NET_F_MAC) {
        if ((rc = virtio_pci__read_config(&vn->vp, VIRTIO_NET_CFG_MAC, n->mac, 6)))
            return vnet__fail(vn, "cannot read the MAC", rc);
    } else {
        static const uint8_t local[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}; /* locally administered */
        memcpy(n->mac, local, 6);
    }
    /* The stack's offloads (netdev.h) are the device's TX offloads. */
    if (vn->features & F(VIRTIO_NET_F_CSUM))
        n->dev.features |= NETDEV_F_CSUM_TCP4;
    if (vn->features & F(VIRTIO_NET_F_HOST_TSO4))
        n->dev.features |= NETDEV_F_TSO4;
    virtio_pci__add_status(&vn->vp, VIRTIO_CONFIG_S_DRIVER_OK);
    /* Buffers may be made available before DRIVER_OK; tell the device now
     * (3.1.1 step 8: the device may not look before DRIVER_OK). */
    virtq__publish(&vn->rx);
    virtio_pci__notify(&vn->vp, VIRTIO_NET_RX_VQ);
    kprintf("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x, features %#llx, rx %u tx %u%s%s%s%s%s%s\n",
            n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
            (unsigned long long)vn->features, vn->rx.size, vn->tx.size, event_idx ? ", event_idx" : "",
            vn->features & F(VIRTIO_NET_F_CSUM) ? ", csum" : "",
            vn->features & F(VIRTIO_NET_F_HOST_TSO4) ? ", tso4" : "",
            vn->features & F(VIRTIO_NET_F_GUEST_CSUM) ? ", guest_csum" : "",
            vn->features & F(VIRTIO_NET_F_GUEST_TSO4) ? ", guest_tso4" : "",
            vn->features & F(VIRTIO_NET_F_MRG_RXBUF) ? ", mrg_rxbuf" : "");
    return 0;
}
