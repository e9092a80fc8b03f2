/* PCI INTx on the bare port: the I/O APIC (82093AA datasheet) at
 * 0xFEC00000, every input masked, then the PCI interrupt lines routed the
 * way the firmware routed them.
 *
 * The kernel takes INTx on vector 32 + the function's Interrupt Line
 * register (guest/kernel/irq.h), and firmware writes into that register
 * the 8259 IRQ its PIRQ line is steered to.  On q35 (ICH9 LPC at 00:1f.0,
 * drivers/platform/ich9_lpc.h) PIRQn also reaches I/O APIC input 16 + n,
 * so input 16 + n becomes vector 32 + PIRQ[n]_ROUT.IRQ: each device's
 * interrupt arrives on the vector its line register names, without this
 * port knowing the chipset's slot swizzle.  PIRQs firmware steered to the
 * same IRQ share that vector, as they share the 8259 line.  Inputs stay
 * masked until the kernel has a handler on their vector
 * (hal__intx_enable), so a line asserted by a device nobody drives cannot
 * storm the CPU.
 *
 * Level triggered, active high: what QEMU's q35 ACPI tables declare for
 * GSI 16-23 and how its chipset model drives the I/O APIC inputs (the
 * ICH9's external PIRQ# pins are active low, but the I/O APIC sees the
 * chipset's internal, inverted level).  EOI after the handler quieted the
 * device (hal_bare_irq.c).
 *
 * Without an ICH9 LPC (iovirt's platform, docs/platform.md) a function's
 * Interrupt Line register names its I/O APIC input directly, as iovirt's
 * MP table publishes it (the APIC convention: line = GSI): input L becomes
 * vector 32 + L, level triggered.  Without an I/O APIC nothing is routed:
 * the kernel then uses MSI/MSI-X. */
#include "guest/hal/bare/hal_bare.h"

#include "drivers/apic/apic_regs.h"
#include "drivers/platform/ich9_lpc.h"
#include "drivers/platform/platform_map.h"

#define IOAPIC_BASE ((uintptr_t)IOAPIC_DEFAULT_BASE)

static void ioapic_write_rte(unsigned gsi, unsigned vector);

/* Vector each I/O APIC input is routed to, 0 = not routed. */
#define IOAPIC_MAX_INPUTS 24
static uint8_t input_vector[IOAPIC_MAX_INPUTS];

static void route_input(unsigned gsi, unsigned vector)
{
    input_vector[gsi] = (uint8_t)vector;
    ioapic_write_rte(gsi, vector);
}

static uint32_t ioapic_read(unsigned reg)
{
    hal__mmio_write32(IOAPIC_BASE + IOAPIC_IOREGSEL, reg);
    return hal__mmio_read32(IOAPIC_BASE + IOAPIC_IOWIN);
}

static void ioapic_write(unsigned reg, uint32_t v)
{
    hal__mmio_write32(IOAPIC_BASE + IOAPIC_IOREGSEL, reg);
    hal__mmio_write32(IOAPIC_BASE + IOAPIC_IOWIN, v);
}

/* Level triggered, fixed delivery to CPU 0, masked until hal__intx_enable. */
static void ioapic_write_rte(unsigned gsi, unsigned vector)
{
    ioapic_write(IOAPIC_REG_REDTBL_HI(gsi), IOAPIC_RTE_DEST(0));
    ioapic_write(IOAPIC_REG_REDTBL_LO(gsi), IOAPIC_RTE_VECTOR(vector) | IOAPIC_RTE_DELMOD_FIXED |
                                                IOAPIC_RTE_DESTMOD_PHYS | IOAPIC_RTE_TRIGGER_LEVEL |
                                                IOAPIC_RTE_MASKED);
}

/* PCI configuration mechanism #1 (PCI 3.0, 3.2.2.3.2), bus 0 only. */
static uint32_t pci0_read32(unsigned dev, unsigned fn, unsigned off)
{
    hal__outl(PLATFORM_PORT_PCI_ADDR, 0x80000000u | dev << 11 | fn << 8 | (off & 0xFC));
    return hal__inl(PLATFORM_PORT_PCI_DATA);
}

