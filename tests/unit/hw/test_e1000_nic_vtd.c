/* The platform NIC behind the VT-d model: its DMA carries requester ID
 * 00:02.0 (0x0010) and is translated through tables built here by hand.  A
 * TX descriptor pointing at an unmapped IOVA records a read fault, puts no
 * frame on the wire and changes no memory; an RX buffer at an unmapped IOVA
 * records a write fault and leaves the canary there untouched.  The NIC
 * keeps working afterwards.  Its MSI in remappable format is translated by
 * VT-d interrupt remapping and reaches the CPU handler the IRTE names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"
#include "tests/unit/nic_rig.h"

#define RID 0x0010u /* 00:02.0 */

struct rig {
    struct physmem pm;
    struct vtd *vtd;
    struct mmio_window vregs;
    struct intc *ic;
    struct intc_port port;
    struct irq_sink sink;
    struct wire *wa, *wb;       /* NIC side, far side */
    struct e1000_nic *nic;
    struct mmio_window mmio;
    struct host_e1000 drv;
    uint64_t canary;            /* HPA of an unmapped page */
};

static uint64_t alloc_page(struct physmem *pm)
{
    uint64_t hpa;
    assert_int_equal(physmem__alloc(pm, PHYSMEM_PAGE_4K, &hpa), 0);
    return hpa;
}

static void put64(struct physmem *pm, uint64_t hpa, uint64_t v)
{
    assert_int_equal(physmem__write(pm, hpa, &v, sizeof v), 0);
}

/* Domain 1, 3-level tables, IOVA == HPA for [base, base + 2 MiB). */
static void build_tables(struct rig *r, uint64_t base)
{
    struct physmem *pm = &r->pm;
    uint64_t root = alloc_page(pm), ctx = alloc_page(pm);
    uint64_t l3 = alloc_page(pm), l2 = alloc_page(pm), l1 = alloc_page(pm);
    put64(pm, root + (RID >> 8) * VTD_ROOT_ENTRY_SIZE, ctx | VTD_ROOT_LO_P);
    uint64_t ce = ctx + (RID & 0xff) * VTD_CONTEXT_ENTRY_SIZE;
    put64(pm, ce, l3 | (VTD_CONTEXT_TT_MULTI_LEVEL << VTD_CONTEXT_LO_TT_SHIFT) | VTD_CONTEXT_LO_P);
    put64(pm, ce + 8, (VTD_CONTEXT_AW_39BIT << VTD_CONTEXT_HI_AW_SHIFT) |
                          (1ull << VTD_CONTEXT_HI_DID_SHIFT));
    put64(pm, l3 + 8 * vtd_sl_index(base, 3), l2 | VTD_SL_R | VTD_SL_W);
    put64(pm, l2 + 8 * vtd_sl_index(base, 2), l1 | VTD_SL_R | VTD_SL_W);
    for (unsigned i = 0; i < 512; i++)
        put64(pm, l1 + 8 * i, (base + i * PHYSMEM_PAGE_4K) | VTD_SL_R | VTD_SL_W);

    mmio__write64(&r->vregs, VTD_REG_RTADDR, root);
    mmio__write32(&r->vregs, VTD_REG_GCMD, VTD_GCMD_SRTP);
    assert_true(mmio__read32(&r->vregs, VTD_REG_GSTS) & VTD_GSTS_RTPS);
    mmio__write32(&r->vregs, VTD_REG_GCMD, VTD_GCMD_TE);
    assert_true(mmio__read32(&r->vregs, VTD_REG_GSTS) & VTD_GSTS_TES);
}

