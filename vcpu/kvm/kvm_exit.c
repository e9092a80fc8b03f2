/* KVM backend: what a KVM exit means for the caller (vcpu.h's exit record)
 * and the completion of a read the caller answered.  KVM finishes the
 * instruction itself on the next KVM_RUN from run->mmio.data / the I/O data
 * area; all this does is put the caller's value there.  The run page is
 * trusted no further than its mapped size: every length and offset in it
 * is checked before use (tests/fuzz/fuzz_kvm_exit.c). */
#include "vcpu/kvm/kvm_priv.h"

#include <string.h>

#include "lib/log.h"

static void set_fault(struct vcpu_exit *e, uint8_t vector, uint64_t err, const char *why)
{
    memset(e, 0, sizeof *e);
    e->reason = VCPU_EXIT_FAULT;
    e->fault.vector = vector;
    e->fault.error_code = err;
    e->fault.why = why;
}

void kvm__exit_complete(struct kvm_run *run, const struct vcpu_exit *e, struct kvm_exit_state *s)
{
    switch (s->pend) {
    case KVM_PEND_MMIO_READ:
        memcpy(run->mmio.data, &e->mmio.data, sizeof run->mmio.data);  /* little-endian */
        break;
    case KVM_PEND_PIO_IN:
        /* where and how much were checked when the exit was taken */
        memcpy((uint8_t *)run + s->pio_offset, &e->pio.data, s->pio_len);
        break;
    case KVM_PEND_NONE:
        break;
    }
    s->pend = KVM_PEND_NONE;
}

static void map_io(const struct kvm_run *run, size_t run_size, struct vcpu_exit *e, struct kvm_exit_state *s)
{
    uint8_t size = run->io.size;
    uint64_t off = run->io.data_offset;  /* read once: the page is shared */
    if (run->io.count != 1) {
        /* rep ins: KVM reads ahead several elements (rep outs comes one by one) */
        set_fault(e, 13, run->io.port, "string port I/O of several elements at once (rep ins) is not supported");
        return;
    }
    if ((size != 1 && size != 2 && size != 4) || off < sizeof(struct kvm_run) || off > run_size - size) {
        set_fault(e, 13, run->io.port, "KVM reported a malformed port I/O exit");
        return;
    }
    e->reason = VCPU_EXIT_PIO;
    e->pio.port = run->io.port;
    e->pio.len = size;
    e->pio.is_write = run->io.direction == KVM_EXIT_IO_OUT;
    e->pio.data = 0;
    if (e->pio.is_write) {
        memcpy(&e->pio.data, (const uint8_t *)run + off, size);
    } else {
        s->pend = KVM_PEND_PIO_IN;
        s->pio_offset = off;
        s->pio_len = size;
    }
    s->io_pending = true;
}

static void map_mmio(const struct kvm_run *run, struct vcpu_exit *e, struct kvm_exit_state *s)
{
    uint32_t len = run->mmio.len;
    if (len != 1 && len != 2 && len != 4 && len != 8) {
        set_fault(e, 14, run->mmio.phys_addr, "MMIO access of an unsupported size");
        e->fault.addr = run->mmio.phys_addr;
        return;
    }
    e->reason = VCPU_EXIT_MMIO;
    e->mmio.addr = run->mmio.phys_addr;
    e->mmio.len = (uint8_t)len;
    e->mmio.is_write = run->mmio.is_write;
    e->mmio.data = 0;
    if (e->mmio.is_write)
        memcpy(&e->mmio.data, run->mmio.data, len);
    else
        s->pend = KVM_PEND_MMIO_READ;
    s->io_pending = true;
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

void kvm__exit_map(const struct kvm_run *run, size_t run_size, struct vcpu_exit *e, struct kvm_exit_state *s)
{
    memset(e, 0, sizeof *e);
    if (run_size < sizeof(struct kvm_run)) {
        set_fault(e, 0, run_size, "KVM run page smaller than struct kvm_run");
        return;
    }
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        map_io(run, run_size, e, s);
        return;
    case KVM_EXIT_MMIO:
        map_mmio(run, e, s);
        return;
    case KVM_EXIT_HLT:
        e->reason = VCPU_EXIT_HLT;
        return;
    case KVM_EXIT_INTR:
        e->reason = VCPU_EXIT_INTR;
        return;
    case KVM_EXIT_SHUTDOWN:
        /* AMD: KVM resets the vCPU after a shutdown intercept (the VMCB is
         * undefined), so RIP is the reset vector, not the culprit; the
         * guest is over either way. */
        set_fault(e, VCPU_FAULT_VEC_DOUBLE, 0, "triple fault (KVM_EXIT_SHUTDOWN): the guest could not "
                                               "deliver an exception; CPU state lost (RIP may be the reset vector)");
        s->dead = true;
        return;
    case KVM_EXIT_FAIL_ENTRY:
        set_fault(e, 0, run->fail_entry.hardware_entry_failure_reason,
                  "VM entry failed (KVM_EXIT_FAIL_ENTRY; error code = hardware reason)");
        return;
    case KVM_EXIT_INTERNAL_ERROR:
        /* ndata and data[] are not read: the suberror names it */
        set_fault(e, 0, run->internal.suberror, internal_why(run->internal.suberror));
        return;
    default:
        set_fault(e, 0, run->exit_reason, "unexpected KVM exit (error code = exit reason)");
        return;
    }
}

/* ---- the vCPU's side ---------------------------------------------------- */

void kvm__complete_pending(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    kvm__exit_complete(kv->run, &v->exit, &kv->ex);
}

void kvm__map_exit(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    kvm__exit_map(kv->run, kv->run_size, &v->exit, &kv->ex);
    if (v->exit.reason != VCPU_EXIT_FAULT)
        return;
    log__debug("kvm", "vCPU %u: exit reason %u is a fault", v->id, kv->run->exit_reason);
    struct vcpu_regs r;
    v->exit.fault.rip = kvm__get_regs(v, &r) == 0 ? r.rip : 0;
    if (kv->ex.dead) {
        kv->dead = true;
        kv->dead_exit = v->exit;
    }
}
