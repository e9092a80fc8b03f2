#include "vcpu/guest_load.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vcpu/guest_load_linux.h"
#include "vcpu/guest_load_pvh.h"
#include "vcpu/proc/proc_abi.h"

#define PAGE 4096ull
#define MAX_FILE (256ull << 20)

int guest_load__fail(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", msg);
    else
        log__err("guest_load", "%s", msg);
    return rc;
}

static uint64_t page_up(uint64_t x)
{
    return (x + PAGE - 1) & ~(PAGE - 1);
}

int guest_load__elf(const struct vcpu_memmap *m, const void *file, size_t size,
                    const char *cmdline, uint64_t tsc_hz, struct guest_load_info *out,
                    char *errbuf, size_t errlen)
{
    const uint8_t *f = file;
    Elf64_Ehdr eh;
    memset(out, 0, sizeof(*out));
    if (!cmdline)
        cmdline = "";
    size_t cmdlen = strnlen(cmdline, GUEST_LOAD_CMDLINE_MAX + 1);
    if (cmdlen > GUEST_LOAD_CMDLINE_MAX)
        return guest_load__fail(errbuf, errlen, -EINVAL, "command line longer than %u bytes", GUEST_LOAD_CMDLINE_MAX);

    uint64_t ram_base = PLATFORM_RAM_BASE;
    uint64_t ram_size = vcpu_memmap__ram_run(m, ram_base);
    if (!ram_size)
        return guest_load__fail(errbuf, errlen, -EINVAL, "no guest RAM at 0x%llx", (unsigned long long)ram_base);
    uint64_t ram_end = ram_base + ram_size;

    if (size < sizeof eh)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: file of %zu bytes is shorter than the ELF header",
                                size);
    memcpy(&eh, f, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: bad magic");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: not a little-endian ELF64 version 1 file");
    if (eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: not an x86-64 executable (machine %u, type %u)",
                                eh.e_machine, eh.e_type);
    if (eh.e_ehsize != sizeof(Elf64_Ehdr) || eh.e_phentsize != sizeof(Elf64_Phdr))
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: unexpected header sizes");
    if (eh.e_phnum == 0 || eh.e_phnum > GUEST_LOAD_MAX_PHDRS)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: %u program headers (1..%u accepted)", eh.e_phnum,
                                GUEST_LOAD_MAX_PHDRS);
    if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: program headers beyond end of file");

    Elf64_Phdr ph[GUEST_LOAD_MAX_PHDRS];
    memcpy(ph, f + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));
    uint64_t image_end = ram_base;
    bool entry_ok = false;
    unsigned nload = 0;
    /* Validate everything before writing anything. */
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type == PT_INTERP || p->p_type == PT_DYNAMIC)
            return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: dynamic executables are not supported");
        if (p->p_type != PT_LOAD)
            continue;
        nload++;
        if (p->p_offset > size || p->p_filesz > size - p->p_offset)
            return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: segment %u data beyond end of file", i);
        if (p->p_filesz > p->p_memsz)
            return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: segment %u file size exceeds memory size", i);
        if (p->p_vaddr < ram_base || p->p_vaddr > ram_end || p->p_memsz > ram_end - p->p_vaddr)
            return guest_load__fail(errbuf, errlen, -E2BIG,
                                    "ELF: segment %u [0x%llx, +0x%llx) does not fit guest RAM [0x%llx, 0x%llx)", i,
                                    (unsigned long long)p->p_vaddr, (unsigned long long)p->p_memsz,
                                    (unsigned long long)ram_base, (unsigned long long)ram_end);
        if (p->p_vaddr + p->p_memsz > image_end)
            image_end = p->p_vaddr + p->p_memsz;
        if ((p->p_flags & PF_X) && eh.e_entry >= p->p_vaddr &&
            eh.e_entry - p->p_vaddr < p->p_memsz)
            entry_ok = true;
    }
    if (!nload)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: no loadable segment");
    uint64_t entry = eh.e_entry;
    char note_err[160] = "";
    int pvh = guest_load__pvh_entry(f, size, ph, eh.e_phnum, &entry, note_err, sizeof note_err);
    if (pvh < 0)
        return guest_load__fail(errbuf, errlen, pvh, "%s", note_err);
    if (pvh) {
        /* the note's entry, not e_entry, is where a PVH boot starts */
        entry_ok = false;
        for (unsigned i = 0; i < eh.e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && entry >= ph[i].p_vaddr &&
                entry - ph[i].p_vaddr < ph[i].p_memsz)
                entry_ok = true;
    }
    if (!entry_ok)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: %sentry point 0x%llx is not in an executable segment",
                                pvh ? "PVH " : "", (unsigned long long)entry);

    uint64_t cpu_page = page_up(image_end);
    uint64_t boot = cpu_page + PAGE;
    uint64_t stack_lo = boot + PAGE;
    uint64_t free_gpa = stack_lo + GUEST_LOAD_STACK_SIZE;
    if (cpu_page < image_end || free_gpa > ram_end)
        return guest_load__fail(errbuf, errlen, -E2BIG,
                                "ELF: image end 0x%llx leaves no room for boot data in RAM ending 0x%llx",
                                (unsigned long long)image_end, (unsigned long long)ram_end);

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (vcpu_memmap__write(m, p->p_vaddr, f + p->p_offset, p->p_filesz) != 0)
            return guest_load__fail(errbuf, errlen, -E2BIG, "ELF: segment %u hits a hole in guest RAM", i);
        static const uint8_t zero[4096];
        for (uint64_t off = p->p_filesz; off < p->p_memsz;) {
            uint64_t n = p->p_memsz - off < sizeof zero ? p->p_memsz - off : sizeof zero;
            if (vcpu_memmap__write(m, p->p_vaddr + off, zero, n) != 0)
                return guest_load__fail(errbuf, errlen, -E2BIG, "ELF: segment %u hits a hole in guest RAM", i);
            off += n;
        }
    }
    static const uint8_t zpage[4096];
    if (vcpu_memmap__write(m, cpu_page, zpage, PAGE) || vcpu_memmap__write(m, boot, zpage, PAGE))
        return guest_load__fail(errbuf, errlen, -E2BIG, "boot data hits a hole in guest RAM");
    if (pvh) {
        int rc = guest_load__pvh_start_info(m, boot, cmdline, cmdlen, note_err, sizeof note_err);
        if (rc)
            return guest_load__fail(errbuf, errlen, rc, "%s", note_err);
        *out = (struct guest_load_info){.boot = VCPU_BOOT_PVH, .entry = entry, .rsp = free_gpa,
                                        .bootinfo_gpa = boot, .cpu_page_gpa = cpu_page, .free_gpa = free_gpa,
                                        .ram_base = ram_base, .ram_size = ram_size};
        return 0;
    }
    struct proc_bootinfo bi = {
        .magic = PROC_BOOTINFO_MAGIC, .ram_base = ram_base, .ram_size = ram_size,
        .cmdline_gpa = boot + sizeof(struct proc_bootinfo), .cpu_page_gpa = cpu_page,
        .tsc_hz = tsc_hz, .free_gpa = free_gpa,
    };
    if (vcpu_memmap__write(m, boot, &bi, sizeof bi) ||
        vcpu_memmap__write(m, bi.cmdline_gpa, cmdline, cmdlen + 1))
        return guest_load__fail(errbuf, errlen, -E2BIG, "boot data hits a hole in guest RAM");
    _Static_assert(sizeof(struct proc_bootinfo) + GUEST_LOAD_CMDLINE_MAX + 1 <= 4096,
                   "bootinfo page too small");

    /* rsp: 16-byte aligned (page aligned) */
    *out = (struct guest_load_info){.boot = VCPU_BOOT_PROC, .entry = eh.e_entry, .rsp = free_gpa,
                                    .bootinfo_gpa = boot, .cpu_page_gpa = cpu_page, .free_gpa = free_gpa,
                                    .ram_base = ram_base, .ram_size = ram_size};
    return 0;
}

