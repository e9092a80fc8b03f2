/* Minimal ELF64 loader for guest kernels (System V gABI ch. 4 "Object
 * Files", program headers; x86-64 psABI for EM_X86_64).  Loads PT_LOAD
 * segments at p_vaddr, which is the guest-physical address
 * (VA == GPA in the guest), then lays out after the image:
 *   [struct proc_cpu_page, 4 KiB][bootinfo + cmdline, 4 KiB][boot stack]
 * and returns the boot registers (proc_abi.h: RIP = e_entry, RDI = bootinfo
 * GPA, RSP = top of the boot stack, 16-byte aligned).
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
    uint64_t entry, rsp, bootinfo_gpa, cpu_page_gpa, free_gpa;
    uint64_t ram_base, ram_size;
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
/* Boot registers (all others zero) and the vcpu's cpu page. */
int guest_load__setup_vcpu(struct vcpu *v, const struct guest_load_info *info);

#endif
