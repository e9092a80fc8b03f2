/* Boots the real guest kernel on the process backend with the minimal
 * test platform (guest_platform.h): `hello` prints and powers off with 0,
 * `sleep` halts until an HPET interrupt, an empty PCI bus enumerates to
 * nothing, an unknown program exits 127. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest_platform.h"

static void test_hello_prints_and_exits_0(void **state)
{
    (void)state;
    static struct platform p;
    platform_boot(&p, "hello");
    platform_run(&p);
    if (!strstr(p.out, "hello from the iovirt guest"))
        fail_msg("no greeting; console:\n%s", p.out);
    assert_int_equal(p.status, 0);
    assert_non_null(strstr(p.out, "iovirt-guest: exit 0"));
    assert_int_equal(p.v.stats.n[VCPU_STAT_LIDT], 1);
    platform_fini(&p);
}

static void test_sleep_on_hpet_interrupt(void **state)
{
    (void)state;
    static struct platform p;
    platform_boot(&p, "sleep 50");
    platform_run(&p);
    const char *r = strstr(p.out, "RESULT sleep ms=50 ");
    if (!r || p.status != 0)
        fail_msg("status %u; console:\n%s", p.status, p.out);
    unsigned long long el = 0, irqs = 0;
    assert_int_equal(sscanf(r, "RESULT sleep ms=50 elapsed_ns=%llu timer_irqs=%llu", &el, &irqs), 2);
    assert_true(irqs >= 1);
    assert_true(el >= 50000000ull);
    /* The interrupt really came through the platform: an HPET FSB message,
     * injected, and the guest halted waiting for it. */
    assert_true(p.msis >= 1);
    assert_int_equal(p.bad_msis, 0);
    assert_true(p.v.stats.n[VCPU_STAT_INJECT] >= 1);
    assert_true(p.v.stats.n[VCPU_STAT_HLT] >= 1);
    platform_fini(&p);
}

static void test_empty_pci_bus_and_unknown_program(void **state)
{
    (void)state;
    static struct platform p;
    platform_boot(&p, "lspci");
    platform_run(&p);
    assert_non_null(strstr(p.out, "pci: 0 function(s) on bus 0"));
    assert_int_equal(p.status, 1);
    platform_fini(&p);
    platform_boot(&p, "ip=10.0.2.15 frobnicate");
    platform_run(&p);
    assert_non_null(strstr(p.out, "unknown program \"frobnicate\""));
    assert_int_equal(p.status, 127);
    platform_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_prints_and_exits_0),
        cmocka_unit_test(test_sleep_on_hpet_interrupt),
        cmocka_unit_test(test_empty_pci_bus_and_unknown_program),
    };
    return cmocka_run_group_tests_name("guest_boot", tests, NULL, NULL);
}
