/* bzImage loader for the 64-bit Linux boot protocol (guest_load_linux.h).
 * The image is untrusted input: every header field is checked against the
 * file and guest RAM before one byte of guest memory is written. */
#include "vcpu/guest_load_linux.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/apic/apic_regs.h"
#include "drivers/platform/linux_boot.h"
#include "drivers/platform/platform_map.h"

#define PAGE 4096ull
#define GIB (1ull << 30)
#define MAX_KERNEL_FILE (256ull << 20)

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

bool guest_load__is_bzimage(const void *file, size_t size)
{
    const uint8_t *f = file;
    return size >= LINUX_HDR_MAGIC_OFF + 4 && rd16(f + LINUX_HDR_BOOT_FLAG) == LINUX_BOOT_FLAG &&
           rd32(f + LINUX_HDR_MAGIC_OFF) == LINUX_HDR_MAGIC;
}

int guest_load__linux_parse(const void *file, size_t size, struct guest_linux_image *img, char *errbuf,
                            size_t errlen)
{
    const uint8_t *f = file;
    memset(img, 0, sizeof *img);
    if (size < LINUX_HDR_MIN_END)
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: file of %zu bytes is shorter than a 2.12 setup header", size);
    if (!guest_load__is_bzimage(f, size))
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: no setup header (boot flag 0x%04x, magic 0x%08x; want 0xaa55, \"HdrS\")",
                                rd16(f + LINUX_HDR_BOOT_FLAG), rd32(f + LINUX_HDR_MAGIC_OFF));
    uint16_t version = rd16(f + LINUX_HDR_VERSION);
    if (version < LINUX_PROTOCOL_MIN)
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: boot protocol %u.%02u is older than 2.12 (no 64-bit entry)", version >> 8,
                                version & 0xff);
    /* boot.rst: the header ends at 0x202 + the jump's displacement byte */
    size_t hdr_end = LINUX_HDR_MAGIC_OFF + f[LINUX_HDR_JUMP + 1];
    if (hdr_end < LINUX_HDR_MIN_END)
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: setup header ends at 0x%zx, before init_size (0x%x)", hdr_end,
                                LINUX_HDR_MIN_END);
    unsigned sects = f[LINUX_HDR_SETUP_SECTS] ? f[LINUX_HDR_SETUP_SECTS] : 4;
    size_t kernel_off = (size_t)(sects + 1) * LINUX_SECTOR;
    if (kernel_off < hdr_end || kernel_off >= size)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "bzImage: truncated: %u setup sectors, file of %zu bytes",
                                sects, size);
    uint16_t xlf = rd16(f + LINUX_HDR_XLOADFLAGS);
    if (!(xlf & LINUX_XLF_KERNEL_64))
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: a 32-bit-only kernel (xloadflags 0x%x lacks XLF_KERNEL_64)", xlf);
    uint8_t lf = f[LINUX_HDR_LOADFLAGS];
    if (!(lf & LINUX_LOADED_HIGH))
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: a zImage (loaded low, below 1 MiB) is not supported");
    uint64_t sys = (uint64_t)rd32(f + LINUX_HDR_SYSSIZE) * 16;
    size_t kernel_size = size - kernel_off;
    if (!sys || sys > kernel_size)
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: truncated: syssize says %llu bytes of kernel, the file has %zu after the setup",
                                (unsigned long long)sys, kernel_size);
    uint32_t init_size = rd32(f + LINUX_HDR_INIT_SIZE);
    if (init_size < kernel_size)
        return guest_load__fail(errbuf, errlen, -ENOEXEC, "bzImage: init_size %u is smaller than the %zu-byte kernel",
                                init_size, kernel_size);
    uint64_t pref = rd64(f + LINUX_HDR_PREF_ADDRESS);
    if (pref < LINUX_LOW_AREA_END || pref % PAGE || pref >= 4 * GIB)
        return guest_load__fail(errbuf, errlen, -ENOEXEC,
                                "bzImage: pref_address 0x%llx is not a page below 4 GiB above 1 MiB",
                                (unsigned long long)pref);
    *img = (struct guest_linux_image){
        .version = version, .loadflags = lf, .xloadflags = xlf,
        .cmdline_size = rd32(f + LINUX_HDR_CMDLINE_SIZE), .initrd_addr_max = rd32(f + LINUX_HDR_INITRD_ADDR_MAX),
        .init_size = init_size, .pref_address = pref, .hdr_end = hdr_end, .kernel_off = kernel_off,
        .kernel_size = kernel_size,
    };
    return 0;
}

