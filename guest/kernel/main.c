/* Kernel entry: console, command line, memory, interrupts, timer, then the
 * program named on the command line; its status powers the machine off. */
#include "guest/kernel/kernel.h"

#include <string.h>

#include "guest/kernel/console.h"
#include "guest/prog/prog.h"

/* The one kernel instance (the machine has one CPU and one kernel). */
static struct kernel kernel_instance;

void *kernel__alloc_pages(struct kernel *k, uint64_t npages)
{
    bool was = hal__irq_save();
    uint64_t a = pmem__alloc(&k->pm, npages);
    hal__irq_restore(was);
    return (void *)(uintptr_t)a;
}

struct pci_bus *kernel__pci(struct kernel *k)
{
    if (!k->pci.enumerated) {
        pci__enumerate(&k->pci, &pci_cam_ops, NULL);
        pci__print(&k->pci);
    }
    return &k->pci;
}

void kernel__wait(struct kernel *k, uint64_t deadline_ns)
{
    bool was = hal__irq_save();
    if (hal__now_ns() < deadline_ns) {
        ktimer__arm_at(&k->timer, deadline_ns);
        hal__irq_wait();
    }
    hal__irq_restore(was);
}

void kernel__main(const struct boot_params *bp)
{
    struct kernel *k = &kernel_instance;
    k->bp = *bp;
    console__init();
    if (cmdline__parse(&k->cl, bp->cmdline))
        kprintf("kernel: command line too long, truncated\n");
    kprintf("iovirt-guest: RAM %lu MiB at %#lx, TSC %lu Hz, cmdline \"%s\"\n",
            (unsigned long)(bp->ram_size >> 20), (unsigned long)bp->ram_base,
            (unsigned long)bp->tsc_hz, bp->cmdline);

    if (pmem__init(&k->pm, bp->ram_base, bp->ram_size, bp->free_start, k->pm_bitmap,
                   sizeof(k->pm_bitmap) / 8)) {
        kprintf("kernel: bad memory layout\n");
        hal__poweroff(2);
    }
    for (unsigned i = 0; i < sizeof(bp->reserved) / sizeof(bp->reserved[0]); i++)
        pmem__reserve(&k->pm, bp->reserved[i].addr, bp->reserved[i].len);
    kprintf("kernel: %lu free pages\n", (unsigned long)k->pm.nfree);

    irq__init(&k->irqs);
    hal__irq_enable();
    ktimer__init(&k->timer, &k->irqs, hal__hpet_base());

    const char *name = k->cl.argc ? k->cl.argv[0] : "hello";
    const struct prog *p = prog__find(name);
    int status;
    if (!p) {
        kprintf("kernel: unknown program \"%s\"; programs:\n", name);
        prog__list();
        status = 127;
    } else {
        status = p->run(k, k->cl.argc, k->cl.argv);
    }
    kprintf("iovirt-guest: exit %d\n", status);
    hal__poweroff(status);
}
