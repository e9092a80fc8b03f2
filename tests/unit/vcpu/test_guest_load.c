/* vcpu/guest_load: a valid image lands in (scattered) guest RAM with its
 * boot data; every corrupt header field is refused and leaves RAM as it was.
 * Also the guest memory map's checks. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/vcpu.h"

#define RAM (4ull << 20)
#define VADDR (PLATFORM_RAM_BASE + 0x1000)

struct fx {
    struct physmem pm;
    struct vcpu_memmap map;
    uint8_t file[8192];
    Elf64_Ehdr *eh;
    Elf64_Phdr *ph;
};

static int setup(void **state)
{
    static struct fx f;
    uint64_t hpas[RAM / PHYSMEM_PAGE_2M];
    log__set_quiet(1);
    memset(&f, 0, sizeof f);
    assert_int_equal(physmem__init(&f.pm, 32ull << 20), 0);
    assert_int_equal(physmem__alloc_scattered(&f.pm, RAM, PHYSMEM_PAGE_2M, hpas), 0);
    vcpu_memmap__init(&f.map, &f.pm);
    for (unsigned i = 0; i < RAM / PHYSMEM_PAGE_2M; i++)
        assert_int_equal(vcpu_memmap__add_ram(&f.map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M, hpas[i],
                                              PHYSMEM_PAGE_2M), 0);
    /* A valid image: one RWX segment, 0x100 bytes of code, 0x2000 of bss. */
    f.eh = (Elf64_Ehdr *)f.file;
    f.ph = (Elf64_Phdr *)(f.file + sizeof(Elf64_Ehdr));
    memcpy(f.eh->e_ident, ELFMAG, SELFMAG);
    f.eh->e_ident[EI_CLASS] = ELFCLASS64;
    f.eh->e_ident[EI_DATA] = ELFDATA2LSB;
    f.eh->e_ident[EI_VERSION] = EV_CURRENT;
    f.eh->e_type = ET_EXEC;
    f.eh->e_machine = EM_X86_64;
    f.eh->e_version = EV_CURRENT;
    f.eh->e_entry = VADDR + 0x10;
    f.eh->e_phoff = sizeof(Elf64_Ehdr);
    f.eh->e_ehsize = sizeof(Elf64_Ehdr);
    f.eh->e_phentsize = sizeof(Elf64_Phdr);
    f.eh->e_phnum = 1;
    f.ph->p_type = PT_LOAD;
    f.ph->p_flags = PF_R | PF_X;
    f.ph->p_offset = 0x1000;
    f.ph->p_vaddr = f.ph->p_paddr = VADDR;
    f.ph->p_filesz = 0x100;
    f.ph->p_memsz = 0x2100;
    for (int i = 0; i < 0x100; i++)
        f.file[0x1000 + i] = (uint8_t)(i ^ 0x5a);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vcpu_memmap__destroy(&f->map);
    physmem__destroy(&f->pm);
    return 0;
}

static void fill_ram(struct fx *f, uint8_t v)
{
    static uint8_t buf[RAM];
    memset(buf, v, sizeof buf);
    assert_int_equal(vcpu_memmap__write(&f->map, PLATFORM_RAM_BASE, buf, RAM), 0);
}

static void test_valid_image(void **state)
{
    struct fx *f = *state;
    struct guest_load_info info;
    char err[128];
    fill_ram(f, 0xAA);
    assert_int_equal(guest_load__elf(&f->map, f->file, sizeof f->file, "console=com1", 12345, &info,
                                     err, sizeof err), 0);
    uint8_t back[0x100];
    assert_int_equal(vcpu_memmap__read(&f->map, VADDR, back, sizeof back), 0);
    assert_memory_equal(back, f->file + 0x1000, sizeof back);
    uint8_t bss[0x2000], zero[0x2000] = {0};
    assert_int_equal(vcpu_memmap__read(&f->map, VADDR + 0x100, bss, sizeof bss), 0);
    assert_memory_equal(bss, zero, sizeof bss);
    assert_int_equal(info.entry, VADDR + 0x10);
    assert_int_equal(info.rsp % 16, 0);
    assert_true(info.rsp > info.bootinfo_gpa && info.rsp <= PLATFORM_RAM_BASE + RAM);
    struct proc_bootinfo bi;
    assert_int_equal(vcpu_memmap__read(&f->map, info.bootinfo_gpa, &bi, sizeof bi), 0);
    assert_int_equal(bi.magic, PROC_BOOTINFO_MAGIC);
    assert_int_equal(bi.ram_base, PLATFORM_RAM_BASE);
    assert_int_equal(bi.ram_size, RAM);
    assert_int_equal(bi.tsc_hz, 12345);
    assert_int_equal(bi.cpu_page_gpa, info.cpu_page_gpa);
    assert_true(bi.cpu_page_gpa >= VADDR + 0x2100 && bi.cpu_page_gpa % 4096 == 0);
    assert_int_equal(bi.free_gpa, info.free_gpa);
    assert_int_equal(bi.free_gpa % 4096, 0);
    char cmd[32];
    assert_int_equal(vcpu_memmap__read(&f->map, bi.cmdline_gpa, cmd, 13), 0);
    assert_string_equal(cmd, "console=com1");
    struct proc_cpu_page cp;
    assert_int_equal(vcpu_memmap__read(&f->map, bi.cpu_page_gpa, &cp, sizeof cp), 0);
    assert_int_equal(cp.irq_masked, 0);
    assert_int_equal(cp.irq_pending, 0);
}

