/* hw/physmem: bounds-checked access, allocator, scattered extents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/physmem.h"
#include "lib/log.h"

static int setup(void **state)
{
    static struct physmem pm;
    log__set_quiet(1);
    assert_int_equal(physmem__init(&pm, 64ull << 20), 0);
    *state = &pm;
    return 0;
}

static int teardown(void **state)
{
    physmem__destroy(*state);
    return 0;
}

static void test_bounds_checked_access(void **state)
{
    struct physmem *pm = *state;
    uint8_t buf[16] = {1, 2, 3};
    assert_int_equal(physmem__write(pm, 0x1000, buf, sizeof buf), 0);
    assert_int_equal(physmem__write(pm, pm->size - 8, buf, 16), -EFAULT);
    assert_int_equal(physmem__read(pm, pm->size, buf, 1), -EFAULT);
    assert_int_equal(physmem__read(pm, UINT64_MAX - 4, buf, 8), -EFAULT);
    assert_null(physmem__ptr(pm, pm->size - 4, 8));
    assert_non_null(physmem__ptr(pm, pm->size - 8, 8));
    uint8_t back[16];
    assert_int_equal(physmem__read(pm, 0x1000, back, sizeof back), 0);
    assert_memory_equal(buf, back, sizeof buf);
}

static void test_alloc_sizes_and_alignment(void **state)
{
    struct physmem *pm = *state;
    uint64_t a, b, big;
    assert_int_equal(physmem__alloc(pm, PHYSMEM_PAGE_4K, &a), 0);
    assert_int_equal(physmem__alloc(pm, PHYSMEM_PAGE_4K, &b), 0);
    assert_int_not_equal(a, b);
    assert_int_equal(physmem__alloc(pm, PHYSMEM_PAGE_2M, &big), 0);
    assert_int_equal(big % PHYSMEM_PAGE_2M, 0);
    assert_true(big >= PHYSMEM_PAGE_2M); /* frames a, b live in the first 2 MiB */
    assert_int_equal(physmem__alloc(pm, 12345, &a), -EINVAL);
    assert_int_equal(physmem__alloc_at(pm, big, PHYSMEM_PAGE_4K), -EBUSY);
    physmem__free(pm, big, PHYSMEM_PAGE_2M);
    assert_int_equal(physmem__alloc_at(pm, big, PHYSMEM_PAGE_4K), 0);
    physmem__free(pm, big, PHYSMEM_PAGE_4K);
    physmem__free(pm, a, PHYSMEM_PAGE_4K);
    physmem__free(pm, b, PHYSMEM_PAGE_4K);
    assert_int_equal(physmem__free_bytes(pm), pm->size);
}

static void test_scattered_is_neither_contiguous_nor_identity(void **state)
{
    struct physmem *pm = *state;
    uint64_t hpas[16];
    assert_int_equal(physmem__alloc_scattered(pm, 16 * PHYSMEM_PAGE_2M, PHYSMEM_PAGE_2M, hpas), 0);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(hpas[i] % PHYSMEM_PAGE_2M, 0);
        assert_int_not_equal(hpas[i], (uint64_t)i * PHYSMEM_PAGE_2M); /* not identity */
        if (i)
            assert_int_not_equal(hpas[i - 1] + PHYSMEM_PAGE_2M, hpas[i]);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(hpas[i], hpas[j]);
    }
    for (int i = 0; i < 16; i++)
        physmem__free(pm, hpas[i], PHYSMEM_PAGE_2M);
}

static void test_out_of_memory_is_all_or_nothing(void **state)
{
    struct physmem *pm = *state;
    uint64_t free_before = physmem__free_bytes(pm);
    uint64_t hpas[64];
    assert_int_equal(physmem__alloc_scattered(pm, 40 * PHYSMEM_PAGE_2M, PHYSMEM_PAGE_2M, hpas),
                     -ENOMEM);
    assert_int_equal(physmem__free_bytes(pm), free_before);
}

static void test_freed_pages_read_back_zero(void **state)
{
    struct physmem *pm = *state;
    uint64_t a;
    assert_int_equal(physmem__alloc(pm, PHYSMEM_PAGE_4K, &a), 0);
    memset(physmem__ptr(pm, a, 4096), 0xAB, 4096);
    physmem__free(pm, a, PHYSMEM_PAGE_4K);
    uint8_t *p = physmem__ptr(pm, a, 4096);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(p[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_checked_access),
        cmocka_unit_test(test_alloc_sizes_and_alignment),
        cmocka_unit_test(test_scattered_is_neither_contiguous_nor_identity),
        cmocka_unit_test(test_out_of_memory_is_all_or_nothing),
        cmocka_unit_test(test_freed_pages_read_back_zero),
    };
    return cmocka_run_group_tests_name("hw/physmem", tests, setup, teardown);
}
