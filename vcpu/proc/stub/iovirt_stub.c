/* iovirt-stub: the first and only program of a guest process.
 *
 * Static, no libc, linked at PROC_STUB_TEXT_VA so it sits above every
 * guest-physical address.  It maps the plan it is handed on fd 3 (guest RAM
 * at VA == GPA, direct device pages, the mailbox), closes every descriptor,
 * installs its trap handlers and a seccomp allow-list, and traps itself; the
 * hypervisor's reply to that first exit enters the guest.  From then on it
 * runs only inside its signal handler: fault -> mailbox -> wait -> resume.
 * See vcpu/proc/proc_mailbox.h for the protocol.
 *
 * The guest can read every page of this process, so nothing of the host may
 * be left where it looks: the stack Linux started the stub on (argv, envp,
 * the auxiliary vector with the vDSO address, AT_RANDOM's bytes and the
 * stub's path) is left at once and unmapped, the plan (host-physical offsets
 * of guest RAM) is wiped after mapping, and the boot exit carries no
 * register of the set-up code (docs/security.md, "What the guest can read"). */
#include <stddef.h>
#include <stdint.h>

#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/auxvec.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>

#include "vcpu/proc/proc_mailbox.h"

/* Kernel ABI constants (no libc headers here). */
#define K_PROT_READ 1
#define K_PROT_WRITE 2
#define K_PROT_EXEC 4
#define K_MAP_SHARED 0x01
#define K_MAP_FIXED_NOREPLACE 0x100000
#define K_SA_SIGINFO 0x4
#define K_SA_ONSTACK 0x08000000
#define K_SA_RESTORER 0x04000000
#define K_SIG_SETMASK 2
#define K_PR_SET_NO_NEW_PRIVS 38
#define K_RLIMIT_CORE 4
#define K_SIGILL 4
#define K_SIGTRAP 5
#define K_SIGBUS 7
#define K_SIGFPE 8
#define K_SIGSEGV 11
#define K_ENOMEM 12
#define K_PAGE 4096ull
#define K_SIGINFO_SIZE 128 /* SI_MAX_SIZE */
#define ALTSTACK_SIZE 65536
/* The set-up code's own stack (stub_main and what it calls), in .bss. */
#define BOOT_STACK_SIZE 16384
#define BOOT_STACK_QWORDS 2048 /* for _start's wipe */
_Static_assert(BOOT_STACK_QWORDS * 8 == BOOT_STACK_SIZE, "boot stack size");
/* The Linux stack is 128 KiB plus the argument pages at exec; far more
 * means something is wrong. */
#define LINUX_STACK_MAX_PAGES 4096

#define STR_(x) #x
#define STR(x) STR_(x)

/* Exit codes for set-up failures (before the first trap). */
enum { E_PLAN = 101, E_MAP, E_MAILBOX, E_CLOSE, E_SIGNAL, E_SECCOMP, E_STACK };

struct k_sigaction {
    void (*handler)(int, void *, void *);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

struct k_stack {
    void *sp;
    int flags;
    size_t size;
};

struct k_ucontext {
    unsigned long uc_flags;
    struct k_ucontext *uc_link;
    struct k_stack uc_stack;
    struct sigcontext uc_mcontext;
    uint64_t uc_sigmask;
};

struct k_siginfo {
    int si_signo, si_errno, si_code, pad;
    uint64_t si_addr;
};

struct k_rlimit {
    uint64_t cur, max;
};

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

__attribute__((noreturn)) static void die(int code)
{
    for (;;)
        sys3(__NR_exit_group, code, 0, 0);
}

/* gcc may emit calls to these even in freestanding code. */
void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--)
        *dd++ = *ss++;
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dd = d;
    while (n--)
        *dd++ = (uint8_t)c;
    return d;
}

/* Stores the compiler may not drop although nothing reads them again. */
static void wipe(void *p, size_t len)
{
    volatile uint8_t *b = p;
    while (len--)
        *b++ = 0;
}

static uint8_t altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));
/* Used by name from _start, which wipes it before the boot exit. */
__attribute__((visibility("hidden"), used, aligned(16))) uint8_t iovirt_stub_boot_stack[BOOT_STACK_SIZE];
static struct proc_plan_map chunk[128];
/* Adaptive spin: halves on a miss, doubles on a hit, full budget every
 * 64th exit so a good phase is noticed again. */