/* Applies `mutate` to a copy of the valid image, expects `rc`, and checks
 * that guest RAM was not written. */
static void expect_refused(struct fx *f, void (*mutate)(uint8_t *file, Elf64_Ehdr *, Elf64_Phdr *),
                           size_t size, int rc)
{
    static uint8_t copy[8192];
    memcpy(copy, f->file, sizeof copy);
    mutate(copy, (Elf64_Ehdr *)copy, (Elf64_Phdr *)(copy + sizeof(Elf64_Ehdr)));
    fill_ram(f, 0xAA);
    struct guest_load_info info;
    char err[128] = "";
    assert_int_equal(guest_load__elf(&f->map, copy, size, "", 0, &info, err, sizeof err), rc);
    assert_true(strlen(err) > 0);
    uint8_t probe[64], aa[64];
    memset(aa, 0xAA, sizeof aa);
    assert_int_equal(vcpu_memmap__read(&f->map, VADDR, probe, sizeof probe), 0);
    assert_memory_equal(probe, aa, sizeof probe);
}

#define MUT(name, body)                                                             \
    static void name(uint8_t *file, Elf64_Ehdr *eh, Elf64_Phdr *ph)                 \
    {                                                                               \
        (void)file, (void)eh, (void)ph;                                             \
        body;                                                                       \
    }
MUT(m_none, )
MUT(m_magic, eh->e_ident[1] = 'X')
MUT(m_class32, eh->e_ident[EI_CLASS] = ELFCLASS32)
MUT(m_bigendian, eh->e_ident[EI_DATA] = ELFDATA2MSB)
MUT(m_machine, eh->e_machine = EM_AARCH64)
MUT(m_dyn, eh->e_type = ET_DYN)
MUT(m_phentsize, eh->e_phentsize = 40)
MUT(m_phnum0, eh->e_phnum = 0)
MUT(m_phnum_big, eh->e_phnum = 1000)
MUT(m_phoff_beyond, eh->e_phoff = 9000)
MUT(m_phoff_wrap, eh->e_phoff = UINT64_MAX - 8)
MUT(m_seg_beyond_file, ph->p_filesz = 0x2000)
MUT(m_seg_offset_wrap, ph->p_offset = UINT64_MAX - 0x10)
MUT(m_filesz_gt_memsz, ph->p_memsz = 0x80)
MUT(m_below_ram, ph->p_vaddr = 0x1000; eh->e_entry = 0x1010)
MUT(m_beyond_ram, ph->p_memsz = RAM)
MUT(m_vaddr_wrap, ph->p_vaddr = UINT64_MAX - 0x1000)
MUT(m_entry_outside, eh->e_entry = VADDR + 0x3000)
MUT(m_entry_not_x, ph->p_flags = PF_R | PF_W)
MUT(m_interp, ph[1] = ph[0]; ph[1].p_type = PT_INTERP; eh->e_phnum = 2)
MUT(m_no_load, ph->p_type = PT_NOTE)
MUT(m_no_room, ph->p_memsz = PLATFORM_RAM_BASE + RAM - VADDR - 0x1000)

