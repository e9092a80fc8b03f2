/* The Linux/x86 boot protocol as a boot loader sees it: the bzImage setup
 * header and the zero page (struct boot_params).  Sources:
 *   Linux Documentation/arch/x86/boot.rst, "THE LINUX/x86 BOOT PROTOCOL":
 *     "THE REAL-MODE KERNEL HEADER" (field offsets, protocol versions),
 *     "DETAILS OF HEADER FIELDS" (setup_sects 0 means 4, syssize in
 *     16-byte units, loadflags, xloadflags), "LOADING THE REST OF THE
 *     KERNEL" (the protected-mode code starts at (setup_sects + 1) * 512 in
 *     the file), "64-bit BOOT PROTOCOL" (entry state, below);
 *   Linux Documentation/arch/x86/zero-page.rst (struct boot_params offsets);
 *   ACPI 6.5, 15 "System Address Map Interfaces", Table 15.1 "Address Range
 *   Types" (the E820 type values).
 * Offsets are into the zero page; the setup header sits at the same offset
 * (0x1F1) in the bzImage file, so the same constants read both.
 *
 * 64-bit entry (boot.rst "64-bit BOOT PROTOCOL"): long mode with paging;
 * the loaded kernel (init_size from its start), the zero page and the
 * command line identity mapped; a GDT with __BOOT_CS (0x10, 4 GiB flat
 * execute/read) and __BOOT_DS (0x18, 4 GiB flat read/write); CS =
 * __BOOT_CS, DS = ES = SS = __BOOT_DS; interrupts disabled; RSI = the zero
 * page's address; RIP = the protected-mode kernel's load address + 0x200.
 * Freestanding (stdint only). */
#ifndef IOVIRT_DRIVERS_PLATFORM_LINUX_BOOT_H
#define IOVIRT_DRIVERS_PLATFORM_LINUX_BOOT_H

#include <stdint.h>

#define LINUX_ZERO_PAGE_SIZE      4096u
#define LINUX_SECTOR              512u

/* ---- setup header (boot.rst "THE REAL-MODE KERNEL HEADER") ---- */
#define LINUX_HDR_OFF             0x1F1u  /* start of struct setup_header */
#define LINUX_HDR_SETUP_SECTS     0x1F1u  /* u8: setup size in sectors; 0 means 4 */
#define LINUX_HDR_SYSSIZE         0x1F4u  /* u32: protected-mode code, 16-byte units (2.04+) */
#define LINUX_HDR_VID_MODE        0x1FAu  /* u16 */
#define LINUX_HDR_BOOT_FLAG       0x1FEu  /* u16: 0xAA55 */
#define LINUX_HDR_JUMP            0x200u  /* u16: the header ends at 0x202 + byte at 0x201 */
#define LINUX_HDR_MAGIC_OFF       0x202u  /* u32: "HdrS" */
#define LINUX_HDR_VERSION         0x206u  /* u16: protocol version, major << 8 | minor */
#define LINUX_HDR_TYPE_OF_LOADER  0x210u  /* u8 */
#define LINUX_HDR_LOADFLAGS       0x211u  /* u8 */
#define LINUX_HDR_CODE32_START    0x214u  /* u32 */
#define LINUX_HDR_RAMDISK_IMAGE   0x218u  /* u32: initrd address, low 32 bits */
#define LINUX_HDR_RAMDISK_SIZE    0x21Cu  /* u32 */
#define LINUX_HDR_HEAP_END_PTR    0x224u  /* u16 (2.01+) */
#define LINUX_HDR_CMD_LINE_PTR    0x228u  /* u32: command line address, low 32 bits (2.02+) */
#define LINUX_HDR_INITRD_ADDR_MAX 0x22Cu  /* u32: highest address the initrd may use (2.03+) */
#define LINUX_HDR_KERNEL_ALIGN    0x230u  /* u32 (2.05+) */
#define LINUX_HDR_RELOCATABLE     0x234u  /* u8 (2.05+) */
#define LINUX_HDR_MIN_ALIGNMENT   0x235u  /* u8: log2 of the minimum alignment (2.10+) */
#define LINUX_HDR_XLOADFLAGS      0x236u  /* u16 (2.12+) */
#define LINUX_HDR_CMDLINE_SIZE    0x238u  /* u32: longest command line, NUL excluded (2.06+) */
#define LINUX_HDR_PREF_ADDRESS    0x258u  /* u64 (2.10+) */
#define LINUX_HDR_INIT_SIZE       0x260u  /* u32: memory needed from the load address (2.10+) */
#define LINUX_HDR_MIN_END         0x264u  /* a 2.12 header reaches at least past init_size */

#define LINUX_BOOT_FLAG           0xAA55u
#define LINUX_HDR_MAGIC           0x53726448u  /* "HdrS" little-endian */
#define LINUX_PROTOCOL_MIN        0x020Cu      /* 2.12: xloadflags, so XLF_KERNEL_64 */

/* loadflags (boot.rst "DETAILS OF HEADER FIELDS") */
#define LINUX_LOADED_HIGH         (1u << 0)    /* protected-mode code at 0x100000 or above */
#define LINUX_CAN_USE_HEAP        (1u << 7)    /* heap_end_ptr is valid */

/* xloadflags */
#define LINUX_XLF_KERNEL_64       (1u << 0)    /* 64-bit entry at load address + 0x200 */

#define LINUX_TYPE_OF_LOADER_UNDEFINED 0xFFu   /* "boot loader ID undefined" */
#define LINUX_ENTRY_64_OFFSET     0x200u

/* ---- zero page (zero-page.rst) ---- */
#define LINUX_ZP_EXT_RAMDISK_IMAGE 0x0C0u      /* u32: initrd address, high 32 bits */
#define LINUX_ZP_EXT_RAMDISK_SIZE  0x0C4u
#define LINUX_ZP_EXT_CMD_LINE_PTR  0x0C8u
#define LINUX_ZP_E820_ENTRIES      0x1E8u      /* u8 */
#define LINUX_ZP_E820_TABLE        0x2D0u      /* struct linux_e820_entry[128] */
#define LINUX_E820_MAX_ENTRIES     128u

/* boot.rst "64-bit BOOT PROTOCOL": the selectors the GDT must hold. */
#define LINUX_BOOT_CS             0x10u
#define LINUX_BOOT_DS             0x18u

/* ACPI Table 15.1 "Address Range Types" (the BIOS E820 values). */
#define LINUX_E820_RAM            1u           /* AddressRangeMemory */
#define LINUX_E820_RESERVED       2u           /* AddressRangeReserved */

/* zero-page.rst: e820_table entries are packed 20-byte records. */
struct linux_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct linux_e820_entry) == 20, "e820 entry is 20 bytes");
_Static_assert(LINUX_ZP_E820_TABLE + LINUX_E820_MAX_ENTRIES * 20 <= LINUX_ZERO_PAGE_SIZE,
               "e820 table fits the zero page");

/* The legacy area below 1 MiB: conventional memory ends where the EBDA
 * starts (640 KiB - 1 KiB, as PC firmware leaves it); from there to 1 MiB
 * is the EBDA, VGA and BIOS ROM area, reserved (where an MP table lives). */
#define LINUX_LOW_RAM_END         0x9FC00ull
#define LINUX_LOW_AREA_END        0x100000ull

#endif
