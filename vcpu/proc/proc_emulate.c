/* Process backend: what a trap means.  #GP is an emulated privileged
 * instruction (in/out, hlt, cli, sti, lidt) or a real fault; #PF on a
 * trapped page is MMIO, decoded by vcpu/x86_decode; everything read from
 * the mailbox or guest RAM is guest-controlled, copied once and checked. */
#include "vcpu/proc/proc_priv.h"

#include <signal.h>
#include <string.h>

static void to_gprs(const struct vcpu_regs *r, struct x86_gprs *g)
{
    memcpy(g->r, r->gpr, sizeof g->r);
    g->rip = r->rip;
}

static void from_gprs(struct vcpu_regs *r, const struct x86_gprs *g)
{
    memcpy(r->gpr, g->r, sizeof g->r);
    r->rip = g->rip;
}

void proc__set_fault(struct vcpu *v, uint8_t vector, uint64_t err, uint64_t addr, const char *why)
{
    struct vcpu_exit *e = &v->exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_FAULT;
    e->fault.vector = vector;
    e->fault.error_code = err;
    e->fault.addr = addr;
    e->fault.rip = PV(v)->regs.rip;
    e->fault.why = why;
}

/* Fetch up to 15 instruction bytes at RIP from guest RAM. */
static size_t fetch(struct vcpu *v, uint8_t *code)
{
    size_t n = 0;
    uint64_t rip = PV(v)->regs.rip;
    while (n < 15) {
        const uint8_t *p = vcpu_memmap__ram_ptr(v->vm->mem, rip + n, 1);
        if (!p || rip + n < rip)
            break;
        code[n++] = *p;
    }
    return n;
}

static bool gpa_is_mapped(const struct vcpu_memmap *m, uint64_t gpa)
{
    for (unsigned i = 0; i < m->n; i++)
        if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].len)
            return true;
    return false;
}

/* The report for a fault on an instruction that reaches for the host
 * kernel or another CPU mode.  Hosts stop these differently (seccomp's
 * SIGSYS, #GP where the kernel has no 32-bit entry, #UD where the CPU has
 * none in this mode: docs/security.md); the text names the instruction so
 * the one error line says what the guest tried.  NULL: nothing to add. */
static const char *gate_why(struct vcpu *v, unsigned vector)
{
    uint8_t code[15];
    size_t n = fetch(v, code);
    enum proc_insn_gate g = proc_insn__gate(code, n);
    if (vector == 13) {
        switch (g) {
        case PROC_GATE_SYSCALL:
            return "general protection fault on `syscall`: the host refused the system call";
        case PROC_GATE_SYSENTER:
            return "general protection fault on `sysenter`: the host refused the system call";
        case PROC_GATE_INT80:
            return "general protection fault on `int 0x80`: the host refused the 32-bit system call";
        case PROC_GATE_INT:
            return "general protection fault on a software interrupt: no gate the guest may use";
        case PROC_GATE_FAR:
            return "general protection fault on a far transfer (iret/lret/ljmp/lcall): "
                   "the host refused the code segment";
        case PROC_GATE_NONE:
            break;
        }
    } else if (vector == 11 && g == PROC_GATE_FAR) {
        return "segment not present on a far transfer (iret/lret/ljmp/lcall): the host refused the code segment";
    } else if (vector == 6) {
        switch (g) {
        case PROC_GATE_SYSCALL:
            return "invalid opcode `syscall`: no system call entry in this CPU mode";
        case PROC_GATE_SYSENTER:
            return "invalid opcode `sysenter`: no system call entry in this CPU mode";
        default:
            return "invalid opcode";
        }
    }
    return NULL;
}

static enum step on_gp(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    uint8_t code[15];
    size_t n = fetch(v, code);
    struct x86_gprs g;
    struct proc_insn in;
    to_gprs(&pv->regs, &g);
    if (s->si_code != 0x80 /* SI_KERNEL */ || proc_insn__decode(code, n, &g, &in) != X86_DECODE_OK) {
        const char *why = gate_why(v, 13);
        proc__set_fault(v, 13, s->err, 0, why ? why : "general protection fault (not an emulated instruction)");
        return STEP_RETURN;
    }
    struct vcpu_exit *e = &v->exit;
    switch (in.kind) {
    case PROC_INSN_IN:
    case PROC_INSN_OUT:
        memset(e, 0, sizeof(*e));
        e->reason = VCPU_EXIT_PIO;
        e->pio.port = in.port;
        e->pio.len = in.size;
        e->pio.is_write = in.kind == PROC_INSN_OUT;
        if (e->pio.is_write) {
            uint64_t mask = in.size == 4 ? 0xffffffffull : (1ull << (8 * in.size)) - 1;
            e->pio.data = (uint32_t)(pv->regs.gpr[X86_RAX] & mask);
            pv->pend = PEND_ADVANCE;
        } else {
            pv->pend = PEND_PIO_IN;
            pv->pio_size = in.size;
        }
        pv->pend_len = in.length;
        return STEP_RETURN;
    case PROC_INSN_HLT:
        pv->regs.rip += in.length;
        if (vcpu__irq_pending(v) && proc__guest_interruptible(v))
            return STEP_RESUME;  /* the interrupt ends the halt at once */
        memset(e, 0, sizeof(*e));
        e->reason = VCPU_EXIT_HLT;
        return STEP_RETURN;
    case PROC_INSN_CLI:
        pv->vif = false;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_CLI]++;
        return STEP_RESUME;
    case PROC_INSN_STI:
        pv->vif = true;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_STI]++;
        return STEP_RESUME;
    case PROC_INSN_LIDT: {
        uint8_t desc[10];
        if (vcpu_memmap__read(v->vm->mem, in.addr, desc, sizeof desc) != 0) {
            proc__set_fault(v, 14, 0, in.addr, "lidt operand is not in guest RAM");
            return STEP_RETURN;
        }
        pv->idt_limit = (uint16_t)(desc[0] | desc[1] << 8);
        memcpy(&pv->idt_base, desc + 2, 8);
        pv->idt_set = true;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_LIDT]++;
        return STEP_RESUME;
    }
    }
    proc__set_fault(v, 13, s->err, 0, "unreachable");
    return STEP_RETURN;
}