static uint32_t spin_max, spin_cur, spin_probe;

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        long n = sys3(__NR_read, fd, b, len);
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int map_one(const struct proc_plan_map *m)
{
    const uint64_t page = 4096;
    if (!m->len || ((m->va | m->len | m->offset) & (page - 1)) || m->va >= PROC_GPA_LIMIT ||
        m->len > PROC_GPA_LIMIT - m->va || m->fd < PROC_PLAN_FIRST_FD ||
        m->fd >= PROC_PLAN_FIRST_FD + PROC_PLAN_MAX_FDS || (m->prot & ~7u) || m->offset >> 62)
        return -1;
    int prot = ((m->prot & PROC_MAP_R) ? K_PROT_READ : 0) |
               ((m->prot & PROC_MAP_W) ? K_PROT_WRITE : 0) |
               ((m->prot & PROC_MAP_X) ? K_PROT_EXEC : 0);
    long r = sys6(__NR_mmap, (long)m->va, (long)m->len, prot,
                  K_MAP_SHARED | K_MAP_FIXED_NOREPLACE, (long)m->fd, (long)m->offset);
    return r == (long)m->va ? 0 : -1;
}

__attribute__((visibility("hidden"))) void iovirt_stub_restorer(void);
__asm__(".text\n"
        ".globl iovirt_stub_restorer\n"
        "iovirt_stub_restorer:\n"
        "  mov $15, %eax\n" /* __NR_rt_sigreturn */
        "  syscall\n"
        "  hlt\n");

/* Linux keeps the CPU number in TSC_AUX (low 12 bits). */
static uint32_t my_cpu(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    return aux & 0xfff;
}

static void futex(volatile uint32_t *w, int op, uint32_t val)
{
    sys6(__NR_futex, (long)w, op, val, 0, 0, 0);
}

/* The exit path.  Register copy order is enum x86_gpr. */
static void on_trap(int sig, void *si_, void *uc_)
{
    struct proc_mailbox *mb = (struct proc_mailbox *)PROC_MAILBOX_VA;
    struct k_siginfo *si = si_;
    struct sigcontext *sc = &((struct k_ucontext *)uc_)->uc_mcontext;

    mb->signo = (uint32_t)sig;
    mb->si_code = si->si_code;
    /* si_addr only means something for a signal the kernel raised (si_code
     * > 0); in a sent one (the kick: SI_USER) the same bytes are the
     * sender's pid and uid. */
    mb->fault_addr = si->si_code > 0 ? si->si_addr : 0;
    mb->trapno = sc->trapno;
    mb->err = sc->err;
    uint64_t *r = mb->regs;
    r[0] = sc->rax; r[1] = sc->rcx; r[2] = sc->rdx; r[3] = sc->rbx;
    r[4] = sc->rsp; r[5] = sc->rbp; r[6] = sc->rsi; r[7] = sc->rdi;
    r[8] = sc->r8; r[9] = sc->r9; r[10] = sc->r10; r[11] = sc->r11;
    r[12] = sc->r12; r[13] = sc->r13; r[14] = sc->r14; r[15] = sc->r15;
    r[PROC_REG_RIP] = sc->rip;
    r[PROC_REG_RFLAGS] = sc->eflags;

    uint32_t cpu = my_cpu();
    mb->guest_cpu = cpu;
    uint32_t seen = __atomic_load_n(&mb->hv_seq, __ATOMIC_ACQUIRE);
    __atomic_store_n(&mb->guest_seq, mb->guest_seq + 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&mb->hv_sleeping, __ATOMIC_SEQ_CST))
        futex(&mb->guest_seq, FUTEX_WAKE, 1);

    /* Wait for the reply: spin briefly (the hypervisor usually answers in
     * a few microseconds), then sleep. */
    if ((++spin_probe & 63) == 0)
        spin_cur = spin_max;
    /* Spinning on the hypervisor's own CPU would only delay it. */
    uint32_t budget = mb->hv_cpu == cpu ? 0 : spin_cur;
    for (uint32_t i = 0; i < budget; i++) {
        if (__atomic_load_n(&mb->hv_seq, __ATOMIC_ACQUIRE) != seen) {
            spin_cur = spin_cur * 2 > spin_max ? spin_max : spin_cur * 2;
            goto reply;
        }
        __builtin_ia32_pause();
    }
    if (budget && spin_cur > spin_max / 64 + 1)
        spin_cur /= 2;
    for (;;) {
        __atomic_store_n(&mb->guest_sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&mb->hv_seq, __ATOMIC_SEQ_CST) != seen)
            break;
        futex(&mb->hv_seq, FUTEX_WAIT, seen);
    }
    __atomic_store_n(&mb->guest_sleeping, 0, __ATOMIC_RELAXED);
