/* Direct assignment of a real PCI function through VFIO (hv/assign_vfio.c),
 * inside the test machine (scripts/testvm): QEMU's e1000 behind QEMU's
 * intel-iommu with interrupt remapping, bound to vfio-pci; its BDF in
 * IOVIRT_VFIO_BDF.
 *   - clear one-line refusals (no such device, bound to another driver,
 *     not a PCI address) that leave the device usable;
 *   - a guest pings the Linux side of QEMU's network through it (INTx);
 *   - DMA outside the guest's RAM faults in the real IOMMU: the kernel's
 *     DMAR fault log names the device and the address, and the device works
 *     for the next VM (its reset on release). */
/* Every run names its vCPU backend: proc, except test_kvm_backend, which
 * repeats the ping and DMA checks on kvm with the bare kernel.  (The first
 * ping reply through QEMU's e1000 comes ~1 s late, QEMU holding frames back
 * after an RCTL write: right at the guest's default 1 s ping timeout, so the
 * kvm runs give it timeout_ms=3000.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/klog.h>
#include <cmocka.h>

#define TOOL_TIMEOUT_MS 120000
#include "tests/integration/run_tool.h"

/* QEMU's e1000 holds its first received frames ~1 s after the driver's
 * RCTL write, so the first reply lands right at ping's default 1 s timeout
 * (seen: "seq=1 timed out" then 3/3 on proc in CI); 4/4 is still required. */
#define E1000_PING "timeout_ms=3000 ping"

static const char *bdf;
static char assign_arg[64];

/* The kernel log as it is now (klogctl READ_ALL), NUL-terminated. */
static char *kernel_log(void)
{
    int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    assert_true(n > 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    int k = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
    assert_true(k >= 0);
    buf[k] = '\0';
    return buf;
}

static unsigned count_lines_with(const char *log, const char *a, const char *b)
{
    unsigned n = 0;
    for (const char *l = log; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), l);
        if (strstr(line, a) && strstr(line, b))
            n++;
        l = e ? e + 1 : NULL;
    }
    return n;
}

static void run_guest(struct tool_run *r, const char *prog, const char *arg)
{
    char *argv[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", assign_arg, "--stats", "--",
                    (char *)prog, (char *)arg, NULL};
    assert_int_equal(tool__run(r, argv), 0);
}

static void assert_refused(const char *source, const char *needle)
{
    struct tool_run r;
    char *argv[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", (char *)source, "--", "hello", NULL};
    assert_int_equal(tool__run(&r, argv), 0);
    if (r.status != 2 || !strstr(r.err, needle) || tool__error_lines(r.err) != 1)
        fail_msg("--assign %s: status %d, stderr:\n%s", source, r.status, r.err);
    assert_int_equal(tool__stray_stubs(), 0);
}

/* A PCI function of the test machine bound to a driver other than
 * vfio-pci (the 9p transports are on virtio-pci). */
static int other_bound_device(char *out, size_t len)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) && found) {
        char link[PATH_MAX], tgt[PATH_MAX];
        snprintf(link, sizeof link, "/sys/bus/pci/devices/%s/driver", e->d_name);
        ssize_t n = readlink(link, tgt, sizeof tgt - 1);
        if (e->d_name[0] == '.' || n <= 0)
            continue;
        tgt[n] = '\0';
        if (!strstr(tgt, "/vfio-pci")) {
            snprintf(out, len, "vfio:%s", e->d_name);
            found = 0;
        }
    }
    if (d)
        closedir(d);
    return found;
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused("vfio:0000:00:1e.7", "0000:00:1e.7: no such PCI device");
    assert_refused("vfio:00:1e", "not a PCI address");
    char other[300];
    assert_int_equal(other_bound_device(other, sizeof other), 0);
    assert_refused(other, "bind it to vfio-pci");
    /* nothing left behind: the device is still on vfio-pci and usable */
    char link[PATH_MAX], tgt[PATH_MAX];
    snprintf(link, sizeof link, "/sys/bus/pci/devices/%s/driver", bdf);
    ssize_t n = readlink(link, tgt, sizeof tgt - 1);
    assert_true(n > 0);
    tgt[n] = '\0';
    assert_non_null(strstr(tgt, "vfio-pci"));
}

