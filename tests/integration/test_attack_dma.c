/* Attack guests on the assigned NIC (issue 8, docs/security.md): DMA
 * outside guest RAM, at host addresses, into the interrupt window, and MSI
 * spoofing.  Host-side evidence: VT-d fault records with address and
 * reason, canary pages byte for byte (fresh host pages, the pages whose HPA
 * equals an attacked address, a bystander VM's RAM, the root table), the
 * host NIC vector's interrupt count, and a bystander VM that still exits 0. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hw/vtd/vtd_regs.h"
#include "tests/integration/attack_util.h"

#define RAM_END ((1ull << 20) + (64ull << 20))
static const uint64_t dflt[] = {RAM_END + (1u << 20), 0x3F000000ull, 0x1000ull, 0xFEE00000ull, 1ull << 50};

static bool in_vm_ram(struct hv_vm *vm, uint64_t hpa)
{
    for (uint64_t i = 0; vm->mem.hpa && i < vm->mem.nr_extents; i++)
        if (hpa >= vm->mem.hpa[i] && hpa < vm->mem.hpa[i] + GUEST_MEM_EXTENT)
            return true;
    return false;
}

struct run {
    struct atk *a;
    uint64_t host_nic_irqs;
};

static void start(struct run *r, const char *cmdline)
{
    r->a = calloc(1, sizeof(*r->a));
    assert_non_null(r->a);
    assert_int_equal(atk__setup(r->a, TESTBED_ASSIGNED, cmdline), 0);
    assert_int_equal(atk__bystander(r->a, 700), 0);
    assert_int_equal(atk__canary_alloc(r->a), 0);
}

/* Pages whose HPA equals an attacked GPA (unless RAM of a VM: those are
 * written legitimately) must not change either. */
static void hpa_canaries(struct run *r, const uint64_t *addr, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t p = addr[i] & ~0xFFFull;
        if (physmem__range_ok(&r->a->t.plat.pm, p, PHYSMEM_PAGE_4K) && !in_vm_ram(&r->a->t.vm, p) &&
            !in_vm_ram(&r->a->vm2, p))
            assert_int_equal(atk__canary(r->a, p, PHYSMEM_PAGE_4K, false), 0);
    }
}

static void run_and_check(struct run *r, const char *name)
{
    struct atk *a = r->a;
    assert_int_equal(atk__canary_alloc(a), 0);
    uint64_t rta = mmio__read64(&a->t.host.vtd_win, VTD_REG_RTADDR) & VTD_RTADDR_RTA_MASK;
    assert_int_equal(atk__canary(a, rta, PHYSMEM_PAGE_4K, false), 0);
    r->host_nic_irqs = intc__count(a->t.plat.intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR);
    int rc = testbed__run(&a->t);
    if (rc || a->t.vm.exit_status)
        fprintf(stderr, "%s", a->con.buf);
    assert_int_equal(rc, 0);
    assert_int_equal(a->t.vm.exit_status, 0);
    char want[96];
    snprintf(want, sizeof want, "ATTACK %s: contained", name);
    assert_non_null(strstr(a->con.buf, want));
    assert_non_null(strstr(a->con.buf, "trying"));
    assert_int_equal(atk__bystander_join(a), 0);
    assert_int_equal(atk__canary_changed(a), -1);
    assert_int_equal(intc__count(a->t.plat.intc, HOST_OS_CPU, HOST_OS_NIC_VECTOR), r->host_nic_irqs);
}

static void finish(struct run *r)
{
    atk__teardown(r->a);
    free(r->a);
}

static void test_dma_tx_outside_ram(void **state)
{
    (void)state;
    struct run r;
    start(&r, "attack dma_tx");
    hpa_canaries(&r, dflt, 5);
    struct vtd_stats st0, st1;
    vtd__get_stats(r.a->t.plat.vtd, &st0);
    run_and_check(&r, "dma_tx");
    for (unsigned i = 0; i < 3; i++)
        assert_true(atk__faults(r.a, dflt[i], VTD_FR_READ, false) >= 1);
    /* a read of the interrupt window is an Unsupported Request (VT-d 3.14):
     * refused without translation, so no remapping fault */
    assert_int_equal(atk__faults(r.a, dflt[3], VTD_FR_READ, false), 0);
    vtd__get_stats(r.a->t.plat.vtd, &st1);
    assert_true(st1.intr_window_ur > st0.intr_window_ur);
    assert_true(atk__faults(r.a, dflt[4], VTD_FR_ADDR_BEYOND_MGAW, false) >= 1);
    finish(&r);
}

