/* vcpu/guest_load: a valid image lands in (scattered) guest RAM with its
 * boot data; every corrupt header field is refused and leaves RAM as it was.
 * Also the guest memory map's checks. */
#include <elf.h>
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

#include "drivers/platform/pvh.h"
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

/* ---- PVH images: the Xen PHYS32_ENTRY note ---------------------------- */

#define NOTE_OFF 0x800
#define PVH_ENTRY (VADDR + 0x20)

/* One PT_NOTE segment with the note (descriptor of desc_size bytes). */
static void put_note(uint8_t *file, Elf64_Ehdr *eh, Elf64_Phdr *ph, uint32_t desc_size, uint64_t entry)
{
    uint32_t hdr[3] = {4, desc_size, XEN_ELFNOTE_PHYS32_ENTRY};
    memcpy(file + NOTE_OFF, hdr, sizeof hdr);
    memcpy(file + NOTE_OFF + 12, "Xen", 4);
    memcpy(file + NOTE_OFF + 16, &entry, desc_size);
    eh->e_phnum = 2;
    ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_flags = PF_R, .p_offset = NOTE_OFF,
                         .p_filesz = 16 + ((desc_size + 3) & ~3u), .p_align = 4};
}

MUT(m_pvh, put_note(file, eh, ph, 4, PVH_ENTRY))
MUT(m_pvh8, put_note(file, eh, ph, 8, PVH_ENTRY + 1))
MUT(m_pvh_entry_outside, put_note(file, eh, ph, 4, VADDR + 0x3000))
MUT(m_pvh_entry_not_x, put_note(file, eh, ph, 4, PVH_ENTRY); ph->p_flags = PF_R | PF_W)
MUT(m_pvh_entry_64bit, put_note(file, eh, ph, 8, (1ull << 32) | PVH_ENTRY))
MUT(m_pvh_desc_3, put_note(file, eh, ph, 4, PVH_ENTRY); ((uint32_t *)(file + NOTE_OFF))[1] = 3)
MUT(m_pvh_namesz_huge, put_note(file, eh, ph, 4, PVH_ENTRY); ((uint32_t *)(file + NOTE_OFF))[0] = 0xfffffff0u)
MUT(m_pvh_descsz_huge, put_note(file, eh, ph, 4, PVH_ENTRY); ((uint32_t *)(file + NOTE_OFF))[1] = 0xffffffffu)
MUT(m_pvh_truncated, put_note(file, eh, ph, 4, PVH_ENTRY); ph[1].p_filesz = 8)
MUT(m_pvh_seg_beyond_file, put_note(file, eh, ph, 4, PVH_ENTRY); ph[1].p_offset = 8190)
MUT(m_pvh_two_disagree, put_note(file, eh, ph, 4, PVH_ENTRY);
    memcpy(file + NOTE_OFF + 20, file + NOTE_OFF, 20);
    *(uint32_t *)(file + NOTE_OFF + 36) = PVH_ENTRY + 4; ph[1].p_filesz = 40)

static void load_mutated(struct fx *f, void (*mutate)(uint8_t *, Elf64_Ehdr *, Elf64_Phdr *),
                         const char *cmdline, struct guest_load_info *info)
{
    static uint8_t copy[8192];
    memcpy(copy, f->file, sizeof copy);
    mutate(copy, (Elf64_Ehdr *)copy, (Elf64_Phdr *)(copy + sizeof(Elf64_Ehdr)));
    char err[160] = "";
    int rc = guest_load__elf(&f->map, copy, sizeof copy, cmdline, 0, info, err, sizeof err);
    if (rc)
        fail_msg("load: %s", err);
}

/* The note's entry (not e_entry), start_info v1 in the boot page: the
 * command line, RAM as one run, the platform's reserved windows, sorted. */
