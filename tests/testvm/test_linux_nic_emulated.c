/* Linux's e1000 driver (Debian's stock 6.1 kernel) on iovirt's emulated
 * e1000 (`--nic emulated`): link up, ping 3/3, a TCP stream the sink counts
 * byte for byte, interrupts rising, no driver trouble, no error counters
 * (tests/testvm/linux_nic.h).  Needs hardware KVM: the test machine,
 *   scripts/run-testvm-suite --only test_linux_nic_emulated */
#include "tests/testvm/linux_nic.h"

static void test_e1000_emulated(void **state)
{
    (void)state;
    linux_nic_check("emulated", NULL, true);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1000_emulated),
    };
    return cmocka_run_group_tests_name("linux_nic_emulated", tests, NULL, NULL);
}
