/* e1000 register file: per-register reset values and write masks in one
 * table (SDM 13.3), a switch only for registers with side effects, device
 * reset, link state, creation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/e1000/e1000_priv.h"
#include "lib/log.h"

#define RC E1000_REG_RC
#define WO E1000_REG_WO
#define RO E1000_REG_RO
#define FX E1000_REG_FX
#define RX E1000_REG_RX

static const struct e1000_reg_info reg_table[] = {
    /* off           count flags      reset                     wmask */
    {E1000_CTRL, 1, FX, E1000_CTRL_SLU | E1000_CTRL_SPEED_1000 | E1000_CTRL_FD, 0xFFFFFFFFu},
    {E1000_STATUS, 1, RO | RX, 0, 0},
    {E1000_EECD, 1, FX | RX, E1000_EECD_PRES | E1000_EECD_FWE_DIS, 0},
    {E1000_EERD, 1, FX, 0, 0},
    {E1000_CTRL_EXT, 1, 0, 0, 0xFFFFDFFFu}, /* EE_RST self-clears: nothing to reload */
    {E1000_FLA, 1, 0, 0, 0xFFFFFFFFu},
    {E1000_MDIC, 1, FX, E1000_MDIC_READY, 0},
    {E1000_FCAL, 1, 0, 0, 0xFFFFFFFFu},
    {E1000_FCAH, 1, 0, 0, 0x0000FFFFu},
    {E1000_FCT, 1, 0, 0, 0x0000FFFFu},
    {E1000_VET, 1, 0, 0x8100u, 0x0000FFFFu},
    {E1000_ICR, 1, RC | FX | RX, 0, 0},
    {E1000_ITR, 1, FX, 0, E1000_ITR_INTERVAL_MASK},
    {E1000_ICS, 1, WO | FX, 0, 0},
    {E1000_IMS, 1, FX, 0, 0},
    {E1000_IMC, 1, WO | FX, 0, 0},
    {E1000_RCTL, 1, 0, 0, 0x07FFFFFEu},
    {E1000_FCTTV, 1, 0, 0, 0x0000FFFFu},
    {E1000_TXCW, 1, 0, 0, 0xC000FFFFu},
    {E1000_RXCW, 1, RO, 0, 0},
    {E1000_TCTL, 1, 0, 0, 0x03FFFFFAu},
    {E1000_TIPG, 1, 0, 0, 0x3FFFFFFFu},
    {E1000_AIFS, 1, 0, 0, 0x0000FFFFu},
    {E1000_LEDCTL, 1, 0, 0x07068302u, 0xFFFFFFFFu},
    {E1000_PBA, 1, 0, 0x00100030u, 0x0000FFFFu},
    {E1000_FCRTL, 1, 0, 0, 0x8000FFF8u},
    {E1000_FCRTH, 1, 0, 0, 0x0000FFF8u},
    {E1000_RDFH, 1, 0, 0, 0x00001FFFu},
    {E1000_RDFT, 1, 0, 0, 0x00001FFFu},
    {E1000_RDBAL, 1, 0, 0, 0xFFFFFFF0u},
    {E1000_RDBAH, 1, 0, 0, 0xFFFFFFFFu},
    {E1000_RDLEN, 1, 0, 0, 0x000FFF80u},
    {E1000_RDH, 1, 0, 0, 0x0000FFFFu},
    {E1000_RDT, 1, FX, 0, 0x0000FFFFu},
    {E1000_RDTR, 1, 0, 0, E1000_RDTR_DELAY_MASK}, /* FPD: nothing buffered to flush */
    {E1000_RXDCTL, 1, 0, 0x00010000u, 0x013F3F3Fu},
    {E1000_RADV, 1, 0, 0, E1000_RADV_DELAY_MASK},
    {E1000_RSRPD, 1, 0, 0, 0x00000FFFu},
    {E1000_TXDMAC, 1, 0, 0, 0x00000001u},
    {E1000_TDFH, 1, 0, 0, 0x00001FFFu},
    {E1000_TDFT, 1, 0, 0, 0x00001FFFu},
    {E1000_TDBAL, 1, 0, 0, 0xFFFFFFF0u},
    {E1000_TDBAH, 1, 0, 0, 0xFFFFFFFFu},
    {E1000_TDLEN, 1, 0, 0, 0x000FFF80u},
    {E1000_TDH, 1, 0, 0, 0x0000FFFFu},
    {E1000_TDT, 1, FX, 0, 0x0000FFFFu},
    {E1000_TIDV, 1, 0, 0, E1000_TIDV_DELAY_MASK},
    {E1000_TXDCTL, 1, 0, 0, 0xFF3F3F3Fu},
    {E1000_TADV, 1, 0, 0, E1000_TADV_DELAY_MASK},
    {E1000_TSPMT, 1, 0, 0x01000400u, 0xFFFFFFFFu},
    {E1000_STATS_FIRST, (E1000_STATS_LAST - E1000_STATS_FIRST) / 4 + 1, RC | RO | RX, 0, 0},
    {E1000_RXCSUM, 1, 0, 0, 0x000003FFu},
    {E1000_MTA, E1000_MTA_COUNT, 0, 0, 0xFFFFFFFFu},
    {E1000_RAL(0), 2 * E1000_RAR_COUNT, FX, 0, 0xFFFFFFFFu},
    {E1000_VFTA, 128, 0, 0, 0xFFFFFFFFu},
    {E1000_WUC, 1, 0, 0, 0x0000000Fu},
    {E1000_WUFC, 1, 0, 0, 0x000F00FFu},
    {E1000_WUS, 1, 0, 0, 0x000F00FFu},
    {E1000_MANC, 1, 0, 0, 0xFFFFFFFFu},
    {E1000_IPAV, 1, 0, 0, 0x0001000Fu},
    {E1000_IP4AT, 8, 0, 0, 0xFFFFFFFFu},
    {E1000_IP6AT, 4, 0, 0, 0xFFFFFFFFu},
    {E1000_WUPL, 1, 0, 0, 0x00000FFFu},
    {E1000_WUPM, 32, 0, 0, 0xFFFFFFFFu},
    {E1000_FFLT, 16, 0, 0, 0x000007FFu},
    {E1000_FFMT, 256, 0, 0, 0x0000000Fu},
    {E1000_FFVT, 256, 0, 0, 0x000000FFu},
};
_Static_assert(sizeof reg_table / sizeof reg_table[0] < 255, "reg_index is uint8_t");

