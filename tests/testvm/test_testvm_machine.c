/* The test machine itself (issue 15, CI): what every tests/testvm test
 * relies on, asserted, so that a machine that lost one of them fails here
 * by name rather than as an obscure failure elsewhere.
 *
 *   - /dev/kvm opens, KVM_GET_API_VERSION is 12, KVM_CREATE_VM and
 *     KVM_CREATE_VCPU work; it is hardware-assisted KVM (kvm_amd or
 *     kvm_intel, as nested SVM gives), and a tiny real-mode guest runs to
 *     its port write and HLT;
 *   - the VT-d IOMMU has interrupt remapping *enabled* (not just supported):
 *     the unit advertises IR in its ECAP, the kernel logged "DMAR-IR:
 *     Enabled IRQ remapping" and interrupts are delivered through the
 *     remapping chips (IR-IO-APIC / IR-PCI-MSI in /proc/interrupts);
 *   - every NIC of IOVIRT_VFIO_DEVICES (set by scripts/testvm --nics) is
 *     bound to vfio-pci and its group's /dev/vfio/N is a usable, viable
 *     VFIO group.
 *
 * It runs only inside the test machine (scripts/run-testvm-suite, `make
 * test-vm`); on a machine without /dev/kvm or an IOMMU it fails.  (This
 * build machine does have a /dev/kvm, from kvm_pvm, a paravirtual KVM:
 * test_kvm and even the real-mode guest pass there; the vendor-module,
 * IOMMU and vfio tests fail.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/vfio.h>

#include <cmocka.h>

/* Why a check failed, on stderr, before the assertion that fails.  COND is
 * evaluated once (it is often an ioctl). */
#define need(cond, ...)                                                      \
    do {                                                                     \
        bool need_ok_ = (cond);                                              \
        if (!need_ok_) {                                                     \
            fprintf(stderr, "test_testvm_machine: " __VA_ARGS__);            \
            fprintf(stderr, "%s\n", getenv("IOVIRT_TESTVM") ? "" :           \
                    " (IOVIRT_TESTVM is unset: this test runs inside the "   \
                    "test machine, `make test-vm`)");                        \
        }                                                                    \
        assert_true(need_ok_);                                               \
    } while (0)

/* ---- KVM --------------------------------------------------------------- */

static void test_kvm(void **s)
{
    (void)s;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    need(kvm >= 0, "open /dev/kvm: %s", strerror(errno));

    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    need(api == KVM_API_VERSION, "KVM_GET_API_VERSION = %d, want %d", api, KVM_API_VERSION);
    assert_int_equal(api, 12);

    int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    need(mmap_size >= (int)sizeof(struct kvm_run), "KVM_GET_VCPU_MMAP_SIZE = %d (%s)",
         mmap_size, strerror(errno));

    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    need(vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    need(vcpu >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));

    close(vcpu);
    close(vm);
    close(kvm);
}

/* KVM is hardware-assisted (nested SVM or VMX), not a paravirtual flavour
 * such as kvm_pvm that runs only guests built for it. */
static void test_kvm_vendor_module(void **s)
{
    (void)s;
    struct stat st;
    bool amd = stat("/sys/module/kvm_amd", &st) == 0;
    bool intel = stat("/sys/module/kvm_intel", &st) == 0;
    need(amd || intel, "neither kvm_amd nor kvm_intel is loaded");
}

/* A guest runs: 16 bytes of real-mode code at 0x1000 write 0x42 to port
 * 0x10 and halt; KVM_RUN returns the port write, then the HLT. */
