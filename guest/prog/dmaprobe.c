/* `dmaprobe ADDR`: make the e1000 read one transmit buffer at bus address
 * ADDR, with raw register access and no driver, so an integration test can
 * check what the IOMMU does with a DMA aimed outside the guest's RAM.
 * Sets up its own 8-entry TX ring (one page of guest RAM), posts one
 * descriptor (64 bytes at ADDR, EOP|IFCS|RS), rings TDT, waits at most
 * 500 ms for TDH to move, prints "DMAPROBE done tdh=.. sta=.." and exits 0.
 * Exit 2: bad arguments, 3: no e1000 memory BAR0. */
#include "guest/hal/hal.h"
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/pci/pci.h"
#include "guest/prog/prog.h"
#include "drivers/e1000/e1000_regs.h"

#define DMAPROBE_DESC   8u      /* TDLEN must be a multiple of 128 bytes (SDM 13.4.38) */
#define DMAPROBE_LEN    64u
#define DMAPROBE_WAIT_NS 500000000ull

int prog_dmaprobe__run(struct kernel *k, int argc, char **argv)
{
    uint64_t addr;
    if (argc < 2 || cmdline__parse_u64(argv[1], &addr)) {
        kprintf("usage: dmaprobe ADDR\n");
        return 2;
    }
    struct pci_dev *d = pci__find(kernel__pci(k), E1000_PCI_VENDOR_INTEL, E1000_PCI_DEV_82540EM);
    if (!d || !d->bar[0].addr || d->bar[0].io) {
        kprintf("dmaprobe: no e1000 with a memory BAR0\n");
        return 3;
    }
    pci__enable(d);
    uintptr_t regs = (uintptr_t)d->bar[0].addr;
    struct e1000_tx_desc *ring = kernel__alloc_pages(k, 1);
    if (!ring)
        return 3;
    uint64_t ring_bus = hal__dma_addr(ring);

    hal__mmio_write32(regs + E1000_CTRL, hal__mmio_read32(regs + E1000_CTRL) | E1000_CTRL_SLU);
    hal__mmio_write32(regs + E1000_TCTL, 0);
    hal__mmio_write32(regs + E1000_TDBAL, (uint32_t)ring_bus);
    hal__mmio_write32(regs + E1000_TDBAH, (uint32_t)(ring_bus >> 32));
    hal__mmio_write32(regs + E1000_TDLEN, DMAPROBE_DESC * (uint32_t)sizeof(*ring));
    hal__mmio_write32(regs + E1000_TDH, 0);
    hal__mmio_write32(regs + E1000_TDT, 0);
    hal__mmio_write32(regs + E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);

    ring[0] = (struct e1000_tx_desc){
        .buffer_addr = addr,
        .length = DMAPROBE_LEN,
        .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B,
    };
    hal__mb();
    kprintf("dmaprobe: TX descriptor buffer 0x%llx, ring at 0x%llx\n", (unsigned long long)addr,
            (unsigned long long)ring_bus);
    hal__mmio_write32(regs + E1000_TDT, 1);

    uint64_t end = hal__now_ns() + DMAPROBE_WAIT_NS;
    uint32_t tdh;
    while ((tdh = hal__mmio_read32(regs + E1000_TDH)) == 0 && hal__now_ns() < end)
        kernel__wait(k, hal__now_ns() + 1000000ull);
    /* Give the NIC a moment to finish (or fault) what it fetched. */
    kernel__wait(k, hal__now_ns() + 20000000ull);
    kprintf("DMAPROBE done tdh=%u sta=0x%x\n", (unsigned)hal__mmio_read32(regs + E1000_TDH),
            (unsigned)ring[0].status);
    return 0;
}
