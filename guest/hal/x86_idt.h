/* The x86-64 IDT as both ports build it (Intel SDM Vol. 3 6.14.1, 64-bit
 * IDT gate descriptors): one interrupt gate per vector, pointing at the
 * port's stub table (guest/hal/isr_frame.h: stubs 16 bytes apart). */
#ifndef IOVIRT_GUEST_HAL_X86_IDT_H
#define IOVIRT_GUEST_HAL_X86_IDT_H

#include <stdint.h>

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;   /* P=1, DPL, type 0xE = 64-bit interrupt gate */
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t zero;
} __attribute__((packed));

#define IDT_GATE_INTR 0x8E

/* Gate v -> stubs + 16 * v, in the code segment we run in. */
static inline void x86_idt__fill(struct idt_gate *idt, unsigned n, const char *stubs)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (unsigned v = 0; v < n; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(stubs + 16 * v);
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)a,
            .selector = cs,
            .type_attr = IDT_GATE_INTR,
            .offset_mid = (uint16_t)(a >> 16),
            .offset_hi = (uint32_t)(a >> 32),
        };
    }
}

#endif
