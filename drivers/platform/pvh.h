/* The PVH boot ABI (Xen's "x86/HVM direct boot ABI", docs/misc/pvh.pandoc,
 * and xen/include/public/arch-x86/hvm/start_info.h), which QEMU's `-kernel`
 * also speaks for ELF images that carry the PHYS32_ENTRY note: one entry
 * for the `bare` guest port whether QEMU or iovirt's KVM backend boots it.
 *
 * Entry state (pvh.pandoc "x86/HVM direct boot ABI"): 32-bit protected
 * mode, paging off (CR0.PE = 1, CR0.PG = 0, CR4 = 0), CS a flat 32-bit
 * code segment, DS/ES/SS flat 32-bit data segments, TR a 32-bit TSS,
 * EFLAGS.IF = EFLAGS.VM = EFLAGS.TF = 0, EBX = physical address of
 * struct hvm_start_info; other registers undefined.  Freestanding. */
#ifndef IOVIRT_DRIVERS_PLATFORM_PVH_H
#define IOVIRT_DRIVERS_PLATFORM_PVH_H

#include <stdint.h>

/* ELF note (name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY; xen/include/public/
 * elfnote.h): descriptor = the 32-bit physical entry address. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u   /* "xEn3" with 0x80 in 'E' */

/* start_info.h: version 1 adds the memory map. */
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;     /* NUL-terminated ASCII, 0 = none */
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;      /* version >= 1: struct hvm_memmap_table_entry[] */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;              /* XEN_HVM_MEMMAP_TYPE_* (the E820 types) */
    uint32_t reserved;
};

#define XEN_HVM_MEMMAP_TYPE_RAM       1
#define XEN_HVM_MEMMAP_TYPE_RESERVED  2
#define XEN_HVM_MEMMAP_TYPE_ACPI      3
#define XEN_HVM_MEMMAP_TYPE_NVS       4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE  5

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "start_info.h layout");

#endif
