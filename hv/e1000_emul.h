/* The emulated e1000 (`--nic emulated`): the hw/e1000 register model
 * instantiated in the hypervisor with its DMA against the VM's guest
 * memory.  Every guest register access is a trap forwarded here; a write
 * to TDT runs the transmit ring at once (as QEMU does) and frames go to the
 * host bridge; received frames come from the bridge.  The model's interrupt
 * level becomes an MSI (if the guest enabled it) or INTx vector. */
#ifndef IOVIRT_HV_E1000_EMUL_H
#define IOVIRT_HV_E1000_EMUL_H

#include <stdint.h>

#include "hv/guest_mem.h"
#include "hv/vm_irq.h"
#include "hw/e1000/e1000.h"
#include "hw/pci/pci_dev.h"

struct e1000_emul {
    struct pci_dev pci;
    struct e1000 *nic;
    void *regs;                 /* register file (E1000_MMIO_SIZE) */
    struct dma_port dma;        /* the model may keep pointers to these two */
    struct irq_sink sink;
    struct vm_irq *irq;
    int level;                  /* last interrupt level seen from the model */
    e1000_tx_fn tx;
    void *tx_ctx;
    uint32_t ioaddr;            /* BAR1 IOADDR latch */
    uint64_t tx_kicks;
};

/* 0 or -ENOMEM. */
int e1000_emul__init(struct e1000_emul *d, struct guest_mem *gm, struct vm_irq *irq,
                     const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx);
void e1000_emul__destroy(struct e1000_emul *d);
/* Trapped register windows (dev = struct e1000_emul *): BAR0 MMIO, BAR1 I/O. */
extern const struct mmio_ops e1000_emul_bar0_ops;
extern const struct mmio_ops e1000_emul_bar1_ops;
/* A frame from the bridge; 0 or the model's error. */
int e1000_emul__rx(struct e1000_emul *d, const uint8_t *frame, size_t len);

#endif
