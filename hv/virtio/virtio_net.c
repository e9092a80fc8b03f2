#include "hv/virtio/virtio_net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drivers/virtio/virtio_regs.h"
#include "hv/virtio/virtq.h"
#include "drivers/virtio/vnet_offload.h"
#include "lib/log.h"

#define NR_QUEUES 2
#define TX_FRAME_MAX VNET_TX_FRAME_MAX

/* What a device with no feature switched off offers: virtio_net_params'
 * features_off takes bits away (VIRTIO_NET_DEVICE_FEATURES). */
static uint64_t offered_features(uint64_t off)
{
    uint64_t f = VIRTIO_NET_DEVICE_FEATURES & ~off;
    /* 5.1.3.1: TSO4 needs the checksum offload of the same direction. */
    if (!(f & 1ull << VIRTIO_NET_F_CSUM))
        f &= ~(1ull << VIRTIO_NET_F_HOST_TSO4);
    if (!(f & 1ull << VIRTIO_NET_F_GUEST_CSUM))
        f &= ~(1ull << VIRTIO_NET_F_GUEST_TSO4);
    return f | 1ull << VIRTIO_F_VERSION_1; /* the one this device cannot do without */
}

struct virtio_net {
    struct virtio_net_params p;
    struct pci_dev pci;
    pthread_mutex_t lock;

    /* common configuration state */
    uint64_t device_features;  /* offered (params' features_off applied) */
    uint32_t dfselect, gfselect;
    uint64_t driver_features;
    uint8_t status;
    uint8_t isr;
    uint16_t queue_select;
    uint16_t msix_config;
    uint16_t queue_msix[NR_QUEUES];
    struct virtq vq[NR_QUEUES];

    bool msi_pending;      /* an MSI was due while Bus Master Enable was clear */
    bool bme_seen;         /* Bus Master Enable at the last command write */
    bool intx_allowed;     /* MSI off and Interrupt Disable clear, as last seen */
    int kick_fd;           /* eventfd: TX notifications wake the backend */
    pthread_t thread;
    bool thread_running, stopping;
    struct virtio_net_stats stats;
    /* One TX pass at a time: tx_lock owns tx_frame, and is taken before
     * lock, never under it or under anything else. */
    pthread_mutex_t tx_lock;
    uint8_t tx_frame[TX_FRAME_MAX];
    uint8_t tx_seg[VNET_SEG_MAX];    /* one segment of a TSO frame */
    uint64_t tx_emitted, tx_emitted_bytes; /* this pass, under tx_lock */
    /* RX with MRG_RXBUF: the chains one frame fills, under lock */
    struct virtq_chain rx_chain[VNET_RX_MAX_CHAINS];
    struct virtq_used_elem rx_used[VNET_RX_MAX_CHAINS];
};

static void put_cap(struct virtio_net *vn, uint8_t type, uint32_t off, uint32_t len, bool notify)
{
    int c = pci_dev__add_cap(&vn->pci, PCI_CAP_ID_VNDR,
                             notify ? VIRTIO_PCI_NOTIFY_CAP_SIZE : VIRTIO_PCI_CAP_SIZE);
    uint8_t *cfg = vn->pci.cfg + c;
    cfg[VIRTIO_PCI_CAP_LEN] = notify ? VIRTIO_PCI_NOTIFY_CAP_SIZE : VIRTIO_PCI_CAP_SIZE;
    cfg[VIRTIO_PCI_CAP_CFG_TYPE] = type;
    cfg[VIRTIO_PCI_CAP_BAR] = 0;
    memcpy(cfg + VIRTIO_PCI_CAP_OFFSET, &off, 4);
    memcpy(cfg + VIRTIO_PCI_CAP_LENGTH, &len, 4);
    if (notify) {
        uint32_t mult = VIRTIO_NET_NOTIFY_MULT;
        memcpy(cfg + VIRTIO_PCI_NOTIFY_CAP_MULT, &mult, 4);
    }
}