static int setup(void **state)
{
    static struct rig r;
    memset(&r, 0, sizeof r);
    log__set_quiet(1);
    if (physmem__init(&r.pm, 64ull << 20))
        return -1;
    r.vtd = vtd__create(&r.pm, NULL);
    r.ic = intc__create();
    if (!r.vtd || !r.ic || wire_loop__create_pair(64, 0, &r.wa, &r.wb))
        return -1;
    r.vregs.ops = &vtd_mmio_ops;
    r.vregs.dev = r.vtd;
    intc__attach_vtd(r.ic, r.vtd);
    intc__sink(&r.port, r.ic, 0, &r.sink);
    struct e1000_nic_config c;
    e1000_nic__default_config(&c);
    c.vtd = r.vtd;
    c.requester_id = RID;
    c.irq = &r.sink;
    c.wire = r.wa;
    c.bit_rate = 0;
    r.nic = e1000_nic__create(&c);
    if (!r.nic || e1000_nic__start(r.nic))
        return -1;
    r.mmio = e1000_nic__mmio(r.nic);
    struct host_e1000_config hc = {.rx_count = 8, .tx_count = 8};
    if (host_e1000__init(&r.drv, &r.pm, &r.mmio, &hc))
        return -1;
    build_tables(&r, r.drv.hpa);
    r.canary = alloc_page(&r.pm);
    memset(physmem__ptr(&r.pm, r.canary, 4096), 0xCC, 4096);
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    host_e1000__fini(&r->drv);
    e1000_nic__destroy(r->nic);
    wire__destroy(r->wa);
    wire__destroy(r->wb);
    intc__destroy(r->ic);
    vtd__destroy(r->vtd);
    physmem__destroy(&r->pm);
    return 0;
}

static bool canary_intact(struct rig *r)
{
    const uint8_t *p = physmem__ptr(&r->pm, r->canary, 4096);
    for (unsigned i = 0; i < 4096; i++)
        if (p[i] != 0xCC)
            return false;
    return true;
}

struct fault_wait {
    struct vtd *v;
    uint64_t want;
};

static bool faults_reached(void *arg)
{
    struct fault_wait *w = arg;
    struct vtd_stats s;
    vtd__get_stats(w->v, &s);
    return s.faults_recorded >= w->want;
}

/* Find a pending fault record for RID with reason fr and type (read?). */
static bool fault_recorded(struct rig *r, unsigned fr, bool read, uint64_t page)
{
    uint64_t cap = mmio__read64(&r->vregs, VTD_REG_CAP);
    unsigned base = vtd_cap_fro(cap);
    for (unsigned i = 0; i < vtd_cap_nfr(cap); i++) {
        uint64_t lo = mmio__read64(&r->vregs, base + i * VTD_FRCD_REG_SIZE);
        uint64_t hi = mmio__read64(&r->vregs, base + i * VTD_FRCD_REG_SIZE + 8);
        if (!(hi & VTD_FRCD_HI_F))
            continue;
        if (vtd_field(hi, VTD_FRCD_HI_SID_MASK, VTD_FRCD_HI_SID_SHIFT) == RID &&
            vtd_field(hi, VTD_FRCD_HI_FR_MASK, VTD_FRCD_HI_FR_SHIFT) == fr &&
            !!(hi & VTD_FRCD_HI_T) == read && (lo & VTD_FRCD_LO_FI_MASK) == page) {
            /* clear it (RW1C) so later checks see only new records */
            mmio__write64(&r->vregs, base + i * VTD_FRCD_REG_SIZE + 8, VTD_FRCD_HI_F);
            return true;
        }
    }
    return false;
}

struct nic_wait {
    struct e1000_nic *nic;
    uint64_t tx, rx;
};

static bool nic_counts(void *arg)
{
    struct nic_wait *w = arg;
    struct e1000_nic_stats s;
    e1000_nic__get_stats(w->nic, &s);
    return s.tx_frames >= w->tx && s.rx_frames + s.rx_dropped >= w->rx;
}

static void test_valid_frame_goes_through_translation(void **state)
{
    struct rig *r = *state;
    uint8_t f[100], g[200];
    memset(f, 0xff, 12);
    f[12] = 0x88;
    f[13] = 0xb5;
    memset(f + 14, 0x3c, sizeof f - 14);
    assert_int_equal(e1000_drv__tx_frame(&r->drv.drv, f, sizeof f), 0);
    for (int i = 0; i < 30000 && wire__recv(r->wb, g, sizeof g) == 0; i++)
        rig_sleep_us(100);
    assert_memory_equal(g, f, sizeof f);
    struct vtd_stats s;
    vtd__get_stats(r->vtd, &s);
    assert_true(s.translations > 0);
    assert_int_equal(s.faults_recorded, 0);
}

