/* Process backend: the mailbox hand-off between the hypervisor and the
 * stub (vcpu/proc/proc_mailbox.h): waiting for an exit (adaptive spin, then
 * futex), posting a reply, kicks, and noticing a guest that died. */
#include "vcpu/proc/proc_priv.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void mark_dead(struct proc_vcpu *pv, int status)
{
    pv->dead = true;
    atomic_store(&pv->running, false);
    struct vcpu_exit *e = &pv->dead_exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_SHUTDOWN;
    if (WIFSIGNALED(status)) {
        e->shutdown.cause = VCPU_SHUTDOWN_SIGNALED;
        e->shutdown.status = WTERMSIG(status);
    } else {
        e->shutdown.cause = VCPU_SHUTDOWN_EXITED;
        e->shutdown.status = WEXITSTATUS(status);
    }
}

/* Reap if dead.  True when the process is gone. */
static bool check_dead(struct proc_vcpu *pv)
{
    if (pv->dead)
        return true;
    int status = 0;
    pid_t r = waitpid(pv->pid, &status, WNOHANG);
    if (r == pv->pid) {
        mark_dead(pv, status);
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        /* Reaped by someone else (a waitpid(-1) elsewhere): gone all the same. */
        mark_dead(pv, SIGKILL);
        return true;
    }
    return false;
}

void proc__kill_guest(struct proc_vcpu *pv)
{
    if (pv->dead)
        return;
    syscall(SYS_pidfd_send_signal, pv->pidfd, SIGKILL, NULL, 0);
    int status = SIGKILL;  /* as reported if someone else reaped it */
    while (waitpid(pv->pid, &status, 0) < 0 && errno == EINTR)
        ;
    mark_dead(pv, status);
}

static long futex_op(volatile uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

/* Wait until the stub posts an exit.  0, or -1 if the guest died (or was
 * killed for not answering a kick). */
int proc__wait_exit(struct proc_vcpu *pv, int64_t deadline_ns, bool poll)
{
    struct proc_mailbox *mb = pv->mb;
    uint32_t seen = pv->guest_seq;
    int64_t spin = pv->spin_cur_ns;
    if ((++pv->spin_probe & 63) == 0)
        spin = pv->spin_cur_ns = (int64_t)pv->hv_spin_ns;  /* probe: a good phase comes back */
    /* Adaptive: spin only while recent spins paid off and the guest's
     * recent runs were short enough to end within the spin, and never on
     * the CPU the guest last ran on (it would only delay the guest). */
    if (pv->ewma_run_ns > spin || (int)pv->guest_cpu == sched_getcpu())
        spin = 0;
    if (spin > 0) {
        int64_t s0 = now_ns(), until = s0 + spin;
        for (unsigned i = 0;; i++) {
            if (__atomic_load_n(&mb->guest_seq, __ATOMIC_ACQUIRE) != seen) {
                pv->spin_cur_ns = pv->spin_cur_ns * 2 > (int64_t)pv->hv_spin_ns
                                      ? (int64_t)pv->hv_spin_ns : pv->spin_cur_ns * 2;
                pv->spin_ns += (uint64_t)(now_ns() - s0);
                return 0;
            }
            __builtin_ia32_pause();
            if ((i & 15) == 15 && now_ns() > until)
                break;
        }
        pv->spin_ns += (uint64_t)(now_ns() - s0);
        if (pv->spin_cur_ns > (int64_t)pv->hv_spin_ns / 64 + 1)
            pv->spin_cur_ns /= 2;
    } else if (pv->hv_spin_ns && pv->ewma_run_ns <= (int64_t)pv->hv_spin_ns &&
               pv->spin_cur_ns < (int64_t)pv->hv_spin_ns) {
        pv->spin_cur_ns *= 2;  /* runs got short again: let spinning back in */
    }
    for (;;) {
        __atomic_store_n(&mb->hv_sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&mb->guest_seq, __ATOMIC_SEQ_CST) != seen)
            break;
        struct timespec ts = {0, poll ? POLL_SLICE_NS : SLEEP_SLICE_NS};
        futex_op(&mb->guest_seq, FUTEX_WAIT, seen, &ts);
        if (__atomic_load_n(&mb->guest_seq, __ATOMIC_SEQ_CST) != seen)
            break;
        if (check_dead(pv))
            return -1;
        /* A guest that unmasked without trapping (against the ABI) still
         * gets its interrupt, a millisecond late. */
        if (poll)
            syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
        int64_t now = now_ns();
        int64_t kicked = atomic_load(&pv->kick_sent_ns);
        if ((kicked && now - kicked > KICK_GRACE_NS) || (deadline_ns && now > deadline_ns)) {
            log__err("vcpu", "guest process %d does not answer; killing it", (int)pv->pid);
            proc__kill_guest(pv);
            pv->dead_exit.shutdown.cause = VCPU_SHUTDOWN_UNRESPONSIVE;
            return -1;
        }
    }
    __atomic_store_n(&mb->hv_sleeping, 0, __ATOMIC_RELAXED);
    return 0;
}