int guest_load__read_file(const char *path, uint64_t max_bytes, uint8_t **buf_out, size_t *size_out,
                          char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return guest_load__fail(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return guest_load__fail(errbuf, errlen, -EINVAL, "%s: not a regular file of at most %llu bytes", path,
                                (unsigned long long)max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return guest_load__fail(errbuf, errlen, -EIO, "%s: short read", path);
    }
    *buf_out = buf;
    *size_out = size;
    return 0;
}

int guest_load__file(const struct vcpu_memmap *m, const char *path, const char *cmdline,
                     uint64_t tsc_hz, struct guest_load_info *out, char *errbuf, size_t errlen)
{
    uint8_t *buf;
    size_t size;
    int rc = guest_load__read_file(path, MAX_FILE, &buf, &size, errbuf, errlen);
    if (rc)
        return rc;
    rc = guest_load__elf(m, buf, size, cmdline, tsc_hz, out, errbuf, errlen);
    free(buf);
    return rc;
}

int guest_load__file_boot(const char *path, enum vcpu_boot *boot, char *errbuf, size_t errlen)
{
    uint8_t *buf;
    size_t size;
    int rc = guest_load__read_file(path, MAX_FILE, &buf, &size, errbuf, errlen);
    if (rc)
        return rc;
    if (guest_load__is_bzimage(buf, size)) {
        free(buf);
        *boot = VCPU_BOOT_LINUX;
        return 0;
    }
    Elf64_Ehdr eh;
    if (size < sizeof eh) {
        free(buf);
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "ELF: file of %zu bytes is shorter than the ELF header",
                                size);
    }
    memcpy(&eh, buf, sizeof eh);
    /* the same header checks as guest_load__elf, as far as the notes need */
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > GUEST_LOAD_MAX_PHDRS ||
        eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        rc = guest_load__fail(errbuf, errlen, -ENOEXEC, "%s: not an ELF64 file with valid program headers", path);
    if (!rc) {
        Elf64_Phdr ph[GUEST_LOAD_MAX_PHDRS];
        memcpy(ph, buf + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));
        uint64_t entry = 0;
        char note_err[160] = "";
        int pvh = guest_load__pvh_entry(buf, size, ph, eh.e_phnum, &entry, note_err, sizeof note_err);
        if (pvh < 0)
            rc = guest_load__fail(errbuf, errlen, pvh, "%s", note_err);
        else
            *boot = pvh ? VCPU_BOOT_PVH : VCPU_BOOT_PROC;
    }
    free(buf);
    return rc;
}

