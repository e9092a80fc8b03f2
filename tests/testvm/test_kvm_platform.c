/* The PC platform devices of a VM on the KVM backend, end to end through
 * hv_vm (needs the test machine: scripts/run-testvm-suite --only
 * test_kvm_platform; it does not skip itself).  The guest is
 * tests/testvm/guests/kvm_pvh.S, booted by hv_vm__create as its kernel:
 *   u  the 16550's THR-empty interrupt reaches the guest through the
 *      in-kernel I/O APIC's input 4 as an edge, twice (ETBEI on; after the
 *      IIR read, a THR write): vm_irq levels -> KVM_IRQ_LINE;
 *   t  the in-kernel PIT (KVM_CREATE_PIT2) ticks on I/O APIC input 2 (the
 *      platform's GSI 0 route, what the MP table publishes for IRQ 0);
 *   k  0xFE to the i8042's port 0x64 ends hv_vm__run cleanly as a reset. */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hv/vm.h"
#include "lib/log.h"

static void guest_path(const char *name, char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    int w = snprintf(out, len, "%.*s/../guests/%s.elf", (int)(len - 64), exe, name);
    assert_true(w > 0 && (size_t)w < len);
}

static void quiet_console(void *ctx, const char *line, size_t len)
{
    (void)ctx, (void)line, (void)len;
}

/* A guest waiting for an interrupt that never comes halts for good: the
 * watchdog stops the VM (hv_vm__run returns -EINTR) so the test fails
 * instead of hanging the suite. */
struct watchdog {
    struct hv_vm *vm;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 60;
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &t)) {
            hv_vm__stop(w->vm);
            break;
        }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Boot kvm_pvh.elf's program `prog` in an hv_vm on kvm and run it to its
 * end; returns hv_vm__run's value, the VM left for the caller to look at. */
static int run_prog(struct physmem *pm, struct hv_vm *vm, const char *prog)
{
    char path[PATH_MAX];
    guest_path("kvm_pvh", path, sizeof path);
    assert_int_equal(physmem__init(pm, 64ull << 20), 0);
    struct hv_vm_config cfg = {.name = "plat", .backend = &kvm_vcpu_ops, .pm = pm, .mem_bytes = 16ull << 20,
                               .kernel_path = path, .cmdline = prog, .nic = HV_NIC_NONE,
                               .console = quiet_console};
    assert_int_equal(hv_vm__create(vm, &cfg), 0);
    struct watchdog w = {.vm = vm, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, watchdog_main, &w), 0);
    int r = hv_vm__run(vm);
    pthread_mutex_lock(&w.lock);
    w.done = true;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.lock);
    pthread_join(t, NULL);
    return r;
}

static void done(struct physmem *pm, struct hv_vm *vm)
{
    hv_vm__destroy(vm);
    physmem__destroy(pm);
}

static void test_uart_thre_interrupt_through_ioapic(void **state)
{
    (void)state;
    struct physmem pm;
    struct hv_vm *vm = calloc(1, sizeof *vm);
    assert_int_equal(run_prog(&pm, vm, "u"), 0);
    assert_true(vm->powered_off);
    assert_int_equal(vm->exit_status, 0x02 << 8 | 2); /* IIR said THRE; two interrupts taken */
    assert_true(vm->irq.delivered >= 2);            /* two assertions of IRQ 4 */
    assert_int_equal(vm->irq.refused, 0);
    assert_int_equal(vm->uart.bytes_out, 1);
    done(&pm, vm);
    free(vm);
}

static void test_pit_ticks_on_input_2(void **state)
{
    (void)state;
    struct physmem pm;
    struct hv_vm *vm = calloc(1, sizeof *vm);
    assert_int_equal(run_prog(&pm, vm, "t"), 0);
    assert_true(vm->powered_off);
    assert_true(vm->exit_status >= 3);              /* missed ticks may be reinjected at once */
    assert_true(vm->exit_status < 1000);
    done(&pm, vm);
    free(vm);
}

static void test_i8042_reset_ends_the_vm(void **state)
{
    (void)state;
    struct physmem pm;
    struct hv_vm *vm = calloc(1, sizeof *vm);
    assert_int_equal(run_prog(&pm, vm, "k"), 0);
    assert_false(vm->powered_off);
    assert_non_null(vm->reset_by);
    assert_string_equal(vm->reset_by, "i8042");
    assert_int_equal(vm->exit_status, 0);
    done(&pm, vm);
    free(vm);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uart_thre_interrupt_through_ioapic),
        cmocka_unit_test(test_pit_ticks_on_input_2),
        cmocka_unit_test(test_i8042_reset_ends_the_vm),
    };
    return cmocka_run_group_tests_name("testvm/kvm_platform", tests, NULL, NULL);
}
