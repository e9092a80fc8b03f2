/* The seam between the `iovirt bench` harness and whatever actually runs a
 * measurement (boots the VM, streams to the sink, counts CPU and exits).
 *
 * The harness (bench_sweep.c) calls runner->run() once per point and owns
 * everything else: ordering, repetition, statistics, output.  A runner
 * fills a bench_result from what it MEASURED; it never invents a number.
 * If it cannot measure, it writes a reason into out->error and returns -1;
 * the harness records the failure and goes on with the next point.
 *
 * Units: throughput in Mb/s (10^6 bits/s) of payload bytes the receiving
 * Linux socket got, over the sink's data window (elapsed_s); CPU
 * utilisation in cores (1.0 = one CPU busy for the whole window); rates per
 * second of the counting window (window_s). */
#ifndef IOVIRT_BENCH_BENCH_RUN_H
#define IOVIRT_BENCH_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Network paths, in the order the harness measures them within one round
 * (native first, so every ratio uses a baseline from the same invocation). */
enum bench_mode {
    BENCH_MODE_NATIVE,   /* the NIC driven by the host, no hypervisor */
    BENCH_MODE_ASSIGNED, /* NIC directly assigned to the guest through VT-d */
    BENCH_MODE_VIRTIO,   /* virtio-net paravirtual device */
    BENCH_MODE_EMULATED, /* emulated e1000, every register access traps */
    BENCH_MODES
};

/* What traffic a point measures (netperf's names). */
enum bench_test {
    BENCH_TEST_STREAM, /* the guest sends to the Linux sink (TCP_STREAM) */
    BENCH_TEST_MAERTS, /* Linux sends to the guest: the guest's receive path (TCP_MAERTS) */
    BENCH_TEST_RR,     /* the guest's requests, the Linux echo peer's responses (TCP_RR) */
    BENCH_TESTS
};

/* Why the guest left guest mode.  The runner counts into these buckets;
 * anything it cannot classify goes into BENCH_EXIT_OTHER, so the buckets
 * always sum to the total (the harness computes the total as that sum).
 * Only reasons the vCPU backend can produce have a bucket: the process
 * backend has no CPUID or MSR exit (CPUID runs natively in ring 3, RDMSR/
 * WRMSR are a guest fault) and nothing sets vcpu.request_irq_window, so
 * there is no cpuid/msr_read/msr_write/irq_window bucket (schema 2). */
enum bench_exit_reason {
    BENCH_EXIT_MMIO_READ,    /* load from an emulated device page */
    BENCH_EXIT_MMIO_WRITE,   /* store to an emulated device page (incl. virtio notify) */
    BENCH_EXIT_PIO_IN,       /* IN instruction */
    BENCH_EXIT_PIO_OUT,      /* OUT instruction */
    BENCH_EXIT_HLT,          /* guest idled */
    BENCH_EXIT_EXTERNAL_IRQ, /* a host interrupt/timer preempted the guest */
    BENCH_EXIT_OTHER,        /* cli/sti/lidt emulation, faults, shutdown, ... */
    BENCH_EXIT_REASONS
};

/* One measurement to take. */
struct bench_point {
    enum bench_mode mode;
    const char *mode_name;   /* "native", "assigned", "virtio", "emulated" */
    enum bench_test test;
    unsigned msg_size;       /* bytes per send() of the stream (stream: the guest's,
                              * maerts: the Linux sender's), 1..64 KiB; rr: rr_req */
    unsigned rr_req, rr_resp; /* rr: request and response bytes */
    uint64_t line_rate_bps;  /* wire rate limit in bits/s; 0 = unlimited */
    double seconds;          /* how long to stream (the runner measures actual time) */
    unsigned run;            /* 1-based repetition number */
    unsigned runs;           /* repetitions of this (mode, size) in the sweep */
};

/* Who did the CPU work, as on real hardware (docs/bench.md "CPU by role"):
 * the guest's vCPU; the hypervisor (vCPU run loop, exit handling and device
 * emulation on it, and the assigned device's host interrupt handler and
 * injection, timed per call on whatever thread raises it); the device
 * backends (virtio-net backend, host bridge/driver receive thread and the
 * host driver's interrupt handler, the guest's timer model); the NIC
 * hardware model (its thread, minus the handlers above); the Linux sink.
 * cpu_util, the sending side, is vcpu + hypervisor + backends. */
enum bench_cpu_role {
    BENCH_CPU_VCPU,
    BENCH_CPU_HYPERVISOR,
    BENCH_CPU_BACKENDS,
    BENCH_CPU_NIC,  /* apart: silicon on a real machine */
    BENCH_CPU_SINK, /* apart: the receiving peer */
    BENCH_CPU_ROLES
};
#define BENCH_CPU_SENDING_ROLES 3 /* vcpu, hypervisor, backends */

/* The sink's and the guest's data windows must give throughputs within
 * this fraction of each other, or the point fails (bench__audit_point). */
#define BENCH_CLOCK_AGREE 0.02
/* The roles must add up to cpu_total within REL x total + ABS cores
 * (threads not attributed to any role would show as a gap). */
#define BENCH_CPU_SUM_REL 0.03
#define BENCH_CPU_SUM_ABS 0.01

#define BENCH_ERROR_LEN 256

