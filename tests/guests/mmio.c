/* MMIO to an emulated scratch device (test_proc_mmio.c backs it with 256
 * bytes that read back what was written) in every size and addressing form
 * the decoder supports, then one store to a directly mapped page.
 * Returns 0, or the number of the first failed check. */
#include "guest.h"

#define DIRECT_PAGE 0x20000000ull

/* test_mmio_reg38 = TEST_MMIO_BASE + 0x38, defined at link time (mk/vcpu.mk)
 * so the assembler emits a real RIP-relative displacement. */

int guest_main(struct proc_bootinfo *bi)
{
    (void)bi;
    uint8_t *base = (uint8_t *)TEST_MMIO_BASE;
    uint64_t r, idx = 3;

    /* stores: register sources, every addressing form */
    __asm__ volatile("movb %%al, (%0)" :: "D"(base), "a"(0x12) : "memory");
    __asm__ volatile("movw %%ax, 0x8(%0)" :: "D"(base), "a"(0x3456) : "memory");
    __asm__ volatile("movl %%eax, 0x12345(%0)" :: "D"(base + 0x10 - 0x12345), "a"(0x789abcde) : "memory");
    __asm__ volatile("movq %%rax, (%0,%1,8)" :: "D"(base), "c"(idx), "a"(0x1122334455667788ull) : "memory");
    __asm__ volatile("mov %0, %%r8\n mov %1, %%r9\n movq %%r9, 0x20(%%r8)"
                     :: "r"(base), "r"(0x0102030405060708ull) : "r8", "r9", "memory");
    /* immediate sources */
    __asm__ volatile("movb $0x5a, 0x28(%0)" :: "D"(base) : "memory");
    __asm__ volatile("movw $0x1234, 0x2a(%0)" :: "D"(base) : "memory");
    __asm__ volatile("movl $0xdeadbeef, 0x2c(%0)" :: "D"(base) : "memory");
    __asm__ volatile("movq $-2, 0x30(%0)" :: "D"(base) : "memory");
    __asm__ volatile("movb $0x80, 0x40(%0)" :: "D"(base) : "memory");
    __asm__ volatile("movw $0x8001, 0x42(%0)" :: "D"(base) : "memory");
    /* RIP-relative and absolute (SIB, no base) */
    __asm__ volatile("movl %%eax, test_mmio_reg38(%%rip)" :: "a"(0xcafef00d) : "memory");
    __asm__ volatile("movl %%ecx, 0x1000003c" :: "c"(0x0badf00d) : "memory");

    /* loads: 8/16-bit merge, 32-bit zero-extends, 64-bit */
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("movb (%1), %%al" : "+a"(r) : "D"(base) : "memory");
    if (r != 0xAAAAAAAAAAAAAA12ull) return 1;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("movw 0x8(%1), %%ax" : "+a"(r) : "D"(base) : "memory");
    if (r != 0xAAAAAAAAAAAA3456ull) return 2;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("movl 0x10(%1), %%eax" : "+a"(r) : "D"(base) : "memory");
    if (r != 0x789abcdeull) return 3;
    __asm__ volatile("movq (%1,%2,8), %0" : "=a"(r) : "D"(base), "c"(idx) : "memory");
    if (r != 0x1122334455667788ull) return 4;
    __asm__ volatile("mov %1, %%r8\n movq 0x20(%%r8), %%r10\n mov %%r10, %0"
                     : "=r"(r) : "r"(base) : "r8", "r10", "memory");
    if (r != 0x0102030405060708ull) return 5;
    r = 0xAAAAAAAAAAAAAAAAull;
    __asm__ volatile("movb 0x28(%1), %%ah" : "+a"(r) : "D"(base) : "memory");
    if (r != 0xAAAAAAAAAAAA5AAAull) return 6;
    __asm__ volatile("movzbl 0x28(%1), %%eax" : "=a"(r) : "D"(base) : "memory");
    if (r != 0x5a) return 7;
    __asm__ volatile("movzwl 0x2a(%1), %%eax" : "=a"(r) : "D"(base) : "memory");
    if (r != 0x1234) return 8;
    __asm__ volatile("movl 0x2c(%1), %%eax" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xdeadbeef) return 9;
    __asm__ volatile("movq 0x30(%1), %0" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xfffffffffffffffeull) return 10;
    __asm__ volatile("movsbq 0x40(%1), %0" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xffffffffffffff80ull) return 11;
    __asm__ volatile("movswq 0x42(%1), %0" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xffffffffffff8001ull) return 12;
    __asm__ volatile("movslq 0x2c(%1), %0" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xffffffffdeadbeefull) return 13;
    r = 0;
    __asm__ volatile("movl test_mmio_reg38(%%rip), %%edx" : "=d"(r) :: "memory");
    if (r != 0xcafef00d) return 14;
    __asm__ volatile("movl 0x1000003c, %%ecx" : "=c"(r) :: "memory");
    if (r != 0x0badf00d) return 15;
    __asm__ volatile("mov %1, %%r9\n movb 0x28(%%r9), %%r11b\n movzbl %%r11b, %%eax"
                     : "=a"(r) : "r"(base) : "r9", "r11", "memory");
    if (r != 0x5a) return 16;
    /* Nobody claims this range: reads all-ones. */
    __asm__ volatile("movl 0x10000(%1), %%eax" : "=a"(r) : "D"(base) : "memory");
    if (r != 0xffffffffull) return 17;

    /* Directly mapped page: a plain store, no exit. */
    *(volatile uint32_t *)DIRECT_PAGE = 0x600dcafe;
    report(1);
    return 0;
}
