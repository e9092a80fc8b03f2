/* KVM backend: kicks and interrupt injection.
 *
 * Kick: set run->immediate_exit (a KVM_RUN that has not started returns at
 * once) and send the kick signal to the vCPU thread (one in progress
 * returns with EINTR).  The vCPU thread keeps that signal blocked, and
 * KVM_SET_SIGNAL_MASK unblocks it only inside KVM_RUN: it never interrupts
 * the hypervisor's own system calls on that thread, and a signal that
 * arrives outside KVM_RUN stays pending and ends the next one.  After an
 * EINTR the pending ones are taken with sigtimedwait.  The signal is
 * SIGRTMIN + 4: the project uses SIGUSR1 (proc kick) and SIGUSR2 (posted
 * interrupts, the native machine).
 *
 * Injection: with the in-kernel irqchip, a vector is an MSI to APIC 0
 * (fixed delivery, edge), KVM_SIGNAL_MSI; the LAPIC holds it in its IRR
 * until the guest can take it, and the guest EOIs its LAPIC. */
#include "vcpu/kvm/kvm_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "drivers/platform/platform_map.h"
#include "lib/log.h"

int kvm__kick_signo(void)
{
    return SIGRTMIN + 4;
}

static void on_kick(int sig)
{
    (void)sig; /* only reached if a kick hits a thread that no longer runs the vCPU */
}

static void install_handler(void)
{
    /* A real-time signal's default action ends the process: a stray kick
     * must not. */
    struct sigaction old, sa = {.sa_handler = on_kick, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(kvm__kick_signo(), NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(kvm__kick_signo(), &sa, NULL);
}

int kvm__bind_thread(struct vcpu *v)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static _Thread_local pid_t self;  /* one gettid per thread, not per run */
    struct kvm_vcpu_state *kv = KV(v);
    if (!self)
        self = (pid_t)syscall(SYS_gettid);
    pid_t tid = self;
    if (tid == kv->masked_tid)
        return 0;
    pthread_once(&once, install_handler);
    sigset_t kick, old;
    sigemptyset(&kick);
    sigaddset(&kick, kvm__kick_signo());
    int r = pthread_sigmask(SIG_BLOCK, &kick, &old);
    if (r)
        return -r;
    /* Inside KVM_RUN: the thread's own mask, the kick deliverable.  The
     * kernel's sigset is 8 bytes on x86-64 (glibc's sigset_t is larger). */
    sigdelset(&old, kvm__kick_signo());
    union { /* struct kvm_signal_mask ends in a flexible array: 8 bytes after it */
        struct kvm_signal_mask m;
        uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
    } km;
    memset(&km, 0, sizeof km);
    km.m.len = 8;
    memcpy(km.bytes + sizeof(struct kvm_signal_mask), &old, 8);
    if ((r = kvm__ioctl(kv->fd, KVM_SET_SIGNAL_MASK, &km))) {
        log__err("kvm", "KVM_SET_SIGNAL_MASK: %s", strerror(-r));
        return r;
    }
    kv->masked_tid = tid;
    atomic_store(&kv->tid, tid);
    return 0;
}

void kvm__drain_kicks(struct vcpu *v)
{
    __atomic_store_n(&KV(v)->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, kvm__kick_signo());
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&kick, NULL, &zero) > 0)
        ;
}

void kvm__kick(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    __atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pid_t tid = atomic_load(&kv->tid);
    if (tid) /* else it never ran: immediate_exit ends its first KVM_RUN */
        syscall(SYS_tgkill, getpid(), tid, kvm__kick_signo());
}

void kvm__notify_irq(struct vcpu *v)
{
    struct kvm_vm_state *k = KVM_VM(v->vm);
    int vec;
    while ((vec = vcpu__irr_take(v)) >= 0) {
        struct kvm_msi msi = {.address_lo = (uint32_t)PLATFORM_MSI_WINDOW_BASE, /* dest APIC 0, physical */
                              .address_hi = 0, .data = (uint32_t)vec};  /* fixed, edge */
        int r = kvm__ioctl(k->vm_fd, KVM_SIGNAL_MSI, &msi);
        if (r > 0)
            __atomic_fetch_add(&v->stats.n[VCPU_STAT_INJECT], 1, __ATOMIC_RELAXED);
        else if (r == 0)
            /* the LAPIC refused it: software-disabled (SVR bit 8 clear), as
             * hardware drops it */
            log__debug("kvm", "vector %d not accepted: the guest's LAPIC is disabled", vec);
        else
            log__err("kvm", "KVM_SIGNAL_MSI vector %d: %s", vec, strerror(-r));
    }
}
