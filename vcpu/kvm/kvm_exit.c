/* KVM backend: what a KVM exit means for the caller (vcpu.h's exit record)
 * and the completion of a read the caller answered.  KVM finishes the
 * instruction itself on the next KVM_RUN from run->mmio.data / the I/O data
 * area; all this does is put the caller's value there. */
#include "vcpu/kvm/kvm_priv.h"

#include <string.h>

#include "lib/log.h"

void kvm__set_fault(struct vcpu *v, uint8_t vector, uint64_t err, const char *why)
{
    struct vcpu_regs r;
    memset(&v->exit, 0, sizeof v->exit);
    v->exit.reason = VCPU_EXIT_FAULT;
    v->exit.fault.vector = vector;
    v->exit.fault.error_code = err;
    v->exit.fault.rip = kvm__get_regs(v, &r) == 0 ? r.rip : 0;
    v->exit.fault.why = why;
}

void kvm__complete_pending(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    struct kvm_run *run = kv->run;
    switch (kv->pend) {
    case KVM_PEND_MMIO_READ:
        memcpy(run->mmio.data, &v->exit.mmio.data, sizeof run->mmio.data);  /* little-endian */
        break;
    case KVM_PEND_PIO_IN:
        /* the offset was checked when the exit was taken */
        memcpy((uint8_t *)run + run->io.data_offset, &v->exit.pio.data, run->io.size);
        break;
    case KVM_PEND_NONE:
        break;
    }
    kv->pend = KVM_PEND_NONE;
}

static void map_io(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    const struct kvm_run *run = kv->run;
    uint8_t size = run->io.size;
    if (run->io.count != 1) {
        /* rep ins: KVM reads ahead several elements (rep outs comes one by one) */
        kvm__set_fault(v, 13, run->io.port, "string port I/O of several elements at once (rep ins) is not supported");
        return;
    }
    if ((size != 1 && size != 2 && size != 4) || run->io.data_offset < sizeof(struct kvm_run) ||
        run->io.data_offset > kv->run_size - size) {
        kvm__set_fault(v, 13, run->io.port, "KVM reported a malformed port I/O exit");
        return;
    }
    struct vcpu_exit *e = &v->exit;
    e->reason = VCPU_EXIT_PIO;
    e->pio.port = run->io.port;
    e->pio.len = size;
    e->pio.is_write = run->io.direction == KVM_EXIT_IO_OUT;
    e->pio.data = 0;
    if (e->pio.is_write)
        memcpy(&e->pio.data, (const uint8_t *)run + run->io.data_offset, size);
    else
        kv->pend = KVM_PEND_PIO_IN;
    kv->io_pending = true;
}

static void map_mmio(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    const struct kvm_run *run = kv->run;
    uint32_t len = run->mmio.len;
    if (len != 1 && len != 2 && len != 4 && len != 8) {
        kvm__set_fault(v, 14, run->mmio.phys_addr, "MMIO access of an unsupported size");
        v->exit.fault.addr = run->mmio.phys_addr;
        return;
    }
    struct vcpu_exit *e = &v->exit;
    e->reason = VCPU_EXIT_MMIO;
    e->mmio.addr = run->mmio.phys_addr;
    e->mmio.len = (uint8_t)len;
    e->mmio.is_write = run->mmio.is_write;
    e->mmio.data = 0;
    if (e->mmio.is_write)
        memcpy(&e->mmio.data, run->mmio.data, len);
    else
        kv->pend = KVM_PEND_MMIO_READ;
    kv->io_pending = true;
}

static const char *internal_why(uint32_t suberror)
{
    switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "KVM could not emulate an instruction (internal error: emulation)";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "KVM internal error: exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "KVM internal error: exit while delivering an event";
    default:
        return "KVM internal error";
    }
}

void kvm__map_exit(struct vcpu *v)
{
    const struct kvm_run *run = KV(v)->run;
    memset(&v->exit, 0, sizeof v->exit);
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        map_io(v);
        return;
    case KVM_EXIT_MMIO:
        map_mmio(v);
        return;
    case KVM_EXIT_HLT:
        v->exit.reason = VCPU_EXIT_HLT;
        return;
    case KVM_EXIT_INTR:
        v->exit.reason = VCPU_EXIT_INTR;
        return;
    case KVM_EXIT_SHUTDOWN:
        /* AMD: KVM resets the vCPU after a shutdown intercept (the VMCB is
         * undefined), so RIP is the reset vector, not the culprit; the
         * guest is over either way. */
        kvm__set_fault(v, VCPU_FAULT_VEC_DOUBLE, 0, "triple fault (KVM_EXIT_SHUTDOWN): the guest could not "
                                                    "deliver an exception; CPU state lost (RIP may be the reset vector)");
        KV(v)->dead = true;
        KV(v)->dead_exit = v->exit;
        return;
    case KVM_EXIT_FAIL_ENTRY:
        kvm__set_fault(v, 0, run->fail_entry.hardware_entry_failure_reason,
                       "VM entry failed (KVM_EXIT_FAIL_ENTRY; error code = hardware reason)");
        return;
    case KVM_EXIT_INTERNAL_ERROR:
        kvm__set_fault(v, 0, run->internal.suberror, internal_why(run->internal.suberror));
        return;
    default:
        log__debug("kvm", "vCPU %u: unexpected exit reason %u", v->id, run->exit_reason);
        kvm__set_fault(v, 0, run->exit_reason, "unexpected KVM exit (error code = exit reason)");
        return;
    }
}
