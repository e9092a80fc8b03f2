/* Hooks VT-d interrupt remapping into the platform controller.  Kept apart
 * from intc.c so users without an IOMMU do not link the VT-d model. */
#include "hw/intc/intc.h"
#include "hw/vtd/vtd.h"

static int intc_vtd_remap(void *ctx, uint16_t rid, uint64_t addr, uint32_t data,
                          struct vtd_msi *out)
{
    return vtd__remap_msi(ctx, rid, addr, data, out);
}

void intc__attach_vtd(struct intc *ic, struct vtd *vtd)
{
    intc__set_remap(ic, vtd ? intc_vtd_remap : NULL, vtd);
}
