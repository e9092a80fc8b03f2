/* guest/kernel/pmem.c and cmdline.c (host build): allocation, reservation,
 * refusal of bad frees, exhaustion; command-line parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/kernel/cmdline.c"
#include "guest/kernel/pmem.c"

#define NPAGES 64

struct ram {
    uint8_t *mem;
    uint64_t base;
    uint64_t bitmap[4];
    struct pmem pm;
};

static int setup(void **state)
{
    struct ram *r = calloc(1, sizeof(*r));
    r->mem = aligned_alloc(PMEM_PAGE, NPAGES * PMEM_PAGE);
    memset(r->mem, 0xAA, NPAGES * PMEM_PAGE);
    r->base = (uint64_t)(uintptr_t)r->mem;
    /* 3 pages of "image" */
    assert_int_equal(pmem__init(&r->pm, r->base, NPAGES * PMEM_PAGE, r->base + 3 * PMEM_PAGE - 100,
                                r->bitmap, 4), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct ram *r = *state;
    free(r->mem);
    free(r);
    return 0;
}

static void test_image_reserved_and_alloc_zeroed(void **state)
{
    struct ram *r = *state;
    assert_int_equal(r->pm.nfree, NPAGES - 3);
    uint64_t a = pmem__alloc(&r->pm, 1);
    assert_int_equal(a, r->base + 3 * PMEM_PAGE);
    for (unsigned i = 0; i < PMEM_PAGE; i++)
        assert_int_equal(((uint8_t *)(uintptr_t)a)[i], 0);
    uint64_t b = pmem__alloc(&r->pm, 4);
    assert_int_equal(b, r->base + 4 * PMEM_PAGE);
    assert_int_equal(r->pm.nfree, NPAGES - 8);
}

static void test_contiguous_first_fit_after_free(void **state)
{
    struct ram *r = *state;
    uint64_t a = pmem__alloc(&r->pm, 2);
    uint64_t b = pmem__alloc(&r->pm, 2);
    uint64_t c = pmem__alloc(&r->pm, 2);
    assert_true(a && b && c);
    assert_int_equal(pmem__free(&r->pm, b, 2), 0);
    assert_int_equal(pmem__alloc(&r->pm, 3), c + 2 * PMEM_PAGE); /* hole too small */
    assert_int_equal(pmem__alloc(&r->pm, 2), b);                  /* hole reused */
}

static void test_bad_free_refused(void **state)
{
    struct ram *r = *state;
    uint64_t a = pmem__alloc(&r->pm, 2);
    uint64_t before = r->pm.nfree;
    assert_int_equal(pmem__free(&r->pm, a + 1, 1), -EINVAL);              /* unaligned */
    assert_int_equal(pmem__free(&r->pm, r->base - PMEM_PAGE, 1), -EINVAL); /* below RAM */
    assert_int_equal(pmem__free(&r->pm, a, NPAGES * 2), -EINVAL);         /* past RAM */
    assert_int_equal(pmem__free(&r->pm, a, 3), -EINVAL);                  /* part not allocated */
    assert_int_equal(r->pm.nfree, before);
    assert_int_equal(pmem__free(&r->pm, a, 2), 0);
    assert_int_equal(pmem__free(&r->pm, a, 2), -EINVAL);                  /* double free */
}

static void test_reserve_and_exhaustion(void **state)
{
    struct ram *r = *state;
    pmem__reserve(&r->pm, r->base + 10 * PMEM_PAGE + 5, 10);      /* one page */
    pmem__reserve(&r->pm, r->base + (NPAGES - 1) * PMEM_PAGE, 1ull << 40); /* clipped */
    pmem__reserve(&r->pm, 0, 16);                                 /* outside: ignored */
    assert_int_equal(r->pm.nfree, NPAGES - 5);
    assert_int_equal(pmem__alloc(&r->pm, NPAGES), 0);
    assert_int_equal(pmem__alloc(&r->pm, 0), 0);
    uint64_t got = 0;
    while (pmem__alloc(&r->pm, 1))
        got++;
    assert_int_equal(got, NPAGES - 5);
    assert_int_equal(r->pm.nfree, 0);
}

