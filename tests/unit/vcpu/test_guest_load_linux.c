/* vcpu/guest_load_linux: a bzImage whose setup header looks like Debian's
 * 6.1 one (protocol 2.15, 39 setup sectors, xloadflags 0x7f, cmdline_size
 * 2047), scaled down, is loaded for the 64-bit boot protocol: kernel at
 * pref_address, zero page, e820 map, identity page tables, GDT, command
 * line and initrd; each malformed header and each misfit is refused with a
 * reason, and a refused image leaves guest RAM as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/platform/linux_boot.h"
#include "drivers/platform/platform_map.h"
#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/guest_load_linux.h"
#include "vcpu/vcpu.h"

#define RAM (8ull << 20)            /* [1 MiB, 9 MiB) */
#define RAM_END (PLATFORM_RAM_BASE + RAM)
#define SETUP_SECTS 39
#define KOFF ((SETUP_SECTS + 1) * 512)
#define KSIZE 0x3000
#define PREF 0x200000ull
#define INIT_SIZE 0x400000u
#define FILE_SIZE (KOFF + KSIZE)

struct fx {
    struct physmem pm;
    struct vcpu_memmap map;       /* low 1 MiB + RAM */
    struct vcpu_memmap map_nolow; /* RAM only, as proc/bare VMs have */
    uint8_t file[FILE_SIZE];
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void make_image(uint8_t *f)
{
    memset(f, 0, FILE_SIZE);
    f[LINUX_HDR_SETUP_SECTS] = SETUP_SECTS;
    put32(f + LINUX_HDR_SYSSIZE, (KSIZE - 0x100) / 16);  /* as Debian: the file is a bit longer */
    put16(f + LINUX_HDR_BOOT_FLAG, LINUX_BOOT_FLAG);
    f[LINUX_HDR_JUMP] = 0xeb, f[LINUX_HDR_JUMP + 1] = 0x6a;   /* header ends at 0x26c */
    put32(f + LINUX_HDR_MAGIC_OFF, LINUX_HDR_MAGIC);
    put16(f + LINUX_HDR_VERSION, 0x020f);
    f[LINUX_HDR_LOADFLAGS] = LINUX_LOADED_HIGH;
    put32(f + LINUX_HDR_CODE32_START, 0x100000);
    put32(f + LINUX_HDR_INITRD_ADDR_MAX, 0x7fffffff);
    put32(f + LINUX_HDR_KERNEL_ALIGN, 0x200000);
    f[LINUX_HDR_RELOCATABLE] = 1;
    f[LINUX_HDR_MIN_ALIGNMENT] = 21;
    put16(f + LINUX_HDR_XLOADFLAGS, 0x7f);
    put32(f + LINUX_HDR_CMDLINE_SIZE, 2047);
    put64(f + LINUX_HDR_PREF_ADDRESS, PREF);
    put32(f + LINUX_HDR_INIT_SIZE, INIT_SIZE);
    for (unsigned i = 0; i < KSIZE; i++)
        f[KOFF + i] = (uint8_t)(i * 7 + 3);
}

static int setup(void **state)
{
    static struct fx f;
    uint64_t hpas[RAM / PHYSMEM_PAGE_2M + 1];
    log__set_quiet(1);
    memset(&f, 0, sizeof f);
    assert_int_equal(physmem__init(&f.pm, 32ull << 20), 0);
    assert_int_equal(physmem__alloc_scattered(&f.pm, RAM + PHYSMEM_PAGE_2M, PHYSMEM_PAGE_2M, hpas), 0);
    vcpu_memmap__init(&f.map, &f.pm);
    vcpu_memmap__init(&f.map_nolow, &f.pm);
    /* low memory: the first MiB of its own extent */
    assert_int_equal(vcpu_memmap__add_ram(&f.map, 0, hpas[RAM / PHYSMEM_PAGE_2M], 1ull << 20), 0);
    for (unsigned i = 0; i < RAM / PHYSMEM_PAGE_2M; i++) {
        uint64_t gpa = PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M;
        assert_int_equal(vcpu_memmap__add_ram(&f.map, gpa, hpas[i], PHYSMEM_PAGE_2M), 0);
        assert_int_equal(vcpu_memmap__add_ram(&f.map_nolow, gpa, hpas[i], PHYSMEM_PAGE_2M), 0);
    }
    make_image(f.file);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vcpu_memmap__destroy(&f->map);
    vcpu_memmap__destroy(&f->map_nolow);
    physmem__destroy(&f->pm);
    return 0;
}

static void fill_ram(struct fx *f, uint8_t v)
{
    static uint8_t buf[RAM];
    memset(buf, v, sizeof buf);
    assert_int_equal(vcpu_memmap__write(&f->map, 0, buf, 1ull << 20), 0);
    assert_int_equal(vcpu_memmap__write(&f->map, PLATFORM_RAM_BASE, buf, RAM), 0);
}

/* Every byte of guest RAM still `v`. */
static void assert_ram_is(struct fx *f, uint8_t v)
{
    static uint8_t buf[RAM];
    assert_int_equal(vcpu_memmap__read(&f->map, 0, buf, 1ull << 20), 0);
    for (size_t i = 0; i < (1u << 20); i++)
        if (buf[i] != v)
            fail_msg("low RAM written at 0x%zx", i);
    assert_int_equal(vcpu_memmap__read(&f->map, PLATFORM_RAM_BASE, buf, RAM), 0);
    for (size_t i = 0; i < RAM; i++)
        if (buf[i] != v)
            fail_msg("RAM written at 0x%llx", (unsigned long long)(PLATFORM_RAM_BASE + i));
}

static void test_loads(void **state)
{
    struct fx *f = *state;
    static uint8_t initrd[0x2345];
    for (size_t i = 0; i < sizeof initrd; i++)
        initrd[i] = (uint8_t)(i ^ 0x3c);
    fill_ram(f, 0xAA);
    struct guest_load_info info;
    char err[256] = "";
    assert_int_equal(guest_load__linux(&f->map, f->file, FILE_SIZE, initrd, sizeof initrd, "console=ttyS0 quiet",
                                       &info, err, sizeof err), 0);
    assert_int_equal(info.boot, VCPU_BOOT_LINUX);
    assert_int_equal(info.entry, PREF + 0x200);
    assert_int_equal(info.bootinfo_gpa, GUEST_LINUX_ZERO_PAGE);
    assert_int_equal(info.rsp, GUEST_LINUX_STACK_TOP);
    assert_int_equal(info.entry_state.boot, VCPU_BOOT_LINUX);
    assert_int_equal(info.entry_state.cr3, GUEST_LINUX_PML4);
    assert_int_equal(info.entry_state.cs, 0x10);
    assert_int_equal(info.entry_state.ds, 0x18);

    /* the protected-mode kernel, whole rest of the file, at pref_address */
    static uint8_t k[KSIZE];
    assert_int_equal(vcpu_memmap__read(&f->map, PREF, k, KSIZE), 0);
    assert_memory_equal(k, f->file + KOFF, KSIZE);

    static uint8_t zp[4096];
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_ZERO_PAGE, zp, sizeof zp), 0);
    assert_int_equal(get32(zp + LINUX_HDR_MAGIC_OFF), LINUX_HDR_MAGIC);   /* header copied */
    assert_int_equal(zp[LINUX_HDR_SETUP_SECTS], SETUP_SECTS);
    assert_int_equal(get32(zp + LINUX_HDR_INIT_SIZE), INIT_SIZE);
    assert_int_equal(zp[LINUX_HDR_TYPE_OF_LOADER], 0xff);
    assert_int_equal(zp[LINUX_HDR_LOADFLAGS], LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP);
    assert_int_equal(get32(zp + LINUX_HDR_CODE32_START), PREF);
    assert_int_equal(get32(zp + LINUX_HDR_CMD_LINE_PTR), GUEST_LINUX_CMDLINE);
    assert_int_equal(zp[0x26c], 0);   /* nothing past the header's end copied */
    char cmd[32];
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_CMDLINE, cmd, 20), 0);
    assert_string_equal(cmd, "console=ttyS0 quiet");

    /* initrd: page aligned, at the top of RAM, inside RAM, after the kernel */
    uint32_t rd = get32(zp + LINUX_HDR_RAMDISK_IMAGE);
    assert_int_equal(get32(zp + LINUX_HDR_RAMDISK_SIZE), sizeof initrd);
    assert_int_equal(get32(zp + LINUX_ZP_EXT_RAMDISK_IMAGE), 0);
    assert_int_equal(rd % 4096, 0);
    assert_true(rd + sizeof initrd <= RAM_END && RAM_END - (rd + sizeof initrd) < 4096);
    assert_true(rd >= PREF + INIT_SIZE);
    static uint8_t back[sizeof initrd];
    assert_int_equal(vcpu_memmap__read(&f->map, rd, back, sizeof back), 0);
    assert_memory_equal(back, initrd, sizeof initrd);

    /* e820: low RAM, the EBDA/ROM area, RAM, then the fixed windows */
    struct linux_e820_entry e[LINUX_E820_MAX_ENTRIES];
    unsigned n = zp[LINUX_ZP_E820_ENTRIES];
    memcpy(e, zp + LINUX_ZP_E820_TABLE, sizeof e);
    assert_true(n >= 4);
    assert_true(e[0].addr == 0 && e[0].size == 0x9fc00 && e[0].type == LINUX_E820_RAM);
    assert_true(e[1].addr == 0x9fc00 && e[1].size == 0x100000 - 0x9fc00 && e[1].type == LINUX_E820_RESERVED);
    assert_true(e[2].addr == PLATFORM_RAM_BASE && e[2].size == RAM && e[2].type == LINUX_E820_RAM);
    bool ecam = false;
    for (unsigned i = 3; i < n; i++) {
        assert_int_equal(e[i].type, LINUX_E820_RESERVED);
        assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);   /* ascending, disjoint */
        assert_false(e[i].addr < PLATFORM_PCI_MMIO_BASE + PLATFORM_PCI_MMIO_SIZE &&
                     e[i].addr + e[i].size > PLATFORM_PCI_MMIO_BASE);   /* BAR window is a gap */
        ecam |= e[i].addr == PLATFORM_PCI_ECAM_BASE;
    }
    assert_true(ecam);

    /* GDT: __BOOT_CS 64-bit code (L set), __BOOT_DS data */
    uint64_t gdt[4];
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_GDT, gdt, sizeof gdt), 0);
    assert_true(gdt[2] & (1ull << 53));       /* L */
    assert_int_equal((gdt[2] >> 40) & 0x9f, 0x9b);  /* present, code, execute/read */
    assert_int_equal((gdt[3] >> 40) & 0x9f, 0x93);  /* present, data, read/write */

    /* the reset vector ends the VM: lidt with a zero limit, int3 */
    uint8_t reset[16];
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_RESET, reset, sizeof reset), 0);
    assert_int_equal(reset[6], 0xcc);
    assert_int_equal(reset[8] | reset[9], 0);

    /* page tables: 0xC0200000 (a 2 MiB page in the 4th GiB) maps to itself */
    uint64_t va = 0xC0200000ull, ent;
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_PML4, &ent, 8), 0);
    assert_int_equal(ent & ~0xfffull, GUEST_LINUX_PDPT);
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_PDPT + (va >> 30) * 8, &ent, 8), 0);
    assert_true(ent & 1);
    assert_int_equal(vcpu_memmap__read(&f->map, (ent & ~0xfffull) + ((va >> 21) & 511) * 8, &ent, 8), 0);
    assert_int_equal(ent & 0x83, 0x83);       /* present, writable, 2 MiB */
    assert_int_equal(ent & ~0x1fffffull, va);
}