struct virtio_net *virtio_net__create(const struct virtio_net_params *p)
{
    struct virtio_net *vn = calloc(1, sizeof(*vn));
    if (!vn)
        return NULL;
    vn->p = *p;
    vn->device_features = offered_features(p->features_off);
    pthread_mutex_init(&vn->lock, NULL);
    pthread_mutex_init(&vn->tx_lock, NULL);
    vn->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vn->kick_fd < 0) {
        log__err("virtio-net", "eventfd: %s", strerror(errno));
        free(vn);
        return NULL;
    }
    pci_dev__init(&vn->pci, VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET, 0x020000,
                  VIRTIO_PCI_REVISION_MODERN);
    uint16_t sub[2] = {VIRTIO_PCI_VENDOR_ID, 0x0040};
    memcpy(vn->pci.cfg + PCI_SUBSYSTEM_VENDOR_ID, sub, sizeof sub);
    pci_dev__add_bar(&vn->pci, 0, VIRTIO_NET_BAR_SIZE, false, false);
    pci_dev__set_intx_pin(&vn->pci, 1);
    vn->intx_allowed = true; /* MSI off, Interrupt Disable clear */
    put_cap(vn, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_NET_COMMON_OFF, VIRTIO_PCI_COMMON_CFG_SIZE, false);
    put_cap(vn, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_NET_ISR_OFF, 4, false);
    put_cap(vn, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_NET_DEVICE_OFF, VIRTIO_NET_CFG_SIZE, false);
    put_cap(vn, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_NET_NOTIFY_OFF, NR_QUEUES * VIRTIO_NET_NOTIFY_MULT, true);
    pci_dev__add_msi(&vn->pci, true);
    for (int i = 0; i < NR_QUEUES; i++) {
        vn->vq[i].size = VIRTIO_NET_QUEUE_MAX;
        vn->queue_msix[i] = VIRTIO_MSI_NO_VECTOR;
    }
    vn->msix_config = VIRTIO_MSI_NO_VECTOR;
    return vn;
}

void virtio_net__destroy(struct virtio_net *vn)
{
    if (!vn)
        return;
    virtio_net__stop(vn);
    close(vn->kick_fd);
    pthread_mutex_destroy(&vn->lock);
    pthread_mutex_destroy(&vn->tx_lock);
    free(vn);
}

struct pci_dev *virtio_net__pci(struct virtio_net *vn)
{
    return &vn->pci;
}

static bool bus_master(const struct virtio_net *vn)
{
    return pci_dev__command(&vn->pci) & PCI_COMMAND_MASTER;
}

/* Raise the function's interrupt: MSI if enabled, else INTx (level held
 * until the driver reads ISR).  Called with the lock held.  An MSI is a
 * memory write the function masters: not while Bus Master Enable is clear
 * (held until it is set again). */
static void raise_irq(struct virtio_net *vn, uint8_t cause)
{
    vn->isr |= cause;
    vn->stats.interrupts++;
    if (pci_dev__msi_enabled(&vn->pci)) {
        if (!bus_master(vn)) {
            vn->msi_pending = true;
            vn->stats.msi_held++;
        } else if (vn->p.irq.msi)
            vn->p.irq.msi(vn->p.irq.ctx, vn->p.requester_id, pci_dev__msi_address(&vn->pci),
                          pci_dev__msi_data(&vn->pci));
    } else if (vn->p.irq.intx && !(pci_dev__command(&vn->pci) & PCI_COMMAND_INTX_DISABLE)) {
        vn->p.irq.intx(vn->p.irq.ctx, 1);
    }
}

static void mark_broken(struct virtio_net *vn, int q, int err)
{
    if (vn->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET)
        return;
    vn->stats.guest_errors++;
    log__err("virtio-net", "guest error on queue %d: %s; device needs reset", q, virtq__error_name(err));
    vn->status |= VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
    for (int i = 0; i < NR_QUEUES; i++)
        vn->vq[i].ready = false;
    raise_irq(vn, VIRTIO_PCI_ISR_CONFIG);
}

