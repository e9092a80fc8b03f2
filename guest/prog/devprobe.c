/* `devprobe`: register-level behaviour of the first e1000 or virtio-net
 * function, printed as `PROBE name value` lines, so the same kernel can be
 * run against two implementations of a device (QEMU's on the bare port,
 * iovirt's models in the VMs and native mode) and the outputs diffed.
 * What it reads is what the specifications define; where two
 * implementations differ, the specification decides which one is wrong.
 *
 * e1000 (8254x SDM): register values after a device reset (CTRL.RST), the
 * writable bits of a few registers (all-ones written, read back, restored),
 * ICR read-to-clear after ICS, IMS/IMC, the EEPROM through EERD and its
 * checksum, the PHY through MDIC.
 * virtio-net (virtio 1.2 4.1.4.3): features, num_queues, per-queue size
 * and notify offset, a queue beyond num_queues, reset, MSI-X vector
 * read-back, device config, FEATURES_OK with a feature never offered.
 * Leaves the device reset; no interrupt is enabled. */
#include <stdbool.h>
#include <string.h>

#include "drivers/e1000/e1000_regs.h"
#include "drivers/virtio/virtio_regs.h"
#include "guest/drivers/virtio_pci.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/prog/prog.h"

static void probe__delay_us(unsigned us)
{
    uint64_t end = hal__now_ns() + (uint64_t)us * 1000;
    while (hal__now_ns() < end)
        __asm__ volatile("pause");
}

/* ---- e1000 ------------------------------------------------------------- */

static uintptr_t e_regs;
static uint32_t er(uint32_t off) { return hal__mmio_read32(e_regs + off); }
static void ew(uint32_t off, uint32_t v) { hal__mmio_write32(e_regs + off, v); }

static const struct {
    const char *name;
    uint32_t off;
} e_after_reset[] = {
    {"CTRL", E1000_CTRL},     {"STATUS", E1000_STATUS}, {"EECD", E1000_EECD},
    {"CTRL_EXT", E1000_CTRL_EXT}, {"IMS", E1000_IMS},   {"RCTL", E1000_RCTL},
    {"TCTL", E1000_TCTL},     {"TIPG", E1000_TIPG},     {"LEDCTL", E1000_LEDCTL},
    {"PBA", E1000_PBA},       {"RDH", E1000_RDH},       {"RDT", E1000_RDT},
    {"TDH", E1000_TDH},       {"TDT", E1000_TDT},       {"RDLEN", E1000_RDLEN},
    {"RXDCTL", E1000_RXDCTL}, {"TXDCTL", E1000_TXDCTL}, {"RXCSUM", E1000_RXCSUM},
    {"RAL0", E1000_RAL(0)},   {"RAH0", E1000_RAH(0)},   {"MANC", E1000_MANC},
    {"ITR", E1000_ITR},       {"RDTR", E1000_RDTR},     {"RADV", E1000_RADV},
    {"TIDV", E1000_TIDV},     {"TADV", E1000_TADV},     {"VET", E1000_VET},
    {"FCRTL", E1000_FCRTL},   {"FCRTH", E1000_FCRTH},   {"TXCW", E1000_TXCW},
    {"WUC", E1000_WUC},       {"TSPMT", E1000_TSPMT},
};

/* Writable bits: write all-ones, read back, restore (device quiescent:
 * enables and ring pointers are not in this list). */
static const struct {
    const char *name;
    uint32_t off;
} e_wmask[] = {
    {"TIPG", E1000_TIPG},   {"RDBAL", E1000_RDBAL}, {"RDLEN", E1000_RDLEN},
    {"TDBAL", E1000_TDBAL}, {"TDLEN", E1000_TDLEN}, {"RXCSUM", E1000_RXCSUM},
    {"ITR", E1000_ITR},     {"RDTR", E1000_RDTR},   {"RADV", E1000_RADV},
    {"TIDV", E1000_TIDV},   {"TADV", E1000_TADV},   {"VET", E1000_VET},
    {"FCRTL", E1000_FCRTL}, {"FCRTH", E1000_FCRTH}, {"FCT", E1000_FCT},
    {"FCAL", E1000_FCAL},   {"FCAH", E1000_FCAH},   {"FCTTV", E1000_FCTTV},
    {"RXDCTL", E1000_RXDCTL}, {"TXDCTL", E1000_TXDCTL}, {"LEDCTL", E1000_LEDCTL},
    {"WUC", E1000_WUC},     {"MTA0", E1000_MTA},    {"RAH1", E1000_RAH(1)},
};

static int e_eerd(unsigned word, uint16_t *out)
{
    ew(E1000_EERD, E1000_EERD_START | word << E1000_EERD_ADDR_SHIFT);
    for (unsigned i = 0; i < 10000; i++) {
        uint32_t v = er(E1000_EERD);
        if (v & E1000_EERD_DONE) {
            *out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
            return 0;
        }
        probe__delay_us(1);
    }
    return -1;
}