static const struct e1000_reg_info *reg_lookup(const struct e1000 *e, uint32_t off)
{
    uint8_t i = e->reg_index[off / 4];
    return i ? &reg_table[i - 1] : NULL;
}

static bool link_wanted(const struct e1000 *e)
{
    uint32_t ctrl = e1000__r(e, E1000_CTRL);
    bool phy_on = !(e->phy[E1000_PHY_CTRL] & (E1000_MII_CR_POWER_DOWN | E1000_MII_CR_ISOLATE));
    return phy_on && (ctrl & (E1000_CTRL_SLU | E1000_CTRL_ASDE)) && !(ctrl & E1000_CTRL_LRST);
}

/* STATUS.LU follows CTRL.SLU (or ASDE) with the PHY powered: the far end of
 * the modelled wire always negotiates 1000 Mb/s full duplex. */
void e1000__update_link(struct e1000 *e)
{
    bool up = link_wanted(e);
    bool was = e1000__r(e, E1000_STATUS) & E1000_STATUS_LU;
    uint32_t st = up ? E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000 |
                           E1000_STATUS_ASDV_1000
                     : 0;
    e1000__w(e, E1000_STATUS, st);
    if (up != was)
        e1000__set_cause(e, E1000_ICR_LSC);
}

void e1000__reset_locked(struct e1000 *e)
{
    /* The register file is shared with the NIC thread, which reads it
     * without the lock (e1000__r: atomic loads): clear it with the same
     * atomic stores, never a memset. */
    for (uint32_t off = 0; off < E1000_MMIO_SIZE; off += 4)
        e1000__w(e, off, 0);
    for (size_t i = 0; i < sizeof reg_table / sizeof reg_table[0]; i++)
        for (uint32_t k = 0; k < reg_table[i].count; k++)
            e1000__w(e, reg_table[i].off + 4 * k, reg_table[i].reset);
    /* RAL0/RAH0 are loaded from EEPROM words 0-2 (SDM 5.6.1). */
    e1000__w(e, E1000_RAL(0), (uint32_t)e->mac[0] | (uint32_t)e->mac[1] << 8 |
                                  (uint32_t)e->mac[2] << 16 | (uint32_t)e->mac[3] << 24);
    e1000__w(e, E1000_RAH(0), (uint32_t)e->mac[4] | (uint32_t)e->mac[5] << 8 | E1000_RAH_AV);
    memset(&e->eecd, 0, sizeof e->eecd);
    e->rx_delay = (struct e1000_delay){0, 0};
    e->tx_delay = (struct e1000_delay){0, 0};
    e->reset_gen++;
    e1000__update_link(e);
    e1000__w(e, E1000_ICR, 0); /* no LSC for the reset itself */
    e1000__irq_update(e);
}

static bool is_stat(uint32_t off)
{
    return off >= E1000_STATS_FIRST && off <= E1000_STATS_LAST;
}

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
    const struct e1000_reg_info *ri = reg_lookup(e, off);
    if (!ri || (ri->flags & WO))
        return 0;
    if (!(ri->flags & RX))
        return e1000__r(e, off);
    if (off == E1000_ICR)
        return e1000__icr_read(e);
    if (off == E1000_EECD)
        return e1000__eecd_read(e);
    if (is_stat(off))
        return e1000__stat_read(e, off);
    return e1000__r(e, off); /* STATUS: kept current by update_link */
}