static bool running(const struct virtio_net *vn)
{
    return (vn->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(vn->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
}

static void device_reset(struct virtio_net *vn)
{
    vn->status = 0;
    vn->isr = 0;
    vn->msi_pending = false;
    vn->driver_features = 0;
    vn->dfselect = vn->gfselect = 0;
    vn->queue_select = 0;
    vn->msix_config = VIRTIO_MSI_NO_VECTOR;
    for (int i = 0; i < NR_QUEUES; i++) {
        vn->vq[i].size = VIRTIO_NET_QUEUE_MAX;
        virtq__reset(&vn->vq[i]);
        vn->queue_msix[i] = VIRTIO_MSI_NO_VECTOR;
    }
    if (vn->p.irq.intx)
        vn->p.irq.intx(vn->p.irq.ctx, 0);
}

static void write_status(struct virtio_net *vn, uint8_t v)
{
    if (v == 0) {
        device_reset(vn);
        return;
    }
    if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(vn->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        /* 3.1.1: refuse feature sets we do not offer, without VERSION_1,
         * or against 5.1.3.1's dependencies. */
        uint64_t f = vn->driver_features;
        if ((f & ~vn->device_features) || !(f & (1ull << VIRTIO_F_VERSION_1)) ||
            ((f & 1ull << VIRTIO_NET_F_HOST_TSO4) && !(f & 1ull << VIRTIO_NET_F_CSUM)) ||
            ((f & 1ull << VIRTIO_NET_F_GUEST_TSO4) && !(f & 1ull << VIRTIO_NET_F_GUEST_CSUM)))
            v &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
        bool ev = vn->driver_features & (1ull << VIRTIO_F_EVENT_IDX);
        for (int i = 0; i < NR_QUEUES; i++)
            vn->vq[i].event_idx = ev;
    }
    /* The device owns NEEDS_RESET; the driver cannot clear it but by reset. */
    vn->status = (uint8_t)((v & ~VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) |
                           (vn->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET));
}

static struct virtq *selected(struct virtio_net *vn)
{
    return vn->queue_select < NR_QUEUES ? &vn->vq[vn->queue_select] : NULL;
}

static uint64_t common_read(struct virtio_net *vn, uint64_t off)
{
    struct virtq *q = selected(vn);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return vn->dfselect;
    case VIRTIO_PCI_COMMON_DF: return vn->dfselect < 2 ? (uint32_t)(vn->device_features >> (32 * vn->dfselect)) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return vn->gfselect;
    case VIRTIO_PCI_COMMON_GF: return vn->gfselect < 2 ? (uint32_t)(vn->driver_features >> (32 * vn->gfselect)) : 0;
    case VIRTIO_PCI_COMMON_MSIX: return vn->msix_config;
    case VIRTIO_PCI_COMMON_NUMQ: return NR_QUEUES;
    case VIRTIO_PCI_COMMON_STATUS: return vn->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION: return 0;
    case VIRTIO_PCI_COMMON_Q_SELECT: return vn->queue_select;
    case VIRTIO_PCI_COMMON_Q_SIZE: return q ? q->size : 0;
    case VIRTIO_PCI_COMMON_Q_MSIX: return q ? vn->queue_msix[vn->queue_select] : VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE: return q ? q->ready : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF: return q ? vn->queue_select : 0;
    case VIRTIO_PCI_COMMON_Q_DESCLO: return q ? (uint32_t)q->desc : 0;
    case VIRTIO_PCI_COMMON_Q_DESCHI: return q ? (uint32_t)(q->desc >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: return q ? (uint32_t)q->avail : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: return q ? (uint32_t)(q->avail >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_USEDLO: return q ? (uint32_t)q->used : 0;
    case VIRTIO_PCI_COMMON_Q_USEDHI: return q ? (uint32_t)(q->used >> 32) : 0;
    default: return 0;
    }
}

static void set_lo(uint64_t *f, uint32_t v) { *f = (*f & ~0xFFFFFFFFull) | v; }
static void set_hi(uint64_t *f, uint32_t v) { *f = (*f & 0xFFFFFFFFull) | (uint64_t)v << 32; }

static void common_write(struct virtio_net *vn, uint64_t off, uint32_t v)
{
    struct virtq *q = selected(vn);
    /* Queue layout may only change while the queue is disabled (4.1.4.3.2). */
    bool q_writable = q && !q->ready;
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: vn->dfselect = v; break;
    case VIRTIO_PCI_COMMON_GFSELECT: vn->gfselect = v; break;
    case VIRTIO_PCI_COMMON_GF:
        if (vn->gfselect < 2 && !(vn->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            if (vn->gfselect == 0)
                set_lo(&vn->driver_features, v);
            else
                set_hi(&vn->driver_features, v);
        }
        break;
    case VIRTIO_PCI_COMMON_MSIX: vn->msix_config = VIRTIO_MSI_NO_VECTOR; break; /* no MSI-X */
    case VIRTIO_PCI_COMMON_STATUS: write_status(vn, (uint8_t)v); break;
    case VIRTIO_PCI_COMMON_Q_SELECT: vn->queue_select = (uint16_t)v; break;
    case VIRTIO_PCI_COMMON_Q_SIZE: if (q_writable) q->size = (uint16_t)v; break;
    case VIRTIO_PCI_COMMON_Q_MSIX: if (q) vn->queue_msix[vn->queue_select] = VIRTIO_MSI_NO_VECTOR; break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (q_writable && v == 1) {
            int r = virtq__enable(q, vn->p.gm);
            if (r)
                mark_broken(vn, vn->queue_select, r);
            else if (vn->queue_select == VIRTIO_NET_RX_VQ)
                virtq__set_notify(q, false); /* a frame with no buffer is dropped, not waited for */
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO: if (q_writable) set_lo(&q->desc, v); break;
    case VIRTIO_PCI_COMMON_Q_DESCHI: if (q_writable) set_hi(&q->desc, v); break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: if (q_writable) set_lo(&q->avail, v); break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: if (q_writable) set_hi(&q->avail, v); break;
    case VIRTIO_PCI_COMMON_Q_USEDLO: if (q_writable) set_lo(&q->used, v); break;
    case VIRTIO_PCI_COMMON_Q_USEDHI: if (q_writable) set_hi(&q->used, v); break;
    default: break; /* read-only or reserved */
    }
}

static uint64_t device_cfg_read(struct virtio_net *vn, uint64_t off, unsigned size)
{
    uint8_t cfg[VIRTIO_NET_CFG_SIZE] = {0};
    memcpy(cfg + VIRTIO_NET_CFG_MAC, vn->p.mac, 6);
    cfg[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
    cfg[VIRTIO_NET_CFG_MAX_VQ] = 1;
    if (off >= VIRTIO_NET_CFG_SIZE || size > VIRTIO_NET_CFG_SIZE - off)
        return 0;
    uint64_t v = 0;
    memcpy(&v, cfg + off, size);
    return v;
}

static uint64_t bar_read(void *dev, uint64_t off, unsigned size)
{
    struct virtio_net *vn = dev;
    uint64_t v = 0;
    pthread_mutex_lock(&vn->lock);
    if (off < VIRTIO_NET_COMMON_OFF + VIRTIO_PCI_COMMON_CFG_SIZE) {
        /* 4.1.3.1: drivers access each field with its own width. */
        v = common_read(vn, off);
        if (size < 8)
            v &= (1ull << (8 * size)) - 1;
    } else if (off == VIRTIO_NET_ISR_OFF) {
        v = vn->isr; /* read-to-clear, deasserts INTx (4.1.4.5) */
        vn->isr = 0;
        if (vn->p.irq.intx)
            vn->p.irq.intx(vn->p.irq.ctx, 0);
    } else if (off >= VIRTIO_NET_DEVICE_OFF && off < VIRTIO_NET_DEVICE_OFF + 0x1000) {
        v = device_cfg_read(vn, off - VIRTIO_NET_DEVICE_OFF, size);
    }
    pthread_mutex_unlock(&vn->lock);
    return v;
}

static void bar_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_net *vn = dev;
    if (off >= VIRTIO_NET_NOTIFY_OFF && off < VIRTIO_NET_NOTIFY_OFF + NR_QUEUES * VIRTIO_NET_NOTIFY_MULT) {
        unsigned q = (unsigned)(off - VIRTIO_NET_NOTIFY_OFF) / VIRTIO_NET_NOTIFY_MULT;
        __atomic_add_fetch(&vn->stats.notifies, 1, __ATOMIC_RELAXED);
        if (q == VIRTIO_NET_TX_VQ) {
            uint64_t one = 1;
            if (write(vn->kick_fd, &one, sizeof one) < 0) {
                /* counter saturated: the thread is already due to run */
            }
        }
        return;
    }
    pthread_mutex_lock(&vn->lock);
    if (off < VIRTIO_PCI_COMMON_CFG_SIZE) {
        if (size == 8 && off % 8 == 0) { /* split 64-bit writes to queue addresses */
            common_write(vn, off, (uint32_t)val);
            common_write(vn, off + 4, (uint32_t)(val >> 32));
        } else if (size == 1 && off == VIRTIO_PCI_COMMON_STATUS) {
            common_write(vn, off, (uint32_t)val & 0xFF);
        } else if ((size == 2 || size == 4) && off % size == 0) {
            common_write(vn, off, (uint32_t)val);
        }
    }
    pthread_mutex_unlock(&vn->lock);
}

const struct mmio_ops virtio_net_bar_ops = {.read = bar_read, .write = bar_write};

/* A frame is copied out of the ring and its buffer returned under vn->lock,
 * then handed to p.tx with vn->lock dropped: p.tx is the bridge, which holds
 * its read lock while it delivers into a VM, possibly into
 * virtio_net__rx_frame of this or another device, which takes that device's
 * lock.  Calling p.tx under vn->lock would order device lock -> bridge ->
 * device lock (two VMs transmitting to each other deadlock).  Lock order:
 * tx_lock -> lock; tx_lock -> bridge -> lock.  The offloads (checksum,
 * segmentation) run there too, on the device's own copy: the guest cannot
 * change a header field between its check and its use. */
static void tx_emit(void *ctx, const uint8_t *frame, size_t len)
{
    struct virtio_net *vn = ctx;
    if (len < 14 || !vn->p.tx)
        return;
    vn->tx_emitted++;
    vn->tx_emitted_bytes += len;
    vn->p.tx(vn->p.tx_ctx, frame, len);
}

static void tx_one(struct virtio_net *vn, const struct virtio_net_hdr *h, uint32_t n, bool oversize,
                   uint64_t features)
{
    vn->tx_emitted = vn->tx_emitted_bytes = 0;
    struct vnet_tx_plan plan;
    enum vnet_tx_verdict v = oversize ? VNET_DROP_TOO_BIG
        : vnet_offload__check(h, features, vn->tx_frame, n, &plan);
    bool whole = false;
    if (v == VNET_TX_OK && plan.gso) {
        /* The uplink's own TSO first (one hand-off for up to 64 KiB), else here. */
        whole = vn->p.tx_gso && vn->p.tx_gso(vn->p.tx_ctx, vn->tx_frame, n, &plan) == 0;
        if (whole) {
            vn->tx_emitted = 1;
            vn->tx_emitted_bytes = n;
        } else {
            vnet_offload__segment(vn->tx_frame, n, &plan, vn->tx_seg, tx_emit, vn);
        }
    } else if (v == VNET_TX_OK) {
        if (plan.csum)
            vnet_offload__finish_csum(vn->tx_frame, n, &plan);
        tx_emit(vn, vn->tx_frame, n);
    }
    pthread_mutex_lock(&vn->lock);
    vn->stats.tx_gso_whole += whole;
    vn->stats.tx_frames += vn->tx_emitted;
    vn->stats.tx_bytes += vn->tx_emitted_bytes;
    if (v != VNET_TX_OK)
        vn->stats.tx_hdr_dropped++;
    else if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        vn->stats.tx_gso++;
    else if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        vn->stats.tx_csum++;
}

unsigned virtio_net__tx_process(struct virtio_net *vn, unsigned budget)
{
    unsigned done = 0;
    pthread_mutex_lock(&vn->tx_lock);
    pthread_mutex_lock(&vn->lock);
    struct virtq *q = &vn->vq[VIRTIO_NET_TX_VQ];
    /* No bus mastering, no ring access: TX waits for BME (cfg_written).
     * 2.7.10: while the queue is being drained the driver is not asked to
     * notify (avail_event is left behind, or NO_NOTIFY set); only when it
     * is empty is the request re-armed, then the ring is checked again. */
    virtq__set_notify(q, false);
    while (done < budget && running(vn) && q->ready && bus_master(vn)) {
        struct virtq_chain c;
        int r = virtq__pop(q, &c);
        if (r < 0) {
            mark_broken(vn, VIRTIO_NET_TX_VQ, r);
            break;
        }
        if (r == 0) {
            /* Re-enable notifications, then re-check to close the race. */
            virtq__set_notify(q, true);
            r = virtq__pop(q, &c);
            if (r <= 0) {
                if (r < 0)
                    mark_broken(vn, VIRTIO_NET_TX_VQ, r);
                break;
            }
            virtq__set_notify(q, false);
        }
        struct virtio_net_hdr h = {0};
        const uint32_t hdr = sizeof h;
        uint32_t len = c.out_bytes > hdr ? c.out_bytes - hdr : 0;
        bool oversize = len > TX_FRAME_MAX;
        int n = 0;
        if (c.out_bytes >= hdr && virtq__chain_read(q, &c, 0, &h, hdr) < 0)
            n = -EFAULT;
        else if (!oversize)
            n = virtq__chain_read(q, &c, hdr, vn->tx_frame, len);
        if (n < 0) {
            mark_broken(vn, VIRTIO_NET_TX_VQ, n);
            break;
        }
        bool send = (n >= 14 || oversize) && vn->p.tx;
        virtq__push(q, c.head, 0); /* copied: the guest may reuse the buffer */
        done++;
        /* A guest that stopped on a full ring asked for an interrupt at a
         * used index (event idx, 2.7.10): send it now, not after the rest
         * of the ring went to the wire, or the guest refills only after the
         * whole pipeline has drained and the wire idles meanwhile. */
        if (running(vn) && virtq__need_interrupt(q))
            raise_irq(vn, VIRTIO_PCI_ISR_QUEUE);
        if (send) {
            pthread_mutex_unlock(&vn->lock);
            tx_one(vn, &h, (uint32_t)n, oversize, vn->driver_features); /* returns locked */
        }
    }
    pthread_mutex_unlock(&vn->lock);
    pthread_mutex_unlock(&vn->tx_lock);
    return done;
}

static bool negotiated(const struct virtio_net *vn, unsigned bit)
{
    return vn->driver_features & 1ull << bit;
}

/* 5.1.6.4 with MRG_RXBUF: take chains until the header and the frame fit,
 * write the frame across them, num_buffers in the first header.  Without
 * enough buffers nothing is taken (the chains stay for the next frame).
 * Returns 0, -ENOSPC, or a guest error (the caller breaks the device). */
static int rx_merged(struct virtio_net *vn, struct virtq *q, struct virtio_net_hdr *h,
                     const uint8_t *frame, uint32_t len)
{
    uint64_t have = 0, need = sizeof *h + (uint64_t)len;
    unsigned n = 0;
    while (have < need) {
        if (n == VNET_RX_MAX_CHAINS) {
            virtq__unpop(q, n);
            return -ENOSPC;
        }
        int r = virtq__pop(q, &vn->rx_chain[n]);
        if (r <= 0) {
            virtq__unpop(q, n);
            return r < 0 ? r : -ENOSPC;
        }
        uint32_t in = vn->rx_chain[n].in_bytes;
        n++;
        /* 5.1.6.3.1: every buffer holds at least the header. */
        if (in < sizeof *h)
            return -EPROTO;
        have += in;
    }
    h->num_buffers = (uint16_t)n;
    uint32_t at = 0; /* frame bytes written so far */
    for (unsigned i = 0; i < n; i++) {
        const struct virtq_chain *c = &vn->rx_chain[i];
        uint32_t skip = 0;
        if (i == 0) {
            if (virtq__chain_write(q, c, 0, h, sizeof *h) < 0)
                return -EFAULT;
            skip = sizeof *h;
        }
        uint32_t room = c->in_bytes - skip, chunk = len - at < room ? len - at : room;
        if (virtq__chain_write(q, c, skip, frame + at, chunk) < 0)
            return -EFAULT;
        at += chunk;
        vn->rx_used[i] = (struct virtq_used_elem){.id = c->head, .len = skip + chunk};
    }
    virtq__push_n(q, vn->rx_used, n);
    if (n > 1)
        vn->stats.rx_merged++;
    return 0;
}

int virtio_net__rx_frame(struct virtio_net *vn, const uint8_t *frame, size_t len)
{
    int ret = 0;
    pthread_mutex_lock(&vn->lock);
    struct virtq *q = &vn->vq[VIRTIO_NET_RX_VQ];
    if (!running(vn) || !q->ready) {
        ret = -EIO;
        goto out;
    }
    if (!bus_master(vn)) {
        vn->stats.rx_blocked++; /* the device cannot DMA: the frame is lost */
        ret = -EIO;
        goto out;
    }
    if (len > TX_FRAME_MAX) {
        vn->stats.rx_dropped++;
        ret = -ENOSPC;
        goto out;
    }
    /* 5.1.6.4: flags stay zero without GUEST_CSUM; with it, DATA_VALID
     * only on a frame whose checksums this device has checked. */
    struct virtio_net_hdr h = {.gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = 1};
    if (negotiated(vn, VIRTIO_NET_F_GUEST_CSUM) && vnet_offload__csum_valid(frame, len))
        h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    if (negotiated(vn, VIRTIO_NET_F_MRG_RXBUF)) {
        int r = rx_merged(vn, q, &h, frame, (uint32_t)len);
        if (r == -ENOSPC) {
            vn->stats.rx_dropped++;
            ret = -ENOSPC;
            goto out;
        }
        if (r < 0) {
            mark_broken(vn, VIRTIO_NET_RX_VQ, r);
            ret = -EIO;
            goto out;
        }
    } else {
        struct virtq_chain c;
        int r = virtq__pop(q, &c);
        if (r < 0) {
            mark_broken(vn, VIRTIO_NET_RX_VQ, r);
            ret = -EIO;
            goto out;
        }
        if (r == 0 || c.in_bytes < sizeof h + len) {
            if (r == 1) /* too small a buffer: give it back empty */
                virtq__push(q, c.head, 0);
            vn->stats.rx_dropped++;
            ret = -ENOSPC;
            goto out;
        }
        if (virtq__chain_write(q, &c, 0, &h, sizeof h) < 0 ||
            virtq__chain_write(q, &c, sizeof h, frame, (uint32_t)len) < 0) {
            mark_broken(vn, VIRTIO_NET_RX_VQ, -EFAULT);
            ret = -EIO;
            goto out;
        }
        virtq__push(q, c.head, (uint32_t)(sizeof h + len));
    }
    vn->stats.rx_frames++;
    vn->stats.rx_bytes += len;
    if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID)
        vn->stats.rx_data_valid++;
    if (virtq__need_interrupt(q))
        raise_irq(vn, VIRTIO_PCI_ISR_QUEUE);
out:
    pthread_mutex_unlock(&vn->lock);
    return ret;
}

static void *backend_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "virtio-net"); /* top -H, ps -L */
    struct virtio_net *vn = arg;
    while (!__atomic_load_n(&vn->stopping, __ATOMIC_ACQUIRE)) {
        struct pollfd pfd = {.fd = vn->kick_fd, .events = POLLIN};
        /* Bounded wait so stop is noticed even without a kick. */
        if (poll(&pfd, 1, 100) > 0) {
            uint64_t n;
            if (read(vn->kick_fd, &n, sizeof n) < 0) {
                /* spurious wake-up: nothing to drain */
            }
        }
        while (virtio_net__tx_process(vn, 64) == 64)
            ;
    }
    return NULL;
}

int virtio_net__start(struct virtio_net *vn)
{
    if (vn->thread_running)
        return 0;
    vn->stopping = false;
    int r = pthread_create(&vn->thread, NULL, backend_thread, vn);
    if (r) {
        log__err("virtio-net", "backend thread: %s", strerror(r));
        return -r;
    }
    vn->thread_running = true;
    return 0;
}

uint64_t virtio_net__thread_cpu_ns(struct virtio_net *vn)
{
    clockid_t cid;
    struct timespec ts;
    if (!vn || !vn->thread_running || pthread_getcpuclockid(vn->thread, &cid) ||
        clock_gettime(cid, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void virtio_net__stop(struct virtio_net *vn)
{
    if (!vn->thread_running)
        return;
    __atomic_store_n(&vn->stopping, true, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(vn->kick_fd, &one, sizeof one) < 0) {
        /* the thread also wakes by its poll timeout */
    }
    pthread_join(vn->thread, NULL);
    vn->thread_running = false;
}

/* INTx may signal only while MSI is off and the command register's
 * Interrupt Disable is clear (PCI 3.0 6.2.2, 6.8.1.3): a pending ISR's
 * line drops when either is set and rises again when both clear. */
static void intx_recheck(struct virtio_net *vn)
{
    bool allowed = !pci_dev__msi_enabled(&vn->pci) && !(pci_dev__command(&vn->pci) & PCI_COMMAND_INTX_DISABLE);
    if (allowed == vn->intx_allowed)
        return;
    vn->intx_allowed = allowed;
    if (vn->isr && vn->p.irq.intx)
        vn->p.irq.intx(vn->p.irq.ctx, allowed);
}

void virtio_net__cfg_written(struct virtio_net *vn, unsigned off, unsigned size)
{
    pthread_mutex_lock(&vn->lock);
    intx_recheck(vn);
    pthread_mutex_unlock(&vn->lock);
    if (off + size <= PCI_COMMAND || off >= PCI_COMMAND + 2)
        return;
    pthread_mutex_lock(&vn->lock);
    bool was = vn->bme_seen;
    vn->bme_seen = bus_master(vn);
    bool resume = !was && vn->bme_seen;
    if (resume && vn->msi_pending) {
        vn->msi_pending = false;
        if (pci_dev__msi_enabled(&vn->pci) && vn->p.irq.msi)
            vn->p.irq.msi(vn->p.irq.ctx, vn->p.requester_id, pci_dev__msi_address(&vn->pci),
                          pci_dev__msi_data(&vn->pci));
    }
    pthread_mutex_unlock(&vn->lock);
    if (resume) {
        uint64_t one = 1; /* TX the driver queued meanwhile */
        if (write(vn->kick_fd, &one, sizeof one) < 0) {
            /* counter saturated: the thread is already due to run */
        }
    }
}

uint64_t virtio_net__negotiated(struct virtio_net *vn)
{
    pthread_mutex_lock(&vn->lock);
    uint64_t f = vn->status & VIRTIO_CONFIG_S_FEATURES_OK ? vn->driver_features : 0;
    pthread_mutex_unlock(&vn->lock);
    return f;
}

int virtio_net__parse_features_off(const char *list, uint64_t *off)
{
    static const struct {
        const char *name;
        uint64_t bits;
    } names[] = {
        {"none", 0},
        {"csum", 1ull << VIRTIO_NET_F_CSUM},
        {"guest-csum", 1ull << VIRTIO_NET_F_GUEST_CSUM},
        {"tso4", 1ull << VIRTIO_NET_F_HOST_TSO4},
        {"guest-tso4", 1ull << VIRTIO_NET_F_GUEST_TSO4},
        {"mrg-rxbuf", 1ull << VIRTIO_NET_F_MRG_RXBUF},
        {"event-idx", 1ull << VIRTIO_F_EVENT_IDX},
        {"offloads", 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
                     1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO4 |
                     1ull << VIRTIO_NET_F_MRG_RXBUF},
    };
    uint64_t m = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n)) {
                m |= names[i].bits;
                found = true;
            }
        if (!found)
            return -EINVAL;
        p += n;
        if (*p == ',')
            p++;
    }
    *off = m;
    return 0;
}

bool virtio_net__broken(struct virtio_net *vn)
{
    pthread_mutex_lock(&vn->lock);
    bool b = vn->status & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
    pthread_mutex_unlock(&vn->lock);
    return b;
}

void virtio_net__get_stats(struct virtio_net *vn, struct virtio_net_stats *out)
{
    pthread_mutex_lock(&vn->lock);
    *out = vn->stats;
    out->notifies = __atomic_load_n(&vn->stats.notifies, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&vn->lock);
}
