/* hw/intc: compatibility-format MSI decode, bad messages counted, INTx level
 * semantics with EOI re-delivery, and remappable MSIs translated by the
 * VT-d model's interrupt remapping (source-id checked). */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/intc/intc.h"
#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"

struct hits {
    unsigned n;
    unsigned cpu;
    uint8_t vector;
};

static void on_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    struct hits *h = ctx;
    h->n++;
    h->cpu = cpu;
    h->vector = vector;
}

static void test_compat_msi_is_decoded(void **state)
{
    (void)state;
    struct intc *ic = intc__create();
    struct hits h = {0};
    assert_int_equal(intc__register(ic, 1, 0x45, on_irq, &h), 0);
    assert_int_equal(intc__register(ic, 1, 0x45, on_irq, &h), -EBUSY);
    assert_int_equal(intc__register(ic, 1, 3, on_irq, &h), -EINVAL);
    assert_int_equal(intc__register(ic, INTC_MAX_CPUS, 0x45, on_irq, &h), -EINVAL);
    struct intc_port port;
    struct irq_sink sink;
    intc__sink(&port, ic, 0, &sink);
    sink.msi(sink.ctx, 0x0010, INTC_MSI_ADDR_BASE | (1u << INTC_MSI_ADDR_DEST_SHIFT), 0x45);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.cpu, 1);
    assert_int_equal(h.vector, 0x45);
    assert_int_equal(intc__count(ic, 1, 0x45), 1);

    /* Not an interrupt address, reserved vector, no such CPU, remappable
     * without a remapping unit: all dropped and counted. */
    intc__msi(ic, 0x10, 0xFED00000u, 0x45);
    intc__msi(ic, 0x10, INTC_MSI_ADDR_BASE | (1u << INTC_MSI_ADDR_DEST_SHIFT), 0x05);
    intc__msi(ic, 0x10, INTC_MSI_ADDR_BASE | (200u << INTC_MSI_ADDR_DEST_SHIFT), 0x45);
    intc__msi(ic, 0x10, INTC_MSI_ADDR_BASE | INTC_MSI_ADDR_IF_REMAP, 0);
    intc__msi(ic, 0x10, 0x1FEE00000ull, 0x45);
    /* Valid but nobody registered: spurious. */
    intc__msi(ic, 0x10, INTC_MSI_ADDR_BASE, 0x46);
    struct intc_stats s;
    intc__get_stats(ic, &s);
    assert_int_equal(s.bad_msi, 5);
    assert_int_equal(s.spurious, 1);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(h.n, 1);
    intc__unregister(ic, 1, 0x45);
    intc__msi(ic, 0x10, INTC_MSI_ADDR_BASE | (1u << INTC_MSI_ADDR_DEST_SHIFT), 0x45);
    assert_int_equal(h.n, 1);
    intc__destroy(ic);
}

static void test_intx_is_level_with_eoi_redelivery(void **state)
{
    (void)state;
    struct intc *ic = intc__create();
    struct hits h = {0};
    assert_int_equal(intc__register(ic, 0, 0x50, on_irq, &h), 0);
    assert_int_equal(intc__route_intx(ic, 3, 0, 0x50), 0);
    assert_int_equal(intc__route_intx(ic, INTC_NR_INTX, 0, 0x50), -EINVAL);
    intc__intx(ic, 3, 1);
    assert_int_equal(h.n, 1);
    intc__intx(ic, 3, 1);  /* still high: no new edge */
    assert_int_equal(h.n, 1);
    intc__eoi(ic, 0, 0x50); /* EOI while asserted: delivered again */
    assert_int_equal(h.n, 2);
    intc__intx(ic, 3, 0);
    intc__eoi(ic, 0, 0x50);
    assert_int_equal(h.n, 2);
    intc__intx(ic, 3, 1);
    assert_int_equal(h.n, 3);
    intc__intx(ic, 4, 1);  /* unrouted line: nothing */
    intc__intx(ic, 99, 1); /* out of range: ignored */
    assert_int_equal(h.n, 3);
    intc__destroy(ic);
}

