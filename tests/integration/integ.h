/* Shared helpers of the integration tests (header-only, one per binary):
 * locate the guest kernel next to the test binary, capture the guest's
 * console, run a testbed with a watchdog, collect the counters the tests
 * assert on (sink bytes, NIC frames, exits per trapped range, VT-d faults). */
#ifndef IOVIRT_TESTS_INTEGRATION_INTEG_H
#define IOVIRT_TESTS_INTEGRATION_INTEG_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv/assign.h"
#include "testbed/testbed.h"
#include "hv/virtio/virtio_net.h"
#include "lib/log.h"

#define INTEG_LINE_RATE   1000000000ull   /* 1 Gb/s, the paper's wire */
#define INTEG_WATCHDOG_S  25              /* a hung guest is stopped, the test fails */
#define INTEG_CONSOLE_MAX (64u << 10)

static inline void integ__kernel(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    int w = snprintf(out, len, "%s/../guest/iovirt-guest.elf", exe);
    assert_true(w > 0 && (size_t)w < len);
    assert_int_equal(access(out, R_OK), 0);
}

/* ---- console capture (called on the VM's run thread) -------------------- */

struct integ_console {
    pthread_mutex_t lock;
    char buf[INTEG_CONSOLE_MAX];
    size_t len;
};

static inline void integ__console_init(struct integ_console *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
}

