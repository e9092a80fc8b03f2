/* KVM backend: the guest runs in hardware virtualization through
 * /dev/kvm (Linux Documentation/virt/kvm/api.rst).  The in-kernel irqchip
 * handles the LAPIC, hlt and interrupt delivery; what reaches this loop are
 * MMIO and port I/O the hypervisor emulates, kicks, and faults.  The guest
 * enters in the PVH state (drivers/platform/pvh.h) or, for a Linux
 * bzImage, the 64-bit boot protocol's (drivers/platform/linux_boot.h). */
#include "vcpu/kvm/kvm_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

static void exit_intr(struct vcpu *v)
{
    kvm__drain_kicks(v);
    atomic_store(&v->kick_requested, false);
    memset(&v->exit, 0, sizeof v->exit);
    v->exit.reason = VCPU_EXIT_INTR;
}

static int kvm_run(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    if (kv->dead) {
        v->exit = kv->dead_exit;
        return 0;
    }
    /* first: the caller's answer lives in v->exit, which is rewritten below */
    kvm__complete_pending(v);
    int r = kvm__bind_thread(v);
    if (r)
        return r;
    if (atomic_load(&v->kick_requested)) {
        exit_intr(v);
        return 0;
    }
    v->stats.n[VCPU_STAT_EXITS]++;
    kv->ex.io_pending = false;  /* KVM_RUN finishes it first, whatever it returns */
    if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
        if (errno == EINTR) {  /* a kick: its signal or immediate_exit */
            exit_intr(v);
            return 0;
        }
        return -errno;
    }
    if (kv->run->exit_reason == KVM_EXIT_INTR) {
        exit_intr(v);
        return 0;
    }
    kvm__map_exit(v);
    return 0;
}

/* The in-kernel LAPIC decides; asked only for a HLT exit, which
 * VCPU_CAP_HALT_IN_RUN tells the caller not to wait on. */
static bool kvm_interruptible(struct vcpu *v)
{
    (void)v;
    return true;
}

const struct vcpu_ops kvm_vcpu_ops = {
    .name = "kvm",
    .caps = VCPU_CAP_DIRECT_MAP | VCPU_CAP_ASYNC_INJECT | VCPU_CAP_CPU_TIME | VCPU_CAP_SANDBOXED |
            VCPU_CAP_HALT_IN_RUN | VCPU_CAP_IN_PROCESS | VCPU_CAP_IOAPIC,
    .boot = VCPU_BOOT_PVH,
    .also_boots = 1u << VCPU_BOOT_LINUX,
    .set_entry_state = kvm__set_entry_state,
    .probe = kvm__probe,
    .vm_init = kvm__vm_init,
    .vm_destroy = kvm__vm_destroy,
    .create = kvm__create,
    .destroy = kvm__destroy,
    .get_regs = kvm__get_regs,
    .set_regs = kvm__set_regs,
    .run = kvm_run,
    .kick = kvm__kick,
    .notify_irq = kvm__notify_irq,
    .interruptible = kvm_interruptible,
    .cpu_time_ns = kvm__cpu_time_ns,
    .irqfd_attach = kvm__irqfd_attach,
    .irqfd_detach = kvm__irqfd_detach,
    .irqfd_attach_level = kvm__irqfd_attach_level,
    .irqfd_detach_level = kvm__irqfd_detach_level,
    .irq_line = kvm__irq_line,
};
