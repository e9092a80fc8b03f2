/* Issue 6, "two VMs at once": one assigned, one virtio, on the same machine
 * and host OS, both streaming at the same time; then neither can reach the
 * other's memory by DMA.
 *
 * The machine has one physical NIC: while it is assigned to VM A, the host
 * driver cannot use it, so VM B's virtio-net cannot go out through it.  VM B
 * therefore hangs off its own software bridge whose uplink is an in-process
 * frame counter (no Linux peer behind it, hence a UDP stream to the
 * broadcast address: no ARP needed).  Shown:
 *   - both run concurrently on two threads: A's TCP stream through the
 *     assigned NIC reaches the Linux sink (sink bytes == A's bytes > 1 MB)
 *     and B's UDP datagrams reach B's bridge uplink (frames == B's msgs),
 *     some of them while A was still running;
 *   - isolation: a new assigned VM A' runs `dmaprobe HPA` with HPA the
 *     host-physical address of one of B's RAM extents (filled with a canary
 *     pattern): the IOMMU faults at that address, the NIC transmits nothing,
 *     B's memory is unchanged.  A GPA equal to that HPA is outside A's RAM
 *     (asserted), so the only way to reach B is the IOMMU failing.
 * Not shown here: B reaching A's memory; B has no DMA-capable device, and
 * its virtio backend touches only B's RAM through bounds-checked guest_mem
 * accessors (hv/guest_mem and virtio-net unit tests, the virtio fuzzer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/integration/integ.h"

#define CANARY_BYTE 0x5C

struct counter_uplink {
    uint8_t mac[6];
    _Atomic uint64_t frames, bytes, frames_from_b, frames_while_a_runs;
    _Atomic bool a_running;
};

static int uplink_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct counter_uplink *u = ctx;
    u->frames++;
    u->bytes += len;
    if (len >= 14 && !memcmp(frame + 6, u->mac, 6))
        u->frames_from_b++;
    if (u->a_running)
        u->frames_while_a_runs++;
    return 0;
}

struct vm_thread {
    struct hv_vm *vm;
    int rc;
    bool watchdog;
    struct counter_uplink *u;   /* A only: clears a_running when done */
};

static void *vm_thread_main(void *arg)
{
    struct vm_thread *vt = arg;
    struct integ_watchdog w;
    integ__watchdog_start(&w, vt->vm, INTEG_WATCHDOG_S);
    vt->rc = hv_vm__run(vt->vm);
    vt->watchdog = integ__watchdog_stop(&w);
    if (vt->u)
        vt->u->a_running = false;
    return NULL;
}

struct rig {
    struct testbed t;           /* machine, host OS, sink; t.vm is VM A */
    struct hv_vm b;
    bool b_up;
    struct bridge b_bridge;
    struct counter_uplink up;
    struct hv_vm_config vc;
    char kernel[PATH_MAX];
    struct integ_console con_a, con_b;
};

static void check_exit(struct hv_vm *vm, const struct vm_thread *vt, const struct integ_console *c)
{
    if (vt->rc || vt->watchdog || vm->exit_status)
        fail_msg("%s: run rc %d watchdog %d exit %d; console:\n%s", vm->cfg.name, vt->rc, vt->watchdog,
                 vm->exit_status, c->buf);
}

static void vm_a_create(struct rig *r, const char *cmdline)
{
    if (r->t.vm_up) {
        hv_vm__destroy(&r->t.vm);
        r->t.vm_up = false;
    }
    integ__console_init(&r->con_a);
    struct hv_vm_config c = r->vc;
    c.name = "vmA";
    c.nic = HV_NIC_ASSIGNED;
    c.cmdline = cmdline;
    c.console = integ__console_fn;
    c.console_ctx = &r->con_a;
    assert_int_equal(hv_vm__create(&r->t.vm, &c), 0);
    r->t.vm_up = true;
}

