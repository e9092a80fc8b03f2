/* The KVM backend (vcpu/kvm/) on a real /dev/kvm: needs the test machine
 * (scripts/run-testvm-suite --only test_kvm_vcpu); it does not skip
 * itself.  The guest is tests/testvm/guests/kvm_pvh.S, entered in the PVH
 * state through the loader; the command line picks its program.  Each test
 * checks the exit record field by field, the read completion, and the exit
 * counts the vcpu__ wrappers keep. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/platform/platform_map.h"
#include "drivers/platform/pvh.h"
#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/vcpu.h"

#define RAM_SIZE (16ull << 20)
#define MMIO 0xD0000000ull
#define PORT_DONE 0x501
#define PORT_REPORT 0x510
#define PORT_IRQ 0x511

struct fx {
    struct physmem pm;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu v;
    struct guest_load_info info;
    bool vcpu_up;
};

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

/* A VM with scattered RAM running kvm_pvh.elf's program `prog`. */
static void boot(struct fx *f, const char *prog)
{
    uint64_t hpas[RAM_SIZE / PHYSMEM_PAGE_2M];
    memset(f, 0, sizeof(*f));
    assert_int_equal(physmem__init(&f->pm, 64ull << 20), 0);
    assert_int_equal(physmem__alloc_scattered(&f->pm, RAM_SIZE, PHYSMEM_PAGE_2M, hpas), 0);
    vcpu_memmap__init(&f->map, &f->pm);
    for (unsigned i = 0; i < RAM_SIZE / PHYSMEM_PAGE_2M; i++)
        assert_int_equal(vcpu_memmap__add_ram(&f->map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M, hpas[i],
                                              PHYSMEM_PAGE_2M), 0);
    char path[PATH_MAX], err[256] = "";
    guest_path("kvm_pvh", path, sizeof path);
    assert_int_equal(vm__init(&f->vm, &kvm_vcpu_ops, &f->map), 0);
    int r = guest_load__file(&f->map, path, prog, 0, &f->info, err, sizeof err);
    if (r)
        fail_msg("loading %s: %s", path, err);
    assert_int_equal(f->info.boot, VCPU_BOOT_PVH);
    assert_int_equal(vcpu__create(&f->v, &f->vm, 0), 0);
    f->vcpu_up = true;
    assert_int_equal(guest_load__setup_vcpu(&f->v, &f->info), 0);
}

static void shut(struct fx *f)
{
    if (f->vcpu_up)
        vcpu__destroy(&f->v);
    vm__destroy(&f->vm);
    vcpu_memmap__destroy(&f->map);
    physmem__destroy(&f->pm);
}

static const struct vcpu_exit *run(struct fx *f)
{
    assert_int_equal(vcpu__run(&f->v), 0);
    return &f->v.exit;
}

static void expect_pio(struct fx *f, uint16_t port, uint8_t len, bool wr, uint32_t data)
{
    const struct vcpu_exit *e = run(f);
    if (e->reason != VCPU_EXIT_PIO)
        fail_msg("expected a PIO exit at port %#x, got %s (%s, rip %#llx)", port, vcpu__exit_name(e->reason),
                 e->reason == VCPU_EXIT_FAULT && e->fault.why ? e->fault.why : "",
                 (unsigned long long)(e->reason == VCPU_EXIT_FAULT ? e->fault.rip : 0));
    assert_int_equal(e->pio.port, port);
    assert_int_equal(e->pio.len, len);
    assert_int_equal(e->pio.is_write, wr);
    if (wr)
        assert_int_equal(e->pio.data, data);
    else
        f->v.exit.pio.data = data; /* the caller's answer, completed by the next run */
}

