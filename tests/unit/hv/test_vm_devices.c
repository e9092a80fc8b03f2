/* hv/vm: the fixed devices are wired where the guest looks for them: PCI
 * configuration through mechanism #1 and through ECAM reach the same
 * configuration space, the NIC's BAR window follows the command register,
 * and the power-off port ends the VM with the guest's status. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hv/vm.h"
#include "lib/log.h"
#include "tests/integration/integ.h"

/* Play an exit as the vCPU would report it and dispatch it. */
static uint64_t play(struct hv_vm *vm, bool mmio, uint64_t addr, unsigned len, bool wr, uint64_t val)
{
    struct vcpu_exit *e = &vm->vcpu.exit;
    memset(e, 0, sizeof(*e));
    if (mmio) {
        e->reason = VCPU_EXIT_MMIO;
        e->mmio.addr = addr, e->mmio.data = val, e->mmio.len = (uint8_t)len, e->mmio.is_write = wr;
    } else {
        e->reason = VCPU_EXIT_PIO;
        e->pio.port = (uint16_t)addr, e->pio.data = (uint32_t)val, e->pio.len = (uint8_t)len;
        e->pio.is_write = wr;
    }
    assert_true(vcpu_traps__dispatch(&vm->traps, &vm->vcpu));
    return mmio ? e->mmio.data : e->pio.data;
}

