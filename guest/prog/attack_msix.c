/* msix: an attacker's writes to the MSI-X table of its NIC (a function
 * with MSI-X, e.g. QEMU's virtio-net-pci assigned through VFIO, or our
 * virtio-net).  The table the guest sees is the hypervisor's copy: what
 * it holds only decides which vector of this guest an interrupt becomes.
 * Entry 0 (the driver's) is rewritten with messages aimed at exception
 * vectors, NMI/INIT/SMI delivery, addresses outside the interrupt window
 * and above 4 GiB; the table is written past its end, into the PBA, with
 * odd sizes, and its enable and function mask are toggled.  Each message
 * is tried with one ping whose reply raises the interrupt.  Contained:
 * this guest keeps running, nothing arrives on a refused message, and the
 * driver's own vector works again once entry 0 is restored.  The host's
 * side (no host vector raised, no remapping fault) is checked by the test
 * that runs this (tests/testvm/test_vfio_assign.c).  Bounded throughout. */
#include <string.h>

#include "guest/prog/attack.h"
#include "guest/kernel/knet.h"
#include "guest/net/icmp.h"
#include "guest/pci/pci_regs.h"

#define MSIX_PING_ID 0x4d58 /* "MX" */
#define MSIX_SPY_VECTOR 0x61 /* the test machine's L1 kernel has no handler there */

struct msix_spy {
    volatile uint64_t hits[256];
    volatile unsigned replies;
};

static void msix_count(void *ctx, unsigned vector)
{
    struct msix_spy *s = ctx;
    s->hits[vector & 255]++;
}

static void msix_reply(void *ctx, uint32_t src_ip, uint16_t id, uint16_t seq, uint64_t rtt_ns)
{
    (void)src_ip, (void)seq, (void)rtt_ns;
    struct msix_spy *s = ctx;
    if (id == MSIX_PING_ID)
        s->replies++;
}

/* One ping; wait (bounded) for its reply, polling, so a misdirected
 * interrupt does not stall the attack.  Returns whether the reply came. */
static bool msix_ping(struct kernel *k, struct msix_spy *s, uint32_t dst, uint16_t seq)
{
    unsigned before = s->replies;
    icmp__ping(&k->net->stack, dst, MSIX_PING_ID, seq, 32);
    uint64_t end = hal__now_ns() + 1500000000ull;
    while (s->replies == before && hal__now_ns() < end) {
        knet__poll(k);
        attack__sleep_ms(k, 5);
    }
    attack__sleep_ms(k, 20); /* let a late interrupt land before counting */
    return s->replies != before;
}

static uint64_t msix_total(const struct msix_spy *s)
{
    uint64_t t = 0;
    for (unsigned v = 0; v < 256; v++)
        t += s->hits[v];
    return t;
}

static void msix_write_entry(volatile uint32_t *e, uint64_t addr, uint32_t data)
{
    e[PCI_MSIX_ENTRY_CTRL / 4] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    e[PCI_MSIX_ENTRY_ADDR_LO / 4] = (uint32_t)addr;
    e[PCI_MSIX_ENTRY_ADDR_HI / 4] = (uint32_t)(addr >> 32);
    e[PCI_MSIX_ENTRY_DATA / 4] = data;
    e[PCI_MSIX_ENTRY_CTRL / 4] = 0;
}