/* What one measurement produced.  The harness zeroes it before each call. */
struct bench_result {
    /* Filled by the runner: */
    uint64_t sink_bytes;   /* payload bytes the receiving sink socket read */
    double elapsed_s;      /* the sink's data window: first to last payload byte read
                            * (CLOCK_MONOTONIC); throughput divides by this */
    double guest_elapsed_s; /* the guest's own send window: first byte queued to last
                            * acknowledged, by the guest's clock (cross-check) */
    double window_s;       /* wall time over which CPU, exits and interrupts were counted
                            * (the guest's data window as the host saw it) */
    double cpu_role[BENCH_CPU_ROLES]; /* cores, each role's CPU time / window_s */
    double cpu_total;      /* cores: everything the measured processes used (the guest
                            * process and the whole hypervisor process, every thread) */
    uint64_t exits_by_reason[BENCH_EXIT_REASONS]; /* 0 for native */
    uint64_t interrupts;   /* interrupts delivered to the guest kernel (native: entered into its IDT) */
    /* rr only (0 otherwise): transactions the guest completed (the echo
     * peer answered exactly as many), their mean and 99th-percentile
     * latency by the guest's clock, microseconds. */
    uint64_t transactions;
    double latency_mean_us, latency_p99_us;
    /* Inside the hypervisor role (0 natively), cores: the run loop's
     * thread CPU by the kind of exit it served (enum bench_hv_kind in
     * bench_acct.h; sampled, hv/vm.h), the wall time it spent spinning for
     * the guest's next exit (vcpu_stats.spin_ns), and the assigned
     * device's host interrupt handler (timed per call). */
    double hv_cpu_by_kind[6];
    double hv_spin, hv_irq;
    double hv_model; /* the emulated e1000's BAR0 handlers on the run loop (sampled), cores */
    char error[BENCH_ERROR_LEN]; /* set (NUL-terminated) when run() returns -1 */

    /* Filled by the harness from the fields above (a runner need not): */
    double throughput_mbps; /* sink_bytes * 8 / elapsed_s / 1e6 */
    double guest_throughput_mbps; /* sink_bytes * 8 / guest_elapsed_s / 1e6 */
    double cpu_util;        /* cores, the sending side: sum of the first
                             * BENCH_CPU_SENDING_ROLES roles */
    uint64_t exits;         /* sum of exits_by_reason */
    double transactions_ps; /* rr: transactions / guest_elapsed_s; 0 otherwise */
    int ok;                 /* 1 if the measurement succeeded and passed sanity checks */
};

typedef int (*bench_runner_fn)(void *ctx, const struct bench_point *p, struct bench_result *out);

/* A runner: how points are measured.  release() (may be NULL) is called
 * once after the sweep. */
struct bench_runner {
    const char *name;      /* recorded in the JSON config ("runner") */
    bench_runner_fn run;
    void (*release)(void *ctx);
    void *ctx;
};

struct bench_config;

/* The runner `iovirt bench` uses, set up for the whole sweep `cfg` (so it
 * can prepare once, e.g. build the NIC and wire, for the modes and line
 * rate asked).  Called after every argument check, before the first point.
 * 0, or -1 with a reason in err if it cannot be set up at all (then no point
 * is attempted and `iovirt bench` exits 1).  Implemented in
 * bench/bench_runner.c. */
int bench__default_runner(struct bench_runner *r, const struct bench_config *cfg, char *err,
                          size_t errlen);

/* What the default runner checks about a point besides its figures
 * (bench__audit_point). */
struct bench_audit {
    enum bench_test test;     /* stream (0) unless set: the wording and rr's count */
    uint64_t sink_bytes;      /* the Linux peer's count: the sink read (stream), the
                               * sender had acknowledged (maerts), the echo read (rr) */
    uint64_t guest_bytes;     /* the guest's RESULT line: acknowledged, read, requested */
    bool guest_bytes_seen;    /* the RESULT line carried bytes= */
    double sink_window_s;     /* sink: first to last byte (0: unknown) */
    double guest_window_s;    /* guest: first byte queued to last acknowledged (0: unknown) */
    uint64_t peer_transactions, guest_transactions; /* rr: the echo's and the guest's */
    bool guest_transactions_seen;
    uint64_t vtd_faults;      /* faults recorded from testbed creation to teardown */
    const char *fault;        /* a description of one of them, may be NULL */
};

/* The Linux peer counted exactly the guest's bytes (stream: the sink read
 * what the guest says was acknowledged; maerts: the guest read what the
 * sender had acknowledged; rr: the echo read the guest's requests, and
 * answered as many transactions as the guest counted); both
 * data windows are known and the throughputs they give agree within
 * BENCH_CLOCK_AGREE; the VT-d unit recorded no fault.  0, or -1 with every
 * problem found named in err.  Exposed for tests. */
int bench__audit_point(const struct bench_audit *a, char *err, size_t errlen);

/* Names used on the command line, in JSON and in tables. */
const char *bench__test_name(enum bench_test t);
/* The test called `name`, or -1. */
int bench__test_by_name(const char *name);
const char *bench__mode_name(enum bench_mode m);
/* The mode called `name`, or -1. */
int bench__mode_by_name(const char *name);
const char *bench__exit_reason_name(enum bench_exit_reason r);
const char *bench__cpu_role_name(enum bench_cpu_role r);
/* The role called `name`, or -1. */
int bench__cpu_role_by_name(const char *name);
/* The reason called `name`, or -1. */
int bench__exit_reason_by_name(const char *name);

#endif
