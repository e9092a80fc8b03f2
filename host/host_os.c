#include "host/host_os.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* ---- faults ------------------------------------------------------------- */

static void host_os__record_fault(void *opaque, const struct host_vtd_fault *f)
{
    struct host_os *h = opaque;
    pthread_mutex_lock(&h->fault_lock);
    if (h->nfaults == HOST_OS_FAULT_LOG) {
        memmove(&h->faults[0], &h->faults[1], sizeof(h->faults[0]) * (HOST_OS_FAULT_LOG - 1));
        h->nfaults--;
    }
    h->faults[h->nfaults++] = *f;
    uint64_t total = ++h->faults_total;
    pthread_mutex_unlock(&h->fault_lock);
    /* A guest can make its NIC fault on every descriptor: log the first
     * ones (as Linux rate-limits DMAR messages), count all of them. */
    if (total > HOST_OS_FAULT_LOG_LINES) {
        if (total == HOST_OS_FAULT_LOG_LINES + 1)
            log__info("host", "further VT-d faults are recorded and counted but not logged");
        return;
    }
    if (f->is_ir)
        log__info("host", "VT-d interrupt-remapping fault: %s, index %u, requester %02x:%02x.%x",
                  f->reason_name, f->ir_index, f->sid >> 8, (f->sid >> 3) & 0x1F, f->sid & 7);
    else
        log__info("host", "VT-d DMA fault: %s, address %#llx, requester %02x:%02x.%x, %s",
                  f->reason_name, (unsigned long long)f->addr, f->sid >> 8, (f->sid >> 3) & 0x1F,
                  f->sid & 7, f->is_write ? "write" : "read");
}

void host_os__poll_faults(struct host_os *h)
{
    struct host_vtd_fault f[16];
    bool overflow = false;
    int n;
    while ((n = host_vtd__read_faults(h->iommu, f, 16, &overflow)) > 0)
        for (int i = 0; i < n; i++)
            host_os__record_fault(h, &f[i]);
}

unsigned host_os__faults(struct host_os *h, struct host_vtd_fault *out, unsigned max)
{
    pthread_mutex_lock(&h->fault_lock);
    unsigned n = h->nfaults < max ? h->nfaults : max;
    memcpy(out, &h->faults[h->nfaults - n], n * sizeof(*out));
    pthread_mutex_unlock(&h->fault_lock);
    return n;
}

uint64_t host_os__faults_total(struct host_os *h)
{
    pthread_mutex_lock(&h->fault_lock);
    uint64_t n = h->faults_total;
    pthread_mutex_unlock(&h->fault_lock);
    return n;
}

/* ---- the host's NIC driver ---------------------------------------------- */

/* Transmit onto the wire through the host driver.  A full TX ring is not a
 * drop: as Linux stops the device's queue (netif_stop_queue) and the sender
 * (vhost-net on its tap socket, a qdisc) waits for the ring to drain, the
 * caller waits here for the NIC's TX completions, which the receive thread
 * reclaims on the NIC's interrupt and signals.  That back-pressure is what
 * keeps a guest that can produce faster than the wire from losing frames
 * (and its TCP from collapsing into retransmissions).  The wait is bounded
 * (HOST_OS_TX_STOP_MAX_NS) so a wedged ring still drops instead of hanging;
 * it also reclaims by itself every HOST_OS_TX_RETRY_NS, so a receive thread
 * that is busy delivering into the very VM that waits cannot deadlock it. */
#define HOST_OS_TX_WAKE 32              /* descriptors */
#define HOST_OS_TX_RETRY_NS 200000ll     /* 200 us */
#define HOST_OS_TX_STOP_MAX_NS 50000000ll /* 50 ms */