static void expect_mmio(struct fx *f, uint64_t addr, uint8_t len, bool wr, uint64_t data)
{
    const struct vcpu_exit *e = run(f);
    if (e->reason != VCPU_EXIT_MMIO)
        fail_msg("expected an MMIO exit at %#llx, got %s", (unsigned long long)addr, vcpu__exit_name(e->reason));
    assert_int_equal(e->mmio.addr, addr);
    assert_int_equal(e->mmio.len, len);
    assert_int_equal(e->mmio.is_write, wr);
    if (wr)
        assert_int_equal(e->mmio.data, data);
    else
        f->v.exit.mmio.data = data;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- tests --------------------------------------------------------------- */

static void test_probe_and_default(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(kvm_vcpu_ops.probe(why, sizeof why), 0);
    assert_string_equal(why, "/dev/kvm");
    assert_ptr_equal(vcpu__default_backend(), &kvm_vcpu_ops);
    assert_ptr_equal(vcpu__backend_choose("kvm", why, sizeof why), &kvm_vcpu_ops);
    assert_ptr_equal(vcpu__backend_choose(NULL, why, sizeof why), &kvm_vcpu_ops);
    assert_string_equal(why, "/dev/kvm");
}

/* PVH entry: RIP = the note's entry (not e_entry's segment start), RBX =
 * start_info, IF clear; the guest checks the magic itself (0xbadb007). */
static void test_entry_state(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "a");
    struct vcpu_regs r;
    assert_int_equal(vcpu__get_regs(&f.v, &r), 0);
    assert_int_equal(r.rip, f.info.entry);
    assert_int_equal(r.gpr[3], f.info.bootinfo_gpa);
    assert_int_equal(r.rflags & 0x200, 0);
    struct hvm_start_info si;
    assert_int_equal(vcpu_memmap__read(&f.map, r.gpr[3], &si, sizeof si), 0);
    assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
    shut(&f);
}

static void test_pio_out(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "a");
    expect_pio(&f, 0x512, 4, true, 0xcafebabe);
    expect_pio(&f, 0x514, 2, true, 0xbeef);
    expect_pio(&f, 0x80, 1, true, 0x5a);
    expect_pio(&f, PORT_DONE, 4, true, 1);
    assert_int_equal(f.v.stats.n[VCPU_STAT_PIO_OUT], 4);
    assert_int_equal(f.v.stats.n[VCPU_STAT_PIO_IN], 0);
    assert_true(f.v.stats.n[VCPU_STAT_EXITS] >= 4);
    shut(&f);
}

/* in: the value the caller stores lands in EAX/AX/AL (only len bytes). */
static void test_pio_in(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "b");
    expect_pio(&f, 0x516, 4, false, 0xa5a5f00d);
    expect_pio(&f, PORT_REPORT, 4, true, 0xa5a5f00d);
    expect_pio(&f, 0x518, 2, false, 0xffff1234);
    expect_pio(&f, PORT_REPORT, 4, true, 0x1234);
    expect_pio(&f, 0x60, 1, false, 0x99);
    expect_pio(&f, PORT_REPORT, 4, true, 0x99);
    expect_pio(&f, PORT_DONE, 4, true, 2);
    assert_int_equal(f.v.stats.n[VCPU_STAT_PIO_IN], 3);
    assert_int_equal(f.v.stats.n[VCPU_STAT_PIO_OUT], 4);
    shut(&f);
}

static void test_mmio(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "c");
    expect_mmio(&f, MMIO, 4, true, 0x11223344);
    expect_mmio(&f, MMIO + 0x10, 2, true, 0x5566);
    expect_mmio(&f, MMIO + 0x21, 1, true, 0x77);
    expect_mmio(&f, MMIO + 0x8, 4, false, 0x8899aabb);
    expect_pio(&f, PORT_REPORT, 4, true, 0x8899aabb);
    expect_mmio(&f, MMIO + 0x12, 2, false, 0xccdd);
    expect_pio(&f, PORT_REPORT, 4, true, 0xccdd);
    expect_mmio(&f, MMIO + 0x23, 1, false, 0xee);
    expect_pio(&f, PORT_REPORT, 4, true, 0xee);
    expect_pio(&f, PORT_DONE, 4, true, 3);
    assert_int_equal(f.v.stats.n[VCPU_STAT_MMIO_WRITE], 3);
    assert_int_equal(f.v.stats.n[VCPU_STAT_MMIO_READ], 3);
    shut(&f);
}

