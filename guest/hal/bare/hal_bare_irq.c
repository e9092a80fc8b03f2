/* Interrupts of the bare port: the IDT (256 gates into isr.S), the trap
 * entry (exceptions report and power off; interrupts go to the kernel's
 * dispatcher, then EOI), and IF itself for masking (cli/sti, `sti; hlt`). */
#include "guest/hal/bare/hal_bare.h"

#include "guest/hal/x86_idt.h"

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static struct {
    hal_irq_dispatch_fn dispatch;
    void *dispatch_ctx;
    int in_fault;
    struct idt_gate idt[HAL_NUM_VECTORS] __attribute__((aligned(16)));
} hal_bare_irq;

extern const char hal_bare_isr_stubs[];
void hal_bare__trap(struct bare_frame *f);

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "(15)", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void hal_bare__fault(const struct bare_frame *f)
{
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    /* Faulted while reporting: one nested report (a #DF on its own stack
     * after a fault that overflowed the kernel stack), then stop. */
    if (hal_bare_irq.in_fault++ >= 2)
        hal__poweroff(HAL_BARE_STATUS_FAULT);
    const char *name = exc_names[f->vector] ? exc_names[f->vector] : "reserved";
    hal_bare__printf("\nEXCEPTION vector %lu (%s) error %#lx rip %#lx cr2 %#lx rsp %#lx rflags %#lx\n",
                     (unsigned long)f->vector, name, (unsigned long)f->error, (unsigned long)f->rip,
                     (unsigned long)cr2, (unsigned long)f->rsp, (unsigned long)f->rflags);
    hal_bare__printf("iovirt-guest: exit %d (exception)\n", HAL_BARE_STATUS_FAULT);
    hal__poweroff(HAL_BARE_STATUS_FAULT);
}

void hal_bare__trap(struct bare_frame *f)
{
    unsigned v = (unsigned)f->vector & 0xFF;
    if (v < 32)
        hal_bare__fault(f);
    if (v == HAL_BARE_SPURIOUS_VECTOR)
        return;                                /* SDM 10.9: no EOI for the spurious vector */
    if (hal_bare_irq.dispatch)
        hal_bare_irq.dispatch(hal_bare_irq.dispatch_ctx, v);
    /* After the handler, which has quieted a level-triggered source (e1000
     * ICR read, virtio ISR read): the EOI also ends the I/O APIC entry's
     * Remote IRR, and a line still asserted is delivered again. */
    hal_bare__lapic_eoi();
}

void hal__irq_init(hal_irq_dispatch_fn fn, void *ctx)
{
    hal_bare_irq.dispatch = fn;
    hal_bare_irq.dispatch_ctx = ctx;
    x86_idt__fill(hal_bare_irq.idt, HAL_NUM_VECTORS, hal_bare_isr_stubs);
    hal_bare_irq.idt[8].ist = HAL_BARE_DF_IST;   /* #DF: always a usable stack */
    struct idt_ptr p = {.limit = sizeof(hal_bare_irq.idt) - 1,
                        .base = (uint64_t)(uintptr_t)hal_bare_irq.idt};
    __asm__ volatile("lidt %0" ::"m"(p) : "memory");
    hal_bare__lapic_init();
    hal_bare__ioapic_init();
}

bool hal__irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; pop %0; cli" : "=r"(flags)::"memory");
    return (flags & 0x200) != 0;               /* RFLAGS.IF */
}

void hal__irq_enable(void)
{
    __asm__ volatile("sti" ::: "memory");
}

void hal__irq_restore(bool was_enabled)
{
    if (was_enabled)
        hal__irq_enable();
}

/* `sti; hlt`: sti takes effect after the next instruction (SDM Vol. 2
 * STI), so no interrupt slips in between and the wakeup is never lost. */
void hal__irq_wait(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}
