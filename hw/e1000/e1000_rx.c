/* Receive path (SDM 3.2): length checks, address filtering (SDM 13.4.22
 * RCTL, RAL/RAH, MTA), placement into legacy RX descriptors from RDH up to
 * RDT (frames larger than one buffer span several), checksum offload status
 * (RXCSUM), statistics and the RXT0/RXDMT0/RXO causes.
 *
 * A frame is placed all-or-nothing: the needed descriptors are all
 * available or the frame is missed (MPC, RNBC, ICR.RXO).  Descriptors are
 * written back last-first so the first one (the one the driver polls)
 * gets DD only once the whole frame is in place; a DMA failure drops the
 * frame with RDH unchanged (-EFAULT, counted, latched in diag). */
#include <errno.h>
#include <string.h>

#include "hw/e1000/e1000_priv.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bool ra_match(struct e1000 *e, const uint8_t *d)
{
    uint32_t lo = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                  (uint32_t)d[3] << 24;
    uint32_t hi = (uint32_t)d[4] | (uint32_t)d[5] << 8;
    for (uint32_t n = 0; n < E1000_RAR_COUNT; n++) {
        uint32_t rah = e1000__r(e, E1000_RAH(n));
        if ((rah & E1000_RAH_AV) && !(rah & E1000_RAH_AS_MASK) && (rah & 0xFFFF) == hi &&
            e1000__r(e, E1000_RAL(n)) == lo)
            return true;
    }
    return false;
}

/* MTA hash: 12 bits of the destination chosen by RCTL.MO (SDM 13.4.22). */
static bool mta_match(struct e1000 *e, const uint8_t *d, uint32_t rctl)
{
    uint32_t mo = (rctl & E1000_RCTL_MO_MASK) >> E1000_RCTL_MO_SHIFT;
    static const uint8_t lo_shift[4] = {4, 3, 2, 0};
    uint32_t h = ((uint32_t)d[4] >> lo_shift[mo] | (uint32_t)d[5] << (8 - lo_shift[mo])) & 0xFFF;
    return e1000__r(e, E1000_MTA + 4 * (h >> 5)) & (1u << (h & 31));
}

