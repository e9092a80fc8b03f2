/* Backend-independent vCPU layer: argument checks, exit accounting and the
 * interrupt request register shared by every backend. */
#include "vcpu/vcpu.h"

#include <errno.h>
#include <string.h>

static const char *const stat_names[VCPU_STAT__COUNT] = {
    [VCPU_STAT_MMIO_READ] = "mmio_read",   [VCPU_STAT_MMIO_WRITE] = "mmio_write",
    [VCPU_STAT_PIO_IN] = "pio_in",         [VCPU_STAT_PIO_OUT] = "pio_out",
    [VCPU_STAT_HLT] = "hlt",               [VCPU_STAT_IRQ_WINDOW] = "irq_window",
    [VCPU_STAT_INTR] = "intr",             [VCPU_STAT_FAULT] = "fault",
    [VCPU_STAT_SHUTDOWN] = "shutdown",     [VCPU_STAT_CLI] = "cli",
    [VCPU_STAT_STI] = "sti",               [VCPU_STAT_LIDT] = "lidt",
    [VCPU_STAT_KICK] = "kick",             [VCPU_STAT_INJECT] = "inject",
    [VCPU_STAT_EXITS] = "exits",
};

static const char *const exit_names[VCPU_EXIT__COUNT] = {
    [VCPU_EXIT_NONE] = "none",       [VCPU_EXIT_MMIO] = "mmio",
    [VCPU_EXIT_PIO] = "pio",         [VCPU_EXIT_HLT] = "hlt",
    [VCPU_EXIT_IRQ_WINDOW] = "irq_window", [VCPU_EXIT_INTR] = "intr",
    [VCPU_EXIT_FAULT] = "fault",     [VCPU_EXIT_SHUTDOWN] = "shutdown",
};

const char *vcpu__stat_name(enum vcpu_stat s)
{
    return (unsigned)s < VCPU_STAT__COUNT ? stat_names[s] : "?";
}

const char *vcpu__exit_name(enum vcpu_exit_reason r)
{
    return (unsigned)r < VCPU_EXIT__COUNT ? exit_names[r] : "?";
}

int vm__init(struct vm *vm, const struct vcpu_ops *ops, struct vcpu_memmap *mem)
{
    memset(vm, 0, sizeof(*vm));
    if (!ops || !mem)
        return -EINVAL;
    vm->ops = ops;
    vm->mem = mem;
    return ops->vm_init ? ops->vm_init(vm) : 0;
}

void vm__destroy(struct vm *vm)
{
    if (vm->ops && vm->ops->vm_destroy)
        vm->ops->vm_destroy(vm);
    vm->ops = NULL;
}

int vcpu__create(struct vcpu *v, struct vm *vm, unsigned id)
{
    memset(v, 0, sizeof(*v));
    v->vm = vm;
    v->id = id;
    for (int i = 0; i < 4; i++)
        atomic_init(&v->irr_local[i], 0);
    v->irr = v->irr_local;
    atomic_init(&v->kick_requested, false);
    return vm->ops->create(v);
}

void vcpu__destroy(struct vcpu *v)
{
    if (v->vm && v->vm->ops)
        v->vm->ops->destroy(v);
    v->vm = NULL;
}

int vcpu__get_regs(struct vcpu *v, struct vcpu_regs *r)
{
    return v->vm->ops->get_regs(v, r);
}

int vcpu__set_entry_state(struct vcpu *v, const struct vcpu_entry_state *s)
{
    const struct vcpu_ops *ops = v->vm->ops;
    if (!ops->set_entry_state || (unsigned)s->boot >= 32 || !(ops->also_boots & (1u << s->boot)))
        return -ENOTSUP;
    return ops->set_entry_state(v, s);
}

int vcpu__set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
    return v->vm->ops->set_regs(v, r);
}