/* What each boot protocol's backends need, for the message. */
static const char *const boot_image[] = {
    [VCPU_BOOT_PROC] = "the proc port's build*/guest/iovirt-guest.elf (no PVH note)",
    [VCPU_BOOT_PVH] = "a PVH image such as the bare port's build*/guest/iovirt-guest-bare.elf",
    [VCPU_BOOT_LINUX] = "a Linux bzImage",
};

static const char *const image_is[] = {
    [VCPU_BOOT_PROC] = "a proc-port image (no PVH note)",
    [VCPU_BOOT_PVH] = "a PVH image (it has the Xen PHYS32_ENTRY note)",
    [VCPU_BOOT_LINUX] = "a Linux bzImage (a ring-0 kernel: it needs the kvm backend)",
};

int guest_load__check_backend(const struct guest_load_info *info, const struct vcpu_ops *ops,
                              char *errbuf, size_t errlen)
{
    if ((unsigned)info->boot > VCPU_BOOT_LINUX || (unsigned)ops->boot > VCPU_BOOT_LINUX)
        return guest_load__fail(errbuf, errlen, -EINVAL, "unknown boot protocol");
    if (vcpu__boots(ops, info->boot))
        return 0;
    return guest_load__fail(errbuf, errlen, -ENOEXEC, "the %s backend boots %s; this image is %s", ops->name,
                            boot_image[ops->boot], image_is[info->boot]);
}

int guest_load__setup_vcpu(struct vcpu *v, const struct guest_load_info *info)
{
    int rc = guest_load__check_backend(info, v->vm->ops, NULL, 0);
    if (rc)
        return rc;
    struct vcpu_regs r;
    memset(&r, 0, sizeof r);
    if (info->boot == VCPU_BOOT_LINUX) {
        /* boot.rst "64-bit BOOT PROTOCOL": paging, GDT, then RSI and RIP */
        rc = vcpu__set_entry_state(v, &info->entry_state);
        if (rc) {
            log__err("guest_load", "the %s backend cannot enter a Linux kernel: %s", v->vm->ops->name,
                     strerror(-rc));
            return rc;
        }
        r.rip = info->entry;
        r.gpr[6] = info->bootinfo_gpa; /* RSI */
        r.gpr[4] = info->rsp;
        r.rflags = 0x2;                /* IF clear */
        v->cpu_page_gpa = 0;
        return vcpu__set_regs(v, &r);
    }
    if (info->boot == VCPU_BOOT_PVH) {
        /* pvh.h entry state; the backend set the segments at create */
        r.rip = info->entry;
        r.gpr[3] = info->bootinfo_gpa; /* RBX */
        r.gpr[4] = info->rsp;
        r.rflags = 0x2;
        v->cpu_page_gpa = 0;
        return vcpu__set_regs(v, &r);
    }
    r.rip = info->entry;
    r.gpr[4] = info->rsp;   /* RSP */
    r.gpr[7] = info->bootinfo_gpa; /* RDI */
    r.rflags = 0x202;
    v->cpu_page_gpa = info->cpu_page_gpa;
    return vcpu__set_regs(v, &r);
}
