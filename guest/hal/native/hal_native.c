/* The native port of the HAL (see guest/hal/hal.h, drivers/platform/
 * native_abi.h): the kernel is the machine's own OS.  Device accesses are
 * calls into the machine's bus; interrupt masking is the irq_masked word of
 * the CPU state shared with the machine; a pending vector is taken when the
 * CPU runs kernel code unmasked (the machine's signal), or by the port
 * itself after a bus call, at unmask and at hlt. */
#include "guest/hal/hal.h"
#include "guest/hal/x86_idt.h"

#include "drivers/platform/native_abi.h"
#include "drivers/platform/platform_map.h"


struct hal_native {
    const struct native_bus *bus;
    struct native_cpu *cpu;
    hal_irq_dispatch_fn dispatch;
    void *dispatch_ctx;
    uint64_t tsc_hz;
    uint64_t ns_mult;                   /* ns = tsc * ns_mult >> 32 */
    char cmdline[512];
    struct idt_gate idt[HAL_NUM_VECTORS] __attribute__((aligned(16)));
};

static struct hal_native hal_native_state;
extern const char hal_native_isr_stubs[];
extern const char hal_native_stopped[];

void hal_native__start(const struct native_bootinfo *bi) __attribute__((noreturn));
void hal_native__exit(int status) __attribute__((noreturn));
void hal_native__soft_int(uint64_t handler);
void hal_native__irq_entry(uint64_t vector);
static void hal_native__deliver_pending(void);

#define H (&hal_native_state)

/* ---- bus accesses --------------------------------------------------------- */

/* After every bus call: a vector raised while the CPU was in the machine's
 * code (where it is never delivered) is taken now; a stop leaves. */
static inline void after_bus(void)
{
    if (__builtin_expect(H->cpu->attention != 0, 0))
        hal_native__deliver_pending();
}

#define PIO_OUT(name, type, size)                                   \
    void name(uint16_t port, type v)                                \
    {                                                               \
        H->bus->pio_write(H->bus->ctx, port, size, v);              \
        after_bus();                                                \
    }
#define PIO_IN(name, type, size)                                    \
    type name(uint16_t port)                                        \
    {                                                               \
        type v = (type)H->bus->pio_read(H->bus->ctx, port, size);   \
        after_bus();                                                \
        return v;                                                   \
    }
#define MMIO_WRITE(name, type, size)                                \
    void name(uintptr_t a, type v)                                  \
    {                                                               \
        H->bus->mmio_write(H->bus->ctx, a, size, v);                \
        after_bus();                                                \
    }
#define MMIO_READ(name, type, size)                                 \
    type name(uintptr_t a)                                          \
    {                                                               \
        type v = (type)H->bus->mmio_read(H->bus->ctx, a, size);     \
        after_bus();                                                \
        return v;                                                   \
    }

PIO_OUT(hal__outb, uint8_t, 1)
PIO_OUT(hal__outw, uint16_t, 2)
PIO_OUT(hal__outl, uint32_t, 4)
PIO_IN(hal__inb, uint8_t, 1)
PIO_IN(hal__inw, uint16_t, 2)
PIO_IN(hal__inl, uint32_t, 4)
MMIO_WRITE(hal__mmio_write8, uint8_t, 1)
MMIO_WRITE(hal__mmio_write16, uint16_t, 2)
MMIO_WRITE(hal__mmio_write32, uint32_t, 4)
MMIO_WRITE(hal__mmio_write64, uint64_t, 8)
MMIO_READ(hal__mmio_read8, uint8_t, 1)
MMIO_READ(hal__mmio_read16, uint16_t, 2)
MMIO_READ(hal__mmio_read32, uint32_t, 4)
MMIO_READ(hal__mmio_read64, uint64_t, 8)

/* ---- boot ------------------------------------------------------------------ */

void hal_native__start(const struct native_bootinfo *bi)
{
    struct hal_native *h = H;
    if (!bi || bi->magic != NATIVE_BOOTINFO_MAGIC || !bi->bus || !bi->cpu)
        hal_native__exit(2); /* no bus to print on */
    h->bus = bi->bus;
    h->cpu = bi->cpu;
    h->cpu->irq_masked = 1;
    h->cpu->stopped_rip = (uint64_t)(uintptr_t)hal_native_stopped;
    h->tsc_hz = bi->tsc_hz ? bi->tsc_hz : 1000000000ull;
    h->ns_mult = (1000000000ull << 32) / h->tsc_hz;

    unsigned n = 0;
    if (bi->cmdline)
        for (; n < sizeof(h->cmdline) - 1 && bi->cmdline[n]; n++)
            h->cmdline[n] = bi->cmdline[n];
    h->cmdline[n] = '\0';

    struct boot_params bp = {
        .ram_base = bi->ram_base,
        .ram_size = bi->ram_size,
        .free_start = bi->free_gpa,
        .cmdline = h->cmdline,
        .tsc_hz = h->tsc_hz,
    };
    kernel__main(&bp);
}

