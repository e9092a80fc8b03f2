/* The bare port of the HAL (see guest/hal/hal.h, docs/guest.md "The bare
 * port"): the kernel in ring 0 on an x86-64 CPU, booted through PVH
 * (drivers/platform/pvh.h) by QEMU's -kernel or iovirt's KVM backend.
 * This file: boot data (start_info, memory map, command line) to struct
 * boot_params, uncached mappings for what is not RAM, power-off. */
#include "guest/hal/bare/hal_bare.h"

#include <stdarg.h>

#include "drivers/platform/platform_map.h"
#include "guest/hal/bare/bare_cpu.h"
#include "guest/hal/bare/bare_memmap.h"
#include "guest/kernel/console.h"
#include "guest/lib/printf.h"

/* In .data, not .bss: hal_bare__save_boot fills it before .bss is cleared. */
struct bare_boot hal_bare_boot __attribute__((section(".data")));

extern char __image_start[], __image_end[];
extern uint64_t hal_bare_pd[4 * 512];

void hal_bare__save_boot(const struct hvm_start_info *si);
void hal_bare__start(void) __attribute__((noreturn));

/* The kernel's polled COM1 writer: usable before console__init (firmware
 * or the platform left the UART working) and from any exception. */
static void hal_bare__put_crlf(void *ctx, char c)
{
    (void)ctx;
    if (c == '\n')
        console__putc('\r');
    console__putc(c);
}

void hal_bare__printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kfmt__vformat(hal_bare__put_crlf, NULL, fmt, ap);
    va_end(ap);
}

/* Called from entry.S on the boot stack with .bss not yet cleared: copy
 * what the loader handed over into .data, touching nothing else. */
void hal_bare__save_boot(const struct hvm_start_info *si)
{
    struct bare_boot *b = &hal_bare_boot;
    b->entry_tsc = hal__rdtsc();
    b->si_addr = si;
    if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE)
        return;
    b->si = *si;
    if (si->version >= 1 && si->memmap_paddr) {
        const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)si->memmap_paddr;
        for (unsigned i = 0; i < si->memmap_entries && i < HAL_BARE_MAX_MEMMAP; i++)
            b->memmap[b->nmemmap++] = m[i];
    }
    const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
    uint64_t n = 0;
    if (c)
        for (; n < sizeof(b->cmdline) - 1 && c[n]; n++)
            b->cmdline[n] = c[n];
    b->cmdline[n] = '\0';
    b->cmdline_len = c ? n + 1 : 0;
}

/* Every 2 MiB page that holds no RAM (PCI BARs, ECAM, HPET, I/O APIC,
 * local APIC) becomes uncached, PCD|PWT (SDM Vol. 3 11.12.3: with the PAT
 * at its power-up value that is UC): device registers must not be cached
 * or combined. */
static void hal_bare__map_fixup(void)
{
    const struct bare_boot *b = &hal_bare_boot;
    bare_memmap__mark_uncached(hal_bare_pd, 4 * 512, PTE_PCD | PTE_PWT, b->memmap, b->nmemmap);
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

void hal_bare__start(void)
{
    struct bare_boot *b = &hal_bare_boot;
    if (!b->si_addr || b->si.magic != XEN_HVM_START_MAGIC_VALUE) {
        hal_bare__printf("bare: no PVH start_info (EBX %p)\n", (const void *)b->si_addr);
        hal__poweroff(HAL_BARE_STATUS_BOOT);
    }
    if (b->si.memmap_entries > b->nmemmap)
        hal_bare__printf("bare: memmap has %u entries, the first %u used\n", b->si.memmap_entries,
                         b->nmemmap);
    for (unsigned i = 0; i < b->nmemmap; i++)
        hal_bare__printf("bare: memmap %#lx..%#lx type %u\n", (unsigned long)b->memmap[i].addr,
                         (unsigned long)(b->memmap[i].addr + b->memmap[i].size), b->memmap[i].type);
    uint64_t ram_base, ram_size;
    if (!bare_memmap__pick_ram(b->memmap, b->nmemmap, (uint64_t)(uintptr_t)__image_start,
                               (uint64_t)(uintptr_t)__image_end, &ram_base, &ram_size)) {
        hal_bare__printf("bare: no RAM entry holds the image (%u memmap entries)\n",
                         b->nmemmap);
        hal__poweroff(HAL_BARE_STATUS_BOOT);
    }
    hal_bare__map_fixup();
    hal_bare__tss_init();
    hal_bare__time_init();

    struct boot_params bp = {
        .ram_base = ram_base,
        .ram_size = ram_size,
        .free_start = (uint64_t)(uintptr_t)__image_end,
        .cmdline = b->cmdline,
        .tsc_hz = hal__tsc_hz(),
        .reserved = {
            {(uint64_t)(uintptr_t)b->si_addr, sizeof(struct hvm_start_info)},
            {b->si.memmap_paddr, (uint64_t)b->si.memmap_entries * sizeof(struct hvm_memmap_table_entry)},
            {b->si.cmdline_paddr, b->cmdline_len},
        },
    };
    uint64_t us = (hal__rdtsc() - b->entry_tsc) / (hal__tsc_hz() / 1000000 ? hal__tsc_hz() / 1000000 : 1);
    hal_bare__printf("bare: PVH entry to kernel__main %lu us (TSC calibration included)\n",
                     (unsigned long)us);
    kernel__main(&bp);
}

uint64_t hal__hpet_base(void)
{
    return PLATFORM_HPET_BASE;
}

/* iovirt's exit port and QEMU's isa-debug-exit share port 0x501: iovirt
 * powers off with `status`, QEMU exits with (status << 1) | 1
 * (scripts/bare-qemu undoes that).  If neither is there, stop the CPU. */
void hal__poweroff(int status)
{
    __asm__ volatile("cli");
    hal__outb(PLATFORM_PORT_EXIT, (uint8_t)status);
    for (;;)
        __asm__ volatile("cli; hlt");
}
