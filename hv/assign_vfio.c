/* Device source "vfio": a real PCI function of this Linux host, taken
 * through VFIO and confined by the host's real IOMMU (hv/assign.h,
 * host/vfio/vfio_dev.h).  `--assign vfio:0000:00:10.0`.
 *
 * The same guest-facing logic as the model source (hv/assign.c).  BARs:
 * the function's own memory BARs are mapped into the guest (the device
 * fd's mmap: no exit on the data path), except what must be seen: the
 * MSI-X table and PBA (their BAR traps: the guest's entries are kept here,
 * VFIO programs the real ones) and, on an e1000, everything but its ring
 * pages (the ISR's ICR read is the end of an INTx, as for the model).
 * I/O BARs trap and are forwarded through VFIO's region access.
 * Interrupts arrive on eventfds: INTx (VFIO masks the line at each
 * assertion; the guest's ICR read unmasks it, VFIO re-signalling if it is
 * still asserted) and each MSI-X vector (delivered as the guest's entry
 * says, held pending while the entry or the function is masked).
 * DMA: every 2 MiB extent of guest RAM is mapped at IOVA == GPA in the
 * function's container, so its DMA reaches this guest's RAM and nothing
 * else: anything outside faults in the real IOMMU. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drivers/e1000/e1000_regs.h"
#include "drivers/virtio/virtio_regs.h"
#include "host/vfio/vfio_dev.h"
#include "hv/assign.h"
#include "hv/vm.h"
#include "hv/vm_window.h"
#include "hw/e1000/e1000_nic.h"
#include "lib/log.h"

#define VFIO_MAX_MSIX 64

struct vfio_bar_ctx {
    struct assign_source *s;
    int bar;
};

struct assign_vfio {
    struct vfio_dev dev;
    bool is_e1000;              /* 8086:100e: the ring-page split of BAR0 */
    int intx_fd, stop_fd;
    int resample_fd;            /* INTx by the backend's level irqfd: its EOI -> VFIO unmask */
    bool intx_by_irqfd;         /* then this process is off INTx's path */
    bool intx_irqfd_planned;    /* possible: bound at vm_ready, BAR0 mapped whole */
    pthread_t irq_thread;
    bool irq_thread_up;
    bool claimed;
    struct vfio_bar_ctx bar_ctx[PCI_NUM_BARS];
    /* MSI-X: the guest's table (vCPU thread writes, IRQ thread reads) */
    pthread_mutex_t msix_lock;
    unsigned msix_n, table_bir, pba_bir;
    uint32_t table_off, pba_off;
    int msix_fd[VFIO_MAX_MSIX];
    uint32_t table[VFIO_MAX_MSIX][4];
    bool pending[VFIO_MAX_MSIX];
    bool msix_on, msix_masked;
    /* vectors the backend delivers by itself (irqfd): not polled here */
    bool routed[VFIO_MAX_MSIX];
    uint64_t routed_addr[VFIO_MAX_MSIX];
    uint32_t routed_data[VFIO_MAX_MSIX];
    int wake_fd;                /* the poll set changed */
};

static struct assign_vfio *vf(struct assign_source *s) { return s->impl; }

static int open_vfio(struct assign_source *s, const char *arg)
{
    struct assign_vfio *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->intx_fd = v->stop_fd = v->wake_fd = v->resample_fd = -1;
    for (unsigned i = 0; i < VFIO_MAX_MSIX; i++)
        v->msix_fd[i] = -1;
    pthread_mutex_init(&v->msix_lock, NULL);
    char err[512];
    int r = vfio_dev__open(&v->dev, arg, err, sizeof err);
    if (r) {
        log__err("assign", "%s", err);
        pthread_mutex_destroy(&v->msix_lock);
        free(v);
        return r;
    }
    s->impl = v;
    uint16_t id[2] = {0, 0};
    (void)vfio_dev__cfg_read(&v->dev, 0, id, sizeof id);
    v->is_e1000 = id[0] == 0x8086 && id[1] == 0x100E;
    log__info("assign", "%s: %04x:%04x, vfio group %d, INTx %u, MSI %u, MSI-X %u, VFIO reset %s", v->dev.bdf, id[0],
              id[1], v->dev.group_id, v->dev.intx_count, v->dev.msi_count, v->dev.msix_count,
              v->dev.has_reset ? "yes" : "no");
    return 0;
}