static void mut_short(uint8_t *f) { (void)f; }
static void mut_flag(uint8_t *f) { put16(f + LINUX_HDR_BOOT_FLAG, 0x55aa); }
static void mut_magic(uint8_t *f) { f[LINUX_HDR_MAGIC_OFF] = 'h'; }
static void mut_old(uint8_t *f) { put16(f + LINUX_HDR_VERSION, 0x020b); }
static void mut_hdr_end(uint8_t *f) { f[LINUX_HDR_JUMP + 1] = 0x40; }
static void mut_32bit(uint8_t *f) { put16(f + LINUX_HDR_XLOADFLAGS, 0x7e); }
static void mut_low(uint8_t *f) { f[LINUX_HDR_LOADFLAGS] = 0; }
static void mut_setup(uint8_t *f) { f[LINUX_HDR_SETUP_SECTS] = 255; }
static void mut_syssize(uint8_t *f) { put32(f + LINUX_HDR_SYSSIZE, KSIZE / 16 + 1); }
static void mut_nosys(uint8_t *f) { put32(f + LINUX_HDR_SYSSIZE, 0); }
static void mut_init(uint8_t *f) { put32(f + LINUX_HDR_INIT_SIZE, KSIZE - 1); }
static void mut_pref(uint8_t *f) { put64(f + LINUX_HDR_PREF_ADDRESS, 0x1000); }
static void mut_pref_odd(uint8_t *f) { put64(f + LINUX_HDR_PREF_ADDRESS, PREF + 8); }
static void mut_big(uint8_t *f) { put32(f + LINUX_HDR_INIT_SIZE, (uint32_t)RAM); }
static void mut_cmdsize(uint8_t *f) { put32(f + LINUX_HDR_CMDLINE_SIZE, 8); }
static void mut_initrd_max(uint8_t *f) { put32(f + LINUX_HDR_INITRD_ADDR_MAX, PREF + INIT_SIZE + 0x1000 - 1); }

