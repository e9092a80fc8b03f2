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
 * Linux socket got; CPU utilisation in cores (1.0 = one CPU busy for the
 * whole wall time); rates per second of wall time (elapsed_s). */
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
    unsigned msg_size;       /* bytes per send() of the guest's TCP stream, 1..64 KiB */
    uint64_t line_rate_bps;  /* wire rate limit in bits/s; 0 = unlimited */
    double seconds;          /* how long to stream (the runner measures actual time) */
    unsigned run;            /* 1-based repetition number */
    unsigned runs;           /* repetitions of this (mode, size) in the sweep */
};

#define BENCH_ERROR_LEN 256

/* What one measurement produced.  The harness zeroes it before each call. */
struct bench_result {
    /* Filled by the runner: */
    uint64_t sink_bytes;   /* payload bytes the receiving sink socket read in the window */
    double elapsed_s;      /* wall time of that measurement window (CLOCK_MONOTONIC) */
    double cpu_util;       /* cores: CPU time (user + system) consumed in the window by the
                            * sending side -- guest vCPU process + hypervisor threads + host
                            * driver/bridge threads; for native, the process running the same
                            * kernel and driver without a hypervisor -- divided by elapsed_s.
                            * Not the sink, not the NIC model. */
    double nic_cpu_util;   /* cores used by the modelled NIC's hardware thread(s), apart */
    uint64_t exits_by_reason[BENCH_EXIT_REASONS]; /* 0 for native */
    uint64_t interrupts;   /* interrupts delivered to the guest kernel (native: entered into its IDT) */
    char error[BENCH_ERROR_LEN]; /* set (NUL-terminated) when run() returns -1 */

    /* Filled by the harness from the fields above (a runner need not): */
    double throughput_mbps; /* sink_bytes * 8 / elapsed_s / 1e6 */
    uint64_t exits;         /* sum of exits_by_reason */
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

/* What the default runner checks about a point besides its figures: the
 * Linux sink read exactly the bytes the guest says were acknowledged
 * (guest_bytes_seen: its RESULT line carried bytes=), and the VT-d unit
 * recorded no fault from testbed creation to teardown (vtd_faults; fault:
 * a description of one of them, may be NULL).  0, or -1 with every problem
 * found named in err.  Exposed for tests. */
int bench__audit_point(uint64_t sink_bytes, uint64_t guest_bytes, bool guest_bytes_seen,
                       uint64_t vtd_faults, const char *fault, char *err, size_t errlen);

/* Names used on the command line, in JSON and in tables. */
const char *bench__mode_name(enum bench_mode m);
/* The mode called `name`, or -1. */
int bench__mode_by_name(const char *name);
const char *bench__exit_reason_name(enum bench_exit_reason r);
/* The reason called `name`, or -1. */
int bench__exit_reason_by_name(const char *name);

#endif
