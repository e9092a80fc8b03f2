/* Process backend: each vCPU is a sandboxed child process running the
 * guest natively in ring 3; faults come back through the stub's mailbox
 * (vcpu/proc/proc_mailbox.h) and are emulated here.
 *
 * Everything read from the mailbox or guest RAM is guest-controlled: it is
 * copied once and checked; a misbehaving guest ends in an exit (FAULT or
 * SHUTDOWN), never in a hypervisor error. */
#include "vcpu/proc/proc_priv.h"

#include <string.h>

static int proc_get_regs(struct vcpu *v, struct vcpu_regs *r)
{
    *r = PV(v)->regs;
    return 0;
}

static int proc_set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
    struct proc_vcpu *pv = PV(v);
    pv->regs = *r;
    pv->regs.rflags = (r->rflags & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    pv->pend = PEND_NONE;
    return 0;
}

static int proc_run(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (pv->dead) {
        v->exit = pv->dead_exit;
        return 0;
    }
    proc__complete_pending(v);
    for (;;) {
        atomic_store(&pv->running, true);
        if (atomic_exchange(&v->kick_requested, false)) {
            atomic_store(&pv->running, false);
            memset(&v->exit, 0, sizeof v->exit);
            v->exit.reason = VCPU_EXIT_INTR;
            return 0;
        }
        volatile struct proc_cpu_page *cp = proc__cpu_page(v);
        bool poll = false;
        if (vcpu__irq_pending(v)) {
            if (proc__guest_interruptible(v)) {
                if (v->request_irq_window) {
                    atomic_store(&pv->running, false);
                    memset(&v->exit, 0, sizeof v->exit);
                    v->exit.reason = VCPU_EXIT_IRQ_WINDOW;
                    return 0;
                }
                int vec = vcpu__irr_take(v);
                if (vec >= 0 && !proc__deliver(v, vec)) {
                    atomic_store(&pv->running, false);
                    return 0;
                }
            }
            if (cp)
                cp->irq_pending = vcpu__irq_pending(v) ? 1 : 0;
            poll = pv->vif && vcpu__irq_pending(v);
        } else if (cp && cp->irq_pending) {
            cp->irq_pending = 0;
        }

        int64_t t0 = now_ns();
        v->stats.n[VCPU_STAT_EXITS]++;
        proc__publish(v);
        proc__resume(pv);
        int wr = proc__wait_exit(pv, 0, poll);
        v->stats.spin_ns = pv->spin_ns;
        if (wr != 0) {
            v->exit = pv->dead_exit;
            return 0;
        }
        int64_t ran = now_ns() - t0;
        pv->ewma_run_ns += (ran - pv->ewma_run_ns) / 8;
        atomic_store(&pv->running, false);
        proc__posted_account(v);
        struct exit_snap s;
        proc__snapshot(pv, &s);
        enum step st = proc__classify(v, &s);
        if ((int)st == -1) {
            log__err("vcpu", "guest process %d broke the trap protocol (signal %u); killing it",
                     (int)pv->pid, s.signo);
            proc__kill_guest(pv);
            pv->dead_exit.shutdown.cause = VCPU_SHUTDOWN_PROTOCOL;
            v->exit = pv->dead_exit;
            return 0;
        }
        if (st == STEP_RETURN)
            return 0;
    }
}

const struct vcpu_ops proc_vcpu_ops = {
    .name = "proc",
    .caps = VCPU_CAP_DIRECT_MAP | VCPU_CAP_ASYNC_INJECT | VCPU_CAP_CPU_TIME | VCPU_CAP_SANDBOXED,
    .boot = VCPU_BOOT_PROC,
    .vm_init = proc__vm_init,
    .vm_destroy = proc__vm_destroy,
    .create = proc__create,
    .destroy = proc__destroy,
    .get_regs = proc_get_regs,
    .set_regs = proc_set_regs,
    .run = proc_run,
    .kick = proc__kick,
    .notify_irq = proc__notify_irq,
    .interruptible = proc__guest_interruptible,
    .cpu_time_ns = proc__cpu_time_ns,
};
