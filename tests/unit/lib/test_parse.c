/* lib/parse: strict number parsing for command-line values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/parse.h"

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse__size("64M", &v), 0);
    assert_int_equal(v, 64ull << 20);
    assert_int_equal(parse__size("1k", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(parse__size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(parse__size("2G", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(parse__size("-1", &v), -EINVAL);
    assert_int_equal(parse__size("12MB", &v), -EINVAL);
    assert_int_equal(parse__size("", &v), -EINVAL);
    assert_int_equal(parse__size("M", &v), -EINVAL);
    assert_int_equal(parse__size(" 5", &v), -EINVAL);
    assert_int_equal(parse__size("99999999999999999999", &v), -ERANGE);
    assert_int_equal(parse__size("99999999999G", &v), -ERANGE);
}

static void test_rates_and_seconds(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse__rate("1G", &v), 0);
    assert_int_equal(v, 1000000000ull);
    assert_int_equal(parse__rate("100M", &v), 0);
    assert_int_equal(v, 100000000ull);
    assert_int_equal(parse__rate("unlimited", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse__rate("fast", &v), -EINVAL);
    double s;
    assert_int_equal(parse__seconds("0.5", &s), 0);
    assert_true(s == 0.5);
    assert_int_equal(parse__seconds("-2", &s), -EINVAL);
    assert_int_equal(parse__seconds("0", &s), -ERANGE);
    assert_int_equal(parse__seconds("2x", &s), -EINVAL);
    assert_int_equal(parse__seconds("inf", &s), -EINVAL);
    assert_int_equal(parse__u64("12", &v), 0);
    assert_int_equal(parse__u64("1K", &v), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_rates_and_seconds),
    };
    return cmocka_run_group_tests_name("lib/parse", tests, NULL, NULL);
}