static bool accept(struct e1000 *e, const uint8_t *d, uint32_t rctl)
{
    static const uint8_t bc[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (!memcmp(d, bc, 6))
        return rctl & (E1000_RCTL_BAM | E1000_RCTL_MPE);
    if (d[0] & 1)
        return (rctl & E1000_RCTL_MPE) || mta_match(e, d, rctl) || ra_match(e, d);
    return (rctl & E1000_RCTL_UPE) || ra_match(e, d);
}

static uint32_t buffer_size(uint32_t rctl)
{
    uint32_t bs = (rctl & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT;
    if (rctl & E1000_RCTL_BSEX)
        return bs ? 32768u >> bs : 2048u; /* BSEX with BSIZE 00 is reserved */
    return 2048u >> bs;
}

/* IPv4 header and TCP/UDP checksum verification (RXCSUM.IPOFLD/TUOFLD). */
static void rx_csum(struct e1000 *e, const uint8_t *f, size_t len, uint8_t *status,
                    uint8_t *errors)
{
    uint32_t rxcsum = e1000__r(e, E1000_RXCSUM);
    if (len < 34 || be16(f + 12) != 0x0800 || (f[14] >> 4) != 4)
        goto none;
    uint32_t ihl = (f[14] & 0xFu) * 4;
    if (ihl < 20 || 14 + ihl > len)
        goto none;
    if (rxcsum & E1000_RXCSUM_IPOFLD) {
        *status |= E1000_RXD_STAT_IPCS;
        if (e1000__csum_fold(e1000__csum_add(0, f + 14, ihl)))
            *errors |= E1000_RXD_ERR_IPE;
    }
    uint32_t tot = be16(f + 16);
    uint8_t proto = f[23];
    bool frag = be16(f + 20) & 0x3FFF;
    if ((rxcsum & E1000_RXCSUM_TUOFLD) && !frag && (proto == 6 || proto == 17) && tot > ihl &&
        14 + tot <= len) {
        const uint8_t *l4 = f + 14 + ihl;
        uint32_t l4len = tot - ihl;
        if (proto == 17 && (l4len < 8 || be16(l4 + 6) == 0)) {
            *status |= E1000_RXD_STAT_TCPCS; /* UDP without checksum: nothing to verify */
        } else {
            uint32_t s = e1000__csum_add(0, f + 26, 8);
            s += proto + l4len;
            s = e1000__csum_add(s, l4, l4len);
            *status |= E1000_RXD_STAT_TCPCS;
            if (e1000__csum_fold(s))
                *errors |= E1000_RXD_ERR_TCPE;
        }
    }
none:
    if (!(*status & (E1000_RXD_STAT_IPCS | E1000_RXD_STAT_TCPCS)))
        *status |= E1000_RXD_STAT_IXSM;
}

/* Write frame+fcs bytes [a, b) to a buffer. */
static int place(struct e1000 *e, uint64_t addr, const uint8_t *f, size_t len, const uint8_t *fcs,
                 size_t a, size_t b)
{
    int rc = 0;
    if (a < len) {
        size_t n = (b < len ? b : len) - a;
        rc = dma__write(&e->dma, addr, f + a, n);
        if (rc < 0) {
            e1000__dma_fault(e, addr, rc, false);
            return rc;
        }
        addr += n;
        a += n;
    }
    if (b > a) {
        rc = dma__write(&e->dma, addr, fcs + (a - len), b - a);
        if (rc < 0)
            e1000__dma_fault(e, addr, rc, false);
    }
    return rc;
}

static void count_good(struct e1000 *e, const uint8_t *f, size_t len)
{
    static const uint32_t prc[6] = {E1000_PRC64, E1000_PRC127, E1000_PRC255,
                                    E1000_PRC511, E1000_PRC1023, E1000_PRC1522};
    size_t wire = len + E1000_ETH_FCS_LEN;
    unsigned b = wire <= 64 ? 0 : wire <= 127 ? 1 : wire <= 255 ? 2 : wire <= 511 ? 3
               : wire <= 1023 ? 4 : 5;
    if (wire <= 1522)
        e1000__stat_inc(e, prc[b]);
    e1000__stat_inc(e, E1000_GPRC);
    e1000__stat_add64(e, E1000_GORCL, wire);
    if (f[0] & 1)
        e1000__stat_inc(e, memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) ? E1000_MPRC : E1000_BPRC);
    e->stats.rx_frames++;
}

/* A frame the receiver could not take: MPC; RXO only for an enabled
 * receiver that ran out of descriptors (a disabled one signals nothing). */
static int missed(struct e1000 *e, bool overrun)
{
    e1000__stat_inc(e, E1000_MPC);
    e->stats.rx_missed++;
    if (overrun)
        e1000__set_cause(e, E1000_ICR_RXO);
    return -ENOSPC;
}

static int rx_locked(struct e1000 *e, const uint8_t *f, size_t len)
{
    uint32_t rctl = e1000__r(e, E1000_RCTL);
    if (len < E1000_ETH_HLEN) {
        e1000__stat_inc(e, E1000_RUC);
        e->stats.rx_too_short++;
        return -EINVAL;
    }
    if (len > ((rctl & E1000_RCTL_LPE) ? E1000_ETH_FRAME_LPE_MAX : E1000_ETH_FRAME_MAX)) {
        e1000__stat_inc(e, E1000_ROC);
        e->stats.rx_too_long++;
        return -EINVAL;
    }
    e1000__stat_inc(e, E1000_TPR);
    e1000__stat_add64(e, E1000_TORL, len + E1000_ETH_FCS_LEN);
    if (!(rctl & E1000_RCTL_EN))
        return missed(e, false);
    if (!accept(e, f, rctl)) {
        e->diag.rx_filtered++;
        return 0;
    }
    /* 802.1Q with CTRL.VME: tag stripped into the descriptor (VP, special),
     * and with RCTL.VFE the VLAN ID must be set in VFTA. */
    uint16_t vtag = 0;
    bool vp = false;
    if ((e1000__r(e, E1000_CTRL) & E1000_CTRL_VME) && len >= E1000_ETH_HLEN + 4 &&
        be16(f + 12) == (uint16_t)e1000__r(e, E1000_VET)) {
        vtag = be16(f + 14);
        uint32_t vid = vtag & 0xFFFu;
        if ((rctl & E1000_RCTL_VFE) &&
            !(e1000__r(e, E1000_VFTA + 4 * (vid >> 5)) & (1u << (vid & 31)))) {
            e->diag.rx_filtered++;
            return 0;
        }
        memcpy(e->rx_scratch, f, 12);
        memcpy(e->rx_scratch + 12, f + 16, len - 16);
        f = e->rx_scratch;
        len -= 4;
        vp = true;
    }
    struct e1000_ring r;
    if (!e1000__ring_snapshot(e, E1000_RDBAL, &r))
        return missed(e, true);
    uint8_t fcs[E1000_ETH_FCS_LEN];
    size_t total = len;
    if (!(rctl & E1000_RCTL_SECRC)) { /* FCS kept: deliver it like the wire had it */
        uint32_t c = e1000__crc32(e, f, len);
        for (unsigned i = 0; i < 4; i++)
            fcs[i] = (uint8_t)(c >> (8 * i));
        total += E1000_ETH_FCS_LEN;
    }
    uint32_t bs = buffer_size(rctl);
    uint32_t need = (uint32_t)((total + bs - 1) / bs);
    uint32_t avail = (r.tail + r.size - r.head) % r.size;
    if (need > avail) {
        e1000__stat_inc(e, E1000_RNBC);
        return missed(e, true);
    }
    uint64_t addr[E1000_ETH_FRAME_LPE_MAX / 256 + 2];
    for (uint32_t i = 0; i < need; i++) {
        uint64_t da = r.base + (uint64_t)((r.head + i) % r.size) * E1000_DESC_SIZE;
        uint8_t d[8];
        int rc = dma__read(&e->dma, da, d, sizeof d);
        if (rc < 0) {
            e1000__dma_fault(e, da, rc, false);
            return -EFAULT;
        }
        memcpy(&addr[i], d, 8); /* little-endian host (x86-64) */
        size_t a = (size_t)i * bs, b = a + bs < total ? a + bs : total;
        rc = place(e, addr[i], f, len, fcs, a, b);
        if (rc < 0)
            return -EFAULT;
    }
    uint8_t status = 0, errors = 0;
    rx_csum(e, f, len, &status, &errors);
    for (uint32_t i = need; i-- > 0;) {
        uint64_t da = r.base + (uint64_t)((r.head + i) % r.size) * E1000_DESC_SIZE;
        size_t a = (size_t)i * bs, b = a + bs < total ? a + bs : total;
        uint16_t l = (uint16_t)(b - a);
        bool last = i == need - 1;
        uint8_t st = E1000_RXD_STAT_DD | (last ? E1000_RXD_STAT_EOP | status : 0);
        if (vp)
            st |= E1000_RXD_STAT_VP;
        uint8_t wb[8] = {(uint8_t)l, (uint8_t)(l >> 8), 0, 0, st, last ? errors : 0,
                         vp ? (uint8_t)vtag : 0, vp ? (uint8_t)(vtag >> 8) : 0};
        int rc = dma__write(&e->dma, da + 8, wb, sizeof wb);
        if (rc < 0) {
            e1000__dma_fault(e, da + 8, rc, false);
            return -EFAULT;
        }
    }
    uint32_t head = (r.head + need) % r.size;
    e1000__w(e, E1000_RDH, head);
    count_good(e, f, len);

    uint32_t causes = 0;
    uint32_t rdmts = (rctl & E1000_RCTL_RDMTS_MASK) >> E1000_RCTL_RDMTS_SHIFT;
    uint32_t thresh = r.size >> (1 + (rdmts > 2 ? 2 : rdmts));
    uint32_t left = avail - need;
    if (avail > thresh && left <= thresh)
        causes |= E1000_ICR_RXDMT0;
    uint32_t rdtr = e1000__r(e, E1000_RDTR) & E1000_RDTR_DELAY_MASK;
    if (rdtr)
        e1000__delay_arm(e, &e->rx_delay, rdtr, e1000__r(e, E1000_RADV) & E1000_RADV_DELAY_MASK);
    else
        causes |= E1000_ICR_RXT0;
    if (causes)
        e1000__set_cause(e, causes);
    return 0;
}

int e1000__rx_frame(struct e1000 *e, const uint8_t *frame, size_t len)
{
    int rc;
    e1000__rx_frames(e, &(struct e1000_rx_in){frame, len}, 1, &rc);
    return rc;
}

unsigned e1000__rx_frames(struct e1000 *e, const struct e1000_rx_in *in, unsigned n, int *rc)
{
    unsigned placed = 0;
    pthread_mutex_lock(&e->lock);
    e1000__clock_sync(e);
    /* Causes accumulate in ICR; the line is re-evaluated once at the end
     * so a burst raises (at most) one interrupt, after its last frame. */
    e->irq_hold = true;
    for (unsigned i = 0; i < n; i++) {
        int r = !in[i].data && in[i].len ? -EINVAL : rx_locked(e, in[i].data, in[i].len);
        if (rc)
            rc[i] = r;
        placed += r == 0;
    }
    e->irq_hold = false;
    e1000__irq_update(e);
    pthread_mutex_unlock(&e->lock);
    e1000__irq_flush(e);
    return placed;
}