/* ---- interrupts -------------------------------------------------------------- */

static bool any_pending(const struct native_cpu *c)
{
    return (c->pending[0] | c->pending[1] | c->pending[2] | c->pending[3]) != 0;
}

static uint64_t gate_handler(unsigned v)
{
    const struct idt_gate *g = &H->idt[v];
    return (uint64_t)g->offset_lo | (uint64_t)g->offset_mid << 16 | (uint64_t)g->offset_hi << 32;
}

/* Take every pending vector the CPU accepts now (vif, unmasked), one at a
 * time, each entering its gate with irq_masked = 1.  Leaves on a stop. */
static void hal_native__deliver_pending(void)
{
    struct native_cpu *c = H->cpu;
    for (;;) {
        if (c->stop)
            hal_native__exit(NATIVE_STATUS_STOPPED);
        if (!c->vif || c->irq_masked)
            return;
        c->irq_masked = 1; /* from here the machine's signal does not deliver */
        hal__barrier();
        c->attention = 0;
        hal__mb();
        int v = native_cpu__take_pending(c);
        if (v < 0) {
            hal__barrier();
            c->irq_masked = 0;
            hal__mb();
            if (!any_pending(c) && !c->stop)
                return;
            continue;
        }
        __atomic_add_fetch(&c->delivered, 1, __ATOMIC_RELAXED);
        hal_native__soft_int(gate_handler((unsigned)v)); /* returns unmasked */
    }
}

void hal_native__irq_entry(uint64_t vector)
{
    struct hal_native *h = H;
    if (h->dispatch)
        h->dispatch(h->dispatch_ctx, (unsigned)vector & 0xFF);
    /* End of the handler: unmask and take what arrived meanwhile (nested
     * on this stack, as a CPU would after its iretq re-enabled IF). */
    hal__barrier();
    h->cpu->irq_masked = 0;
    hal__mb();
    hal_native__deliver_pending();
}

void hal__irq_init(hal_irq_dispatch_fn fn, void *ctx)
{
    struct hal_native *h = H;
    h->dispatch = fn;
    h->dispatch_ctx = ctx;
    x86_idt__fill(h->idt, HAL_NUM_VECTORS, hal_native_isr_stubs);
    h->bus->lidt(h->bus->ctx, (uint64_t)(uintptr_t)h->idt, sizeof(h->idt) - 1);
    /* IF starts clear, as on x86 at reset: set it once; from here on
     * masking is irq_masked, still set. */
    hal__barrier();
    h->cpu->vif = 1;
    hal__mb();
}

bool hal__irq_save(void)
{
    struct native_cpu *c = H->cpu;
    bool was = c->irq_masked == 0;
    c->irq_masked = 1;
    hal__barrier();
    return was;
}

void hal__irq_enable(void)
{
    struct native_cpu *c = H->cpu;
    hal__barrier();
    c->irq_masked = 0;
    hal__mb();
    hal_native__deliver_pending();
}

void hal__irq_restore(bool was_enabled)
{
    if (was_enabled)
        hal__irq_enable();
}

/* sti; hlt: unmask, then sleep in the machine until an interrupt has been
 * handled.  `delivered` closes the idle race: a vector delivered (by the
 * signal) after the check and before the halt call makes the halt return
 * at once instead of waiting for the next one. */
void hal__irq_wait(void)
{
    struct native_cpu *c = H->cpu;
    uint64_t seen = c->delivered;
    hal__barrier();
    c->irq_masked = 0;
    hal__mb();
    for (;;) {
        hal_native__deliver_pending();
        if (c->delivered != seen)
            break;
        H->bus->halt(H->bus->ctx, seen);
    }
    c->irq_masked = 1;
    hal__barrier();
}

/* ---- time and platform ----------------------------------------------------- */

uint64_t hal__tsc_hz(void)
{
    return H->tsc_hz;
}

uint64_t hal__now_ns(void)
{
    return (uint64_t)(((unsigned __int128)hal__rdtsc() * H->ns_mult) >> 32);
}

void hal__intx_enable(unsigned vector)
{
    (void)vector; /* the machine routes INTx to vector 32 + line */
}

uint64_t hal__hpet_base(void)
{
    return PLATFORM_HPET_BASE;
}

void hal__poweroff(int status)
{
    H->bus->poweroff(H->bus->ctx, status);
    hal_native__exit(status);
}