static void test_tx_from_unmapped_iova_faults(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *d = &r->drv.drv;
    struct vtd_stats vs;
    vtd__get_stats(r->vtd, &vs);
    struct e1000_nic_stats ns0;
    e1000_nic__get_stats(r->nic, &ns0);

    /* A hand-made descriptor aimed at the canary page, whose HPA is not
     * mapped in the NIC's domain. */
    unsigned i = d->tx_tail;
    struct e1000_tx_desc *t = &d->cfg.tx_ring[i];
    t->buffer_addr = r->canary;
    t->length = 100;
    t->cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B;
    t->status = 0;
    d->tx_tail = (i + 1) % d->cfg.tx_count;
    mmio__write32(&r->mmio, E1000_TDT, d->tx_tail);

    struct fault_wait fw = {r->vtd, vs.faults_recorded + 1};
    assert_true(rig_wait(faults_reached, &fw));
    assert_true(fault_recorded(r, VTD_FR_READ, true, r->canary));
    assert_true(canary_intact(r));
    /* The model moved past the descriptor: the next good frame goes out,
     * and it is the only one on the wire. */
    uint8_t f[80], g[200];
    memset(f, 0xff, 12);
    f[12] = 0x88;
    f[13] = 0xb5;
    memset(f + 14, 0x11, sizeof f - 14);
    assert_int_equal(e1000_drv__tx_frame(d, f, sizeof f), 0);
    struct nic_wait nw = {r->nic, ns0.tx_frames + 1, 0};
    assert_true(rig_wait(nic_counts, &nw));
    /* The NIC counts a frame as it hands it to the wire; give the wire's
     * far end a bounded moment to see it. */
    wire__wait(r->wb, 2000000000ull);
    assert_int_equal(wire__recv(r->wb, g, sizeof g), (int)sizeof f);
    assert_memory_equal(g, f, sizeof f);
    assert_int_equal(wire__recv(r->wb, g, sizeof g), 0);
    struct e1000_nic_stats ns1;
    e1000_nic__get_stats(r->nic, &ns1);
    assert_int_equal(ns1.tx_frames, ns0.tx_frames + 1);
    struct e1000_stats ms;
    e1000__get_stats(e1000_nic__model(r->nic), &ms);
    assert_true(ms.dma_errors >= 1);
    assert_true(canary_intact(r));

    /* The faulted descriptor never gets DD; the driver must not wedge on
     * it: three rings' worth of frames still go out. */
    unsigned sent = 0;
    for (int i = 0; i < 50000 && sent < 3 * d->cfg.tx_count; i++) {
        int rc = e1000_drv__tx_frame(d, f, sizeof f);
        if (rc == 0)
            sent++;
        else
            rig_sleep_us(100);
        while (wire__recv(r->wb, g, sizeof g) > 0) {
        }
    }
    assert_int_equal(sent, 3 * d->cfg.tx_count);
    assert_int_equal(d->stats.tx_errors, 1);
}

static void test_rx_into_unmapped_iova_faults(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *d = &r->drv.drv;
    struct vtd_stats vs;
    vtd__get_stats(r->vtd, &vs);
    e1000_drv__rx_poll(d, NULL, NULL, 100);

    /* The descriptor the NIC fills next now points at the canary. */
    struct e1000_rx_desc *rd = &d->cfg.rx_ring[d->rx_next];
    uint64_t good = rd->buffer_addr;
    rd->buffer_addr = r->canary;
    uint8_t f[300];
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x99", 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memset(f + 14, 0xEE, sizeof f - 14);
    assert_int_equal(wire__send(r->wb, f, sizeof f), 0);

    struct fault_wait fw = {r->vtd, vs.faults_recorded + 1};
    assert_true(rig_wait(faults_reached, &fw));
    assert_true(fault_recorded(r, VTD_FR_WRITE, false, r->canary));
    assert_true(canary_intact(r));
    uint8_t g[2048];
    assert_int_equal(e1000_drv__rx(d, g, sizeof g), 0); /* nothing delivered */

    /* Repair the descriptor: the next frame lands in the right buffer. */
    rd->buffer_addr = good;
    struct e1000_nic_stats ns0;
    e1000_nic__get_stats(r->nic, &ns0);
    f[20] = 0x42;
    assert_int_equal(wire__send(r->wb, f, sizeof f), 0);
    struct nic_wait nw = {r->nic, 0, ns0.rx_frames + ns0.rx_dropped + 1};
    assert_true(rig_wait(nic_counts, &nw));
    int len = 0;
    for (int i = 0; i < 30000 && (len = e1000_drv__rx(d, g, sizeof g)) == 0; i++)
        rig_sleep_us(100);
    assert_int_equal(len, (int)sizeof f);
    assert_memory_equal(g, f, sizeof f);
    assert_true(canary_intact(r));
}

