/* The local APIC of the bare port (Intel SDM Vol. 3 chapter 10): enabled
 * through the spurious-interrupt vector register, xAPIC MMIO at
 * 0xFEE00000, or the x2APIC MSRs when firmware left it in x2APIC mode.
 * MSIs (address 0xFEE00000 | dest << 12, data = vector; hal.h) arrive here
 * directly.  The 8259 pair is remapped out of the exception range and
 * masked: PCI INTx comes through the I/O APIC (hal_bare_ioapic.c). */
#include "guest/hal/bare/hal_bare.h"

#include "drivers/apic/apic_regs.h"
#include "guest/hal/bare/bare_cpu.h"

static struct {
    bool x2apic;
    uintptr_t base;
} lapic;

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static void lapic_write(unsigned reg, uint32_t v)
{
    if (lapic.x2apic)
        wrmsr(X2APIC_MSR(reg), v);
    else
        hal__mmio_write32(lapic.base + reg, v);
}

static uint32_t lapic_read(unsigned reg)
{
    return lapic.x2apic ? (uint32_t)rdmsr(X2APIC_MSR(reg)) : hal__mmio_read32(lapic.base + reg);
}

void hal_bare__lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

/* 8259A initialisation words (Intel 8259A datasheet, "Initialization
 * Command Words"): ICW1 edge + ICW4 needed, ICW2 vector base, ICW3
 * cascade on IRQ2, ICW4 8086 mode; then OCW1 masks every line.  Vectors
 * 0xF0..0xFF: a spurious IRQ7/15 the masked PIC can still raise lands
 * in the reserved range, not on an exception. */
static void hal_bare__pic_off(void)
{
    static const uint8_t seq[][2] = {{0x20, 0x11}, {0xA0, 0x11}, {0x21, 0xF0}, {0xA1, 0xF8},
                                     {0x21, 0x04}, {0xA1, 0x02}, {0x21, 0x01}, {0xA1, 0x01},
                                     {0x21, 0xFF}, {0xA1, 0xFF}};
    for (unsigned i = 0; i < sizeof seq / sizeof seq[0]; i++)
        hal__outb(seq[i][0], seq[i][1]);
}

void hal_bare__lapic_init(void)
{
    hal_bare__pic_off();
    uint64_t base = rdmsr(MSR_APIC_BASE);
    lapic.x2apic = (base & APIC_BASE_EXTD) != 0;
    if (!lapic.x2apic && !(base & APIC_BASE_EN))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
    lapic.base = (uintptr_t)(base & 0xFFFFF000ull);
    if (!lapic.x2apic && lapic.base != LAPIC_DEFAULT_BASE)
        hal_bare__printf("bare: local APIC at %#lx, MSIs address 0xFEE00000\n", (unsigned long)lapic.base);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);    /* the 8259's ExtINT path */
    lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | HAL_BARE_SPURIOUS_VECTOR);
    hal_bare__printf("bare: local APIC %s, id %u, version %#x\n", lapic.x2apic ? "x2APIC" : "xAPIC",
                     lapic.x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24,
                     lapic_read(LAPIC_VERSION) & 0xFF);
}