/* ---- the e820 map ------------------------------------------------------- */

struct e820 {
    struct linux_e820_entry e[LINUX_E820_MAX_ENTRIES];
    unsigned n;
};

/* Append in ascending order (callers add sorted), merging adjacent RAM. */
static int e820_add(struct e820 *t, uint64_t addr, uint64_t size, uint32_t type)
{
    if (t->n && t->e[t->n - 1].type == type && type == LINUX_E820_RAM &&
        t->e[t->n - 1].addr + t->e[t->n - 1].size == addr) {
        t->e[t->n - 1].size += size;
        return 0;
    }
    if (t->n == LINUX_E820_MAX_ENTRIES)
        return -E2BIG;
    t->e[t->n++] = (struct linux_e820_entry){.addr = addr, .size = size, .type = type};
    return 0;
}

static int e820_build(const struct vcpu_memmap *m, struct e820 *t)
{
    /* the platform's fixed windows, ascending; none of them is RAM */
    static const struct {
        uint64_t addr, size;
    } reserved[] = {
        {PLATFORM_PCI_ECAM_BASE, 1ull << 20},
        {IOAPIC_DEFAULT_BASE, PAGE},
        {PLATFORM_HPET_BASE, PAGE},
        {PLATFORM_MSI_WINDOW_BASE, 1ull << 20},
        {PLATFORM_BACKEND_RESERVED_BASE, PLATFORM_BACKEND_RESERVED_SIZE},
    };
    t->n = 0;
    if (e820_add(t, 0, LINUX_LOW_RAM_END, LINUX_E820_RAM) ||
        e820_add(t, LINUX_LOW_RAM_END, LINUX_LOW_AREA_END - LINUX_LOW_RAM_END, LINUX_E820_RESERVED))
        return -E2BIG;
    unsigned ri = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const struct vcpu_mem_region *r = &m->r[i];
        if (r->kind != VCPU_MEM_RAM || r->gpa + r->len <= LINUX_LOW_AREA_END)
            continue;
        uint64_t a = r->gpa < LINUX_LOW_AREA_END ? LINUX_LOW_AREA_END : r->gpa;
        for (; ri < sizeof reserved / sizeof reserved[0] && reserved[ri].addr < a; ri++)
            if (e820_add(t, reserved[ri].addr, reserved[ri].size, LINUX_E820_RESERVED))
                return -E2BIG;
        if (e820_add(t, a, r->gpa + r->len - a, LINUX_E820_RAM))
            return -E2BIG;
    }
    for (; ri < sizeof reserved / sizeof reserved[0]; ri++)
        if (e820_add(t, reserved[ri].addr, reserved[ri].size, LINUX_E820_RESERVED))
            return -E2BIG;
    return 0;
}

/* ---- loading ------------------------------------------------------------ */

/* GDT entries (Intel SDM Vol. 3 3.4.5): flat 4 GiB, present, DPL 0,
 * granularity 4 KiB; code is 64-bit (L = 1), data 32-bit (D/B = 1). */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull
/* Page-table entry bits (SDM Vol. 3 4.5): present, writable, 2 MiB page. */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