/* String port I/O: KVM does the memory side of each element, so outs and
 * ins (and rep outs, one element per exit) are ordinary PIO exits; rep ins,
 * which KVM hands over several elements at once, is a clear fault. */
static void test_string_pio(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "g");
    expect_pio(&f, 0x520, 1, true, 'Z');
    expect_pio(&f, 0x520, 1, true, 'A');
    expect_pio(&f, 0x520, 1, true, 'B');
    expect_pio(&f, 0x520, 1, true, 'C');
    expect_pio(&f, 0x522, 2, false, 0x4b4f);  /* "OK" into memory */
    expect_pio(&f, PORT_REPORT, 4, true, 0x4b4f);
    const struct vcpu_exit *e = run(&f);
    assert_int_equal(e->reason, VCPU_EXIT_FAULT);
    assert_non_null(strstr(e->fault.why, "(rep ins) is not supported"));
    assert_int_equal(e->fault.error_code, 0x522);
    shut(&f);
}

/* vcpu__set_regs at a pending read drops it (vcpu.h): the registers the
 * caller chose stand, and the read executes again. */
static void test_set_regs_drops_pending_read(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "c");
    expect_mmio(&f, MMIO, 4, true, 0x11223344);
    expect_mmio(&f, MMIO + 0x10, 2, true, 0x5566);
    expect_mmio(&f, MMIO + 0x21, 1, true, 0x77);
    expect_mmio(&f, MMIO + 0x8, 4, false, 0x12345678);
    struct vcpu_regs r;
    assert_int_equal(vcpu__get_regs(&f.v, &r), 0);
    r.gpr[0] = 0x5555;
    assert_int_equal(vcpu__set_regs(&f.v, &r), 0);
    struct vcpu_regs back;
    assert_int_equal(vcpu__get_regs(&f.v, &back), 0);
    assert_int_equal(back.rip, r.rip);
    assert_int_equal(back.gpr[0], 0x5555);
    expect_mmio(&f, MMIO + 0x8, 4, false, 0x0badcafe);  /* same read again */
    expect_pio(&f, PORT_REPORT, 4, true, 0x0badcafe);
    shut(&f);
}

/* At an out exit RIP is still at the out; KVM would skip it on the next
 * KVM_RUN unless set_regs moved RIP.  Registers set there win, even the
 * same ones: the out executes again (as on the proc backend). */
static void test_set_regs_at_out(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "a");
    expect_pio(&f, 0x512, 4, true, 0xcafebabe);
    struct vcpu_regs r;
    assert_int_equal(vcpu__get_regs(&f.v, &r), 0);
    assert_int_equal(vcpu__set_regs(&f.v, &r), 0);
    expect_pio(&f, 0x512, 4, true, 0xcafebabe);
    expect_pio(&f, 0x514, 2, true, 0xbeef);
    shut(&f);
}

/* Vectors queued while the guest is stopped reach its IDT through the
 * in-kernel LAPIC, highest first; the handler EOIs its LAPIC. */
static void test_irq_at_exit(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "d");
    expect_pio(&f, PORT_REPORT, 4, true, 0xaa);
    assert_int_equal(vcpu__inject_irq(&f.v, 0x41), 0);
    assert_int_equal(vcpu__inject_irq(&f.v, 0x45), 0);
    assert_int_equal(vcpu__inject_irq(&f.v, 3), -EINVAL);
    expect_pio(&f, PORT_IRQ, 4, true, 0x45);
    expect_pio(&f, PORT_IRQ, 4, true, 0x41);
    expect_pio(&f, PORT_DONE, 4, true, 2);
    assert_int_equal(f.v.stats.n[VCPU_STAT_INJECT], 2);
    assert_false(vcpu__irq_pending(&f.v));
    shut(&f);
}

