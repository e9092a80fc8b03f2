/* PVH boot data for guest_load (drivers/platform/pvh.h): the entry note and
 * struct hvm_start_info.  The note is guest-image data: every length is
 * checked against its segment before it is read. */
#include "vcpu/guest_load_pvh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/platform/platform_map.h"
#include "drivers/platform/pvh.h"

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

int guest_load__pvh_entry(const uint8_t *file, size_t size, const Elf64_Phdr *ph, unsigned nph,
                          uint64_t *entry, char *errbuf, size_t errlen)
{
    int found = 0;
    for (unsigned i = 0; i < nph; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_NOTE)
            continue;
        if (p->p_offset > size || p->p_filesz > size - p->p_offset) {
            snprintf(errbuf, errlen, "ELF: note segment %u beyond end of file", i);
            return -ENOEXEC;
        }
        /* Name and descriptor are padded to 4 bytes, or 8 in a segment
         * aligned to 8 (what binutils and readelf do). */
        uint64_t pad = p->p_align == 8 ? 8 : 4;
        const uint8_t *seg = file + p->p_offset;
        uint64_t off = 0, len = p->p_filesz;
        while (off < len) {
            Elf64_Nhdr nh;
            if (len - off < sizeof nh) {
                snprintf(errbuf, errlen, "ELF: truncated note header in segment %u", i);
                return -ENOEXEC;
            }
            memcpy(&nh, seg + off, sizeof nh);
            uint64_t name = off + sizeof nh;
            uint64_t desc = name + align_up(nh.n_namesz, pad);
            uint64_t next = desc + align_up(nh.n_descsz, pad);
            /* 32-bit sizes: no sum above can wrap a uint64_t. */
            if (desc > len || next > len) {
                snprintf(errbuf, errlen, "ELF: note in segment %u runs past its end", i);
                return -ENOEXEC;
            }
            if (nh.n_namesz == 4 && !memcmp(seg + name, "Xen", 4) &&
                nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY) {
                uint64_t e = 0;
                if (nh.n_descsz != 4 && nh.n_descsz != 8) {
                    snprintf(errbuf, errlen, "ELF: PVH entry note has a %u-byte address (4 or 8)",
                             nh.n_descsz);
                    return -ENOEXEC;
                }
                memcpy(&e, seg + desc, nh.n_descsz);  /* little-endian */
                if (found && e != *entry) {
                    snprintf(errbuf, errlen, "ELF: two PVH entry notes disagree (0x%llx, 0x%llx)",
                             (unsigned long long)*entry, (unsigned long long)e);
                    return -ENOEXEC;
                }
                if (e >> 32) {
                    snprintf(errbuf, errlen, "ELF: PVH entry 0x%llx is not a 32-bit address",
                             (unsigned long long)e);
                    return -ENOEXEC;
                }
                *entry = e;
                found = 1;
            }
            off = next;
        }
    }
    return found;
}

struct mm {
    struct hvm_memmap_table_entry e[GUEST_LOAD_PVH_MEMMAP_MAX];
    unsigned n;
};

static int mm_add(struct mm *mm, uint64_t addr, uint64_t size, uint32_t type)
{
    if (mm->n == GUEST_LOAD_PVH_MEMMAP_MAX)
        return -1;
    /* keep it sorted: an OS may expect an E820-like ascending table */
    unsigned i = mm->n++;
    while (i && mm->e[i - 1].addr > addr) {
        mm->e[i] = mm->e[i - 1];
        i--;
    }
    mm->e[i] = (struct hvm_memmap_table_entry){.addr = addr, .size = size, .type = type};
    return 0;
}

static bool overlaps_ram(const struct vcpu_memmap *m, uint64_t addr, uint64_t size)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].kind == VCPU_MEM_RAM && m->r[i].gpa < addr + size && addr < m->r[i].gpa + m->r[i].len)
            return true;
    return false;
}

int guest_load__pvh_start_info(const struct vcpu_memmap *m, uint64_t page, const char *cmdline,
                               size_t cmdlen, char *errbuf, size_t errlen)
{
    static const struct {
        uint64_t addr, size;
    } reserved[] = {
        {PLATFORM_PCI_MMIO_BASE, PLATFORM_PCI_MMIO_SIZE},
        {PLATFORM_PCI_ECAM_BASE, 1ull << 20},
        {PLATFORM_HPET_BASE, 4096},
        {PLATFORM_MSI_WINDOW_BASE, 1ull << 20},
        {PLATFORM_BACKEND_RESERVED_BASE, PLATFORM_BACKEND_RESERVED_SIZE},
    };
    struct mm mm = {.n = 0};
    for (unsigned i = 0; i < m->n; i++) {
        const struct vcpu_mem_region *r = &m->r[i];
        if (r->kind != VCPU_MEM_RAM)
            continue;
        /* regions are sorted: extend the last run when adjacent */
        if (mm.n && mm.e[mm.n - 1].type == XEN_HVM_MEMMAP_TYPE_RAM &&
            mm.e[mm.n - 1].addr + mm.e[mm.n - 1].size == r->gpa) {
            mm.e[mm.n - 1].size += r->len;
            continue;
        }
        if (mm_add(&mm, r->gpa, r->len, XEN_HVM_MEMMAP_TYPE_RAM))
            goto too_many;
    }
    for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!overlaps_ram(m, reserved[i].addr, reserved[i].size) &&
            mm_add(&mm, reserved[i].addr, reserved[i].size, XEN_HVM_MEMMAP_TYPE_RESERVED))
            goto too_many;

    /* [start_info][memmap, 64 entries max][cmdline] in one page */
    uint64_t map_gpa = page + 64, cmd_gpa = map_gpa + sizeof mm.e;
    _Static_assert(sizeof(struct hvm_start_info) <= 64, "start_info fits its slot");
    _Static_assert(64 + sizeof(struct hvm_memmap_table_entry) * GUEST_LOAD_PVH_MEMMAP_MAX + 2048 + 1 <= 4096,
                   "PVH boot page too small");
    struct hvm_start_info si = {
        .magic = XEN_HVM_START_MAGIC_VALUE, .version = 1, .cmdline_paddr = cmd_gpa,
        .memmap_paddr = map_gpa, .memmap_entries = mm.n,
    };
    if (vcpu_memmap__write(m, page, &si, sizeof si) ||
        vcpu_memmap__write(m, map_gpa, mm.e, mm.n * sizeof mm.e[0]) ||
        vcpu_memmap__write(m, cmd_gpa, cmdline, cmdlen + 1)) {
        snprintf(errbuf, errlen, "PVH boot data hits a hole in guest RAM");
        return -E2BIG;
    }
    return 0;
too_many:
    snprintf(errbuf, errlen, "PVH memory map: more than %u entries (guest RAM in too many pieces)",
             GUEST_LOAD_PVH_MEMMAP_MAX);
    return -E2BIG;
}
