/* guest/lib/printf.c (compiled here for the host): every conversion the
 * kernel uses, widths, padding, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/lib/printf.c"

static void expect(const char *want, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = kfmt__vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_integers(void **state)
{
    (void)state;
    expect("0 -1 42 -2147483648", "%d %d %i %d", 0, -1, 42, (int)INT32_MIN);
    expect("4294967295", "%u", 0xFFFFFFFFu);
    expect("ff FF deadbeef", "%x %X %x", 255u, 255u, 0xdeadbeefu);
    expect("ffffffffffffffff", "%lx", 0xFFFFFFFFFFFFFFFFul);
    expect("18446744073709551615", "%llu", 18446744073709551615ull);
    expect("-9223372036854775808", "%lld", (long long)INT64_MIN);
    expect("123456789012", "%zu", (size_t)123456789012ull);
    expect("-5 7", "%ld %lu", -5l, 7ul);
}

static void test_width_and_padding(void **state)
{
    (void)state;
    expect("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
    expect("-0042", "%05d", -42);
    expect("0a", "%02x", 10u);
    expect("  hi|hi  ", "%4s|%-4s", "hi", "hi");
    expect("00:1f.3", "%02x:%02x.%u", 0u, 31u, 3u);
    expect("0xfed00000 0 0XAB", "%#lx %#x %#X", 0xfed00000ul, 0u, 0xABu);
}

static void test_strings_chars_pointers(void **state)
{
    (void)state;
    expect("a-b (null)", "%c-%c %s", 'a', 'b', (char *)NULL);
    expect("0x1000", "%p", (void *)0x1000);
    expect("100%", "100%%");
    expect("x%qy", "x%qy");      /* unknown conversion printed as is */
    expect("end%", "end%");      /* trailing % */
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[6];
    int n = kfmt__snprintf(buf, sizeof buf, "%s", "hello world");
    assert_int_equal(n, 11);
    assert_string_equal(buf, "hello");
    n = kfmt__snprintf(buf, 0, "abc");
    assert_int_equal(n, 3);
    n = kfmt__snprintf(buf, 1, "abc");
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_width_and_padding),
        cmocka_unit_test(test_strings_chars_pointers),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests_name("guest_printf", tests, NULL, NULL);
}
