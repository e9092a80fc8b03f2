/* A minimal test platform for booting the real guest kernel
 * (build/guest/iovirt-guest.elf, or the build-san one) on the process
 * backend: a 16550 whose output is captured, the exit port, the HPET model
 * (own thread; FSB/MSI messages become injected vectors), PCI configuration
 * mechanism #1 (empty bus unless the test supplies config handlers), and a
 * per-iteration hook for test devices.  Header-only: one per test binary. */
#ifndef IOVIRT_TESTS_GUEST_PLATFORM_H
#define IOVIRT_TESTS_GUEST_PLATFORM_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hw/physmem.h"
#include "hw/timer/hpet.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/vcpu.h"
#include "vcpu/vcpu_trap.h"

#define RAM_SIZE (32ull << 20)
#define RUN_LIMIT_NS (15ull * 1000000000ull)

struct platform;
struct platform {
    struct physmem pm;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu v;
    struct vcpu_traps traps;
    struct guest_load_info info;
    uint64_t hpas[RAM_SIZE / PHYSMEM_PAGE_2M];
    struct hpet *hpet;
    struct irq_sink sink;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t msis, bad_msis;
    char out[16384];
    size_t out_len;
    uint32_t pci_addr;
    bool exited;
    uint32_t status;
    /* Test hooks (may be NULL). */
    uint32_t (*pci_read)(struct platform *p, unsigned dev, unsigned fn, unsigned off);
    void (*pci_write)(struct platform *p, unsigned dev, unsigned fn, unsigned off, uint32_t v);
    void (*tick)(struct platform *p);   /* each loop pass and every ms while halted */
    void *test;
};

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t measure_tsc_hz(void)
{
    uint64_t t0 = now_ns(), c0 = __rdtsc();
    struct timespec d = {0, 20000000};
    nanosleep(&d, NULL);
    uint64_t t1 = now_ns(), c1 = __rdtsc();
    return (c1 - c0) * 1000000000ull / (t1 - t0);
}

/* The platform's interrupt delivery: an MSI to the local APIC range
 * becomes vector `data` on the one vCPU. */
static inline void plat_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    (void)rid;
    struct platform *p = ctx;
    pthread_mutex_lock(&p->lock);
    if ((addr & 0xFFF00000u) == 0xFEE00000u && (data & 0xFF) >= 32) {
        vcpu__inject_irq(&p->v, (uint8_t)data);
        p->msis++;
    } else {
        p->bad_msis++;
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static inline void uart_trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                      void *opaque)
{
    (void)v;
    struct platform *p = opaque;
    unsigned reg = (unsigned)(addr - PLATFORM_PORT_COM1);
    if (is_write) {
        if (reg == 0 && p->out_len + 1 < sizeof p->out)
            p->out[p->out_len++] = (char)data[0];
        return;
    }
    memset(data, 0, len);
    if (reg == 5)
        data[0] = 0x60; /* LSR: THR empty, transmitter empty */
}

static inline void exit_trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                      void *opaque)
{
    (void)v, (void)addr;
    struct platform *p = opaque;
    if (is_write) {
        uint32_t s = 0;
        memcpy(&s, data, len < 4 ? len : 4);
        p->status = s;
        p->exited = true;
    } else {
        memset(data, 0xFF, len);
    }
}

/* Mechanism #1: CONFIG_ADDRESS latch, CONFIG_DATA dword accesses go to the
 * test's handlers (bus 0 only); without them every read is all-ones. */
static inline void pci_trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                     void *opaque)
{
    (void)v;
    struct platform *p = opaque;
    if (addr == PLATFORM_PORT_PCI_ADDR && len == 4) {
        if (is_write)
            memcpy(&p->pci_addr, data, 4);
        else
            memcpy(data, &p->pci_addr, 4);
        return;
    }
    uint32_t a = p->pci_addr;
    bool ok = addr == PLATFORM_PORT_PCI_DATA && len == 4 && (a & 0x80000000u) && ((a >> 16) & 0xFF) == 0;
    unsigned dev = (a >> 11) & 31, fn = (a >> 8) & 7, off = a & 0xFC;
    if (is_write) {
        uint32_t val;
        memcpy(&val, data, 4);
        if (ok && p->pci_write)
            p->pci_write(p, dev, fn, off, val);
        return;
    }
    uint32_t val = ok && p->pci_read ? p->pci_read(p, dev, fn, off) : 0xFFFFFFFFu;
    memcpy(data, &val, len < 4 ? len : 4);
}

static inline void hpet_trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                      void *opaque)
{
    (void)v;
    struct platform *p = opaque;
    uint64_t off = addr - PLATFORM_HPET_BASE, val = 0;
    if (is_write) {
        memcpy(&val, data, len);
        hpet_mmio_ops.write(p->hpet, off, len, val);
    } else {
        val = hpet_mmio_ops.read(p->hpet, off, len);
        memcpy(data, &val, len);
    }
}

static inline void guest_path(const char *name, char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(out, len, "%s/../guest/%s", exe, name);
}

