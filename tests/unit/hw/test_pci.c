/* hw/pci: config space masks, BAR sizing, MSI capability, mechanism #1 and ECAM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hw/pci/pci_bus.h"

static struct pci_dev make_nic(void)
{
    struct pci_dev d;
    pci_dev__init(&d, 0x8086, 0x100E, 0x020000, 0x03);
    assert_int_equal(pci_dev__add_bar(&d, 0, 0x20000, false, false), 0);
    assert_int_equal(pci_dev__add_bar(&d, 1, 0x40, true, false), 0);
    assert_int_equal(pci_dev__add_bar(&d, 2, 0x4000, false, true), 0);
    assert_true(pci_dev__add_msi(&d, true) > 0);
    pci_dev__set_intx_pin(&d, 1);
    return d;
}

static void test_ids_and_read_only_fields(void **state)
{
    (void)state;
    struct pci_dev d = make_nic();
    assert_int_equal(pci_dev__cfg_read(&d, PCI_VENDOR_ID, 4), 0x100E8086);
    pci_dev__cfg_write(&d, PCI_VENDOR_ID, 4, 0xDEADBEEF);
    pci_dev__cfg_write(&d, PCI_CLASS_PROG, 1, 0x55);
    pci_dev__cfg_write(&d, PCI_CAPABILITY_LIST, 1, PCI_CAPABILITY_LIST);
    pci_dev__cfg_write(&d, PCI_HEADER_TYPE, 1, 0x81);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_VENDOR_ID, 4), 0x100E8086);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_REVISION_ID, 4), 0x02000003);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_CAPABILITY_LIST, 1), 0x40);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_HEADER_TYPE, 1), 0);
    /* A capability's next pointer cannot be rewritten into a loop. */
    pci_dev__cfg_write(&d, 0x40 + PCI_CAP_LIST_NEXT, 1, 0x40);
    assert_int_equal(pci_dev__cfg_read(&d, 0x40 + PCI_CAP_LIST_NEXT, 1), 0);
}

static void test_command_and_status_w1c(void **state)
{
    (void)state;
    struct pci_dev d = make_nic();
    pci_dev__cfg_write(&d, PCI_COMMAND, 2, 0xFFFF);
    assert_int_equal(pci_dev__command(&d), 0x0547);
    d.cfg[PCI_STATUS + 1] = 0x80; /* detected parity error */
    pci_dev__cfg_write(&d, PCI_STATUS, 2, 0x8000);
    assert_int_equal(d.cfg[PCI_STATUS + 1], 0);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
}

static void test_bar_sizing_protocol(void **state)
{
    (void)state;
    struct pci_dev d = make_nic();
    pci_dev__cfg_write(&d, PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_BASE_ADDRESS_0, 4), 0xFFFE0000);
    pci_dev__cfg_write(&d, PCI_BASE_ADDRESS_0 + 4, 4, 0xFFFFFFFF);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_BASE_ADDRESS_0 + 4, 4), 0xFFFFFFC1);
    pci_dev__cfg_write(&d, PCI_BASE_ADDRESS_0 + 8, 4, 0xFFFFFFFF);
    pci_dev__cfg_write(&d, PCI_BASE_ADDRESS_0 + 12, 4, 0xFFFFFFFF);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_BASE_ADDRESS_0 + 8, 4), 0xFFFFC004);
    assert_int_equal(pci_dev__cfg_read(&d, PCI_BASE_ADDRESS_0 + 12, 4), 0xFFFFFFFF);
    /* Unaligned addresses are truncated to the BAR's alignment. */
    pci_dev__cfg_write(&d, PCI_BASE_ADDRESS_0, 4, 0xC0012345);
    assert_int_equal(pci_dev__bar_addr(&d, 0), 0xC0000000);
    pci_dev__set_bar_addr(&d, 2, 0x123400004000ull);
    assert_int_equal(pci_dev__bar_addr(&d, 2), 0x123400004000ull);
    /* Bad BAR declarations are refused. */
    assert_int_equal(pci_dev__add_bar(&d, 3, 0x3000, false, false), -EINVAL);
    assert_int_equal(pci_dev__add_bar(&d, 3, 0x1000, false, false), -EINVAL); /* upper half of BAR2 */
    assert_int_equal(pci_dev__add_bar(&d, 5, 0x1000, false, true), -EINVAL);
}

