/* `hello`: prove the kernel boots, prints and powers off. */
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/prog/prog.h"

int prog_hello__run(struct kernel *k, int argc, char **argv)
{
    (void)k, (void)argc, (void)argv;
    kprintf("hello from the iovirt guest\n");
    return 0;
}

int prog_pci__run(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct pci_bus *bus = kernel__pci(k);
    return bus->ndevs ? 0 : 1;
}
