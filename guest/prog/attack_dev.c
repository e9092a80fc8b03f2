/* Device attacks: interrupt spoofing through the virtual MSI, config space
 * abuse, and e1000 ring-register abuse.  Every loop is bounded. */
#include <string.h>

#include "guest/prog/attack.h"
#include "drivers/e1000/e1000_regs.h"

/* ---- msi_spoof ------------------------------------------------------------ */

static void count_irq(void *ctx, unsigned vector)
{
    (void)vector;
    (*(volatile uint64_t *)ctx)++;
}

/* Program the virtual MSI with (addr, data), make the NIC raise its
 * interrupt (ICS) and report how many arrived on `vector` here. */
static uint64_t fire(struct kernel *k, struct anic *n, uint64_t addr, uint32_t data, volatile uint64_t *hits)
{
    uint64_t before = *hits;
    pci__msi_enable(n->pci, addr, data);
    anic__rd(n, E1000_ICR);
    anic__wr(n, E1000_IMS, E1000_ICR_TXDW);
    anic__wr(n, E1000_ICS, E1000_ICR_TXDW);
    /* bounded wait: the NIC thread and the host's handler run when they can */
    for (unsigned i = 0; i < 10 && *hits == before; i++)
        attack__sleep_ms(k, 30);
    attack__sleep_ms(k, 10);
    anic__rd(n, E1000_ICR);
    anic__wr(n, E1000_IMC, 0xFFFFFFFFu);
    return *hits - before;
}

int attack_irq__msi_spoof(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct anic n;
    if (anic__open(k, &n) || !n.pci->cap_msi) {
        kprintf("ATTACK msi_spoof: needs an e1000 with MSI (--nic assigned)\n");
        return 2;
    }
    /* Counters in a page of their own: the handlers stay registered until
     * power-off, after this function has returned. */
    volatile uint64_t *ctr = kernel__alloc_pages(k, 1);
    int own = irq__alloc_vector(&k->irqs);
    if (!ctr || own < 0 || irq__register(&k->irqs, 0x40, count_irq, (void *)&ctr[0]) ||
        irq__register(&k->irqs, (unsigned)own, count_irq, (void *)&ctr[1]))
        return 2;
    volatile uint64_t *hits40 = &ctr[0], *hits_own = &ctr[1];
    int bad = 0;
    ATTACK_TRY("msi_spoof", "MSI data = vector 0x40 (the host NIC's vector), address 0xFEE00000");
    uint64_t h = fire(k, &n, 0xFEE00000ull, 0x40, hits40);
    ATTACK_SAW("msi_spoof", "%llu interrupt(s) on vector 0x40 of my own IDT (injected into me only)",
               (unsigned long long)h);
    ATTACK_TRY("msi_spoof", "MSI data = vector 2 (NMI) and delivery mode NMI (0x402)");
    h = fire(k, &n, 0xFEE00000ull, 0x402, hits40);
    ATTACK_SAW("msi_spoof", "still running, %llu interrupts on 0x40 (exception vectors are refused)",
               (unsigned long long)h);
    bad += h != 0;
    ATTACK_TRY("msi_spoof", "MSI address 0xFED00000 (not the interrupt window: the HPET), data 0x40");
    h = fire(k, &n, 0xFED00000ull, 0x40, hits40);
    ATTACK_SAW("msi_spoof", "%llu interrupt(s) (a non-0xFEE address is refused)", (unsigned long long)h);
    bad += h != 0;
    ATTACK_TRY("msi_spoof", "MSI aimed at APIC ID 0xFF (broadcast) with my own vector %d", own);
    h = fire(k, &n, 0xFEEFF000ull, (uint32_t)own, hits_own);
    ATTACK_SAW("msi_spoof", "%llu interrupt(s) on vector %d: destination ignored, delivered to me",
               (unsigned long long)h, own);
    pci__write16(n.pci, n.pci->cap_msi + PCI_MSI_FLAGS, 0);
    return bad ? 1 : 0;
}

/* ---- cfg ------------------------------------------------------------------ */