/* Returns the doorbell register written (TDT/RDT) or 0. */
static uint32_t reg_write(struct e1000 *e, uint32_t off, uint32_t val)
{
    const struct e1000_reg_info *ri = reg_lookup(e, off);
    if (!ri || (ri->flags & RO))
        return 0;
    /* Bits outside wmask keep their reset value, even if a guest scribbled
     * on them through a mapped page. */
    uint32_t v = (ri->reset & ~ri->wmask) | (val & ri->wmask);
    if (!(ri->flags & FX)) {
        e1000__w(e, off, v);
        return 0;
    }
    switch (off) {
    case E1000_CTRL:
        if (val & E1000_CTRL_RST) {
            e1000__reset_locked(e);
            return 0;
        }
        if (val & E1000_CTRL_PHY_RST)
            e1000__phy_reset(e);
        e1000__w(e, off, v & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST));
        e1000__update_link(e);
        return 0;
    case E1000_EECD:
        e1000__eecd_write(e, val);
        return 0;
    case E1000_EERD:
        e1000__eerd_write(e, val);
        return 0;
    case E1000_MDIC:
        e1000__mdic_write(e, val);
        return 0;
    case E1000_ICR: /* write 1 to clear */
        e1000__w(e, off, e1000__r(e, off) & ~val);
        e1000__irq_update(e);
        return 0;
    case E1000_ICS:
        e1000__set_cause(e, val & E1000_ICR_CAUSE_MASK);
        return 0;
    case E1000_IMS:
        e1000__w(e, off, e1000__r(e, off) | (val & E1000_ICR_CAUSE_MASK));
        e1000__irq_update(e);
        return 0;
    case E1000_IMC:
        e1000__w(e, E1000_IMS, e1000__r(e, E1000_IMS) & ~val);
        e1000__irq_update(e);
        return 0;
    case E1000_ITR:
        e1000__w(e, off, v);
        e1000__irq_update(e);
        return 0;
    case E1000_RDT:
    case E1000_TDT:
        e1000__w(e, off, v);
        return off;
    default: /* RAL/RAH array: RAH keeps AV, AS and the address bits */
        if (off >= E1000_RAL(0) && off < E1000_RAL(E1000_RAR_COUNT) && (off & 4))
            v &= E1000_RAH_AV | E1000_RAH_AS_MASK | 0xFFFFu;
        e1000__w(e, off, v);
        return 0;
    }
}

/* Only aligned 32-bit (and 64-bit, as two halves) writes take effect:
 * the SDM requires 32-bit register access.  Narrow reads return the bytes
 * of the 32-bit read (with its side effects). */
static uint64_t mmio_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000 *e = dev;
    if (off >= E1000_MMIO_SIZE || (size != 1 && size != 2 && size != 4 && size != 8) ||
        off + size > E1000_MMIO_SIZE)
        return 0;
    uint32_t base = (uint32_t)off & ~3u, shift = ((uint32_t)off & 3u) * 8;
    if (size == 8 && shift)
        return 0;
    if (size == 4 && shift)
        return 0;
    if (size == 2 && shift == 24)
        return 0;
    pthread_mutex_lock(&e->lock);
    e1000__clock_sync(e);
    uint64_t v = reg_read(e, base);
    if (size == 8)
        v |= (uint64_t)reg_read(e, base + 4) << 32;
    pthread_mutex_unlock(&e->lock);
    e1000__irq_flush(e);
    if (size < 4)
        v = (v >> shift) & ((1ull << (8 * size)) - 1);
    return v;
}

static void mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000 *e = dev;
    if ((size != 4 && size != 8) || (off & 3) || off >= E1000_MMIO_SIZE ||
        off + size > E1000_MMIO_SIZE)
        return;
    if (size == 8 && (off & 7))
        return;
    pthread_mutex_lock(&e->lock);
    e1000__clock_sync(e);
    uint32_t bell = reg_write(e, (uint32_t)off, (uint32_t)val);
    if (size == 8) {
        uint32_t b2 = reg_write(e, (uint32_t)off + 4, (uint32_t)(val >> 32));
        bell = bell ? bell : b2;
    }
    void (*fn)(void *, uint32_t) = e->doorbell;
    void *ctx = e->doorbell_ctx;
    pthread_mutex_unlock(&e->lock);
    e1000__irq_flush(e);
    if (bell && fn)
        fn(ctx, bell);
}

const struct mmio_ops e1000_mmio_ops = {.read = mmio_read, .write = mmio_write};