/* vfio attached the container only after checking interrupt remapping,
 * unless its allow_unsafe_interrupts parameter waived the check. */
static bool vfio__irq_isolated(struct assign_source *s)
{
    (void)s;
    return !vfio_dev__unsafe_interrupts_allowed();
}

static uint16_t cfg16(struct assign_vfio *v, unsigned off)
{
    uint16_t x = 0xFFFF;
    (void)vfio_dev__cfg_read(&v->dev, off, &x, 2);
    return x;
}

static void set_cfg16(struct assign_vfio *v, unsigned off, uint16_t x)
{
    (void)vfio_dev__cfg_write(&v->dev, off, &x, 2);
}

static uint32_t bar0_read32(struct assign_vfio *v, uint64_t off)
{
    uint32_t x = 0xFFFFFFFFu;
    (void)vfio_dev__region_read(&v->dev, &v->dev.bar[0], off, &x, 4);
    return x;
}

static void bar0_write32(struct assign_vfio *v, uint64_t off, uint32_t x)
{
    (void)vfio_dev__region_write(&v->dev, &v->dev.bar[0], off, &x, 4);
}

/* A modern virtio function's common configuration: BAR and offset from
 * its vendor capability (virtio 1.1, 4.1.4.3); false if it has none. */
static bool virtio_common_cfg(struct assign_vfio *v, unsigned *bar, uint32_t *off)
{
    uint8_t c[PCI_CFG_SPACE_SIZE];
    if (vfio_dev__cfg_read(&v->dev, 0, c, sizeof c))
        return false;
    unsigned p = c[PCI_CAPABILITY_LIST] & 0xFC;
    for (unsigned hops = 0; p >= 0x40 && p + VIRTIO_PCI_CAP_SIZE <= sizeof c && hops < 48; hops++) {
        if (c[p] == PCI_CAP_ID_VNDR && c[p + VIRTIO_PCI_CAP_CFG_TYPE] == VIRTIO_PCI_CAP_COMMON_CFG &&
            c[p + VIRTIO_PCI_CAP_BAR] < PCI_NUM_BARS) {
            *bar = c[p + VIRTIO_PCI_CAP_BAR];
            memcpy(off, &c[p + VIRTIO_PCI_CAP_OFFSET], 4);
            return true;
        }
        p = c[p + PCI_CAP_LIST_NEXT] & 0xFC;
    }
    return false;
}

/* Quiesce and reset: bus mastering off first (no DMA from here on), then
 * VFIO's reset where the function has one (FLR, PM or bus reset), else
 * the function's own: the 82540EM's software reset (CTRL.RST, datasheet
 * 13.4.1; interrupts masked and receive off around it), a virtio
 * function's status 0 (virtio 1.1, 2.1.2 / 4.1.4.3).  Its own reset needs
 * memory decode for the write, which is then turned off again. */