static unsigned walk_caps(struct pci_dev *d, const char *when)
{
    unsigned n = 0;
    uint8_t off = pci__read8(d, PCI_CAPABILITY_LIST) & 0xFC;
    kprintf("ATTACK cfg: capability list %s:", when);
    while (off && n < PCI_CAP_WALK_MAX) {
        kprintf(" [0x%x id 0x%x]", off, pci__read8(d, off));
        off = pci__read8(d, (uint16_t)(off + 1)) & 0xFC;
        n++;
    }
    kprintf(n >= PCI_CAP_WALK_MAX ? " ... loop (guard hit)\n" : "\n");
    return n;
}

int attack_cfg__run(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct anic n;
    if (anic__open(k, &n))
        return 2;
    struct pci_dev *d = n.pci;
    int bad = 0;
    uint32_t id = pci__read32(d, PCI_VENDOR_ID), cls = pci__read32(d, PCI_REVISION_ID);
    uint8_t capp = pci__read8(d, PCI_CAPABILITY_LIST);
    uint32_t bar0 = pci__read32(d, PCI_BAR0);
    uint16_t cmd = pci__read16(d, PCI_COMMAND);
    unsigned ncaps = walk_caps(d, "before");

    ATTACK_TRY("cfg", "write read-only fields: IDs, class/revision, cap pointer, header type, reserved 0x38");
    pci__write32(d, PCI_VENDOR_ID, 0xDEADBEEFu);
    pci__write32(d, PCI_REVISION_ID, 0xFFFFFFFFu);
    pci__write8(d, PCI_CAPABILITY_LIST, 0x40);
    pci__write8(d, PCI_HEADER_TYPE, 0x81);
    pci__write32(d, 0x38, 0xFFFFFFFFu);
    pci__write16(d, PCI_STATUS, 0xFFFF);
    uint32_t id2 = pci__read32(d, PCI_VENDOR_ID), cls2 = pci__read32(d, PCI_REVISION_ID);
    ATTACK_SAW("cfg", "IDs 0x%x -> 0x%x, class 0x%x -> 0x%x, cap ptr 0x%x -> 0x%x, reserved 0x38 reads 0x%x", id, id2,
               cls, cls2, capp, pci__read8(d, PCI_CAPABILITY_LIST), pci__read32(d, 0x38));
    bad += id2 != id || cls2 != cls;

    ATTACK_TRY("cfg", "make each capability's next pointer point at itself (a loop)");
    for (uint8_t off = capp & 0xFC, i = 0; off && i < PCI_CAP_WALK_MAX; i++) {
        uint8_t next = pci__read8(d, (uint16_t)(off + 1)) & 0xFC;
        pci__write8(d, (uint16_t)(off + 1), off);
        off = next;
    }
    unsigned ncaps2 = walk_caps(d, "after");
    ATTACK_SAW("cfg", "%u capabilities before, %u after (%s)", ncaps, ncaps2,
               ncaps2 == ncaps ? "next pointers are read-only" : "loop stopped by the walk guard");

    /* BAR0 onto guest RAM: the RAM must stay RAM. */
    uint32_t *page = kernel__alloc_pages(k, 1);
    if (!page)
        return 2;
    for (unsigned i = 0; i < 1024; i++)
        page[i] = 0xA5A50000u + i;
    ATTACK_TRY("cfg", "move BAR0 onto my own RAM page 0x%llx", (unsigned long long)hal__dma_addr(page));
    pci__write32(d, PCI_BAR0, (uint32_t)hal__dma_addr(page));
    unsigned same = 0;
    for (unsigned i = 0; i < 1024; i++)
        same += ((volatile uint32_t *)page)[i] == 0xA5A50000u + i;
    ATTACK_SAW("cfg", "BAR0 reads 0x%x; %u/1024 words of the page still read as my RAM", pci__read32(d, PCI_BAR0), same);
    bad += same != 1024;

    ATTACK_TRY("cfg", "move BAR0 onto the HPET (0x%llx) and onto the interrupt window 0xFEE00000",
               (unsigned long long)hal__hpet_base());
    pci__write32(d, PCI_BAR0, (uint32_t)hal__hpet_base());
    uint32_t hcap = hal__mmio_read32((uintptr_t)hal__hpet_base());
    pci__write32(d, PCI_BAR0, 0xFEE00000u);
    uint32_t bar_fee = pci__read32(d, PCI_BAR0);
    ATTACK_SAW("cfg", "HPET capabilities still read 0x%x (vendor 0x%x); BAR0 at 0xFEE00000 reads back 0x%x", hcap,
               hcap >> 16, bar_fee);
    uint64_t t0 = hal__now_ns();
    ATTACK_TRY("cfg", "toggle memory decode 2000 times");
    for (unsigned i = 0; i < 2000; i++)
        pci__write16(d, PCI_COMMAND, (uint16_t)(i & 1 ? cmd : 0));
    ATTACK_SAW("cfg", "toggled in %llu us", (unsigned long long)((hal__now_ns() - t0) / 1000));

    pci__write32(d, PCI_BAR0, bar0);
    pci__write16(d, PCI_COMMAND, cmd);
    uint32_t status = anic__rd(&n, E1000_STATUS);
    ATTACK_SAW("cfg", "BAR0 restored to 0x%x: NIC STATUS 0x%x (%s)", pci__read32(d, PCI_BAR0), status,
               status != 0xFFFFFFFFu ? "device still answers" : "device gone");
    bad += status == 0xFFFFFFFFu;
    return bad ? 1 : 0;
}

