/* Helpers shared by the tiny test guests (freestanding, ring 3 under the
 * process backend, see vcpu/proc/proc_abi.h).  Each guest defines
 * guest_main(); its return value is written to PLATFORM_PORT_EXIT. */
#ifndef IOVIRT_TESTS_GUESTS_GUEST_H
#define IOVIRT_TESTS_GUESTS_GUEST_H

#include <stdint.h>

#include "vcpu/proc/proc_abi.h"

/* Ports the unit tests' host side implements. */
#define TEST_PORT_REPORT 0x510   /* out: a value the test records */
#define TEST_PORT_PARAM  0x514   /* in: a parameter from the test */
#define TEST_MMIO_BASE   0x10000000ull /* scratch device, within +-2 GiB of code */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint32_t inl(uint16_t p)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p));
    return v;
}
static inline void report(uint32_t v) { outl(TEST_PORT_REPORT, v); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

__attribute__((noreturn)) static inline void guest_exit(uint32_t code)
{
    for (;;)
        outl(PLATFORM_PORT_EXIT, code);
}

int guest_main(struct proc_bootinfo *bi);

__attribute__((noreturn, used)) void guest_start_c(struct proc_bootinfo *bi)
{
    guest_exit((uint32_t)guest_main(bi));
}

__asm__(".text\n.globl _start\n_start:\n  call guest_start_c\n  hlt\n");

/* ---- interrupts ---------------------------------------------------------- */

static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type_attr;
    uint16_t off1;
    uint32_t off2, zero;
};

struct __attribute__((packed)) idt_desc {
    uint16_t limit;
    uint64_t base;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
static volatile struct proc_cpu_page *cpu_page;

static inline void idt_set(uint8_t vec, void (*entry)(void))
{
    uint64_t a = (uint64_t)entry;
    idt[vec] = (struct idt_gate){.off0 = (uint16_t)a, .sel = 0x33, .type_attr = 0x8E,
                                 .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32)};
}

static inline void idt_load(struct proc_bootinfo *bi)
{
    static struct idt_desc d;
    d.limit = sizeof(idt) - 1;
    d.base = (uint64_t)idt;
    cpu_page = (volatile struct proc_cpu_page *)bi->cpu_page_gpa;
    __asm__ volatile("lidt %0" :: "m"(d) : "memory");
}


/* An entry stub that saves the caller-saved registers, calls cfunc(), lets
 * interrupts in again (ABI: irq_masked = 0) and returns with iretq. */
#define GUEST_IRQ_ENTRY(name, cfunc)                                           \
    void name(void);                                                           \
    __asm__(".text\n.globl " #name "\n" #name ":\n"                            \
            "  push %rax\n  push %rcx\n  push %rdx\n  push %rsi\n  push %rdi\n" \
            "  push %r8\n  push %r9\n  push %r10\n  push %r11\n"               \
            "  call " #cfunc "\n"                                              \
            "  pop %r11\n  pop %r10\n  pop %r9\n  pop %r8\n"                   \
            "  pop %rdi\n  pop %rsi\n  pop %rdx\n  pop %rcx\n  pop %rax\n"     \
            "  iretq\n")

/* End of a handler: unmask, and per the ABI trap (sti: it never halts)
 * if an interrupt arrived while masked. */
static inline void irq_done(void)
{
    cpu_page->irq_masked = 0;
    if (cpu_page->irq_pending)
        sti();
}

#endif