static void test_msi_capability(void **state)
{
    (void)state;
    struct pci_dev d = make_nic();
    unsigned m = d.msi_cap;
    assert_int_equal(pci_dev__cfg_read(&d, m, 1), PCI_CAP_ID_MSI);
    assert_false(pci_dev__msi_enabled(&d));
    pci_dev__cfg_write(&d, m + PCI_MSI_ADDRESS_LO, 4, 0xFEE00003);
    pci_dev__cfg_write(&d, m + PCI_MSI_ADDRESS_HI, 4, 0);
    pci_dev__cfg_write(&d, m + PCI_MSI_DATA_64, 2, 0x0041);
    pci_dev__cfg_write(&d, m + PCI_MSI_FLAGS, 2, 0xFFFF);
    assert_true(pci_dev__msi_enabled(&d));
    assert_int_equal(pci_dev__msi_address(&d), 0xFEE00000);
    assert_int_equal(pci_dev__msi_data(&d), 0x41);
    /* Only the enable bit is writable in message control. */
    assert_int_equal(pci_dev__cfg_read(&d, m + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT | 1);
}

/* A copied configuration space (an assigned function's view, as QEMU's
 * virtio-net-pci has it: MSI-X at 0x98 -> vendor caps): capabilities read
 * only but for MSI-X enable/mask; a guest writing 0, all-ones or a wrapped
 * value into the control word never changes the table size or location;
 * a capability list that loops (the device's own) is walked boundedly. */
static void test_copied_config_space(void **state)
{
    (void)state;
    uint8_t c[PCI_CFG_SPACE_SIZE] = {0};
    c[0] = 0xF4; c[1] = 0x1A; c[2] = 0x41; c[3] = 0x10;          /* 1af4:1041 */
    c[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    c[PCI_CAPABILITY_LIST] = 0x98;
    c[0x98] = PCI_CAP_ID_MSIX; c[0x99] = 0x84;
    c[0x98 + PCI_MSIX_FLAGS] = 0x03;                              /* 4 entries */
    c[0x98 + PCI_MSIX_TABLE] = 0x01;                              /* BIR 1, offset 0 */
    c[0x98 + PCI_MSIX_PBA] = 0x01; c[0x98 + PCI_MSIX_PBA + 1] = 0x08; /* BIR 1, 0x800 */
    c[0x84] = PCI_CAP_ID_VNDR; c[0x85] = 0x98;                    /* loops back to 0x98 */
    struct pci_dev d;
    pci_dev__init_copy(&d, c);
    assert_int_equal(d.msix_cap, 0x98);
    assert_int_equal(pci_dev__msix_size(&d), 4);
    unsigned bir;
    uint32_t off;
    pci_dev__msix_pba(&d, &bir, &off);
    assert_int_equal(bir, 1);
    assert_int_equal(off, 0x800);
    static const uint32_t writes[] = {0, 0xFFFF, 0x10000 + PCI_MSIX_FLAGS_ENABLE}; /* 0, max, wrapped */
    for (unsigned i = 0; i < 3; i++) {
        pci_dev__cfg_write(&d, 0x98 + PCI_MSIX_FLAGS, 2, writes[i]);
        assert_int_equal(pci_dev__msix_size(&d), 4);
        assert_int_equal(pci_dev__msix_enabled(&d), (writes[i] & PCI_MSIX_FLAGS_ENABLE) != 0);
        assert_int_equal(pci_dev__msix_masked(&d), (writes[i] & 0xFFFF & PCI_MSIX_FLAGS_MASKALL) != 0);
        pci_dev__msix_table(&d, &bir, &off);
        assert_int_equal(bir, 1);
        assert_int_equal(off, 0);
    }
    /* table/PBA location and the list are read-only */
    pci_dev__cfg_write(&d, 0x98 + PCI_MSIX_TABLE, 4, 0xFFFFFFFF);
    pci_dev__cfg_write(&d, 0x85, 1, 0x40);
    pci_dev__msix_table(&d, &bir, &off);
    assert_int_equal(off, 0);
    assert_int_equal(pci_dev__cfg_read(&d, 0x85, 1), 0x98);
    assert_int_equal(pci_dev__cfg_read(&d, 0, 4), 0x10411AF4);
}

static void test_bad_access_sizes(void **state)
{
    (void)state;
    struct pci_dev d = make_nic();
    assert_int_equal(pci_dev__cfg_read(&d, 0x3, 2), 0xFFFFFFFF);  /* crosses dword */
    assert_int_equal(pci_dev__cfg_read(&d, 0x100, 4), 0xFFFFFFFF); /* beyond 256 */
    assert_int_equal(pci_dev__cfg_read(&d, 0x0, 3), 0xFFFFFFFF);
    pci_dev__cfg_write(&d, PCI_COMMAND + 1, 4, 0xFFFFFFFF);        /* ignored */
    assert_int_equal(pci_dev__command(&d), 0);
}

static void test_mechanism1_and_ecam(void **state)
{
    (void)state;
    struct pci_bus bus;
    struct pci_dev d = make_nic();
    pci_bus__init(&bus);
    assert_int_equal(pci_bus__attach(&bus, 2, &d), 0);
    assert_int_equal(pci_bus__attach(&bus, 2, &d), -EBUSY);
    assert_int_equal(pci_bus__attach(&bus, 32, &d), -EINVAL);

    uint32_t v = PCI_CONFIG_ADDRESS_ENABLE | (2u << 11);
    assert_true(pci_bus__pio(&bus, 0xCF8, 4, true, &v));
    assert_true(pci_bus__pio(&bus, 0xCFC, 4, false, &v));
    assert_int_equal(v, 0x100E8086);
    assert_true(pci_bus__pio(&bus, 0xCFE, 2, false, &v));
    assert_int_equal(v, 0x100E);
    /* Empty slot and disabled address read all-ones. */
    v = PCI_CONFIG_ADDRESS_ENABLE | (3u << 11);
    pci_bus__pio(&bus, 0xCF8, 4, true, &v);
    pci_bus__pio(&bus, 0xCFC, 4, false, &v);
    assert_int_equal(v, 0xFFFFFFFF);
    v = 2u << 11;
    pci_bus__pio(&bus, 0xCF8, 4, true, &v);
    pci_bus__pio(&bus, 0xCFC, 4, false, &v);
    assert_int_equal(v, 0xFFFFFFFF);
    assert_false(pci_bus__pio(&bus, 0x3F8, 1, false, &v));

    /* ECAM: bus 0, device 2, command register. */
    uint64_t base = 2u << 15;
    pci_bus_ecam_ops.write(&bus, base + PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(pci_dev__command(&d), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(pci_bus_ecam_ops.read(&bus, base, 4), 0x100E8086);
    assert_int_equal(pci_bus_ecam_ops.read(&bus, base + 0x100, 4), 0xFFFFFFFF);
    assert_int_equal(pci_bus_ecam_ops.read(&bus, 1u << 12, 4), 0xFFFFFFFF); /* function 1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_read_only_fields),
        cmocka_unit_test(test_command_and_status_w1c),
        cmocka_unit_test(test_bar_sizing_protocol),
        cmocka_unit_test(test_msi_capability),
        cmocka_unit_test(test_copied_config_space),
        cmocka_unit_test(test_bad_access_sizes),
        cmocka_unit_test(test_mechanism1_and_ecam),
    };
    return cmocka_run_group_tests_name("hw/pci", tests, NULL, NULL);
}
