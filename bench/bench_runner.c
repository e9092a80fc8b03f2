/* The runner of `iovirt bench`: each point is a fresh testbed (the
 * modelled machine with its TAP wire and Linux sink, the host OS, and the
 * guest kernel in the point's mode) running the guest's `stream` program,
 * or for --test maerts its `maerts` receiver against a Linux sender
 * (testbed/wire_source, started at the guest's "maerts: listening" line),
 * or for --test rr its `rr` client against a Linux echo peer
 * (testbed/wire_echo).  What follows is said of stream; the other two
 * have the same two clocks, counts and audit with their peer in the
 * sink's place (docs/bench.md).
 *
 * Two clocks time the data: the Linux sink's (first to last payload byte
 * of the connection, by the kernel's arrival stamps; by the sink's reads
 * if there are none) and the guest's own (its RESULT
 * line: first byte queued to last byte acknowledged).  Throughput is the
 * sink's bytes over the sink's window; the guest's window is the
 * cross-check, and a point whose two throughputs differ by more than
 * BENCH_CLOCK_AGREE fails.  Neither window contains the connection's close
 * (the guest prints RESULT before it closes).
 *
 * CPU and exit counters are read when the guest prints "stream: start" and
 * at its "RESULT stream" line, both seen by the console callback on the
 * thread that runs the vCPU, so every counter is read at the same instants.
 * Every thread is charged to a role (bench_run.h, enum bench_cpu_role):
 * guest process -> vcpu; the vCPU run-loop thread, plus the assigned
 * device's interrupt handler timed per call on the NIC thread ->
 * hypervisor; virtio backend, host receive thread, the host driver's
 * interrupt handler (timed likewise) and the timer model -> backends; the
 * NIC's hardware thread minus those handlers -> nic; the sink thread ->
 * sink.  cpu_total is the whole of both processes, for the sum check.
 *
 * A point whose sink byte count differs from the guest's, whose clocks
 * disagree, or during which the VT-d unit recorded a fault, is a failed
 * point (bench__audit_point): its figures describe a broken transfer or a
 * broken measurement, not the mode. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_acct.h"
#include "bench/bench_config.h"
#include "hv/e1000_emul.h"
#include "bench/bench_run.h"
#include "hv/assign.h"
#include "hv/virtio/virtio_net.h"
#include "hw/timer/hpet.h"
#include "testbed/testbed.h"
#include "testbed/wire_echo.h"
#include "testbed/wire_source.h"
#include "lib/guest_path.h"
#include "lib/log.h"

struct runner_ctx {
    char kernel[PATH_MAX];
};

struct snapshot {
    uint64_t wall_ns, proc_ns, guest_ns, os_thread_ns, run_loop_ns, nic_ns, sink_ns;
    uint64_t virtio_ns, emul_ns, host_rx_ns, hpet_ns, assign_irq_ns, host_irq_ns;
    uint64_t stats[VCPU_STAT__COUNT];
    uint64_t interrupts;
    struct cpu_sample hv_kind[HV_EXIT_KINDS]; /* the run loop's, by exit kind */
    struct cpu_sample model_regs[2][E1000_EMUL_REGS]; /* the emulated e1000's handlers */
    uint64_t spin_ns;
};

#define MAERTS_PORT 5002
#define RR_PORT 5003
#define GUEST_IP 0x0A00020Fu /* 10.0.2.15 */

