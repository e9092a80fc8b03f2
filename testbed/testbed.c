#include "testbed/testbed.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/virtio/virtio_net.h"
#include "lib/guest_path.h"
#include "lib/log.h"
#include "lib/tsc.h"

static const char *const mode_names[] = {
    [TESTBED_NONE] = "none", [TESTBED_NATIVE] = "native", [TESTBED_ASSIGNED] = "assigned",
    [TESTBED_VIRTIO] = "virtio", [TESTBED_EMULATED] = "emulated",
};

const char *testbed__mode_name(enum testbed_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "?";
}

int testbed__mode_parse(const char *s, enum testbed_mode *out)
{
    for (unsigned i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (!strcmp(s, mode_names[i])) {
            *out = (enum testbed_mode)i;
            return 0;
        }
    return -1;
}

static const char *const peer_names[] = {[TESTBED_PEER_SINK] = "sink", [TESTBED_PEER_IPERF3] = "iperf3",
                                         [TESTBED_PEER_IPERF3_CLIENT] = "iperf3-client"};

#define TESTBED_GUEST_IP "10.0.2.15" /* the guest kernel's default (guest/kernel/knet.h) */
#define TESTBED_LISTENING "Server listening on "

/* The guest's console, passed on; with the iperf3 client as peer, the
 * guest server's "Server listening on" line starts it (once). */
static void testbed__console(void *ctx, const char *line, size_t len)
{
    struct testbed *t = ctx;
    size_t mlen = sizeof TESTBED_LISTENING - 1;
    if (t->cfg.peer == TESTBED_PEER_IPERF3_CLIENT && !t->peer_up && !t->peer_failed && len >= mlen && !memcmp(line, TESTBED_LISTENING, mlen)) {
        struct wire_iperf3_client_args a = t->cfg.peer_args;
        if (!a.time_s)
            a.time_s = 10;
        uint16_t port = t->cfg.peer_port ? t->cfg.peer_port : WIRE_IPERF3_DEFAULT_PORT;
        int r = wire_iperf3__start_client(&t->peer, t->plat.wire, TESTBED_GUEST_IP, port, &a, WIRE_IPERF3_MAX_S);
        if (r) {
            log__err("testbed", "iperf3 client in the namespace: %s",
                     r == -ENOENT ? "no iperf3 binary on PATH (apt-get install iperf3)" : strerror(-r));
            t->peer_failed = true;
        } else {
            t->peer_up = true;
        }
    }
    if (t->cfg.console) {
        t->cfg.console(t->cfg.console_ctx, line, len);
        return;
    }
    printf("%s\n", line);
    fflush(stdout);
}

const char *testbed__peer_name(enum testbed_peer p)
{
    return (unsigned)p < sizeof peer_names / sizeof peer_names[0] ? peer_names[p] : "?";
}

int testbed__peer_parse(const char *s, enum testbed_peer *out)
{
    for (unsigned i = 0; i < sizeof peer_names / sizeof peer_names[0]; i++)
        if (!strcmp(s, peer_names[i])) {
            *out = (enum testbed_peer)i;
            return 0;
        }
    return -1;
}

int testbed__create(struct testbed *t, const struct testbed_config *cfg)
{
    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    enum testbed_mode m = cfg->mode;
    struct platform_config pc = {.mem_bytes = cfg->host_mem_bytes, .line_rate = cfg->line_rate,
                                 .wire = PLATFORM_WIRE_TAP};
    int r = platform__create(&t->plat, &pc);
    if (r)
        return r;
    t->plat_up = true;
    if (cfg->wire_loss_ppm) {
        struct wire_loss loss = {.ppm = cfg->wire_loss_ppm, .seed = 1};
        wire__set_loss(t->plat.wire, &loss);
    }
    if ((r = host_os__boot(&t->host, &t->plat, m != TESTBED_NATIVE && !cfg->no_interrupt_remapping)))
        goto fail;
    t->host_up = true;
    if ((m == TESTBED_VIRTIO || m == TESTBED_EMULATED) && (r = host_os__nic_up(&t->host)))
        goto fail;
    if ((r = wire_sink__start(&t->sink, t->plat.wire, cfg->sink_port ? cfg->sink_port : 5001))) {
        log__err("testbed", "sink in the namespace: %s", strerror(-r));
        goto fail;
    }
    t->sink_up = true;
    wire_sink__verify(&t->sink, cfg->sink_verify_msg);
    if (cfg->peer == TESTBED_PEER_IPERF3) {
        uint16_t port = cfg->peer_port ? cfg->peer_port : WIRE_IPERF3_DEFAULT_PORT;
        if ((r = wire_iperf3__start(&t->peer, t->plat.wire, port, WIRE_IPERF3_MAX_S))) {
            log__err("testbed", "iperf3 server in the namespace (port %u): %s", port,
                     r == -ENOENT ? "no iperf3 binary on PATH (apt-get install iperf3)" : strerror(-r));
            goto fail;
        }
        t->peer_up = true;
    }
    if (m == TESTBED_NATIVE) {
        char path[PATH_MAX];
        const char *k = cfg->native_kernel;
        if (!k) {
            if (!cfg->kernel || guest_path__native(cfg->kernel, path, sizeof path)) {
                log__err("testbed", "no native kernel");
                r = -EINVAL;
                goto fail;
            }
            k = path;
        }
        struct native_config nc = {
            .host = &t->host, .mem_bytes = cfg->mem_bytes ? cfg->mem_bytes : 64ull << 20,
            .kernel_path = k, .cmdline = cfg->cmdline, .tsc_hz = tsc__calibrate_hz(),
            .console = testbed__console, .console_ctx = t,
        };
        if ((r = native__create(&t->native, &nc)))
            goto fail;
        t->native_up = true;
        return 0;
    }
    static const enum hv_nic_mode nic[] = {
        [TESTBED_NONE] = HV_NIC_NONE, [TESTBED_NATIVE] = HV_NIC_ASSIGNED,
        [TESTBED_ASSIGNED] = HV_NIC_ASSIGNED, [TESTBED_VIRTIO] = HV_NIC_VIRTIO,
        [TESTBED_EMULATED] = HV_NIC_EMULATED,
    };
    /* The device's feature switch: the option, else the environment (so
     * `iovirt bench` compares offloads on and off without an option). */
    const char *off_list = cfg->virtio_off ? cfg->virtio_off : getenv("IOVIRT_VIRTIO_OFF");
    uint64_t features_off = 0;
    if (off_list && virtio_net__parse_features_off(off_list, &features_off)) {
        log__err("testbed", "virtio features '%s': use csum, guest-csum, tso4, guest-tso4, "
                 "mrg-rxbuf, event-idx, offloads or none", off_list);
        r = -EINVAL;
        goto fail;
    }
    struct hv_vm_config vc = {
        .name = "vm0",
        .pm = &t->plat.pm,
        .mem_bytes = cfg->mem_bytes ? cfg->mem_bytes : 64ull << 20,
        .kernel_path = cfg->kernel,
        .backend = cfg->backend,
        .cmdline = cfg->cmdline,
        .initrd_path = cfg->initrd,
        .nic = nic[m],
        .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57},
        .bridge = &t->host.bridge,
        .virtio_features_off = features_off,
        .host = &t->host,
        .tsc_hz = tsc__calibrate_hz(),
        .allow_unsafe_interrupts = cfg->allow_unsafe_interrupts,
        .assign_source = cfg->assign_source,
        .console = testbed__console,
        .console_ctx = t,
    };
    if ((r = hv_vm__create(&t->vm, &vc)))
        goto fail;
    t->vm_up = true;
    return 0;
fail:
    testbed__destroy(t);
    return r;
}

