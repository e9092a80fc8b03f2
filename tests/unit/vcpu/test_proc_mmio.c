/* Process backend: MMIO through the decoder in every size and addressing
 * form (guest tests/guests/mmio.c), the direct memory-offset MOVs gcc emits
 * as movabs (guest tests/guests/mmio_moffs.c), the trap registry's per-range
 * counters, unclaimed accesses, and a directly mapped device page (no exit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "proc_guest_util.h"
#include "vcpu/vcpu_trap.h"

#define MMIO_BASE 0x10000000ull
#define DIRECT_PAGE 0x20000000ull

struct scratch {
    uint8_t regs[256];
    unsigned sizes_seen[9];     /* [len] accesses */
    uint64_t addrs[64];
    unsigned n;
};

static void scratch_fn(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                       void *opaque)
{
    (void)v;
    struct scratch *s = opaque;
    uint64_t off = addr - MMIO_BASE;
    assert_true(off + len <= sizeof s->regs);
    if (is_write)
        memcpy(s->regs + off, data, len);
    else
        memcpy(data, s->regs + off, len);
    s->sizes_seen[len]++;
    if (s->n < 64)
        s->addrs[s->n++] = addr;
}

/* Run the guest to its exit through the trap registry: each MMIO exit is
 * first shown to on_mmio (if any); the last value reported on port 0x510
 * goes to *reported; returns the guest's exit code. */
static uint32_t run_to_exit(struct tguest *g, struct vcpu_traps *traps, void (*on_mmio)(void *), void *ctx,
                            uint32_t *reported)
{
    uint32_t code = ~0u;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vcpu__run(&g->v), 0);
        struct vcpu_exit *e = &g->v.exit;
        if (tguest__is_exit(e, &code))
            break;
        if (e->reason == VCPU_EXIT_PIO && e->pio.port == 0x510) {
            *reported = e->pio.data;
            continue;
        }
        if (e->reason == VCPU_EXIT_FAULT)
            fail_msg("fault vector %u at rip 0x%llx addr 0x%llx: %s", e->fault.vector,
                     (unsigned long long)e->fault.rip, (unsigned long long)e->fault.addr,
                     e->fault.why);
        if (e->reason == VCPU_EXIT_MMIO && on_mmio)
            on_mmio(ctx);
        assert_true(vcpu_traps__dispatch(traps, &g->v));
    }
    return code;
}

static void test_mmio_all_forms(void **state)
{
    (void)state;
    struct tguest g;
    struct scratch sc;
    struct vcpu_traps traps;
    memset(&sc, 0, sizeof sc);
    tguest__init(&g);
    int dfd = memfd_create("direct", MFD_CLOEXEC);
    assert_true(dfd >= 0);
    assert_int_equal(ftruncate(dfd, 4096), 0);
    assert_int_equal(vcpu_memmap__add_direct(&g.map, DIRECT_PAGE, 4096, dfd, 0, true), 0);
    tguest__start(&g, "mmio", "");
    vcpu_traps__init(&traps);
    assert_int_equal(vcpu_traps__register(&traps, VCPU_TRAP_MMIO, MMIO_BASE, 256, scratch_fn, &sc,
                                          "scratch"), 0);
    uint32_t reported = 0;
    uint32_t code = run_to_exit(&g, &traps, NULL, NULL, &reported);
    assert_int_equal(code, 0);
    assert_int_equal(reported, 1);
    /* 13 stores, 16 loads claimed by the device, one unclaimed load. */
    struct vcpu_trap *t = vcpu_traps__find(&traps, VCPU_TRAP_MMIO, MMIO_BASE, 1);
    assert_non_null(t);
    assert_int_equal(t->writes, 13);
    assert_int_equal(t->reads, 16);
    assert_int_equal(traps.unclaimed_reads, 1);
    assert_int_equal(g.v.stats.n[VCPU_STAT_MMIO_WRITE], 13);
    assert_int_equal(g.v.stats.n[VCPU_STAT_MMIO_READ], 17);
    assert_int_equal(sc.sizes_seen[1], 8);
    assert_int_equal(sc.sizes_seen[2], 6);
    assert_int_equal(sc.sizes_seen[4], 9);
    assert_int_equal(sc.sizes_seen[8], 6);
    /* The decoder computed each address form right. */
    assert_int_equal(sc.addrs[0], MMIO_BASE);
    assert_int_equal(sc.addrs[2], MMIO_BASE + 0x10);      /* disp32 */
    assert_int_equal(sc.addrs[3], MMIO_BASE + 0x18);      /* SIB */
    assert_int_equal(sc.addrs[11], MMIO_BASE + 0x38);     /* RIP-relative */
    assert_int_equal(sc.addrs[12], MMIO_BASE + 0x3c);     /* absolute */
    uint64_t v64;
    memcpy(&v64, sc.regs + 0x18, 8);
    assert_int_equal(v64, 0x1122334455667788ull);
    /* The direct page took the store without an exit. */
    uint32_t direct;
    assert_int_equal(pread(dfd, &direct, 4, 0), 4);
    assert_int_equal(direct, 0x600dcafe);
    vcpu_traps__destroy(&traps);
    tguest__fini(&g);
    close(dfd);
}

