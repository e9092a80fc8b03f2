/* What of the host a guest can read (test_proc_hostinfo.c checks the
 * answers), chosen by the command line:
 *   boot   report the mailbox's exit fields as they are at entry (where the
 *          stub's boot exit was posted): signo, si_code, fault_addr, trapno,
 *          err, regs[0..17], each as two reports (low, high half)
 *   peek   read the qword at the address the test passes (two params, low
 *          then high half) and report it (low, high): a host address must
 *          fault instead
 *   kick   take the hypervisor's pid (a param), report 1, spin until the
 *          test's kick has gone through the stub (guest_seq moves), then
 *          report the mailbox's fault_addr (low, high) and how many copies
 *          of the kick's siginfo {SIGUSR1, errno 0, SI_USER, pad, pid} the
 *          stub's writable memory and the mailbox hold
 *   vsyscall  call the legacy vsyscall time() at 0xffffffffff600400 (it
 *          would return the host's clock) and report the result (low,
 *          high): the call must be stopped instead
 * Returns 0; 2 for an unknown command; 3 if no kick came.
 * No rdtsc and small loop counters: the host test scans the stub's memory
 * (which holds the guest's registers) for host-looking values. */
#include "guest.h"
#include "vcpu/proc/proc_mailbox.h"

#define KICK_SIGNO 10 /* SIGUSR1, proc_backend.c's kick */
#define SPIN_MAX (1u << 26)

static int prefix(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

static void report64(uint64_t v)
{
    report((uint32_t)v);
    report((uint32_t)(v >> 32));
}

static uint64_t param64(void)
{
    uint64_t lo = inl(TEST_PORT_PARAM);
    uint64_t hi = inl(TEST_PORT_PARAM);
    return hi << 32 | lo;
}

/* The stub's writable segment, from its own ELF header (mapped at
 * PROC_STUB_TEXT_VA with the rest of its image). */
struct elf_hdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static unsigned count_siginfo(const volatile uint32_t *w, uint64_t len, uint32_t pid)
{
    unsigned n = 0;
    for (uint64_t i = 0; i + 5 <= len / 4; i += 2)  /* siginfo is 8-byte aligned */
        if (w[i] == KICK_SIGNO && w[i + 1] == 0 && w[i + 2] == 0 /* SI_USER */ && w[i + 4] == pid)
            n++;
    return n;
}

static int kick(void)
{
    uint32_t pid = inl(TEST_PORT_PARAM);
    volatile struct proc_mailbox *mb = (volatile struct proc_mailbox *)PROC_MAILBOX_VA;
    report(1);
    uint32_t seq = mb->guest_seq;
    uint32_t i = 0;
    while (mb->guest_seq == seq && i < SPIN_MAX) {
        cpu_relax();
        i++;
    }
    if (mb->guest_seq == seq)
        return 3;
    uint64_t fault_addr = mb->fault_addr;  /* left by the kick's exit */
    const struct elf_hdr *eh = (const struct elf_hdr *)PROC_STUB_TEXT_VA;
    const struct elf_phdr *ph = (const struct elf_phdr *)(PROC_STUB_TEXT_VA + eh->phoff);
    unsigned copies = count_siginfo((const volatile uint32_t *)PROC_MAILBOX_VA, 4096, pid);
    for (unsigned k = 0; k < eh->phnum; k++)
        if (ph[k].type == 1 /* PT_LOAD */ && (ph[k].flags & 2 /* PF_W */)) {
            uint64_t lo = ph[k].vaddr & ~0xfffull;
            uint64_t hi = (ph[k].vaddr + ph[k].memsz + 0xfff) & ~0xfffull;
            copies += count_siginfo((const volatile uint32_t *)lo, hi - lo, pid);
        }
    report64(fault_addr);
    report(copies);
    return 0;
}

int guest_main(struct proc_bootinfo *bi)
{
    const char *cmd = (const char *)bi->cmdline_gpa;
    if (prefix(cmd, "boot")) {
        /* Copy first: the reports below post exits of their own. */
        const volatile struct proc_mailbox *mb = (const volatile struct proc_mailbox *)PROC_MAILBOX_VA;
        uint64_t f[5 + PROC_NREGS];
        f[0] = mb->signo;
        f[1] = (uint32_t)mb->si_code;
        f[2] = mb->fault_addr;
        f[3] = mb->trapno;
        f[4] = mb->err;
        for (unsigned i = 0; i < PROC_NREGS; i++)
            f[5 + i] = mb->regs[i];
        for (unsigned i = 0; i < 5 + PROC_NREGS; i++)
            report64(f[i]);
        return 0;
    }
    if (prefix(cmd, "peek")) {
        uint64_t addr = param64();
        report64(*(volatile uint64_t *)addr);
        return 0;
    }
    if (prefix(cmd, "kick"))
        return kick();
    if (prefix(cmd, "vsyscall")) {
        uint64_t t;
        __asm__ volatile("call *%1" : "=a"(t) : "r"(0xffffffffff600400ull), "D"(0ull)
                         : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory");
        report64(t);
        return 0;
    }
    return 2;
}
