/* The guest kernel's one instance: everything hangs off struct kernel. */
#ifndef IOVIRT_GUEST_KERNEL_KERNEL_H
#define IOVIRT_GUEST_KERNEL_KERNEL_H

#include "guest/hal/hal.h"
#include "guest/kernel/cmdline.h"
#include "guest/kernel/irq.h"
#include "guest/kernel/pmem.h"
#include "guest/kernel/timer.h"
#include "guest/pci/pci.h"

#define KERNEL_MAX_RAM_PAGES (1ull << 20) /* bitmap covers 4 GiB */

#include "guest/kernel/knet.h"

struct kernel {
    struct boot_params bp;
    struct cmdline cl;
    struct pmem pm;
    uint64_t pm_bitmap[KERNEL_MAX_RAM_PAGES / 64];
    struct irq_table irqs;
    struct ktimer timer;
    struct pci_bus pci;
    struct kernel_net *net;      /* set up on demand by programs that need it */
};

/* Contiguous zeroed pages (DMA-able: VA == bus address); NULL when out. */
void *kernel__alloc_pages(struct kernel *k, uint64_t npages);
/* Enumerate PCI (once). */
struct pci_bus *kernel__pci(struct kernel *k);
/* Wait for an interrupt or until deadline_ns (hal__now_ns time). */
void kernel__wait(struct kernel *k, uint64_t deadline_ns);

#endif
