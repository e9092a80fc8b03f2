/* KVM backend internals shared by its files (see kvm_backend.c):
 *   kvm_vm.c       /dev/kvm, the VM: memory slots, in-kernel irqchip and PIT
 *   kvm_vcpu.c     a vCPU: its fd and run page, CPUID, the PVH entry
 *                  state, registers, CPU time
 *   kvm_exit.c     what a KVM exit means (struct kvm_run -> vcpu_exit),
 *                  completion of a pending read (pure part: kvm_exit.h)
 *   kvm_signal.c   kicks (immediate_exit + a signal) and interrupt
 *                  injection (KVM_SIGNAL_MSI into the in-kernel LAPIC)
 *   kvm_irqfd.c    GSI routing, eventfds injected by the kernel (KVM_IRQFD,
 *                  MSI routes), levels on irqchip inputs (KVM_IRQ_LINE)
 *   kvm_backend.c  the run loop and the ops table
 * Not for use outside vcpu/kvm/. */
#ifndef IOVIRT_VCPU_KVM_KVM_PRIV_H
#define IOVIRT_VCPU_KVM_KVM_PRIV_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vcpu/kvm/kvm_exit.h"
#include "vcpu/vcpu.h"

#define KVM_DEV_PATH "/dev/kvm"
/* The API every ioctl here is written against (KVM_API_VERSION). */
#define KVM_API_WANT 12

struct kvm_direct_map {
    void *va;
    size_t len;
};

#define KVM_IRQFD_MAX 64

struct kvm_vm_state {
    int sys_fd;                  /* /dev/kvm */
    int vm_fd;
    /* eventfds bound to MSI routes (kvm_irqfd.c); efd -1 = free slot */
    pthread_mutex_t irqfd_lock;
    struct { int efd; uint8_t vector; } irqfd[KVM_IRQFD_MAX];
    unsigned nslots;
    struct kvm_direct_map *direct;  /* host mappings of DIRECT regions */
    unsigned ndirect;
};

struct kvm_vcpu_state {
    int fd;
    struct kvm_run *run;         /* shared with the kernel (KVM_GET_VCPU_MMAP_SIZE) */
    size_t run_size;
    struct kvm_exit_state ex;    /* a pending read; an instruction KVM holds */
    _Atomic pid_t tid;           /* thread that runs it (kicks signal it), 0 = none yet */
    pid_t masked_tid;            /* thread whose signal mask the vcpu's was built from */
    int64_t last_cpu_ns;         /* its CPU time when last read (thread may be gone) */
    bool dead;                   /* triple fault: every run repeats dead_exit */
    struct vcpu_exit dead_exit;
};

static inline struct kvm_vm_state *KVM_VM(struct vm *vm)
{
    return vm->backend;
}

static inline struct kvm_vcpu_state *KV(struct vcpu *v)
{
    return v->backend;
}

/* ioctl that retries on EINTR where the call must not be cut short. */
int kvm__ioctl(int fd, unsigned long req, void *arg);

/* kvm_vm.c */
int kvm__probe(char *why, size_t len);
int kvm__vm_init(struct vm *vm);
void kvm__vm_destroy(struct vm *vm);

/* kvm_irqfd.c */
int kvm__irqfd_attach(struct vm *vm, int efd, uint8_t vector);
void kvm__irqfd_detach(struct vm *vm, int efd);
int kvm__irqfd_attach_level(struct vm *vm, int efd, int resample_fd, unsigned pin);
void kvm__irqfd_detach_level(struct vm *vm, int efd, unsigned pin);
/* The platform's GSI routes (plus attached irqfds' MSI routes). */
int kvm__set_routing(struct kvm_vm_state *k);
int kvm__irq_line(struct vm *vm, unsigned gsi, int level);

/* kvm_vcpu.c */
int kvm__create(struct vcpu *v);
void kvm__destroy(struct vcpu *v);
int kvm__get_regs(struct vcpu *v, struct vcpu_regs *r);
int kvm__set_regs(struct vcpu *v, const struct vcpu_regs *r);
int64_t kvm__cpu_time_ns(struct vcpu *v);
int kvm__set_entry_state(struct vcpu *v, const struct vcpu_entry_state *e);

/* kvm_exit.c */
void kvm__complete_pending(struct vcpu *v);
/* Fill v->exit from run->exit_reason (every KVM exit reaches the caller). */
void kvm__map_exit(struct vcpu *v);

/* kvm_signal.c */
int kvm__kick_signo(void);
/* Before KVM_RUN on the calling thread: kick signal blocked outside
 * KVM_RUN, deliverable inside it. */
int kvm__bind_thread(struct vcpu *v);
/* After an EINTR: forget kicks already acted on. */
void kvm__drain_kicks(struct vcpu *v);
void kvm__kick(struct vcpu *v);
void kvm__notify_irq(struct vcpu *v);

#endif