int attack_irq__msix(struct kernel *k, int argc, char **argv)
{
    uint32_t dst = 0x0A000201; /* 10.0.2.1 */
    if (argc > 1 && cmdline__parse_ipv4(argv[1], &dst)) {
        kprintf("ATTACK msix: usage: attack msix [PEER-IP]\n");
        return 2;
    }
    if (knet__up(k))
        return 2;
    struct nic *n = &k->net->nic;
    struct pci_dev *d = NULL;
    struct pci_bus *bus = kernel__pci(k);
    for (unsigned i = 0; i < bus->ndevs && !d; i++)
        if (bus->devs[i].claimed && bus->devs[i].cap_msix)
            d = &bus->devs[i];
    volatile uint32_t *e0 = d ? pci__msix_entry(d, 0) : NULL;
    if (n->irq_mode != NIC_IRQ_MSIX || !e0 || n->vector < 32) {
        kprintf("ATTACK msix: needs a NIC using MSI-X (e.g. --assign vfio:<virtio-net-pci>)\n");
        return 2;
    }
    struct msix_spy *s = kernel__alloc_pages(k, (sizeof *s + 4095) / 4096);
    if (!s)
        return 2;
    memset((void *)s, 0, sizeof *s);
    icmp__set_reply_fn(&k->net->stack, msix_reply, s);
    /* Spies on every free vector an attacker could aim at; the driver's
     * own vector keeps its handler (n->irqs counts there). */
    for (unsigned v = 32; v < 256; v++)
        if (v != (unsigned)n->vector)
            irq__register(&k->irqs, v, msix_count, s);
    int bad = 0;
    uint16_t seq = 1;
    uint64_t own0 = n->irqs;
    bool got = msix_ping(k, s, dst, seq++);
    ATTACK_SAW("msix", "baseline: reply %s, %llu interrupt(s) on the driver's vector 0x%x", got ? "yes" : "no",
               (unsigned long long)(n->irqs - own0), n->vector);
    if (!got || n->irqs == own0) {
        kprintf("ATTACK msix: the NIC does not answer with MSI-X before the attack: nothing to measure\n");
        return 2;
    }

    static const struct {
        uint64_t addr;
        uint32_t data;
        const char *what;
        bool arrives; /* on MSIX_SPY_VECTOR, in this guest only */
    } tries[] = {
        {0xFEE00000ull, MSIX_SPY_VECTOR, "vector 0x61 (free in the L1 host's IDT)", true},
        {0xFEE00000ull, 0x400 | MSIX_SPY_VECTOR, "NMI delivery mode, vector 0x61", true},
        {0xFEE00000ull, 0x0E, "vector 14 (#PF)", false},
        {0xFEE00000ull, 0x402, "vector 2, NMI delivery mode", false},
        {0xFEE00000ull, 0x500, "INIT delivery mode, vector 0", false},
        {0xFEE00000ull, 0x200, "SMI delivery mode, vector 0", false},
        {0xFEE00000ull, 0x700, "ExtINT delivery mode, vector 0", false},
        {0xFEE00010ull, 0x61, "remappable-format bit, handle 0", true},
        {0xFED00000ull, MSIX_SPY_VECTOR, "address 0xFED00000 (the HPET, not the interrupt window)", false},
        {0x1FEE00000ull, MSIX_SPY_VECTOR, "address 0x1_FEE00000 (above 4 GiB)", false},
        {0x0ull, MSIX_SPY_VECTOR, "address 0 (guest RAM)", false},
        {0xFFFFFFFFFFFFFFF0ull, 0xFFFFFFFFu, "all-ones address and data", false},
    };
    for (unsigned t = 0; t < sizeof tries / sizeof tries[0]; t++) {
        ATTACK_TRY("msix", "entry 0 = address 0x%llx data 0x%x: %s", (unsigned long long)tries[t].addr,
                   tries[t].data, tries[t].what);
        uint64_t total0 = msix_total(s), own = n->irqs, spy = s->hits[MSIX_SPY_VECTOR];
        msix_write_entry(e0, tries[t].addr, tries[t].data);
        got = msix_ping(k, s, dst, seq++);
        uint64_t spied = s->hits[MSIX_SPY_VECTOR] - spy, elsewhere = msix_total(s) - total0 - spied;
        ATTACK_SAW("msix", "reply %s; %llu on 0x61, %llu on other vectors, %llu on the driver's", got ? "yes" : "no",
                   (unsigned long long)spied, (unsigned long long)elsewhere, (unsigned long long)(n->irqs - own));
        /* a refused message raises nothing; an accepted one only this guest's vector */
        if (elsewhere || n->irqs != own || (!tries[t].arrives && spied)) {
            kprintf("ATTACK msix: NOT contained: %s\n", tries[t].what);
            bad++;
        }
    }

    /* Beyond the table, the PBA, odd access sizes, enable and mask toggles. */
    int qsize = pci__msix_size(d);
    volatile uint32_t *last = pci__msix_entry(d, (unsigned)qsize - 1);
    ATTACK_TRY("msix", "writes past entry %d, into the PBA, 1/2/8-byte table writes, 500 enable/mask toggles",
               qsize - 1);
    const struct pci_bar *tb = &d->bar[pci__read32(d, (uint16_t)(d->cap_msix + PCI_MSIX_TABLE)) & PCI_MSIX_BIR_MASK];
    uint32_t pba = pci__read32(d, (uint16_t)(d->cap_msix + PCI_MSIX_PBA));
    const struct pci_bar *pb = &d->bar[pba & PCI_MSIX_BIR_MASK];
    uint64_t pba_off = pba & ~PCI_MSIX_BIR_MASK;
    uintptr_t past = (uintptr_t)(last + 4);
    if (past + 16 <= (uintptr_t)(tb->addr + tb->size))
        for (unsigned i = 0; i < 4; i++)
            ((volatile uint32_t *)past)[i] = 0xFFFFFFFFu;
    if (!pb->io && pb->addr && pba_off + 8 <= pb->size) {
        volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)(pb->addr + pba_off);
        p[0] = 0xFFFFFFFFu, p[1] = 0xFFFFFFFFu;
    }
    ((volatile uint8_t *)e0)[PCI_MSIX_ENTRY_DATA] = 0x03;
    ((volatile uint16_t *)e0)[PCI_MSIX_ENTRY_ADDR_LO / 2] = 0xFFFF;
    *(volatile uint64_t *)e0 = 0xFFFFFFFFFEE00000ull;
    uint16_t fl = pci__read16(d, (uint16_t)(d->cap_msix + PCI_MSIX_FLAGS));
    for (unsigned i = 0; i < 500; i++)
        pci__write16(d, (uint16_t)(d->cap_msix + PCI_MSIX_FLAGS),
                     (uint16_t)(fl ^ (i & 1 ? PCI_MSIX_FLAGS_ENABLE : PCI_MSIX_FLAGS_MASKALL)));
    pci__write16(d, (uint16_t)(d->cap_msix + PCI_MSIX_FLAGS), fl);
    uint64_t total0 = msix_total(s), own = n->irqs;
    got = msix_ping(k, s, dst, seq++);
    ATTACK_SAW("msix", "reply %s; %llu interrupt(s) anywhere, %llu on the driver's vector", got ? "yes" : "no",
               (unsigned long long)(msix_total(s) - total0), (unsigned long long)(n->irqs - own));

    /* Restore: the driver's message again; its interrupts must come back. */
    msix_write_entry(e0, 0xFEE00000ull, (uint32_t)n->vector);
    own = n->irqs;
    got = msix_ping(k, s, dst, seq++) && msix_ping(k, s, dst, seq++);
    ATTACK_SAW("msix", "entry 0 restored: replies %s, %llu interrupt(s) on the driver's vector 0x%x",
               got ? "yes" : "no", (unsigned long long)(n->irqs - own), n->vector);
    if (!got || n->irqs == own) {
        kprintf("ATTACK msix: the NIC's interrupts did not come back after the restore\n");
        bad++;
    }
    return bad ? 1 : 0;
}
