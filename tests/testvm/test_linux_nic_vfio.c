/* Linux's e1000 driver (Debian's stock 6.1 kernel) on QEMU's e1000 of the
 * test machine assigned through VFIO (`--nic assigned --assign vfio:BDF`,
 * BDF = IOVIRT_VFIO_BDF, bound to vfio-pci by the machine's init): link up,
 * ping 3/3 (10.0.2.1 is QEMU's user network, which answers pings itself),
 * a TCP stream counted byte for byte, interrupts rising, no driver trouble,
 * no error counters (tests/testvm/linux_nic.h).  The NIC's wire is QEMU's
 * user network, not iovirt's TAP, so iovirt's sink does not see the stream:
 * scripts/run-testvm-suite gives the machine's NICs a guestfwd, 10.0.2.100:5001
 * -> `wc -c >>build/testvm-suite/linux-nic-vfio-sink` on the build machine
 * (one line per connection), which the test reads through the project tree.
 *   scripts/run-testvm-suite --only test_linux_nic_vfio */
#include "tests/testvm/linux_nic.h"

#define VFIO_SINK_ADDR "10.0.2.100"
#define VFIO_SINK_FILE "build/testvm-suite/linux-nic-vfio-sink"    /* from the project directory (cwd) */

static void test_e1000_assigned_vfio(void **state)
{
    (void)state;
    const char *bdf = getenv("IOVIRT_VFIO_BDF");
    if (!bdf || !*bdf)
        fail_msg("IOVIRT_VFIO_BDF is not set (the test machine sets it)");
    char args[128];
    snprintf(args, sizeof args, "--assign vfio:%s", bdf);
    linux_nic_check_sink("assigned", args, true, VFIO_SINK_ADDR, VFIO_SINK_FILE);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1000_assigned_vfio),
    };
    return cmocka_run_group_tests_name("linux_nic_vfio", tests, NULL, NULL);
}