static const char *quiesce(struct assign_vfio *v)
{
    const char *how = "none (bus mastering off only)";
    uint16_t cmd = cfg16(v, PCI_COMMAND);
    set_cfg16(v, PCI_COMMAND, (uint16_t)((cmd & ~PCI_COMMAND_MASTER) | PCI_COMMAND_MEMORY));
    unsigned bar;
    uint32_t off;
    if (!vfio_dev__reset(&v->dev)) {
        how = "VFIO_DEVICE_RESET";
    } else if (v->is_e1000) {
        bar0_write32(v, E1000_IMC, 0xFFFFFFFFu);
        bar0_write32(v, E1000_RCTL, 0);
        bar0_write32(v, E1000_CTRL, bar0_read32(v, E1000_CTRL) | E1000_CTRL_RST);
        struct timespec ts = {0, 2 * 1000 * 1000}; /* 13.4.1: >= 1 us before the next access */
        nanosleep(&ts, NULL);
        bar0_write32(v, E1000_IMC, 0xFFFFFFFFu);
        how = "e1000 CTRL.RST";
    } else if (virtio_common_cfg(v, &bar, &off)) {
        uint8_t zero = 0, st = 0xFF;
        (void)vfio_dev__region_write(&v->dev, &v->dev.bar[bar], off + VIRTIO_PCI_COMMON_STATUS, &zero, 1);
        for (int i = 0; i < 100 && st; i++) /* 4.1.4.3.2: the reset is done when status reads 0 */
            if (vfio_dev__region_read(&v->dev, &v->dev.bar[bar], off + VIRTIO_PCI_COMMON_STATUS, &st, 1))
                break;
        how = st ? "virtio status 0 (did not complete)" : "virtio status 0";
    }
    set_cfg16(v, PCI_COMMAND, (uint16_t)(cfg16(v, PCI_COMMAND) & ~(PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY |
                                                                  PCI_COMMAND_IO)));
    return how;
}

static int vfio__claim(struct assign_source *s)
{
    struct assign_vfio *v = vf(s);
    v->claimed = true;
    log__info("assign", "%s: reset: %s", v->dev.bdf, quiesce(v));
    return 0;
}

static int vfio__dma_map_guest(struct assign_source *s, const struct guest_mem *gm)
{
    char err[512];
    for (uint64_t i = 0; i < gm->nr_extents; i++) {
        void *va = physmem__ptr(gm->pm, gm->hpa[i], GUEST_MEM_EXTENT);
        int r = va ? vfio_dev__dma_map(&vf(s)->dev, gm->base + i * GUEST_MEM_EXTENT, va, GUEST_MEM_EXTENT, err,
                                       sizeof err)
                   : -EFAULT;
        if (r) {
            log__err("assign", "%s", va ? err : "guest RAM extent outside host memory");
            return r;
        }
    }
    return 0;
}

/* MSI: only for a function that has it (the guest's view has an MSI
 * capability exactly then); QEMU's e1000 has none. */
static int vfio__irq_connect(struct assign_source *s, assign_irq_fn fn, void *ctx)
{
    s->irq_fn = fn;
    s->irq_ctx = ctx;
    return 0;
}

static void vfio__msi_enable(struct assign_source *s, bool on)
{
    (void)s, (void)on; /* no MSI capability is offered to the guest (init_vcfg) */
}

/* MSI-X vector i fired: deliver the guest's entry, or hold it pending
 * while masked (PCI 3.0 6.8.3.4). */