int testbed__run(struct testbed *t)
{
    return t->native_up ? native__run(&t->native) : hv_vm__run(&t->vm);
}

void testbed__stop(struct testbed *t)
{
    if (t->native_up)
        native__stop(&t->native);
    else if (t->vm_up)
        hv_vm__stop(&t->vm);
}

int testbed__exit_status(const struct testbed *t)
{
    return t->cfg.mode == TESTBED_NATIVE ? t->native.exit_status : t->vm.exit_status;
}

void testbed__exit_stats(const struct testbed *t, uint64_t out[VCPU_STAT__COUNT])
{
    if (t->cfg.mode == TESTBED_NATIVE)
        memset(out, 0, sizeof(uint64_t) * VCPU_STAT__COUNT);
    else
        memcpy(out, t->vm.vcpu.stats.n, sizeof(uint64_t) * VCPU_STAT__COUNT);
}

uint64_t testbed__interrupts(struct testbed *t)
{
    if (t->cfg.mode == TESTBED_NATIVE)
        return __atomic_load_n(&t->native.cpu.delivered, __ATOMIC_RELAXED);
    return t->vm.vcpu.stats.n[VCPU_STAT_INJECT];
}

/* A VM whose vCPU runs on a thread of this process (kvm), if it does. */
static bool vcpu_in_process(struct testbed *t)
{
    return t->cfg.mode != TESTBED_NATIVE && t->vm_up && (t->vm.vm.ops->caps & VCPU_CAP_IN_PROCESS);
}

uint64_t testbed__os_thread_cpu_ns(struct testbed *t)
{
    clockid_t cid;
    struct timespec ts;
    if (vcpu_in_process(t)) {
        int64_t g = vcpu__cpu_time_ns(&t->vm.vcpu);
        return g > 0 ? (uint64_t)g : 0;
    }
    if (t->cfg.mode != TESTBED_NATIVE || !t->native_up || !t->native.thread_started ||
        pthread_getcpuclockid(t->native.thread, &cid) || clock_gettime(cid, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t testbed__guest_cpu_ns(struct testbed *t)
{
    if (t->cfg.mode == TESTBED_NATIVE || !t->vm_up || vcpu_in_process(t))
        return 0;
    int64_t g = vcpu__cpu_time_ns(&t->vm.vcpu);
    return g > 0 ? (uint64_t)g : 0;
}

void testbed__destroy(struct testbed *t)
{
    if (t->vm_up)
        hv_vm__destroy(&t->vm);
    if (t->native_up)
        native__destroy(&t->native);
    if (t->peer_up) /* the guest is gone: iperf3 -1 exits after its test */
        wire_iperf3__stop(&t->peer, 2000);
    if (t->sink_up) {
        /* Let the Linux side see the guest's FIN before we count. */
        wire_sink__wait_closed(&t->sink, t->sink.connections, 2000);
        wire_sink__stop(&t->sink);
    }
    if (t->host_up)
        host_os__shutdown(&t->host);
    if (t->plat_up)
        platform__destroy(&t->plat);
    t->vm_up = t->native_up = t->peer_up = t->sink_up = t->host_up = t->plat_up = false;
}
