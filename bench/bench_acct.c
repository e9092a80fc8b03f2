/* The overhead over native, line by line (bench/bench_acct.h). */
#include "bench/bench_acct.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cost_names[BENCH_COSTS] = {"mmio_read", "mmio_write", "pio", "hlt",
                                                    "inject"};
static const char *const hv_names[BENCH_HV_KINDS] = {"mmio_read", "mmio_write", "pio_in",
                                                     "pio_out", "hlt", "other"};
const char *const bench_overhead_keys[BENCH_OVERHEAD_KEYS + 1] = {
    "measured", "exits", "spin", "irq_handler", "model", "injections", "backends", "predicted",
    "remainder", NULL};

const char *bench__cost_name(enum bench_cost c)
{
    return (unsigned)c < BENCH_COSTS ? cost_names[c] : "?";
}

const char *bench__hv_kind_name(enum bench_hv_kind k)
{
    return (unsigned)k < BENCH_HV_KINDS ? hv_names[k] : "?";
}

int bench__hv_kind_by_name(const char *name)
{
    for (int k = 0; k < BENCH_HV_KINDS; k++)
        if (!strcmp(name, hv_names[k]))
            return k;
    return -1;
}

int bench__parse_exit_costs(const char *s, struct bench_exit_costs *out, char *err, size_t errlen)
{
    struct bench_exit_costs c = {.set = true};
    bool seen[BENCH_COSTS] = {false};
    const char *p = s;
    while (*p) {
        const char *eq = strchr(p, '=');
        size_t klen = eq ? (size_t)(eq - p) : 0;
        int k = -1;
        for (int i = 0; eq && i < BENCH_COSTS; i++)
            if (strlen(cost_names[i]) == klen && !strncmp(p, cost_names[i], klen))
                k = i;
        if (k < 0) {
            snprintf(err, errlen, "'%.*s' is not one of mmio_read, mmio_write, pio, hlt, inject "
                     "followed by =US", (int)strcspn(p, ","), p);
            return -1;
        }
        if (seen[k]) {
            snprintf(err, errlen, "'%s' given twice", cost_names[k]);
            return -1;
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || errno || !isfinite(v) || v <= 0 || v >= 1e6 ||
            (*end && *end != ',')) {
            snprintf(err, errlen, "'%s': cost must be a positive number of microseconds below 1e6",
                     cost_names[k]);
            return -1;
        }
        seen[k] = true;
        c.us[k] = v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) {
            snprintf(err, errlen, "trailing ','");
            return -1;
        }
    }
    for (int i = 0; i < BENCH_COSTS; i++)
        if (!seen[i]) {
            snprintf(err, errlen, "'%s' missing (all of mmio_read, mmio_write, pio, hlt, inject)",
                     cost_names[i]);
            return -1;
        }
    *out = c;
    return 0;
}

double bench__exit_cost_us(const struct bench_exit_costs *c, enum bench_exit_reason r)
{
    switch (r) {
    case BENCH_EXIT_MMIO_READ: return c->us[BENCH_COST_MMIO_READ];
    case BENCH_EXIT_MMIO_WRITE: return c->us[BENCH_COST_MMIO_WRITE];
    case BENCH_EXIT_HLT: return c->us[BENCH_COST_HLT];
    default: return c->us[BENCH_COST_PIO];
    }
}

void bench__overhead_values(const struct bench_overhead *o, double out[BENCH_OVERHEAD_KEYS])
{
    double v[BENCH_OVERHEAD_KEYS] = {o->measured, o->exits,      o->spin,
                                     o->irq_handler, o->model,   o->injections,
                                     o->backends, o->predicted, o->remainder};
    memcpy(out, v, sizeof v);
}

void bench__overhead(const struct bench_exit_costs *c, const struct bench_acct_in *m,
                     const struct bench_acct_in *n, struct bench_overhead *o)
{
    memset(o, 0, sizeof *o);
    o->measured = m->cpu - n->cpu;
    for (int r = 0; r < BENCH_EXIT_REASONS; r++)
        o->exits += m->exits_ps[r] * bench__exit_cost_us(c, (enum bench_exit_reason)r) / 1e6;
    o->spin = m->hv_spin;
    o->irq_handler = m->hv_irq;
    o->model = m->hv_model;
    o->injections = (m->irq_ps - n->irq_ps) * c->us[BENCH_COST_INJECT] / 1e6;
    o->backends = m->backends - n->backends;
    o->predicted = o->exits + o->spin + o->irq_handler + o->model + o->injections + o->backends;
    o->remainder = o->measured - o->predicted;
}