static inline void integ__console_fn(void *ctx, const char *line, size_t len)
{
    struct integ_console *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->len + len + 2 < sizeof c->buf) {
        memcpy(c->buf + c->len, line, len);
        c->len += len;
        c->buf[c->len++] = '\n';
        c->buf[c->len] = 0;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Value of " key=" on the first line starting with prefix; false if absent. */
static inline bool integ__field(const struct integ_console *c, const char *prefix, const char *key,
                                uint64_t *out)
{
    const char *l = c->buf;
    while (l && *l) {
        if (!strncmp(l, prefix, strlen(prefix))) {
            const char *eol = strchr(l, '\n');
            char pat[64];
            snprintf(pat, sizeof pat, " %s=", key);
            const char *f = strstr(l, pat);
            if (!f || (eol && f > eol))
                return false;
            *out = strtoull(f + strlen(pat), NULL, 10);
            return true;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return false;
}

static inline bool integ__has(const struct integ_console *c, const char *s)
{
    return strstr(c->buf, s) != NULL;
}

/* ---- watchdog: stop a VM that runs too long ------------------------------ */

struct integ_watchdog {
    struct hv_vm *vm;
    struct testbed *tb;          /* instead of vm: any mode, also native */
    unsigned seconds;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, fired;
};

static inline void *integ__watchdog_main(void *arg)
{
    struct integ_watchdog *w = arg;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += w->seconds;
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &dl) == ETIMEDOUT)
            break;
    if (!w->done) {
        w->fired = true;
        if (w->tb)
            testbed__stop(w->tb);
        else
            hv_vm__stop(w->vm);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static inline void integ__watchdog_start(struct integ_watchdog *w, struct hv_vm *vm, unsigned seconds)
{
    memset(w, 0, sizeof(*w));
    w->vm = vm;
    w->seconds = seconds;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    assert_int_equal(pthread_create(&w->thread, NULL, integ__watchdog_main, w), 0);
}

/* Returns true if the watchdog had to stop the VM. */
static inline bool integ__watchdog_stop(struct integ_watchdog *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    return w->fired;
}

/* ---- counters ------------------------------------------------------------ */

/* Accesses trapped on every range registered under `name`. */
static inline void integ__traps(const struct hv_vm *vm, const char *name, uint64_t *reads,
                                uint64_t *writes)
{
    *reads = *writes = 0;
    for (unsigned i = 0; i < vm->traps.n; i++)
        if (vm->traps.t[i].name && !strcmp(vm->traps.t[i].name, name)) {
            *reads += vm->traps.t[i].reads;
            *writes += vm->traps.t[i].writes;
        }
}

struct integ_out {
    int run_rc, exit_status;
    bool watchdog_fired;
    uint64_t sink_tcp_bytes, sink_udp_datagrams, sink_closed;
    uint64_t sink_bad_bytes, sink_first_bad_at;       /* with verify_msg: stream content */
    uint64_t nic_gso_writes;                         /* TSO bursts written to the TAP whole */
    uint64_t nic_tx_frames, nic_rx_frames;           /* the physical NIC */
    uint64_t bar0_reads, bar0_writes;                /* exits on nic-bar0 */
    uint64_t assign_injected;                        /* assigned: NIC interrupts injected */
    struct virtio_net_stats virtio;                  /* virtio mode */
    uint64_t virtio_features;                        /* virtio mode: negotiated */
    uint64_t uplink_tx_gso;                          /* TSO frames the bridge handed to the host NIC */
    uint64_t faults_total;
    struct integ_console con;
};

static inline double integ__mbps(uint64_t bytes, uint64_t ns)
{
    return ns ? (double)bytes * 8 / (double)ns * 1000.0 : 0;
}

/* Options of integ__run_opts: virtio features the device does not offer
 * (testbed_config.virtio_off), the sink checking the content of a `stream`
 * of verify_msg-byte messages (0: no check), a hook run on the testbed
 * before the guest. */
struct integ_opts {
    const char *virtio_off;
    uint32_t verify_msg;
    void (*before_run)(struct testbed *t);
};

static inline void integ__run_opts(enum testbed_mode mode, const char *cmdline, const struct integ_opts *opt,
                                   struct integ_out *o);

/* Boot `cmdline` in `mode` on a fresh testbed, run it to power-off (bounded),
 * let the sink see the close, collect the counters, tear down. */
static inline void integ__run(enum testbed_mode mode, const char *cmdline, struct integ_out *o)
{
    static const struct integ_opts none;
    integ__run_opts(mode, cmdline, &none, o);
}

/* integ__run with the sink checking the content of a `stream` of
 * verify_msg-byte messages (0: no check). */
static inline void integ__run_verify(enum testbed_mode mode, const char *cmdline,
                                     uint32_t verify_msg, struct integ_out *o)
{
    const struct integ_opts opt = {.verify_msg = verify_msg};
    integ__run_opts(mode, cmdline, &opt, o);
}

static inline void integ__run_opts(enum testbed_mode mode, const char *cmdline, const struct integ_opts *opt,
                                   struct integ_out *o)
{
    char kernel[PATH_MAX];
    integ__kernel(kernel, sizeof kernel);
    memset(o, 0, sizeof(*o));
    integ__console_init(&o->con);
    struct testbed_config cfg = {
        .mode = mode, .line_rate = INTEG_LINE_RATE, .kernel = kernel, .cmdline = cmdline,
        .console = integ__console_fn, .console_ctx = &o->con, .virtio_off = opt->virtio_off,
        .sink_verify_msg = opt->verify_msg,
    };
    struct testbed *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    int rc = testbed__create(t, &cfg);
    if (rc) {
        free(t);
        fail_msg("testbed__create(%s): %s", testbed__mode_name(mode), strerror(-rc));
    }
    if (opt->before_run)
        opt->before_run(t);
    struct integ_watchdog w;
    integ__watchdog_start(&w, NULL, INTEG_WATCHDOG_S);
    w.tb = t;
    o->run_rc = testbed__run(t);
    o->watchdog_fired = integ__watchdog_stop(&w);
    o->exit_status = testbed__exit_status(t);
    if (t->sink.connections)
        wire_sink__wait_closed(&t->sink, t->sink.connections, 3000);
    o->sink_tcp_bytes = t->sink.tcp_bytes;
    o->sink_udp_datagrams = t->sink.udp_datagrams;
    o->sink_closed = t->sink.closed;
    for (unsigned i = 0; i < WIRE_SINK_MAX_CONN && i < t->sink.connections; i++) {
        if (t->sink.conn[i].bad_bytes && !o->sink_bad_bytes)
            o->sink_first_bad_at = t->sink.conn[i].first_bad_at;
        o->sink_bad_bytes += t->sink.conn[i].bad_bytes;
    }
    struct e1000_nic_stats ns;
    e1000_nic__get_stats(t->plat.nic, &ns);
    o->nic_tx_frames = ns.tx_frames;
    o->nic_rx_frames = ns.rx_frames;
    o->nic_gso_writes = ns.tx_gso_writes;
    integ__traps(&t->vm, "nic-bar0", &o->bar0_reads, &o->bar0_writes);
    if (t->vm.assign)
        o->assign_injected = t->vm.assign->injected;
    if (t->vm.virtio) {
        virtio_net__get_stats(t->vm.virtio, &o->virtio);
        o->virtio_features = virtio_net__negotiated(t->vm.virtio);
    }
    o->uplink_tx_gso = __atomic_load_n(&t->host.bridge.uplink_tx_gso_frames, __ATOMIC_RELAXED);
    host_os__poll_faults(&t->host);
    o->faults_total = host_os__faults_total(&t->host);
    testbed__destroy(t);
    free(t);
}

static inline void integ__expect_ok(const struct integ_out *o, const char *what)
{
    if (o->run_rc || o->exit_status || o->watchdog_fired)
        fail_msg("%s: run rc %d, guest exit %d, watchdog %d; console:\n%s", what, o->run_rc,
                 o->exit_status, o->watchdog_fired, o->con.buf);
}

#endif
