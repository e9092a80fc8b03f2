/* Names of tests, modes, exit reasons and CPU roles as they appear on the command line, in
 * JSON and in tables (one table each, indexed by the enums). */
#include <string.h>

#include "bench/bench_run.h"

static const char *const mode_names[BENCH_MODES] = {
    [BENCH_MODE_NATIVE] = "native",
    [BENCH_MODE_ASSIGNED] = "assigned",
    [BENCH_MODE_VIRTIO] = "virtio",
    [BENCH_MODE_EMULATED] = "emulated",
};

static const char *const test_names[BENCH_TESTS] = {
    [BENCH_TEST_STREAM] = "stream",
    [BENCH_TEST_MAERTS] = "maerts",
    [BENCH_TEST_RR] = "rr",
};

const char *bench__test_name(enum bench_test t)
{
    return (unsigned)t < BENCH_TESTS ? test_names[t] : "?";
}

int bench__test_by_name(const char *name)
{
    for (int i = 0; i < BENCH_TESTS; i++)
        if (!strcmp(test_names[i], name))
            return i;
    return -1;
}

static const char *const exit_names[BENCH_EXIT_REASONS] = {
    [BENCH_EXIT_MMIO_READ] = "mmio_read",
    [BENCH_EXIT_MMIO_WRITE] = "mmio_write",
    [BENCH_EXIT_PIO_IN] = "pio_in",
    [BENCH_EXIT_PIO_OUT] = "pio_out",
    [BENCH_EXIT_HLT] = "hlt",
    [BENCH_EXIT_EXTERNAL_IRQ] = "external_irq",
    [BENCH_EXIT_OTHER] = "other",
};

const char *bench__mode_name(enum bench_mode m)
{
    return (unsigned)m < BENCH_MODES ? mode_names[m] : "?";
}

int bench__mode_by_name(const char *name)
{
    for (int i = 0; i < BENCH_MODES; i++)
        if (!strcmp(mode_names[i], name))
            return i;
    return -1;
}

const char *bench__exit_reason_name(enum bench_exit_reason r)
{
    return (unsigned)r < BENCH_EXIT_REASONS ? exit_names[r] : "?";
}

int bench__exit_reason_by_name(const char *name)
{
    for (int i = 0; i < BENCH_EXIT_REASONS; i++)
        if (!strcmp(exit_names[i], name))
            return i;
    return -1;
}

static const char *const role_names[BENCH_CPU_ROLES] = {
    [BENCH_CPU_VCPU] = "vcpu",         [BENCH_CPU_HYPERVISOR] = "hypervisor",
    [BENCH_CPU_BACKENDS] = "backends", [BENCH_CPU_NIC] = "nic",
    [BENCH_CPU_SINK] = "sink",
};

const char *bench__cpu_role_name(enum bench_cpu_role r)
{
    return (unsigned)r < BENCH_CPU_ROLES ? role_names[r] : "?";
}

int bench__cpu_role_by_name(const char *name)
{
    for (int i = 0; i < BENCH_CPU_ROLES; i++)
        if (!strcmp(role_names[i], name))
            return i;
    return -1;
}
