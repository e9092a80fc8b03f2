/* hv/io_bus: registration, overlap refusal, dispatch, moves, counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/io_bus.h"

struct dev { uint64_t last_off, last_val; unsigned calls; };

static void handler(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *data)
{
    struct dev *d = opaque;
    d->calls++;
    d->last_off = off;
    if (is_write)
        d->last_val = *data;
    else
        *data = 0x1000 + off + size;
}

static void test_dispatch_and_counts(void **state)
{
    (void)state;
    struct io_bus bus;
    struct dev a = {0}, b = {0};
    io_bus__init(&bus);
    assert_int_equal(io_bus__register(&bus, 0x3F8, 8, handler, &a, "uart"), 0);
    assert_int_equal(io_bus__register(&bus, 0xCF8, 8, handler, &b, "pci"), 0);
    assert_int_equal(io_bus__register(&bus, 0x3FC, 8, handler, &b, "x"), -EEXIST);
    assert_int_equal(io_bus__register(&bus, 0x3F0, 9, handler, &b, "x"), -EEXIST);
    assert_int_equal(io_bus__register(&bus, UINT64_MAX, 2, handler, &b, "x"), -EINVAL);
    uint64_t v = 0;
    assert_true(io_bus__access(&bus, 0xCFC, 4, false, &v));
    assert_int_equal(v, 0x1000 + 4 + 4);
    v = 0x41;
    assert_true(io_bus__access(&bus, 0x3F8, 1, true, &v));
    assert_int_equal(a.last_val, 0x41);
    /* Unclaimed and straddling accesses read all-ones and reach no device. */
    assert_false(io_bus__access(&bus, 0x80, 2, false, &v));
    assert_int_equal(v, 0xFFFF);
    assert_false(io_bus__access(&bus, 0x3FE, 4, false, &v));
    assert_int_equal(a.calls, 1);
    assert_int_equal(bus.unclaimed, 2);
    assert_int_equal(io_bus__find(&bus, 0xCF9)->reads, 1);
    assert_int_equal(io_bus__find(&bus, 0x3F8)->writes, 1);
}

static void test_move_and_refused_move(void **state)
{
    (void)state;
    struct io_bus bus;
    struct dev a = {0}, b = {0};
    io_bus__init(&bus);
    io_bus__register(&bus, 0xC0000000, 0x20000, handler, &a, "bar0");
    io_bus__register(&bus, 0xC0100000, 0x1000, handler, &b, "bar0");
    assert_int_equal(io_bus__move(&bus, &a, "bar0", 0xD0000000, 0x20000), 0);
    assert_null(io_bus__find(&bus, 0xC0000000));
    assert_ptr_equal(io_bus__find(&bus, 0xD0010000)->opaque, &a);
    /* A move onto another device is refused and leaves the old place. */
    assert_int_equal(io_bus__move(&bus, &a, "bar0", 0xC00F0000, 0x20000), -EEXIST);
    assert_ptr_equal(io_bus__find(&bus, 0xD0000000)->opaque, &a);
    assert_int_equal(io_bus__move(&bus, &a, "bar0", 0, 0), 0);
    assert_null(io_bus__find(&bus, 0xD0000000));
    assert_int_equal(bus.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_and_counts),
        cmocka_unit_test(test_move_and_refused_move),
    };
    return cmocka_run_group_tests_name("hv/io_bus", tests, NULL, NULL);
}