/* ---- e1000_rings ---------------------------------------------------------- */

static void tx_ring(struct anic *n, uint64_t base, uint32_t len)
{
    uint32_t tctl = anic__rd(n, E1000_TCTL);
    anic__wr(n, E1000_TCTL, 0);
    anic__wr(n, E1000_TDBAL, (uint32_t)base);
    anic__wr(n, E1000_TDBAH, (uint32_t)(base >> 32));
    anic__wr(n, E1000_TDLEN, len);
    anic__wr(n, E1000_TDH, 0);
    anic__wr(n, E1000_TDT, 0);
    anic__wr(n, E1000_TCTL, tctl);
}

int attack_e1000__rings(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct anic n;
    if (anic__open(k, &n))
        return 2;
    anic__arp_frame(&n);
    for (unsigned i = 0; i < ANIC_NDESC; i++)
        n.tx[i] = (struct e1000_tx_desc){.buffer_addr = hal__dma_addr(n.frame), .length = 60,
                                         .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B};
    static const struct { const char *what; uint32_t len; uint32_t tdt; } cases[] = {
        {"TX ring length 0, TDT 1", 0, 1},
        {"TX ring length 100 (not a multiple of 128), TDT 2", 100, 2},
        {"TX ring of 16, TDT 1000 (beyond the ring)", ANIC_NDESC * E1000_DESC_SIZE, 1000},
        {"TX ring of 0x80000 bytes (beyond RAM from its base), TDT 0x7FF0", 0x80000, 0x7FF0},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        anic__rd(&n, E1000_GPTC);
        ATTACK_TRY("e1000_rings", "%s", cases[c].what);
        uint64_t base = c == 3 ? k->bp.ram_base + k->bp.ram_size - 0x1000 : hal__dma_addr(n.tx);
        tx_ring(&n, base, cases[c].len);
        anic__wr(&n, E1000_TDT, cases[c].tdt);
        attack__sleep_ms(k, 10);
        /* the ring beyond RAM: wait (bounded) until the NIC has tried a
         * descriptor past the end (TDH advances past a failed fetch), so a
         * busy host delays the attack instead of skipping it */
        for (unsigned i = 0; c == 3 && i < 100 && anic__rd(&n, E1000_TDH) <= 0x1000 / E1000_DESC_SIZE; i++)
            attack__sleep_ms(k, 10);
        /* stop the transmitter: a ring beyond RAM faults on every poll */
        anic__wr(&n, E1000_TCTL, 0);
        ATTACK_SAW("e1000_rings", "TDH %u TDT %u, frames transmitted %u", anic__rd(&n, E1000_TDH),
                   anic__rd(&n, E1000_TDT), anic__rd(&n, E1000_GPTC));
        anic__wr(&n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    }
    ATTACK_TRY("e1000_rings", "race TDT against TDH: 20000 writes of TDT across the ring");
    tx_ring(&n, hal__dma_addr(n.tx), ANIC_NDESC * E1000_DESC_SIZE);
    anic__rd(&n, E1000_GPTC);
    for (unsigned i = 0; i < 20000; i++)
        anic__wr(&n, E1000_TDT, (i * 7) % ANIC_NDESC);
    attack__sleep_ms(k, 50);
    ATTACK_SAW("e1000_rings", "TDH %u, frames transmitted %u", anic__rd(&n, E1000_TDH), anic__rd(&n, E1000_GPTC));

    ATTACK_TRY("e1000_rings", "RX ring length 0 and RDT beyond the ring, then an ARP request");
    anic__wr(&n, E1000_RDLEN, 0);
    anic__wr(&n, E1000_RDH, 0);
    anic__wr(&n, E1000_RDT, 5000);
    tx_ring(&n, hal__dma_addr(n.tx), ANIC_NDESC * E1000_DESC_SIZE);
    n.tx_tail = 0;
    anic__tx(&n, hal__dma_addr(n.frame), 60);
    attack__sleep_ms(k, 50);
    ATTACK_SAW("e1000_rings", "RDH %u", anic__rd(&n, E1000_RDH));

    /* The NIC must still work once the rings are sane again. */
    tx_ring(&n, hal__dma_addr(n.tx), ANIC_NDESC * E1000_DESC_SIZE);
    n.tx_tail = 0;
    anic__rd(&n, E1000_GPTC);
    int st = anic__tx(&n, hal__dma_addr(n.frame), 60);
    uint32_t sent = anic__rd(&n, E1000_GPTC);
    ATTACK_SAW("e1000_rings", "control: sane ring, TX status 0x%x, frames transmitted %u", st < 0 ? 0 : st, sent);
    return sent ? 0 : 1;
}

/* ---- bme_off -------------------------------------------------------------- */

/* Clear Bus Master Enable, then ask the NIC to transmit: a function without
 * bus mastering issues no DMA (PCI 3.0 6.2.2), so the descriptor is never
 * fetched and nothing leaves; with the bit set again the same descriptor
 * goes out.  On the assigned NIC the guest's command register is forwarded
 * to the physical function, so this is the real NIC stopping its DMA. */
int attack_dev__bme_off(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct anic n;
    if (anic__open(k, &n))
        return 2;
    anic__arp_frame(&n);
    uint16_t cmd = pci__read16(n.pci, PCI_COMMAND);
    ATTACK_TRY("bme_off", "clear Bus Master Enable (command 0x%x -> 0x%x), then transmit one frame", cmd,
               cmd & ~PCI_COMMAND_MASTER);
    pci__write16(n.pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_COMMAND_MASTER));
    anic__rd(&n, E1000_GPTC);
    int st_off = anic__tx(&n, hal__dma_addr(n.frame), 60); /* waits up to 500 ms */
    uint32_t sent_off = anic__rd(&n, E1000_GPTC), tdh_off = anic__rd(&n, E1000_TDH);
    ATTACK_SAW("bme_off", "bus mastering off: TDH %u, descriptor status 0x%x, frames transmitted %u", tdh_off,
               st_off < 0 ? (unsigned)n.tx[0].status : (unsigned)st_off, sent_off);
    pci__write16(n.pci, PCI_COMMAND, cmd);
    uint32_t sent_on = 0;
    for (unsigned i = 0; i < 50 && !sent_on; i++) {
        attack__sleep_ms(k, 10);
        sent_on = anic__rd(&n, E1000_GPTC);
    }
    ATTACK_SAW("bme_off", "bus mastering on again: TDH %u, descriptor status 0x%x, frames transmitted %u",
               anic__rd(&n, E1000_TDH), (unsigned)((volatile struct e1000_tx_desc *)n.tx)[0].status, sent_on);
    return st_off < 0 && sent_off == 0 && tdh_off == 0 && sent_on == 1 ? 0 : 1;
}