static void expect_refused(struct fx *f, const struct vcpu_memmap *m, void (*mutate)(uint8_t *), size_t size,
                           size_t initrd_size, int rc, const char *word)
{
    static uint8_t copy[FILE_SIZE];
    static uint8_t initrd[RAM];
    memcpy(copy, f->file, sizeof copy);
    mutate(copy);
    fill_ram(f, 0xAA);
    struct guest_load_info info;
    char err[256] = "";
    assert_int_equal(guest_load__linux(m, copy, size, initrd, initrd_size, "console=ttyS0", &info, err, sizeof err),
                     rc);
    if (!strstr(err, word))
        fail_msg("reason '%s' does not say '%s'", err, word);
    assert_null(strchr(err, '\n'));
    assert_ram_is(f, 0xAA);
}

static void test_refusals(void **state)
{
    struct fx *f = *state;
    expect_refused(f, &f->map, mut_short, 0x263, 0, -ENOEXEC, "shorter");
    expect_refused(f, &f->map, mut_flag, FILE_SIZE, 0, -ENOEXEC, "no setup header");
    expect_refused(f, &f->map, mut_magic, FILE_SIZE, 0, -ENOEXEC, "no setup header");
    expect_refused(f, &f->map, mut_old, FILE_SIZE, 0, -ENOEXEC, "older than 2.12");
    expect_refused(f, &f->map, mut_hdr_end, FILE_SIZE, 0, -ENOEXEC, "setup header ends");
    expect_refused(f, &f->map, mut_32bit, FILE_SIZE, 0, -ENOEXEC, "32-bit-only");
    expect_refused(f, &f->map, mut_low, FILE_SIZE, 0, -ENOEXEC, "zImage");
    expect_refused(f, &f->map, mut_setup, FILE_SIZE, 0, -ENOEXEC, "truncated");
    expect_refused(f, &f->map, mut_short, KOFF, 0, -ENOEXEC, "truncated");      /* setup only */
    expect_refused(f, &f->map, mut_short, FILE_SIZE - 0x200, 0, -ENOEXEC, "truncated"); /* cut kernel */
    expect_refused(f, &f->map, mut_syssize, FILE_SIZE, 0, -ENOEXEC, "syssize");
    expect_refused(f, &f->map, mut_nosys, FILE_SIZE, 0, -ENOEXEC, "syssize");
    expect_refused(f, &f->map, mut_init, FILE_SIZE, 0, -ENOEXEC, "init_size");
    expect_refused(f, &f->map, mut_pref, FILE_SIZE, 0, -ENOEXEC, "pref_address");
    expect_refused(f, &f->map, mut_pref_odd, FILE_SIZE, 0, -ENOEXEC, "pref_address");
    expect_refused(f, &f->map, mut_big, FILE_SIZE, 0, -E2BIG, "at least 10 MiB");
    expect_refused(f, &f->map, mut_cmdsize, FILE_SIZE, 0, -EINVAL, "command line of 13 bytes");
    /* initrd: larger than what is left above the kernel; above initrd_addr_max */
    expect_refused(f, &f->map, mut_short, FILE_SIZE, RAM_END - PREF - INIT_SIZE + 1, -E2BIG, "initrd");
    expect_refused(f, &f->map, mut_initrd_max, FILE_SIZE, 0x1001, -E2BIG, "initrd");
    /* a VM without RAM below 1 MiB */
    expect_refused(f, &f->map_nolow, mut_short, FILE_SIZE, 0, -EINVAL, "0..1 MiB");
}