static void test_init_rejects_bad_layout(void **state)
{
    struct ram *r = *state;
    struct pmem pm;
    uint64_t bm[1];
    assert_int_equal(pmem__init(&pm, r->base + 1, PMEM_PAGE * 4, r->base + 1, bm, 1), -EINVAL);
    assert_int_equal(pmem__init(&pm, r->base, PMEM_PAGE * 4, r->base - 1, bm, 1), -EINVAL);
    assert_int_equal(pmem__init(&pm, r->base, PMEM_PAGE * 4, r->base + PMEM_PAGE * 5, bm, 1), -EINVAL);
    /* RAM larger than the bitmap covers: only the covered part is used. */
    assert_int_equal(pmem__init(&pm, r->base, NPAGES * PMEM_PAGE, r->base, bm, 1), 0);
    assert_int_equal(pm.npages, 64);
}

static void test_cmdline(void **state)
{
    (void)state;
    struct cmdline cl;
    assert_int_equal(cmdline__parse(&cl, "  ip=10.0.2.15 stream 10.0.2.1  5001 1024\tgw=10.0.2.1 5 "), 0);
    assert_int_equal(cl.argc, 5);
    assert_string_equal(cl.argv[0], "stream");
    assert_string_equal(cl.argv[4], "5");
    assert_null(cl.argv[5]);
    assert_string_equal(cmdline__get(&cl, "ip"), "10.0.2.15");
    assert_string_equal(cmdline__get(&cl, "gw"), "10.0.2.1");
    assert_null(cmdline__get(&cl, "mask"));
    uint32_t ip;
    assert_int_equal(cmdline__parse_ipv4("10.0.2.15", &ip), 0);
    assert_int_equal(ip, 0x0A00020F);
    assert_int_equal(cmdline__parse_ipv4("10.0.2", &ip), -EINVAL);
    assert_int_equal(cmdline__parse_ipv4("10.0.2.256", &ip), -EINVAL);
    assert_int_equal(cmdline__parse_ipv4("10.0.2.1x", &ip), -EINVAL);
    assert_int_equal(cmdline__parse_ipv4("1..2.3", &ip), -EINVAL);
    uint64_t v;
    assert_int_equal(cmdline__parse_u64("1500", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(cmdline__parse_u64("0x10", &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(cmdline__parse_u64("18446744073709551616", &v), -EINVAL);
    assert_int_equal(cmdline__parse_u64("12a", &v), -EINVAL);
    assert_int_equal(cmdline__parse_u64("", &v), -EINVAL);
    /* "=x" is a word, not an option; empty line is fine */
    assert_int_equal(cmdline__parse(&cl, "=x"), 0);
    assert_int_equal(cl.argc, 1);
    assert_int_equal(cmdline__parse(&cl, NULL), 0);
    assert_int_equal(cl.argc, 0);
    /* Too many words: -E2BIG, the parsed part stays valid. */
    assert_int_equal(cmdline__parse(&cl, "a b c d e f g h i j k l m n o p q r"), -E2BIG);
    assert_int_equal(cl.argc, CMDLINE_MAXARGS);
    char longline[CMDLINE_MAX + 50];
    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    assert_int_equal(cmdline__parse(&cl, longline), -E2BIG);
    assert_int_equal(strlen(cl.argv[0]), CMDLINE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_image_reserved_and_alloc_zeroed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contiguous_first_fit_after_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_free_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_and_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_rejects_bad_layout, setup, teardown),
        cmocka_unit_test(test_cmdline),
    };
    return cmocka_run_group_tests_name("guest_pmem", tests, NULL, NULL);
}
