/* host/vtd interrupt remapping against the hw/vtd model: IRTE allocation,
 * remappable MSI composition, source-id verification, unallocated and
 * freed handles, interrupt entry cache invalidation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/vtd/vtd_regs.h"
#include "vtd_fixture.h"

#define SID_NIC 0x0300 /* 03:00.0 */

static int setup_fx(void **state)
{
    struct fixture *fx = fixture_new(16ull << 20, NULL, NULL, false);
    assert_non_null(fx);
    assert_int_equal(host_vtd__ir_enable(fx->h, 256), 0);
    *state = fx;
    return 0;
}

static int teardown_fx(void **state)
{
    fixture_free(*state);
    return 0;
}

static void expect_ir_fault(struct fixture *fx, uint8_t reason, uint16_t sid, uint16_t index)
{
    struct host_vtd_fault f[2];
    assert_int_equal(host_vtd__read_faults(fx->h, f, 2, NULL), 1);
    assert_true(f[0].is_ir);
    assert_int_equal(f[0].reason, reason);
    assert_int_equal(f[0].sid, sid);
    assert_int_equal(f[0].ir_index, index);
    assert_string_equal(f[0].reason_name, host_vtd__fault_reason_name(reason));
}

static void test_irte_remaps_msi(void **state)
{
    struct fixture *fx = *state;
    uint16_t h1, h2;
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h1), 0);
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h2), 0);
    assert_int_not_equal(h1, h2);
    assert_int_equal(host_vtd__irte_set(fx->h, h2, 0x41, 3, SID_NIC), 0);

    uint64_t addr;
    uint32_t data;
    host_vtd__irte_msi(h2, &addr, &data);
    assert_int_equal(addr & VTD_MSI_ADDR_WINDOW_MASK, VTD_MSI_ADDR_BASE);
    assert_true(addr & VTD_MSI_ADDR_IF);
    assert_int_equal(vtd_msi_handle(addr), h2);

    struct vtd_msi m;
    memset(&m, 0, sizeof m);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), 0);
    assert_int_equal(m.vector, 0x41);
    assert_int_equal(m.dest, 3);
    assert_false(m.dest_logical);
    assert_false(m.level);
    assert_int_equal(m.delivery_mode, 0);

    /* Reprogrammed: the cached entry was invalidated, new vector seen. */
    assert_int_equal(host_vtd__irte_set(fx->h, h2, 0x52, 7, SID_NIC), 0);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), 0);
    assert_int_equal(m.vector, 0x52);
    assert_int_equal(m.dest, 7);
}

static void test_wrong_sid_refused(void **state)
{
    struct fixture *fx = *state;
    uint16_t h;
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h), 0);
    assert_int_equal(host_vtd__irte_set(fx->h, h, 0x30, 0, SID_NIC), 0);
    uint64_t addr;
    uint32_t data;
    host_vtd__irte_msi(h, &addr, &data);
    struct vtd_msi m;
    /* A neighbouring function forging the NIC's interrupt. */
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC + 1, addr, data, &m), -0x26);
    expect_ir_fault(fx, 0x26, SID_NIC + 1, h);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), 0);
}

static void test_unallocated_and_freed_handles_refused(void **state)
{
    struct fixture *fx = *state;
    uint16_t h;
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h), 0);
    assert_int_equal(host_vtd__irte_set(fx->h, h, 0x30, 0, SID_NIC), 0);
    uint64_t addr;
    uint32_t data;
    struct vtd_msi m;

    /* Never allocated: not present. */
    host_vtd__irte_msi((uint16_t)(h + 5), &addr, &data);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), -0x22);
    expect_ir_fault(fx, 0x22, SID_NIC, (uint16_t)(h + 5));
    /* Beyond the table (256 entries). */
    host_vtd__irte_msi(300, &addr, &data);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), -0x21);
    expect_ir_fault(fx, 0x21, SID_NIC, 300);

    /* Used once (cached), then freed: refused from then on. */
    host_vtd__irte_msi(h, &addr, &data);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), 0);
    assert_int_equal(host_vtd__irte_free(fx->h, h), 0);
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), -0x22);
    expect_ir_fault(fx, 0x22, SID_NIC, h);

    /* The driver refuses handles it did not hand out. */
    assert_int_equal(host_vtd__irte_set(fx->h, h, 0x30, 0, SID_NIC), -EINVAL);
    assert_int_equal(host_vtd__irte_free(fx->h, h), -EINVAL);
    assert_int_equal(host_vtd__irte_set(fx->h, 9999, 0x30, 0, SID_NIC), -EINVAL);
    /* Freed handles are reused. */
    uint16_t again;
    assert_int_equal(host_vtd__irte_alloc(fx->h, &again), 0);
    assert_int_equal(again, h);
}