/* The largest initrd that fits is accepted: the check is not off by one. */
static void test_initrd_exact_fit(void **state)
{
    struct fx *f = *state;
    static uint8_t initrd[RAM];
    struct guest_load_info info;
    char err[256] = "";
    size_t max = RAM_END - PREF - INIT_SIZE;
    assert_int_equal(guest_load__linux(&f->map, f->file, FILE_SIZE, initrd, max, "", &info, err, sizeof err), 0);
    uint8_t zp[4096];
    assert_int_equal(vcpu_memmap__read(&f->map, GUEST_LINUX_ZERO_PAGE, zp, sizeof zp), 0);
    assert_int_equal(get32(zp + LINUX_HDR_RAMDISK_IMAGE), PREF + INIT_SIZE);
}

static void test_command_line_limit(void **state)
{
    struct fx *f = *state;
    char line[2048 + 2];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = 0;
    struct guest_load_info info;
    char err[256] = "";
    line[2047] = 0;   /* exactly cmdline_size */
    assert_int_equal(guest_load__linux(&f->map, f->file, FILE_SIZE, NULL, 0, line, &info, err, sizeof err), 0);
    line[2047] = 'x';
    assert_int_equal(guest_load__linux(&f->map, f->file, FILE_SIZE, NULL, 0, line, &info, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "2047"));
}

