/* Process backend: interrupt delivery.  A pending vector enters the
 * guest's IDT handler through a 64-bit interrupt frame built on its stack,
 * when virtual IF = 1 and the cpu page does not mask it (proc_abi.h). */
#include "vcpu/proc/proc_priv.h"

volatile struct proc_cpu_page *proc__cpu_page(struct vcpu *v)
{
    if (!v->cpu_page_gpa)
        return NULL;
    return vcpu_memmap__ram_ptr(v->vm->mem, v->cpu_page_gpa, sizeof(struct proc_cpu_page));
}

bool proc__guest_interruptible(struct vcpu *v)
{
    volatile struct proc_cpu_page *cp = proc__cpu_page(v);
    return PV(v)->vif && !(cp && cp->irq_masked);
}

/* Enter the handler of `vector` with an iretq frame on the guest stack
 * (proc_abi.h).  False (and a FAULT exit) if the IDT or stack is bad. */
bool proc__deliver(struct vcpu *v, int vector)
{
    struct proc_vcpu *pv = PV(v);
    const struct vcpu_memmap *m = v->vm->mem;
    uint8_t gate[16];
    uint64_t off = (uint64_t)vector * 16;
    if (!pv->idt_set || off + 15 > pv->idt_limit ||
        vcpu_memmap__read(m, pv->idt_base + off, gate, sizeof gate) != 0) {
        proc__set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, pv->idt_base + off,
                  "interrupt vector outside the IDT (or no IDT)");
        return false;
    }
    uint8_t type = gate[5] & 0x0F;
    if (!(gate[5] & 0x80) || (type != 0x0E && type != 0x0F)) {
        proc__set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, pv->idt_base + off,
                  "IDT gate not present or not a 64-bit interrupt/trap gate");
        return false;
    }
    uint64_t handler = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 |
                       (uint64_t)gate[7] << 24 | (uint64_t)gate[8] << 32 |
                       (uint64_t)gate[9] << 40 | (uint64_t)gate[10] << 48 |
                       (uint64_t)gate[11] << 56;
    uint64_t rsp = (pv->regs.gpr[X86_RSP] & ~15ull) - 40;
    uint64_t frame[5] = {pv->regs.rip, USER_CS, pv->regs.rflags, pv->regs.gpr[X86_RSP], USER_SS};
    if (pv->regs.gpr[X86_RSP] < 64 || vcpu_memmap__write(m, rsp, frame, sizeof frame) != 0) {
        proc__set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, rsp,
                  "interrupt frame does not fit on the guest stack");
        return false;
    }
    volatile struct proc_cpu_page *cp = proc__cpu_page(v);
    if (cp)
        cp->irq_masked = 1;
    pv->regs.gpr[X86_RSP] = rsp;
    pv->regs.rip = handler;
    v->stats.n[VCPU_STAT_INJECT]++;
    return true;
}
