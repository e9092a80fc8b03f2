/* Trapped register windows: every emulated device range goes through the
 * vCPU's trap registry to a struct mmio_ops; BARs move when the guest
 * reprograms them and stop decoding when it disables decode. */
#include "hv/vm_window.h"

#include <errno.h>
#include <string.h>

#include "drivers/platform/platform_map.h"
#include "lib/log.h"

/* Platform ranges no BAR may cover: the I/O APIC (the KVM backend's
 * in-kernel one answers there before any trap), the interrupt window and
 * the backend-reserved pages. */
static const struct {
    uint64_t base, len;
} fixed_ranges[] = {
    {PLATFORM_IOAPIC_BASE, PLATFORM_IOAPIC_SIZE},
    {PLATFORM_MSI_WINDOW_BASE, 0x100000ull},
    {PLATFORM_BACKEND_RESERVED_BASE, PLATFORM_BACKEND_RESERVED_SIZE},
};

static bool over_fixed_range(uint64_t base, uint64_t len)
{
    if (base + len < base)
        return true;
    for (unsigned i = 0; i < sizeof fixed_ranges / sizeof fixed_ranges[0]; i++)
        if (base < fixed_ranges[i].base + fixed_ranges[i].len && fixed_ranges[i].base < base + len)
            return true;
    return false;
}

static void window__trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                         void *opaque)
{
    (void)v;
    struct hv_window *w = opaque;
    uint64_t off = addr - w->base, val = 0;
    if (is_write) {
        memcpy(&val, data, len);
        w->ops->write(w->dev, off, len, val);
    } else {
        val = w->ops->read(w->dev, off, len);
        memcpy(data, &val, len);
    }
}

struct hv_window *hv_window__add(struct hv_vm *vm, enum vcpu_trap_space space, uint64_t base,
                                 uint64_t len, const struct mmio_ops *ops, void *dev, const char *name)
{
    if (vm->nwindows == HV_MAX_WINDOWS)
        return NULL;
    struct hv_window *w = &vm->windows[vm->nwindows++];
    *w = (struct hv_window){.vm = vm, .ops = ops, .dev = dev, .len = len, .space = space, .name = name};
    if (base && hv_window__move(w, base) < 0) {
        vm->nwindows--;
        return NULL;
    }
    return w;
}

int hv_window__move(struct hv_window *w, uint64_t base)
{
    if (base == w->base)
        return 0;
    if (w->base)
        vcpu_traps__unregister(&w->vm->traps, w->space, w->base);
    w->base = 0;
    if (!base)
        return 0;
    /* A memory window over guest RAM would never trap (RAM is mapped);
     * refuse it so the device simply stops decoding there. */
    if (w->space == VCPU_TRAP_MMIO && base + w->len > w->vm->mem.base &&
        base < w->vm->mem.base + w->vm->mem.size) {
        log__debug("hv", "%s: window at %#llx overlaps guest RAM; not decoded", w->name,
                   (unsigned long long)base);
        return -EEXIST;
    }
    if (w->space == VCPU_TRAP_MMIO && over_fixed_range(base, w->len)) {
        log__debug("hv", "%s: window at %#llx overlaps a platform range; not decoded", w->name,
                   (unsigned long long)base);
        return -EEXIST;
    }
    int r = vcpu_traps__register(&w->vm->traps, w->space, base, w->len, window__trap, w, w->name);
    if (r < 0) {
        log__debug("hv", "%s: window at %#llx refused (%d); not decoded", w->name,
                   (unsigned long long)base, r);
        return r;
    }
    w->base = base;
    return 0;
}

void hv_window__sync_bar(struct hv_window *w, const struct pci_dev *d, int bar)
{
    uint16_t cmd = pci_dev__command(d);
    bool io = d->bars[bar].io;
    bool decode = cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
    uint64_t addr = pci_dev__bar_addr(d, bar);
    /* Sizing in progress (all-ones written) or a wrapping address: off. */
    if (!decode || !addr || addr + d->bars[bar].size < addr ||
        (io && addr + d->bars[bar].size > 0x10000))
        addr = 0;
    hv_window__move(w, addr);
}
