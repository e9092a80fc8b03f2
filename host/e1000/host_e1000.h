/* Host e1000 driver instance: the portable driver core (drivers/e1000) run
 * by the host OS against the platform NIC (hw/e1000/e1000_nic.h), with its
 * rings and buffers in host physical memory.
 *
 * Bus addresses are HPAs.  That is right when the NIC's DMA is not
 * translated: VT-d with translation disabled (GCMD.TE = 0), a pass-through
 * context entry for the NIC's requester ID, or the plain physmem port
 * (e1000_nic__physmem_port).  A host that wants its own NIC DMA confined
 * maps the one extent below into an IOMMU domain at IOVA == HPA.
 * The hypervisor's software bridge drives it (virtio and emulated modes). */
#ifndef IOVIRT_HOST_E1000_H
#define IOVIRT_HOST_E1000_H

#include <stdint.h>

#include "drivers/e1000/e1000_drv.h"
#include "hw/mmio.h"
#include "hw/physmem.h"

struct host_e1000_config {
    unsigned rx_count, tx_count; /* 0 = 256 each; (rx+tx)*2 KiB + rings <= 2 MiB */
    uint32_t ims;                /* causes to unmask (0 = polled) */
};

struct host_e1000 {
    struct physmem *pm;
    struct mmio_window regs;
    uint64_t hpa;                /* the one 2 MiB extent holding rings + buffers */
    struct e1000_drv drv;
};

/* 0, -EINVAL (bad config), -ENOMEM, -ETIMEDOUT (device did not come up). */
int host_e1000__init(struct host_e1000 *h, struct physmem *pm, const struct mmio_window *regs,
                     const struct host_e1000_config *cfg);
void host_e1000__fini(struct host_e1000 *h);

#endif