reply:
    r = mb->reply_regs;
    sc->rax = r[0]; sc->rcx = r[1]; sc->rdx = r[2]; sc->rbx = r[3];
    sc->rsp = r[4]; sc->rbp = r[5]; sc->rsi = r[6]; sc->rdi = r[7];
    sc->r8 = r[8]; sc->r9 = r[9]; sc->r10 = r[10]; sc->r11 = r[11];
    sc->r12 = r[12]; sc->r13 = r[13]; sc->r14 = r[14]; sc->r15 = r[15];
    sc->rip = r[PROC_REG_RIP];
    sc->eflags = r[PROC_REG_RFLAGS];
    /* The siginfo stays on the alternate stack, where the guest can read
     * it once it runs again: a kick's names the hypervisor (pid, uid).
     * rt_sigreturn reads only the ucontext. */
    wipe(si_, K_SIGINFO_SIZE);
}

/* ---- exitless interrupt delivery (docs/vcpu.md, "Exitless delivery") ----
 * The posted-interrupt signal: deliver the highest posted vector into the
 * guest's IDT handler here, exactly as the hypervisor's proc__deliver would
 * (vcpu/proc/proc_inject.c), or leave it to the hypervisor by posting an
 * exit.  What decides comes from the read-only posted page (the hypervisor
 * writes it while the guest is stopped); the IDT gate, the cpu page and the
 * stack are guest RAM, read once.  Every address touched is checked to lie
 * in a published RAM run; anything unusual is an exit, never a fault here. */
#define G_USER_CS 0x33          /* as proc_priv.h */
#define G_USER_SS 0x2b
#define G_RFLAGS_USER_MASK 0x40dd5ull
#define G_RFLAGS_FIXED 0x202ull

static int in_ram(const volatile struct proc_posted *pp, uint64_t gpa, uint64_t len)
{
    uint32_t n = pp->nram;
    if (n > PROC_POSTED_MAX_RAM)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lo = pp->ram[i].gpa, rl = pp->ram[i].len;
        if (gpa >= lo && gpa - lo < rl && len <= rl - (gpa - lo))
            return 1;
    }
    return 0;
}

/* Highest posted vector >= 32, or -1. */
static int pir_highest(const struct proc_mailbox *mb)
{
    for (int i = 3; i >= 0; i--) {
        uint64_t w = __atomic_load_n(&mb->pir[i], __ATOMIC_ACQUIRE);
        if (i == 0)
            w &= ~0xffffffffull;
        if (w)
            return i * 64 + 63 - __builtin_clzll(w);
    }
    return -1;
}