/* ---- movabs (A0-A3): guest tests/guests/mmio_moffs.c ------------------- */

#define MOFFS_HIGH  0x123480000000ull /* 8-byte offsets */
#define MOFFS_LOW32 0x80000000ull     /* addr32 (67): 4-byte offsets, zero-extended */

/* One MMIO exit as the device saw it, and the instruction that caused it. */
struct moffs_access {
    uint64_t addr, data;
    uint8_t len;
    bool is_write;
    uint8_t opcode;       /* first byte after the prefixes */
    bool p66, p67, rex_w; /* prefixes seen before it */
};

struct moffs_dev {
    uint8_t high[64], low[64];
    struct moffs_access log[32];
    unsigned n;
    struct moffs_access pending; /* instruction of the exit being dispatched */
};

static void moffs_fn(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                     void *opaque)
{
    (void)v;
    struct moffs_dev *d = opaque;
    uint8_t *regs = addr >= MOFFS_HIGH ? d->high : d->low;
    uint64_t off = addr - (addr >= MOFFS_HIGH ? MOFFS_HIGH : MOFFS_LOW32);
    assert_true(off + len <= sizeof d->high && len <= 8);
    if (is_write)
        memcpy(regs + off, data, len);
    else
        memcpy(data, regs + off, len);
    assert_true(d->n < sizeof d->log / sizeof d->log[0]);
    struct moffs_access *a = &d->log[d->n++];
    *a = d->pending;
    a->addr = addr;
    a->len = (uint8_t)len;
    a->is_write = is_write;
    a->data = 0;
    memcpy(&a->data, data, len);
}

/* The instruction at the guest's RIP: prefixes and opcode byte. */
static void moffs_insn(struct tguest *g, struct moffs_access *a)
{
    struct vcpu_regs r;
    uint8_t code[15];
    memset(a, 0, sizeof *a);
    assert_int_equal(vcpu__get_regs(&g->v, &r), 0);
    assert_int_equal(vcpu_memmap__read(&g->map, r.rip, code, sizeof code), 0);
    size_t i = 0;
    for (; i < sizeof code; i++) {
        if (code[i] == 0x66)
            a->p66 = true;
        else if (code[i] == 0x67)
            a->p67 = true;
        else if ((code[i] & 0xf0) == 0x40)
            a->rex_w = (code[i] & 8) != 0;
        else
            break;
    }
    assert_true(i < sizeof code);
    a->opcode = code[i];
}

struct moffs_ctx {
    struct tguest *g;
    struct moffs_access *pending;
};

static void moffs_on_mmio(void *ctx)
{
    struct moffs_ctx *mc = ctx;
    moffs_insn(mc->g, mc->pending);
}

