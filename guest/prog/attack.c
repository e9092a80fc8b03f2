/* `attack NAME`, `attack list`: the table of attacks and what they share
 * (address lists, a raw-register e1000 "driver" an attacker would write). */
#include "guest/prog/attack.h"

#include <string.h>

#include "guest/kernel/cmdline.h"
#include "guest/prog/prog.h"
#include "drivers/e1000/e1000_regs.h"

static const struct attack attacks[] = {
    {"dma_tx", "assigned", "TX descriptors with buffers outside guest RAM [ADDR...]", attack_dma__tx},
    {"dma_rx", "assigned", "RX descriptors with buffers outside guest RAM [ADDR...]", attack_dma__rx},
    {"dma_ring", "assigned", "descriptor rings placed outside guest RAM [ADDR...]", attack_dma__ring},
    {"dma_hpa", "assigned", "DMA at GPAs equal to host addresses (another VM, VT-d tables) ADDR...", attack_dma__hpa},
    {"dma_msi", "assigned", "interrupt requests by DMA into 0xFEExxxxx (RX tail as a DWORD write) [VECTOR [HANDLE...]]", attack_dma__msi},
    {"msi_spoof", "assigned", "virtual MSI aimed at host vectors / non-interrupt addresses", attack_irq__msi_spoof},
    {"msix", "assigned", "MSI-X table entries aimed at exception vectors, NMI/INIT/SMI, non-interrupt addresses; writes past the table and into the PBA [PEER-IP]", attack_irq__msix},
    {"cfg", "assigned|emulated", "config space: move BAR0, toggle decode, write RO/reserved, walk caps", attack_cfg__run},
    {"bme_off", "assigned|emulated", "clear Bus Master Enable, then transmit: no DMA until it is set again", attack_dev__bme_off},
    {"e1000_rings", "emulated|assigned", "ring length 0 / not 128-multiple / beyond RAM, TDT beyond ring, TDT racing TDH", attack_e1000__rings},
    {"virtio", "virtio", "virtqueue loops, out-of-range indexes, 0 / 4 GiB lengths, avail idx jumps", attack_virtio__run},
    {"syscall", "none", "raw `syscall` creat(PATH) from the guest", attack_cpu__syscall},
    {"int80", "none", "`int 0x80` creat(PATH)", attack_cpu__int80},
    {"sysenter", "none", "`sysenter` creat(PATH)", attack_cpu__sysenter},
    {"compat_int80", "none", "iretq to 32-bit mode, then `int 0x80` creat(PATH)", attack_cpu__compat_int80},
    {"compat_syscall", "none", "iretq to 32-bit mode, then `syscall` creat(PATH)", attack_cpu__compat_syscall},
    {"compat_sysenter", "none", "iretq to 32-bit mode, then `sysenter` creat(PATH)", attack_cpu__compat_sysenter},
    {"sigreturn", "none", "forged rt_sigreturn into 32-bit mode, then `int 0x80` creat(PATH)", attack_cpu__sigreturn},
    {"selfmod", "none", "write to own code and run it", attack_cpu__selfmod},
    {"jump", "none", "jump outside guest RAM [ADDR]", attack_cpu__jump},
    {"stack", "none", "unbounded recursion until the stack leaves RAM", attack_cpu__stack},
    {"hpet_storm", "any", "fastest periodic HPET timer, then power off while it fires [MS]", attack_timer__storm},
    {"hpet_wrap", "any", "HPET one-shot across the counter wrap, then cli; hlt", attack_timer__wrap},
    {"hpet_flood", "any", "fastest periodic HPET timer, then cli; hlt", attack_timer__flood},
};

bool attack__in_ram(struct kernel *k, uint64_t addr, uint64_t len)
{
    return addr >= k->bp.ram_base && addr + len <= k->bp.ram_base + k->bp.ram_size && addr + len > addr;
}

unsigned attack__addrs(struct kernel *k, int argc, char **argv, uint64_t *out, unsigned max)
{
    unsigned n = 0;
    for (int i = 1; i < argc && n < max; i++) {
        uint64_t v;
        if (cmdline__parse_u64(argv[i], &v) == 0)
            out[n++] = v;
        else
            kprintf("ATTACK: ignoring '%s' (not an address)\n", argv[i]);
    }
    if (n)
        return n;
    const uint64_t defaults[] = {
        k->bp.ram_base + k->bp.ram_size + (1u << 20), /* just beyond RAM */
        0x3F000000ull,                                /* far beyond RAM */
        0x1000ull,                                    /* below RAM */
        0xFEE00000ull,                                /* the interrupt window */
        1ull << 50,                                   /* beyond any AGAW */
    };
    for (unsigned i = 0; i < sizeof defaults / sizeof defaults[0] && n < max; i++)
        out[n++] = defaults[i];
    return n;
}

void attack__sleep_ms(struct kernel *k, uint64_t ms)
{
    uint64_t end = hal__now_ns() + ms * 1000000ull;
    for (unsigned i = 0; i < 1000 && hal__now_ns() < end; i++)
        kernel__wait(k, end);
}

/* ---- a raw e1000 ---------------------------------------------------------- */

