/* Interrupts that bypass this process: an eventfd bound to an MSI route
 * with KVM_IRQFD, so a signal on it (a VFIO-assigned function's MSI-X
 * vector) is injected by the kernel straight into the in-kernel LAPIC
 * (Linux Documentation/virt/kvm/api.rst: KVM_SET_GSI_ROUTING, KVM_IRQFD).
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table written is
 * always the platform's irqchip routes plus one MSI route per attached
 * eventfd, at GSIs from KVM_IRQFD_GSI_BASE.  The platform's routes are
 * KVM's defaults (GSI 0-15 to the PIC and the I/O APIC input of that
 * number, 16-23 to the I/O APIC) but for the PIT's GSI 0, which reaches I/O
 * APIC input 2, and GSI 2, the 8259 cascade, which reaches no I/O APIC
 * input: the PC wiring QEMU also uses and the MP table publishes (hv/
 * mptable.c: ISA IRQ 0 -> input 2).  kvm_vm.c installs them at VM
 * creation.  The route's
 * message is built here from the vector alone (fixed, edge, to APIC 0), as
 * KVM_SIGNAL_MSI injection does: what the guest programmed was checked and
 * reduced to a vector by the hypervisor first.
 *
 * Level-triggered lines (INTx) use the default route of GSI 0-23 to the
 * in-kernel I/O APIC's input of that number, with KVM_IRQFD_FLAG_RESAMPLE:
 * the guest programs its own redirection entry; its EOI deasserts the line
 * and signals the resample fd (VFIO unmasks the function's INTx with it). */
#include "vcpu/kvm/kvm_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/platform/platform_map.h"
#include "lib/log.h"

#define KVM_IRQFD_GSI_BASE 24u
#define KVM_DEFAULT_ROUTES (16u * 2 + 8u)   /* PIC + I/O APIC for 0-15, I/O APIC 16-23 */

int kvm__set_routing(struct kvm_vm_state *k)
{
    unsigned n = KVM_DEFAULT_ROUTES;
    for (unsigned i = 0; i < KVM_IRQFD_MAX; i++)
        n += k->irqfd[i].efd >= 0;
    struct kvm_irq_routing *t = calloc(1, sizeof(*t) + n * sizeof(struct kvm_irq_routing_entry));
    if (!t)
        return -ENOMEM;
    unsigned e = 0;
    for (unsigned gsi = 0; gsi < 24; gsi++) {
        if (gsi < 16)
            t->entries[e++] = (struct kvm_irq_routing_entry){
                .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
                .u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, .pin = gsi % 8}};
        if (gsi == 2)
            continue; /* the cascade: I/O APIC input 2 is the PIT's */
        t->entries[e++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi}};
    }
    for (unsigned i = 0; i < KVM_IRQFD_MAX; i++)
        if (k->irqfd[i].efd >= 0)
            t->entries[e++] = (struct kvm_irq_routing_entry){
                .gsi = KVM_IRQFD_GSI_BASE + i, .type = KVM_IRQ_ROUTING_MSI,
                .u.msi = {.address_lo = (uint32_t)PLATFORM_MSI_WINDOW_BASE, .data = k->irqfd[i].vector}};
    t->nr = e;
    int r = kvm__ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, t);
    free(t);
    return r;
}

static int irqfd(struct kvm_vm_state *k, unsigned i, bool assign)
{
    struct kvm_irqfd f = {.fd = (uint32_t)k->irqfd[i].efd, .gsi = KVM_IRQFD_GSI_BASE + i,
                          .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
    return kvm__ioctl(k->vm_fd, KVM_IRQFD, &f);
}

int kvm__irqfd_attach(struct vm *vm, int efd, uint8_t vector)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    pthread_mutex_lock(&k->irqfd_lock);
    int r = -ENOSPC;
    unsigned i;
    for (i = 0; i < KVM_IRQFD_MAX && k->irqfd[i].efd >= 0; i++)
        if (k->irqfd[i].efd == efd) {
            r = -EEXIST;
            goto out;
        }
    if (i == KVM_IRQFD_MAX)
        goto out;
    k->irqfd[i].efd = efd;
    k->irqfd[i].vector = vector;
    if ((r = kvm__set_routing(k)) || (r = irqfd(k, i, true))) {
        log__err("kvm", "irqfd for vector %u: %s", vector, strerror(-r));
        k->irqfd[i].efd = -1;
        (void)kvm__set_routing(k);
    }
out:
    pthread_mutex_unlock(&k->irqfd_lock);
    return r;
}

void kvm__irqfd_detach(struct vm *vm, int efd)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    if (!k)
        return; /* the VM is gone, and its irqfds with its fd */
    pthread_mutex_lock(&k->irqfd_lock);
    for (unsigned i = 0; i < KVM_IRQFD_MAX; i++)
        if (k->irqfd[i].efd == efd) {
            (void)irqfd(k, i, false);
            k->irqfd[i].efd = -1;
            (void)kvm__set_routing(k);
            break;
        }
    pthread_mutex_unlock(&k->irqfd_lock);
}

int kvm__irqfd_attach_level(struct vm *vm, int efd, int resample_fd, unsigned pin)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    struct kvm_irqfd f = {.fd = (uint32_t)efd, .gsi = pin, .flags = KVM_IRQFD_FLAG_RESAMPLE,
                          .resamplefd = (uint32_t)resample_fd};
    int r = kvm__ioctl(k->vm_fd, KVM_IRQFD, &f);
    if (r)
        log__err("kvm", "irqfd with resample for I/O APIC input %u: %s", pin, strerror(-r));
    return r;
}

void kvm__irqfd_detach_level(struct vm *vm, int efd, unsigned pin)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    if (!k)
        return;
    struct kvm_irqfd f = {.fd = (uint32_t)efd, .gsi = pin, .flags = KVM_IRQFD_FLAG_DEASSIGN};
    (void)kvm__ioctl(k->vm_fd, KVM_IRQFD, &f);
}

/* A level on an input of the in-kernel irqchip (GSI 0-23, routed as
 * above), from a device the hypervisor emulates: KVM_IRQ_LINE.  The level
 * is the logical one (1 = asserted): KVM applies no polarity. */
int kvm__irq_line(struct vm *vm, unsigned gsi, int level)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    if (!k)
        return -ENODEV;
    struct kvm_irq_level il = {.irq = gsi, .level = level ? 1 : 0};
    return kvm__ioctl(k->vm_fd, KVM_IRQ_LINE, &il);
}