void proc__resume(struct proc_vcpu *pv)
{
    struct proc_mailbox *mb = pv->mb;
    memcpy(mb->reply_regs, pv->regs.gpr, sizeof pv->regs.gpr);
    mb->reply_regs[PROC_REG_RIP] = pv->regs.rip;
    mb->reply_regs[PROC_REG_RFLAGS] = pv->regs.rflags;
    mb->hv_cpu = (uint32_t)sched_getcpu();
    __atomic_store_n(&mb->hv_seq, mb->hv_seq + 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&mb->guest_sleeping, __ATOMIC_SEQ_CST))
        futex_op(&mb->hv_seq, FUTEX_WAKE, 1, NULL);
}

void proc__snapshot(struct proc_vcpu *pv, struct exit_snap *s)
{
    const struct proc_mailbox *mb = pv->mb;
    pv->guest_seq = __atomic_load_n(&mb->guest_seq, __ATOMIC_ACQUIRE);
    pv->guest_cpu = mb->guest_cpu;
    s->signo = mb->signo;
    s->si_code = mb->si_code;
    s->fault_addr = mb->fault_addr;
    s->trapno = mb->trapno;
    s->err = mb->err;
    memcpy(s->regs, mb->regs, sizeof s->regs);
}

/* The guest reads the mailbox: the stub's boot exit (its set-up code's
 * registers) must not be what it finds there at entry.  The stub already
 * clears its registers before that exit; this holds whatever it posted. */
void proc__clear_exit(struct proc_mailbox *mb)
{
    mb->signo = 0;
    mb->si_code = 0;
    mb->fault_addr = 0;
    mb->trapno = 0;
    mb->err = 0;
    memset(mb->regs, 0, sizeof mb->regs);
}

void proc__kick(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (atomic_load(&pv->running) && !pv->dead) {
        int64_t zero = 0;
        atomic_compare_exchange_strong(&pv->kick_sent_ns, &zero, now_ns());
        syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
    }
}

/* A vector became pending (its bit is already in mb->pir, the irr).  While
 * the guest runs: exitless, one posted-interrupt signal unless one is
 * already on its way (pi_on: the stub clears it before it looks at pir, so
 * a bit set before an injector finds pi_on set is seen by the handler that
 * signal runs); otherwise a kick, which is an exit.  A guest that is not
 * running gets the vector from the run loop before it resumes (it stores
 * running, then reads irr; we set the bit, then read running). */
void proc__notify_irq(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (!atomic_load(&pv->running) || pv->dead)
        return;
    if (pv->exitless) {
        if (__atomic_exchange_n(&pv->mb->pi_on, 1, __ATOMIC_SEQ_CST))
            return;
        syscall(SYS_pidfd_send_signal, pv->pidfd, POSTED_SIGNO, NULL, 0);
        return;
    }
    syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
}

/* Before each reply (guest stopped): what the stub needs to deliver a
 * posted vector itself, exactly as proc__deliver would. */
void proc__publish(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    struct proc_posted *pp = pv->posted;
    pp->enabled = pv->exitless && !v->request_irq_window && v->cpu_page_gpa &&
                  proc__cpu_page(v) != NULL;
    pp->vif = pv->vif;
    pp->idt_set = pv->idt_set;
    pp->idt_limit = pv->idt_limit;
    pp->idt_base = pv->idt_base;
    pp->cpu_page_gpa = v->cpu_page_gpa;
}

/* After each exit: count the stub's deliveries; and drop a notification
 * flag left set (by a guest that wrote it: it would only silence its own
 * notifications until here; a signal still queued merely arrives). */
void proc__posted_account(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    uint32_t d = __atomic_load_n(&pv->mb->pi_delivered, __ATOMIC_RELAXED);
    uint32_t n = d - pv->pi_seen;
    pv->pi_seen = d;
    pv->pi_total += n;
    v->stats.n[VCPU_STAT_INJECT] += n;
    __atomic_store_n(&pv->mb->pi_on, 0, __ATOMIC_SEQ_CST);
}

int proc_vcpu__colocate(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    int cpu = sched_getcpu();
    if (cpu < 0 || pv->dead)
        return cpu < 0 ? -errno : -ESRCH;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0 ||
        sched_setaffinity(pv->pid, sizeof set, &set) != 0)
        return -errno;
    return cpu;
}

int64_t proc__cpu_time_ns(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    clockid_t cid;
    struct timespec ts;
    if (pv->dead)
        return -ESRCH;
    if (clock_getcpuclockid(pv->pid, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -errno;
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}