static void test_ping_through_assigned_function(void **state)
{
    (void)state;
    struct tool_run r;
    run_guest(&r, E1000_PING, "10.0.2.1");
    if (r.status != 0 || !strstr(r.out, "RESULT ping sent=4 received=4"))
        fail_msg("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    /* the register accesses the guest made went to the real function */
    assert_non_null(strstr(r.err, "nic-bar0="));
    assert_non_null(strstr(r.out, "interrupts: INTx"));
    /* the process backend has no I/O APIC: INTx is relayed by iovirt */
    assert_non_null(strstr(r.err, "INTx through iovirt: asserted "));
    assert_null(strstr(r.err, "INTx through iovirt: asserted 0,"));
}

/* One address per direction, so the kernel's rate limit on DMAR messages
 * cannot hide the evidence. */
static void dma_outside(const char *attack, const char *addr, const char *kind)
{
    char arg[96];
    snprintf(arg, sizeof arg, "%s %s", attack, addr);
    char *before = kernel_log();
    char fault[96];
    snprintf(fault, sizeof fault, "fault addr %s", addr);
    unsigned n0 = count_lines_with(before, fault, bdf + 5 /* "BB:DD.F" as DMAR prints it */);
    free(before);
    struct tool_run r;
    run_guest(&r, "attack", arg);
    /* the host survived: a clean exit, whatever the guest concluded */
    if (r.status > 1)
        fail_msg("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    char *after = kernel_log();
    unsigned n1 = count_lines_with(after, fault, bdf + 5);
    unsigned kinds = count_lines_with(after, fault, kind);
    free(after);
    if (n1 <= n0 || !kinds)
        fail_msg("no DMAR fault '%s' (%s) for %s in the kernel log after %s", fault, kind, bdf, attack);
    /* the function is reset on release and works for the next VM */
    run_guest(&r, E1000_PING, "10.0.2.1");
    if (r.status != 0 || !strstr(r.out, "received=4"))
        fail_msg("after %s: status %d\nstdout:\n%s\nstderr:\n%s", attack, r.status, r.out, r.err);
}

static void test_dma_read_outside_ram_faults(void **state)
{
    (void)state;
    dma_outside("dma_tx", "0x3f000000", "DMA Read");
}

static void test_dma_write_outside_ram_faults(void **state)
{
    (void)state;
    dma_outside("dma_rx", "0x3f200000", "DMA Write");
}

/* The functions of IOVIRT_VFIO_DEVICES ("BDF:model" words) of `model`,
 * at most n. */
static unsigned model_bdfs(const char *model, char out[][16], unsigned n)
{
    const char *l = getenv("IOVIRT_VFIO_DEVICES");
    unsigned k = 0;
    char word[64];
    int used;
    while (l && k < n && sscanf(l, "%63s%n", word, &used) == 1) {
        l += used;
        if (strlen(word) > 13 && word[12] == ':' && !strcmp(word + 13, model))
            snprintf(out[k++], 16, "%.12s", word);
    }
    return k;
}

struct bg_run {
    pthread_t t;
    struct tool_run r;
    char source[32], prog[32], arg[32];
};

static void *bg_main(void *p)
{
    struct bg_run *b = p;
    char *argv[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", b->source, "--", b->prog, b->arg, NULL};
    tool__run(&b->r, argv);
    return NULL;
}

static void bg_start(struct bg_run *b, const char *bdf_, const char *prog, const char *arg)
{
    snprintf(b->source, sizeof b->source, "vfio:%s", bdf_);
    snprintf(b->prog, sizeof b->prog, "%s", prog);
    snprintf(b->arg, sizeof b->arg, "%s", arg);
    assert_int_equal(pthread_create(&b->t, NULL, bg_main, b), 0);
}

/* Configuration-space abuse on the real function's virtual view (write
 * read-only fields, loop the capability list, move BAR0 onto the guest's
 * RAM, the HPET and the interrupt window, toggle decode 2000 times): the
 * guest's own checks find every guard held and the function still answers
 * afterwards. */
static void test_config_space_abuse(void **state)
{
    (void)state;
    struct tool_run r;
    run_guest(&r, "attack", "cfg");
    if (r.status != 0 || !strstr(r.out, "ATTACK cfg: contained (status 0)") || !strstr(r.out, "device still answers"))
        fail_msg("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
}

/* Two functions, two VMs at once: each its own container (its DMA maps
 * only its own RAM), both reach the network. */
static void test_two_vms_two_functions(void **state)
{
    (void)state;
    char e[2][16];
    if (model_bdfs("e1000", e, 2) < 2)
        fail_msg("needs two e1000s in IOVIRT_VFIO_DEVICES ('%s'): scripts/testvm --nics e1000,e1000",
                 getenv("IOVIRT_VFIO_DEVICES"));
    static struct bg_run a, b;
    bg_start(&a, e[0], E1000_PING, "10.0.2.1");
    bg_start(&b, e[1], E1000_PING, "10.0.2.1");
    pthread_join(a.t, NULL);
    pthread_join(b.t, NULL);
    if (a.r.status || b.r.status || !strstr(a.r.out, "received=4") || !strstr(b.r.out, "received=4"))
        fail_msg("VM on %s: status %d\n%s%s\nVM on %s: status %d\n%s%s", e[0], a.r.status, a.r.out, a.r.err, e[1],
                 b.r.status, b.r.out, b.r.err);
}

/* A function one VM holds is refused to a second, with one line. */
/* Nothing of one VM reaches the next: VM 1 pings through the e1000 with a
 * 1 ms timeout (its last replies are still on their way when it powers
 * off and the function is reset and released), then VM 2 brings the same
 * function up and sends nothing for 2.5 s, longer than QEMU's ~1 s
 * receive hold: it must receive no frame at all (an echo reply there
 * would be VM 1's). */
static void test_next_vm_receives_nothing_of_the_last(void **state)
{
    (void)state;
    struct tool_run r;
    char *argv1[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", assign_arg, "--",
                     "interval_ms=20", "timeout_ms=1", "ping", "10.0.2.1", "100", NULL};
    assert_int_equal(tool__run(&r, argv1), 0);
    if (r.status || !strstr(r.out, "RESULT ping sent=100") || strstr(r.out, "received=0 "))
        fail_msg("VM 1: status %d (want replies to some pings)\n%s%s", r.status, r.out, r.err);
    char *argv2[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", assign_arg, "--",
                     "netwatch", "2500", NULL};
    assert_int_equal(tool__run(&r, argv2), 0);
    if (r.status || !strstr(r.out, "RESULT netwatch ms=2500 rx_frames=0 "))
        fail_msg("VM 2 received frames it never asked for: status %d\n%s%s", r.status, r.out, r.err);
}

static void test_function_in_use_refused(void **state)
{
    (void)state;
    static struct bg_run a;
    bg_start(&a, bdf, "sleep", "4000");
    struct timespec ts = {1, 500 * 1000 * 1000}; /* past the first VM's open */
    nanosleep(&ts, NULL);
    struct tool_run r;
    char *argv[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", assign_arg, "--", "hello", NULL};
    assert_int_equal(tool__run(&r, argv), 0);
    pthread_join(a.t, NULL);
    if (r.status != 2 || !strstr(r.err, "another process holds the group") || tool__error_lines(r.err) != 1)
        fail_msg("second VM: status %d\n%s", r.status, r.err);
    if (a.r.status != 0)
        fail_msg("first VM: status %d\n%s%s", a.r.status, a.r.out, a.r.err);
}

/* QEMU's virtio-net-pci (iommu_platform=on: its DMA goes through the
 * IOMMU) through VFIO: MSI-X vectors virtualized (the guest's table kept
 * here, VFIO's eventfds delivering), the virtio BAR mapped into the guest
 * (no exit on the data path), our virtio driver against a device we did
 * not write; its DMA outside the guest's RAM faults in the IOMMU. */
static void test_virtio_net_pci_msix(void **state)
{
    (void)state;
    char v[1][16];
    if (model_bdfs("virtio-net-pci", v, 1) < 1)
        fail_msg("needs a virtio-net-pci in IOVIRT_VFIO_DEVICES ('%s'): scripts/testvm --nics virtio-net-pci",
                 getenv("IOVIRT_VFIO_DEVICES"));
    char src[32];
    snprintf(src, sizeof src, "vfio:%s", v[0]);
    struct tool_run r;
    char *argv[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", src, "--stats", "--", "ping", "10.0.2.1", NULL};
    assert_int_equal(tool__run(&r, argv), 0);
    if (r.status || !strstr(r.out, "received=4") || !strstr(r.out, "interrupts: MSI-X"))
        fail_msg("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    /* the guest took the function's interrupts: "irqs N", N > 0 */
    const char *irqs = strstr(r.out, "virtio-net: tx");
    irqs = irqs ? strstr(irqs, " irqs ") : NULL;
    assert_non_null(irqs);
    assert_true(atoi(irqs + 6) > 0);
    /* the BAR with the virtio registers is mapped, never trapped */
    assert_null(strstr(r.err, "nic-bar4="));
    assert_non_null(strstr(r.err, "virtio status 0")); /* reset at claim */

    char *before = kernel_log();
    unsigned n0 = count_lines_with(before, "DMA Read", v[0] + 5);
    free(before);
    char *argv2[] = {"iovirt", "run", "--backend", "proc", "--nic", "assigned", "--assign", src, "--", "attack", "virtio", NULL};
    assert_int_equal(tool__run(&r, argv2), 0);
    if (r.status > 1)
        fail_msg("attack virtio: status %d\n%s%s", r.status, r.out, r.err);
    assert_non_null(strstr(r.out, "descriptor buffer beyond guest RAM"));
    char *after = kernel_log();
    unsigned n1 = count_lines_with(after, "DMA Read", v[0] + 5);
    free(after);
    if (n1 <= n0)
        fail_msg("no DMAR fault for %s after a descriptor beyond guest RAM", v[0]);
}

/* The MSI-X table of a VFIO function (QEMU's virtio-net-pci) abused by the
 * guest (`attack msix`): entries aimed at exception vectors, NMI/INIT/SMI
 * delivery, addresses outside the interrupt window or above 4 GiB, writes
 * past the table and into the PBA, enable/mask toggles.  On both backends
 * (proc: iovirt's thread delivers; kvm: irqfd routes) the guest reports
 * containment (a refused message raises nothing, its NIC works after the
 * restore) and the host kernel raised no vector of its own and logged no
 * interrupt-remapping fault. */
static void test_msix_table_abuse(void **state)
{
    (void)state;
    char v[1][16];
    if (model_bdfs("virtio-net-pci", v, 1) < 1)
        fail_msg("needs a virtio-net-pci in IOVIRT_VFIO_DEVICES ('%s')", getenv("IOVIRT_VFIO_DEVICES"));
    char src[32];
    snprintf(src, sizeof src, "vfio:%s", v[0]);
    static const char *const backends[] = {"proc", "kvm"};
    for (unsigned b = 0; b < 2; b++) {
        char *before = kernel_log();
        unsigned nh0 = count_lines_with(before, "No irq handler", "vector");
        unsigned ir0 = count_lines_with(before, "DMAR", "INTR-REMAP");
        free(before);
        struct tool_run r;
        char *argv[] = {"iovirt", "run", "--backend", (char *)backends[b], "--nic", "assigned", "--assign", src,
                        "--", "attack", "msix", NULL};
        assert_int_equal(tool__run(&r, argv), 0);
        if (r.status || !strstr(r.out, "ATTACK msix: contained") || strstr(r.out, "NOT contained") ||
            !strstr(r.out, "entry 0 restored: replies yes"))
            fail_msg("attack msix on %s: status %d\nstdout:\n%s\nstderr:\n%s", backends[b], r.status, r.out, r.err);
        char *after = kernel_log();
        unsigned nh1 = count_lines_with(after, "No irq handler", "vector");
        unsigned ir1 = count_lines_with(after, "DMAR", "INTR-REMAP");
        free(after);
        if (nh1 != nh0 || ir1 != ir0)
            fail_msg("attack msix on %s reached the host: %u new 'No irq handler' and %u new INTR-REMAP lines",
                     backends[b], nh1 - nh0, ir1 - ir0);
    }
}

/* The same functions on the KVM backend with the bare kernel: the
 * function's mapped BAR pages become KVM memory slots; INTx reaches the
 * guest through iovirt's thread (KVM_SIGNAL_MSI), MSI-X vectors through
 * KVM irqfds without iovirt.  (timeout_ms=3000: QEMU's e1000 holds
 * its first received frames back ~1 s after the driver's RCTL write.) */
static void test_kvm_backend(void **state)
{
    (void)state;
    char e[1][16], v[1][16];
    if (model_bdfs("e1000", e, 1) < 1 || model_bdfs("virtio-net-pci", v, 1) < 1)
        fail_msg("needs an e1000 and a virtio-net-pci in IOVIRT_VFIO_DEVICES ('%s')", getenv("IOVIRT_VFIO_DEVICES"));
    for (int i = 0; i < 2; i++) {
        char src[32];
        snprintf(src, sizeof src, "vfio:%s", i ? v[0] : e[0]);
        struct tool_run r;
        char *argv[] = {"iovirt", "run", "--backend", "kvm", "--nic", "assigned", "--assign", src, "--stats", "--",
                        "timeout_ms=3000", "ping", "10.0.2.1", NULL};
        assert_int_equal(tool__run(&r, argv), 0);
        if (r.status || !strstr(r.err, "backend kvm") || !strstr(r.out, "RESULT ping sent=4 received=4") ||
            !strstr(r.out, i ? "interrupts: MSI-X" : "interrupts: INTx"))
            fail_msg("%s on kvm: status %d\nstdout:\n%s\nstderr:\n%s", src, r.status, r.out, r.err);
        if (!i) {
            /* INTx goes VFIO's eventfd -> KVM level irqfd on the I/O APIC
             * input, and the guest's EOI -> resample fd -> VFIO's unmask:
             * the guest took interrupts, none passed through iovirt, and
             * BAR0 is all mapped (no ICR read to trap) */
            const char *irqs = strstr(r.out, "e1000: tx");
            irqs = irqs ? strstr(irqs, " irqs ") : NULL;
            if (!irqs || atoi(irqs + 6) <= 0 || !strstr(r.err, "INTx through iovirt: asserted 0,") ||
                strstr(r.err, "nic-bar0="))
                fail_msg("e1000 on kvm: want guest irqs > 0, no INTx through iovirt, BAR0 untrapped\n"
                         "stdout:\n%s\nstderr:\n%s", r.out, r.err);
        }
        if (i) {
            /* MSI-X vectors go eventfd -> KVM irqfd -> the guest's LAPIC:
             * the guest took interrupts, none passed through iovirt */
            const char *irqs = strstr(r.out, "virtio-net: tx");
            irqs = irqs ? strstr(irqs, " irqs ") : NULL;
            if (!irqs || atoi(irqs + 6) <= 0 || !strstr(r.err, "assign: host interrupts 0,"))
                fail_msg("virtio-net-pci on kvm: want guest irqs > 0 and 0 host interrupts\nstdout:\n%s\nstderr:\n%s",
                         r.out, r.err);
        }
    }
    /* DMA outside the guest's RAM from a KVM guest faults in the IOMMU too */
    char *before = kernel_log();
    unsigned n0 = count_lines_with(before, "fault addr 0x3e000000", e[0] + 5);
    free(before);
    char src[32];
    snprintf(src, sizeof src, "vfio:%s", e[0]);
    struct tool_run r;
    char *argv[] = {"iovirt", "run", "--backend", "kvm", "--nic", "assigned", "--assign", src, "--",
                    "attack", "dma_tx", "0x3e000000", NULL};
    assert_int_equal(tool__run(&r, argv), 0);
    if (r.status > 1)
        fail_msg("attack on kvm: status %d\n%s%s", r.status, r.out, r.err);
    char *after = kernel_log();
    unsigned n1 = count_lines_with(after, "fault addr 0x3e000000", e[0] + 5);
    free(after);
    if (n1 <= n0)
        fail_msg("no DMAR fault at 0x3e000000 for %s after a KVM guest's TX descriptor there", e[0]);
}

int main(void)
{
    tool__init();
    bdf = getenv("IOVIRT_VFIO_BDF");
    if (!bdf || strlen(bdf) != 12) {
        fprintf(stderr, "test_vfio_assign: IOVIRT_VFIO_BDF is not set: run it in the test machine "
                        "(scripts/testvm --nics e1000 -- %s)\n",
                "build/tests/test_vfio_assign");
        return 1;
    }
    snprintf(assign_arg, sizeof assign_arg, "vfio:%s", bdf);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ping_through_assigned_function),
        cmocka_unit_test(test_dma_read_outside_ram_faults),
        cmocka_unit_test(test_dma_write_outside_ram_faults),
        cmocka_unit_test(test_config_space_abuse),
        cmocka_unit_test(test_two_vms_two_functions),
        cmocka_unit_test(test_function_in_use_refused),
        cmocka_unit_test(test_next_vm_receives_nothing_of_the_last),
        cmocka_unit_test(test_virtio_net_pci_msix),
        cmocka_unit_test(test_kvm_backend),
        cmocka_unit_test(test_msix_table_abuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
