/* hv/guest_mem: scattered backing, extent-crossing copies, bounds, the
 * single-access 16-bit fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/guest_mem.h"
#include "lib/log.h"

static struct physmem pm;

static int setup(void **state)
{
    (void)state;
    log__set_quiet(1);
    return physmem__init(&pm, 64ull << 20);
}

static int teardown(void **state)
{
    (void)state;
    physmem__destroy(&pm);
    return 0;
}

static void test_copy_across_extents_lands_in_scattered_hpas(void **state)
{
    (void)state;
    struct guest_mem gm;
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 8ull << 20), 0);
    uint8_t out[64], in[64];
    for (int i = 0; i < 64; i++)
        out[i] = (uint8_t)(i * 7 + 1);
    uint64_t gpa = 0x100000 + GUEST_MEM_EXTENT - 32; /* straddles extents 0 and 1 */
    assert_int_equal(guest_mem__write(&gm, gpa, out, sizeof out), 0);
    assert_memory_equal(physmem__ptr(&pm, gm.hpa[0] + GUEST_MEM_EXTENT - 32, 32), out, 32);
    assert_memory_equal(physmem__ptr(&pm, gm.hpa[1], 32), out + 32, 32);
    assert_int_equal(guest_mem__read(&gm, gpa, in, sizeof in), 0);
    assert_memory_equal(in, out, sizeof in);
    assert_int_not_equal(gm.hpa[0] + GUEST_MEM_EXTENT, gm.hpa[1]);
    guest_mem__destroy(&gm);
}

static void test_outside_ram_is_refused_and_untouched(void **state)
{
    (void)state;
    struct guest_mem gm;
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 4ull << 20), 0);
    struct dma_port port;
    guest_mem__dma_port(&gm, &port);
    uint8_t buf[16];
    memset(buf, 0x5A, sizeof buf);
    uint64_t end = 0x100000 + (4ull << 20);
    assert_int_equal(dma__write(&port, end - 8, buf, 16), -EFAULT);     /* crosses the end */
    assert_int_equal(dma__write(&port, 0xFFFFF, buf, 1), -EFAULT);      /* below base */
    assert_int_equal(dma__read(&port, UINT64_MAX - 3, buf, 8), -EFAULT); /* wraps */
    assert_int_equal(dma__write(&port, end - 16, buf, 16), 0);
    /* The failed write touched nothing: the last 8 bytes still hold 0x5A
     * only from the successful one; the byte before them is zero. */
    uint8_t back[24];
    assert_int_equal(guest_mem__read(&gm, end - 24, back, 24), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(back[i], 0);
    guest_mem__destroy(&gm);
}

static void test_bad_sizes_and_exhaustion(void **state)
{
    (void)state;
    struct guest_mem gm;
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 0), -EINVAL);
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 3 << 20), -EINVAL);
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 128ull << 20), -EINVAL);
    uint64_t before = physmem__free_bytes(&pm);
    struct guest_mem a;
    assert_int_equal(guest_mem__create(&a, &pm, 0x100000, 48ull << 20), 0);
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 32ull << 20), -ENOMEM);
    guest_mem__destroy(&a);
    assert_int_equal(physmem__free_bytes(&pm), before);
}

static void test_16bit_fields(void **state)
{
    (void)state;
    struct guest_mem gm;
    assert_int_equal(guest_mem__create(&gm, &pm, 0x100000, 4ull << 20), 0);
    uint64_t last = 0x100000 + GUEST_MEM_EXTENT - 2; /* last field of extent 0 */
    assert_int_equal(guest_mem__store16(&gm, last, 0xBEEF), 0);
    assert_int_equal(guest_mem__store16(&gm, last + 2, 0x1234), 0); /* first of extent 1 */
    uint16_t v = 0;
    assert_int_equal(guest_mem__load16(&gm, last, &v), 0);
    assert_int_equal(v, 0xBEEF);
    assert_int_equal(*(uint16_t *)physmem__ptr(&pm, gm.hpa[0] + GUEST_MEM_EXTENT - 2, 2), 0xBEEF);
    assert_int_equal(*(uint16_t *)physmem__ptr(&pm, gm.hpa[1], 2), 0x1234);
    /* The same field through the copy interface. */
    assert_int_equal(guest_mem__read(&gm, last + 2, &v, 2), 0);
    assert_int_equal(v, 0x1234);
    /* Odd addresses are refused (a field that could straddle extents);
     * outside RAM is refused and nothing is written. */
    v = 0x5555;
    assert_int_equal(guest_mem__load16(&gm, last + 1, &v), -EINVAL);
    assert_int_equal(guest_mem__store16(&gm, last + 1, 0), -EINVAL);
    assert_int_equal(v, 0x5555);
    uint64_t end = 0x100000 + (4ull << 20);
    assert_int_equal(guest_mem__load16(&gm, end, &v), -EFAULT);
    assert_int_equal(guest_mem__store16(&gm, 0x100000 - 2, 1), -EFAULT);
    assert_int_equal(guest_mem__load16(&gm, UINT64_MAX - 1, &v), -EFAULT);
    assert_int_equal(guest_mem__load16(&gm, end - 2, &v), 0);
    assert_int_equal(v, 0);
    guest_mem__destroy(&gm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_across_extents_lands_in_scattered_hpas),
        cmocka_unit_test(test_outside_ram_is_refused_and_untouched),
        cmocka_unit_test(test_bad_sizes_and_exhaustion),
        cmocka_unit_test(test_16bit_fields),
    };
    return cmocka_run_group_tests_name("hv/guest_mem", tests, setup, teardown);
}