static void test_mmio_moffs(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_traps traps;
    static struct moffs_dev dev;
    memset(&dev, 0, sizeof dev);
    /* What the guest's loads expect (little-endian). */
    dev.high[0x20] = 0x5a;
    memcpy(dev.high + 0x22, &(uint16_t){0xbeef}, 2);
    memcpy(dev.high + 0x24, &(uint32_t){0x8badf00d}, 4);
    memcpy(dev.high + 0x28, &(uint64_t){0xfedcba9876543210ull}, 8);
    tguest__init(&g);
    tguest__start(&g, "mmio_moffs", "");
    vcpu_traps__init(&traps);
    assert_int_equal(vcpu_traps__register(&traps, VCPU_TRAP_MMIO, MOFFS_HIGH, 64, moffs_fn, &dev,
                                          "moffs-high"), 0);
    assert_int_equal(vcpu_traps__register(&traps, VCPU_TRAP_MMIO, MOFFS_LOW32, 64, moffs_fn, &dev,
                                          "moffs-low32"), 0);
    uint32_t reported = 0;
    struct moffs_ctx mc = {&g, &dev.pending};
    uint32_t code = run_to_exit(&g, &traps, moffs_on_mmio, &mc, &reported);
    if (code != 0)
        fail_msg("guest check %u failed (a load returned the wrong value)", code);
    assert_int_equal(reported, 1);

    /* Every access reached the device with the right address, size and
     * value, and was made by a moffs MOV (gcc's movabs, or the addr32 form). */
    static const struct moffs_access want[] = {
        { MOFFS_HIGH + 0x00, 0x11, 1, true, 0xa2, false, false, false },
        { MOFFS_HIGH + 0x02, 0x2233, 2, true, 0xa3, true, false, false },
        { MOFFS_HIGH + 0x04, 0x44556677, 4, true, 0xa3, false, false, false },
        { MOFFS_HIGH + 0x08, 0x8899aabbccddeeffull, 8, true, 0xa3, false, false, true },
        { MOFFS_HIGH + 0x20, 0x5a, 1, false, 0xa0, false, false, false },
        { MOFFS_HIGH + 0x22, 0xbeef, 2, false, 0xa1, true, false, false },
        { MOFFS_HIGH + 0x24, 0x8badf00d, 4, false, 0xa1, false, false, false },
        { MOFFS_HIGH + 0x28, 0xfedcba9876543210ull, 8, false, 0xa1, false, false, true },
        { MOFFS_LOW32 + 0x00, 0x31, 1, true, 0xa2, false, true, false },
        { MOFFS_LOW32 + 0x02, 0x4253, 2, true, 0xa3, true, true, false },
        { MOFFS_LOW32 + 0x04, 0x64758697, 4, true, 0xa3, false, true, false },
        { MOFFS_LOW32 + 0x08, 0xa8b9cadbecfd0e1full, 8, true, 0xa3, false, true, true },
        { MOFFS_LOW32 + 0x00, 0x31, 1, false, 0xa0, false, true, false },
        { MOFFS_LOW32 + 0x02, 0x4253, 2, false, 0xa1, true, true, false },
        { MOFFS_LOW32 + 0x04, 0x64758697, 4, false, 0xa1, false, true, false },
        { MOFFS_LOW32 + 0x08, 0xa8b9cadbecfd0e1full, 8, false, 0xa1, false, true, true },
    };
    assert_int_equal(dev.n, sizeof want / sizeof want[0]);
    for (unsigned i = 0; i < dev.n; i++) {
        const struct moffs_access *a = &dev.log[i], *w = &want[i];
        if (a->addr != w->addr || a->data != w->data || a->len != w->len ||
            a->is_write != w->is_write || a->opcode != w->opcode || a->p66 != w->p66 ||
            a->p67 != w->p67 || a->rex_w != w->rex_w)
            fail_msg("access %u: %s %#llx len %u data %#llx by opcode %02x (66 %d 67 %d W %d)",
                     i, a->is_write ? "write" : "read", (unsigned long long)a->addr, a->len,
                     (unsigned long long)a->data, a->opcode, a->p66, a->p67, a->rex_w);
    }
    struct vcpu_trap *t = vcpu_traps__find(&traps, VCPU_TRAP_MMIO, MOFFS_HIGH, 1);
    assert_non_null(t);
    assert_int_equal(t->writes, 4);
    assert_int_equal(t->reads, 4);
    vcpu_traps__destroy(&traps);
    tguest__fini(&g);
}

/* Registry: overlap and range checks, lookup by containment. */
static void test_trap_registry(void **state)
{
    (void)state;
    struct vcpu_traps ts;
    int dummy;
    vcpu_traps__init(&ts);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_PIO, 0x3F8, 8, scratch_fn, &dummy, "com1"), 0);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_PIO, 0x3FF, 1, scratch_fn, &dummy, "x"), -EEXIST);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_PIO, 0x3F0, 9, scratch_fn, &dummy, "x"), -EEXIST);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_PIO, 0xFFFF, 2, scratch_fn, &dummy, "x"), -EINVAL);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_MMIO, UINT64_MAX, 2, scratch_fn, &dummy, "x"), -EINVAL);
    assert_int_equal(vcpu_traps__register(&ts, VCPU_TRAP_MMIO, 0x3F8, 8, scratch_fn, &dummy, "m"), 0);
    assert_non_null(vcpu_traps__find(&ts, VCPU_TRAP_PIO, 0x3FC, 4));
    assert_null(vcpu_traps__find(&ts, VCPU_TRAP_PIO, 0x3FD, 4));   /* straddles the end */
    assert_null(vcpu_traps__find(&ts, VCPU_TRAP_PIO, 0x3F7, 1));
    assert_int_equal(vcpu_traps__find(&ts, VCPU_TRAP_MMIO, 0x3F8, 1)->space, VCPU_TRAP_MMIO);
    assert_int_equal(vcpu_traps__unregister(&ts, VCPU_TRAP_PIO, 0x3F8), 0);
    assert_null(vcpu_traps__find(&ts, VCPU_TRAP_PIO, 0x3F8, 1));
    assert_int_equal(vcpu_traps__unregister(&ts, VCPU_TRAP_PIO, 0x3F8), -ENOENT);
    vcpu_traps__destroy(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmio_all_forms),
        cmocka_unit_test(test_mmio_moffs),
        cmocka_unit_test(test_trap_registry),
    };
    return cmocka_run_group_tests_name("proc_mmio", tests, NULL, NULL);
}
