/* Device abuse by a guest (issue 8): configuration space (move BAR0 onto
 * RAM / the HPET / the interrupt window, toggle decode, write read-only and
 * reserved fields, loop the capability list) and e1000 ring registers
 * (length 0, not a multiple of 128, beyond RAM, TDT beyond the ring, TDT
 * racing TDH), on the assigned and the emulated NIC.  Host-side evidence:
 * the physical NIC's configuration space is unchanged except the bits the
 * hypervisor forwards, the models count ring errors, DMA beyond RAM faults,
 * canaries hold, the VM keeps running to a clean power-off.  And virtio-net
 * abuse (loops, bad indexes, 0 / 4 GiB lengths, idx jumps): the device
 * marks itself DEVICE_NEEDS_RESET and works again after a reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"
#include "hw/pci/pci_dev.h"
#include "hw/vtd/vtd_regs.h"
#include "tests/integration/attack_util.h"

static struct atk *start(enum testbed_mode mode, const char *cmdline)
{
    struct atk *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(atk__setup(a, mode, cmdline), 0);
    assert_int_equal(atk__canary_alloc(a), 0);
    return a;
}

static void run_contained(struct atk *a, const char *name)
{
    assert_int_equal(atk__canary_alloc(a), 0);
    int rc = testbed__run(&a->t);
    if (rc || a->t.vm.exit_status)
        fprintf(stderr, "%s", a->con.buf);
    assert_int_equal(rc, 0);
    assert_int_equal(a->t.vm.exit_status, 0);
    char want[64];
    snprintf(want, sizeof want, "ATTACK %s: contained", name);
    assert_non_null(strstr(a->con.buf, want));
    assert_int_equal(atk__canary_changed(a), -1);
}

static void finish(struct atk *a)
{
    atk__teardown(a);
    free(a);
}

/* Offsets of the physical function the hypervisor may write on the
 * guest's behalf: command (decode / bus master), status, the MSI capability. */
static bool forwarded(const struct pci_dev *phys, unsigned off)
{
    return (off >= 0x04 && off < 0x08) || (phys->msi_cap && off >= phys->msi_cap && off < phys->msi_cap + 24u);
}

static void test_cfg_assigned(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_ASSIGNED, "attack cfg");
    uint8_t before[PCI_CFG_SPACE_SIZE];
    memcpy(before, a->t.plat.nic_pci.cfg, sizeof before);
    assert_int_equal(atk__bystander(a, 300), 0);
    run_contained(a, "cfg");
    assert_int_equal(atk__bystander_join(a), 0);
    const uint8_t *after = a->t.plat.nic_pci.cfg;
    for (unsigned off = 0; off < PCI_CFG_SPACE_SIZE; off++)
        if (!forwarded(&a->t.plat.nic_pci, off) && before[off] != after[off]) {
            fprintf(stderr, "physical config byte 0x%x changed: 0x%x -> 0x%x\n", off, before[off], after[off]);
            fail();
        }
    /* the guest's view kept its IDs and capability chain too */
    assert_non_null(strstr(a->con.buf, "IDs 0x100e8086 -> 0x100e8086"));
    assert_non_null(strstr(a->con.buf, "1024/1024 words of the page still read as my RAM"));
    assert_non_null(strstr(a->con.buf, "device still answers"));
    finish(a);
}

static void test_cfg_emulated(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_EMULATED, "attack cfg");
    run_contained(a, "cfg");
    const uint8_t *cfg = a->t.vm.e1000->pci.cfg;
    assert_int_equal(cfg[0] | cfg[1] << 8, E1000_PCI_VENDOR_INTEL);
    assert_int_equal(cfg[2] | cfg[3] << 8, E1000_PCI_DEV_82540EM);
    assert_non_null(strstr(a->con.buf, "device still answers"));
    finish(a);
}

static void test_rings_emulated(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_EMULATED, "attack e1000_rings");
    run_contained(a, "e1000_rings");
    struct e1000_diag d;
    e1000__get_diag(a->t.vm.e1000->nic, &d);
    assert_true(d.ring_errors > 0);               /* bad rings refused and counted */
    assert_true(d.tx_dma_errors > 0);             /* the ring beyond RAM */
    assert_non_null(strstr(a->con.buf, "control: sane ring, TX status 0x1, frames transmitted 1"));
    finish(a);
}

static void test_rings_assigned(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_ASSIGNED, "attack e1000_rings");
    assert_int_equal(atk__bystander(a, 300), 0);
    uint64_t host_irqs = intc__count(a->t.plat.intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR);
    run_contained(a, "e1000_rings");
    assert_int_equal(atk__bystander_join(a), 0);
    struct e1000_diag d;
    e1000__get_diag(e1000_nic__model(a->t.plat.nic), &d);
    assert_true(d.ring_errors > 0);
    assert_true(d.tx_dma_errors > 0);
    assert_true(host_os__faults_total(&a->t.host) > 0);
    assert_int_equal(intc__count(a->t.plat.intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR), host_irqs);
    /* every fault recorded is the NIC reading just beyond the guest's RAM */
    struct host_vtd_fault f[HOST_OS_FAULT_LOG];
    unsigned n = host_os__faults(&a->t.host, f, HOST_OS_FAULT_LOG);
    assert_true(n > 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(f[i].reason, VTD_FR_READ);
        assert_true(f[i].addr >= (1ull << 20) + (64ull << 20));
        assert_true(f[i].addr < (1ull << 20) + (64ull << 20) + 0x80000);
    }
    finish(a);
}

/* The guest clears Bus Master Enable on its assigned NIC: the physical NIC
 * (its command register forwarded) fetches no descriptor and sends nothing
 * until the guest sets it again; then exactly the one frame goes out, and
 * nothing faulted. */
static void test_bme_off_assigned(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_ASSIGNED, "attack bme_off");
    struct e1000_nic_stats before, after;
    e1000_nic__get_stats(a->t.plat.nic, &before);
    run_contained(a, "bme_off");
    e1000_nic__get_stats(a->t.plat.nic, &after);
    assert_non_null(strstr(a->con.buf, "bus mastering off: TDH 0, descriptor status 0x0, frames transmitted 0"));
    assert_non_null(strstr(a->con.buf, "bus mastering on again: TDH 1, descriptor status 0x1, frames transmitted 1"));
    assert_int_equal(after.tx_frames - before.tx_frames, 1);
    assert_int_equal(host_os__faults_total(&a->t.host), 0);
    finish(a);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_virtio_abuse(void **s)
{
    (void)s;
    struct atk *a = start(TESTBED_VIRTIO, "attack virtio");
    assert_int_equal(atk__bystander(a, 300), 0);
    run_contained(a, "virtio");
    assert_int_equal(atk__bystander_join(a), 0);
    /* loop, head out of range, next out of range, idx jump, 4 GiB length,
     * buffer beyond RAM: each marks the device broken; length 0 is used */
    assert_int_equal(count(a->con.buf, "DEVICE_NEEDS_RESET: the device declared itself broken"), 6);
    assert_non_null(strstr(a->con.buf, "after reset: status 0xf (device usable again)"));
    finish(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_assigned),   cmocka_unit_test(test_cfg_emulated),
        cmocka_unit_test(test_rings_emulated), cmocka_unit_test(test_rings_assigned),
        cmocka_unit_test(test_virtio_abuse),   cmocka_unit_test(test_bme_off_assigned),
    };
    return cmocka_run_group_tests_name("attack_dev", tests, NULL, NULL);
}
