/* DMA attacks through the (assigned) e1000: descriptors and rings that
 * point outside guest RAM, at GPAs equal to host addresses, and into the
 * interrupt window.  The guest sees only whether the NIC consumed the
 * descriptor and whether a frame went out or came in; the IOMMU's fault
 * records are the host's side of the story. */
#include <string.h>

#include "guest/prog/attack.h"
#include "drivers/e1000/e1000_regs.h"

#define MAX_ADDRS 8

static uint32_t clear_gptc(struct anic *n) { return anic__rd(n, E1000_GPTC); }

/* TX from addr: 0 if no frame left the NIC, 1 if one did. */
static int tx_from(const char *name, struct anic *n, uint64_t addr)
{
    clear_gptc(n);
    ATTACK_TRY(name, "TX descriptor, buffer at 0x%llx, 64 bytes (device reads)", (unsigned long long)addr);
    int st = anic__tx(n, addr, 64);
    uint32_t sent = anic__rd(n, E1000_GPTC);
    if (st < 0)
        ATTACK_SAW(name, "NIC did not consume the descriptor (TDH stuck at %u)", anic__rd(n, E1000_TDH));
    else
        ATTACK_SAW(name, "descriptor consumed (status 0x%x), frames transmitted: %u", st, sent);
    return sent ? 1 : 0;
}

/* RX into addr: the NIC gets one descriptor whose buffer is addr; ARP
 * requests make Linux answer.  0 if the ring did not move (frame dropped),
 * 1 if the NIC wrote a frame. */
static int rx_to(const char *name, struct kernel *k, struct anic *n, uint64_t addr)
{
    unsigned slot = anic__rd(n, E1000_RDH) % ANIC_NDESC;
    n->rx[slot] = (struct e1000_rx_desc){.buffer_addr = addr};
    hal__mb();
    anic__wr(n, E1000_RDT, (slot + 1) % ANIC_NDESC);
    ATTACK_TRY(name, "RX descriptor %u, buffer at 0x%llx (device writes the ARP reply there)", slot,
               (unsigned long long)addr);
    anic__arp_frame(n);
    unsigned rdh = slot;
    /* TPR (read-to-clear) counts every frame that reached the NIC, before
     * its DMA: wait (bounded) until one did, so the write was attempted. */
    uint32_t arrived = 0;
    anic__rd(n, E1000_TPR);
    for (unsigned i = 0; i < 20 && !arrived && rdh == slot; i++) {
        if (i % 3 == 0)
            anic__tx(n, hal__dma_addr(n->frame), 60);
        attack__sleep_ms(k, 50);
        arrived += anic__rd(n, E1000_TPR);
        rdh = anic__rd(n, E1000_RDH) % ANIC_NDESC;
    }
    attack__sleep_ms(k, 20);
    rdh = anic__rd(n, E1000_RDH) % ANIC_NDESC;
    if (!arrived && rdh == slot)
        ATTACK_SAW(name, "no frame arrived within 1 s (the DMA was not attempted)");
    uint8_t st = ((volatile struct e1000_rx_desc *)&n->rx[slot])->status;
    if (rdh == slot && !(st & E1000_RXD_STAT_DD)) {
        ATTACK_SAW(name, "ring did not advance (RDH %u, status 0x%x): the frame was dropped", rdh, st);
        return 0;
    }
    ATTACK_SAW(name, "NIC wrote a frame (RDH %u, status 0x%x, length %u)", rdh, st,
               ((volatile struct e1000_rx_desc *)&n->rx[slot])->length);
    return 1;
}

