/* Tries to leave the sandbox, as chosen by the command line
 * "<action>[:<path>]" (test_proc_sandbox.c checks each is stopped):
 *   syscall:P   mkdir(P) with the syscall instruction
 *   int80:P     mkdir(P) through the 32-bit int 0x80 gate
 *   sysenter:P  mkdir(P) through sysenter (32-bit ABI)
 *   exit        exit_group(7) from guest code (an allowed call, wrong caller)
 *   futex       FUTEX_WAKE on the mailbox word from guest code
 *   jump        jump to an address outside guest RAM
 *   mailbox     forge an exit in the shared mailbox, then spin */
#include "guest.h"
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

int guest_main(struct proc_bootinfo *bi)
{
    const char *cmd = (const char *)bi->cmdline_gpa;
    const char *path = arg(cmd);
    long ret;
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
