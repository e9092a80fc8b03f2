#include "hv/e1000_emul.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/e1000/e1000_pci.h"
#include "drivers/e1000/e1000_regs.h"

static void e1000_emul__level(void *ctx, int level)
{
    struct e1000_emul *d = ctx;
    int was = __atomic_exchange_n(&d->level, level, __ATOMIC_ACQ_REL);
    if (!level || was)
        return; /* only a rising edge is a new interrupt */
    if (pci_dev__msi_enabled(&d->pci))
        vm_irq__msi(d->irq, pci_dev__msi_address(&d->pci), pci_dev__msi_data(&d->pci));
    else if (!(pci_dev__command(&d->pci) & PCI_COMMAND_INTX_DISABLE))
        vm_irq__intx(d->irq, d->pci.cfg[PCI_INTERRUPT_LINE]);
}

int e1000_emul__init(struct e1000_emul *d, struct guest_mem *gm, struct vm_irq *irq,
                     const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx)
{
    memset(d, 0, sizeof(*d));
    d->regs = aligned_alloc(4096, E1000_MMIO_SIZE);
    if (!d->regs)
        return -ENOMEM;
    memset(d->regs, 0, E1000_MMIO_SIZE);
    e1000__pci_init(&d->pci);
    guest_mem__dma_port(gm, &d->dma);
    d->irq = irq;
    d->tx = tx;
    d->tx_ctx = tx_ctx;
    /* The model reports its interrupt level only; MSI/INTx is our choice. */
    d->sink = (struct irq_sink){.msi = NULL, .intx = e1000_emul__level, .ctx = d};
    d->nic = e1000__create(d->regs, &d->dma, &d->sink, mac, tx, tx_ctx);
    if (!d->nic) {
        free(d->regs);
        return -ENOMEM;
    }
    return 0;
}

void e1000_emul__destroy(struct e1000_emul *d)
{
    if (d->nic)
        e1000__destroy(d->nic);
    free(d->regs);
    memset(d, 0, sizeof(*d));
}

static uint64_t bar0_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_MEMORY))
        return ~0ull; /* decode disabled: master abort */
    return e1000_mmio_ops.read(d->nic, off, size);
}

static void bar0_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_MEMORY))
        return;
    e1000_mmio_ops.write(d->nic, off, size, val);
    if ((off & ~3ull) == E1000_TDT && (pci_dev__command(&d->pci) & PCI_COMMAND_MASTER)) {
        d->tx_kicks++;
        /* Bounded: the model never takes more than a ring's worth per call. */
        e1000__tx_poll(d->nic, 4096);
    }
}

const struct mmio_ops e1000_emul_bar0_ops = {.read = bar0_read, .write = bar0_write};

/* BAR1: IOADDR selects a register, IODATA accesses it (SDM 13.2.x). */
static uint64_t bar1_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_IO) || size != 4)
        return ~0ull;
    if (off == E1000_IOADDR)
        return d->ioaddr;
    if (off == E1000_IODATA)
        return bar0_read(d, d->ioaddr, 4);
    return ~0ull;
}

static void bar1_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_IO) || size != 4)
        return;
    if (off == E1000_IOADDR)
        d->ioaddr = (uint32_t)val & (E1000_MMIO_SIZE - 4);
    else if (off == E1000_IODATA)
        bar0_write(d, d->ioaddr, 4, val);
}

const struct mmio_ops e1000_emul_bar1_ops = {.read = bar1_read, .write = bar1_write};

int e1000_emul__rx(struct e1000_emul *d, const uint8_t *frame, size_t len)
{
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_MASTER))
        return -EIO; /* no bus mastering: the device cannot DMA */
    return e1000__rx_frame(d->nic, frame, len);
}