static void test_two_vms(void **state)
{
    (void)state;
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    integ__kernel(r->kernel, sizeof r->kernel);
    integ__console_init(&r->con_a);
    struct testbed_config cfg = {.mode = TESTBED_NONE, .line_rate = INTEG_LINE_RATE,
                                 .kernel = r->kernel, .cmdline = "hello",
                                 .console = integ__console_fn, .console_ctx = &r->con_a};
    assert_int_equal(testbed__create(&r->t, &cfg), 0);
    r->vc = r->t.vm.cfg;

    /* VM B: virtio on its own bridge. */
    static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0xBB, 0x00, 0x02};
    memcpy(r->up.mac, mac_b, 6);
    bridge__init(&r->b_bridge, uplink_tx, &r->up);
    integ__console_init(&r->con_b);
    struct hv_vm_config cb = r->vc;
    cb.name = "vmB";
    cb.nic = HV_NIC_VIRTIO;
    memcpy(cb.mac, mac_b, 6);
    cb.bridge = &r->b_bridge;
    cb.cmdline = "udp_stream 255.255.255.255 5001 1472 1";
    cb.console = integ__console_fn;
    cb.console_ctx = &r->con_b;
    assert_int_equal(hv_vm__create(&r->b, &cb), 0);
    r->b_up = true;

    /* VM A: the NIC assigned, TCP to the Linux sink. */
    vm_a_create(r, "stream 10.0.2.1 5001 16384 1");

    struct vm_thread ta = {.vm = &r->t.vm, .u = &r->up}, tb = {.vm = &r->b};
    pthread_t tha, thb;
    r->up.a_running = true;
    assert_int_equal(pthread_create(&tha, NULL, vm_thread_main, &ta), 0);
    assert_int_equal(pthread_create(&thb, NULL, vm_thread_main, &tb), 0);
    pthread_join(tha, NULL);
    pthread_join(thb, NULL);
    check_exit(&r->t.vm, &ta, &r->con_a);
    check_exit(&r->b, &tb, &r->con_b);

    uint64_t a_bytes = 0, a_ns = 0, b_msgs = 0;
    assert_true(integ__field(&r->con_a, "RESULT stream", "bytes", &a_bytes));
    assert_true(integ__field(&r->con_a, "RESULT stream", "elapsed_ns", &a_ns));
    assert_true(integ__field(&r->con_b, "RESULT udp_stream", "msgs", &b_msgs));
    wire_sink__wait_closed(&r->t.sink, 1, 3000);
    printf("  A assigned: %" PRIu64 " bytes (%.0f Mb/s), sink %" PRIu64 "; B virtio: %" PRIu64
           " datagrams, uplink frames %" PRIu64 " (%" PRIu64 " while A ran)\n",
           a_bytes, integ__mbps(a_bytes, a_ns), (uint64_t)r->t.sink.tcp_bytes, b_msgs,
           (uint64_t)r->up.frames, (uint64_t)r->up.frames_while_a_runs);
    assert_int_equal(r->t.sink.tcp_bytes, a_bytes);
    assert_true(a_bytes > (1ull << 20));
    assert_true(b_msgs > 1000);
    assert_true(r->up.frames_from_b >= b_msgs);
    assert_true(r->up.frames_while_a_runs > 0);
    /* B's traffic stayed on B's bridge: the Linux sink saw no UDP. */
    assert_int_equal(r->t.sink.udp_datagrams, 0);

    /* Isolation: A' aims the NIC's DMA at B's last RAM extent. */
    uint64_t target = r->b.mem.hpa[r->b.mem.nr_extents - 1];
    assert_true(target >= PLATFORM_RAM_BASE + r->vc.mem_bytes || target + PHYSMEM_PAGE_2M <= PLATFORM_RAM_BASE);
    uint8_t *p = physmem__ptr(&r->t.plat.pm, target, PHYSMEM_PAGE_4K);
    assert_non_null(p);
    memset(p, CANARY_BYTE, PHYSMEM_PAGE_4K);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "dmaprobe 0x%" PRIx64, target);
    vm_a_create(r, cmd);
    struct e1000_nic_stats s0, s1;
    e1000_nic__get_stats(r->t.plat.nic, &s0);
    host_os__poll_faults(&r->t.host);
    uint64_t faults0 = host_os__faults_total(&r->t.host);
    assert_int_equal(faults0, 0);   /* A's own traffic stayed inside its domain */
    struct vm_thread tp = {.vm = &r->t.vm};
    vm_thread_main(&tp);
    check_exit(&r->t.vm, &tp, &r->con_a);
    assert_true(integ__has(&r->con_a, "DMAPROBE done"));
    e1000_nic__get_stats(r->t.plat.nic, &s1);
    host_os__poll_faults(&r->t.host);
    assert_true(host_os__faults_total(&r->t.host) > faults0);
    struct host_vtd_fault f[HOST_OS_FAULT_LOG];
    unsigned n = host_os__faults(&r->t.host, f, HOST_OS_FAULT_LOG);
    bool found = false;
    for (unsigned i = 0; i < n; i++)
        found |= !f[i].is_ir && f[i].addr == target && f[i].sid == PLATFORM_NIC_SID && !f[i].is_write;
    assert_true(found);
    assert_int_equal(s1.tx_frames, s0.tx_frames);
    for (unsigned i = 0; i < PHYSMEM_PAGE_4K; i++)
        assert_int_equal(p[i], CANARY_BYTE);
    printf("  A' dmaprobe 0x%" PRIx64 " (B's RAM): blocked, fault recorded, nothing sent\n", target);

    hv_vm__destroy(&r->b);
    bridge__destroy(&r->b_bridge);
    testbed__destroy(&r->t);
    free(r);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_vms),
    };
    return cmocka_run_group_tests_name("integ_two_vms", tests, NULL, NULL);
}
