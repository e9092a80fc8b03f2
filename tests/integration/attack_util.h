/* Shared by the attack integration tests: run one attack guest on the
 * testbed (testbed/testbed) and keep the host state around for inspection:
 * console lines, VT-d fault records, canary pages in host physical memory,
 * a second VM on the same machine.  Header-only: one per test binary. */
#ifndef IOVIRT_TESTS_ATTACK_UTIL_H
#define IOVIRT_TESTS_ATTACK_UTIL_H

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testbed/testbed.h"
#include "hv/vm.h"
#include "hw/physmem.h"
#include "lib/log.h"
#include "lib/tsc.h"

#define ATK_OUT 65536
#define ATK_MAX_CANARY 16

struct atk_console {
    pthread_mutex_t lock;
    char buf[ATK_OUT];
    size_t len;
};

static void atk__console(void *ctx, const char *line, size_t len)
{
    struct atk_console *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->len + len + 1 < ATK_OUT) {
        memcpy(c->buf + c->len, line, len);
        c->len += len;
        if (!len || line[len - 1] != '\n')
            c->buf[c->len++] = '\n';
        c->buf[c->len] = 0;
    }
    pthread_mutex_unlock(&c->lock);
}

/* <dir of this test>/../<rel>: build/tests/x -> build/<rel>. */
static inline int atk__artifact(const char *rel, char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    int r = snprintf(out, size, "%s/../%s", dirname(exe), rel);
    return r > 0 && (size_t)r < size ? 0 : -1;
}

/* A host page filled with a pattern, checked byte for byte later. */
struct atk_canary {
    uint64_t hpa, len;
    uint8_t *copy;
};

struct atk {
    struct testbed t;
    struct atk_console con, con2;
    char kernel[PATH_MAX];
    struct atk_canary canary[ATK_MAX_CANARY];
    unsigned ncanary;
    /* the bystander VM */
    struct hv_vm vm2;
    bool vm2_up;
    pthread_t vm2_thread;
    int vm2_rc;
    char vm2_cmd[64];
    char cmd[256];               /* a command line the test builds */
};

/* flags: ATK_NO_IR boots the host without interrupt remapping, ATK_UNSAFE
 * allows assignment even so (--allow-unsafe-interrupts). */
#define ATK_NO_IR  1u
#define ATK_UNSAFE 2u
static inline int atk__setup_flags(struct atk *a, enum testbed_mode mode, const char *cmdline, unsigned flags);

static inline int atk__setup(struct atk *a, enum testbed_mode mode, const char *cmdline)
{
    return atk__setup_flags(a, mode, cmdline, 0);
}

static inline int atk__setup_flags(struct atk *a, enum testbed_mode mode, const char *cmdline, unsigned flags)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->con.lock, NULL);
    pthread_mutex_init(&a->con2.lock, NULL);
    if (atk__artifact("guest/iovirt-guest.elf", a->kernel, sizeof a->kernel))
        return -1;
    log__set_quiet(1);
    struct testbed_config tc = {.mode = mode, .mem_bytes = 64ull << 20, .host_mem_bytes = 1ull << 30,
                                .kernel = a->kernel, .cmdline = cmdline, .console = atk__console,
                                .console_ctx = &a->con, .no_interrupt_remapping = flags & ATK_NO_IR,
                                .allow_unsafe_interrupts = flags & ATK_UNSAFE};
    return testbed__create(&a->t, &tc);
}

/* Snapshot [hpa, hpa+len) (allocating it first when alloc) as a canary. */
static inline int atk__canary(struct atk *a, uint64_t hpa, uint64_t len, bool fill)
{
    if (a->ncanary == ATK_MAX_CANARY || !physmem__range_ok(&a->t.plat.pm, hpa, len))
        return -1;
    uint8_t *p = physmem__ptr(&a->t.plat.pm, hpa, len);
    if (!p)
        return -1;
    if (fill)
        for (uint64_t i = 0; i < len; i++)
            p[i] = (uint8_t)(0xC3 ^ (i * 131) ^ (hpa >> 12));
    struct atk_canary *c = &a->canary[a->ncanary++];
    c->hpa = hpa, c->len = len;
    c->copy = malloc(len);
    memcpy(c->copy, p, len);
    return 0;
}

