/* Loading a stock Linux bzImage for the 64-bit boot protocol
 * (drivers/platform/linux_boot.h, boot.rst "64-bit BOOT PROTOCOL").
 *
 * The setup header is parsed and checked against the file and guest RAM
 * before anything is written.  The protected-mode kernel (the file from
 * (setup_sects + 1) * 512 on) goes to pref_address: the decompressor of a
 * relocatable kernel moves itself to at least that address (its
 * LOAD_PHYSICAL_ADDR) whatever address it was loaded at, so RAM must reach
 * pref_address + init_size in any case.  The initrd goes page aligned to the
 * top of RAM below initrd_addr_max and 4 GiB.  In guest low memory (RAM at
 * GPA 0..1 MiB, which a Linux VM must have: its real-mode trampoline lives
 * there):
 *   0x00500  GDT: null, null, __BOOT_CS 0x10 (64-bit code), __BOOT_DS 0x18
 *   0x07000  zero page (struct boot_params) with the e820 map
 *   0x08000  boot stack page (RSP = 0x9000)
 *   0x09000  PML4, 0x0A000 PDPT, 0x0B000..0x0EFFF four page directories:
 *            the first 4 GiB identity mapped in 2 MiB pages
 *   0x20000  command line
 *   0xFFFF0  the reset vector (F000:FFF0): a VM has no BIOS, so a jump
 *            there (Linux's reboot=b, or its fallback after the keyboard
 *            controller's reset did not happen) loads an empty IDT and
 *            executes int3: a triple fault, which ends the VM
 * e820: [0, 0x9FC00) RAM, [0x9FC00, 1 MiB) reserved (EBDA/ROM area, where
 * platform tables go), guest RAM above 1 MiB, and the platform's fixed
 * windows (ECAM, I/O APIC, HPET, LAPIC/MSI, the backend's pages) reserved.
 * The PCI BAR window is left a gap: Linux allocates PCI resources from
 * e820 gaps and would find BARs inside a reserved range in conflict. */
#ifndef IOVIRT_VCPU_GUEST_LOAD_LINUX_H
#define IOVIRT_VCPU_GUEST_LOAD_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/guest_load.h"
#include "vcpu/vcpu.h"

#define GUEST_LINUX_GDT        0x500ull
#define GUEST_LINUX_ZERO_PAGE  0x7000ull
#define GUEST_LINUX_STACK_TOP  0x9000ull
#define GUEST_LINUX_PML4       0x9000ull
#define GUEST_LINUX_PDPT       0xA000ull
#define GUEST_LINUX_PD         0xB000ull
#define GUEST_LINUX_PD_COUNT   4u           /* 4 x 1 GiB */
#define GUEST_LINUX_CMDLINE    0x20000ull
#define GUEST_LINUX_RESET      0xFFFF0ull
/* An initrd larger than this is refused before it is read. */
#define GUEST_LINUX_INITRD_MAX (1ull << 30)

/* What the loader uses of a setup header, after its checks. */
struct guest_linux_image {
    uint16_t version;           /* protocol, major << 8 | minor */
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t cmdline_size;
    uint32_t initrd_addr_max;
    uint32_t init_size;
    uint64_t pref_address;      /* where the protected-mode kernel is loaded */
    size_t hdr_end;             /* file offset just past the setup header */
    size_t kernel_off;          /* protected-mode kernel: [kernel_off, file end) */
    size_t kernel_size;
};

/* Boot flag and "HdrS": a bzImage-style setup header, not yet validated. */
bool guest_load__is_bzimage(const void *file, size_t size);
/* Parse and check the setup header: 0, or -ENOEXEC with a one-line reason
 * (truncated, bad magic, protocol older than 2.12, no 64-bit entry, loaded
 * low, sizes that contradict each other).  Reads nothing outside file. */
int guest_load__linux_parse(const void *file, size_t size, struct guest_linux_image *img, char *errbuf,
                            size_t errlen);
/* Load kernel (+ initrd, may be NULL/0) with cmdline into guest RAM and fill
 * `out` (boot VCPU_BOOT_LINUX).  0, or -ENOEXEC (bad image), -EINVAL (no RAM
 * below 1 MiB or at PLATFORM_RAM_BASE, command line longer than the
 * kernel's cmdline_size), -E2BIG (kernel or initrd do not fit, map too
 * large); nothing is written unless every check passed. */
int guest_load__linux(const struct vcpu_memmap *m, const void *kernel, size_t ksize, const void *initrd,
                      size_t isize, const char *cmdline, struct guest_load_info *out, char *errbuf,
                      size_t errlen);
/* The same from files; initrd_path NULL for none.  -errno for I/O errors. */
int guest_load__linux_file(const struct vcpu_memmap *m, const char *kernel_path, const char *initrd_path,
                           const char *cmdline, struct guest_load_info *out, char *errbuf, size_t errlen);

#endif