static void test_kvm_runs_a_guest(void **s)
{
    (void)s;
    static const uint8_t code[] = {
        0xb0, 0x42,         /* mov $0x42, %al */
        0xe6, 0x10,         /* out %al, $0x10 */
        0xf4,               /* hlt */
    };
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    need(kvm >= 0, "open /dev/kvm: %s", strerror(errno));
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    need(vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));

    size_t mem_size = 0x1000;
    uint8_t *mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0x1000, .memory_size = mem_size,
        .userspace_addr = (uintptr_t)mem,
    };
    need(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION: %s",
         strerror(errno));

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    need(vcpu >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    need(run_size > 0, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    assert_true(run != MAP_FAILED);

    struct kvm_sregs sregs;
    need(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS: %s", strerror(errno));
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    need(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS: %s", strerror(errno));
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    need(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS: %s", strerror(errno));

    need(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN: %s", strerror(errno));
    need(run->exit_reason == KVM_EXIT_IO, "first exit: reason %u, want KVM_EXIT_IO (%u)",
         run->exit_reason, KVM_EXIT_IO);
    assert_int_equal(run->io.direction, KVM_EXIT_IO_OUT);
    assert_int_equal(run->io.port, 0x10);
    assert_int_equal(run->io.size, 1);
    assert_int_equal(*((uint8_t *)run + run->io.data_offset), 0x42);

    need(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN: %s", strerror(errno));
    need(run->exit_reason == KVM_EXIT_HLT, "second exit: reason %u, want KVM_EXIT_HLT (%u)",
         run->exit_reason, KVM_EXIT_HLT);

    munmap(run, (size_t)run_size);
    close(vcpu);
    munmap(mem, mem_size);
    close(vm);
    close(kvm);
}

/* ---- interrupt remapping ----------------------------------------------- */

#define VTD_ECAP_IR (1ull << 3)   /* VT-d spec 11.4.3: interrupt remapping support */

static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *r = fgets(buf, (int)size, f);
    fclose(f);
    if (!r)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static void test_iommu_interrupt_remapping(void **s)
{
    (void)s;
    /* Every VT-d unit (/sys/class/iommu/dmarN/intel-iommu/ecap) supports IR. */
    DIR *d = opendir("/sys/class/iommu");
    need(d != NULL, "no /sys/class/iommu: %s (no IOMMU driver)", strerror(errno));
    unsigned units = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX], line[64];
        snprintf(path, sizeof path, "/sys/class/iommu/%s/intel-iommu/ecap", e->d_name);
        need(read_line(path, line, sizeof line) == 0, "cannot read %s: %s", path, strerror(errno));
        unsigned long long ecap = strtoull(line, NULL, 16);
        need(ecap & VTD_ECAP_IR, "%s: ECAP %s has no interrupt remapping (bit 3)", e->d_name, line);
        units++;
    }
    closedir(d);
    need(units > 0, "/sys/class/iommu is empty: no VT-d unit");

    /* Enabled, as the kernel says it. */
    int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    need(n > 0, "klogctl(SIZE_BUFFER): %s", strerror(errno));
    char *log = calloc(1, (size_t)n + 1);
    assert_non_null(log);
    int got = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, n);
    need(got > 0, "klogctl(READ_ALL): %s", strerror(errno));
    log[got] = 0;
    need(strstr(log, "DMAR-IR: Enabled IRQ remapping") != NULL,
         "the kernel log has no \"DMAR-IR: Enabled IRQ remapping\"");
    free(log);

    /* And used: interrupts go through the remapping irqchips. */
    FILE *f = fopen("/proc/interrupts", "r");
    need(f != NULL, "/proc/interrupts: %s", strerror(errno));
    char line[512];
    unsigned ir = 0, plain = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "IR-IO-APIC") || strstr(line, "IR-PCI-MSI"))
            ir++;
        else if (strstr(line, " IO-APIC ") || strstr(line, " PCI-MSI "))
            plain++;
    }
    fclose(f);
    need(ir > 0, "/proc/interrupts has no IR-IO-APIC / IR-PCI-MSI interrupt");
    need(plain == 0, "/proc/interrupts has %u interrupts that bypass remapping", plain);
}

/* ---- NICs on vfio-pci --------------------------------------------------- */

/* The link's last component, e.g. .../drivers/vfio-pci -> vfio-pci. */
static int link_name(const char *path, char *out, size_t size)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return -1;
    target[n] = 0;
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (strlen(base) >= size)
        return -1;
    memcpy(out, base, strlen(base) + 1);
    return 0;
}