/* INTx through an irqfd with resample: the eventfd asserts I/O APIC input
 * 5 (level), the guest's handler runs, and only its EOI signals the
 * resample fd (the point where VFIO unmasks a function's INTx); asserted
 * again after that, the line is delivered again. */
static bool readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

struct resampler {
    int efd, rfd;
    struct vcpu *v;
    bool resampled;
};

/* Waits for the resample (the guest's EOI), then asserts the line again. */
static void *resampler_main(void *arg)
{
    struct resampler *r = arg;
    uint64_t n, one = 1;
    r->resampled = readable_within(r->rfd, 5000) && read(r->rfd, &n, sizeof n) == sizeof n;
    if (r->resampled && write(r->efd, &one, sizeof one) != sizeof one)
        r->resampled = false;
    if (!r->resampled)
        vcpu__kick(r->v); /* the halted guest would wait forever: fail now */
    return NULL;
}

static void test_irqfd_level_resample(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "l");
    struct resampler r = {.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
                          .rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .v = &f.v};
    assert_true(r.efd >= 0 && r.rfd >= 0);
    assert_int_equal(vm__irqfd_attach_level(&f.vm, r.efd, r.rfd, 24), -EINVAL);
    assert_int_equal(vm__irqfd_attach_level(&f.vm, r.efd, r.rfd, 5), 0);
    expect_pio(&f, PORT_REPORT, 4, true, 0xaa);   /* redirection entry programmed */
    uint64_t one = 1;
    assert_int_equal(write(r.efd, &one, sizeof one), sizeof one);
    expect_pio(&f, PORT_IRQ, 4, true, 0x44);      /* in the handler, before its EOI */
    assert_false(readable_within(r.rfd, 0));       /* not resampled before the EOI */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, resampler_main, &r), 0);
    expect_pio(&f, PORT_IRQ, 4, true, 0x44);      /* re-asserted after the resample */
    expect_pio(&f, PORT_DONE, 4, true, 2);
    pthread_join(t, NULL);
    assert_true(r.resampled);
    vm__irqfd_detach_level(&f.vm, r.efd, 5);
    close(r.efd);
    close(r.rfd);
    shut(&f);
}

struct later {
    struct vcpu *v;
    int delay_ms;
    uint8_t vec[2];
    bool kick;
};

static void *later_thread(void *arg)
{
    struct later *l = arg;
    for (int i = 0; i < 2; i++) {
        sleep_ms(l->delay_ms);
        if (l->kick)
            vcpu__kick(l->v);
        else if (l->vec[i])
            vcpu__inject_irq(l->v, l->vec[i]);
    }
    return NULL;
}

/* sti; hlt waits inside KVM_RUN (no HLT exit) until another thread's
 * vector arrives. */
static void test_irq_async_while_halted(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "d");
    expect_pio(&f, PORT_REPORT, 4, true, 0xaa);
    struct later l = {.v = &f.v, .delay_ms = 50, .vec = {0x42, 0x43}};
    pthread_t t;
    int64_t t0 = now_ns();
    assert_int_equal(pthread_create(&t, NULL, later_thread, &l), 0);
    expect_pio(&f, PORT_IRQ, 4, true, 0x42);
    assert_true(now_ns() - t0 >= 40 * 1000000ll);
    expect_pio(&f, PORT_IRQ, 4, true, 0x43);
    expect_pio(&f, PORT_DONE, 4, true, 2);
    pthread_join(t, NULL);
    assert_true(now_ns() - t0 >= 90 * 1000000ll);
    assert_int_equal(f.v.stats.n[VCPU_STAT_HLT], 0);
    assert_int_equal(f.v.stats.n[VCPU_STAT_INJECT], 2);
    int64_t cpu = vcpu__cpu_time_ns(&f.v);
    assert_true(cpu > 0);
    shut(&f);
}