static void test_dma_rx_outside_ram(void **state)
{
    (void)state;
    struct run r;
    start(&r, "attack dma_rx");
    hpa_canaries(&r, dflt, 5);
    struct vtd_stats st0, st1;
    vtd__get_stats(r.a->t.plat.vtd, &st0);
    run_and_check(&r, "dma_rx");
    for (unsigned i = 0; i < 3; i++)
        assert_true(atk__faults(r.a, dflt[i], VTD_FR_WRITE, true) >= 1);
    /* a whole frame into the interrupt window is not a DWORD write: an
     * Unsupported Request (VT-d 3.14), no remapping fault, ring stuck */
    assert_int_equal(atk__faults(r.a, dflt[3], VTD_FR_WRITE, true), 0);
    vtd__get_stats(r.a->t.plat.vtd, &st1);
    assert_true(st1.intr_window_ur > st0.intr_window_ur);
    assert_true(atk__faults(r.a, dflt[4], VTD_FR_ADDR_BEYOND_MGAW, true) >= 1);
    finish(&r);
}

static void test_dma_ring_outside_ram(void **state)
{
    (void)state;
    struct run r;
    start(&r, "attack dma_ring 0x4200000 0x3f000000");
    const uint64_t rings[] = {dflt[0], dflt[1], dflt[0] + 0x10000, dflt[1] + 0x10000};
    hpa_canaries(&r, rings, 4);
    run_and_check(&r, "dma_ring");
    /* TX ring fetches at ADDR, RX ring (descriptor read) at ADDR + 64 KiB */
    for (unsigned i = 0; i < 2; i++) {
        assert_true(atk__faults(r.a, dflt[i], VTD_FR_READ, false) >= 1);
        assert_true(atk__faults(r.a, dflt[i] + 0x10000, VTD_FR_READ, false) >= 1);
    }
    finish(&r);
}

/* GPAs equal to host addresses of the root table, bus 0's context table
 * and the bystander's RAM: the VM is re-created with them on its command
 * line once they are known. */
static void test_dma_at_host_addresses(void **state)
{
    (void)state;
    struct run r;
    start(&r, "hello");
    struct atk *a = r.a;
    uint64_t rta = mmio__read64(&a->t.host.vtd_win, VTD_REG_RTADDR) & VTD_RTADDR_RTA_MASK;
    struct guest_mem *m2 = &a->vm2.mem;
    uint64_t other = m2->hpa[m2->nr_extents - 1] + GUEST_MEM_EXTENT - PHYSMEM_PAGE_4K;
    /* bus 0's context table (root entry 0, VT-d 9.1: bit 0 present, 63:12) */
    uint64_t re;
    assert_int_equal(physmem__read(&a->t.plat.pm, rta, &re, sizeof re), 0);
    assert_true(re & 1);
    uint64_t ctp = re & ~0xFFFull;
    /* plus 0x3000000: a GPA inside the attacker's own RAM (and an HPA) */
    snprintf(a->cmd, sizeof a->cmd, "attack dma_hpa 0x%llx 0x%llx 0x%llx 0x%llx 0x3000000",
             (unsigned long long)rta, (unsigned long long)ctp, (unsigned long long)other,
             (unsigned long long)m2->hpa[0]);
    const uint64_t targets[] = {rta, ctp, other, m2->hpa[0], 0x3000000ull};
    hpa_canaries(&r, targets, 5);
    struct hv_vm_config vc = a->t.vm.cfg;
    hv_vm__destroy(&a->t.vm);
    a->t.vm_up = false;
    vc.cmdline = a->cmd;
    assert_int_equal(hv_vm__create(&a->t.vm, &vc), 0);
    a->t.vm_up = true;
    run_and_check(&r, "dma_hpa");
    if (getenv("ATK_VERBOSE"))
        fprintf(stderr, "%s", a->con.buf);
    /* each target either faulted or was a GPA of the attacker's own RAM */
    const uint64_t tg[] = {rta, ctp, other, m2->hpa[0]};
    for (unsigned i = 0; i < 4; i++) {
        bool own = tg[i] >= (1ull << 20) && tg[i] < RAM_END;
        if (!own)
            assert_true(atk__faults(a, tg[i], VTD_FR_WRITE, true) >= 1);
    }
    assert_non_null(strstr(a->con.buf, "0x3000000 is my own GPA: write landed in my own page"));
    finish(&r);
}

/* A host vector the guest has no business raising: a stand-in for a host
 * device's interrupt, counted by its handler. */
#define VICTIM_VECTOR 0x61
#define OTHER_SID     PCI_BDF(0, 3, 0) /* a host device that is not the NIC */

static void victim_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    __atomic_add_fetch((uint64_t *)ctx, 1, __ATOMIC_RELAXED);
}

/* Interrupt remapping on (the default): the RX tail's DWORD write into the
 * window is an interrupt request (VT-d 3.14) and goes through interrupt
 * remapping (5.1.4): compatibility format is blocked as CFIS is clear
 * (0x25), a remappable one naming another device's IRTE fails source-id
 * verification (0x26), one naming no IRTE faults 0x22.  The victim vector
 * never fires.  The illegal requests (a read, a 60-byte write) are refused
 * as Unsupported Requests without a remapping fault. */
