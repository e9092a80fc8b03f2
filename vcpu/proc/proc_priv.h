/* Process backend internals shared by its files (see proc_backend.c):
 *   proc_start.c      the guest process: stub, mapping plan, start, end
 *   proc_transport.c  the mailbox hand-off: waiting (spin, futex), replies,
 *                     kicks, liveness
 *   proc_inject.c     interrupt delivery into the guest (IDT, masking)
 *   proc_emulate.c    what a trap means: #GP (in/out, hlt, cli, sti, lidt),
 *                     #PF (MMIO), completion of a pending access
 *   proc_backend.c    the run loop and the ops table
 * Not for use outside vcpu/proc/. */
#ifndef IOVIRT_VCPU_PROC_PROC_PRIV_H
#define IOVIRT_VCPU_PROC_PROC_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/proc/proc_insn.h"
#include "vcpu/proc/proc_mailbox.h"
#include "vcpu/x86_decode.h"
#include "vcpu/proc/proc_vcpu.h"

#define KICK_SIGNO SIGUSR1
#define POSTED_SIGNO SIGUSR2  /* posted-interrupt notification (exitless) */
#define BOOT_TIMEOUT_NS 5000000000ll
#define KICK_GRACE_NS   2000000000ll
#define SLEEP_SLICE_NS  5000000ll
#define POLL_SLICE_NS   1000000ll  /* re-check a masked guest with a pending irq */
#define USER_CS 0x33  /* Linux x86-64 __USER_CS / __USER_DS: the guest's selectors */
#define USER_SS 0x2b
#define RFLAGS_USER_MASK 0x40dd5ull /* CF PF AF ZF SF DF OF AC */
#define RFLAGS_FIXED     0x202ull   /* bit 1, IF */

struct proc_vm {
    char stub[PATH_MAX];
    struct proc_tuning tuning;
};

enum pending_kind { PEND_NONE, PEND_MMIO, PEND_PIO_IN, PEND_ADVANCE };

struct proc_vcpu {
    pid_t pid;
    int pidfd;
    int mbfd;
    struct proc_mailbox *mb;     /* hypervisor's view of the shared page */
    struct proc_posted *posted;  /* what the stub may read to deliver (RO there) */
    bool exitless;               /* posted interrupts delivered by the stub */
    uint32_t pi_seen;            /* mb->pi_delivered at the last exit */
    uint64_t pi_total;
    bool dead;
    struct vcpu_exit dead_exit;
    uint32_t guest_seq;          /* last guest_seq seen */
    uint32_t guest_cpu;          /* CPU of the last exit (a hint, guest-written) */
    struct vcpu_regs regs;       /* guest state while stopped */
    bool vif;                    /* virtual RFLAGS.IF */
    bool idt_set;
    uint64_t idt_base;
    uint16_t idt_limit;
    enum pending_kind pend;
    struct x86_mmio_insn mmio;
    uint8_t pend_len, pio_size;
    _Atomic bool running;        /* guest may be executing: kicks must signal */
    _Atomic int64_t kick_sent_ns;
    uint64_t hv_spin_ns;         /* maximum */
    int64_t spin_cur_ns;         /* adaptive: halves on a miss, doubles on a hit */
    uint32_t spin_probe;
    int64_t ewma_run_ns;
    uint64_t spin_ns;            /* wall time spent spinning in proc__wait_exit */
};

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static inline struct proc_vcpu *PV(struct vcpu *v)
{
    return v->backend;
}

/* Snapshot of one exit, copied once out of the shared page. */
struct exit_snap {
    uint32_t signo;
    int32_t si_code;
    uint64_t fault_addr, trapno, err;
    uint64_t regs[PROC_NREGS];
};

enum step { STEP_RETURN, STEP_RESUME };

/* proc_start.c */
int proc__vm_init(struct vm *vm);
void proc__vm_destroy(struct vm *vm);
int proc__create(struct vcpu *v);
void proc__destroy(struct vcpu *v);

/* proc_transport.c */
void proc__kill_guest(struct proc_vcpu *pv);
int proc__wait_exit(struct proc_vcpu *pv, int64_t deadline_ns, bool poll);
void proc__resume(struct proc_vcpu *pv);
void proc__snapshot(struct proc_vcpu *pv, struct exit_snap *s);
void proc__clear_exit(struct proc_mailbox *mb);
void proc__kick(struct vcpu *v);
void proc__notify_irq(struct vcpu *v);
void proc__publish(struct vcpu *v);
void proc__posted_account(struct vcpu *v);
int64_t proc__cpu_time_ns(struct vcpu *v);

/* proc_inject.c */
volatile struct proc_cpu_page *proc__cpu_page(struct vcpu *v);
bool proc__guest_interruptible(struct vcpu *v);
bool proc__deliver(struct vcpu *v, int vector);

/* proc_emulate.c */
void proc__set_fault(struct vcpu *v, uint8_t vector, uint64_t err, uint64_t addr, const char *why);
enum step proc__classify(struct vcpu *v, const struct exit_snap *s);
void proc__complete_pending(struct vcpu *v);

#endif