/* Fresh host pages around everything allocated so far. */
static inline int atk__canary_alloc(struct atk *a)
{
    uint64_t hpa;
    if (physmem__alloc(&a->t.plat.pm, PHYSMEM_PAGE_4K, &hpa))
        return -1;
    return atk__canary(a, hpa, PHYSMEM_PAGE_4K, true);
}

/* Index of the first canary that changed, or -1. */
static inline int atk__canary_changed(struct atk *a)
{
    for (unsigned i = 0; i < a->ncanary; i++) {
        struct atk_canary *c = &a->canary[i];
        if (memcmp(physmem__ptr(&a->t.plat.pm, c->hpa, c->len), c->copy, c->len))
            return (int)i;
    }
    return -1;
}

static void *atk__vm2_main(void *arg)
{
    struct atk *a = arg;
    a->vm2_rc = hv_vm__run(&a->vm2);
    return NULL;
}

/* A second VM (no NIC) on the same machine running `sleep MS`; a canary
 * is planted in the last page of its RAM. */
static inline int atk__bystander(struct atk *a, unsigned ms)
{
    snprintf(a->vm2_cmd, sizeof a->vm2_cmd, "sleep %u", ms);
    struct hv_vm_config vc = {.name = "vm1", .pm = &a->t.plat.pm, .mem_bytes = 16ull << 20,
                              .kernel_path = a->kernel, .cmdline = a->vm2_cmd, .nic = HV_NIC_NONE,
                              .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x99}, .tsc_hz = tsc__calibrate_hz(),
                              .console = atk__console, .console_ctx = &a->con2};
    if (hv_vm__create(&a->vm2, &vc))
        return -1;
    a->vm2_up = true;
    struct guest_mem *m = &a->vm2.mem;
    if (atk__canary(a, m->hpa[m->nr_extents - 1] + GUEST_MEM_EXTENT - PHYSMEM_PAGE_4K, PHYSMEM_PAGE_4K, true))
        return -1;
    return pthread_create(&a->vm2_thread, NULL, atk__vm2_main, a);
}

static inline int atk__bystander_join(struct atk *a)
{
    pthread_join(a->vm2_thread, NULL);
    return a->vm2_rc == 0 ? a->vm2.exit_status : -1;
}

/* Fault records matching addr (page) and reason, read after the run. */
static inline unsigned atk__faults(struct atk *a, uint64_t addr, uint8_t reason, bool is_write)
{
    struct host_vtd_fault f[HOST_OS_FAULT_LOG];
    host_os__poll_faults(&a->t.host);
    unsigned n = host_os__faults(&a->t.host, f, HOST_OS_FAULT_LOG), hits = 0;
    for (unsigned i = 0; i < n; i++)
        if (!f[i].is_ir && f[i].addr == (addr & ~0xFFFull) && f[i].reason == reason && f[i].is_write == is_write &&
            f[i].sid == PLATFORM_NIC_SID)
            hits++;
    return hits;
}

/* Interrupt-remapping faults with this reason (and index, unless any) from
 * the NIC. */
#define ATK_ANY_INDEX 0x10000u
static inline unsigned atk__ir_faults(struct atk *a, uint8_t reason, unsigned index)
{
    struct host_vtd_fault f[HOST_OS_FAULT_LOG];
    host_os__poll_faults(&a->t.host);
    unsigned n = host_os__faults(&a->t.host, f, HOST_OS_FAULT_LOG), hits = 0;
    for (unsigned i = 0; i < n; i++)
        if (f[i].is_ir && f[i].reason == reason && (index == ATK_ANY_INDEX || f[i].ir_index == index) &&
            f[i].sid == PLATFORM_NIC_SID)
            hits++;
    return hits;
}

static inline void atk__teardown(struct atk *a)
{
    if (a->vm2_up)
        hv_vm__destroy(&a->vm2);
    testbed__destroy(&a->t);
    for (unsigned i = 0; i < a->ncanary; i++)
        free(a->canary[i].copy);
}

#endif
