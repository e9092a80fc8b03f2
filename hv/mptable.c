#include "hv/mptable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/apic/apic_regs.h"
#include "drivers/platform/platform_map.h"

#define MPTABLE_ISA_IRQS 16

size_t mptable__max_size(unsigned npci)
{
    return sizeof(struct mpf_intel) + sizeof(struct mpc_table) + sizeof(struct mpc_cpu) +
           2 * sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
           (MPTABLE_ISA_IRQS - 1 + (size_t)npci + 2) * sizeof(struct mpc_intsrc);
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static int check_pci(const struct mptable_pci_irq *pci, unsigned npci)
{
    if (npci > MPTABLE_MAX_PCI_IRQS)
        return -E2BIG;
    if (npci && !pci)
        return -EINVAL;
    uint32_t seen[32] = {0}; /* pins per device */
    for (unsigned i = 0; i < npci; i++) {
        const struct mptable_pci_irq *p = &pci[i];
        if (p->dev > 31 || p->pin < 1 || p->pin > 4 || p->line >= MPTABLE_IOAPIC_PINS ||
            (p->line < MPTABLE_ISA_IRQS && (MPTABLE_ISA_FIXED_IRQS >> p->line & 1)) ||
            (seen[p->dev] >> p->pin & 1))
            return -EINVAL;
        seen[p->dev] |= 1u << p->pin;
    }
    return 0;
}

/* Appends an entry of `len` bytes; the room was checked up front. */
struct cursor {
    uint8_t *p;
    uint16_t count;
};

static void put(struct cursor *c, const void *e, size_t len)
{
    memcpy(c->p, e, len);
    c->p += len;
    c->count++;
}

static void put_intsrc(struct cursor *c, uint8_t type, uint8_t irqtype, uint8_t bus, uint8_t srcirq,
                       uint8_t dstapic, uint8_t dstirq)
{
    struct mpc_intsrc e = {.type = type, .irqtype = irqtype, .irqflag = MP_IRQPOL_DEFAULT | MP_IRQTRIG_DEFAULT,
                           .srcbus = bus, .srcbusirq = srcirq, .dstapic = dstapic, .dstirq = dstirq};
    put(c, &e, sizeof e);
}

long mptable__build(void *buf, size_t size, uint32_t gpa, const struct mptable_pci_irq *pci, unsigned npci)
{
    int r = check_pci(pci, npci);
    if (r)
        return r;
    size_t max = mptable__max_size(npci);
    if (gpa % 16 || (uint64_t)gpa + max > 0x100000000ull)
        return -EINVAL;
    if (!buf || size < max)
        return -ENOSPC;
    memset(buf, 0, max);
    uint8_t *base = buf;
    struct mpf_intel *mpf = buf;
    struct mpc_table *mpc = (struct mpc_table *)(base + sizeof *mpf);
    struct cursor c = {.p = (uint8_t *)(mpc + 1)};

    struct mpc_cpu cpu = {.type = MP_PROCESSOR, .apicid = 0, .apicver = MPTABLE_LAPIC_VERSION,
                          .cpuflag = CPU_ENABLED | CPU_BOOTPROCESSOR,
                          .cpufeature = 0x600,      /* family 6 */
                          .featureflag = 0x201};    /* FPU, APIC */
    put(&c, &cpu, sizeof cpu);
    struct mpc_bus pci_bus = {.type = MP_BUS, .busid = MPTABLE_PCI_BUS};
    memcpy(pci_bus.bustype, MP_BUS_PCI, sizeof pci_bus.bustype);
    put(&c, &pci_bus, sizeof pci_bus);
    struct mpc_bus isa_bus = {.type = MP_BUS, .busid = MPTABLE_ISA_BUS};
    memcpy(isa_bus.bustype, MP_BUS_ISA, sizeof isa_bus.bustype);
    put(&c, &isa_bus, sizeof isa_bus);
    struct mpc_ioapic io = {.type = MP_IOAPIC, .apicid = MPTABLE_IOAPIC_ID, .apicver = MPTABLE_IOAPIC_VERSION,
                            .flags = MPC_APIC_USABLE, .apicaddr = (uint32_t)PLATFORM_IOAPIC_BASE};
    put(&c, &io, sizeof io);

    uint32_t pci_lines = 0;
    for (unsigned i = 0; i < npci; i++)
        pci_lines |= 1u << pci[i].line;
    for (unsigned irq = 0; irq < MPTABLE_ISA_IRQS; irq++) {
        unsigned pin = irq == 0 ? 2 : irq; /* the PIT's GSI 0 reaches input 2 */
        if (irq == 2 || (pci_lines >> pin & 1))
            continue;                      /* the cascade; a PCI line's input */
        put_intsrc(&c, MP_INTSRC, mp_INT, MPTABLE_ISA_BUS, (uint8_t)irq, MPTABLE_IOAPIC_ID, (uint8_t)pin);
    }
    for (unsigned i = 0; i < npci; i++)
        put_intsrc(&c, MP_INTSRC, mp_INT, MPTABLE_PCI_BUS, MP_PCI_SRCIRQ(pci[i].dev, pci[i].pin),
                   MPTABLE_IOAPIC_ID, pci[i].line);
    put_intsrc(&c, MP_LINTSRC, mp_ExtINT, MPTABLE_ISA_BUS, 0, MP_APIC_ALL, 0);
    put_intsrc(&c, MP_LINTSRC, mp_NMI, MPTABLE_ISA_BUS, 0, MP_APIC_ALL, 1);

    memcpy(mpc->signature, MPC_SIGNATURE, 4);
    mpc->length = (uint16_t)(c.p - (uint8_t *)mpc);
    mpc->spec = MP_SPEC_REV_1_4;
    memcpy(mpc->oem, "IOVIRT  ", sizeof mpc->oem);
    memcpy(mpc->productid, "PC          ", sizeof mpc->productid);
    mpc->oemcount = c.count;
    mpc->lapic = (uint32_t)LAPIC_DEFAULT_BASE;
    mpc->checksum = (uint8_t)-sum8((const uint8_t *)mpc, mpc->length);

    memcpy(mpf->signature, MPF_SIGNATURE, 4);
    mpf->physptr = gpa + (uint32_t)sizeof *mpf;
    mpf->length = 1;
    mpf->specification = MP_SPEC_REV_1_4;
    mpf->checksum = (uint8_t)-sum8((const uint8_t *)mpf, sizeof *mpf);
    return (long)(c.p - base);
}

int mptable__write(struct vcpu_memmap *m, const struct mptable_pci_irq *pci, unsigned npci, uint32_t *gpa_out)
{
    size_t max = mptable__max_size(npci > MPTABLE_MAX_PCI_IRQS ? 0 : npci);
    uint32_t gpa = (uint32_t)((MPTABLE_RESET_VECTOR - max) & ~15u);
    uint8_t *buf = malloc(max);
    if (!buf)
        return -ENOMEM;
    /* guest RAM there, in however many regions: else nothing to do */
    if (vcpu_memmap__read(m, gpa, buf, max)) {
        free(buf);
        return -ENOENT;
    }
    long n = mptable__build(buf, max, gpa, pci, npci);
    int r = n < 0 ? (int)n : vcpu_memmap__write(m, gpa, buf, (size_t)n);
    free(buf);
    if (!r && gpa_out)
        *gpa_out = gpa;
    return r;
}