struct window {
    struct testbed *t;
    const struct bench_point *p;
    struct wire_source *source; /* maerts: started at the guest's "listening" line */
    bool source_failed;
    pthread_t peer_thread;      /* the Linux peer's thread (role "sink") */
    bool peer_thread_set;
    uint64_t transactions, mean_ns, p99_ns; /* rr's RESULT line */
    bool rr_seen;
    struct snapshot start, end;
    bool started, ended;
    bool guest_bytes_seen;
    uint64_t guest_bytes, guest_elapsed_ns;
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Called on the vCPU run-loop thread (the console callback). */
static void snapshot__take(struct window *w, struct snapshot *s)
{
    struct testbed *t = w->t;
    s->wall_ns = clock_ns(CLOCK_MONOTONIC);
    s->proc_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    /* Snapshots are taken from the console callback: for a VM that runs on
     * the vCPU run loop (the hypervisor's thread); natively on the kernel's
     * own thread, which is the guest's CPU (os_thread_ns), not a hypervisor. */
    s->run_loop_ns = t->vm_up ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
    s->guest_ns = testbed__guest_cpu_ns(t);   /* the guest process (0 natively) */
    s->os_thread_ns = testbed__os_thread_cpu_ns(t); /* native: the kernel's CPU thread, inside proc_ns */
    struct e1000_nic_stats ns;
    e1000_nic__get_stats(t->plat.nic, &ns);
    s->nic_ns = ns.thread_cpu_ns;
    clockid_t cid;
    /* the Linux peer of the test: the sink, the maerts sender, the rr echo */
    pthread_t peer = w->peer_thread_set ? w->peer_thread : t->sink.thread;
    s->sink_ns = pthread_getcpuclockid(peer, &cid) == 0 ? clock_ns(cid) : 0;
    bool vm = t->vm_up;
    s->virtio_ns = vm && t->vm.virtio ? virtio_net__thread_cpu_ns(t->vm.virtio) : 0;
    s->emul_ns = vm && t->vm.e1000 ? e1000_emul__thread_cpu_ns(t->vm.e1000) : 0;
    s->host_rx_ns = t->host.nic_up ? host_os__cpu_ns(&t->host) : 0;
    s->hpet_ns = hpet__thread_cpu_ns(vm ? t->vm.hpet : t->native.hpet);
    s->assign_irq_ns = vm && t->vm.assign ? __atomic_load_n(&t->vm.assign->irq_cpu_ns, __ATOMIC_RELAXED) : 0;
    s->host_irq_ns = __atomic_load_n(&t->host.nic_irq_cpu_ns, __ATOMIC_RELAXED);
    testbed__exit_stats(t, s->stats);
    s->interrupts = testbed__interrupts(t);
    if (vm) {
        memcpy(s->hv_kind, t->vm.exit_cpu, sizeof s->hv_kind);
        s->spin_ns = t->vm.vcpu.stats.spin_ns;
    }
    /* per register and direction, each sampled: the window's estimate is
     * the sum of theirs (hv_model below) */
    if (vm && t->vm.e1000)
        memcpy(s->model_regs, t->vm.e1000->reg_cpu, sizeof s->model_regs);
}

/* The value of `key=` in a RESULT line, if it is a whole number. */
static bool result_field(const char *line, const char *key, uint64_t *out)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *b = strstr(line, pat);
    if (!b)
        return false;
    b += strlen(pat);
    char *end = NULL;
    errno = 0;
    *out = strtoull(b, &end, 10);
    return end != b && errno == 0 && (*end == ' ' || !*end);
}

static const char *const start_line[BENCH_TESTS] = {"stream: start", "maerts: start", "rr: start"};
static const char *const result_line[BENCH_TESTS] = {"RESULT stream ", "RESULT maerts ", "RESULT rr "};

static void runner__console(void *ctx, const char *line, size_t len)
{
    (void)len;
    struct window *w = ctx;
    enum bench_test test = w->p->test;
    if (getenv("IOVIRT_BENCH_CONSOLE"))
        fprintf(stderr, "  guest: %s\n", line);
    if (test == BENCH_TEST_MAERTS && !w->source->running && !w->source_failed &&
        !strncmp(line, "maerts: listening ", 18)) {
        /* the guest listens: the Linux sender starts (the vCPU waits for it) */
        if (wire_source__start(w->source, w->t->plat.wire, GUEST_IP, MAERTS_PORT, w->p->msg_size,
                               w->p->seconds))
            w->source_failed = true;
        else
            w->peer_thread = w->source->thread, w->peer_thread_set = true;
    } else if (!w->started && !strcmp(line, start_line[test])) {
        snapshot__take(w, &w->start);
        w->started = true;
    } else if (w->started && !w->ended && !strncmp(line, result_line[test], strlen(result_line[test]))) {
        snapshot__take(w, &w->end);
        w->ended = true;
        w->guest_bytes_seen = result_field(line, "bytes", &w->guest_bytes);
        if (!result_field(line, "elapsed_ns", &w->guest_elapsed_ns))
            w->guest_elapsed_ns = 0;
        w->rr_seen = test == BENCH_TEST_RR && result_field(line, "transactions", &w->transactions) &&
                     result_field(line, "mean_ns", &w->mean_ns) && result_field(line, "p99_ns", &w->p99_ns);
    }
}

