/* A stack the CPU can always use for a double fault: the 64-bit TSS's
 * IST1 (Intel SDM Vol. 3 7.7 "Task management in 64-bit mode", 6.14.5
 * "Interrupt Stack Table"), and a not-present guard page under the kernel
 * stack (entry.S).  A stack overflow then faults on the guard page; the CPU
 * cannot push that #PF's frame on the same stack and raises #DF, which
 * switches to IST1 and is reported like every exception, instead of the
 * overflow running into the page tables or the CPU shutting down. */
#include "guest/hal/bare/hal_bare.h"

#include "guest/hal/bare/bare_cpu.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "SDM Figure 7-11");

static struct tss64 hal_bare_tss __attribute__((aligned(16)));
static uint8_t hal_bare_ist1[8192] __attribute__((aligned(16)));
static uint64_t hal_bare_guard_pt[512] __attribute__((aligned(4096)));

extern uint64_t hal_bare_gdt[];
extern uint64_t hal_bare_pd[4 * 512];
extern char hal_bare_stack_guard[];

/* Split the 2 MiB page holding the guard page into 4 KiB pages (SDM 4.5,
 * a PD entry pointing at a page table) and leave the guard not present. */
static void hal_bare__guard_page(void)
{
    uint64_t guard = (uint64_t)(uintptr_t)hal_bare_stack_guard;
    uint64_t *pde = &hal_bare_pd[guard >> 21];
    uint64_t big = *pde & ~0x1FFFFFull;
    uint64_t attrs = *pde & (PTE_PCD | PTE_PWT);
    for (unsigned i = 0; i < 512; i++)
        hal_bare_guard_pt[i] = (big + ((uint64_t)i << 12)) | PTE_P | PTE_RW | attrs;
    hal_bare_guard_pt[(guard >> 12) & 511] = 0;
    *pde = (uint64_t)(uintptr_t)hal_bare_guard_pt | PTE_P | PTE_RW;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

void hal_bare__tss_init(void)
{
    struct tss64 *t = &hal_bare_tss;
    t->ist[0] = (uint64_t)(uintptr_t)(hal_bare_ist1 + sizeof hal_bare_ist1);
    t->iomap_base = sizeof(*t);                 /* no I/O permission bitmap */
    uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;
    hal_bare_gdt[GDT_TSS / 8] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 |
                                (uint64_t)GDT_TSS_TYPE_AVAIL64 << 40 | ((limit >> 16) & 0xF) << 48 |
                                ((base >> 24) & 0xFF) << 56;
    hal_bare_gdt[GDT_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(GDT_TSS) : "memory");
    hal_bare__guard_page();
}
