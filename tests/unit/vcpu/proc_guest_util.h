/* Shared set-up for the process-backend tests: host memory, a guest memory
 * map with scattered RAM at PLATFORM_RAM_BASE, a vm and one vcpu running a test
 * guest from build/guests/<name>.elf (or build-san/...) (found next to the test binary). */
#ifndef IOVIRT_TESTS_PROC_GUEST_UTIL_H
#define IOVIRT_TESTS_PROC_GUEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/proc/proc_vcpu.h"
#include "vcpu/vcpu.h"

#define TG_RAM_SIZE (16ull << 20)

struct tguest {
    struct physmem pm;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu v;
    struct guest_load_info info;
    uint64_t hpas[TG_RAM_SIZE / PHYSMEM_PAGE_2M];
};

static inline void tguest__path(const char *name, char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(out, len, "%s/../guests/%s.elf", exe, name);
}

/* Memory (host_mem bytes of it), map and vm only (tests may add regions
 * before tguest__start). */
static inline void tguest__init_mem(struct tguest *g, uint64_t host_mem)
{
    memset(g, 0, sizeof(*g));
    log__set_quiet(1);
    assert_int_equal(physmem__init(&g->pm, host_mem), 0);
    assert_int_equal(physmem__alloc_scattered(&g->pm, TG_RAM_SIZE, PHYSMEM_PAGE_2M, g->hpas), 0);
    vcpu_memmap__init(&g->map, &g->pm);
    for (unsigned i = 0; i < TG_RAM_SIZE / PHYSMEM_PAGE_2M; i++)
        assert_int_equal(vcpu_memmap__add_ram(&g->map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M,
                                              g->hpas[i], PHYSMEM_PAGE_2M), 0);
    assert_int_equal(vm__init(&g->vm, &proc_vcpu_ops, &g->map), 0);
}

static inline void tguest__init(struct tguest *g)
{
    tguest__init_mem(g, 64ull << 20);
}

static inline void tguest__start(struct tguest *g, const char *name, const char *cmdline)
{
    char path[PATH_MAX + 64], err[256];
    tguest__path(name, path, sizeof path);
    assert_int_equal(guest_load__file(&g->map, path, cmdline, 0, &g->info, err, sizeof err), 0);
    assert_int_equal(vcpu__create(&g->v, &g->vm, 0), 0);
    assert_int_equal(guest_load__setup_vcpu(&g->v, &g->info), 0);
}

static inline void tguest__fini(struct tguest *g)
{
    vcpu__destroy(&g->v);
    vm__destroy(&g->vm);
    vcpu_memmap__destroy(&g->map);
    physmem__destroy(&g->pm);
}

static inline bool tguest__is_exit(const struct vcpu_exit *e, uint32_t *code)
{
    if (e->reason == VCPU_EXIT_PIO && e->pio.is_write && e->pio.port == PLATFORM_PORT_EXIT) {
        *code = e->pio.data;
        return true;
    }
    return false;
}

#endif
