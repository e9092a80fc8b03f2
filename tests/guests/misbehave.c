/* Misbehaviour the hypervisor must survive, chosen by the command line:
 *   spin       spin forever (the host kicks or kills it)
 *   blocksig   forge a signal frame that blocks every signal and "return"
 *              through the stub's own rt_sigreturn, then spin: kicks can
 *              no longer stop it
 *   badframe   rt_sigreturn through the stub with a garbage frame
 *   nostack    take an interrupt with RSP outside RAM (reports 1 first)
 *   noidt      take an interrupt without having loaded an IDT (reports 1)
 *   ud2        an invalid opcode
 *   stubwrite  scribble over the stub's data (its own sandbox only) */
#include "guest.h"

#define STUB_TEXT 0x7e0000001000ull

static int prefix(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

/* The stub's restorer: mov $15, %eax; syscall. */
static uint64_t find_restorer(void)
{
    const uint8_t pat[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    const uint8_t *p = (const uint8_t *)STUB_TEXT;
    for (unsigned i = 0; i < 0x1000 - sizeof pat; i++) {
        unsigned k = 0;
        while (k < sizeof pat && p[i + k] == pat[k])
            k++;
        if (k == sizeof pat)
            return STUB_TEXT + i;
    }
    return 0;
}

static volatile uint32_t ticks;
__attribute__((used)) void on_irq(void)
{
    ticks++;
    irq_done();
}
GUEST_IRQ_ENTRY(irq_entry, on_irq);

/* struct ucontext of the x86-64 kernel ABI, flattened. */
struct frame {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    uint32_t ss_flags, pad;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
        eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
    uint64_t sigmask;
};

static void spin_forever(void)
{
    for (;;)
        cpu_relax();
}

static uint8_t alt_stack[4096] __attribute__((aligned(16)));

int guest_main(struct proc_bootinfo *bi)
{
    const char *cmd = (const char *)bi->cmdline_gpa;
    if (prefix(cmd, "spin"))
        spin_forever();
    if (prefix(cmd, "blocksig") || prefix(cmd, "badframe")) {
        uint64_t restorer = find_restorer();
        if (!restorer)
            return 2;
        static struct frame f __attribute__((aligned(16)));
        if (prefix(cmd, "blocksig")) {
            f.ss_flags = 2; /* SS_DISABLE */
            f.rip = (uint64_t)spin_forever;
            f.rsp = (uint64_t)(alt_stack + sizeof alt_stack - 8);
            f.cs = 0x33;
            f.ss = 0x2b;
            f.eflags = 0x202;
            f.sigmask = ~0ull;
        } else {
            for (unsigned i = 0; i < sizeof f / 8; i++)
                ((volatile uint64_t *)&f)[i] = 0xdeadbeefdeadbeefull;
        }
        report(1);
        __asm__ volatile("mov %0, %%rsp\n jmp *%1" :: "r"(&f), "r"(restorer) : "memory");
    }
    if (prefix(cmd, "nostack") || prefix(cmd, "noidt")) {
        if (prefix(cmd, "nostack")) {
            idt_set(0x20, irq_entry);
            idt_load(bi);
        }
        sti();
        /* Report (the host injects at that exit), then spin; the out needs
         * no stack, the exit's signal frame goes on the stub's own. */
        if (prefix(cmd, "nostack"))
            __asm__ volatile("mov $0x30000000, %%rsp\n"
                             " mov $1, %%eax\n mov $0x510, %%dx\n outl %%eax, %%dx\n"
                             "1: pause\n jmp 1b" ::: "memory");
        report(1);
        spin_forever();
    }
    if (prefix(cmd, "ud2"))
        __asm__ volatile("ud2");
    if (prefix(cmd, "stubwrite")) {
        volatile uint64_t *p = (volatile uint64_t *)0x7e0000003000ull;
        for (unsigned i = 0; i < 0x11000 / 8; i++)
            p[i] = 0x4141414141414141ull;
        __asm__ volatile("hlt");  /* exits through the now-scribbled stub */
        return 0;
    }
    return 3;
}
