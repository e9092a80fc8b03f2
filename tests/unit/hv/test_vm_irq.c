/* hv/vm_irq: the two interrupt models.  With an I/O APIC a line's level
 * goes to the machine's input as driven (assert, deassert, again), and a
 * line beyond its 24 inputs is refused; without one an assertion is the
 * edge vector 32 + line and a deassertion delivers nothing.  MSIs outside
 * the interrupt window (all 64 address bits) or on exception vectors are
 * refused in both; delivery-mode bits are dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vm_irq.h"

struct rec {
    unsigned n;
    uint8_t vec[16];
    unsigned line[16];
    int level[16];
    int fail;
};

static void on_inject(void *ctx, uint8_t v)
{
    struct rec *r = ctx;
    if (r->n < 16)
        r->vec[r->n] = v;
    r->n++;
}

static int on_line(void *ctx, unsigned line, int level)
{
    struct rec *r = ctx;
    if (r->fail)
        return -5;
    if (r->n < 16)
        r->line[r->n] = line, r->level[r->n] = level;
    r->n++;
    return 0;
}

static void test_no_ioapic_edge_vectors(void **state)
{
    (void)state;
    struct rec r = {0};
    struct vm_irq irq = {.inject = on_inject, .ctx = &r};
    assert_true(vm_irq__set_level(&irq, 4, 1));
    assert_true(vm_irq__set_level(&irq, 4, 1));  /* every assertion, as before */
    assert_true(vm_irq__level(&irq, 4));
    assert_true(vm_irq__set_level(&irq, 4, 0));
    assert_false(vm_irq__level(&irq, 4));
    assert_int_equal(r.n, 2);
    assert_int_equal(r.vec[0], 36);
    assert_int_equal(r.vec[1], 36);
    assert_true(vm_irq__set_level(&irq, 23, 7));  /* any nonzero is asserted */
    assert_int_equal(r.vec[2], 55);
    assert_int_equal(irq.delivered, 3);
    /* hostile lines: refused, counted, nothing delivered */
    assert_false(vm_irq__set_level(&irq, 24, 1));
    assert_false(vm_irq__set_level(&irq, 255, 1));
    assert_false(vm_irq__set_level(&irq, UINT32_MAX, 1));
    assert_false(vm_irq__level(&irq, UINT32_MAX));
    assert_int_equal(r.n, 3);
    assert_int_equal(irq.refused, 3);
}

static void test_ioapic_levels(void **state)
{
    (void)state;
    struct rec inj = {0}, lines = {0};
    struct vm_irq irq = {.inject = on_inject, .ctx = &inj, .line = on_line, .line_ctx = &lines};
    assert_true(vm_irq__set_level(&irq, 11, 1));
    assert_true(vm_irq__set_level(&irq, 4, 1));
    assert_true(vm_irq__set_level(&irq, 11, 0));
    assert_int_equal(lines.n, 3);
    assert_int_equal(lines.line[0], 11);
    assert_int_equal(lines.level[0], 1);
    assert_int_equal(lines.line[2], 11);
    assert_int_equal(lines.level[2], 0);
    assert_true(vm_irq__level(&irq, 4));
    assert_false(vm_irq__level(&irq, 11));
    assert_int_equal(inj.n, 0);                 /* never a vector of our own */
    assert_false(vm_irq__set_level(&irq, 24, 1));
    assert_int_equal(lines.n, 3);
    lines.fail = 1;                             /* the backend refuses: counted */
    assert_false(vm_irq__set_level(&irq, 5, 1));
    assert_int_equal(irq.refused, 2);
    /* MSI is still a vector on the vCPU */
    assert_true(vm_irq__msi(&irq, 0xFEE00000u, 0x41));
    assert_false(vm_irq__msi(&irq, 0xFEE00000u, 0x0E));
    assert_false(vm_irq__msi(&irq, 0xFED00000u, 0x41));
    assert_int_equal(inj.n, 1);
    assert_int_equal(inj.vec[0], 0x41);
}

struct seen {
    unsigned n;
    uint8_t last;
};

static void record(void *ctx, uint8_t vector)
{
    struct seen *s = ctx;
    s->n++;
    s->last = vector;
}

static void test_window_is_checked_on_all_64_address_bits(void **state)
{
    (void)state;
    struct seen s = {0};
    struct vm_irq irq = {.inject = record, .ctx = &s};
    assert_true(vm_irq__msi(&irq, 0xFEE00000ull, 0x61));
    assert_true(vm_irq__msi(&irq, 0xFEEFFFFCull, 0x61));
    assert_int_equal(s.n, 2);
    /* the upper DWORD set: a memory write, not an interrupt */
    assert_false(vm_irq__msi(&irq, 0x1FEE00000ull, 0x61));
    assert_false(vm_irq__msi(&irq, 0xFFFFFFFFFEE00000ull, 0x61));
    assert_false(vm_irq__msi(&irq, 0xFED00000ull, 0x61));
    assert_false(vm_irq__msi(&irq, 0xFEF00000ull, 0x61));
    assert_false(vm_irq__msi(&irq, 0, 0x61));
    assert_int_equal(s.n, 2);
    assert_int_equal(irq.refused, 5);
    assert_false(vm_irq__msi_valid(0x1FEE00000ull, 0x61));
    assert_true(vm_irq__msi_valid(0xFEE00000ull, 0x61));
}

static void test_exception_vectors_refused_delivery_mode_ignored(void **state)
{
    (void)state;
    struct seen s = {0};
    struct vm_irq irq = {.inject = record, .ctx = &s};
    for (uint32_t v = 0; v < 32; v++) {
        assert_false(vm_irq__msi(&irq, 0xFEE00000ull, v));
        assert_false(vm_irq__msi_valid(0xFEE00000ull, 0x400 | v));
    }
    assert_int_equal(s.n, 0);
    /* NMI / INIT / ExtINT delivery modes arrive as a fixed vector, or not at all */
    assert_true(vm_irq__msi(&irq, 0xFEE00000ull, 0x400 | 0x61));
    assert_int_equal(s.last, 0x61);
    assert_false(vm_irq__msi(&irq, 0xFEE00000ull, 0x500));
    assert_true(vm_irq__msi(&irq, 0xFEE00000ull, 0xFFFFFFFFu));
    assert_int_equal(s.last, 0xFF);
    assert_true(vm_irq__msi_valid(0xFEE00000ull, 32));
    assert_true(vm_irq__msi_valid(0xFEE00000ull, 255));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ioapic_edge_vectors),
        cmocka_unit_test(test_ioapic_levels),
        cmocka_unit_test(test_window_is_checked_on_all_64_address_bits),
        cmocka_unit_test(test_exception_vectors_refused_delivery_mode_ignored),
    };
    return cmocka_run_group_tests_name("hv/vm_irq", tests, NULL, NULL);
}
