/* Minimal ELF64 loader for guest kernels (System V gABI ch. 4 "Object
 * Files", program headers; x86-64 psABI for EM_X86_64).  Loads PT_LOAD
 * segments at p_vaddr, which is the guest-physical address
 * (VA == GPA in the guest), then lays out after the image:
 *   [struct proc_cpu_page, 4 KiB][boot page, 4 KiB][boot stack]
 * An image is booted one of two ways (enum vcpu_boot, vcpu.h):
 *   PROC  no PVH note: the boot page holds struct proc_bootinfo + cmdline;
 *         proc_abi.h: RIP = e_entry, RDI = bootinfo GPA, RSP = top of the
 *         boot stack, 16-byte aligned.
 *   PVH   a PT_NOTE "Xen" / XEN_ELFNOTE_PHYS32_ENTRY (drivers/platform/
 *         pvh.h): the boot page holds struct hvm_start_info version 1, its
 *         memory map (RAM runs + the platform's reserved windows) and the
 *         cmdline; RIP = the note's entry, RBX = start_info GPA, RFLAGS =
 *         0x2 (IF clear).  The cpu page is unused; RSP is the same stack
 *         top (PVH leaves it undefined; harmless).
 * A Linux bzImage (VCPU_BOOT_LINUX) is loaded by vcpu/guest_load_linux.h
 * into the same struct guest_load_info.
 * The backend must boot the image's kind (guest_load__check_backend).
 * Every header field is checked against the file size and guest RAM; an
 * image that is corrupt or does not fit is refused with a clear message and
 * guest RAM beyond what was validated is not touched. */
#ifndef IOVIRT_VCPU_GUEST_LOAD_H
#define IOVIRT_VCPU_GUEST_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu/vcpu.h"

#define GUEST_LOAD_STACK_SIZE  (64u * 1024)
#define GUEST_LOAD_CMDLINE_MAX 2048
#define GUEST_LOAD_MAX_PHDRS   64

struct guest_load_info {
    enum vcpu_boot boot;
    uint64_t entry, rsp;
    uint64_t bootinfo_gpa;   /* PROC: struct proc_bootinfo; PVH: struct hvm_start_info */
    uint64_t cpu_page_gpa, free_gpa;
    uint64_t ram_base, ram_size;
    /* LINUX: RSI = bootinfo_gpa (the zero page); the paging and GDT state */
    struct vcpu_entry_state entry_state;
};

/* 0, or -ENOEXEC (corrupt / unsupported ELF), -E2BIG (does not fit in guest
 * RAM), -EINVAL (no RAM at PLATFORM_RAM_BASE, cmdline too long).  errbuf (may be
 * NULL) receives a one-line reason. */
int guest_load__elf(const struct vcpu_memmap *m, const void *file, size_t size,
                    const char *cmdline, uint64_t tsc_hz, struct guest_load_info *out,
                    char *errbuf, size_t errlen);
/* Reads `path` and loads it; -errno for I/O errors. */
int guest_load__file(const struct vcpu_memmap *m, const char *path, const char *cmdline,
                     uint64_t tsc_hz, struct guest_load_info *out, char *errbuf, size_t errlen);
/* A loader's refusal: the formatted reason into errbuf when the caller
 * takes it (and reports it once, with context), else logged; returns rc.
 * Shared by the loaders (ELF, PVH, Linux). */
int guest_load__fail(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The whole regular file `path` (at most max_bytes) in a malloc'd buffer
 * the caller frees: 0, or -errno with a one-line reason in errbuf. */
int guest_load__read_file(const char *path, uint64_t max_bytes, uint8_t **buf, size_t *size,
                          char *errbuf, size_t errlen);
/* How `path` boots (a bzImage, a PVH note or neither), without loading it: for choosing a
 * backend before the VM exists.  0, or -errno / -ENOEXEC with a reason. */
int guest_load__file_boot(const char *path, enum vcpu_boot *boot, char *errbuf, size_t errlen);
/* Can `ops` boot this image?  0, or -ENOEXEC with a reason that names the
 * image the backend needs (a PVH image or a bzImage on the proc backend, a
 * proc-port image on a PVH backend). */
int guest_load__check_backend(const struct guest_load_info *info, const struct vcpu_ops *ops,
                              char *errbuf, size_t errlen);
/* Boot registers (all others zero) and the vcpu's cpu page (PROC).
 * -ENOEXEC (logged) if the vcpu's backend boots the other way. */
int guest_load__setup_vcpu(struct vcpu *v, const struct guest_load_info *info);

#endif
