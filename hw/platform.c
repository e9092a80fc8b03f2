#include "hw/platform.h"

#include <errno.h>
#include <string.h>

#include "hw/e1000/e1000_pci.h"
#include "lib/log.h"

/* The NIC follows its own configuration space: the command register
 * (decode, bus mastering, INTx disable: PCI 3.0 6.2.2) and MSI as
 * programmed. */
static void platform__nic_cfg_written(struct pci_dev *d, unsigned off, unsigned size, uint32_t old,
                                      uint32_t val)
{
    (void)old, (void)val;
    struct platform *p = d->opaque;
    if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND)
        e1000_nic__set_command(p->nic, pci_dev__command(d));
    unsigned msi = d->msi_cap;
    if (msi && off >= msi && off < msi + PCI_MSI_CAP_SIZE_64)
        e1000_nic__set_msi(p->nic, pci_dev__msi_enabled(d), pci_dev__msi_address(d),
                           pci_dev__msi_data(d));
}

int platform__create(struct platform *p, const struct platform_config *cfg)
{
    memset(p, 0, sizeof(*p));
    int r = physmem__init(&p->pm, cfg->mem_bytes);
    if (r)
        return r;
    struct vtd_config vc = {.sagaw = 0x4, .superpages = true};
    p->vtd = vtd__create(&p->pm, &vc);
    p->intc = intc__create();
    if (!p->vtd || !p->intc) {
        r = -ENOMEM;
        goto fail;
    }
    intc__attach_vtd(p->intc, p->vtd);
    /* DMA writes into the interrupt address range are interrupt requests
     * (VT-d 3.14): they reach the controller as MSIs do, and so go through
     * interrupt remapping when it is on. */
    intc__sink(&p->intr_port, p->intc, 0, &p->intr_req);
    vtd__set_intr_sink(p->vtd, &p->intr_req);

    if (cfg->wire == PLATFORM_WIRE_TAP) {
        struct wire_tap_config tc = {.addr = cfg->tap_addr,
                                     .rx_offload_off = wire_tap__rx_offload_off_env()};
        r = wire_tap__create(&tc, &p->wire);
        if (r) {
            /* wire_tap__create has said why, except when out of memory:
             * one error line per failure. */
            if (r == -ENOMEM)
                log__err("platform", "cannot create the TAP wire in a private network namespace: %s",
                         strerror(-r));
            goto fail;
        }
    } else {
        r = wire_loop__create_pair(1024, 1514, &p->wire, &p->wire_peer);
        if (r)
            goto fail;
    }

    struct e1000_nic_config nc;
    e1000_nic__default_config(&nc);
    nc.vtd = p->vtd;
    nc.requester_id = PLATFORM_NIC_SID;
    nc.wire = p->wire;
    nc.bit_rate = cfg->line_rate;
    intc__sink(&p->nic_port, p->intc, PLATFORM_INTX_NIC, &p->nic_irq);
    nc.irq = &p->nic_irq;
    p->nic = e1000_nic__create(&nc);
    if (!p->nic) {
        r = -ENOMEM;
        goto fail;
    }
    pci_bus__init(&p->pci);
    e1000__pci_init(&p->nic_pci);
    p->nic_pci.cfg[PCI_INTERRUPT_LINE] = PLATFORM_INTX_NIC;
    p->nic_pci.opaque = p;
    p->nic_pci.on_write = platform__nic_cfg_written;
    pci_bus__attach(&p->pci, PLATFORM_NIC_SLOT, &p->nic_pci);
    /* Out of reset the command register is 0: no decode, no bus mastering
     * until the host OS (or a native guest) enables them. */
    e1000_nic__set_command(p->nic, pci_dev__command(&p->nic_pci));
    r = e1000_nic__start(p->nic);
    if (r)
        goto fail;
    p->nic_started = true;
    return 0;
fail:
    platform__destroy(p);
    return r;
}

void platform__destroy(struct platform *p)
{
    if (p->nic) {
        e1000_nic__destroy(p->nic); /* stops the hardware thread */
        p->nic = NULL;
    }
    if (p->wire)
        wire__destroy(p->wire);
    if (p->wire_peer)
        wire__destroy(p->wire_peer);
    if (p->intc)
        intc__destroy(p->intc);
    if (p->vtd)
        vtd__destroy(p->vtd);
    if (p->pm.base)
        physmem__destroy(&p->pm);
    memset(p, 0, sizeof(*p));
}

struct mmio_window platform__vtd_window(struct platform *p)
{
    return (struct mmio_window){.ops = &vtd_mmio_ops, .dev = p->vtd};
}