static int e_mdic(unsigned reg, uint32_t *out)
{
    ew(E1000_MDIC, E1000_MDIC_OP_READ | E1000_PHY_ADDR_INTERNAL << E1000_MDIC_PHY_SHIFT |
                       reg << E1000_MDIC_REG_SHIFT);
    for (unsigned i = 0; i < 10000; i++) {
        uint32_t v = er(E1000_MDIC);
        if (v & (E1000_MDIC_READY | E1000_MDIC_ERROR)) {
            *out = v;
            return 0;
        }
        probe__delay_us(1);
    }
    return -1;
}

static int probe_e1000(struct pci_dev *d)
{
    e_regs = (uintptr_t)d->bar[0].addr;
    pci__enable(d);
    ew(E1000_IMC, 0xFFFFFFFFu);
    ew(E1000_CTRL, er(E1000_CTRL) | E1000_CTRL_RST);
    probe__delay_us(1000);
    unsigned spins = 0;
    while ((er(E1000_CTRL) & E1000_CTRL_RST) && spins++ < 10000)
        probe__delay_us(1);
    probe__delay_us(10000);        /* EEPROM auto-read (SDM 14.3) */
    kprintf("PROBE e1000.reset_done %u\n", !(er(E1000_CTRL) & E1000_CTRL_RST));
    kprintf("PROBE e1000.ICR_after_reset %#x\n", er(E1000_ICR));
    for (unsigned i = 0; i < sizeof e_after_reset / sizeof e_after_reset[0]; i++)
        kprintf("PROBE e1000.reset.%s %#x\n", e_after_reset[i].name, er(e_after_reset[i].off));
    for (unsigned i = 0; i < sizeof e_wmask / sizeof e_wmask[0]; i++) {
        uint32_t off = e_wmask[i].off, old = er(off);
        ew(off, 0xFFFFFFFFu);
        uint32_t ones = er(off);
        ew(off, 0);
        uint32_t zeros = er(off);
        ew(off, old);
        kprintf("PROBE e1000.wmask.%s %#x zero %#x\n", e_wmask[i].name, ones, zeros);
    }
    /* ICR: causes set through ICS, masked: read returns them, and clears */
    ew(E1000_ICS, E1000_ICR_TXDW | E1000_ICR_LSC);
    uint32_t icr1 = er(E1000_ICR), icr2 = er(E1000_ICR);
    kprintf("PROBE e1000.ICS_then_ICR %#x then %#x\n", icr1, icr2);
    ew(E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_LSC);
    uint32_t ims1 = er(E1000_IMS);
    ew(E1000_IMC, E1000_ICR_LSC);
    kprintf("PROBE e1000.IMS %#x after_IMC %#x\n", ims1, er(E1000_IMS));
    ew(E1000_IMC, 0xFFFFFFFFu);
    /* STATUS is read-only */
    uint32_t st = er(E1000_STATUS);
    ew(E1000_STATUS, ~st);
    kprintf("PROBE e1000.STATUS_write_ignored %u\n", er(E1000_STATUS) == st);

    uint16_t sum = 0, w;
    for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++) {
        if (e_eerd(i, &w)) {
            kprintf("PROBE e1000.eeprom.%02x timeout\n", i);
            break;
        }
        sum = (uint16_t)(sum + w);
        if (i <= 0x0F || i == E1000_EEPROM_CHECKSUM_REG)
            kprintf("PROBE e1000.eeprom.%02x %#x\n", i, w);
    }
    kprintf("PROBE e1000.eeprom_sum %#x\n", sum);
    static const unsigned phy_regs[] = {0, 1, 2, 3, 4, 5, 6, 9, 10, 15, 16, 17};
    for (unsigned i = 0; i < sizeof phy_regs / sizeof phy_regs[0]; i++) {
        uint32_t v = 0;
        if (e_mdic(phy_regs[i], &v))
            kprintf("PROBE e1000.phy.%02u timeout\n", phy_regs[i]);
        else
            kprintf("PROBE e1000.phy.%02u %#x%s\n", phy_regs[i], v & 0xFFFF,
                    v & E1000_MDIC_ERROR ? " error" : "");
    }
    ew(E1000_CTRL, er(E1000_CTRL) | E1000_CTRL_RST);
    return 0;
}

/* ---- virtio-net ---------------------------------------------------------- */