static void test_compatibility_format_blocked(void **state)
{
    struct fixture *fx = *state;
    struct vtd_msi m;
    /* A plain (compatibility-format) MSI to APIC 0, vector 0x40. */
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, VTD_MSI_ADDR_BASE, 0x40, &m), -0x25);
    expect_ir_fault(fx, 0x25, SID_NIC, 0);
}

static void test_table_exhaustion(void **state)
{
    struct fixture *fx = *state;
    uint16_t h;
    for (unsigned i = 0; i < 256; i++)
        assert_int_equal(host_vtd__irte_alloc(fx->h, &h), 0);
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h), -ENOSPC);
}

static void test_msi_handle_encoding(void **state)
{
    (void)state;
    uint64_t addr;
    uint32_t data;
    host_vtd__irte_msi(0x8001, &addr, &data);
    assert_true(addr & VTD_MSI_ADDR_HANDLE_15);
    assert_false(addr & VTD_MSI_ADDR_SHV);
    assert_int_equal(vtd_msi_handle(addr), 0x8001);
    assert_int_equal(data, 0);
}

static void test_ir_needs_qi_and_valid_size(void **state)
{
    (void)state;
    struct host_vtd_options o = { .no_qi = true };
    struct fixture *fx = fixture_new(16ull << 20, NULL, &o, false);
    assert_non_null(fx);
    assert_int_equal(host_vtd__ir_enable(fx->h, 256), -ENOTSUP);
    uint16_t h;
    assert_int_equal(host_vtd__irte_alloc(fx->h, &h), -ENODEV);
    fixture_free(fx);

    fx = fixture_new(16ull << 20, NULL, NULL, false);
    assert_non_null(fx);
    assert_int_equal(host_vtd__ir_enable(fx->h, 100), -EINVAL);
    assert_int_equal(host_vtd__ir_enable(fx->h, 1u << 17), -EINVAL);
    /* A table bigger than one page (4096 entries = 64 KiB). */
    assert_int_equal(host_vtd__ir_enable(fx->h, 4096), 0);
    assert_int_equal(host_vtd__ir_enable(fx->h, 4096), -EBUSY);
    for (unsigned i = 0; i < 3000; i++)
        assert_int_equal(host_vtd__irte_alloc(fx->h, &h), 0);
    assert_int_equal(host_vtd__irte_set(fx->h, h, 0x99, 1, SID_NIC), 0);
    uint64_t addr;
    uint32_t data;
    host_vtd__irte_msi(h, &addr, &data);
    struct vtd_msi m;
    assert_int_equal(vtd__remap_msi(fx->v, SID_NIC, addr, data, &m), 0);
    assert_int_equal(m.vector, 0x99);
    fixture_free(fx);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_fx, teardown_fx)

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        T(test_irte_remaps_msi),
        T(test_wrong_sid_refused),
        T(test_unallocated_and_freed_handles_refused),
        T(test_compatibility_format_blocked),
        T(test_table_exhaustion),
        cmocka_unit_test(test_msi_handle_encoding),
        cmocka_unit_test(test_ir_needs_qi_and_valid_size),
    };
    return cmocka_run_group_tests_name("host_vtd_ir", tests, NULL, NULL);
}