struct irq_hits {
    unsigned n;
    unsigned cpu;
    uint8_t vector;
};

static void on_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    struct irq_hits *h = ctx;
    h->cpu = cpu;
    h->vector = vector;
    __atomic_fetch_add(&h->n, 1, __ATOMIC_RELEASE);
}

static bool irq_arrived(void *arg)
{
    struct irq_hits *h = arg;
    return __atomic_load_n(&h->n, __ATOMIC_ACQUIRE) > 0;
}

/* The NIC's MSI in remappable format: VT-d interrupt remapping turns IRTE
 * 3 into vector 0x70 on CPU 1, for requester 00:02.0 only. */
static void test_remapped_msi_reaches_cpu(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *d = &r->drv.drv;
    uint64_t irt;
    assert_int_equal(physmem__alloc(&r->pm, PHYSMEM_PAGE_4K, &irt), 0);
    uint64_t e[2] = {VTD_IRTE_LO_P | (0x70ull << VTD_IRTE_LO_V_SHIFT) |
                         (1ull << VTD_IRTE_LO_DST_XAPIC_SHIFT),
                     ((uint64_t)RID << VTD_IRTE_HI_SID_SHIFT) |
                         ((uint64_t)VTD_IRTE_SVT_SID << VTD_IRTE_HI_SVT_SHIFT)};
    assert_int_equal(physmem__write(&r->pm, irt + 3 * VTD_IRTE_SIZE, e, sizeof e), 0);
    mmio__write64(&r->vregs, VTD_REG_IRTA, irt | (3u << VTD_IRTA_S_SHIFT));
    mmio__write32(&r->vregs, VTD_REG_GCMD, VTD_GCMD_TE | VTD_GCMD_SIRTP);
    assert_true(mmio__read32(&r->vregs, VTD_REG_GSTS) & VTD_GSTS_IRTPS);
    mmio__write32(&r->vregs, VTD_REG_GCMD, VTD_GCMD_TE | VTD_GCMD_IRE);
    uint32_t gsts = mmio__read32(&r->vregs, VTD_REG_GSTS);
    assert_true(gsts & VTD_GSTS_IRES);
    assert_true(gsts & VTD_GSTS_TES);

    struct irq_hits h = {0};
    assert_int_equal(intc__register(r->ic, 1, 0x70, on_irq, &h), 0);
    e1000_nic__set_msi(r->nic, true, VTD_MSI_ADDR_BASE | VTD_MSI_ADDR_IF |
                                         (3u << VTD_MSI_ADDR_HANDLE_LO_SHIFT), 0);
    e1000_drv__rx_poll(d, NULL, NULL, 100);
    (void)e1000_drv__irq(d);
    mmio__write32(&r->mmio, E1000_IMS, E1000_ICR_RXT0);
    uint8_t f[60];
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x99", 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memset(f + 14, 0, sizeof f - 14);
    assert_int_equal(wire__send(r->wb, f, sizeof f), 0);
    assert_true(rig_wait(irq_arrived, &h));
    assert_int_equal(h.cpu, 1);
    assert_int_equal(h.vector, 0x70);
    assert_true(e1000_drv__irq(d) & E1000_ICR_RXT0);
    struct vtd_stats vs;
    vtd__get_stats(r->vtd, &vs);
    assert_true(vs.ir_requests >= 1);
    assert_int_equal(vs.ir_faults, 0);
    mmio__write32(&r->mmio, E1000_IMC, 0xFFFFFFFFu);
    e1000_nic__set_msi(r->nic, false, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_frame_goes_through_translation),
        cmocka_unit_test(test_tx_from_unmapped_iova_faults),
        cmocka_unit_test(test_rx_into_unmapped_iova_faults),
        cmocka_unit_test(test_remapped_msi_reaches_cpu),
    };
    return cmocka_run_group_tests_name("hw/e1000 NIC behind VT-d", tests, setup, teardown);
}