static uint64_t d(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0;
}

static void runner__fill(const struct window *w, struct bench_result *out)
{
    const struct snapshot *a = &w->start, *b = &w->end;
    double wall = (double)d(a->wall_ns, b->wall_ns) / 1e9;
    out->window_s = wall;
    double assign_irq = (double)d(a->assign_irq_ns, b->assign_irq_ns);
    double host_irq = (double)d(a->host_irq_ns, b->host_irq_ns);
    double nic = (double)d(a->nic_ns, b->nic_ns) - assign_irq - host_irq;
    double role[BENCH_CPU_ROLES] = {
        /* the guest's CPU: its process, or natively the kernel's thread */
        [BENCH_CPU_VCPU] = (double)d(a->guest_ns, b->guest_ns) + (double)d(a->os_thread_ns, b->os_thread_ns),
        [BENCH_CPU_HYPERVISOR] = (double)d(a->run_loop_ns, b->run_loop_ns) + assign_irq,
        [BENCH_CPU_BACKENDS] = (double)d(a->virtio_ns, b->virtio_ns) +
                               (double)d(a->emul_ns, b->emul_ns) +
                               (double)d(a->host_rx_ns, b->host_rx_ns) +
                               (double)d(a->hpet_ns, b->hpet_ns) + host_irq,
        [BENCH_CPU_NIC] = nic > 0 ? nic : 0,
        [BENCH_CPU_SINK] = (double)d(a->sink_ns, b->sink_ns),
    };
    for (int r = 0; r < BENCH_CPU_ROLES; r++)
        out->cpu_role[r] = role[r] / 1e9 / wall;
    out->cpu_total = ((double)d(a->guest_ns, b->guest_ns) + (double)d(a->proc_ns, b->proc_ns)) /
                     1e9 / wall;
#define EXITS(stat) d(a->stats[stat], b->stats[stat])
    out->exits_by_reason[BENCH_EXIT_MMIO_READ] = EXITS(VCPU_STAT_MMIO_READ);
    out->exits_by_reason[BENCH_EXIT_MMIO_WRITE] = EXITS(VCPU_STAT_MMIO_WRITE);
    out->exits_by_reason[BENCH_EXIT_PIO_IN] = EXITS(VCPU_STAT_PIO_IN);
    out->exits_by_reason[BENCH_EXIT_PIO_OUT] = EXITS(VCPU_STAT_PIO_OUT);
    out->exits_by_reason[BENCH_EXIT_HLT] = EXITS(VCPU_STAT_HLT);
    out->exits_by_reason[BENCH_EXIT_EXTERNAL_IRQ] = EXITS(VCPU_STAT_INTR) + EXITS(VCPU_STAT_KICK);
    /* The rest (cli/sti/lidt emulated in the backend, faults, shutdown,
     * and irq_window exits, which nothing requests today) is "other". */
    uint64_t total = EXITS(VCPU_STAT_EXITS), named = 0;
    for (int r = 0; r < BENCH_EXIT_OTHER; r++)
        named += out->exits_by_reason[r];
    out->exits_by_reason[BENCH_EXIT_OTHER] = total > named ? total - named : 0;
    out->interrupts = d(a->interrupts, b->interrupts);
#undef EXITS
    _Static_assert((int)HV_EXIT_KINDS == (int)BENCH_HV_KINDS, "one bench kind per hv kind");
    for (int k = 0; k < HV_EXIT_KINDS; k++)
        out->hv_cpu_by_kind[k] = cpu_sample__window_ns(&a->hv_kind[k], &b->hv_kind[k]) / 1e9 / wall;
    out->hv_spin = (double)d(a->spin_ns, b->spin_ns) / 1e9 / wall;
    out->hv_irq = assign_irq / 1e9 / wall;
    double model = 0;
    for (int w = 0; w < 2; w++)
        for (int r = 0; r < E1000_EMUL_REGS; r++)
            model += cpu_sample__window_ns(&a->model_regs[w][r], &b->model_regs[w][r]);
    out->hv_model = model / 1e9 / wall;
}