/* BAR1 I/O window (SDM 13.2): IOADDR selects a register, IODATA accesses it. */
static uint64_t io_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000 *e = dev;
    if (size != 4)
        return 0;
    if (off == E1000_IOADDR) {
        pthread_mutex_lock(&e->lock);
        uint32_t a = e->ioaddr;
        pthread_mutex_unlock(&e->lock);
        return a;
    }
    if (off != E1000_IODATA)
        return 0;
    pthread_mutex_lock(&e->lock);
    uint32_t a = e->ioaddr;
    pthread_mutex_unlock(&e->lock);
    return mmio_read(e, a, 4);
}

static void io_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000 *e = dev;
    if (size != 4)
        return;
    if (off == E1000_IOADDR) {
        pthread_mutex_lock(&e->lock);
        e->ioaddr = (uint32_t)val & (E1000_MMIO_SIZE - 4);
        pthread_mutex_unlock(&e->lock);
    } else if (off == E1000_IODATA) {
        pthread_mutex_lock(&e->lock);
        uint32_t a = e->ioaddr;
        pthread_mutex_unlock(&e->lock);
        mmio_write(e, a, 4, val);
    }
}

const struct mmio_ops e1000_io_ops = {.read = io_read, .write = io_write};

struct e1000 *e1000__create(void *regs, const struct dma_port *dma, const struct irq_sink *irq,
                            const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx)
{
    if (!regs || ((uintptr_t)regs & 4095) || !dma || !dma->ops || !dma->ops->read ||
        !dma->ops->write || !mac) {
        log__err("e1000", "create: regs must be page aligned, dma port and mac required");
        return NULL;
    }
    struct e1000 *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->tx_st.buf = malloc(E1000_TSO_MAX);
    if (!e->tx_st.buf) {
        free(e);
        return NULL;
    }
    e->regs = regs;
    e->dma = *dma;
    if (irq)
        e->irq = *irq;
    e->tx = tx;
    e->tx_ctx = tx_ctx;
    memcpy(e->mac, mac, 6);
    for (size_t i = 0; i < sizeof reg_table / sizeof reg_table[0]; i++)
        for (uint32_t k = 0; k < reg_table[i].count; k++)
            e->reg_index[reg_table[i].off / 4 + k] = (uint8_t)(i + 1);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->tx_lock, NULL);
    pthread_mutex_init(&e->irq_lock, NULL);
    e1000__crc_init(e);
    e1000__eeprom_init(e);
    e1000__phy_reset(e);
    pthread_mutex_lock(&e->lock);
    e1000__reset_locked(e);
    pthread_mutex_unlock(&e->lock);
    return e;
}

void e1000__destroy(struct e1000 *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->tx_lock);
    pthread_mutex_destroy(&e->irq_lock);
    free(e->tx_st.buf);
    free(e);
}

void e1000__reset(struct e1000 *e)
{
    pthread_mutex_lock(&e->lock);
    e1000__reset_locked(e);
    pthread_mutex_unlock(&e->lock);
    e1000__irq_flush(e);
}

void e1000__set_doorbell(struct e1000 *e, void (*fn)(void *ctx, uint32_t off), void *ctx)
{
    pthread_mutex_lock(&e->lock);
    e->doorbell = fn;
    e->doorbell_ctx = ctx;
    pthread_mutex_unlock(&e->lock);
}

void e1000__set_tx_gso(struct e1000 *e, e1000_tx_gso_fn fn)
{
    pthread_mutex_lock(&e->tx_lock); /* read by tx_poll under tx_lock */
    e->tx_gso = fn;
    pthread_mutex_unlock(&e->tx_lock);
}

void e1000__get_stats(struct e1000 *e, struct e1000_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}

void e1000__get_diag(struct e1000 *e, struct e1000_diag *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->diag;
    pthread_mutex_unlock(&e->lock);
}

void e1000__clear_dma_error(struct e1000 *e)
{
    pthread_mutex_lock(&e->lock);
    e->diag.dma_error = 0;
    e->diag.last_dma_errno = 0;
    e->diag.last_dma_addr = 0;
    pthread_mutex_unlock(&e->lock);
}

bool e1000__ring_snapshot(struct e1000 *e, uint32_t base_reg, struct e1000_ring *r)
{
    uint32_t lo = e1000__r(e, base_reg), hi = e1000__r(e, base_reg + 4);
    uint32_t len = e1000__r(e, base_reg + 8);
    r->head = e1000__r(e, base_reg + 0x10);
    r->tail = e1000__r(e, base_reg + 0x18);
    r->base = ((uint64_t)hi << 32) | (lo & ~0xFu);
    r->size = len / E1000_DESC_SIZE;
    if (len == 0 || (len % E1000_RING_ALIGN) || len > 0x000FFF80u || r->head >= r->size ||
        r->tail >= r->size) {
        e->diag.ring_errors++;
        return false;
    }
    return true;
}