/* The file front ends: a bzImage's kind, a missing initrd, and the
 * backends that boot (or refuse) a Linux image. */
static void test_files_and_backends(void **state)
{
    struct fx *f = *state;
    char path[] = "/tmp/iovirt-test-bzimage-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f->file, FILE_SIZE), FILE_SIZE);
    close(fd);
    enum vcpu_boot boot = VCPU_BOOT_PROC;
    char err[256] = "";
    assert_int_equal(guest_load__file_boot(path, &boot, err, sizeof err), 0);
    assert_int_equal(boot, VCPU_BOOT_LINUX);
    struct guest_load_info info;
    assert_int_equal(guest_load__linux_file(&f->map, path, NULL, "x", &info, err, sizeof err), 0);
    fill_ram(f, 0xAA);
    assert_int_equal(guest_load__linux_file(&f->map, path, "/nonexistent/initrd", "x", &info, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "initrd /nonexistent/initrd"));
    assert_ram_is(f, 0xAA);
    unlink(path);

    assert_true(vcpu__boots(&kvm_vcpu_ops, VCPU_BOOT_LINUX));
    assert_false(vcpu__boots(&proc_vcpu_ops, VCPU_BOOT_LINUX));
    struct guest_load_info li = {.boot = VCPU_BOOT_LINUX};
    assert_int_equal(guest_load__check_backend(&li, &kvm_vcpu_ops, err, sizeof err), 0);
    assert_int_equal(guest_load__check_backend(&li, &proc_vcpu_ops, err, sizeof err), -ENOEXEC);
    assert_non_null(strstr(err, "bzImage"));
    assert_non_null(strstr(err, "kvm"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_initrd_exact_fit),
        cmocka_unit_test(test_command_line_limit),
        cmocka_unit_test(test_files_and_backends),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
