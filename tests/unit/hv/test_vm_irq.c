/* hv/vm_irq: which MSI messages become a vector in the VM, with the
 * boundary values a hostile guest programs (address above 4 GiB, outside
 * the window, exception vectors, delivery-mode bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/vm_irq.h"

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
        cmocka_unit_test(test_window_is_checked_on_all_64_address_bits),
        cmocka_unit_test(test_exception_vectors_refused_delivery_mode_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
