/* Direct device assignment (`--nic assigned`), as KVM's 2008 "pci device
 * assignment" did it with VT-d:
 *   - the host driver lets go of the NIC and it is reset;
 *   - an IOMMU domain maps every guest RAM page GPA -> HPA (read/write) and
 *     the NIC's requester ID is attached to it, so the NIC's DMA reaches
 *     this guest's RAM and nothing else;
 *   - the guest sees a virtual configuration space: IDs and capabilities as
 *     the real function has them, BARs at guest addresses, the command
 *     register's decode/bus-master bits forwarded, and MSI virtualised: the
 *     guest's address/data are kept here, the real NIC is programmed with a
 *     remappable-format MSI whose IRTE targets a host vector, so the guest
 *     cannot aim an interrupt anywhere;
 *   - BAR0 pages that hold only ring state and doorbells (RX ring at
 *     0x2000, TX ring at 0x3000) are mapped into the guest, so the data path
 *     causes no exit; every other register page traps and is forwarded to
 *     the NIC (side-effect registers such as ICR, like a non-posted read);
 *   - the NIC's interrupt arrives at the host vector and is injected.
 * Teardown detaches the NIC, destroys the domain and resets the NIC.
 *
 * Native mode (`iovirt native`) uses the same BAR mapping with the real
 * configuration space, identity RAM and pass-through DMA: no mediation. */
#ifndef IOVIRT_HV_ASSIGN_H
#define IOVIRT_HV_ASSIGN_H

#include <stdint.h>

#include "host/host_os.h"
#include "hw/pci/pci_dev.h"

struct hv_vm;

#define ASSIGN_HOST_VECTOR 0x50

struct hv_assign {
    struct host_os *host;
    struct hv_vm *vm;
    struct vtd_domain *domain;
    bool attached, irte_valid, vector_registered;
    uint16_t irte;
    struct pci_dev vcfg;          /* what the guest sees */
    uint64_t host_irqs, injected;
};

/* Map the NIC's directly-assignable BAR0 pages at bar0_gpa and trap the
 * rest (forwarded to the real NIC): shared by assigned and native modes.
 * decode: trap windows live now (else they wait for the command register). */
int assign__map_bar(struct hv_vm *vm, struct platform *p, uint64_t bar0_gpa, uint64_t bar1_port,
                    bool decode);
/* Take the NIC from the host and give it to vm (before its vCPU starts). */
int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm);
void assign__detach(struct hv_assign *a);

#endif
