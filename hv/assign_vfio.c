/* Device source "vfio": a real PCI function of this Linux host, taken
 * through VFIO and confined by the host's real IOMMU (hv/assign.h,
 * host/vfio/vfio_dev.h).  `--assign vfio:0000:00:10.0`.
 *
 * The same guest-facing logic as the model source (hv/assign.c): BAR0's
 * ring pages are mapped into the guest (the device fd's mmap, no exit on
 * the data path), the rest of BAR0 and the I/O BAR trap and are forwarded
 * through VFIO's region access; the function's INTx arrives on an eventfd
 * (VFIO masks the line at each assertion; the guest's ICR read is its end
 * of interrupt and unmasks it, VFIO re-signalling if it is still asserted).
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
#include "host/vfio/vfio_dev.h"
#include "hv/assign.h"
#include "hv/vm.h"
#include "hv/vm_window.h"
#include "hw/e1000/e1000_nic.h"
#include "lib/log.h"

struct assign_vfio {
    struct vfio_dev dev;
    int intx_fd, stop_fd;
    pthread_t intx_thread;
    bool intx_thread_up;
    bool claimed;
};

static struct assign_vfio *vf(struct assign_source *s) { return s->impl; }

static int open_vfio(struct assign_source *s, const char *arg)
{
    struct assign_vfio *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->intx_fd = v->stop_fd = -1;
    char err[512];
    int r = vfio_dev__open(&v->dev, arg, err, sizeof err);
    if (r) {
        log__err("assign", "%s", err);
        free(v);
        return r;
    }
    s->impl = v;
    log__info("assign", "%s: vfio group %d, BAR0 %llu KiB%s, INTx %u, MSI %u, MSI-X %u, reset: %s", v->dev.bdf,
              v->dev.group_id, (unsigned long long)(v->dev.bar[0].size >> 10),
              v->dev.bar[0].mmappable ? " (mmap)" : "", v->dev.intx_count, v->dev.msi_count, v->dev.msix_count,
              v->dev.has_reset ? "VFIO_DEVICE_RESET" : "none (the device's own CTRL.RST)");
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

/* Quiesce and reset: bus mastering off first (no DMA from here on), then
 * VFIO's reset where the device has one, else the 82540EM's own software
 * reset (CTRL.RST, datasheet 13.4.1), which needs memory decode for the
 * write; interrupts masked (IMC) and receive off either way. */
static void quiesce(struct assign_vfio *v)
{
    uint16_t cmd = cfg16(v, PCI_COMMAND);
    set_cfg16(v, PCI_COMMAND, (uint16_t)((cmd & ~PCI_COMMAND_MASTER) | PCI_COMMAND_MEMORY));
    if (vfio_dev__reset(&v->dev)) {
        bar0_write32(v, E1000_IMC, 0xFFFFFFFFu);
        bar0_write32(v, E1000_RCTL, 0);
        bar0_write32(v, E1000_CTRL, bar0_read32(v, E1000_CTRL) | E1000_CTRL_RST);
        struct timespec ts = {0, 2 * 1000 * 1000}; /* 13.4.1: wait >= 1 us before access; be generous */
        nanosleep(&ts, NULL);
        bar0_write32(v, E1000_IMC, 0xFFFFFFFFu);
    }
    set_cfg16(v, PCI_COMMAND, (uint16_t)(cfg16(v, PCI_COMMAND) & ~(PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY |
                                                                  PCI_COMMAND_IO)));
}