static enum step on_pf(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    const struct vcpu_memmap *m = v->vm->mem;
    uint64_t addr = s->fault_addr;
    if ((s->err & 0x10) || addr == pv->regs.rip || gpa_is_mapped(m, addr) ||
        addr >= VCPU_GPA_LIMIT) {
        proc__set_fault(v, 14, s->err, addr, "page fault outside emulated device space");
        return STEP_RETURN;
    }
    uint8_t code[15];
    size_t n = fetch(v, code);
    struct x86_gprs g;
    struct x86_mmio_insn mi;
    to_gprs(&pv->regs, &g);
    if (x86_decode_mmio(code, n, &g, &mi) != X86_DECODE_OK || !mi.length || mi.length > n ||
        (mi.access_size != 1 && mi.access_size != 2 && mi.access_size != 4 &&
         mi.access_size != 8)) {
        proc__set_fault(v, 14, s->err, addr, "MMIO access by an instruction the decoder does not handle");
        return STEP_RETURN;
    }
    uint64_t last = mi.addr + mi.access_size - 1;
    if (last < mi.addr || last >= VCPU_GPA_LIMIT || addr < mi.addr || addr > last ||
        gpa_is_mapped(m, mi.addr) || gpa_is_mapped(m, last)) {
        proc__set_fault(v, 14, s->err, addr, "MMIO access straddles memory or does not match the fault");
        return STEP_RETURN;
    }
    struct vcpu_exit *e = &v->exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_MMIO;
    e->mmio.addr = mi.addr;
    e->mmio.len = mi.access_size;
    e->mmio.is_write = mi.dir == X86_MMIO_STORE;
    if (e->mmio.is_write)
        e->mmio.data = mi.store_value;
    pv->mmio = mi;
    pv->pend = PEND_MMIO;
    return STEP_RETURN;
}

enum step proc__classify(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    memcpy(pv->regs.gpr, s->regs, sizeof pv->regs.gpr);
    pv->regs.rip = s->regs[PROC_REG_RIP];
    pv->regs.rflags = (s->regs[PROC_REG_RFLAGS] & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    switch (s->signo) {
    case KICK_SIGNO:
    case POSTED_SIGNO:  /* a posted interrupt the stub left to us */
        v->stats.n[VCPU_STAT_KICK]++;
        atomic_store(&pv->kick_sent_ns, 0);
        return STEP_RESUME;
    case SIGSEGV:
        if (s->trapno == 13)
            return on_gp(v, s);
        if (s->trapno == 14)
            return on_pf(v, s);
        proc__set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  "guest exception");
        return STEP_RETURN;
    case SIGILL: {
        const char *why = s->trapno == 6 ? gate_why(v, 6) : NULL;
        proc__set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  why ? why : "guest exception");
        return STEP_RETURN;
    }
    case SIGBUS: {
        const char *why = s->trapno == 11 ? gate_why(v, 11) : NULL;
        proc__set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  why ? why : "guest exception");
        return STEP_RETURN;
    }
    case SIGFPE:
    case SIGTRAP:
        proc__set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  "guest exception");
        return STEP_RETURN;
    default:
        return -1;
    }
}

void proc__complete_pending(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    struct x86_gprs g;
    switch (pv->pend) {
    case PEND_NONE:
        break;
    case PEND_ADVANCE:
        pv->regs.rip += pv->pend_len;
        break;
    case PEND_PIO_IN: {
        uint64_t *rax = &pv->regs.gpr[X86_RAX];
        uint32_t d = v->exit.pio.data;
        if (pv->pio_size == 1)
            *rax = (*rax & ~0xffull) | (d & 0xff);
        else if (pv->pio_size == 2)
            *rax = (*rax & ~0xffffull) | (d & 0xffff);
        else
            *rax = d;
        pv->regs.rip += pv->pend_len;
        break;
    }
    case PEND_MMIO:
        to_gprs(&pv->regs, &g);
        x86_mmio_complete(&pv->mmio, &g, v->exit.mmio.data);
        from_gprs(&pv->regs, &g);
        break;
    }
    pv->pend = PEND_NONE;
}
