/* The runner of `iovirt bench`: each point is a fresh testbed (the
 * modelled machine with its TAP wire and Linux sink, the host OS, and the
 * guest kernel in the point's mode) running the guest's `stream` program.
 *
 * The measured window opens when the guest prints "stream: start" and
 * closes at its "RESULT stream" line, both seen by the console callback
 * on the thread that runs the vCPU, so CPU clocks and exit counters are
 * read at the same instants.  Throughput uses the bytes the Linux sink
 * received (read after the connection closed), never the guest's claim;
 * every byte counted was acknowledged inside the window.
 *
 * CPU utilisation = (guest process + this process) CPU time in the window,
 * minus the threads that are not the host: the NIC's hardware thread
 * (reported apart as nic_cpu_util) and the sink (the Linux peer).
 *
 * A point whose sink byte count differs from the guest's, or during which
 * the VT-d unit recorded a fault, is a failed point (bench__audit_point):
 * its figures describe a broken transfer, not the mode. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_config.h"
#include "bench/bench_run.h"
#include "testbed/testbed.h"
#include "lib/guest_path.h"
#include "lib/log.h"

struct runner_ctx {
    char kernel[PATH_MAX];
};

struct snapshot {
    uint64_t wall_ns, proc_ns, guest_ns, nic_ns, sink_ns;
    uint64_t stats[VCPU_STAT__COUNT];
    uint64_t interrupts;
};

struct window {
    struct testbed *t;
    struct snapshot start, end;
    bool started, ended;
    bool guest_bytes_seen;
    uint64_t guest_bytes;
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void snapshot__take(struct testbed *t, struct snapshot *s)
{
    s->wall_ns = clock_ns(CLOCK_MONOTONIC);
    s->proc_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    s->guest_ns = testbed__guest_cpu_ns(t); /* native: 0, its CPU thread is in proc_ns */
    struct e1000_nic_stats ns;
    e1000_nic__get_stats(t->plat.nic, &ns);
    s->nic_ns = ns.thread_cpu_ns;
    clockid_t cid;
    s->sink_ns = pthread_getcpuclockid(t->sink.thread, &cid) == 0 ? clock_ns(cid) : 0;
    testbed__exit_stats(t, s->stats);
    s->interrupts = testbed__interrupts(t);
}

static void runner__console(void *ctx, const char *line, size_t len)
{
    (void)len;
    struct window *w = ctx;
    if (!w->started && !strcmp(line, "stream: start")) {
        snapshot__take(w->t, &w->start);
        w->started = true;
    } else if (w->started && !w->ended && !strncmp(line, "RESULT stream ", 14)) {
        snapshot__take(w->t, &w->end);
        w->ended = true;
        const char *b = strstr(line, " bytes=");
        char *end = NULL;
        if (b) {
            errno = 0;
            w->guest_bytes = strtoull(b + 7, &end, 10);
            w->guest_bytes_seen = end != b + 7 && errno == 0 && (*end == ' ' || !*end);
        }
    } else if (getenv("IOVIRT_BENCH_CONSOLE")) {
        fprintf(stderr, "  guest: %s\n", line);
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
    out->elapsed_s = wall;
    double host = (double)d(a->proc_ns, b->proc_ns) - (double)d(a->nic_ns, b->nic_ns) -
                  (double)d(a->sink_ns, b->sink_ns);
    out->cpu_util = ((double)d(a->guest_ns, b->guest_ns) + (host > 0 ? host : 0)) / 1e9 / wall;
    out->nic_cpu_util = (double)d(a->nic_ns, b->nic_ns) / 1e9 / wall;
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

int bench__audit_point(uint64_t sink_bytes, uint64_t guest_bytes, bool guest_bytes_seen,
                       uint64_t vtd_faults, const char *fault, char *err, size_t errlen)
{
    size_t n = 0;
    if (!errlen)
        return guest_bytes_seen && sink_bytes == guest_bytes && !vtd_faults ? 0 : -1;
    err[0] = '\0';
    bool bad = false;
    if (!guest_bytes_seen) {
        append(err, errlen, &n, "the guest's RESULT line gave no byte count (the sink read %llu bytes)",
               (unsigned long long)sink_bytes);
        bad = true;
    } else if (sink_bytes != guest_bytes) {
        append(err, errlen, &n, "the sink read %llu bytes but the guest reports %llu acknowledged",
               (unsigned long long)sink_bytes, (unsigned long long)guest_bytes);
        bad = true;
    }
    if (vtd_faults) {
        append_faults(err, errlen, &n, vtd_faults, fault);
        bad = true;
    }
    return bad ? -1 : 0;
}

static const enum testbed_mode modes[BENCH_MODES] = {
    [BENCH_MODE_NATIVE] = TESTBED_NATIVE, [BENCH_MODE_ASSIGNED] = TESTBED_ASSIGNED,
    [BENCH_MODE_VIRTIO] = TESTBED_VIRTIO, [BENCH_MODE_EMULATED] = TESTBED_EMULATED,
};

static int runner__run(void *ctx, const struct bench_point *p, struct bench_result *out)
{
    struct runner_ctx *rc = ctx;
    char cmdline[128];
    unsigned secs = (unsigned)ceil(p->seconds);
    snprintf(cmdline, sizeof cmdline, "stream 10.0.2.1 5001 %u %u", p->msg_size, secs ? secs : 1);
    struct window w = {0};
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
    r = testbed__run(t);
    int status = testbed__exit_status(t);
    testbed__destroy(t); /* waits for the sink to see the close; collects VT-d faults */
    uint64_t sink = t->sink.tcp_bytes;
    /* Every fault the unit recorded, from creation through teardown, has
     * reached the host's log by now (host_os__shutdown polls the unit). */
    uint64_t faults = host_os__faults_total(&t->host);
    char fault[96] = "";
    if (faults && t->host.nfaults && faults <= HOST_OS_FAULT_LOG)
        runner__describe_fault(&t->host.faults[0], fault, sizeof fault); /* the log kept the first */
    free(t);
    if (r || status || !w.ended) {
        size_t n = 0;
        append(out->error, sizeof out->error, &n, "guest %s (status %d, window %s)",
               r ? "failed" : "stream failed", status, w.ended ? "closed" : "not seen");
        if (faults)
            append_faults(out->error, sizeof out->error, &n, faults, fault);
        return -1;
    }
    if (bench__audit_point(sink, w.guest_bytes, w.guest_bytes_seen, faults, fault, out->error,
                           sizeof out->error))
        return -1;
    runner__fill(&w, out);
    out->sink_bytes = sink;
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