static void test_dma_into_interrupt_window(void **state)
{
    (void)state;
    struct run r;
    start(&r, "hello");
    struct atk *a = r.a;
    uint64_t hits = 0;
    assert_int_equal(intc__register(a->t.plat.intc, HOST_OS_CPU, VICTIM_VECTOR, victim_irq, &hits), 0);
    uint16_t other;
    assert_int_equal(host_vtd__irte_alloc(a->t.host.iommu, &other), 0);
    assert_int_equal(host_vtd__irte_set(a->t.host.iommu, other, VICTIM_VECTOR, HOST_OS_CPU, OTHER_SID), 0);
    snprintf(a->cmd, sizeof a->cmd, "attack dma_msi %#x %u 200", VICTIM_VECTOR, other);
    struct hv_vm_config vc = a->t.vm.cfg;
    hv_vm__destroy(&a->t.vm);
    a->t.vm_up = false;
    vc.cmdline = a->cmd;
    assert_int_equal(hv_vm__create(&a->t.vm, &vc), 0);
    a->t.vm_up = true;
    struct vtd_stats st0, st1;
    vtd__get_stats(a->t.plat.vtd, &st0);
    run_and_check(&r, "dma_msi");
    if (getenv("ATK_VERBOSE"))
        fprintf(stderr, "%s", a->con.buf);
    vtd__get_stats(a->t.plat.vtd, &st1);
    assert_true(atk__ir_faults(a, VTD_FR_IR_REQ_COMPAT, ATK_ANY_INDEX) >= 1);
    assert_true(atk__ir_faults(a, VTD_FR_IR_SID_ERR, other) >= 1);
    assert_true(atk__ir_faults(a, VTD_FR_IR_ENTRY_P, 200) >= 1);
    assert_true(st1.intr_window_requests - st0.intr_window_requests >= 3);
    assert_true(st1.intr_window_ur - st0.intr_window_ur >= 2);
    assert_int_equal(atk__faults(a, 0xFEE00000ull, VTD_FR_READ, false), 0);
    assert_int_equal(atk__faults(a, 0xFEE40000ull, VTD_FR_WRITE, true), 0);
    assert_int_equal(__atomic_load_n(&hits, __ATOMIC_RELAXED), 0);
    intc__unregister(a->t.plat.intc, HOST_OS_CPU, VICTIM_VECTOR);
    host_vtd__irte_free(a->t.host.iommu, other);
    finish(&r);
}

/* The other side: the host runs without interrupt remapping and the user
 * passed --allow-unsafe-interrupts.  The same attack now raises the host
 * vector the guest chose -- the attack works, so the test above can fail. */
static void test_dma_msi_works_without_interrupt_remapping(void **state)
{
    (void)state;
    struct atk *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(atk__setup_flags(a, TESTBED_ASSIGNED, "attack dma_msi 0x61", ATK_NO_IR | ATK_UNSAFE), 0);
    assert_false(a->t.host.ir);
    uint64_t hits = 0;
    assert_int_equal(intc__register(a->t.plat.intc, HOST_OS_CPU, VICTIM_VECTOR, victim_irq, &hits), 0);
    int rc = testbed__run(&a->t);
    if (rc || a->t.vm.exit_status || getenv("ATK_VERBOSE"))
        fprintf(stderr, "%s", a->con.buf);
    assert_int_equal(rc, 0);
    assert_int_equal(a->t.vm.exit_status, 0);
    assert_non_null(strstr(a->con.buf, "completed the 4-byte write to 0xfee00000"));
    assert_true(__atomic_load_n(&hits, __ATOMIC_RELAXED) >= 1);
    assert_int_equal(atk__ir_faults(a, VTD_FR_IR_REQ_COMPAT, ATK_ANY_INDEX), 0);
    intc__unregister(a->t.plat.intc, HOST_OS_CPU, VICTIM_VECTOR);
    atk__teardown(a);
    free(a);
}

/* Without interrupt remapping and without the flag, assignment is refused
 * before the host lets go of the NIC. */
static void test_assign_refused_without_interrupt_remapping(void **state)
{
    (void)state;
    struct atk *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(atk__setup_flags(a, TESTBED_ASSIGNED, "hello", ATK_NO_IR), -EPERM);
    free(a);
}

static void test_msi_spoof(void **state)
{
    (void)state;
    struct run r;
    start(&r, "attack msi_spoof");
    run_and_check(&r, "msi_spoof");
    /* the spoofed messages reached the guest only: vector 0x40 in its own
     * IDT, the NMI and non-0xFEE messages refused by the virtual MSI */
    assert_non_null(strstr(r.a->con.buf, "1 interrupt(s) on vector 0x40 of my own IDT"));
    assert_true(r.a->t.vm.irq.refused >= 2);
    finish(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dma_tx_outside_ram),   cmocka_unit_test(test_dma_rx_outside_ram),
        cmocka_unit_test(test_dma_ring_outside_ram), cmocka_unit_test(test_dma_at_host_addresses),
        cmocka_unit_test(test_dma_into_interrupt_window),
        cmocka_unit_test(test_dma_msi_works_without_interrupt_remapping),
        cmocka_unit_test(test_assign_refused_without_interrupt_remapping), cmocka_unit_test(test_msi_spoof),
    };
    return cmocka_run_group_tests_name("attack_dma", tests, NULL, NULL);
}
