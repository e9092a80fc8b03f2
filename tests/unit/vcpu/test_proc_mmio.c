/* Process backend: MMIO through the decoder in every size and addressing
 * form (guest tests/guests/mmio.c), the trap registry's per-range counters,
 * unclaimed accesses, and a directly mapped device page (no exit). */
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
    uint32_t code = ~0u, reported = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (tguest__is_exit(e, &code))
            break;
        if (e->reason == VCPU_EXIT_PIO && e->pio.port == 0x510) {
            reported = e->pio.data;
            continue;
        }
        if (e->reason == VCPU_EXIT_FAULT)
            fail_msg("fault vector %u at rip 0x%llx addr 0x%llx: %s", e->fault.vector,
                     (unsigned long long)e->fault.rip, (unsigned long long)e->fault.addr,
                     e->fault.why);
        assert_true(vcpu_traps__dispatch(&traps, &g.v));
    }
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
        cmocka_unit_test(test_trap_registry),
    };
    return cmocka_run_group_tests_name("proc_mmio", tests, NULL, NULL);
}