/* One try at queueing a frame (g: as a TSO send, SDM 3.5); under nic_lock. */
static int host_os__try_tx(struct host_os *h, const uint8_t *frame, size_t len, const struct bridge_gso *g)
{
    if (!h->nic_up)
        return -ENETDOWN;
    e1000_drv__tx_reclaim(&h->nic.drv);
    if (!g)
        return e1000_drv__tx_frame(&h->nic.drv, frame, len);
    struct e1000_drv_frag f = {.data = frame, .len = len};
    /* The NIC inserts both checksums of every segment (SDM 3.5). */
    struct e1000_drv_offload o = {
        .ipcss = (uint8_t)g->l3_off, .ipcso = (uint8_t)(g->l3_off + 10), .ipcse = (uint16_t)(g->l4_off - 1),
        .tucss = (uint8_t)g->l4_off, .tucso = (uint8_t)(g->l4_off + 16), .tucse = 0,
        .ip_csum = true, .l4_csum = true, .tcp = true,
    };
    if (g->l4_off > 255 - 16 || g->hdr_len > 255)
        return E1000_DRV_EINVAL; /* the context descriptor's byte fields cannot say it */
    return e1000_drv__tx_tso(&h->nic.drv, &f, 1, &o, (uint8_t)g->hdr_len, g->mss);
}

