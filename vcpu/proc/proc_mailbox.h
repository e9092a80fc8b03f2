/* Private protocol between the process backend (hypervisor side,
 * proc_backend.c) and the stub that runs inside the guest process
 * (stub/iovirt_stub.c).  Freestanding: stdint only.
 *
 * Start-up: the hypervisor forks, arranges the child's descriptors as
 *   fd 3   the mapping plan (a memfd: struct proc_plan + entries)
 *   fd 4.. the files the plan maps (physmem memfd, device fds, mailbox)
 * and execs the stub.  The stub leaves and unmaps the stack Linux started
 * it on, maps every entry with MAP_FIXED_NOREPLACE (so nothing can land on
 * the stub itself), wipes its copy of the plan, closes every descriptor,
 * installs its signal handlers and the seccomp filter, clears its registers
 * and then traps itself (hlt) so that the first exit carries no guest state
 * and nothing of the host; the hypervisor clears the exit fields and its
 * reply to that exit enters the guest.
 *
 * Exits: every fault in the guest raises a signal; the stub handler copies
 * the signal frame's registers into the mailbox, bumps guest_seq, wakes the
 * hypervisor if it sleeps, and waits for hv_seq to move; it then loads the
 * reply registers into the frame and returns (rt_sigreturn resumes the
 * guest).  The mailbox is writable by the guest: the hypervisor copies it
 * once and validates everything. */
#ifndef IOVIRT_VCPU_PROC_MAILBOX_H
#define IOVIRT_VCPU_PROC_MAILBOX_H

#include <stdint.h>

/* The stub's own image (with its stacks, in .bss) and the mailbox live above
 * every guest-physical address (VCPU_GPA_LIMIT = 1 << 46). */
#define PROC_STUB_TEXT_VA   0x7e0000000000ull
#define PROC_MAILBOX_VA     0x7e8000000000ull
/* The posted-interrupt state the hypervisor publishes (struct proc_posted):
 * the mailbox file's second page, mapped read-only just below the mailbox
 * (the guest cannot mprotect: seccomp). */
#define PROC_POSTED_VA      (PROC_MAILBOX_VA - 4096)
#define PROC_MAILBOX_FILE_SIZE 8192
#define PROC_GPA_LIMIT      (1ull << 46)

#define PROC_PLAN_MAGIC     0x4e414c5042545356ull /* "VSTBPLAN" */
#define PROC_PLAN_FD        3
#define PROC_PLAN_FIRST_FD  4
#define PROC_PLAN_MAX_FDS   16
#define PROC_PLAN_MAX_MAPS  65536

#define PROC_MAP_R 1u
#define PROC_MAP_W 2u
#define PROC_MAP_X 4u

struct proc_plan_map {
    uint64_t va, len, offset;
    uint32_t fd;        /* PROC_PLAN_FIRST_FD .. + PROC_PLAN_MAX_FDS-1 */
    uint32_t prot;      /* PROC_MAP_* */
};

struct proc_plan {
    uint64_t magic;
    uint32_t nmaps;
    uint32_t mailbox_fd; /* mapped at PROC_MAILBOX_VA, one page */
    uint32_t kick_signo; /* signal the hypervisor sends to stop the guest */
    uint32_t stub_spin;  /* iterations the stub spins before sleeping */
    uint32_t posted_signo; /* posted-interrupt notification signal; 0 = none
                              (every notification is an exit) */
    uint32_t pad;
    /* followed by nmaps struct proc_plan_map */
};

/* Guest register order: enum x86_gpr, then rip, rflags. */
#define PROC_NREGS 18
#define PROC_REG_RIP 16
#define PROC_REG_RFLAGS 17

struct proc_mailbox {
    /* futex words (shared futexes, 4-byte aligned) */
    volatile uint32_t guest_seq;   /* stub: bumped when an exit is posted */
    volatile uint32_t hv_seq;      /* hypervisor: bumped when a reply is posted */
    volatile uint32_t hv_sleeping; /* hypervisor is in (or entering) FUTEX_WAIT */
    volatile uint32_t guest_sleeping;
    /* CPU each side last ran on: spinning only pays when they differ */
    volatile uint32_t guest_cpu;   /* stub, from rdtscp's TSC_AUX */
    volatile uint32_t hv_cpu;      /* hypervisor, before each reply */
    /* exit, written by the stub */
    uint32_t signo;
    int32_t si_code;
    uint64_t fault_addr;
    uint64_t trapno;
    uint64_t err;
    uint64_t regs[PROC_NREGS];
    /* reply, written by the hypervisor */
    uint64_t reply_regs[PROC_NREGS];
    /* Posted interrupts (docs/vcpu.md, "Exitless delivery").  pir is the
     * vCPU's interrupt request register itself (struct vcpu.irr points
     * here): injectors set bits, the hypervisor (guest stopped) and the stub
     * (in its notification handler) take them, all with atomic
     * read-modify-writes, so a vector is delivered once.  The guest can
     * write all of it: it can only forge or drop its own interrupts. */
    uint64_t pir[4];
    uint32_t pi_on;        /* outstanding notification: set by the injector
                              that sends the signal, cleared by the stub's
                              handler before it looks at pir */
    uint32_t pi_delivered; /* stub: interrupts it delivered itself (count) */
};

/* Written by the hypervisor only while the guest is stopped (before each
 * reply); read-only in the guest process.  Only guest-side state: what the
 * stub needs to decide and to deliver exactly as proc__deliver does. */
#define PROC_POSTED_MAX_RAM 32
struct proc_posted {
    uint32_t enabled;       /* the stub may deliver (exitless mode, no
                               interrupt-window request, a cpu page) */
    uint32_t vif;           /* virtual IF */
    uint32_t idt_set;
    uint32_t idt_limit;
    uint64_t idt_base;
    uint64_t cpu_page_gpa;
    uint32_t nram;          /* guest RAM as runs of adjacent regions (the */
    uint32_t pad;           /* first PROC_POSTED_MAX_RAM; the rest: exits) */
    struct {
        uint64_t gpa, len;
    } ram[PROC_POSTED_MAX_RAM];
};

_Static_assert(sizeof(struct proc_mailbox) <= 4096, "mailbox: one page");
_Static_assert(sizeof(struct proc_posted) <= 4096, "posted state: one page");

#endif
