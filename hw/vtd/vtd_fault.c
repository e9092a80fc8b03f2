/* Primary fault logging (VT-d spec 7.2.1), fault events (7.3, 11.4.9) and
 * invalidation completion events (6.5.2.9, 11.4.11).
 *
 * Fault records form a ring of CAP.NFR+1 registers.  A fault goes to the
 * next register; if that one still holds an unserviced fault (F = 1) the new
 * fault is lost and FSTS.PFO is set; while PFO is set nothing is recorded.
 * FSTS.FRI names the register that made PPF go 0 -> 1.  A fault event
 * interrupt is raised only when no earlier interrupt condition (PFO, PPF,
 * IQE) is still set; with FECTL.IM set it is held in FECTL.IP and sent when
 * software clears IM.  Same-requester fault collapsing (optional in the
 * spec) is not done. */
#include "hw/vtd/vtd_internal.h"
#include "lib/log.h"

#define FSTS_EVENT_BITS ((uint32_t)(VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE))

static unsigned frcd(unsigned i) { return VTD_MODEL_REG_FRCD + i * VTD_FRCD_REG_SIZE; }

/* Faults that context-entry FPD (or IRTE FPD) may suppress: those found
 * after the entry itself was fetched and validated (7.1.3 "qualified"). */
static bool qualified(unsigned reason)
{
    switch (reason) {
    case VTD_FR_CONTEXT_ENTRY_P:
    case VTD_FR_ADDR_BEYOND_MGAW:
    case VTD_FR_WRITE:
    case VTD_FR_READ:
    case VTD_FR_PAGING_ENTRY_ACCESS:
    case VTD_FR_PAGING_ENTRY_RSVD:
    case VTD_FR_IR_ENTRY_P:
    case VTD_FR_IR_IRTE_RSVD:
    case VTD_FR_IR_SID_ERR:
        return true;
    default:
        return false;
    }
}

void vtd__update_ppf(struct vtd *v)
{
    bool any = false;
    for (unsigned i = 0; i < v->nfr && !any; i++)
        any = (vtd_reg64(v, frcd(i) + 8) & VTD_FRCD_HI_F) != 0;
    uint32_t fsts = vtd_reg32(v, VTD_REG_FSTS);
    fsts = any ? fsts | (uint32_t)VTD_FSTS_PPF : fsts & ~(uint32_t)VTD_FSTS_PPF;
    vtd_set_reg32(v, VTD_REG_FSTS, fsts);
}

static void send(struct vtd *v, struct vtd_ev *ev, unsigned addr_reg, unsigned uaddr_reg, unsigned data_reg)
{
    uint64_t addr = vtd_reg32(v, addr_reg) | (uint64_t)vtd_reg32(v, uaddr_reg) << 32;
    vtd__ev_push(ev, addr, vtd_reg32(v, data_reg));
}

void vtd__fault_event(struct vtd *v, struct vtd_ev *ev, uint32_t old_fsts)
{
    if (old_fsts & FSTS_EVENT_BITS)
        return; /* software has not serviced the previous condition yet */
    uint32_t fectl = vtd_reg32(v, VTD_REG_FECTL);
    if (fectl & VTD_FECTL_IM) {
        vtd_set_reg32(v, VTD_REG_FECTL, fectl | (uint32_t)VTD_FECTL_IP);
    } else {
        send(v, ev, VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_FEDATA);
        vtd_set_reg32(v, VTD_REG_FECTL, fectl & ~(uint32_t)VTD_FECTL_IP);
    }
}