static int host_os__uplink_send(struct host_os *h, const uint8_t *frame, size_t len, const struct bridge_gso *g)
{
    pthread_mutex_lock(&h->nic_lock);
    int r = host_os__try_tx(h, frame, len, g);
    if (r == E1000_DRV_EBUSY) {
        h->tx_queue_stops++;
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t waited;
        do {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t at = (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec + HOST_OS_TX_RETRY_NS;
            dl.tv_sec = (time_t)(at / 1000000000ll);
            dl.tv_nsec = (long)(at % 1000000000ll);
            h->tx_waiters++;
            pthread_cond_timedwait(&h->tx_room, &h->nic_lock, &dl);
            h->tx_waiters--;
            r = host_os__try_tx(h, frame, len, g);
            clock_gettime(CLOCK_MONOTONIC, &now);
            waited = (int64_t)(now.tv_sec - t0.tv_sec) * 1000000000ll + (now.tv_nsec - t0.tv_nsec);
        } while (r == E1000_DRV_EBUSY && waited < HOST_OS_TX_STOP_MAX_NS);
        h->tx_stopped_ns += (uint64_t)waited;
    }
    pthread_mutex_unlock(&h->nic_lock);
    return r < 0 ? r : (r ? -EIO : 0);
}

static int host_os__uplink_tx(void *ctx, const uint8_t *frame, size_t len)
{
    return host_os__uplink_send(ctx, frame, len, NULL);
}

/* A TSO frame from a VM (virtio-net HOST_TSO4) to the NIC's own TSO, as
 * Linux hands a GSO skb from vhost-net's tap to a NIC with NETIF_F_TSO: the
 * NIC model cuts it "in hardware" and paces every frame on the wire. */
static int host_os__uplink_tx_gso(void *ctx, const uint8_t *frame, size_t len, const struct bridge_gso *g)
{
    return host_os__uplink_send(ctx, frame, len, g);
}

static void host_os__nic_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    struct host_os *h = ctx;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    __atomic_add_fetch(&h->nic_irqs, 1, __ATOMIC_RELAXED);
    uint64_t one = 1;
    if (write(h->rx_fd, &one, sizeof one) < 0) {
        /* already pending */
    }
    /* Runs on the NIC model's thread; on a real machine it is the host
     * driver's interrupt handler: timed so it can be charged to the host. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    int64_t d = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec);
    if (d > 0)
        __atomic_add_fetch(&h->nic_irq_cpu_ns, (uint64_t)d, __ATOMIC_RELAXED);
}

static void host_os__rx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    struct host_os *h = ctx;
    bridge__from_uplink(&h->bridge, frame, len);
}

/* The host's receive "softirq": woken by the NIC's MSI, drains the ring into
 * the bridge.  A bounded poll interval covers a lost wake-up. */
static void *host_os__rx_main(void *arg)
{
    pthread_setname_np(pthread_self(), "host-rx"); /* top -H, ps -L */
    struct host_os *h = arg;
    uint8_t batch[64][1514];
    size_t lens[64];
    while (!__atomic_load_n(&h->rx_stop, __ATOMIC_ACQUIRE)) {
        struct pollfd p = {.fd = h->rx_fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            uint64_t n;
            if (read(h->rx_fd, &n, sizeof n) < 0) {
                /* raced: nothing to drain */
            }
        }
        for (;;) {
            unsigned got = 0;
            pthread_mutex_lock(&h->nic_lock);
            e1000_drv__irq(&h->nic.drv); /* read ICR: acknowledge the causes */
            while (got < 64) {
                int len = e1000_drv__rx(&h->nic.drv, batch[got], sizeof batch[got]);
                if (len <= 0)
                    break;
                lens[got++] = (size_t)len;
            }
            e1000_drv__tx_reclaim(&h->nic.drv);
            /* wake a stopped queue once a batch of descriptors is free
             * (as e1000's TX_WAKE_THRESHOLD), not per frame */
            if (h->tx_waiters && (!h->nic_up || e1000_drv__tx_free(&h->nic.drv) >= HOST_OS_TX_WAKE))
                pthread_cond_broadcast(&h->tx_room);
            pthread_mutex_unlock(&h->nic_lock);
            /* Deliver without the NIC lock: a VM may transmit from inside. */
            for (unsigned i = 0; i < got; i++)
                host_os__rx_frame(h, batch[i], lens[i]);
            if (got < 64)
                break;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    h->cpu_ns_rx = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return NULL;
}

static void nic_cfg_write(struct host_os *h, unsigned off, unsigned size, uint32_t val)
{
    pci_bus__cfg_write(&h->plat->pci, 0, PLATFORM_NIC_SLOT, 0, off, size, val);
}

int host_os__nic_up(struct host_os *h)
{
    if (h->nic_up)
        return 0;
    struct platform *p = h->plat;
    int r = host_vtd__attach_passthrough(h->iommu, PLATFORM_NIC_SID);
    if (r) {
        log__err("host", "NIC: pass-through DMA for the host driver: %s", strerror(-r));
        return r;
    }
    /* MSI through interrupt remapping to the host's NIC vector; without
     * remapping, a compatibility-format MSI naming it (SDM 11.11). */
    uint64_t addr;
    uint32_t data;
    if (h->ir) {
        if ((r = host_vtd__irte_alloc(h->iommu, &h->nic_irte)) ||
            (r = host_vtd__irte_set(h->iommu, h->nic_irte, HOST_OS_NIC_VECTOR, HOST_OS_CPU, PLATFORM_NIC_SID)))
            goto fail_detach;
        host_vtd__irte_msi(h->nic_irte, &addr, &data);
    } else {
        addr = INTC_MSI_ADDR_BASE | (uint32_t)HOST_OS_CPU << INTC_MSI_ADDR_DEST_SHIFT;
        data = HOST_OS_NIC_VECTOR;
    }
    unsigned msi = p->nic_pci.msi_cap;
    nic_cfg_write(h, msi + PCI_MSI_ADDRESS_LO, 4, (uint32_t)addr);
    nic_cfg_write(h, msi + PCI_MSI_ADDRESS_HI, 4, (uint32_t)(addr >> 32));
    nic_cfg_write(h, msi + PCI_MSI_DATA_64, 2, data);
    nic_cfg_write(h, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    nic_cfg_write(h, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    if ((r = intc__register(p->intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR, host_os__nic_irq, h)))
        goto fail_irte;
    h->rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct mmio_window regs = e1000_nic__mmio(p->nic);
    struct host_e1000_config hc = {.ims = E1000_DRV_IMS_DEFAULT};
    if (h->rx_fd < 0 || (r = host_e1000__init(&h->nic, &p->pm, &regs, &hc))) {
        log__err("host", "NIC: host driver did not come up: %s", strerror(r ? -r : errno));
        r = r ? r : -errno;
        goto fail_irq;
    }
    /* A bridge port sees every VM's MAC: promiscuous, as Linux does for a
     * NIC enslaved to a bridge. */
    mmio__write32(&regs, E1000_RCTL,
                  mmio__read32(&regs, E1000_RCTL) | E1000_RCTL_UPE | E1000_RCTL_MPE);
    __atomic_store_n(&h->rx_stop, false, __ATOMIC_RELAXED);
    pthread_mutex_lock(&h->nic_lock); /* host_os__uplink_tx reads it under the lock */
    h->nic_up = true;
    pthread_mutex_unlock(&h->nic_lock);
    if ((r = -pthread_create(&h->rx_thread, NULL, host_os__rx_main, h))) {
        pthread_mutex_lock(&h->nic_lock);
        h->nic_up = false;
        pthread_mutex_unlock(&h->nic_lock);
        host_e1000__fini(&h->nic);
        goto fail_irq;
    }
    return 0;
fail_irq:
    if (h->rx_fd >= 0)
        close(h->rx_fd);
    h->rx_fd = -1;
    intc__unregister(p->intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR);
fail_irte:
    if (h->ir)
        host_vtd__irte_free(h->iommu, h->nic_irte);
fail_detach:
    host_vtd__detach(h->iommu, PLATFORM_NIC_SID);
    return r;
}

void host_os__nic_down(struct host_os *h)
{
    if (!h->nic_up)
        return;
    __atomic_store_n(&h->rx_stop, true, __ATOMIC_RELEASE);
    pthread_join(h->rx_thread, NULL);
    pthread_mutex_lock(&h->nic_lock);
    h->nic_up = false;
    pthread_cond_broadcast(&h->tx_room); /* a waiting sender gives up */
    host_e1000__fini(&h->nic); /* stops the driver and resets the NIC */
    pthread_mutex_unlock(&h->nic_lock);
    nic_cfg_write(h, h->plat->nic_pci.msi_cap + PCI_MSI_FLAGS, 2, 0);
    nic_cfg_write(h, PCI_COMMAND, 2, 0);
    intc__unregister(h->plat->intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR);
    if (h->ir)
        host_vtd__irte_free(h->iommu, h->nic_irte);
    host_vtd__detach(h->iommu, PLATFORM_NIC_SID);
    close(h->rx_fd);
    h->rx_fd = -1;
}

uint64_t host_os__cpu_ns(struct host_os *h)
{
    if (!h->nic_up)
        return h->cpu_ns_rx;
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(h->rx_thread, &cid) || clock_gettime(cid, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- boot ------------------------------------------------------------- */

int host_os__boot(struct host_os *h, struct platform *p, bool interrupt_remapping)
{
    memset(h, 0, sizeof(*h));
    h->plat = p;
    h->rx_fd = -1;
    pthread_mutex_init(&h->fault_lock, NULL);
    pthread_mutex_init(&h->nic_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->tx_room, &ca);
    pthread_condattr_destroy(&ca);
    h->vtd_win = platform__vtd_window(p);
    struct host_vtd_options o = {.require_ir = true, .require_pt = true};
    int r = host_vtd__init(&h->iommu, &p->pm, &h->vtd_win, &o);
    if (r) {
        log__err("host", "VT-d driver: %s", strerror(-r));
        return r;
    }
    if (interrupt_remapping && (r = host_vtd__ir_enable(h->iommu, 256))) {
        log__err("host", "VT-d interrupt remapping: %s", strerror(-r));
        host_vtd__destroy(h->iommu);
        return r;
    }
    h->ir = interrupt_remapping;
    host_vtd__set_fault_handler(h->iommu, host_os__record_fault, h);
    /* The unit's fault event goes straight to the driver's handler. */
    struct irq_sink fs;
    host_vtd__fault_irq_sink(h->iommu, &fs);
    vtd__set_fault_irq(p->vtd, &fs);
    bridge__init(&h->bridge, host_os__uplink_tx, h);
    h->bridge.uplink_tx_gso = host_os__uplink_tx_gso;
    return 0;
}

void host_os__shutdown(struct host_os *h)
{
    host_os__nic_down(h);
    if (h->iommu) {
        host_os__poll_faults(h);
        host_vtd__destroy(h->iommu);
        h->iommu = NULL;
    }
    bridge__destroy(&h->bridge);
    pthread_mutex_destroy(&h->fault_lock);
    pthread_mutex_destroy(&h->nic_lock);
    pthread_cond_destroy(&h->tx_room);
}