/* iovirt: each function with an interrupt pin on the input its line names
 * (lines the PC's ISA devices own, 0-2, 8, 13, are not taken). */
static void hal_bare__route_lines(unsigned npins)
{
    hal_bare__printf("bare: INTx by Interrupt Line (no ICH9 LPC) ->");
    for (unsigned dev = 0; dev < 32; dev++) {
        if ((pci0_read32(dev, 0, 0) & 0xFFFF) == 0xFFFF)
            continue;
        uint32_t r = pci0_read32(dev, 0, 0x3C); /* Interrupt Line, Interrupt Pin */
        unsigned line = r & 0xFF, pin = r >> 8 & 0xFF;
        if (!pin || line >= npins || line >= IOAPIC_MAX_INPUTS || line < 3 || line == 8 || line == 13)
            continue;
        route_input(line, 32 + line); /* guest/kernel/irq.h: 32 + line */
        hal_bare__printf(" %02x.0:%u", dev, 32 + line);
    }
    hal_bare__printf(" (vectors, level, masked until used)\n");
}

static void hal_bare__route_pirqs(unsigned npins)
{
    uint32_t id = pci0_read32(ICH9_LPC_DEV, 0, 0);
    if ((id & 0xFFFF) != ICH9_LPC_VENDOR || id >> 16 != ICH9_LPC_DEVICE) {
        hal_bare__route_lines(npins);
        return;
    }
    uint32_t rout[2] = {pci0_read32(ICH9_LPC_DEV, 0, ICH9_LPC_PIRQA_ROUT),
                        pci0_read32(ICH9_LPC_DEV, 0, ICH9_LPC_PIRQE_ROUT)};
    hal_bare__printf("bare: INTx PIRQ A-H ->");
    for (unsigned n = 0; n < ICH9_NUM_PIRQ; n++) {
        uint8_t r = (uint8_t)(rout[n / 4] >> (8 * (n % 4)));
        unsigned gsi = ICH9_PIRQ_GSI_BASE + n;
        unsigned irq = ICH9_PIRQ_ROUT_IRQ(r);
        /* IRQEN set, or an IRQ the chipset reserves (0-2, 8, 13): unrouted */
        if ((r & ICH9_PIRQ_ROUT_IRQEN) || irq < 3 || irq == 8 || irq == 13 || gsi >= npins ||
            gsi >= IOAPIC_MAX_INPUTS) {
            hal_bare__printf(" -");
            continue;
        }
        unsigned vector = 32 + irq;            /* guest/kernel/irq.h: 32 + line */
        route_input(gsi, vector);
        hal_bare__printf(" %u", vector);
    }
    hal_bare__printf(" (vectors, I/O APIC inputs 16-23, level, masked until used)\n");
}

void hal__intx_enable(unsigned vector)
{
    for (unsigned gsi = 0; gsi < IOAPIC_MAX_INPUTS; gsi++) {
        if (!input_vector[gsi] || input_vector[gsi] != vector)
            continue;
        ioapic_write(IOAPIC_REG_REDTBL_LO(gsi), ioapic_read(IOAPIC_REG_REDTBL_LO(gsi)) & ~IOAPIC_RTE_MASKED);
    }
}

void hal_bare__ioapic_init(void)
{
    uint32_t ver = ioapic_read(IOAPIC_REG_VER);
    if (ver == 0xFFFFFFFFu || ver == 0) {
        hal_bare__printf("bare: no I/O APIC at %#lx: INTx not routed\n", (unsigned long)IOAPIC_BASE);
        return;
    }
    unsigned npins = IOAPIC_VER_MAX_REDIR(ver) + 1;
    for (unsigned i = 0; i < npins; i++) {
        ioapic_write(IOAPIC_REG_REDTBL_LO(i), IOAPIC_RTE_MASKED);
        ioapic_write(IOAPIC_REG_REDTBL_HI(i), 0);
    }
    hal_bare__printf("bare: I/O APIC version %#x, %u inputs\n", ver & 0xFF, npins);
    hal_bare__route_pirqs(npins);
}
