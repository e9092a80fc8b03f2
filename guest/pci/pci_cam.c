/* Configuration mechanism #1 (PCI 3.0 section 3.2.2.3.2): CONFIG_ADDRESS at
 * 0xCF8, CONFIG_DATA at 0xCFC.  Each access is two port I/Os, with
 * interrupts masked so a handler cannot interleave its own access. */
#include "guest/pci/pci.h"

#include "guest/hal/hal.h"
#include "guest/kernel/console.h"
#include "drivers/platform/platform_map.h"

static uint32_t pci_cam__read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    (void)ctx;
    bool was = hal__irq_save();
    hal__outl(PLATFORM_PORT_PCI_ADDR, PCI_CONFIG_ADDRESS(bus, dev, fn, off));
    uint32_t v = hal__inl(PLATFORM_PORT_PCI_DATA);
    hal__irq_restore(was);
    return v;
}

static void pci_cam__write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    (void)ctx;
    bool was = hal__irq_save();
    hal__outl(PLATFORM_PORT_PCI_ADDR, PCI_CONFIG_ADDRESS(bus, dev, fn, off));
    hal__outl(PLATFORM_PORT_PCI_DATA, v);
    hal__irq_restore(was);
}

const struct pci_cfg_ops pci_cam_ops = {
    .read32 = pci_cam__read32,
    .write32 = pci_cam__write32,
};

void pci__print(const struct pci_bus *bus)
{
    kprintf("pci: %u function(s) on bus 0\n", bus->ndevs);
    for (unsigned i = 0; i < bus->ndevs; i++) {
        const struct pci_dev *d = &bus->devs[i];
        kprintf("pci: 00:%02x.%u %04x:%04x class %02x%02x%02x irq line %u pin %u%s%s\n", d->dev,
                d->fn, d->vendor, d->device, d->class_code, d->subclass, d->prog_if, d->irq_line,
                d->irq_pin, d->cap_msi ? " msi" : "", d->cap_msix ? " msix" : "");
        for (unsigned b = 0; b < PCI_NUM_BARS; b++)
            if (d->bar[b].size)
                kprintf("pci:   BAR%u %s %#lx size %#lx\n", b, d->bar[b].io ? "io " : "mem",
                        (unsigned long)d->bar[b].addr, (unsigned long)d->bar[b].size);
    }
}