static void check_vfio_device(const char *bdf, const char *model)
{
    char path[PATH_MAX], name[256];

    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", bdf);
    struct stat st;
    need(stat(path, &st) == 0, "%s (%s): no such PCI device: %s", bdf, model, strerror(errno));

    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", bdf);
    need(link_name(path, name, sizeof name) == 0, "%s (%s) has no driver", bdf, model);
    need(strcmp(name, "vfio-pci") == 0, "%s (%s) is bound to %s, not vfio-pci", bdf, model, name);

    /* The model is the device it claims to be (vendor ID). */
    unsigned want_vendor = strcmp(model, "e1000") == 0          ? 0x8086
                           : strcmp(model, "virtio-net-pci") == 0 ? 0x1af4
                                                                  : 0;
    if (want_vendor) {
        char v[32];
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vendor", bdf);
        need(read_line(path, v, sizeof v) == 0, "cannot read %s", path);
        need(strtoul(v, NULL, 16) == want_vendor, "%s (%s): vendor %s, want 0x%04x", bdf,
             model, v, want_vendor);
    }

    char group[64];
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
    need(link_name(path, group, sizeof group) == 0, "%s (%s) has no IOMMU group", bdf, model);

    char dev[PATH_MAX];
    snprintf(dev, sizeof dev, "/dev/vfio/%s", group);
    need(stat(dev, &st) == 0 && S_ISCHR(st.st_mode), "%s (%s): %s is not a character device",
         bdf, model, dev);

    /* A usable group: viable (every device of it on vfio) and the device
     * can be opened once the group has a container with the type-1 IOMMU. */
    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    need(container >= 0, "open /dev/vfio/vfio: %s", strerror(errno));
    need(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION");
    need(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
         "the VFIO container has no type-1 v2 IOMMU");

    int g = open(dev, O_RDWR | O_CLOEXEC);
    need(g >= 0, "open %s: %s", dev, strerror(errno));
    struct vfio_group_status status = {.argsz = sizeof status};
    need(ioctl(g, VFIO_GROUP_GET_STATUS, &status) == 0, "VFIO_GROUP_GET_STATUS: %s",
         strerror(errno));
    need(status.flags & VFIO_GROUP_FLAGS_VIABLE, "%s: group %s is not viable", bdf, group);
    need(ioctl(g, VFIO_GROUP_SET_CONTAINER, &container) == 0, "VFIO_GROUP_SET_CONTAINER: %s",
         strerror(errno));
    need(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "VFIO_SET_IOMMU: %s",
         strerror(errno));
    int fd = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
    need(fd >= 0, "VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
    struct vfio_device_info info = {.argsz = sizeof info};
    need(ioctl(fd, VFIO_DEVICE_GET_INFO, &info) == 0, "VFIO_DEVICE_GET_INFO: %s", strerror(errno));
    need(info.flags & VFIO_DEVICE_FLAGS_PCI, "%s: not a VFIO PCI device", bdf);
    close(fd);
    close(g);
    close(container);
}

static void test_vfio_devices(void **s)
{
    (void)s;
    const char *env = getenv("IOVIRT_VFIO_DEVICES");
    need(env && *env, "IOVIRT_VFIO_DEVICES is empty (scripts/testvm --nics ... sets it)");

    char list[1024], *save = NULL;
    need(strlen(env) < sizeof list, "IOVIRT_VFIO_DEVICES is too long");
    strcpy(list, env);
    unsigned n = 0;
    for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        /* BDF:model, the BDF being dddd:bb:dd.f (12 characters). */
        need(strlen(w) > 13 && w[12] == ':', "bad IOVIRT_VFIO_DEVICES word '%s'", w);
        w[12] = 0;
        check_vfio_device(w, w + 13);
        n++;
    }
    need(n > 0, "IOVIRT_VFIO_DEVICES lists no device");

    /* IOVIRT_VFIO_BDF is the first one. */
    const char *first = getenv("IOVIRT_VFIO_BDF");
    need(first && strncmp(env, first, 12) == 0 && strlen(first) == 12,
         "IOVIRT_VFIO_BDF '%s' is not the first of '%s'", first ? first : "", env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kvm),
        cmocka_unit_test(test_kvm_vendor_module),
        cmocka_unit_test(test_kvm_runs_a_guest),
        cmocka_unit_test(test_iommu_interrupt_remapping),
        cmocka_unit_test(test_vfio_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