/* Set up everything but the guest (tests add traps and hooks next). */
static inline void platform_init(struct platform *p)
{
    memset(p, 0, sizeof(*p));
    log__set_quiet(1);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    assert_int_equal(physmem__init(&p->pm, 64ull << 20), 0);
    assert_int_equal(physmem__alloc_scattered(&p->pm, RAM_SIZE, PHYSMEM_PAGE_2M, p->hpas), 0);
    vcpu_memmap__init(&p->map, &p->pm);
    for (unsigned i = 0; i < RAM_SIZE / PHYSMEM_PAGE_2M; i++)
        assert_int_equal(vcpu_memmap__add_ram(&p->map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M,
                                              p->hpas[i], PHYSMEM_PAGE_2M), 0);
    assert_int_equal(vm__init(&p->vm, &proc_vcpu_ops, &p->map), 0);

    vcpu_traps__init(&p->traps);
    assert_int_equal(vcpu_traps__register(&p->traps, VCPU_TRAP_PIO, PLATFORM_PORT_COM1, 8, uart_trap, p, "com1"), 0);
    assert_int_equal(vcpu_traps__register(&p->traps, VCPU_TRAP_PIO, PLATFORM_PORT_EXIT, 4, exit_trap, p, "exit"), 0);
    assert_int_equal(vcpu_traps__register(&p->traps, VCPU_TRAP_PIO, PLATFORM_PORT_PCI_ADDR, 8, pci_trap, p, "pci"), 0);
    assert_int_equal(vcpu_traps__register(&p->traps, VCPU_TRAP_MMIO, PLATFORM_HPET_BASE, HPET_MMIO_SIZE, hpet_trap, p, "hpet"), 0);
    p->sink = (struct irq_sink){.msi = plat_msi, .ctx = p};
    struct hpet_config hc = {.irq = &p->sink, .requester_id = 0xF8, .legacy_vector_base = 32,
                             .own_thread = true};
    p->hpet = hpet__create(&hc);
    assert_non_null(p->hpet);
}

static inline void platform_load(struct platform *p, const char *cmdline)
{
    char path[PATH_MAX + 64], err[256];
    guest_path("iovirt-guest.elf", path, sizeof path);
    int rc = guest_load__file(&p->map, path, cmdline, measure_tsc_hz(), &p->info, err, sizeof err);
    if (rc)
        fail_msg("loading %s: %s", path, err);
    assert_int_equal(vcpu__create(&p->v, &p->vm, 0), 0);
    assert_int_equal(guest_load__setup_vcpu(&p->v, &p->info), 0);
}

static inline void platform_boot(struct platform *p, const char *cmdline)
{
    platform_init(p);
    platform_load(p, cmdline);
}

/* Inject `vector` from a device model thread or the loop. */
static inline void platform_irq(struct platform *p, uint8_t vector)
{
    pthread_mutex_lock(&p->lock);
    vcpu__inject_irq(&p->v, vector);
    p->msis++;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* Run until the guest writes the exit port (or fails the test). */
static inline void platform_run(struct platform *p)
{
    uint64_t deadline = now_ns() + RUN_LIMIT_NS;
    while (!p->exited) {
        if (p->tick)
            p->tick(p);
        if (now_ns() > deadline)
            fail_msg("guest did not power off in time; console:\n%.*s", (int)p->out_len, p->out);
        assert_int_equal(vcpu__run(&p->v), 0);
        struct vcpu_exit *e = &p->v.exit;
        switch (e->reason) {
        case VCPU_EXIT_MMIO:
        case VCPU_EXIT_PIO:
            vcpu_traps__dispatch(&p->traps, &p->v);
            break;
        case VCPU_EXIT_HLT: {
            /* Halted: wait for the next interrupt (bounded), running the
             * test's devices every millisecond meanwhile. */
            uint64_t give_up = now_ns() + 5000000000ull;
            bool got = false;
            while (!got && now_ns() < give_up) {
                if (p->tick)
                    p->tick(p);
                pthread_mutex_lock(&p->lock);
                got = vcpu__irq_pending(&p->v);
                if (!got) {
                    struct timespec ts;
                    clock_gettime(CLOCK_REALTIME, &ts);
                    ts.tv_nsec += 1000000;
                    if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                    }
                    pthread_cond_timedwait(&p->cond, &p->lock, &ts);
                    got = vcpu__irq_pending(&p->v);
                }
                pthread_mutex_unlock(&p->lock);
            }
            if (!got)
                fail_msg("guest halted and no interrupt came; console:\n%.*s", (int)p->out_len, p->out);
            break;
        }
        case VCPU_EXIT_INTR:
        case VCPU_EXIT_IRQ_WINDOW:
            break;
        case VCPU_EXIT_FAULT:
            fail_msg("guest fault vector %u at rip %#llx addr %#llx: %s; console:\n%.*s",
                     e->fault.vector, (unsigned long long)e->fault.rip,
                     (unsigned long long)e->fault.addr, e->fault.why, (int)p->out_len, p->out);
            break;
        default:
            fail_msg("unexpected exit %s; console:\n%.*s", vcpu__exit_name(e->reason),
                     (int)p->out_len, p->out);
        }
    }
    p->out[p->out_len] = '\0';
    if (getenv("IOVIRT_GUEST_CONSOLE")) /* debugging aid: show the guest's console */
        fputs(p->out, stderr);
}

static inline void platform_fini(struct platform *p)
{
    hpet__destroy(p->hpet);
    vcpu__destroy(&p->v);
    vm__destroy(&p->vm);
    vcpu_traps__destroy(&p->traps);
    vcpu_memmap__destroy(&p->map);
    physmem__destroy(&p->pm);
}

#endif
