/* vcpu/vcpu_backends.c: picking a backend by name, by default and by an
 * image's boot protocol, with the reason for the run's first line.  The
 * host may or may not have hardware KVM: every assertion follows from what
 * the kvm probe says here, so the test holds on both kinds of host. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vcpu/vcpu.h"

static void test_names_and_lookup(void **state)
{
    (void)state;
    assert_string_equal(vcpu__backend_names(), "kvm, proc");
    assert_ptr_equal(vcpu__backend("kvm"), &kvm_vcpu_ops);
    assert_ptr_equal(vcpu__backend("proc"), &proc_vcpu_ops);
    assert_null(vcpu__backend("xen"));
    assert_null(vcpu__backend(NULL));
    assert_int_equal(kvm_vcpu_ops.boot, VCPU_BOOT_PVH);
    assert_int_equal(proc_vcpu_ops.boot, VCPU_BOOT_PROC);
    assert_true(kvm_vcpu_ops.caps & VCPU_CAP_HALT_IN_RUN);
    assert_false(proc_vcpu_ops.caps & VCPU_CAP_HALT_IN_RUN);
    /* the interrupt model is a property of the machine: an I/O APIC with
     * levels driven through irq_line, or none */
    assert_true(kvm_vcpu_ops.caps & VCPU_CAP_IOAPIC);
    assert_non_null(kvm_vcpu_ops.irq_line);
    assert_false(proc_vcpu_ops.caps & VCPU_CAP_IOAPIC);
    assert_null(proc_vcpu_ops.irq_line);
}

static int fake_line_gsi = -1, fake_line_level = -1;
static int fake_irq_line(struct vm *vm, unsigned gsi, int level)
{
    (void)vm;
    fake_line_gsi = (int)gsi, fake_line_level = level;
    return 0;
}

static void test_irq_line(void **state)
{
    (void)state;
    struct vm none = {0}, proc = {.ops = &proc_vcpu_ops};
    assert_int_equal(vm__irq_line(&none, 4, 1), -ENOTSUP);   /* not initialised */
    assert_int_equal(vm__irq_line(&proc, 4, 1), -ENOTSUP);   /* no I/O APIC */
    static const struct vcpu_ops fake = {.name = "fake", .caps = VCPU_CAP_IOAPIC, .irq_line = fake_irq_line};
    struct vm f = {.ops = &fake};
    assert_int_equal(vm__irq_line(&f, 24, 1), -EINVAL);
    assert_int_equal(vm__irq_line(&f, UINT32_MAX, 1), -EINVAL);
    assert_int_equal(fake_line_gsi, -1);                     /* refused before the backend */
    assert_int_equal(vm__irq_line(&f, 23, 1), 0);
    assert_int_equal(fake_line_gsi, 23);
    assert_int_equal(fake_line_level, 1);
}

static void test_choose(void **state)
{
    (void)state;
    char why[256], kvm_why[160];
    bool kvm_ok = kvm_vcpu_ops.probe(kvm_why, sizeof kvm_why) == 0;
    assert_true(strlen(kvm_why) > 0);   /* a reason either way */

    assert_null(vcpu__backend_choose("xen", why, sizeof why));
    assert_non_null(strstr(why, "unknown backend 'xen' (kvm, proc)"));
    assert_ptr_equal(vcpu__backend_choose("proc", why, sizeof why), &proc_vcpu_ops);
    assert_string_equal(why, "requested");

    const struct vcpu_ops *k = vcpu__backend_choose("kvm", why, sizeof why);
    const struct vcpu_ops *d = vcpu__backend_choose(NULL, why, sizeof why);
    assert_ptr_equal(vcpu__default_backend(), d);
    /* default: kvm exactly when it can run; the reason is kvm's either way
     * ("/dev/kvm", or why not: "no /dev/kvm: ENOENT") */
    assert_ptr_equal(d, kvm_ok ? &kvm_vcpu_ops : &proc_vcpu_ops);
    assert_string_equal(why, kvm_why);
    if (kvm_ok) {
        assert_ptr_equal(k, &kvm_vcpu_ops);
    } else {
        assert_null(k);
        vcpu__backend_choose("kvm", why, sizeof why);
        assert_non_null(strstr(why, "backend kvm cannot run on this host: "));
        assert_non_null(strstr(why, kvm_why));
    }
}

/* A proc-port image always gets proc; a PVH one kvm or a reason. */
static void test_for_boot(void **state)
{
    (void)state;
    char why[256], kvm_why[160];
    bool kvm_ok = kvm_vcpu_ops.probe(kvm_why, sizeof kvm_why) == 0;
    assert_ptr_equal(vcpu__backend_for_boot(VCPU_BOOT_PROC, why, sizeof why), &proc_vcpu_ops);
    const struct vcpu_ops *p = vcpu__backend_for_boot(VCPU_BOOT_PVH, why, sizeof why);
    if (kvm_ok) {
        assert_ptr_equal(p, &kvm_vcpu_ops);
    } else {
        assert_null(p);
        assert_non_null(strstr(why, "no backend here boots PVH images; kvm: "));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_lookup),
        cmocka_unit_test(test_choose), cmocka_unit_test(test_irq_line),
        cmocka_unit_test(test_for_boot),
    };
    return cmocka_run_group_tests_name("vcpu_backends", tests, NULL, NULL);
}
