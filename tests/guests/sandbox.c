/* Tries to leave the sandbox, as chosen by the command line
 * "<action>[:<path>]" (test_proc_sandbox.c checks each is stopped):
 *   syscall:P          mkdir(P) with the syscall instruction
 *   int80:P            mkdir(P) through the 32-bit int 0x80 gate
 *   sysenter:P         mkdir(P) through sysenter (32-bit ABI)
 *   compat_int80:P     iretq to the 32-bit code segment (CS 0x23), then
 *   compat_syscall:P   mkdir(P) by int 0x80 / syscall / sysenter in
 *   compat_sysenter:P  compatibility mode (guest/prog/compat32.h)
 *   sigreturn:P        a forged rt_sigreturn through the stub's own
 *                      restorer into compatibility mode, then int 0x80
 *   compat_probe       no call: iretq / forged rt_sigreturn into
 *   sigreturn_probe    compatibility mode, report CS there (0x23), return
 *   exit               exit_group(7) from guest code (an allowed call, wrong caller)
 *   futex              FUTEX_WAKE on the mailbox word from guest code
 *   int81, badcs       #GP on `int 0x81` (no gate) / on iretq to CS 0x13:
 *                      how a host without 32-bit entry refuses int 0x80
 *                      and CS 0x23, to check the report names them
 *   noop:P             a control: reports SANDBOX_ARMED, makes no call and
 *                      carries on as if one had come back
 *   spin               a control: reports SANDBOX_ARMED, then spins
 *   jump               jump to an address outside guest RAM
 *   mailbox            forge an exit in the shared mailbox, then spin
 * Each attempt first reports SANDBOX_ARMED (sandbox.h); whatever comes back
 * is reported afterwards, and reaching that means the sandbox did not hold. */
#include <stdbool.h>

#include "guest.h"
#include "guest/prog/compat32.h"
#include "tests/guests/sandbox.h"
#include "vcpu/proc/proc_mailbox.h"

#define MAILBOX_VA PROC_MAILBOX_VA

static int prefix(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

static const char *arg(const char *s)
{
    while (*s && *s != ':')
        s++;
    return *s ? s + 1 : s;
}

static struct compat32_sigframe frame;
static uint8_t compat_stack[4096] __attribute__((aligned(16)));

int guest_main(struct proc_bootinfo *bi)
{
    const char *cmd = (const char *)bi->cmdline_gpa;
    const char *path = arg(cmd);
    uint32_t p32 = (uint32_t)(uintptr_t)path;
    long ret;
    if (prefix(cmd, "sigreturn")) {
        bool probe = prefix(cmd, "sigreturn_probe");
        uint64_t restorer = compat32__find_restorer();
        if (!restorer) {
            report(SANDBOX_NO_GADGET);
            return 4;
        }
        compat32__forge(&frame, probe ? compat32_cs : compat32_int80, COMPAT32_NR_MKDIR, p32, 0755,
                        (uint64_t)(uintptr_t)(compat_stack + sizeof compat_stack));
        report(SANDBOX_ARMED);
        ret = compat32__sigreturn(&frame, restorer);
        report((uint32_t)ret);
        return probe ? 0 : 1;
    }
    if (prefix(cmd, "compat_")) {
        void (*entry)(void) = prefix(cmd, "compat_int80")     ? compat32_int80
                              : prefix(cmd, "compat_syscall")  ? compat32_syscall
                              : prefix(cmd, "compat_sysenter") ? compat32_sysenter
                              : prefix(cmd, "compat_probe")    ? compat32_cs
                                                               : 0;
        if (!entry)
            return 2;
        report(SANDBOX_ARMED);
        ret = compat32__iret(entry, COMPAT32_NR_MKDIR, p32, 0755);
        report((uint32_t)ret);
        return entry == compat32_cs ? 0 : 1;
    }
    if (prefix(cmd, "int81")) {   /* no user gate here: #GP, as int 0x80 where a host has no 32-bit entry */
        report(SANDBOX_ARMED);
        __asm__ volatile("int $0x81" ::: "memory");
        report(0);
        return 1;
    }
    if (prefix(cmd, "badcs")) {   /* iretq to the kernel's code segment: #GP, as a refused CS 0x23 */
        report(SANDBOX_ARMED);
        __asm__ volatile("mov %%rsp, %%rax\n"
                         "pushq $0x2b\n pushq %%rax\n pushfq\n pushq $0x13\n"
                         "lea 1f(%%rip), %%rax\n pushq %%rax\n"
                         "iretq\n"
                         "1:\n"
                         ::: "rax", "memory");
        report(0);
        return 1;
    }
    if (prefix(cmd, "spin")) {   /* a control: a guest that never stops */
        report(SANDBOX_ARMED);
        for (;;)
            cpu_relax();
    }
    if (prefix(cmd, "noop")) {
        report(SANDBOX_ARMED);
        report(0);   /* as a call that came back with 0 would */
        return 1;
    }
    report(SANDBOX_ARMED);
    if (prefix(cmd, "syscall")) {
        __asm__ volatile("syscall" : "=a"(ret) : "a"(83L), "D"(path), "S"(0755L)
                         : "rcx", "r11", "memory");
    } else if (prefix(cmd, "int80")) {
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(39L), "b"(path), "c"(0755L) : "memory");
    } else if (prefix(cmd, "sysenter")) {
        __asm__ volatile("mov %%rsp, %%rbp\n sysenter" : "=a"(ret) : "a"(39L), "b"(path), "c"(0755L)
                         : "rbp", "memory");
    } else if (prefix(cmd, "exit")) {
        __asm__ volatile("syscall" : "=a"(ret) : "a"(231L), "D"(7L) : "rcx", "r11", "memory");
    } else if (prefix(cmd, "futex")) {
        __asm__ volatile("syscall" : "=a"(ret) : "a"(202L), "D"(MAILBOX_VA), "S"(1L), "d"(1L)
                         : "rcx", "r11", "memory");
    } else if (prefix(cmd, "jump")) {
        ((void (*)(void))0x40000000ull)();
        return 3;
    } else if (prefix(cmd, "mailbox")) {
        struct proc_mailbox *mb = (struct proc_mailbox *)MAILBOX_VA;
        *(volatile uint32_t *)&mb->signo = 0xdeadbeef;
        mb->guest_seq = mb->guest_seq + 1;   /* "an exit is posted" */
        for (;;)
            cpu_relax();
    } else {
        return 2;
    }
    report((uint32_t)ret);  /* reached only if the call came back */
    return 1;
}
