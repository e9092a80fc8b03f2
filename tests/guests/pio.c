/* Port I/O in every encoding: out/in imm8 and DX, 8/16/32 bits.  The host
 * side (test_proc_pio.c) echoes: reading port P returns a size pattern.
 * Returns 0, or the number of the first failed check. */
#include "guest.h"

#define P_OUT 0x80
#define P_IN  0x81

int guest_main(struct proc_bootinfo *bi)
{
    if (bi->magic != PROC_BOOTINFO_MAGIC)
        return 1;
    uint16_t dx = 0x3F8;
    __asm__ volatile("outb %0, $0x80" :: "a"((uint8_t)0x11));
    __asm__ volatile("outw %0, $0x80" :: "a"((uint16_t)0x2222));
    __asm__ volatile("outl %0, $0x80" :: "a"(0x33333333u));
    __asm__ volatile("outb %0, %1" :: "a"((uint8_t)0x44), "d"(dx));
    __asm__ volatile("outw %0, %1" :: "a"((uint16_t)0x5555), "d"(dx));
    __asm__ volatile("outl %0, %1" :: "a"(0x66666666u), "d"(dx));

    uint64_t r;
    /* 8- and 16-bit IN merge into RAX; 32-bit zero-extends. */
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("inb $0x81, %%al" : "+a"(r));
    if (r != 0xAAAAAAAAAAAAAA01ull) return 2;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("inw $0x81, %%ax" : "+a"(r));
    if (r != 0xAAAAAAAAAAAA0202ull) return 3;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("inl $0x81, %%eax" : "+a"(r));
    if (r != 0x04040404ull) return 4;
    dx = P_IN;
    r = 0xBBBBBBBBBBBBBBBBull;
    __asm__ volatile("inb %%dx, %%al" : "+a"(r) : "d"(dx));
    if (r != 0xBBBBBBBBBBBBBB01ull) return 5;
    r = 0xBBBBBBBBBBBBBBBBull;
    __asm__ volatile("inw %%dx, %%ax" : "+a"(r) : "d"(dx));
    if (r != 0xBBBBBBBBBBBB0202ull) return 6;
    r = 0xBBBBBBBBBBBBBBBBull;
    __asm__ volatile("inl %%dx, %%eax" : "+a"(r) : "d"(dx));
    if (r != 0x04040404ull) return 7;
    /* Other registers survive an exit. */
    uint64_t b = 0x0123456789abcdefull, s = 0xfedcba9876543210ull;
    __asm__ volatile("outb %%al, $0x80" :: "a"((uint8_t)0x77), "b"(b), "S"(s) : "memory");
    uint64_t b2, s2;
    __asm__ volatile("" : "=b"(b2), "=S"(s2) : "b"(b), "S"(s));
    if (b2 != b || s2 != s) return 8;
    return 0;
}