uint32_t anic__rd(struct anic *n, uint32_t off) { return hal__mmio_read32(n->bar + off); }
void anic__wr(struct anic *n, uint32_t off, uint32_t v) { hal__mmio_write32(n->bar + off, v); }

int anic__open(struct kernel *k, struct anic *n)
{
    memset(n, 0, sizeof(*n));
    struct pci_bus *bus = kernel__pci(k);
    n->pci = pci__find(bus, E1000_PCI_VENDOR_INTEL, E1000_PCI_DEV_82540EM);
    if (!n->pci || !n->pci->bar[0].addr || n->pci->bar[0].io) {
        kprintf("ATTACK: no e1000 on the bus (run with --nic assigned or emulated)\n");
        return -1;
    }
    n->pci->claimed = true;
    pci__enable(n->pci);
    n->bar = (uintptr_t)n->pci->bar[0].addr;
    anic__wr(n, E1000_CTRL, E1000_CTRL_RST);
    for (unsigned i = 0; i < 100 && (anic__rd(n, E1000_CTRL) & E1000_CTRL_RST); i++)
        attack__sleep_ms(k, 1);
    anic__wr(n, E1000_IMC, 0xFFFFFFFFu);
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
    memcpy(n->mac, mac, 6);
    anic__wr(n, E1000_RAL(0), (uint32_t)mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
    anic__wr(n, E1000_RAH(0), (uint32_t)mac[4] | mac[5] << 8 | E1000_RAH_AV);
    anic__wr(n, E1000_CTRL, anic__rd(n, E1000_CTRL) | E1000_CTRL_SLU);

    n->tx = kernel__alloc_pages(k, 1);
    n->rx = kernel__alloc_pages(k, 1);
    n->buf = kernel__alloc_pages(k, ANIC_NDESC * 2048 / 4096 + 1);
    if (!n->tx || !n->rx || !n->buf)
        return -1;
    n->frame = n->buf + ANIC_NDESC * 2048;
    for (unsigned i = 0; i < ANIC_NDESC; i++)
        n->rx[i].buffer_addr = hal__dma_addr(n->buf + i * 2048);
    anic__wr(n, E1000_RDBAL, (uint32_t)hal__dma_addr(n->rx));
    anic__wr(n, E1000_RDBAL + 4, 0);
    anic__wr(n, E1000_RDLEN, ANIC_NDESC * E1000_DESC_SIZE);
    anic__wr(n, E1000_RDH, 0);
    anic__wr(n, E1000_RDT, 0);
    anic__wr(n, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    anic__wr(n, E1000_TDBAL, (uint32_t)hal__dma_addr(n->tx));
    anic__wr(n, E1000_TDBAH, 0);
    anic__wr(n, E1000_TDLEN, ANIC_NDESC * E1000_DESC_SIZE);
    anic__wr(n, E1000_TDH, 0);
    anic__wr(n, E1000_TDT, 0);
    anic__wr(n, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    return 0;
}

int anic__tx(struct anic *n, uint64_t addr, uint16_t len)
{
    unsigned i = n->tx_tail;
    n->tx[i] = (struct e1000_tx_desc){.buffer_addr = addr, .length = len,
                                      .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B};
    n->tx_tail = (i + 1) % ANIC_NDESC;
    hal__mb();
    anic__wr(n, E1000_TDT, n->tx_tail);
    uint64_t end = hal__now_ns() + 500000000ull;
    while (anic__rd(n, E1000_TDH) != n->tx_tail && hal__now_ns() < end)
        __asm__ volatile("pause");
    if (anic__rd(n, E1000_TDH) != n->tx_tail)
        return -1;
    /* Let the frame reach the wire and the statistics (GPTC) count it. */
    for (end = hal__now_ns() + 20000000ull; hal__now_ns() < end;)
        __asm__ volatile("pause");
    return ((volatile struct e1000_tx_desc *)&n->tx[i])->status;
}

void anic__arp_frame(struct anic *n)
{
    uint8_t *f = n->frame;
    memset(f, 0, 60);
    memset(f, 0xFF, 6);
    memcpy(f + 6, n->mac, 6);
    f[12] = 0x08, f[13] = 0x06;                        /* ARP */
    f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;     /* Ethernet / IPv4 */
    f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;        /* request */
    memcpy(f + 22, n->mac, 6);
    f[28] = 10, f[29] = 0, f[30] = 2, f[31] = 15;      /* 10.0.2.15 */
    f[38] = 10, f[39] = 0, f[40] = 2, f[41] = 1;       /* who has 10.0.2.1 */
}

/* ---- the program ----------------------------------------------------------- */

int prog_attack__run(struct kernel *k, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "list")) {
        kprintf("attacks (attack NAME [ARGS]; the --nic mode each needs):\n");
        for (unsigned i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
            kprintf("  %-12s %-18s %s\n", attacks[i].name, attacks[i].mode, attacks[i].what);
        return argc < 2 ? 2 : 0;
    }
    for (unsigned i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        if (!strcmp(argv[1], attacks[i].name)) {
            int r = attacks[i].run(k, argc - 1, argv + 1);
            kprintf("ATTACK %s: %s (status %d)\n", attacks[i].name, r == 0 ? "contained" : "NOT contained / error", r);
            return r;
        }
    kprintf("attack: unknown attack '%s' (attack list)\n", argv[1]);
    return 2;
}