static void msix_fire(struct assign_source *s, unsigned i)
{
    struct assign_vfio *v = vf(s);
    pthread_mutex_lock(&v->msix_lock);
    bool go = v->msix_on && !v->msix_masked && !(v->table[i][3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    if (!go)
        v->pending[i] = v->msix_on;
    uint64_t addr = (uint64_t)v->table[i][1] << 32 | v->table[i][0];
    uint32_t data = v->table[i][2];
    pthread_mutex_unlock(&v->msix_lock);
    if (go)
        assign__msi_deliver(s->irq_ctx, addr, data);
}

/* One thread for the function's interrupts: INTx and every MSI-X vector
 * (their eventfds exist for the life of the device; VFIO signals the
 * MSI-X ones only while the guest has MSI-X on).  The eventfds are
 * non-blocking: a vector just bound to the backend's irqfd may still be in
 * this poll set, and KVM consumes its count first, so a read here can find
 * it empty (a blocking read would then hang this thread, and teardown). */
static void *irq_loop(void *arg)
{
    struct assign_source *s = arg;
    struct assign_vfio *v = vf(s);
    struct pollfd p[3 + VFIO_MAX_MSIX];
    for (;;) {
        /* vectors the backend delivers itself are left to it (fd -1) */
        unsigned n = 0;
        p[n++] = (struct pollfd){.fd = v->stop_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = __atomic_load_n(&v->intx_by_irqfd, __ATOMIC_ACQUIRE) ? -1 : v->intx_fd,
                                 .events = POLLIN};
        pthread_mutex_lock(&v->msix_lock);
        for (unsigned i = 0; i < v->msix_n; i++)
            p[n++] = (struct pollfd){.fd = v->routed[i] ? -1 : v->msix_fd[i], .events = POLLIN};
        pthread_mutex_unlock(&v->msix_lock);
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        uint64_t c;
        if (p[1].revents && read(v->wake_fd, &c, sizeof c) < 0 && errno != EAGAIN)
            break;
        if (p[2].revents && read(v->intx_fd, &c, sizeof c) == sizeof c)
            s->intx_fn(s->intx_ctx);
        for (unsigned i = 3; i < n; i++)
            if (p[i].revents && read(p[i].fd, &c, sizeof c) == sizeof c)
                msix_fire(s, i - 3);
    }
    return NULL;
}

/* Vector i straight into the guest by the backend (irqfd) while the guest
 * can take it as programmed (MSI-X on, function and entry unmasked, a
 * message the VM accepts); back to this thread otherwise, which then holds
 * it pending when masked.  vCPU thread (the only writer of the table and
 * the capability). */
static void msix_route(struct assign_source *s, unsigned i)
{
    struct assign_vfio *v = vf(s);
    if (!assign__irqfd_possible(s->irq_ctx))
        return;
    pthread_mutex_lock(&v->msix_lock);
    bool want = v->msix_on && !v->msix_masked && !(v->table[i][3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    uint64_t addr = (uint64_t)v->table[i][1] << 32 | v->table[i][0];
    uint32_t data = v->table[i][2];
    bool was = v->routed[i];
    bool same = was && v->routed_addr[i] == addr && v->routed_data[i] == data;
    pthread_mutex_unlock(&v->msix_lock);
    if (want && same)
        return;
    if (was)
        assign__irqfd_detach(s->irq_ctx, v->msix_fd[i]);
    bool now = false;
    if (want) {
        now = assign__irqfd_attach(s->irq_ctx, v->msix_fd[i], addr, data) == 0;
    }
    pthread_mutex_lock(&v->msix_lock);
    v->routed[i] = now;
    v->routed_addr[i] = addr;
    v->routed_data[i] = data;
    pthread_mutex_unlock(&v->msix_lock);
    if (was != now) {
        uint64_t one = 1;
        if (write(v->wake_fd, &one, sizeof one) != sizeof one)
            log__err("assign", "waking the interrupt thread: %s", strerror(errno));
    }
}

/* INTx without this process, where the machine allows it (an I/O APIC and
 * a backend with level irqfds: kvm): VFIO's INTx eventfd asserts the wired
 * line, the guest's EOI of it signals the resample fd, which VFIO takes
 * as the unmask (if the function still asserts INTA#, it fires again), as
 * QEMU and the kernel's KVM/VFIO pairing do.  Bound once the backend's VM
 * exists (vm_ready); planned at intx_connect, so BAR0 is mapped whole.
 * Else INTx stays on this process's thread with the ICR read as its end
 * (assign.c). */
static int vfio__vm_ready(struct assign_source *s)
{
    struct assign_vfio *v = vf(s);
    if (!v->intx_irqfd_planned)
        return 0;
    int r = (v->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ? -errno : 0;
    if (!r)
        r = vfio_dev__intx_unmask_eventfd(&v->dev, v->resample_fd);
    if (!r && !(r = assign__irqfd_attach_intx(s->irq_ctx, v->intx_fd, v->resample_fd))) {
        __atomic_store_n(&v->intx_by_irqfd, true, __ATOMIC_RELEASE);
        uint64_t one = 1; /* the interrupt thread stops polling INTx */
        if (write(v->wake_fd, &one, sizeof one) != sizeof one)
            log__err("assign", "waking the interrupt thread: %s", strerror(errno));
        return 0;
    }
    /* BAR0 is mapped whole: without the irqfd nothing would end INTx */
    log__err("assign", "%s: INTx through the backend's irqfd: %s", v->dev.bdf, strerror(-r));
    if (v->resample_fd >= 0)
        (void)vfio_dev__intx_unmask_eventfd(&v->dev, -1);
    return r;
}

static int vfio__intx_connect(struct assign_source *s, assign_irq_fn fn, assign_irq_fn eoi, void *ctx)
{
    struct assign_vfio *v = vf(s);
    s->intx_fn = fn;
    s->intx_eoi = eoi;
    s->intx_ctx = ctx;
    v->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    v->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->intx_fd < 0 || v->stop_fd < 0 || v->wake_fd < 0)
        return -errno;
    v->msix_n = v->dev.msix_count < VFIO_MAX_MSIX ? v->dev.msix_count : VFIO_MAX_MSIX;
    for (unsigned i = 0; i < v->msix_n; i++)
        if ((v->msix_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
            return -errno;
    /* INTx only where the guest is offered it (init_vcfg): VFIO runs one
     * interrupt type at a time, and MSI-X could not start beside it. */
    int r = v->is_e1000 && v->dev.intx_count ? vfio_dev__intx_enable(&v->dev, v->intx_fd) : 0;
    if (r) {
        log__err("assign", "%s: INTx through VFIO: %s", v->dev.bdf, strerror(-r));
        return r;
    }
    v->intx_irqfd_planned = v->is_e1000 && v->dev.intx_count && assign__irqfd_intx_possible(s->irq_ctx);
    if ((r = pthread_create(&v->irq_thread, NULL, irq_loop, s))) {
        vfio_dev__intx_disable(&v->dev);
        return -r;
    }
    pthread_setname_np(v->irq_thread, "vfio-irq");
    v->irq_thread_up = true;
    s->intx_registered = true;
    return 0;
}

/* The guest's MSI-X enable and function mask: VFIO's vectors follow the
 * enable; unmasking delivers what was held pending. */
static void vfio__msix_update(struct assign_source *s, const struct pci_dev *vcfg)
{
    struct assign_vfio *v = vf(s);
    bool on = pci_dev__msix_enabled(vcfg) && v->msix_n;
    if (on && !v->msix_on) {
        int r = vfio_dev__msix_enable(&v->dev, v->msix_n, v->msix_fd);
        if (r) {
            log__err("assign", "%s: MSI-X through VFIO: %s", v->dev.bdf, strerror(-r));
            on = false;
        }
    } else if (!on && v->msix_on) {
        vfio_dev__msix_disable(&v->dev);
    }
    pthread_mutex_lock(&v->msix_lock);
    v->msix_on = on;
    v->msix_masked = pci_dev__msix_masked(vcfg);
    if (!on)
        memset(v->pending, 0, sizeof v->pending);
    pthread_mutex_unlock(&v->msix_lock);
    for (unsigned i = 0; i < v->msix_n; i++)
        msix_route(s, i);
    for (unsigned i = 0; on && i < v->msix_n; i++) {
        pthread_mutex_lock(&v->msix_lock);
        bool p = v->pending[i];
        v->pending[i] = false;
        pthread_mutex_unlock(&v->msix_lock);
        if (p)
            msix_fire(s, i);
    }
}

static void vfio__intx_unmask(struct assign_source *s)
{
    (void)vfio_dev__intx_unmask(&vf(s)->dev);
}

static void vfio__set_command(struct assign_source *s, uint16_t cmd)
{
    struct assign_vfio *v = vf(s);
    const uint16_t fwd = PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
    set_cfg16(v, PCI_COMMAND, (uint16_t)((cfg16(v, PCI_COMMAND) & ~fwd) | (cmd & fwd)));
}

/* The guest sees the function as its configuration space describes it:
 * IDs, class, capabilities (read-only but for the MSI/MSI-X enable and
 * mask bits), its BARs' sizes and types.  INTx only on an e1000: the end
 * of an INTx is the guest's ICR read, which only an e1000's BAR0 split
 * lets this source see. */
static void vfio__init_vcfg(struct assign_source *s, struct pci_dev *d)
{
    struct assign_vfio *v = vf(s);
    uint8_t c[PCI_CFG_SPACE_SIZE];
    memset(c, 0xFF, sizeof c);
    (void)vfio_dev__cfg_read(&v->dev, 0, c, sizeof c);
    pci_dev__init_copy(d, c);
    for (int b = 0; b < PCI_NUM_BARS; b++) {
        uint64_t size = v->dev.bar[b].size;
        if (!size || (size & (size - 1)))
            continue;
        uint8_t flags = c[PCI_BASE_ADDRESS_0 + 4 * b];
        bool io = flags & 1, mem64 = !io && (flags & 6) == 4;
        if (pci_dev__add_bar(d, b, size, io, mem64))
            log__err("assign", "%s: BAR%d (%llu bytes) not offered to the guest", v->dev.bdf, b,
                     (unsigned long long)size);
    }
    pci_dev__set_intx_pin(d, v->is_e1000 && v->dev.intx_count ? c[PCI_INTERRUPT_PIN] : 0);
    /* MSI (not MSI-X) of a real function is not wired to VFIO yet: its
     * enable bit stays 0, so a guest driver sees it fail and falls back. */
    if (d->msi_cap)
        d->wmask[d->msi_cap + PCI_MSI_FLAGS] &= (uint8_t)~PCI_MSI_FLAGS_ENABLE;
    if (d->msix_cap) {
        pci_dev__msix_table(d, &v->table_bir, &v->table_off);
        pci_dev__msix_pba(d, &v->pba_bir, &v->pba_off);
        for (unsigned i = 0; i < VFIO_MAX_MSIX; i++)
            v->table[i][3] = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* entries start masked (6.8.2.9) */
    }
}

/* MSI-X table (the guest's entries, kept here) and PBA (pending bits as
 * this source holds them): a dword or qword access inside; true if it was. */
static bool msix_access(struct assign_vfio *v, int bar, uint64_t off, unsigned size, uint64_t *val, bool write,
                        unsigned *unmasked, unsigned *entry)
{
    if (!v->msix_n || (size != 4 && size != 8) || (off & (size - 1)))
        return false;
    if (bar == (int)v->table_bir && off >= v->table_off && off - v->table_off < v->msix_n * PCI_MSIX_ENTRY_SIZE) {
        unsigned i = (unsigned)((off - v->table_off) / PCI_MSIX_ENTRY_SIZE);
        unsigned w = (unsigned)((off - v->table_off) % PCI_MSIX_ENTRY_SIZE) / 4;
        *entry = i + 1;
        pthread_mutex_lock(&v->msix_lock);
        for (unsigned k = 0; k < size / 4; k++) {
            if (write) {
                bool was = v->table[i][w + k] & PCI_MSIX_ENTRY_CTRL_MASKBIT;
                v->table[i][w + k] = (uint32_t)(*val >> (32 * k));
                if (w + k == 3 && was && !(v->table[i][3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) && v->pending[i]) {
                    v->pending[i] = false;
                    *unmasked = i + 1;
                }
            } else {
                *val = k ? *val | (uint64_t)v->table[i][w + k] << 32 : v->table[i][w];
            }
        }
        pthread_mutex_unlock(&v->msix_lock);
        return true;
    }
    if (bar == (int)v->pba_bir && off >= v->pba_off && off - v->pba_off < (v->msix_n + 63) / 64 * 8) {
        if (!write) {
            uint64_t bits = 0;
            unsigned first = (unsigned)(off - v->pba_off) * 8;
            pthread_mutex_lock(&v->msix_lock);
            for (unsigned i = first; i < first + size * 8 && i < v->msix_n; i++)
                bits |= (uint64_t)v->pending[i] << (i - first);
            pthread_mutex_unlock(&v->msix_lock);
            *val = bits;
        }
        return true; /* the PBA is read-only */
    }
    return false;
}

/* A trapped BAR access: MSI-X state here, the rest forwarded; on an
 * e1000, a read of ICR is the guest's end of interrupt for INTx. */
static uint64_t bar_read(void *ctx, uint64_t off, unsigned size)
{
    struct vfio_bar_ctx *c = ctx;
    struct assign_vfio *v = vf(c->s);
    uint64_t x = ~0ull;
    unsigned unmasked = 0, entry = 0;
    if (!msix_access(v, c->bar, off, size, &x, false, &unmasked, &entry) &&
        vfio_dev__region_read(&v->dev, &v->dev.bar[c->bar], off, &x, size))
        x = ~0ull;
    if (size < 8)
        x &= (1ull << (8 * size)) - 1;
    if (v->is_e1000 && c->bar == 0 && off == E1000_ICR && c->s->intx_eoi &&
        !__atomic_load_n(&v->intx_by_irqfd, __ATOMIC_ACQUIRE))
        c->s->intx_eoi(c->s->intx_ctx);
    return x;
}

static void bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
    struct vfio_bar_ctx *c = ctx;
    struct assign_vfio *v = vf(c->s);
    unsigned unmasked = 0, entry = 0;
    if (!msix_access(v, c->bar, off, size, &val, true, &unmasked, &entry))
        (void)vfio_dev__region_write(&v->dev, &v->dev.bar[c->bar], off, &val, size);
    if (entry) /* the guest changed an entry: who delivers it may change */
        msix_route(c->s, entry - 1);
    if (unmasked) /* an entry unmasked with a message pending: deliver it now */
        msix_fire(c->s, unmasked - 1);
}

static const struct mmio_ops vfio_bar_ops = {.read = bar_read, .write = bar_write};

static int map_direct(struct hv_vm *vm, struct assign_vfio *v, int b, uint64_t gpa, uint64_t off, uint64_t len)
{
    int r = vcpu_memmap__add_direct(&vm->map, gpa + off, len, v->dev.device, v->dev.bar[b].offset + off, true);
    if (r)
        log__err("assign", "mapping %s BAR%d [%#llx, +%#llx): %s", v->dev.bdf, b, (unsigned long long)off,
                 (unsigned long long)len, strerror(-r));
    return r;
}

static int vfio__map_bars(struct assign_source *s, struct hv_vm *vm, const uint64_t fw[PCI_NUM_BARS], bool decode)
{
    static const char *const names[PCI_NUM_BARS] = {"nic-bar0", "nic-bar1", "nic-bar2",
                                                    "nic-bar3", "nic-bar4", "nic-bar5"};
    struct assign_vfio *v = vf(s);
    if (v->is_e1000 && v->dev.bar[0].size < E1000_MMIO_SIZE) {
        log__err("assign", "%s: BAR0 is %llu bytes, not an e1000's %u", v->dev.bdf,
                 (unsigned long long)v->dev.bar[0].size, E1000_MMIO_SIZE);
        return -ENODEV;
    }
    for (int b = 0; b < PCI_NUM_BARS; b++) {
        const struct vfio_region *rg = &v->dev.bar[b];
        if (!fw[b])
            continue;
        bool io = vm->assign->vcfg.bars[b].io;
        bool msix_bar = v->msix_n && (b == (int)v->table_bir || b == (int)v->pba_bir);
        /* an e1000's BAR0 traps all but its ring pages only while its ICR
         * read ends INTx here; with INTx on an irqfd all of it is direct */
        bool direct_all = !io && rg->mmappable && !msix_bar && (!v->is_e1000 || v->intx_irqfd_planned) &&
                          rg->size % 4096 == 0;
        int r = 0;
        if (direct_all) {
            r = map_direct(vm, v, b, fw[b], 0, rg->size);
        } else if (v->is_e1000 && b == 0 && rg->mmappable) {
            static const uint32_t ring[] = {E1000_NIC_RX_RING_PAGE, E1000_NIC_TX_RING_PAGE};
            for (unsigned i = 0; i < 2 && !r; i++)
                r = map_direct(vm, v, b, fw[b], ring[i], 0x1000);
        }
        if (r)
            return r;
        if (direct_all)
            continue;
        /* the rest traps (mapped pages inside the window never fault) */
        v->bar_ctx[b] = (struct vfio_bar_ctx){.s = s, .bar = b};
        vm->nic_bar[b] = hv_window__add(vm, io ? VCPU_TRAP_PIO : VCPU_TRAP_MMIO, decode ? fw[b] : 0, rg->size,
                                        &vfio_bar_ops, &v->bar_ctx[b], names[b]);
        if (!vm->nic_bar[b])
            return -ENOSPC;
    }
    return 0;
}

static void vfio__release(struct assign_source *s)
{
    struct assign_vfio *v = vf(s);
    if (!v)
        return;
    if (v->claimed && v->dev.device >= 0)
        quiesce(v); /* bus mastering off before the DMA mappings go */
    for (unsigned i = 0; i < v->msix_n; i++)
        if (v->routed[i]) {
            assign__irqfd_detach(s->irq_ctx, v->msix_fd[i]);
            v->routed[i] = false;
        }
    if (__atomic_load_n(&v->intx_by_irqfd, __ATOMIC_ACQUIRE)) {
        assign__irqfd_detach_intx(s->irq_ctx, v->intx_fd);
        (void)vfio_dev__intx_unmask_eventfd(&v->dev, -1);
    }
    vfio_dev__intx_disable(&v->dev);
    vfio_dev__msix_disable(&v->dev);
    if (v->irq_thread_up) {
        uint64_t one = 1;
        if (write(v->stop_fd, &one, sizeof one) != sizeof one)
            log__err("assign", "stopping the interrupt thread: %s", strerror(errno));
        pthread_join(v->irq_thread, NULL);
    }
    if (v->intx_fd >= 0)
        close(v->intx_fd);
    if (v->stop_fd >= 0)
        close(v->stop_fd);
    if (v->resample_fd >= 0)
        close(v->resample_fd);
    if (v->wake_fd >= 0)
        close(v->wake_fd);
    for (unsigned i = 0; i < VFIO_MAX_MSIX; i++)
        if (v->msix_fd[i] >= 0)
            close(v->msix_fd[i]);
    pthread_mutex_destroy(&v->msix_lock);
    vfio_dev__close(&v->dev); /* unmaps DMA, gives the group back */
    free(v);
    s->impl = NULL;
    s->intx_registered = false;
    s->intx_eoi = NULL;
}

const struct assign_source_ops assign_vfio_ops = {
    .name = "vfio",
    .open = open_vfio,
    .irq_isolated = vfio__irq_isolated,
    .claim = vfio__claim,
    .dma_map_guest = vfio__dma_map_guest,
    .irq_connect = vfio__irq_connect,
    .intx_connect = vfio__intx_connect,
    .intx_unmask = vfio__intx_unmask,
    .msi_enable = vfio__msi_enable,
    .set_command = vfio__set_command,
    .init_vcfg = vfio__init_vcfg,
    .map_bars = vfio__map_bars,
    .msix_update = vfio__msix_update,
    .vm_ready = vfio__vm_ready,
    .release = vfio__release,
};