static int probe_virtio(struct pci_dev *d)
{
    static struct virtio_pci vp;
    pci__enable(d);
    if (virtio_pci__init(&vp, d)) {
        kprintf("PROBE virtio.caps missing\n");
        return 1;
    }
    uintptr_t c = vp.common;
    kprintf("PROBE virtio.notify_off_multiplier %u\n", vp.notify_mult);
    kprintf("PROBE virtio.reset %d status %#x\n", virtio_pci__reset(&vp), virtio_pci__status(&vp));
    kprintf("PROBE virtio.msix_config %#x\n", hal__mmio_read16(c + VIRTIO_PCI_COMMON_MSIX));
    uint64_t f = virtio_pci__device_features(&vp);
    kprintf("PROBE virtio.features %#lx\n", (unsigned long)f);
    /* feature words beyond 64 bits read 0 (4.1.4.3.1: "device_feature ... selected by
     * device_feature_select") */
    hal__mmio_write32(c + VIRTIO_PCI_COMMON_DFSELECT, 2);
    kprintf("PROBE virtio.features_word2 %#x\n", hal__mmio_read32(c + VIRTIO_PCI_COMMON_DF));
    uint16_t nq = virtio_pci__num_queues(&vp);
    kprintf("PROBE virtio.num_queues %u\n", nq);
    for (unsigned q = 0; q <= nq && q < 8; q++) {
        hal__mmio_write16(c + VIRTIO_PCI_COMMON_Q_SELECT, (uint16_t)q);
        kprintf("PROBE virtio.q%u size %u msix %#x enable %u notify_off %u\n", q,
                hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_SIZE),
                hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_MSIX),
                hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_ENABLE),
                hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_NOFF));
    }
    kprintf("PROBE virtio.isr %#x\n", virtio_pci__isr(&vp));
    uint8_t cfg[12] = {0};
    int rc = virtio_pci__read_config(&vp, 0, cfg, vp.device_len < sizeof cfg ? vp.device_len : sizeof cfg);
    kprintf("PROBE virtio.config rc %d len %u mac_set %u status %#x pairs %u\n", rc, vp.device_len,
            (cfg[0] | cfg[1] | cfg[2] | cfg[3] | cfg[4] | cfg[5]) != 0, cfg[6] | cfg[7] << 8,
            cfg[8] | cfg[9] << 8);
    /* A driver accepting a feature the device never offered: the device
     * must not keep FEATURES_OK (virtio 1.2 2.2.1, 3.1.1 step 6). */
    virtio_pci__add_status(&vp, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    virtio_pci__add_status(&vp, VIRTIO_CONFIG_S_DRIVER);
    uint64_t bogus = 1ull << 63;
    if (f & bogus)
        bogus = 1ull << 62;
    virtio_pci__set_driver_features(&vp, (f & 1ull << VIRTIO_F_VERSION_1) | bogus);
    virtio_pci__add_status(&vp, VIRTIO_CONFIG_S_FEATURES_OK);
    kprintf("PROBE virtio.unoffered_feature_FEATURES_OK %u\n",
            (virtio_pci__status(&vp) & VIRTIO_CONFIG_S_FEATURES_OK) != 0);
    /* Queue setup registers written before FEATURES_OK... is not probed;
     * MSI-X vector read-back with MSI-X off: the device may refuse (NO_VECTOR). */
    virtio_pci__reset(&vp);
    virtio_pci__add_status(&vp, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_pci__set_driver_features(&vp, f & (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC));
    virtio_pci__add_status(&vp, VIRTIO_CONFIG_S_FEATURES_OK);
    kprintf("PROBE virtio.FEATURES_OK %u\n", (virtio_pci__status(&vp) & VIRTIO_CONFIG_S_FEATURES_OK) != 0);
    hal__mmio_write16(c + VIRTIO_PCI_COMMON_Q_SELECT, 0);
    hal__mmio_write16(c + VIRTIO_PCI_COMMON_Q_SIZE, 64);
    kprintf("PROBE virtio.q0_size_after_write_64 %u\n", hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_SIZE));
    hal__mmio_write16(c + VIRTIO_PCI_COMMON_Q_SIZE, 100);
    kprintf("PROBE virtio.q0_size_after_write_100 %u\n", hal__mmio_read16(c + VIRTIO_PCI_COMMON_Q_SIZE));
    virtio_pci__reset(&vp);
    kprintf("PROBE virtio.status_after_reset %#x cfg_generation %u\n", virtio_pci__status(&vp),
            hal__mmio_read8(c + VIRTIO_PCI_COMMON_CFGGENERATION));
    return 0;
}

int prog_devprobe__run(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct pci_bus *bus = kernel__pci(k);
    for (unsigned i = 0; i < bus->ndevs; i++) {
        struct pci_dev *d = &bus->devs[i];
        if (d->vendor == E1000_PCI_VENDOR_INTEL && d->device == E1000_PCI_DEV_82540EM && d->bar[0].addr &&
            !d->bar[0].io)
            return probe_e1000(d);
        if (d->vendor == VIRTIO_PCI_VENDOR_ID &&
            (d->device == VIRTIO_PCI_DEVICE_ID_NET || d->device == VIRTIO_PCI_DEVICE_ID_NET_TRANSITIONAL))
            return probe_virtio(d);
    }
    kprintf("devprobe: no e1000 or virtio-net function\n");
    return 1;
}