/* 1: handled here (delivered, or nothing was pending); 0: post an exit. */
static int deliver_posted(struct proc_mailbox *mb, struct sigcontext *sc)
{
    const volatile struct proc_posted *pp = (const volatile struct proc_posted *)PROC_POSTED_VA;
    /* Guest code only: not the stub's own instructions or the vDSO, and
     * the 64-bit code segment the frame names. */
    if (!pp->enabled || sc->rip >= PROC_GPA_LIMIT || sc->cs != G_USER_CS)
        return 0;
    uint64_t cp_gpa = pp->cpu_page_gpa;
    if (!in_ram(pp, cp_gpa, 8))
        return 0;
    volatile uint32_t *irq_masked = (volatile uint32_t *)cp_gpa; /* proc_cpu_page, first */
    /* Masked (cli, or irq_masked): the hypervisor sets irq_pending and
     * keeps checking, as before. */
    if (!pp->vif || *irq_masked)
        return 0;
    uint64_t idt_base = pp->idt_base, idt_limit = pp->idt_limit;
    if (!pp->idt_set)
        return pir_highest(mb) < 0;
    for (;;) {
        int vec = pir_highest(mb);
        if (vec < 0)
            return 1;  /* taken already (a notification for a delivered vector) */
        uint64_t off = (uint64_t)vec * 16;
        uint64_t gate_gpa = idt_base + off;
        if (off + 15 > idt_limit || gate_gpa < idt_base || !in_ram(pp, gate_gpa, 16))
            return 0;
        uint8_t gate[16];
        for (int i = 0; i < 16; i++)
            gate[i] = ((const volatile uint8_t *)gate_gpa)[i];
        uint8_t type = gate[5] & 0x0F;
        if (!(gate[5] & 0x80) || (type != 0x0E && type != 0x0F))
            return 0;
        uint64_t handler = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 |
                           (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
                           (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 |
                           (uint64_t)gate[10] << 48 | (uint64_t)gate[11] << 56;
        uint64_t rsp0 = sc->rsp;
        if (rsp0 < 64)
            return 0;
        uint64_t rsp = (rsp0 & ~15ull) - 40;
        if (!in_ram(pp, rsp, 40))
            return 0;
        uint64_t bit = 1ull << (vec % 64);
        if (!(__atomic_fetch_and(&mb->pir[vec / 64], ~bit, __ATOMIC_SEQ_CST) & bit))
            continue;  /* cannot happen while the guest is stopped; be exact anyway */
        uint64_t rflags = (sc->eflags & G_RFLAGS_USER_MASK) | G_RFLAGS_FIXED;
        volatile uint64_t *frame = (volatile uint64_t *)rsp;
        frame[0] = sc->rip;
        frame[1] = G_USER_CS;
        frame[2] = rflags;
        frame[3] = rsp0;
        frame[4] = G_USER_SS;
        *irq_masked = 1;
        sc->rsp = rsp;
        sc->rip = handler;
        sc->eflags = rflags;
        __atomic_store_n(&mb->pi_delivered, mb->pi_delivered + 1, __ATOMIC_RELAXED);
        return 1;
    }
}

static void on_posted(int sig, void *si_, void *uc_)
{
    struct proc_mailbox *mb = (struct proc_mailbox *)PROC_MAILBOX_VA;
    struct sigcontext *sc = &((struct k_ucontext *)uc_)->uc_mcontext;
    /* Before looking at pir: an injector that finds pi_on clear sends
     * another signal, so no bit set after this load goes unnoticed. */
    __atomic_store_n(&mb->pi_on, 0, __ATOMIC_SEQ_CST);
    if (!deliver_posted(mb, sc)) {
        on_trap(sig, si_, uc_);  /* wipes the siginfo */
        return;
    }
    /* The siginfo names the sender (the hypervisor's pid, uid). */
    wipe(si_, K_SIGINFO_SIZE);
}

/* Allow-list: only the trap path's own calls, only from the stub's code,
 * futex only on the two mailbox words; everything else kills the process. */
static int install_seccomp(void)
{
    const uint32_t mb_lo_guest = (uint32_t)(PROC_MAILBOX_VA + offsetof(struct proc_mailbox, guest_seq));
    const uint32_t mb_lo_hv = (uint32_t)(PROC_MAILBOX_VA + offsetof(struct proc_mailbox, hv_seq));
    enum { KILL = 19, ALLOW = 20 };
#define AT(i, k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t) - (i) - 1, (f) - (i) - 1)
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
    struct sock_filter f[] = {
        /* 0 */ LD(offsetof(struct seccomp_data, arch)),
        /* 1 */ AT(1, AUDIT_ARCH_X86_64, 2, KILL),
        /* 2 */ LD(offsetof(struct seccomp_data, instruction_pointer) + 4),
        /* 3 */ AT(3, (uint32_t)(PROC_STUB_TEXT_VA >> 32), 4, KILL),
        /* 4 */ LD(offsetof(struct seccomp_data, nr)),
        /* 5 */ AT(5, __NR_rt_sigreturn, ALLOW, 6),
        /* 6 */ AT(6, __NR_exit, ALLOW, 7),
        /* 7 */ AT(7, __NR_exit_group, ALLOW, 8),
        /* 8 */ AT(8, __NR_futex, 9, KILL),
        /* 9 */ LD(offsetof(struct seccomp_data, args[1]) + 4),
        /* 10 */ AT(10, 0, 11, KILL),
        /* 11 */ LD(offsetof(struct seccomp_data, args[1])),
        /* 12 */ AT(12, FUTEX_WAIT, 14, 13),
        /* 13 */ AT(13, FUTEX_WAKE, 14, KILL),
        /* 14 */ LD(offsetof(struct seccomp_data, args[0]) + 4),
        /* 15 */ AT(15, (uint32_t)(PROC_MAILBOX_VA >> 32), 16, KILL),
        /* 16 */ LD(offsetof(struct seccomp_data, args[0])),
        /* 17 */ AT(17, mb_lo_guest, ALLOW, 18),
        /* 18 */ AT(18, mb_lo_hv, ALLOW, KILL),
        /* 19 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* 20 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
#undef AT
#undef LD
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    if (sys3(__NR_prctl, K_PR_SET_NO_NEW_PRIVS, 1, 0) != 0)
        return -1;
    return sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}

/* The stack Linux started the stub on: argc, argv, envp and the auxiliary
 * vector below the strings they point to.  execve copies the file name
 * (AT_EXECFN) first, at the very top, so the mapping ends at the page above
 * that string's end; it reaches down to the first page mincore() says is not
 * mapped (the kernel keeps a guard gap below a stack).  The whole mapping
 * goes: nothing on it is needed once _start has left it. */
static int drop_linux_stack(const uint64_t *sp)
{
    uint64_t argc = sp[0];
    if (argc > 4096)
        return -1;
    const uint64_t *p = sp + 1 + argc + 1;  /* envp */
    for (unsigned n = 0; *p; p++)
        if (++n > 4096)
            return -1;
    p++;                                    /* auxv */
    const char *execfn = 0;
    for (unsigned n = 0; p[0] != AT_NULL; p += 2) {
        if (++n > 256)
            return -1;
        if (p[0] == AT_EXECFN)
            execfn = (const char *)p[1];
    }
    if (!execfn)
        return -1;
    const char *end = execfn;
    while (*end)
        end++;
    uint64_t top = ((uint64_t)end + 1 + K_PAGE - 1) & ~(K_PAGE - 1);
    uint64_t lo = top;
    for (unsigned n = 0;; n++) {
        unsigned char vec;
        if (n == LINUX_STACK_MAX_PAGES)
            return -1;
        long r = sys3(__NR_mincore, lo - K_PAGE, K_PAGE, &vec);
        if (r == -K_ENOMEM)
            break;
        if (r != 0)
            return -1;
        lo -= K_PAGE;
    }
    if (lo > (uint64_t)sp || (uint64_t)sp >= top)
        return -1;
    return sys3(__NR_munmap, lo, top - lo, 0) == 0 ? 0 : -1;
}

/* Runs on iovirt_stub_boot_stack; returns to _start for the boot exit. */
__attribute__((used)) void stub_main(const uint64_t *linux_sp)
{
    if (drop_linux_stack(linux_sp))
        die(E_STACK);
    struct proc_plan plan;
    if (read_full(PROC_PLAN_FD, &plan, sizeof plan) || plan.magic != PROC_PLAN_MAGIC ||
        plan.nmaps > PROC_PLAN_MAX_MAPS || plan.kick_signo < 1 || plan.kick_signo > 64 ||
        plan.mailbox_fd < PROC_PLAN_FIRST_FD ||
        plan.mailbox_fd >= PROC_PLAN_FIRST_FD + PROC_PLAN_MAX_FDS || plan.posted_signo > 64 ||
        plan.posted_signo == plan.kick_signo)
        die(E_PLAN);
    spin_max = spin_cur = plan.stub_spin;
    for (uint32_t done = 0; done < plan.nmaps;) {
        uint32_t n = plan.nmaps - done;
        if (n > sizeof(chunk) / sizeof(chunk[0]))
            n = sizeof(chunk) / sizeof(chunk[0]);
        if (read_full(PROC_PLAN_FD, chunk, n * sizeof(chunk[0])))
            die(E_PLAN);
        for (uint32_t i = 0; i < n; i++)
            if (map_one(&chunk[i]))
                die(E_MAP);
        done += n;
    }
    wipe(chunk, sizeof chunk);  /* host-physical offsets of guest RAM */
    if (sys6(__NR_mmap, (long)PROC_MAILBOX_VA, 4096, K_PROT_READ | K_PROT_WRITE,
             K_MAP_SHARED | K_MAP_FIXED_NOREPLACE, plan.mailbox_fd, 0) != (long)PROC_MAILBOX_VA)
        die(E_MAILBOX);
    /* The posted-interrupt state: read-only here, so the guest cannot
     * change what the stub checks its addresses against. */
    if (sys6(__NR_mmap, (long)PROC_POSTED_VA, 4096, K_PROT_READ,
             K_MAP_SHARED | K_MAP_FIXED_NOREPLACE, plan.mailbox_fd, 4096) != (long)PROC_POSTED_VA)
        die(E_MAILBOX);

    /* No descriptor survives into the guest. */
    if (sys3(__NR_close_range, 0, ~0u, 0) != 0) {
        for (int fd = 0; fd < 4096; fd++)
            sys3(__NR_close, fd, 0, 0);
    }

    struct k_rlimit nocore = {0, 0};
    sys6(__NR_prlimit64, 0, K_RLIMIT_CORE, (long)&nocore, 0, 0, 0);

    struct k_stack ss = {.sp = altstack, .flags = 0, .size = sizeof altstack};
    if (sys3(__NR_sigaltstack, &ss, 0, 0) != 0)
        die(E_SIGNAL);
    struct k_sigaction sa = {
        .handler = on_trap,
        .flags = K_SA_SIGINFO | K_SA_ONSTACK | K_SA_RESTORER,
        .restorer = iovirt_stub_restorer,
        .mask = ~0ull, /* nothing interrupts the handler */
    };
    const int sigs[] = {K_SIGSEGV, K_SIGBUS, K_SIGILL, K_SIGFPE, K_SIGTRAP, (int)plan.kick_signo};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sys6(__NR_rt_sigaction, sigs[i], (long)&sa, 0, 8, 0, 0) != 0)
            die(E_SIGNAL);
    if (plan.posted_signo) {
        sa.handler = on_posted;
        if (sys6(__NR_rt_sigaction, (int)plan.posted_signo, (long)&sa, 0, 8, 0, 0) != 0)
            die(E_SIGNAL);
    }
    uint64_t none = 0;
    if (sys6(__NR_rt_sigprocmask, K_SIG_SETMASK, (long)&none, 0, 8, 0, 0) != 0)
        die(E_SIGNAL);

    if (install_seccomp())
        die(E_SECCOMP);
}

/* Leave the Linux stack before anything lands on it (stub_main unmaps it),
 * run the set-up on the stub's own stack, then wipe that stack and every
 * register: the boot exit (hlt) posts nothing of the host, and the reply to
 * it enters the guest. */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  lea iovirt_stub_boot_stack+" STR(BOOT_STACK_SIZE) "(%rip), %rsp\n"
        "  xor %ebp, %ebp\n"
        "  call stub_main\n"
        "  lea iovirt_stub_boot_stack(%rip), %rdi\n"
        "  mov $" STR(BOOT_STACK_QWORDS) ", %ecx\n"
        "  xor %eax, %eax\n"
        "  cld\n"
        "  rep stosq\n"
        "  xor %ecx, %ecx\n"
        "  xor %edx, %edx\n"
        "  xor %ebx, %ebx\n"
        "  xor %esp, %esp\n"
        "  xor %ebp, %ebp\n"
        "  xor %esi, %esi\n"
        "  xor %edi, %edi\n"
        "  xor %r8d, %r8d\n"
        "  xor %r9d, %r9d\n"
        "  xor %r10d, %r10d\n"
        "  xor %r11d, %r11d\n"
        "  xor %r12d, %r12d\n"
        "  xor %r13d, %r13d\n"
        "  xor %r14d, %r14d\n"
        "  xor %r15d, %r15d\n"
        "1:\n"
        "  hlt\n" /* first exit: the reply carries the guest's boot registers */
        "  jmp 1b\n");