static void test_corrupt_images_refused(void **state)
{
    struct fx *f = *state;
    expect_refused(f, m_none, 10, -ENOEXEC);                  /* shorter than a header */
    expect_refused(f, m_none, 0x1080, -ENOEXEC);              /* segment cut off */
    expect_refused(f, m_magic, 8192, -ENOEXEC);
    expect_refused(f, m_class32, 8192, -ENOEXEC);
    expect_refused(f, m_bigendian, 8192, -ENOEXEC);
    expect_refused(f, m_machine, 8192, -ENOEXEC);
    expect_refused(f, m_dyn, 8192, -ENOEXEC);
    expect_refused(f, m_phentsize, 8192, -ENOEXEC);
    expect_refused(f, m_phnum0, 8192, -ENOEXEC);
    expect_refused(f, m_phnum_big, 8192, -ENOEXEC);
    expect_refused(f, m_phoff_beyond, 8192, -ENOEXEC);
    expect_refused(f, m_phoff_wrap, 8192, -ENOEXEC);
    expect_refused(f, m_seg_beyond_file, 8192, -ENOEXEC);
    expect_refused(f, m_seg_offset_wrap, 8192, -ENOEXEC);
    expect_refused(f, m_filesz_gt_memsz, 8192, -ENOEXEC);
    expect_refused(f, m_below_ram, 8192, -E2BIG);
    expect_refused(f, m_beyond_ram, 8192, -E2BIG);
    expect_refused(f, m_vaddr_wrap, 8192, -E2BIG);
    expect_refused(f, m_entry_outside, 8192, -ENOEXEC);
    expect_refused(f, m_entry_not_x, 8192, -ENOEXEC);
    expect_refused(f, m_interp, 8192, -ENOEXEC);
    expect_refused(f, m_no_load, 8192, -ENOEXEC);
    expect_refused(f, m_no_room, 8192, -E2BIG);
}

static void test_cmdline_and_ram_checks(void **state)
{
    struct fx *f = *state;
    static char longcmd[GUEST_LOAD_CMDLINE_MAX + 2];
    memset(longcmd, 'x', sizeof longcmd - 1);
    struct guest_load_info info;
    assert_int_equal(guest_load__elf(&f->map, f->file, sizeof f->file, longcmd, 0, &info, NULL, 0),
                     -EINVAL);
    struct vcpu_memmap empty;
    vcpu_memmap__init(&empty, &f->pm);
    assert_int_equal(guest_load__elf(&empty, f->file, sizeof f->file, "", 0, &info, NULL, 0), -EINVAL);
    vcpu_memmap__destroy(&empty);
    assert_int_equal(guest_load__file(&f->map, "/nonexistent.elf", "", 0, &info, NULL, 0), -ENOENT);
}

static void test_memmap_checks(void **state)
{
    struct fx *f = *state;
    struct vcpu_memmap m;
    vcpu_memmap__init(&m, &f->pm);
    assert_int_equal(vcpu_memmap__add_ram(&m, 0x1000, 0, 0x1000), 0);
    assert_int_equal(vcpu_memmap__add_ram(&m, 0x1000, 0x2000, 0x1000), -EEXIST);
    assert_int_equal(vcpu_memmap__add_ram(&m, 0x800, 0x2000, 0x1000), -EINVAL);  /* unaligned */
    assert_int_equal(vcpu_memmap__add_ram(&m, 0x3000, f->pm.size, 0x1000), -EINVAL);
    assert_int_equal(vcpu_memmap__add_ram(&m, VCPU_GPA_LIMIT, 0, 0x1000), -EINVAL);
    assert_int_equal(vcpu_memmap__add_ram(&m, 0x3000, 0, 0), -EINVAL);
    assert_int_equal(vcpu_memmap__add_direct(&m, 0x1800 & ~0xfffull, 0x1000, 3, 0, true), -EEXIST);
    assert_int_equal(vcpu_memmap__add_direct(&m, 0x5000, 0x1000, -1, 0, true), -EINVAL);
    assert_int_equal(vcpu_memmap__add_direct(&m, 0x5000, 0x1000, 3, 0, false), 0);
    assert_non_null(vcpu_memmap__ram_ptr(&m, 0x1ff8, 8));
    assert_null(vcpu_memmap__ram_ptr(&m, 0x1ff9, 8));         /* crosses the end */
    assert_null(vcpu_memmap__ram_ptr(&m, 0x5000, 4));         /* direct, not RAM */
    assert_null(vcpu_memmap__ram_ptr(&m, UINT64_MAX - 2, 8));
    uint8_t b[16];
    assert_int_equal(vcpu_memmap__read(&m, 0x1ff8, b, 16), -EFAULT);
    assert_int_equal(vcpu_memmap__read(&m, UINT64_MAX - 4, b, 16), -EFAULT);
    assert_int_equal(vcpu_memmap__ram_run(&m, 0x1000), 0x1000);
    vcpu_memmap__destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_image),
        cmocka_unit_test(test_corrupt_images_refused),
        cmocka_unit_test(test_cmdline_and_ram_checks),
        cmocka_unit_test(test_memmap_checks),
    };
    return cmocka_run_group_tests_name("guest_load", tests, setup, teardown);
}