static int write_tables(const struct vcpu_memmap *m)
{
    uint64_t gdt[4] = {0, 0, GDT_CODE64, GDT_DATA};
    _Static_assert(LINUX_BOOT_CS == 2 * 8 && LINUX_BOOT_DS == 3 * 8, "boot.rst selectors");
    static uint64_t pt[512];
    memset(pt, 0, sizeof pt);
    pt[0] = GUEST_LINUX_PDPT | PTE_P | PTE_RW;
    int r = vcpu_memmap__write(m, GUEST_LINUX_GDT, gdt, sizeof gdt) |
            vcpu_memmap__write(m, GUEST_LINUX_PML4, pt, sizeof pt);
    memset(pt, 0, sizeof pt);
    for (unsigned i = 0; i < GUEST_LINUX_PD_COUNT; i++)
        pt[i] = (GUEST_LINUX_PD + i * PAGE) | PTE_P | PTE_RW;
    r |= vcpu_memmap__write(m, GUEST_LINUX_PDPT, pt, sizeof pt);
    /* real mode at F000:FFF0: lidt cs:[0xFFF8] (limit 0), int3 -> #GP ->
     * #DF -> shutdown (SDM Vol. 3 6.14 / 20.1.4: the IVT limit is checked) */
    static const uint8_t reset[16] = {0x2e, 0x0f, 0x01, 0x1e, 0xf8, 0xff, 0xcc, 0xf4};
    r |= vcpu_memmap__write(m, GUEST_LINUX_RESET, reset, sizeof reset);
    for (unsigned i = 0; i < GUEST_LINUX_PD_COUNT; i++) {
        for (unsigned j = 0; j < 512; j++)
            pt[j] = ((uint64_t)(i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
        r |= vcpu_memmap__write(m, GUEST_LINUX_PD + i * PAGE, pt, sizeof pt);
    }
    return r ? -EFAULT : 0;
}

int guest_load__linux(const struct vcpu_memmap *m, const void *kernel, size_t ksize, const void *initrd,
                      size_t isize, const char *cmdline, struct guest_load_info *out, char *errbuf,
                      size_t errlen)
{
    const uint8_t *f = kernel;
    struct guest_linux_image img;
    memset(out, 0, sizeof *out);
    if (!cmdline)
        cmdline = "";
    int rc = guest_load__linux_parse(kernel, ksize, &img, errbuf, errlen);
    if (rc)
        return rc;
    /* Low memory: one RAM region over the whole first MiB. */
    if (!vcpu_memmap__ram_ptr(m, 0, LINUX_LOW_AREA_END))
        return guest_load__fail(errbuf, errlen, -EINVAL,
                                "a Linux VM needs guest RAM at 0..1 MiB (its real-mode trampoline)");
    uint64_t ram_size = vcpu_memmap__ram_run(m, PLATFORM_RAM_BASE);
    if (!ram_size)
        return guest_load__fail(errbuf, errlen, -EINVAL, "no guest RAM at 0x%llx",
                                (unsigned long long)PLATFORM_RAM_BASE);
    uint64_t ram_end = PLATFORM_RAM_BASE + ram_size;
    uint64_t load = img.pref_address, kernel_end = load + img.init_size;
    if (kernel_end > ram_end)
        return guest_load__fail(errbuf, errlen, -E2BIG,
                                "bzImage: the kernel needs RAM up to 0x%llx (pref_address 0x%llx + init_size 0x%x), "
                                "guest RAM ends at 0x%llx: give the VM at least %llu MiB",
                                (unsigned long long)kernel_end, (unsigned long long)load, img.init_size,
                                (unsigned long long)ram_end,
                                (unsigned long long)((kernel_end - PLATFORM_RAM_BASE + (2ull << 20) - 1) >> 21 << 1));
    size_t cmdlen = strnlen(cmdline, GUEST_LOAD_CMDLINE_MAX + 1);
    uint64_t cmdmax = img.cmdline_size < GUEST_LOAD_CMDLINE_MAX ? img.cmdline_size : GUEST_LOAD_CMDLINE_MAX;
    if (cmdlen > cmdmax)
        return guest_load__fail(errbuf, errlen, -EINVAL,
                                "command line of %zu%s bytes is longer than the %llu the kernel takes", cmdlen,
                                cmdlen > GUEST_LOAD_CMDLINE_MAX ? "+" : "", (unsigned long long)cmdmax);
    uint64_t initrd_gpa = 0;
    if (isize) {
        /* boot.rst: the initrd ends at or below initrd_addr_max; highest first */
        uint64_t top = ram_end;
        if ((uint64_t)img.initrd_addr_max + 1 < top)
            top = (uint64_t)img.initrd_addr_max + 1;
        if (top > 4 * GIB)
            top = 4 * GIB;
        if (isize > top || ((top - isize) & ~(PAGE - 1)) < kernel_end)
            return guest_load__fail(errbuf, errlen, -E2BIG,
                                    "initrd of %zu bytes does not fit between the kernel's end 0x%llx and 0x%llx "
                                    "(end of RAM or initrd_addr_max)",
                                    isize, (unsigned long long)kernel_end, (unsigned long long)top);
        initrd_gpa = (top - isize) & ~(PAGE - 1);
    }
    struct e820 *map = calloc(1, sizeof *map);
    uint8_t *zp = calloc(1, LINUX_ZERO_PAGE_SIZE);
    if (!map || !zp) {
        free(map);
        free(zp);
        return guest_load__fail(errbuf, errlen, -ENOMEM, "out of memory");
    }
    if (e820_build(m, map)) {
        free(map);
        free(zp);
        return guest_load__fail(errbuf, errlen, -E2BIG, "e820 map: more than %u entries (guest RAM in too many pieces)",
                                LINUX_E820_MAX_ENTRIES);
    }

    /* zero-page.rst / boot.rst: the header from the image, then our fields */
    memcpy(zp + LINUX_HDR_OFF, f + LINUX_HDR_OFF, img.hdr_end - LINUX_HDR_OFF);
    zp[LINUX_HDR_TYPE_OF_LOADER] = LINUX_TYPE_OF_LOADER_UNDEFINED;
    zp[LINUX_HDR_LOADFLAGS] = (uint8_t)(img.loadflags | LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP);
    zp[LINUX_HDR_VID_MODE] = 0xff, zp[LINUX_HDR_VID_MODE + 1] = 0xff; /* "normal" */
    zp[LINUX_HDR_HEAP_END_PTR] = 0x00, zp[LINUX_HDR_HEAP_END_PTR + 1] = 0xfe; /* 0xfe00: boot.rst */
    wr32(zp + LINUX_HDR_CODE32_START, (uint32_t)load);
    wr32(zp + LINUX_HDR_CMD_LINE_PTR, (uint32_t)GUEST_LINUX_CMDLINE);
    wr32(zp + LINUX_ZP_EXT_CMD_LINE_PTR, 0);
    wr32(zp + LINUX_HDR_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
    wr32(zp + LINUX_ZP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_gpa >> 32));
    wr32(zp + LINUX_HDR_RAMDISK_SIZE, (uint32_t)isize);
    wr32(zp + LINUX_ZP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)isize >> 32));
    zp[LINUX_ZP_E820_ENTRIES] = (uint8_t)map->n;
    memcpy(zp + LINUX_ZP_E820_TABLE, map->e, map->n * sizeof map->e[0]);

    static const uint8_t zero[PAGE];
    rc = write_tables(m);
    rc |= vcpu_memmap__write(m, GUEST_LINUX_ZERO_PAGE, zp, LINUX_ZERO_PAGE_SIZE);
    rc |= vcpu_memmap__write(m, GUEST_LINUX_STACK_TOP - PAGE, zero, PAGE);
    rc |= vcpu_memmap__write(m, GUEST_LINUX_CMDLINE, cmdline, cmdlen);
    rc |= vcpu_memmap__write(m, GUEST_LINUX_CMDLINE + cmdlen, zero, 1);
    rc |= vcpu_memmap__write(m, load, f + img.kernel_off, img.kernel_size);
    if (isize)
        rc |= vcpu_memmap__write(m, initrd_gpa, initrd, isize);
    free(map);
    free(zp);
    if (rc) /* every range was checked against RAM above: a hole in it */
        return guest_load__fail(errbuf, errlen, -E2BIG, "Linux boot data hits a hole in guest RAM");
    *out = (struct guest_load_info){
        .boot = VCPU_BOOT_LINUX, .entry = load + LINUX_ENTRY_64_OFFSET, .rsp = GUEST_LINUX_STACK_TOP,
        .bootinfo_gpa = GUEST_LINUX_ZERO_PAGE, .free_gpa = kernel_end, .ram_base = PLATFORM_RAM_BASE,
        .ram_size = ram_size,
        .entry_state = {.boot = VCPU_BOOT_LINUX, .cr3 = GUEST_LINUX_PML4, .gdt_base = GUEST_LINUX_GDT,
                        .gdt_limit = 4 * 8 - 1, .cs = LINUX_BOOT_CS, .ds = LINUX_BOOT_DS},
    };
    return 0;
}

int guest_load__linux_file(const struct vcpu_memmap *m, const char *kernel_path, const char *initrd_path,
                           const char *cmdline, struct guest_load_info *out, char *errbuf, size_t errlen)
{
    uint8_t *k = NULL, *ird = NULL;
    size_t ks = 0, is = 0;
    int rc = guest_load__read_file(kernel_path, MAX_KERNEL_FILE, &k, &ks, errbuf, errlen);
    if (!rc && initrd_path) {
        char why[256];
        rc = guest_load__read_file(initrd_path, GUEST_LINUX_INITRD_MAX, &ird, &is, why, sizeof why);
        if (rc)
            guest_load__fail(errbuf, errlen, rc, "initrd %s", why);
    }
    if (!rc)
        rc = guest_load__linux(m, k, ks, ird, is, cmdline, out, errbuf, errlen);
    free(k);
    free(ird);
    return rc;
}