static void runner__describe_fault(const struct host_vtd_fault *f, char *buf, size_t len)
{
    if (f->is_ir)
        snprintf(buf, len, "%s, index %u, requester %02x:%02x.%x", f->reason_name, f->ir_index,
                 f->sid >> 8, (f->sid >> 3) & 0x1F, f->sid & 7);
    else
        snprintf(buf, len, "%s, %s at %#llx, requester %02x:%02x.%x", f->reason_name,
                 f->is_write ? "write" : "read", (unsigned long long)f->addr, f->sid >> 8,
                 (f->sid >> 3) & 0x1F, f->sid & 7);
}

/* Appends "; " (unless first) and the formatted text to err; cuts at errlen. */
__attribute__((format(printf, 4, 5))) static void append(char *err, size_t errlen, size_t *n,
                                                          const char *fmt, ...)
{
    if (*n + 1 >= errlen)
        return;
    if (*n) {
        int k = snprintf(err + *n, errlen - *n, "; ");
        *n += k > 0 ? (size_t)k : 0;
        if (*n + 1 >= errlen)
            return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(err + *n, errlen - *n, fmt, ap);
    va_end(ap);
    *n += k > 0 ? (size_t)k : 0;
}

static void append_faults(char *err, size_t errlen, size_t *n, uint64_t faults, const char *fault)
{
    append(err, errlen, n, "%llu VT-d fault(s) recorded%s%s", (unsigned long long)faults,
           fault && *fault ? ", first: " : "", fault && *fault ? fault : "");
}

/* How each test's two counts and two clocks are named in a failure. */
struct audit_words {
    const char *bytes_fmt;   /* peer bytes, guest bytes */
    const char *peer_counted; /* "<peer> <verb>" before a byte count */
    const char *peer, *peer_window, *guest_window;
};

static const struct audit_words audit_words[BENCH_TESTS] = {
    [BENCH_TEST_STREAM] = {"the sink read %llu bytes but the guest reports %llu acknowledged",
                           "the sink read", "sink",
                           "first to last byte", "first byte queued to last acknowledged"},
    [BENCH_TEST_MAERTS] = {"the Linux sender had %llu bytes acknowledged but the guest read %llu",
                           "the sender had acknowledged", "sender", "first byte written to last acknowledged", "first to last byte read"},
    [BENCH_TEST_RR] = {"the echo peer read %llu request bytes but the guest sent %llu",
                       "the echo peer read", "echo peer",
                       "first request byte read to last response written",
                       "first request queued to last response read"},
};

int bench__audit_point(const struct bench_audit *a, char *err, size_t errlen)
{
    char scratch[1];
    size_t n = 0;
    if (!errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    bool bad = false;
    const struct audit_words *aw = &audit_words[(unsigned)a->test < BENCH_TESTS ? a->test : 0];
    if (!a->guest_bytes_seen) {
        append(err, errlen, &n, "the guest's RESULT line gave no byte count (%s %llu bytes)",
               aw->peer_counted, (unsigned long long)a->sink_bytes);
        bad = true;
    } else if (a->sink_bytes != a->guest_bytes) {
        append(err, errlen, &n, aw->bytes_fmt, (unsigned long long)a->sink_bytes,
               (unsigned long long)a->guest_bytes);
        bad = true;
    }
    if (a->test == BENCH_TEST_RR && !a->guest_transactions_seen) {
        append(err, errlen, &n, "the guest's RESULT line gave no transaction count or latency");
        bad = true;
    } else if (a->test == BENCH_TEST_RR && a->peer_transactions != a->guest_transactions) {
        append(err, errlen, &n, "the echo peer answered %llu transactions but the guest counted %llu",
               (unsigned long long)a->peer_transactions, (unsigned long long)a->guest_transactions);
        bad = true;
    }
    if (!(a->sink_window_s > 0) || !isfinite(a->sink_window_s)) {
        append(err, errlen, &n, "the %s saw no data window (%s)", aw->peer, aw->peer_window);
        bad = true;
    }
    if (!(a->guest_window_s > 0) || !isfinite(a->guest_window_s)) {
        append(err, errlen, &n, "the guest's RESULT line gave no data window (elapsed_ns)");
        bad = true;
    }
    if (!bad) {
        /* Same bytes over two clocks' windows: the throughputs compare as
         * the windows do. */
        double sink = (double)a->sink_bytes * 8 / a->sink_window_s / 1e6;
        double guest = (double)a->guest_bytes * 8 / a->guest_window_s / 1e6;
        double diff = fabs(guest - sink) / sink;
        if (!(diff <= BENCH_CLOCK_AGREE)) {
            append(err, errlen, &n,
                   "the two clocks disagree by %.1f%% (limit %.0f%%): %s %.1f Mb/s over %.4f s "
                   "(%s), guest %.1f Mb/s over %.4f s (%s)",
                   100 * diff, 100 * BENCH_CLOCK_AGREE, aw->peer, sink, a->sink_window_s,
                   aw->peer_window, guest, a->guest_window_s, aw->guest_window);
            bad = true;
        }
    }
    if (a->vtd_faults) {
        append_faults(err, errlen, &n, a->vtd_faults, a->fault);
        bad = true;
    }
    return bad ? -1 : 0;
}

static const enum testbed_mode modes[BENCH_MODES] = {
    [BENCH_MODE_NATIVE] = TESTBED_NATIVE, [BENCH_MODE_ASSIGNED] = TESTBED_ASSIGNED,
    [BENCH_MODE_VIRTIO] = TESTBED_VIRTIO, [BENCH_MODE_EMULATED] = TESTBED_EMULATED,
};

/* The Linux peer's side of a finished point: its byte count and window. */
struct peer_side {
    uint64_t bytes, transactions;
    double window_s;
    bool ok;
    char why[96];
};

static void peer__stream(struct testbed *t, struct peer_side *ps)
{
    uint64_t conns = t->sink.connections;
    /* The stream's one connection: its data window at the sink, from the
     * kernel's arrival stamps of the first and last segments, or (if the
     * kernel gave none) from when the sink read them. */
    const struct wire_sink_conn *sc = &t->sink.conn[0];
    double read_window = sc->last_byte_ns > sc->first_byte_ns
                             ? (double)(sc->last_byte_ns - sc->first_byte_ns) / 1e9 : 0;
    double arrival_window = sc->first_arrival_ns && sc->last_arrival_ns > sc->first_arrival_ns
                                ? (double)(sc->last_arrival_ns - sc->first_arrival_ns) / 1e9 : 0;
    ps->bytes = t->sink.tcp_bytes;
    ps->window_s = conns != 1 ? 0 : arrival_window > 0 ? arrival_window : read_window;
    ps->ok = conns == 1;
    if (!ps->ok)
        snprintf(ps->why, sizeof ps->why, "the sink accepted %llu connections, expected the stream's one",
                 (unsigned long long)conns);
    if (getenv("IOVIRT_BENCH_CONSOLE"))
        fprintf(stderr, "  runner: sink window %.4f s by arrival, %.4f s by read\n", arrival_window,
                read_window);
}

static void peer__maerts(struct window *w, struct peer_side *ps)
{
    struct wire_source *src = w->source;
    wire_source__stop(src); /* joined: its figures are final */
    int done = atomic_load(&src->done);
    ps->bytes = atomic_load(&src->bytes);
    ps->window_s = src->acked_ns > src->first_ns ? (double)(src->acked_ns - src->first_ns) / 1e9 : 0;
    ps->ok = done > 0;
    if (getenv("IOVIRT_BENCH_CONSOLE"))
        fprintf(stderr, "  runner: sender retransmitted %u segments, rtt %u us, cwnd %u; busy %.1f ms, "
                "of which limited by the guest's window %.1f ms, by the send buffer %.1f ms; "
                "guest's window %u bytes; sampled every 10 ms: mean RTT %.0f us, mean window %.0f bytes\n",
                src->retrans, src->rtt_us, src->cwnd, (double)src->busy_us / 1e3,
                (double)src->rwnd_limited_us / 1e3, (double)src->sndbuf_limited_us / 1e3, src->snd_wnd,
                src->samples ? (double)src->rtt_sum_us / (double)src->samples : 0,
                src->samples ? (double)src->wnd_sum / (double)src->samples : 0);
    if (w->source_failed)
        snprintf(ps->why, sizeof ps->why, "the Linux sender could not be started");
    else if (!ps->ok)
        snprintf(ps->why, sizeof ps->why, "the Linux sender failed: %s",
                 done ? strerror(-done) : "it never started (no 'maerts: listening' line)");
}

static void peer__rr(const struct wire_echo *e, struct peer_side *ps)
{
    uint64_t first = atomic_load(&e->first_ns), last = atomic_load(&e->last_ns);
    ps->bytes = atomic_load(&e->bytes);
    ps->transactions = atomic_load(&e->transactions);
    ps->window_s = last > first && first ? (double)(last - first) / 1e9 : 0;
    ps->ok = atomic_load(&e->connections) == 1;
    if (!ps->ok)
        snprintf(ps->why, sizeof ps->why, "the echo peer accepted %llu connections, expected rr's one",
                 (unsigned long long)atomic_load(&e->connections));
}

static int runner__run(void *ctx, const struct bench_point *p, struct bench_result *out)
{
    struct runner_ctx *rc = ctx;
    char cmdline[128];
    unsigned secs = (unsigned)ceil(p->seconds);
    secs = secs ? secs : 1;
    /* maerts: the Linux sender's own timer (p->seconds); the guest reads to EOF */
    if (p->test == BENCH_TEST_MAERTS)
        snprintf(cmdline, sizeof cmdline, "maerts %u", MAERTS_PORT);
    else if (p->test == BENCH_TEST_RR)
        snprintf(cmdline, sizeof cmdline, "rr 10.0.2.1 %u %u %u %u", RR_PORT, p->rr_req, p->rr_resp, secs);
    else
        snprintf(cmdline, sizeof cmdline, "stream 10.0.2.1 5001 %u %u", p->msg_size, secs);
    /* Guest kernel options for an A/B run (e.g. tso=off, offload=off:
     * docs/e1000.md), prepended so the program's argv stays as it is. */
    const char *opts = getenv("IOVIRT_BENCH_GUEST_OPTS");
    if (opts && *opts) {
        char both[sizeof cmdline];
        int n = snprintf(both, sizeof both, "%s %s", opts, cmdline);
        if (n < 0 || (size_t)n >= sizeof both) {
            snprintf(out->error, sizeof out->error, "IOVIRT_BENCH_GUEST_OPTS is too long");
            return -1;
        }
        memcpy(cmdline, both, sizeof cmdline);
    }
    struct wire_source source = {0};
    struct wire_echo echo = {.listen_fd = -1, .stop_fd = -1};
    struct window w = {.p = p, .source = &source};
    struct testbed_config tc = {
        .mode = modes[p->mode], .mem_bytes = 64ull << 20, .line_rate = p->line_rate_bps,
        .kernel = rc->kernel, .cmdline = cmdline, .console = runner__console, .console_ctx = &w,
    };
    struct testbed *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return -1;
    }
    w.t = t;
    int r = testbed__create(t, &tc);
    if (r) {
        snprintf(out->error, sizeof out->error, "testbed for %s: %s", p->mode_name, strerror(-r));
        free(t);
        return -1;
    }
    if (p->test == BENCH_TEST_RR) {
        r = wire_echo__start(&echo, t->plat.wire, RR_PORT, p->rr_req, p->rr_resp);
        if (r) {
            snprintf(out->error, sizeof out->error, "echo peer: %s", strerror(-r));
            testbed__destroy(t);
            free(t);
            return -1;
        }
        w.peer_thread = echo.thread, w.peer_thread_set = true;
    }
    r = testbed__run(t);
    int status = testbed__exit_status(t);
    if (getenv("IOVIRT_BENCH_CONSOLE")) {
        /* the interrupt handlers timed on the NIC thread, whole run */
        uint64_t ai = t->vm_up && t->vm.assign ? t->vm.assign->host_irqs : 0,
                 an = t->vm_up && t->vm.assign ? t->vm.assign->irq_cpu_ns : 0;
        uint64_t hi = t->host.nic_irqs, hn = t->host.nic_irq_cpu_ns;
        fprintf(stderr, "  runner: assigned handler %llu calls %.3f ms CPU (%.2f us/call); host "
                "driver handler %llu calls %.3f ms CPU (%.2f us/call)\n",
                (unsigned long long)ai, (double)an / 1e6, ai ? (double)an / 1e3 / (double)ai : 0,
                (unsigned long long)hi, (double)hn / 1e6, hi ? (double)hn / 1e3 / (double)hi : 0);
    }
    if (getenv("IOVIRT_BENCH_CONSOLE")) {
        /* where frames were held or lost on the way in (docs/nic.md) */
        struct e1000_nic_stats ns;
        e1000_nic__get_stats(t->plat.nic, &ns);
        fprintf(stderr, "  runner: NIC rx %llu frames, %llu dropped, rx pace waits %llu, lost %.3f ms, "
                "idle gaps %llu; tx %llu frames, pace lost %.3f ms; thread sleeps %llu, kicks %llu\n",
                (unsigned long long)ns.rx_frames, (unsigned long long)ns.rx_dropped,
                (unsigned long long)ns.rx_pace_waits, (double)ns.rx_pace_lost_ns / 1e6,
                (unsigned long long)ns.rx_idle_gaps, (unsigned long long)ns.tx_frames,
                (double)ns.pace_lost_ns / 1e6, (unsigned long long)ns.sleeps,
                (unsigned long long)ns.kicks);
    }
    struct peer_side ps = {0};
    if (p->test == BENCH_TEST_MAERTS)
        peer__maerts(&w, &ps);
    else if (p->test == BENCH_TEST_RR) {
        wire_echo__stop(&echo);
        peer__rr(&echo, &ps);
    }
    testbed__destroy(t); /* waits for the sink to see the close; collects VT-d faults */
    if (p->test == BENCH_TEST_STREAM)
        peer__stream(t, &ps);
    /* Every fault the unit recorded, from creation through teardown, has
     * reached the host's log by now (host_os__shutdown polls the unit). */
    uint64_t faults = host_os__faults_total(&t->host);
    char fault[96] = "";
    if (faults && t->host.nfaults && faults <= HOST_OS_FAULT_LOG)
        runner__describe_fault(&t->host.faults[0], fault, sizeof fault); /* the log kept the first */
    free(t);
    if (getenv("IOVIRT_BENCH_CONSOLE"))
        fprintf(stderr, "  runner: peer %llu bytes over %.4f s; guest %llu bytes over %.4f s\n",
                (unsigned long long)ps.bytes, ps.window_s, (unsigned long long)w.guest_bytes,
                (double)w.guest_elapsed_ns / 1e9);
    if (r || status || !w.ended) {
        size_t n = 0;
        append(out->error, sizeof out->error, &n, "guest %s (status %d, window %s)",
               r ? "failed" : "program failed", status, w.ended ? "closed" : "not seen");
        if (!ps.ok && ps.why[0])
            append(out->error, sizeof out->error, &n, "%s", ps.why);
        if (faults)
            append_faults(out->error, sizeof out->error, &n, faults, fault);
        return -1;
    }
    if (!ps.ok) {
        snprintf(out->error, sizeof out->error, "%s", ps.why);
        return -1;
    }
    struct bench_audit au = {
        .test = p->test, .sink_bytes = ps.bytes, .guest_bytes = w.guest_bytes,
        .guest_bytes_seen = w.guest_bytes_seen, .sink_window_s = ps.window_s,
        .guest_window_s = (double)w.guest_elapsed_ns / 1e9, .peer_transactions = ps.transactions,
        .guest_transactions = w.transactions, .guest_transactions_seen = w.rr_seen,
        .vtd_faults = faults, .fault = fault,
    };
    if (bench__audit_point(&au, out->error, sizeof out->error))
        return -1;
    runner__fill(&w, out);
    out->sink_bytes = ps.bytes;
    out->elapsed_s = ps.window_s;
    out->guest_elapsed_s = au.guest_window_s;
    if (p->test == BENCH_TEST_RR) {
        out->transactions = w.transactions;
        out->latency_mean_us = (double)w.mean_ns / 1e3;
        out->latency_p99_us = (double)w.p99_ns / 1e3;
    }
    return 0;
}

static void runner__release(void *ctx)
{
    free(ctx);
}

int bench__default_runner(struct bench_runner *r, const struct bench_config *cfg, char *err,
                          size_t errlen)
{
    (void)cfg;
    struct runner_ctx *rc = calloc(1, sizeof(*rc));
    if (!rc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (guest_path__default(rc->kernel, sizeof rc->kernel)) {
        snprintf(err, errlen, "cannot locate the guest kernel (set IOVIRT_GUEST)");
        free(rc);
        return -1;
    }
    if (access(rc->kernel, R_OK)) {
        snprintf(err, errlen, "guest kernel %s: %s", rc->kernel, strerror(errno));
        free(rc);
        return -1;
    }
    log__set_quiet(1);
    *r = (struct bench_runner){.name = "testbed", .run = runner__run, .release = runner__release, .ctx = rc};
    return 0;
}
