/* Linux's e1000 driver (Debian's stock 6.1 kernel) on the modelled
 * physical e1000 assigned through the modelled VT-d (`--nic assigned`,
 * `--assign model`, the default): link up, ping 3/3, a TCP stream the sink
 * counts byte for byte, interrupts rising, no driver trouble, no error
 * counters (tests/testvm/linux_nic.h).  Needs hardware KVM: the test machine,
 *   scripts/run-testvm-suite --only test_linux_nic_model */
#include "tests/testvm/linux_nic.h"

static void test_e1000_assigned_model(void **state)
{
    (void)state;
    linux_nic_check("assigned", "--assign model", true);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1000_assigned_model),
    };
    return cmocka_run_group_tests_name("linux_nic_model", tests, NULL, NULL);
}