/* The NIC still works with the guest's own memory afterwards. */
static void control(const char *name, struct kernel *k, struct anic *n)
{
    anic__arp_frame(n);
    clear_gptc(n);
    int st = anic__tx(n, hal__dma_addr(n->frame), 60);
    uint32_t sent = anic__rd(n, E1000_GPTC);
    unsigned slot = anic__rd(n, E1000_RDH) % ANIC_NDESC;
    n->rx[slot] = (struct e1000_rx_desc){.buffer_addr = hal__dma_addr(n->buf + slot * 2048)};
    hal__mb();
    anic__wr(n, E1000_RDT, (slot + 1) % ANIC_NDESC);
    anic__tx(n, hal__dma_addr(n->frame), 60);
    attack__sleep_ms(k, 100);
    ATTACK_SAW(name, "control: own-memory TX status 0x%x sent %u, RX ring moved %s", st < 0 ? 0 : st, sent,
               anic__rd(n, E1000_RDH) % ANIC_NDESC != slot ? "yes" : "no");
}

int attack_dma__tx(struct kernel *k, int argc, char **argv)
{
    struct anic n;
    uint64_t a[MAX_ADDRS];
    if (anic__open(k, &n))
        return 2;
    unsigned na = attack__addrs(k, argc, argv, a, MAX_ADDRS), leaked = 0;
    for (unsigned i = 0; i < na; i++)
        leaked += attack__in_ram(k, a[i], 64) ? 0 : tx_from("dma_tx", &n, a[i]);
    control("dma_tx", k, &n);
    return leaked ? 1 : 0;
}

int attack_dma__rx(struct kernel *k, int argc, char **argv)
{
    struct anic n;
    uint64_t a[MAX_ADDRS];
    if (anic__open(k, &n))
        return 2;
    unsigned na = attack__addrs(k, argc, argv, a, MAX_ADDRS), written = 0;
    for (unsigned i = 0; i < na; i++)
        written += attack__in_ram(k, a[i], 2048) ? 0 : rx_to("dma_rx", k, &n, a[i]);
    control("dma_rx", k, &n);
    return written ? 1 : 0;
}

