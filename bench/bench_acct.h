/* The sending side's CPU overhead over native, line by line (schema 5,
 * docs/bench.md "Overhead, line by line"): what the mode's measured rates
 * predict from per-event costs measured apart (`bench_vcpu`, given to
 * `iovirt bench --exit-costs`), next to what the role clocks measured.
 * One function computes it for the report and for bench-check. */
#ifndef IOVIRT_BENCH_BENCH_ACCT_H
#define IOVIRT_BENCH_BENCH_ACCT_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/bench_run.h"

/* CPU (guest process + hypervisor) per event, microseconds, as
 * `bench_vcpu` prints them on its "exit-costs:" line. */
enum bench_cost {
    BENCH_COST_MMIO_READ, BENCH_COST_MMIO_WRITE, BENCH_COST_PIO, BENCH_COST_HLT,
    BENCH_COST_INJECT, /* one interrupt delivered into a running guest by a signal */
    BENCH_COSTS
};
struct bench_exit_costs {
    bool set;
    double us[BENCH_COSTS];
};
const char *bench__cost_name(enum bench_cost c);
/* "mmio_read=9.1,mmio_write=9.0,pio=8.7,hlt=25,inject=3.1": every key
 * once, each a positive finite number of microseconds below 1e6.  0, or -1
 * with the reason in err. */
int bench__parse_exit_costs(const char *s, struct bench_exit_costs *out, char *err, size_t errlen);
/* The cost charged to one exit of reason r: MMIO by direction, port I/O
 * both ways, hlt; an exit of another reason (a kick, cli/sti, a fault) is
 * a hand-off without device work: the port I/O cost. */
double bench__exit_cost_us(const struct bench_exit_costs *c, enum bench_exit_reason r);

/* What the hypervisor's run loop spent, by the kind of exit it served
 * (hv/vm.h: sampled thread CPU), in cores. */
enum bench_hv_kind {
    BENCH_HV_MMIO_READ, BENCH_HV_MMIO_WRITE, BENCH_HV_PIO_IN, BENCH_HV_PIO_OUT, BENCH_HV_HLT,
    BENCH_HV_OTHER, BENCH_HV_KINDS
};
_Static_assert(BENCH_HV_KINDS == sizeof(((struct bench_result *)0)->hv_cpu_by_kind) / sizeof(double),
               "bench_result.hv_cpu_by_kind has one slot per kind");
const char *bench__hv_kind_name(enum bench_hv_kind k);
int bench__hv_kind_by_name(const char *name);

/* One mode's (or native's) figures at a size: means over its runs. */
struct bench_acct_in {
    double cpu;                            /* cpu_util, cores */
    double backends;                       /* the backends role, cores */
    double exits_ps[BENCH_EXIT_REASONS];
    double irq_ps;
    double hv_spin;                        /* the run loop's spinning, cores */
    double hv_irq;                         /* the assigned device's host handler, cores */
    double hv_model;                       /* the emulated device model's register handlers, cores */
};

/* Cores; any may be negative (a mode can cost less than native). */
struct bench_overhead {
    double measured;    /* cpu - native cpu */
    double exits;       /* sum over reasons of exits/s x cost */
    double spin;        /* the run loop's spinning (measured: exit costs are futex hand-offs) */
    double irq_handler; /* the assigned device's host interrupt handler (measured) */
    double model;       /* the emulated e1000's register handlers (measured: their work is
                         * not in the exit costs, whose trap handler does nothing) */
    double injections;  /* (irq/s - native irq/s) x inject cost: native takes its own by signal */
    double backends;    /* backends - native backends (measured) */
    double predicted;   /* the six lines above */
    double remainder;   /* measured - predicted */
};
#define BENCH_OVERHEAD_KEYS 9
extern const char *const bench_overhead_keys[BENCH_OVERHEAD_KEYS + 1]; /* NULL-terminated */
/* The struct as an array in bench_overhead_keys' order. */
void bench__overhead_values(const struct bench_overhead *o, double out[BENCH_OVERHEAD_KEYS]);

void bench__overhead(const struct bench_exit_costs *c, const struct bench_acct_in *mode,
                     const struct bench_acct_in *native, struct bench_overhead *out);

#endif