static void test_config_space_and_bars(void **state)
{
    (void)state;
    log__set_quiet(1);
    char kernel[PATH_MAX + 64];
    integ__kernel(kernel, sizeof kernel);
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 256ull << 20), 0);
    struct bridge br;
    bridge__init(&br, NULL, NULL);
    struct hv_vm *vm = calloc(1, sizeof(*vm));
    struct hv_vm_config cfg = {.name = "t", .pm = &pm, .mem_bytes = 32ull << 20, .kernel_path = kernel,
                               .cmdline = "hello", .nic = HV_NIC_EMULATED, .bridge = &br,
                               .mac = {0x52, 0x54, 0, 0, 0, 9}};
    assert_int_equal(hv_vm__create(vm, &cfg), 0);

    /* Host bridge at 00:00.0 and the NIC at 00:02.0, both ways. */
    play(vm, false, 0xCF8, 4, true, 0x80000000u);
    assert_int_equal(play(vm, false, 0xCFC, 4, false, 0), 0x12378086);
    assert_int_equal(play(vm, true, PLATFORM_PCI_ECAM_BASE, 4, false, 0), 0x12378086);
    uint64_t nic = PLATFORM_PCI_ECAM_BASE + ((uint64_t)HV_NIC_SLOT << 15);
    assert_int_equal(play(vm, true, nic, 4, false, 0), 0x100E8086);
    assert_int_equal(play(vm, true, nic + PCI_BASE_ADDRESS_0, 4, false, 0), PLATFORM_PCI_MMIO_BASE);

    /* BAR0 decodes only once the guest enables memory decode. */
    uint64_t status = PLATFORM_PCI_MMIO_BASE + 0x8; /* e1000 STATUS */
    assert_int_equal(play(vm, true, status, 4, false, 0), 0xFFFFFFFF);
    play(vm, true, nic + PCI_COMMAND, 2, true, PCI_COMMAND_MEMORY);
    assert_true(play(vm, true, status, 4, false, 0) != 0xFFFFFFFF);
    /* ... and follows a BAR move made through mechanism #1. */
    play(vm, false, 0xCF8, 4, true, 0x80000000u | (HV_NIC_SLOT << 11) | PCI_BASE_ADDRESS_0);
    play(vm, false, 0xCFC, 4, true, PLATFORM_PCI_MMIO_BASE + 0x100000);
    assert_int_equal(play(vm, true, status, 4, false, 0), 0xFFFFFFFF);
    assert_true(play(vm, true, status + 0x100000, 4, false, 0) != 0xFFFFFFFF);

    /* A BAR moved onto the I/O APIC or the interrupt window does not decode
     * there (the in-kernel I/O APIC would shadow it; the MSI window is the
     * platform's). */
    play(vm, false, 0xCFC, 4, true, (uint32_t)PLATFORM_IOAPIC_BASE);
    assert_int_equal(play(vm, true, PLATFORM_IOAPIC_BASE + 8, 4, false, 0), 0xFFFFFFFF);
    play(vm, false, 0xCFC, 4, true, (uint32_t)PLATFORM_MSI_WINDOW_BASE);
    assert_int_equal(play(vm, true, PLATFORM_MSI_WINDOW_BASE + 8, 4, false, 0), 0xFFFFFFFF);
    play(vm, false, 0xCFC, 4, true, PLATFORM_PCI_MMIO_BASE);
    assert_true(play(vm, true, status, 4, false, 0) != 0xFFFFFFFF);

    /* Ports nobody claims (what Linux probes: COM2-4, POST 0x80, VGA,
     * parallel) read all-ones at every width, drop writes, are counted,
     * and the VM carries on. */
    static const uint16_t probed[] = {0x2F8, 0x3E8, 0x2E8, 0x80, 0x3C0, 0x3DF, 0x378, 0x87, 0xED, 0xFFFF};
    uint64_t r0 = vm->traps.unclaimed_reads, w0 = vm->traps.unclaimed_writes;
    for (unsigned i = 0; i < sizeof probed / sizeof probed[0]; i++) {
        play(vm, false, probed[i], 1, true, 0xA5);
        assert_int_equal(play(vm, false, probed[i], 1, false, 0), 0xFF);
        assert_int_equal(play(vm, false, probed[i], 2, false, 0), 0xFFFF);
        assert_int_equal(play(vm, false, probed[i], 4, false, 0), 0xFFFFFFFFu);
    }
    assert_int_equal(vm->traps.unclaimed_reads - r0, 3 * (sizeof probed / sizeof probed[0]));
    assert_int_equal(vm->traps.unclaimed_writes - w0, sizeof probed / sizeof probed[0]);
    assert_false(vm->powered_off);
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    hv_vm__print_stats(vm, f);
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "unclaimed=%llu/%llu", (unsigned long long)vm->traps.unclaimed_reads,
             (unsigned long long)vm->traps.unclaimed_writes);
    assert_non_null(strstr(buf, want));
    free(buf);

    /* The CMOS clock answers at 0x70/0x71: register A without UIP, D valid. */
    play(vm, false, PLATFORM_PORT_RTC_INDEX, 1, true, 0x8A);
    assert_int_equal(play(vm, false, PLATFORM_PORT_RTC_DATA, 1, false, 0) & 0x80, 0);
    play(vm, false, PLATFORM_PORT_RTC_INDEX, 1, true, 0x0D);
    assert_int_equal(play(vm, false, PLATFORM_PORT_RTC_DATA, 1, false, 0), 0x80);

    /* The i8042 answers its self test; its pulse-reset command (0xFE)
     * records a guest reset, which hv_vm__run turns into a clean end. */
    play(vm, false, PLATFORM_PORT_I8042_CMD, 1, true, 0xAA);
    assert_int_equal(play(vm, false, PLATFORM_PORT_I8042_CMD, 1, false, 0) & 1, 1);
    assert_int_equal(play(vm, false, PLATFORM_PORT_I8042_DATA, 1, false, 0), 0x55);
    assert_null(vm->reset_by);
    play(vm, false, PLATFORM_PORT_SYSCTL_A, 1, true, 0x02); /* A20 only */
    assert_null(vm->reset_by);
    play(vm, false, PLATFORM_PORT_I8042_CMD, 1, true, 0xFE);
    assert_non_null(vm->reset_by);
    assert_string_equal(vm->reset_by, "i8042");
    vm->reset_by = NULL;

    /* Every port at every width written with 0, all-ones and garbage, then
     * read (the power-off port aside): the reset lines are the only effect
     * that ends anything, the platform devices stay sane, and under the
     * sanitizer build nothing is touched out of bounds. */
    static const uint32_t vals[] = {0, 0xFFFFFFFFu, 0x5AA5C33Cu};
    unsigned resets = 0;
    for (uint32_t port = 0; port <= 0xFFFF; port++) {
        if (port >= PLATFORM_PORT_EXIT && port < PLATFORM_PORT_EXIT + 4)
            continue;
        for (unsigned sz = 1; sz <= 4; sz *= 2)
            for (unsigned i = 0; i < 3; i++) {
                play(vm, false, port, sz, true, vals[i] ^ port);
                (void)play(vm, false, port, sz, false, 0);
                if (vm->reset_by) {
                    resets++;
                    vm->reset_by = NULL;
                }
            }
    }
    assert_false(vm->powered_off);
    assert_true(resets > 0); /* 0x64 took 0xFE-like values, 0x92 bit 0 */
    assert_int_equal(play(vm, false, PLATFORM_PORT_COM1 + 5, 1, false, 0), 0x60);     /* LSR */
    assert_int_equal(play(vm, false, PLATFORM_PORT_I8042_CMD, 1, false, 0) & 0x02, 0); /* IBF */
    play(vm, false, PLATFORM_PORT_RTC_INDEX, 1, true, 0x0A);
    assert_int_equal(play(vm, false, PLATFORM_PORT_RTC_DATA, 1, false, 0) & 0x80, 0); /* UIP */

    /* Power-off with a status. */
    play(vm, false, PLATFORM_PORT_EXIT, 4, true, 7);
    assert_true(vm->powered_off);
    assert_int_equal(vm->exit_status, 7);
    hv_vm__destroy(vm);
    free(vm);
    bridge__destroy(&br);
    physmem__destroy(&pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_config_space_and_bars)};
    return cmocka_run_group_tests_name("hv/vm_devices", tests, NULL, NULL);
}