void vtd__fault(struct vtd *v, struct vtd_ev *ev, uint16_t sid, uint64_t addr,
                unsigned reason, bool is_write, bool fpd)
{
    if (fpd && qualified(reason)) {
        v->slow.faults_dropped++;
        return;
    }
    uint32_t fsts = vtd_reg32(v, VTD_REG_FSTS);
    if (fsts & VTD_FSTS_PFO) {
        v->slow.faults_dropped++;
        return;
    }
    unsigned i = v->next_frcd;
    if (vtd_reg64(v, frcd(i) + 8) & VTD_FRCD_HI_F) {
        vtd_set_reg32(v, VTD_REG_FSTS, fsts | (uint32_t)VTD_FSTS_PFO);
        v->slow.faults_dropped++;
        vtd__fault_event(v, ev, fsts);
        return;
    }
    uint64_t hi = ((uint64_t)sid << VTD_FRCD_HI_SID_SHIFT) |
                  ((uint64_t)reason << VTD_FRCD_HI_FR_SHIFT & VTD_FRCD_HI_FR_MASK) |
                  (is_write ? 0 : VTD_FRCD_HI_T) | VTD_FRCD_HI_F;
    vtd_set_reg64(v, frcd(i), addr & VTD_FRCD_LO_FI_MASK);
    vtd_set_reg64(v, frcd(i) + 8, hi);
    v->slow.faults_recorded++;
    v->next_frcd = (i + 1) % v->nfr;
    if (!(fsts & VTD_FSTS_PPF)) {
        uint32_t n = (fsts & ~(uint32_t)VTD_FSTS_FRI_MASK) | (uint32_t)VTD_FSTS_PPF |
                     (uint32_t)(i << VTD_FSTS_FRI_SHIFT);
        vtd_set_reg32(v, VTD_REG_FSTS, n);
        vtd__fault_event(v, ev, fsts);
    }
    log__debug("vtd", "fault sid=%04x addr=%#llx reason=%#x %s", sid, (unsigned long long)addr,
               reason, is_write ? "write" : "read");
}

/* IP clears once every interrupt condition has been serviced. */
static void maybe_clear_ip(struct vtd *v)
{
    if (!(vtd_reg32(v, VTD_REG_FSTS) & FSTS_EVENT_BITS))
        vtd_set_reg32(v, VTD_REG_FECTL, vtd_reg32(v, VTD_REG_FECTL) & ~(uint32_t)VTD_FECTL_IP);
}

void vtd__fsts_write(struct vtd *v, struct vtd_ev *ev)
{
    maybe_clear_ip(v);
    /* Clearing IQE lets the queue run again from IQH (6.5.2.10). */
    if (!(vtd_reg32(v, VTD_REG_FSTS) & VTD_FSTS_IQE))
        vtd__qi_process(v, ev);
}

void vtd__frcd_write(struct vtd *v, struct vtd_ev *ev)
{
    (void)ev;
    vtd__update_ppf(v);
    maybe_clear_ip(v);
}

void vtd__fectl_write(struct vtd *v, struct vtd_ev *ev)
{
    uint32_t fectl = vtd_reg32(v, VTD_REG_FECTL);
    if (!(fectl & VTD_FECTL_IM) && (fectl & VTD_FECTL_IP)) {
        send(v, ev, VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_FEDATA);
        vtd_set_reg32(v, VTD_REG_FECTL, fectl & ~(uint32_t)VTD_FECTL_IP);
    }
}

/* ---- invalidation completion events ---- */

void vtd__iwc_event(struct vtd *v, struct vtd_ev *ev)
{
    uint32_t ics = vtd_reg32(v, VTD_REG_ICS);
    if (ics & VTD_ICS_IWC)
        return; /* previous completion not yet acknowledged */
    vtd_set_reg32(v, VTD_REG_ICS, ics | (uint32_t)VTD_ICS_IWC);
    uint32_t iectl = vtd_reg32(v, VTD_REG_IECTL);
    if (iectl & VTD_IECTL_IM) {
        vtd_set_reg32(v, VTD_REG_IECTL, iectl | (uint32_t)VTD_IECTL_IP);
    } else {
        send(v, ev, VTD_REG_IEADDR, VTD_REG_IEUADDR, VTD_REG_IEDATA);
        vtd_set_reg32(v, VTD_REG_IECTL, iectl & ~(uint32_t)VTD_IECTL_IP);
    }
}

void vtd__ics_write(struct vtd *v)
{
    if (!(vtd_reg32(v, VTD_REG_ICS) & VTD_ICS_IWC))
        vtd_set_reg32(v, VTD_REG_IECTL, vtd_reg32(v, VTD_REG_IECTL) & ~(uint32_t)VTD_IECTL_IP);
}

void vtd__iectl_write(struct vtd *v, struct vtd_ev *ev)
{
    uint32_t iectl = vtd_reg32(v, VTD_REG_IECTL);
    if (!(iectl & VTD_IECTL_IM) && (iectl & VTD_IECTL_IP)) {
        send(v, ev, VTD_REG_IEADDR, VTD_REG_IEUADDR, VTD_REG_IEDATA);
        vtd_set_reg32(v, VTD_REG_IECTL, iectl & ~(uint32_t)VTD_IECTL_IP);
    }
}
