/* A network card as the kernel sees it: the netdev the stack uses, plus
 * what the kernel needs to run it (name, interrupt count, statistics).
 * Drivers: e1000 (guest/drivers/e1000_glue.c on drivers/e1000) and
 * virtio-net (guest/drivers/virtio_net.c).  dev.priv points at the nic. */
#ifndef IOVIRT_GUEST_DRIVERS_NIC_H
#define IOVIRT_GUEST_DRIVERS_NIC_H

#include <stdint.h>

#include "guest/net/netdev.h"

struct kernel;
struct pci_dev;

enum nic_irq_mode { NIC_IRQ_POLL, NIC_IRQ_INTX, NIC_IRQ_MSI, NIC_IRQ_MSIX };

struct nic {
    struct netdev dev;
    const char *name;
    uint8_t mac[6];
    enum nic_irq_mode irq_mode;
    int vector;                  /* -1 when polled */
    volatile uint64_t irqs;      /* interrupts taken */
    void *drv;                   /* driver state */
    void (*print_stats)(struct nic *n);
};

/* Each probe: 0 and *n ready (interrupts enabled), or -errno. */
int e1000_glue__probe(struct kernel *k, struct pci_dev *d, struct nic *n);
int virtio_net__probe(struct kernel *k, struct pci_dev *d, struct nic *n);

/* Wire the nic's interrupt: MSI-X entry 0 / MSI / INTx (vector 32 + line),
 * in that order of preference, allowing only modes in `allow` (bit per
 * enum nic_irq_mode).  Sets n->irq_mode and n->vector; polled when none. */
/* The modes the command line's irq= allows (intx, msi, msix, poll: that
 * one only, e.g. irq=intx to take INTA# as Linux's e1000 does without
 * MSI); every mode when absent. */
unsigned nic__irq_allow(struct kernel *k);

void nic__setup_irq(struct kernel *k, struct pci_dev *d, struct nic *n, unsigned allow,
                    void (*handler)(void *ctx, unsigned vector), void *ctx);

#endif
