/* The proc port of the HAL (see guest/hal/hal.h, vcpu/proc/proc_abi.h):
 * the guest runs in ring 3; lidt, hlt, sti, in/out trap to the runner;
 * interrupt masking is the irq_masked flag of the shared CPU page. */
#include "guest/hal/hal.h"
#include "guest/hal/x86_idt.h"

#include "vcpu/proc/proc_abi.h"

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));


/* The CPU is one per machine, so its state is the port's one global; the
 * stubs in isr.S read `cpu` (first member) directly. */
struct hal_proc {
    struct proc_cpu_page *cpu;          /* must stay first: isr.S */
    hal_irq_dispatch_fn dispatch;
    void *dispatch_ctx;
    uint64_t tsc_hz;
    uint64_t ns_mult;                   /* ns = tsc * ns_mult >> 32 */
    char cmdline[512];
    struct idt_gate idt[HAL_NUM_VECTORS] __attribute__((aligned(16)));
};

struct hal_proc hal_proc_state;
extern const char hal_proc_isr_stubs[];

void hal_proc__start(const struct proc_bootinfo *bi) __attribute__((noreturn));
void hal_proc__irq_entry(uint64_t vector);
void hal_proc__idle(struct proc_cpu_page *cpu);

static void hal_proc__early_puts(const char *s)
{
    for (; *s; s++)
        hal__outb(PLATFORM_PORT_COM1, (uint8_t)*s);
}

void hal_proc__start(const struct proc_bootinfo *bi)
{
    struct hal_proc *h = &hal_proc_state;
    if (!bi || bi->magic != PROC_BOOTINFO_MAGIC || !bi->cpu_page_gpa) {
        hal_proc__early_puts("iovirt-guest: bad bootinfo\n");
        hal__poweroff(2);
    }
    h->cpu = (struct proc_cpu_page *)(uintptr_t)bi->cpu_page_gpa;
    h->cpu->irq_masked = 1;
    h->tsc_hz = bi->tsc_hz ? bi->tsc_hz : 1000000000ull;
    h->ns_mult = (1000000000ull << 32) / h->tsc_hz;

    /* Copy the command line: the kernel may reuse the page it is on. */
    unsigned n = 0;
    const char *src = (const char *)(uintptr_t)bi->cmdline_gpa;
    if (src)
        for (; n < sizeof(h->cmdline) - 1 && src[n]; n++)
            h->cmdline[n] = src[n];
    h->cmdline[n] = '\0';

    struct boot_params bp = {
        .ram_base = bi->ram_base,
        .ram_size = bi->ram_size,
        .free_start = bi->free_gpa,
        .cmdline = h->cmdline,
        .tsc_hz = h->tsc_hz,
        .reserved = {
            {bi->cpu_page_gpa, 4096},
            {(uint64_t)(uintptr_t)bi, sizeof(*bi)},
        },
    };
    kernel__main(&bp);
}

void hal_proc__irq_entry(uint64_t vector)
{
    struct hal_proc *h = &hal_proc_state;
    if (h->dispatch)
        h->dispatch(h->dispatch_ctx, (unsigned)vector & 0xFF);
}

void hal__irq_init(hal_irq_dispatch_fn fn, void *ctx)
{
    struct hal_proc *h = &hal_proc_state;
    h->dispatch = fn;
    h->dispatch_ctx = ctx;
    x86_idt__fill(h->idt, HAL_NUM_VECTORS, hal_proc_isr_stubs);
    struct idt_ptr p = {.limit = sizeof(h->idt) - 1, .base = (uint64_t)(uintptr_t)h->idt};
    __asm__ volatile("lidt %0" ::"m"(p) : "memory"); /* traps: the runner records it */
    /* The virtual IF starts clear, as on x86 at reset: set it once (one
     * exit); from here on masking is the irq_masked flag, still set. */
    __asm__ volatile("sti" ::: "memory");
}

/* A pending interrupt is delivered at the next trap; sti is the cheapest
 * one that never blocks (hlt would wait if the runner got there first). */
static void hal_proc__deliver_pending(struct proc_cpu_page *cpu)
{
    __asm__ volatile("mfence" ::: "memory");
    if (cpu->irq_pending)
        __asm__ volatile("sti" ::: "memory");
}

bool hal__irq_save(void)
{
    struct proc_cpu_page *cpu = hal_proc_state.cpu;
    bool was = cpu->irq_masked == 0;
    cpu->irq_masked = 1;
    hal__barrier();
    return was;
}

void hal__irq_enable(void)
{
    struct proc_cpu_page *cpu = hal_proc_state.cpu;
    hal__barrier();
    cpu->irq_masked = 0;
    hal_proc__deliver_pending(cpu);
}

void hal__irq_restore(bool was_enabled)
{
    if (was_enabled)
        hal__irq_enable();
}

void hal__irq_wait(void)
{
    /* In assembly (isr.S) so the interrupt stub can recognise the window
     * between unmask and hlt and skip the hlt. */
    hal__barrier();
    hal_proc__idle(hal_proc_state.cpu);
    hal__barrier();
}

uint64_t hal__tsc_hz(void)
{
    return hal_proc_state.tsc_hz;
}

uint64_t hal__now_ns(void)
{
    return (uint64_t)(((unsigned __int128)hal__rdtsc() * hal_proc_state.ns_mult) >> 32);
}

void hal__intx_enable(unsigned vector)
{
    (void)vector; /* the hypervisor injects INTx as vector 32 + line */
}

uint64_t hal__hpet_base(void)
{
    return PLATFORM_HPET_BASE;
}

void hal__poweroff(int status)
{
    for (;;) {
        hal__outl(PLATFORM_PORT_EXIT, (uint32_t)status);
        __asm__ volatile("hlt");
    }
}