static int vfio__claim(struct assign_source *s)
{
    vf(s)->claimed = true;
    quiesce(vf(s));
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

static void *intx_loop(void *arg)
{
    struct assign_source *s = arg;
    struct assign_vfio *v = vf(s);
    struct pollfd p[2] = {{.fd = v->intx_fd, .events = POLLIN}, {.fd = v->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        uint64_t n;
        if (p[0].revents && read(v->intx_fd, &n, sizeof n) == sizeof n)
            s->intx_fn(s->intx_ctx);
    }
    return NULL;
}

static int vfio__intx_connect(struct assign_source *s, assign_irq_fn fn, assign_irq_fn eoi, void *ctx)
{
    struct assign_vfio *v = vf(s);
    s->intx_fn = fn;
    s->intx_eoi = eoi;
    s->intx_ctx = ctx;
    v->intx_fd = eventfd(0, EFD_CLOEXEC);
    v->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (v->intx_fd < 0 || v->stop_fd < 0)
        return -errno;
    int r = vfio_dev__intx_enable(&v->dev, v->intx_fd);
    if (r) {
        log__err("assign", "%s: INTx through VFIO: %s", v->dev.bdf, strerror(-r));
        return r;
    }
    if ((r = pthread_create(&v->intx_thread, NULL, intx_loop, s))) {
        vfio_dev__intx_disable(&v->dev);
        return -r;
    }
    pthread_setname_np(v->intx_thread, "vfio-intx");
    v->intx_thread_up = true;
    s->intx_registered = true;
    return 0;
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

/* The guest sees the function's IDs, class and BARs as they are, its INTx
 * pin, and no capability it could not use (no MSI where the function has
 * none). */
static void vfio__init_vcfg(struct assign_source *s, struct pci_dev *d)
{
    struct assign_vfio *v = vf(s);
    uint8_t c[64];
    memset(c, 0xFF, sizeof c);
    (void)vfio_dev__cfg_read(&v->dev, 0, c, sizeof c);
    pci_dev__init(d, (uint16_t)(c[0] | c[1] << 8), (uint16_t)(c[2] | c[3] << 8),
                  (uint32_t)(c[9] | c[10] << 8 | c[11] << 16), c[8]);
    for (int b = 0; b < 2; b++)
        if (v->dev.bar[b].size)
            pci_dev__add_bar(d, b, v->dev.bar[b].size, c[PCI_BASE_ADDRESS_0 + 4 * b] & 1, false);
    memcpy(&d->cfg[PCI_SUBSYSTEM_VENDOR_ID], &c[PCI_SUBSYSTEM_VENDOR_ID], 4);
    pci_dev__set_intx_pin(d, v->dev.intx_count ? c[PCI_INTERRUPT_PIN] : 0);
}

/* The trapped part of BAR0, forwarded; a read of ICR is the guest's end of
 * interrupt for INTx (as for the model source). */
static uint64_t bar_read(struct assign_source *s, int b, uint64_t off, unsigned size)
{
    uint64_t x = ~0ull;
    if (vfio_dev__region_read(&vf(s)->dev, &vf(s)->dev.bar[b], off, &x, size))
        x = ~0ull;
    if (size < 8)
        x &= (1ull << (8 * size)) - 1;
    if (b == 0 && off == E1000_ICR && s->intx_eoi)
        s->intx_eoi(s->intx_ctx);
    return x;
}

static uint64_t bar0_read(void *dev, uint64_t off, unsigned size) { return bar_read(dev, 0, off, size); }
static uint64_t bar1_read(void *dev, uint64_t off, unsigned size) { return bar_read(dev, 1, off, size); }
static void bar0_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)vfio_dev__region_write(&vf(dev)->dev, &vf(dev)->dev.bar[0], off, &val, size);
}
static void bar1_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)vfio_dev__region_write(&vf(dev)->dev, &vf(dev)->dev.bar[1], off, &val, size);
}

static const struct mmio_ops vfio_bar_ops[2] = {{.read = bar0_read, .write = bar0_write},
                                                {.read = bar1_read, .write = bar1_write}};

static int vfio__map_bars(struct assign_source *s, struct hv_vm *vm, uint64_t bar0_gpa, uint64_t bar1_port,
                          bool decode)
{
    struct assign_vfio *v = vf(s);
    const struct vfio_region *b0 = &v->dev.bar[0];
    if (b0->size < E1000_MMIO_SIZE) {
        log__err("assign", "%s: BAR0 is %llu bytes, not an e1000's %u", v->dev.bdf, (unsigned long long)b0->size,
                 E1000_MMIO_SIZE);
        return -ENODEV;
    }
    if (b0->mmappable) {
        static const uint32_t direct[] = {E1000_NIC_RX_RING_PAGE, E1000_NIC_TX_RING_PAGE};
        for (unsigned i = 0; i < 2; i++) {
            int r = vcpu_memmap__add_direct(&vm->map, bar0_gpa + direct[i], 0x1000, v->dev.device,
                                            b0->offset + direct[i], true);
            if (r) {
                log__err("assign", "mapping %s BAR0 page %#x: %s", v->dev.bdf, direct[i], strerror(-r));
                return r;
            }
        }
    }
    vm->nic_bar[0] = hv_window__add(vm, VCPU_TRAP_MMIO, decode ? bar0_gpa : 0, E1000_MMIO_SIZE, &vfio_bar_ops[0],
                                    s, "nic-bar0");
    vm->nic_bar[1] = hv_window__add(vm, VCPU_TRAP_PIO, decode ? bar1_port : 0,
                                    v->dev.bar[1].size ? v->dev.bar[1].size : 8, &vfio_bar_ops[1], s, "nic-bar1");
    return vm->nic_bar[0] && vm->nic_bar[1] ? 0 : -ENOSPC;
}

static void vfio__release(struct assign_source *s)
{
    struct assign_vfio *v = vf(s);
    if (!v)
        return;
    if (v->claimed && v->dev.device >= 0)
        quiesce(v); /* bus mastering off before the DMA mappings go */
    vfio_dev__intx_disable(&v->dev);
    if (v->intx_thread_up) {
        uint64_t one = 1;
        if (write(v->stop_fd, &one, sizeof one) != sizeof one)
            log__err("assign", "stopping the INTx thread: %s", strerror(errno));
        pthread_join(v->intx_thread, NULL);
    }
    if (v->intx_fd >= 0)
        close(v->intx_fd);
    if (v->stop_fd >= 0)
        close(v->stop_fd);
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
    .release = vfio__release,
};
