/* MMIO through the direct memory-offset MOVs (opcodes A0-A3, "movabs"):
 * what gcc emits for a constant-address volatile access that a 32-bit
 * displacement cannot reach, moving AL/AX/EAX/RAX to or from an 8-byte
 * absolute address.  Then the addr32 (67) form, whose 4-byte offset is
 * zero-extended, against a device at 2 GiB (a sign-extended offset would
 * miss it).  test_proc_mmio.c backs both ranges with scratch bytes, presets
 * what the loads expect, and checks each trapping instruction really is
 * A0-A3.  Returns 0, or the number of the first failed check. */
#include "guest.h"

#define MOFFS_HIGH  0x123480000000ull /* beyond +-2 GiB of the code */
/* MOFFS_LOW32 = 0x80000000: spelled out in the asm strings below */

/* One function per access so each is a plain C volatile access; noinline
 * keeps the value in the accumulator (return value / copied argument),
 * which is what lets gcc pick the moffs form. */
#define MOFFS_RD(name, type, off)                                              \
    static __attribute__((noinline)) type name(void)                           \
    {                                                                          \
        return *(volatile type *)(MOFFS_HIGH + (off));                         \
    }
#define MOFFS_WR(name, type, off)                                              \
    static __attribute__((noinline)) void name(type v)                         \
    {                                                                          \
        *(volatile type *)(MOFFS_HIGH + (off)) = v;                            \
    }

MOFFS_WR(wr8, uint8_t, 0x00)
MOFFS_WR(wr16, uint16_t, 0x02)
MOFFS_WR(wr32, uint32_t, 0x04)
MOFFS_WR(wr64, uint64_t, 0x08)
MOFFS_RD(rd8, uint8_t, 0x20)
MOFFS_RD(rd16, uint16_t, 0x22)
MOFFS_RD(rd32, uint32_t, 0x24)
MOFFS_RD(rd64, uint64_t, 0x28)

/* An opaque value: keeps gcc from propagating the constant into the store
 * function (a constant store is emitted as mov $imm,(reg) instead). */
static inline uint64_t opaque(uint64_t v)
{
    __asm__ volatile("" : "+r"(v));
    return v;
}

int guest_main(struct proc_bootinfo *bi)
{
    (void)bi;
    uint64_t r;

    /* gcc's movabs: stores A2 / 66 A3 / A3 / REX.W A3 */
    wr8((uint8_t)opaque(0x11));
    wr16((uint16_t)opaque(0x2233));
    wr32((uint32_t)opaque(0x44556677));
    wr64(opaque(0x8899aabbccddeeffull));
    /* loads A0 / 66 A1 / A1 / REX.W A1 of values the device was preset with */
    if (rd8() != 0x5a) return 1;
    if (rd16() != 0xbeef) return 2;
    if (rd32() != 0x8badf00d) return 3;
    if (rd64() != 0xfedcba9876543210ull) return 4;

    /* addr32 forms (67): 4-byte offset 0x80000000.., zero-extended */
    __asm__ volatile("addr32 movabs %%al, 0x80000000" :: "a"(0x31) : "memory");
    __asm__ volatile("addr32 movabs %%ax, 0x80000002" :: "a"(0x4253) : "memory");
    __asm__ volatile("addr32 movabs %%eax, 0x80000004" :: "a"(0x64758697) : "memory");
    __asm__ volatile("addr32 movabs %%rax, 0x80000008" :: "a"(0xa8b9cadbecfd0e1full) : "memory");
    /* ... loaded back: 8/16-bit merge into RAX, 32-bit zero-extends */
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("addr32 movabs 0x80000000, %%al" : "+a"(r) :: "memory");
    if (r != 0xAAAAAAAAAAAAAA31ull) return 5;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("addr32 movabs 0x80000002, %%ax" : "+a"(r) :: "memory");
    if (r != 0xAAAAAAAAAAAA4253ull) return 6;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("addr32 movabs 0x80000004, %%eax" : "+a"(r) :: "memory");
    if (r != 0x64758697ull) return 7;
    r = 0;
    __asm__ volatile("addr32 movabs 0x80000008, %%rax" : "+a"(r) :: "memory");
    if (r != 0xa8b9cadbecfd0e1full) return 8;
    report(1);
    return 0;
}
