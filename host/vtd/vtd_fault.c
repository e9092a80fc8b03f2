/* Primary fault logging (VT-d spec 7.3.1, 10.4.9-10.4.14): fault recording
 * registers at CAP.FRO, read from FSTS.FRI round the ring, each cleared by
 * writing FRCD.F back; FSTS.PFO (write-1-clear) reports lost faults.  The
 * fault event (FECTL/FEDATA/FEADDR) interrupt lands in
 * host_vtd__fault_event. */
#include <errno.h>
#include <stdlib.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

void vtd_fault__init(struct host_vtd *h)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&h->fault_lock, &a);
    pthread_mutexattr_destroy(&a);
}

const char *host_vtd__fault_reason_name(uint8_t reason)
{
    switch (reason) {
    case 0x1: return "root entry not present";
    case 0x2: return "context entry not present";
    case 0x3: return "invalid context entry";
    case 0x4: return "address beyond MGAW";
    case 0x5: return "write denied";
    case 0x6: return "read denied";
    case 0x7: return "paging entry access failed";
    case 0x8: return "root table access failed";
    case 0x9: return "context table access failed";
    case 0xA: return "reserved bits in root entry";
    case 0xB: return "reserved bits in context entry";
    case 0xC: return "reserved bits in paging entry";
    case 0xD: return "blocked by context entry translation type";
    case 0x20: return "IR: reserved fields in interrupt request";
    case 0x21: return "IR: interrupt index beyond table size";
    case 0x22: return "IR: IRTE not present";
    case 0x23: return "IR: interrupt-remapping table access failed";
    case 0x24: return "IR: reserved bits in IRTE";
    case 0x25: return "IR: compatibility-format interrupt blocked";
    case 0x26: return "IR: source-id check failed";
    default: return "unknown fault reason";
    }
}

static void decode(uint64_t lo, uint64_t hi, struct host_vtd_fault *f)
{
    f->reason = (uint8_t)VTD_GET(VTD_FRCD_HI_FR, hi);
    f->reason_name = host_vtd__fault_reason_name(f->reason);
    f->sid = (uint16_t)VTD_GET(VTD_FRCD_HI_SID, hi);
    /* FRCD.T: 1 = read request, 0 = write request. */
    f->is_write = !(hi & VTD_FRCD_HI_T);
    f->is_ir = f->reason >= 0x20;
    /* For interrupt requests FI[63:48] holds the interrupt index. */
    f->ir_index = f->is_ir ? (uint16_t)(lo >> VTD_FRCD_LO_FI_IR_SHIFT) : 0;
    f->addr = f->is_ir ? 0 : (lo & VTD_FRCD_LO_FI_MASK);
}

int host_vtd__read_faults(struct host_vtd *h, struct host_vtd_fault *out, size_t max, bool *overflow)
{
    if (!h || (!out && max))
        return -EINVAL;
    pthread_mutex_lock(&h->fault_lock);
    uint32_t fsts = vtd_hw__read32(h, VTD_REG_FSTS);
    unsigned nfr = h->caps.nr_fault_regs;
    unsigned idx = (unsigned)VTD_GET(VTD_FSTS_FRI, fsts) % nfr;
    size_t n = 0;
    /* Start at FRI and go round once: records fill the ring in order. */
    for (unsigned k = 0; k < nfr && n < max; k++, idx = (idx + 1) % nfr) {
        uint64_t off = h->caps.fault_reg_off + 16ull * idx;
        uint64_t hi = vtd_hw__read64(h, off + 8);
        if (!(hi & VTD_FRCD_HI_F))
            continue;
        uint64_t lo = vtd_hw__read64(h, off);
        decode(lo, hi, &out[n++]);
        /* Write-1-clear F (bit 127, i.e. bit 31 of the dword at +12). */
        vtd_hw__write32(h, off + 12, (uint32_t)(VTD_FRCD_HI_F >> 32));
    }
    bool lost = false;
    if (fsts & VTD_FSTS_PFO) {
        lost = true;
        h->fault_overflows++;
        vtd_hw__write32(h, VTD_REG_FSTS, VTD_FSTS_PFO);
    }
    h->faults_read += n;
    pthread_mutex_unlock(&h->fault_lock);
    if (overflow)
        *overflow = lost;
    return (int)n;
}

int host_vtd__fault_event(struct host_vtd *h)
{
    struct host_vtd_fault f[16];
    int total = 0;
    for (;;) {
        bool lost = false;
        int n = host_vtd__read_faults(h, f, 16, &lost);
        if (n < 0)
            return n;
        if (lost)
            log__err(VTD_LOG, "fault records overflowed: some faults were lost");
        pthread_mutex_lock(&h->fault_lock);
        host_vtd_fault_fn *fn = h->fault_fn;
        void *opaque = h->fault_opaque;
        pthread_mutex_unlock(&h->fault_lock);
        for (int i = 0; i < n; i++) {
            if (fn)
                fn(opaque, &f[i]);
            else if (f[i].is_ir)
                log__err(VTD_LOG, "IR fault 0x%x (%s) from %02x:%02x.%u, index %u", f[i].reason,
                         f[i].reason_name, f[i].sid >> 8, (f[i].sid >> 3) & 0x1f, f[i].sid & 7,
                         f[i].ir_index);
            else
                log__err(VTD_LOG, "DMA fault 0x%x (%s) from %02x:%02x.%u, %s at 0x%llx", f[i].reason,
                         f[i].reason_name, f[i].sid >> 8, (f[i].sid >> 3) & 0x1f, f[i].sid & 7,
                         f[i].is_write ? "write" : "read", (unsigned long long)f[i].addr);
        }
        total += n;
        if (n < 16)
            return total;
    }
}

static void fault_msi(void *ctx, uint16_t requester_id, uint64_t addr, uint32_t data)
{
    (void)requester_id;
    (void)addr;
    (void)data;
    host_vtd__fault_event(ctx);
}

void host_vtd__fault_irq_sink(struct host_vtd *h, struct irq_sink *out)
{
    *out = (struct irq_sink){ .msi = fault_msi, .intx = NULL, .ctx = h };
}

/* Vector and destination of the fault event: the host's fault vector on
 * APIC 0, in compatibility format (the event is not remapped, 5.1.6). */
#define HOST_VTD_FAULT_VECTOR 0xF8u
#define HOST_VTD_FAULT_ADDR   0xFEE00000u

void host_vtd__set_fault_handler(struct host_vtd *h, host_vtd_fault_fn *fn, void *opaque)
{
    pthread_mutex_lock(&h->fault_lock);
    h->fault_fn = fn;
    h->fault_opaque = opaque;
    vtd_hw__write32(h, VTD_REG_FEDATA, HOST_VTD_FAULT_VECTOR);
    vtd_hw__write32(h, VTD_REG_FEADDR, HOST_VTD_FAULT_ADDR);
    vtd_hw__write32(h, VTD_REG_FEUADDR, 0);
    pthread_mutex_unlock(&h->fault_lock);
    /* Unmask outside the lock: a pending fault (FECTL.IP) fires at once,
     * possibly straight into host_vtd__fault_event on this thread. */
    vtd_hw__write32(h, VTD_REG_FECTL, 0);
}