/* An exception with no IDT: triple fault -> a FAULT exit with a reason (no
 * meaningful RIP: on AMD KVM resets the vCPU at a shutdown); the host
 * carries on (a new VM runs). */
static void test_triple_fault(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "e");
    const struct vcpu_exit *e = run(&f);
    assert_int_equal(e->reason, VCPU_EXIT_FAULT);
    assert_int_equal(e->fault.vector, VCPU_FAULT_VEC_DOUBLE);
    assert_non_null(e->fault.why);
    assert_non_null(strstr(e->fault.why, "triple fault"));
    /* the guest is over: running again repeats the fault, nothing runs */
    assert_int_equal(run(&f)->reason, VCPU_EXIT_FAULT);
    assert_int_equal(f.v.exit.fault.vector, VCPU_FAULT_VEC_DOUBLE);
    assert_int_equal(f.v.stats.n[VCPU_STAT_FAULT], 2);
    assert_int_equal(f.v.stats.n[VCPU_STAT_EXITS], 1);
    shut(&f);
    boot(&f, "a");
    expect_pio(&f, 0x512, 4, true, 0xcafebabe);
    shut(&f);
}

/* kick before run, and kick of a guest spinning inside KVM_RUN: both
 * VCPU_EXIT_INTR; the guest continues where it was. */
static void test_kick(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "f");
    vcpu__kick(&f.v);
    assert_int_equal(run(&f)->reason, VCPU_EXIT_INTR);
    struct later l = {.v = &f.v, .delay_ms = 50, .kick = true};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, later_thread, &l), 0);
    int64_t t0 = now_ns();
    assert_int_equal(run(&f)->reason, VCPU_EXIT_INTR);
    assert_true(now_ns() - t0 >= 40 * 1000000ll);
    assert_int_equal(run(&f)->reason, VCPU_EXIT_INTR);  /* the second kick */
    pthread_join(t, NULL);
    assert_int_equal(f.v.stats.n[VCPU_STAT_INTR], 3);
    struct vcpu_regs r;
    assert_int_equal(vcpu__get_regs(&f.v, &r), 0);
    r.gpr[0] = 1;  /* let it finish */
    assert_int_equal(vcpu__set_regs(&f.v, &r), 0);
    expect_pio(&f, PORT_DONE, 4, true, 6);
    shut(&f);
}

/* A proc-port image is refused by the kvm backend, naming the image it
 * needs. */
static void test_proc_image_refused(void **state)
{
    (void)state;
    struct fx f;
    boot(&f, "a");
    char path[PATH_MAX], err[256] = "";
    guest_path("pio", path, sizeof path);
    struct guest_load_info info;
    assert_int_equal(guest_load__file(&f.map, path, "", 0, &info, err, sizeof err), 0);
    assert_int_equal(info.boot, VCPU_BOOT_PROC);
    assert_int_equal(guest_load__check_backend(&info, &kvm_vcpu_ops, err, sizeof err), -ENOEXEC);
    assert_non_null(strstr(err, "iovirt-guest-bare.elf"));
    log__set_quiet(1);
    assert_int_equal(guest_load__setup_vcpu(&f.v, &info), -ENOEXEC);
    log__set_quiet(0);
    shut(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_and_default),
        cmocka_unit_test(test_entry_state),
        cmocka_unit_test(test_pio_out),
        cmocka_unit_test(test_pio_in),
        cmocka_unit_test(test_mmio),
        cmocka_unit_test(test_string_pio),
        cmocka_unit_test(test_set_regs_drops_pending_read),
        cmocka_unit_test(test_set_regs_at_out),
        cmocka_unit_test(test_irq_at_exit),
        cmocka_unit_test(test_irq_async_while_halted),
        cmocka_unit_test(test_irqfd_level_resample),
        cmocka_unit_test(test_triple_fault),
        cmocka_unit_test(test_kick),
        cmocka_unit_test(test_proc_image_refused),
    };
    return cmocka_run_group_tests_name("kvm_vcpu", tests, NULL, NULL);
}