static void test_remappable_msi_through_vtd(void **state)
{
    (void)state;
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 8ull << 20), 0);
    struct vtd *v = vtd__create(&pm, NULL);
    assert_non_null(v);
    struct mmio_window w = {&vtd_mmio_ops, v};
    struct intc *ic = intc__create();
    intc__attach_vtd(ic, v);
    struct hits h = {0}, compat = {0};
    assert_int_equal(intc__register(ic, 2, 0x61, on_irq, &h), 0);
    assert_int_equal(intc__register(ic, 0, 0x45, on_irq, &compat), 0);

    /* Remapping off: compatibility format passes through the unit. */
    intc__msi(ic, 0x0010, INTC_MSI_ADDR_BASE, 0x45);
    assert_int_equal(compat.n, 1);

    /* IRT of 16 entries; entry 5 -> CPU 2 vector 0x61, only for 00:02.0. */
    uint64_t irt;
    assert_int_equal(physmem__alloc(&pm, PHYSMEM_PAGE_4K, &irt), 0);
    uint64_t e[2] = {VTD_IRTE_LO_P | (0x61ull << VTD_IRTE_LO_V_SHIFT) |
                         (2ull << VTD_IRTE_LO_DST_XAPIC_SHIFT),
                     (0x0010ull << VTD_IRTE_HI_SID_SHIFT) |
                         ((uint64_t)VTD_IRTE_SVT_SID << VTD_IRTE_HI_SVT_SHIFT)};
    assert_int_equal(physmem__write(&pm, irt + 5 * VTD_IRTE_SIZE, e, sizeof e), 0);
    mmio__write64(&w, VTD_REG_IRTA, irt | (3u << VTD_IRTA_S_SHIFT));
    mmio__write32(&w, VTD_REG_GCMD, VTD_GCMD_SIRTP);
    assert_true(mmio__read32(&w, VTD_REG_GSTS) & VTD_GSTS_IRTPS);
    mmio__write32(&w, VTD_REG_GCMD, VTD_GCMD_IRE);
    assert_true(mmio__read32(&w, VTD_REG_GSTS) & VTD_GSTS_IRES);

    uint64_t addr = INTC_MSI_ADDR_BASE | INTC_MSI_ADDR_IF_REMAP |
                    (5u << VTD_MSI_ADDR_HANDLE_LO_SHIFT);
    intc__msi(ic, 0x0010, addr, 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.cpu, 2);
    assert_int_equal(h.vector, 0x61);
    /* Another requester may not use that entry; compatibility format is
     * blocked while remapping is on (CFI not set). */
    intc__msi(ic, 0x0018, addr, 0);
    intc__msi(ic, 0x0010, INTC_MSI_ADDR_BASE, 0x45);
    assert_int_equal(h.n, 1);
    assert_int_equal(compat.n, 1);
    struct intc_stats s;
    intc__get_stats(ic, &s);
    assert_int_equal(s.remap_faults, 2);
    struct vtd_stats vs;
    vtd__get_stats(v, &vs);
    assert_int_equal(vs.ir_faults, 2);

    intc__destroy(ic);
    vtd__destroy(v);
    physmem__destroy(&pm);
}

/* Teardown rule: once intc__unregister returns, no call of the handler is
 * still running, so its context may be freed.  The handler is held inside
 * (from a device thread) while the owner unregisters. */
struct slow {
    volatile int entered, done;
};

static void slow_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    struct slow *s = ctx;
    __atomic_store_n(&s->entered, 1, __ATOMIC_SEQ_CST);
    usleep(200000);
    __atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
}

static void *send_msi(void *arg)
{
    intc__msi(arg, 0, 0xFEE00000ull, 0x40);
    return NULL;
}

static void test_unregister_waits_for_running_handler(void **state)
{
    (void)state;
    struct intc *ic = intc__create();
    assert_non_null(ic);
    struct slow s = {0};
    assert_int_equal(intc__register(ic, 0, 0x40, slow_irq, &s), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, send_msi, ic), 0);
    for (int i = 0; i < 5000 && !__atomic_load_n(&s.entered, __ATOMIC_SEQ_CST); i++)
        usleep(1000);
    assert_true(s.entered);
    intc__unregister(ic, 0, 0x40);
    assert_true(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST)); /* no call still holds &s */
    pthread_join(th, NULL);
    intc__msi(ic, 0, 0xFEE00000ull, 0x40); /* after: spurious, never the old handler */
    struct intc_stats st;
    intc__get_stats(ic, &st);
    assert_int_equal(st.spurious, 1);
    intc__destroy(ic);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compat_msi_is_decoded),
        cmocka_unit_test(test_intx_is_level_with_eoi_redelivery),
        cmocka_unit_test(test_remappable_msi_through_vtd),
        cmocka_unit_test(test_unregister_waits_for_running_handler),
    };
    return cmocka_run_group_tests_name("hw/intc", tests, NULL, NULL);
}