int attack_dma__ring(struct kernel *k, int argc, char **argv)
{
    struct anic n;
    uint64_t a[MAX_ADDRS];
    if (anic__open(k, &n))
        return 2;
    unsigned na = attack__addrs(k, argc, argv, a, MAX_ADDRS), bad = 0;
    for (unsigned i = 0; i < na; i++) {
        clear_gptc(&n);
        ATTACK_TRY("dma_ring", "TX ring at 0x%llx (device fetches descriptors there)", (unsigned long long)a[i]);
        anic__wr(&n, E1000_TCTL, 0);
        anic__wr(&n, E1000_TDBAL, (uint32_t)a[i]);
        anic__wr(&n, E1000_TDBAH, (uint32_t)(a[i] >> 32));
        anic__wr(&n, E1000_TDLEN, 128);
        anic__wr(&n, E1000_TDH, 0);
        anic__wr(&n, E1000_TDT, 0);
        anic__wr(&n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
        anic__wr(&n, E1000_TDT, 4);
        attack__sleep_ms(k, 50);
        uint32_t sent = anic__rd(&n, E1000_GPTC);
        ATTACK_SAW("dma_ring", "TDH %u, frames transmitted %u", anic__rd(&n, E1000_TDH), sent);
        bad += sent && !attack__in_ram(k, a[i], 128);
        uint64_t rxb = a[i] + 0x10000; /* another page, so the two faults differ */
        ATTACK_TRY("dma_ring", "RX ring at 0x%llx (device reads descriptors and writes them back there)",
                   (unsigned long long)rxb);
        uint32_t rctl = anic__rd(&n, E1000_RCTL);
        anic__wr(&n, E1000_RCTL, 0);
        anic__wr(&n, E1000_RDBAL, (uint32_t)rxb);
        anic__wr(&n, E1000_RDBAL + 4, (uint32_t)(rxb >> 32));
        anic__wr(&n, E1000_RDLEN, 128);
        anic__wr(&n, E1000_RDH, 0);
        anic__wr(&n, E1000_RDT, 4);
        anic__wr(&n, E1000_RCTL, rctl);
        /* restore a sane TX ring (transmitter off meanwhile) so the ARP
         * request that provokes RX goes out */
        anic__wr(&n, E1000_TCTL, 0);
        anic__wr(&n, E1000_TDBAL, (uint32_t)hal__dma_addr(n.tx));
        anic__wr(&n, E1000_TDBAH, 0);
        anic__wr(&n, E1000_TDLEN, ANIC_NDESC * E1000_DESC_SIZE);
        anic__wr(&n, E1000_TDH, 0);
        anic__wr(&n, E1000_TDT, 0);
        anic__wr(&n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
        n.tx_tail = 0;
        anic__arp_frame(&n);
        anic__rd(&n, E1000_TPR);
        uint32_t arrived = 0, rdh = 0;
        int st = -1;
        for (unsigned j = 0; j < 20 && !arrived; j++) {
            if (j % 3 == 0)
                st = anic__tx(&n, hal__dma_addr(n.frame), 60);
            attack__sleep_ms(k, 50);
            arrived += anic__rd(&n, E1000_TPR);
        }
        attack__sleep_ms(k, 20);
        rdh = anic__rd(&n, E1000_RDH);
        ATTACK_SAW("dma_ring", "ARP request TX status %d, frames arrived %u, RDH %u (%s)", st, arrived, rdh,
                   rdh ? "ring advanced" : "frame dropped");
        bad += rdh && !attack__in_ram(k, rxb, 128);
        anic__wr(&n, E1000_RCTL, 0);
        anic__wr(&n, E1000_RDBAL, (uint32_t)hal__dma_addr(n.rx));
        anic__wr(&n, E1000_RDBAL + 4, 0);
        anic__wr(&n, E1000_RDLEN, ANIC_NDESC * E1000_DESC_SIZE);
        anic__wr(&n, E1000_RDH, 0);
        anic__wr(&n, E1000_RDT, 0);
        anic__wr(&n, E1000_RCTL, rctl);
    }
    control("dma_ring", k, &n);
    return bad ? 1 : 0;
}

/* GPAs that equal host addresses: the IOMMU translates GPA -> HPA inside
 * this guest's domain, so they fault or land in the guest's own RAM.  An
 * in-RAM target page is saved and restored around the RX write. */
int attack_dma__hpa(struct kernel *k, int argc, char **argv)
{
    struct anic n;
    uint64_t a[MAX_ADDRS];
    if (argc < 2) {
        kprintf("usage: attack dma_hpa ADDR...\n");
        return 2;
    }
    if (anic__open(k, &n))
        return 2;
    uint8_t *save = kernel__alloc_pages(k, 1);
    if (!save)
        return 2;
    unsigned na = attack__addrs(k, argc, argv, a, MAX_ADDRS), bad = 0;
    for (unsigned i = 0; i < na; i++) {
        uint64_t page = a[i] & ~0xFFFull;
        bool own = attack__in_ram(k, page, 4096);
        int sent = tx_from("dma_hpa", &n, a[i]);
        if (!own)
            bad += sent;
        if (own) {
            memcpy(save, (void *)(uintptr_t)page, 4096);
            int wrote = rx_to("dma_hpa", k, &n, a[i]);
            bool changed = memcmp(save, (void *)(uintptr_t)page, 4096) != 0;
            memcpy((void *)(uintptr_t)page, save, 4096);
            ATTACK_SAW("dma_hpa", "0x%llx is my own GPA: write %s my own page (%s)", (unsigned long long)a[i],
                       changed ? "landed in" : "did not change", wrote ? "frame written" : "dropped");
        } else {
            bad += rx_to("dma_hpa", k, &n, a[i]);
        }
    }
    control("dma_hpa", k, &n);
    return bad ? 1 : 0;
}

int attack_dma__msi(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct anic n;
    if (anic__open(k, &n))
        return 2;
    int bad = rx_to("dma_msi", k, &n, 0xFEE00000ull);
    bad += rx_to("dma_msi", k, &n, 0xFEE00000ull | (0x40u << 12));
    bad += tx_from("dma_msi", &n, 0xFEE00000ull);
    control("dma_msi", k, &n);
    return bad ? 1 : 0;
}
