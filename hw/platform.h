/* The modelled machine: what a real host would have in silicon.
 *   - host physical memory (hw/physmem)
 *   - one VT-d remapping unit (hw/vtd) behind every device's DMA and MSI; a
 *     device's DWORD write to 0xFEExxxxx is an interrupt request (VT-d 3.14)
 *     the unit hands to the interrupt controller, like the device's MSI
 *   - the platform interrupt controller (hw/intc)
 *   - the physical NIC: an e1000 (hw/e1000/e1000_nic) at 00:02.0 on PCI bus 0
 *     with its configuration space (hw/e1000/e1000_pci), on a wire
 *   - the wire: a TAP device in a private network namespace whose far end
 *     is the real Linux TCP/IP stack, or an in-process loopback pair
 * No policy lives here: the host OS (host/host_os) drives it. */
#ifndef IOVIRT_HW_PLATFORM_H
#define IOVIRT_HW_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/e1000/e1000_nic.h"
#include "hw/intc/intc.h"
#include "hw/pci/pci_bus.h"
#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/wire/wire.h"

#define PLATFORM_NIC_SLOT 2
#define PLATFORM_NIC_SID  PCI_BDF(0, PLATFORM_NIC_SLOT, 0)
#define PLATFORM_INTX_NIC 11   /* IOAPIC input of the NIC's INTA# */

enum platform_wire { PLATFORM_WIRE_TAP, PLATFORM_WIRE_LOOP };

struct platform_config {
    uint64_t mem_bytes;          /* 0 = 1 GiB */
    uint64_t line_rate;          /* bits/s, 0 = unlimited */
    enum platform_wire wire;
    uint32_t tap_addr;           /* Linux side address (host order), 0 = 10.0.2.1 */
};

struct platform {
    struct physmem pm;
    struct vtd *vtd;
    struct intc *intc;
    struct wire *wire;           /* the NIC's end */
    struct wire *wire_peer;      /* loopback: the other end (tests) */
    struct e1000_nic *nic;
    struct intc_port nic_port;
    struct irq_sink nic_irq;
    struct intc_port intr_port;  /* interrupt requests the VT-d unit passes on */
    struct irq_sink intr_req;
    struct pci_bus pci;
    struct pci_dev nic_pci;      /* the NIC's real configuration space */
    bool nic_started;
};

/* 0, or -errno with a message logged; nothing left behind on error. */
int platform__create(struct platform *p, const struct platform_config *cfg);
void platform__destroy(struct platform *p);
/* The VT-d unit's register window as the host OS sees it. */
struct mmio_window platform__vtd_window(struct platform *p);

#endif