static void account(struct vcpu *v)
{
    static const signed char stat_of[VCPU_EXIT__COUNT] = {
        [VCPU_EXIT_NONE] = -1,          [VCPU_EXIT_MMIO] = -1, [VCPU_EXIT_PIO] = -1,
        [VCPU_EXIT_HLT] = VCPU_STAT_HLT, [VCPU_EXIT_IRQ_WINDOW] = VCPU_STAT_IRQ_WINDOW,
        [VCPU_EXIT_INTR] = VCPU_STAT_INTR, [VCPU_EXIT_FAULT] = VCPU_STAT_FAULT,
        [VCPU_EXIT_SHUTDOWN] = VCPU_STAT_SHUTDOWN,
    };
    const struct vcpu_exit *e = &v->exit;
    switch (e->reason) {
    case VCPU_EXIT_MMIO:
        v->stats.n[e->mmio.is_write ? VCPU_STAT_MMIO_WRITE : VCPU_STAT_MMIO_READ]++;
        break;
    case VCPU_EXIT_PIO:
        v->stats.n[e->pio.is_write ? VCPU_STAT_PIO_OUT : VCPU_STAT_PIO_IN]++;
        break;
    default:
        if ((unsigned)e->reason < VCPU_EXIT__COUNT && stat_of[e->reason] >= 0)
            v->stats.n[stat_of[e->reason]]++;
    }
}

int vcpu__run(struct vcpu *v)
{
    int rc = v->vm->ops->run(v);
    if (rc == 0)
        account(v);
    return rc;
}

void vcpu__kick(struct vcpu *v)
{
    atomic_store(&v->kick_requested, true);
    v->vm->ops->kick(v);
}

int vcpu__inject_irq(struct vcpu *v, uint8_t vector)
{
    if (vector < 32)
        return -EINVAL;
    uint64_t bit = 1ull << (vector % 64);
    if (atomic_fetch_or(&v->irr[vector / 64], bit) & bit)
        return 1; /* already pending: coalesced, as a second edge on a set IRR bit */
    if (v->vm->ops->notify_irq)
        v->vm->ops->notify_irq(v);
    return 0;
}

bool vcpu__irq_deliverable(struct vcpu *v)
{
    if (!vcpu__irq_pending(v))
        return false;
    return !v->vm->ops->interruptible || v->vm->ops->interruptible(v);
}

/* Bits 0..31 (exception vectors) are never injected; a backend whose irr
 * the guest can write (the process backend) may find them set: ignored. */
static const uint64_t irr_valid[4] = {~0xffffffffull, ~0ull, ~0ull, ~0ull};

bool vcpu__irq_pending(struct vcpu *v)
{
    for (int i = 0; i < 4; i++)
        if (atomic_load(&v->irr[i]) & irr_valid[i])
            return true;
    return false;
}

int vcpu__irr_take(struct vcpu *v)
{
    for (int i = 3; i >= 0; i--) {
        uint64_t w = atomic_load(&v->irr[i]) & irr_valid[i];
        while (w) {
            int bit = 63 - __builtin_clzll(w);
            uint64_t m = 1ull << bit;
            uint64_t old = atomic_fetch_and(&v->irr[i], ~m);
            if (old & m)
                return i * 64 + bit;
            w = atomic_load(&v->irr[i]) & irr_valid[i];
        }
    }
    return -1;
}

int64_t vcpu__cpu_time_ns(struct vcpu *v)
{
    if (!(v->vm->ops->caps & VCPU_CAP_CPU_TIME) || !v->vm->ops->cpu_time_ns)
        return -ENOTSUP;
    return v->vm->ops->cpu_time_ns(v);
}

int vm__irqfd_attach(struct vm *vm, int efd, uint8_t vector)
{
    if (!vm->ops->irqfd_attach)
        return -ENOTSUP;
    if (vector < 32 || efd < 0)
        return -EINVAL;
    return vm->ops->irqfd_attach(vm, efd, vector);
}

void vm__irqfd_detach(struct vm *vm, int efd)
{
    if (vm->ops->irqfd_detach)
        vm->ops->irqfd_detach(vm, efd);
}

int vm__irqfd_attach_level(struct vm *vm, int efd, int resample_fd, unsigned pin)
{
    if (!vm->ops->irqfd_attach_level)
        return -ENOTSUP;
    if (pin > 23 || efd < 0 || resample_fd < 0)
        return -EINVAL;
    return vm->ops->irqfd_attach_level(vm, efd, resample_fd, pin);
}

void vm__irqfd_detach_level(struct vm *vm, int efd, unsigned pin)
{
    if (vm->ops->irqfd_detach_level)
        vm->ops->irqfd_detach_level(vm, efd, pin);
}

int vm__irq_line(struct vm *vm, unsigned gsi, int level)
{
    if (!vm->ops || !vm->ops->irq_line)
        return -ENOTSUP;
    if (gsi >= VCPU_IRQ_LINES)
        return -EINVAL;
    return vm->ops->irq_line(vm, gsi, level);
}
