/* Port I/O and MMIO as the x86 instructions themselves, inline (included by
 * guest/hal/hal.h for the proc and bare ports).  In ring 3 under the process
 * backend they trap (in/out: #GP; MMIO: #PF on an unmapped page) and the
 * runner emulates them; in ring 0 on a CPU (bare port) they reach the
 * devices.  MMIO uses single volatile MOVs, which the hypervisor's decoder
 * emulates when the page traps. */
#ifndef IOVIRT_GUEST_HAL_X86_IO_H
#define IOVIRT_GUEST_HAL_X86_IO_H

#include <stdint.h>

static inline void hal__outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void hal__outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void hal__outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t hal__inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t hal__inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t hal__inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- MMIO (VA == physical address on every port) ------------------------ */
static inline uint8_t hal__mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t hal__mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t hal__mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t hal__mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void hal__mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void hal__mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void hal__mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void hal__mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

#endif