static void test_pvh_image(void **state)
{
    struct fx *f = *state;
    struct guest_load_info info;
    fill_ram(f, 0xAA);
    load_mutated(f, m_pvh, "prog a", &info);
    assert_int_equal(info.boot, VCPU_BOOT_PVH);
    assert_int_equal(info.entry, PVH_ENTRY);
    struct hvm_start_info si;
    assert_int_equal(vcpu_memmap__read(&f->map, info.bootinfo_gpa, &si, sizeof si), 0);
    assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
    assert_int_equal(si.version, 1);
    assert_int_equal(si.nr_modules, 0);
    assert_int_equal(si.rsdp_paddr, 0);
    char cmd[16] = "";
    assert_int_equal(vcpu_memmap__read(&f->map, si.cmdline_paddr, cmd, 7), 0);
    assert_string_equal(cmd, "prog a");
    assert_int_equal(si.memmap_entries, 6);
    struct hvm_memmap_table_entry mm[6];
    assert_int_equal(vcpu_memmap__read(&f->map, si.memmap_paddr, mm, sizeof mm), 0);
    assert_int_equal(mm[0].addr, PLATFORM_RAM_BASE);
    assert_int_equal(mm[0].size, RAM);  /* four scattered extents, one run */
    assert_int_equal(mm[0].type, XEN_HVM_MEMMAP_TYPE_RAM);
    for (int i = 1; i < 6; i++) {
        assert_int_equal(mm[i].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
        assert_true(mm[i].addr >= mm[i - 1].addr + mm[i - 1].size);  /* sorted, disjoint */
    }
    assert_int_equal(mm[1].addr, PLATFORM_PCI_MMIO_BASE);
    assert_int_equal(mm[5].addr, PLATFORM_BACKEND_RESERVED_BASE);
    /* an 8-byte descriptor (Linux's _ASM_PTR) works too */
    load_mutated(f, m_pvh8, "", &info);
    assert_int_equal(info.entry, PVH_ENTRY + 1);
}

static void test_pvh_bad_notes_refused(void **state)
{
    struct fx *f = *state;
    expect_refused(f, m_pvh_entry_outside, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_entry_not_x, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_entry_64bit, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_desc_3, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_namesz_huge, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_descsz_huge, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_truncated, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_seg_beyond_file, 8192, -ENOEXEC);
    expect_refused(f, m_pvh_two_disagree, 8192, -ENOEXEC);
}

/* RAM in more pieces than the boot page's memory map holds. */
static void test_pvh_memmap_too_big(void **state)
{
    struct fx *f = *state;
    struct vcpu_memmap m;
    vcpu_memmap__init(&m, &f->pm);
    assert_int_equal(vcpu_memmap__add_ram(&m, PLATFORM_RAM_BASE, 0, PHYSMEM_PAGE_2M), 0);
    for (unsigned i = 0; i < 70; i++)
        assert_int_equal(vcpu_memmap__add_ram(&m, 0x10000000ull + i * 0x2000, 0, 0x1000), 0);
    static uint8_t copy[8192];
    memcpy(copy, f->file, sizeof copy);
    m_pvh(copy, (Elf64_Ehdr *)copy, (Elf64_Phdr *)(copy + sizeof(Elf64_Ehdr)));
    struct guest_load_info info;
    char err[160] = "";
    assert_int_equal(guest_load__elf(&m, copy, sizeof copy, "", 0, &info, err, sizeof err), -E2BIG);
    assert_non_null(strstr(err, "memory map"));
    vcpu_memmap__destroy(&m);
}

/* Each backend refuses the other kind of image, naming the one it boots;
 * guest_load__file_boot tells the kind from the file alone. */
static void test_backend_match(void **state)
{
    struct fx *f = *state;
    struct guest_load_info info;
    char err[256] = "";
    load_mutated(f, m_pvh, "", &info);
    assert_int_equal(guest_load__check_backend(&info, &kvm_vcpu_ops, err, sizeof err), 0);
    assert_int_equal(guest_load__check_backend(&info, &proc_vcpu_ops, err, sizeof err), -ENOEXEC);
    assert_non_null(strstr(err, "iovirt-guest.elf"));
    load_mutated(f, m_none, "", &info);
    assert_int_equal(info.boot, VCPU_BOOT_PROC);
    assert_int_equal(guest_load__check_backend(&info, &proc_vcpu_ops, err, sizeof err), 0);
    assert_int_equal(guest_load__check_backend(&info, &kvm_vcpu_ops, err, sizeof err), -ENOEXEC);
    assert_non_null(strstr(err, "iovirt-guest-bare.elf"));

    char path[] = "/tmp/test_guest_load_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static uint8_t copy[8192];
    memcpy(copy, f->file, sizeof copy);
    m_pvh(copy, (Elf64_Ehdr *)copy, (Elf64_Phdr *)(copy + sizeof(Elf64_Ehdr)));
    assert_int_equal(write(fd, copy, sizeof copy), (ssize_t)sizeof copy);
    close(fd);
    enum vcpu_boot boot = VCPU_BOOT_PROC;
    assert_int_equal(guest_load__file_boot(path, &boot, err, sizeof err), 0);
    assert_int_equal(boot, VCPU_BOOT_PVH);
    unlink(path);
    assert_int_equal(guest_load__file_boot("/nonexistent.elf", &boot, err, sizeof err), -ENOENT);
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
        cmocka_unit_test(test_pvh_image),
        cmocka_unit_test(test_pvh_bad_notes_refused),
        cmocka_unit_test(test_pvh_memmap_too_big),
        cmocka_unit_test(test_backend_match),
        cmocka_unit_test(test_cmdline_and_ram_checks),
        cmocka_unit_test(test_memmap_checks),
    };
    return cmocka_run_group_tests_name("guest_load", tests, setup, teardown);
}
