/* guest/hal/bare/bare_memmap.c (host build): the bare port's reading of the
 * PVH memory map: which RAM entry the kernel gets, which 2 MiB pages are
 * mapped uncached, and hostile entries (sizes that wrap, RAM beyond the
 * identity map, the image outside RAM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/hal/bare/bare_memmap.c"

#define RAM XEN_HVM_MEMMAP_TYPE_RAM
#define RSV XEN_HVM_MEMMAP_TYPE_RESERVED
#define IMG_START 0x100000ull
#define IMG_END   0x158000ull

/* What QEMU 7.2's pvh.bin handed the bare kernel on q35 with -m 256 (its
 * `bare: memmap` lines). */
static const struct hvm_memmap_table_entry qemu_q35[] = {
    {0x0, 0x9fc00, RAM, 0},              {0x9fc00, 0x400, RSV, 0},
    {0xf0000, 0x10000, RSV, 0},          {0x100000, 0xfee0000, RAM, 0},
    {0xffe0000, 0x20000, RSV, 0},        {0xb0000000, 0x10000000, RSV, 0},
    {0xfed1c000, 0x4000, RSV, 0},        {0xfffc0000, 0x40000, RSV, 0},
    {0xfd00000000ull, 0x300000000ull, RSV, 0},
};
#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static void test_pick_ram_qemu(void **s)
{
    (void)s;
    uint64_t base = 0, size = 0;
    assert_true(bare_memmap__pick_ram(qemu_q35, N(qemu_q35), IMG_START, IMG_END, &base, &size));
    assert_int_equal(base, 0x100000);
    assert_int_equal(size, 0xfee0000);           /* not the low 640 KiB entry */
}

static void test_pick_ram_refuses(void **s)
{
    (void)s;
    uint64_t base = 0, size = 0;
    /* the image runs past the end of the only RAM entry */
    const struct hvm_memmap_table_entry short_ram[] = {{0x100000, 0x40000, RAM, 0}};
    assert_false(bare_memmap__pick_ram(short_ram, 1, IMG_START, IMG_END, &base, &size));
    /* the image lies in a reserved entry */
    const struct hvm_memmap_table_entry rsv[] = {{0x0, 0x10000000, RSV, 0}};
    assert_false(bare_memmap__pick_ram(rsv, 1, IMG_START, IMG_END, &base, &size));
    assert_false(bare_memmap__pick_ram(NULL, 0, IMG_START, IMG_END, &base, &size));
}

static void test_pick_ram_clipped_and_wrapping(void **s)
{
    (void)s;
    uint64_t base = 0, size = 0;
    /* one entry from 0 past 4 GiB: clipped to what the page tables map */
    const struct hvm_memmap_table_entry big[] = {{0x0, 0x200000000ull, RAM, 0}};
    assert_true(bare_memmap__pick_ram(big, 1, IMG_START, IMG_END, &base, &size));
    assert_int_equal(base, 0);
    assert_int_equal(size, 4ull << 30);
    /* a size that wraps the address space saturates instead */
    const struct hvm_memmap_table_entry wrap[] = {{0x100000, UINT64_MAX, RAM, 0}};
    assert_true(bare_memmap__pick_ram(wrap, 1, IMG_START, IMG_END, &base, &size));
    assert_int_equal(base + size, 4ull << 30);
}

static void test_uncached_pages(void **s)
{
    (void)s;
    static uint64_t pd[2048];
    for (unsigned i = 0; i < 2048; i++)
        pd[i] = (uint64_t)i << 21 | 0x83;
    unsigned marked = bare_memmap__mark_uncached(pd, 2048, 0x18, qemu_q35, N(qemu_q35));
    assert_int_equal(pd[0] & 0x18, 0);           /* 0..2 MiB holds RAM */
    assert_int_equal(pd[127] & 0x18, 0);         /* RAM up to 0xffe0000 in it */
    assert_int_equal(pd[128] & 0x18, 0x18);      /* 256 MiB: no RAM */
    assert_int_equal(pd[0xB0000000 >> 21] & 0x18, 0x18);   /* ECAM */
    assert_int_equal(pd[0xFEC00000 >> 21] & 0x18, 0x18);   /* I/O APIC */
    assert_int_equal(pd[0xFEE00000 >> 21] & 0x18, 0x18);   /* local APIC */
    assert_int_equal(marked, 2048 - 128);
    assert_int_equal(pd[5] & ~0x18ull, (uint64_t)5 << 21 | 0x83);  /* nothing else changed */
}

static void test_is_ram_edges(void **s)
{
    (void)s;
    assert_true(bare_memmap__is_ram(qemu_q35, N(qemu_q35), 0xffdffff, 1));
    assert_false(bare_memmap__is_ram(qemu_q35, N(qemu_q35), 0xffe0000, 0x20000));
    assert_false(bare_memmap__is_ram(qemu_q35, N(qemu_q35), 0x10000000, 0x1000));
    assert_false(bare_memmap__is_ram(qemu_q35, N(qemu_q35), 0x9fc00, 0x400));   /* reserved */
    assert_false(bare_memmap__is_ram(qemu_q35, N(qemu_q35), UINT64_MAX - 1, UINT64_MAX));  /* wraps */
    const struct hvm_memmap_table_entry empty[] = {{0x200000, 0, RAM, 0}};
    assert_false(bare_memmap__is_ram(empty, 1, 0x200000, 0x200000));           /* size 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_ram_qemu),
        cmocka_unit_test(test_pick_ram_refuses),
        cmocka_unit_test(test_pick_ram_clipped_and_wrapping),
        cmocka_unit_test(test_uncached_pages),
        cmocka_unit_test(test_is_ram_edges),
    };
    return cmocka_run_group_tests_name("guest_bare_memmap", tests, NULL, NULL);
}
