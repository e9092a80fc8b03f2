/* Transmit path (SDM 3.3): walk TDH..TDT, gather legacy or TCP/IP data
 * descriptors up to EOP, apply checksum insertion / TCP segmentation,
 * write back DD for RS, hand frames to the tx callback.
 *
 * Bounds: at most `budget` descriptors per call, and never more than the
 * ring holds per snapshot; ring registers are re-read and validated before
 * each batch (they may live in a guest-mapped page).
 * Errors: a descriptor or buffer DMA that fails drops the frame it belongs
 * to (discarding up to its EOP), the descriptor gets no DD write-back, TDH
 * still advances past it, the fault is counted (stats.dma_errors,
 * diag.tx_dma_errors) and latched in diag (dma_error, last_dma_addr).
 * A descriptor fetch refused because Bus Master Enable went clear
 * (DMA_E_NO_BUS_MASTER: no cycle issued) is no fault: the walk stops with
 * TDH on that descriptor, to resume when bus mastering returns. */
#include <string.h>

#include "hw/e1000/e1000_priv.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}
static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void frame_reset(struct e1000_tx_state *ts)
{
    ts->len = 0;
    ts->in_frame = false;
    ts->dropping = false;
    ts->tse = false;
    ts->popts = 0;
    ts->ic = false;
    ts->vle = false;
}

/* Insert the checksum of frame[start, end) at off (end 0: frame end). */
static void csum_insert(uint8_t *f, uint32_t len, uint32_t start, uint32_t end, uint32_t off,
                        uint32_t extra, bool zero_first, bool udp)
{
    if (!end || end > len)
        end = len;
    if (start >= end || off + 2 > len)
        return; /* out of the frame: offload not applied */
    if (zero_first)
        put_be16(f + off, 0);
    uint16_t c = e1000__csum_fold(e1000__csum_add(extra, f + start, end - start));
    if (udp && c == 0)
        c = 0xFFFF;
    put_be16(f + off, c);
}

struct tx_out {
    uint64_t frames, bytes, dropped, tso_ok, tso_fail;
    uint32_t len_hist[7]; /* PTC64 .. PTC1522, >1522 */
    uint64_t mcast, bcast;
};

static void account(struct tx_out *o, const uint8_t *f, uint32_t len)
{
    uint32_t wire = len + E1000_ETH_FCS_LEN;
    o->frames++;
    o->bytes += wire;
    unsigned b = wire <= 64 ? 0 : wire <= 127 ? 1 : wire <= 255 ? 2 : wire <= 511 ? 3
               : wire <= 1023 ? 4 : wire <= 1522 ? 5 : 6;
    o->len_hist[b]++;
    if (f[0] & 1) {
        static const uint8_t bc[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
        if (!memcmp(f, bc, 6))
            o->bcast++;
        else
            o->mcast++;
    }
}

/* Final touches (VLAN tag, padding) and hand-off.  f has room for +4+60. */
static void send(struct e1000 *e, struct tx_out *o, uint8_t *f, uint32_t len, bool vlan,
                 uint16_t tag, uint16_t vet, bool pad)
{
    if (len < E1000_ETH_HLEN) {
        o->dropped++; /* no header: nothing a wire could carry */
        return;
    }
    if (vlan) {
        memmove(f + 16, f + 12, len - 12);
        put_be16(f + 12, vet);
        put_be16(f + 14, tag);
        len += 4;
    }
    if (pad && len < E1000_ETH_ZLEN) {
        memset(f + len, 0, E1000_ETH_ZLEN - len);
        len = E1000_ETH_ZLEN;
    }
    account(o, f, len);
    if (e->tx)
        e->tx(e->tx_ctx, f, len);
}

/* Count a frame the segmenter put on the wire without building it. */
static void account_len(struct tx_out *o, const uint8_t *f, uint32_t len, bool pad)
{
    account(o, f, pad && len < E1000_ETH_ZLEN ? E1000_ETH_ZLEN : len);
}

/* An IPv4/TCP burst with both checksums inserted, offered whole to the
 * owner (e1000__set_tx_gso): the frames it stands for are exactly those the
 * loop in tso() would build (Linux's TCPv4 GSO makes the same: IP length,
 * ID +1, checksums, sequence numbers, FIN/PSH on the last only), so only
 * the header of the whole is fixed up here.  True if it went out. */
static bool gso_out(struct e1000 *e, struct tx_out *o, struct e1000_tx_state *ts, bool pad)
{
    const struct e1000_tx_ctx *c = &ts->ctx;
    uint32_t hdr = c->hdr_len, mss = c->mss, len = ts->len, pay = len - hdr;
    uint8_t want = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
    if (!e->tx_gso || (ts->popts & want) != want || !(c->tucmd & (E1000_TXD_CMD_IP >> 24)) ||
        !(c->tucmd & (E1000_TXD_CMD_TCP >> 24)) || len - c->ipcss > 0xFFFF ||
        c->tucso != c->tucss + 16u || c->ipcso != c->ipcss + 10u ||
        c->ipcse + 1u != c->tucss || c->ipcss + 20u > c->tucss ||
        (pay + mss - 1) / mss > E1000_GSO_MAX_SEGS)
        return false;
    uint8_t h[256]; /* the driver's header stays as it was, for a refusal */
    memcpy(h, ts->buf, hdr);
    put_be16(h + c->ipcss + 2, (uint16_t)(len - c->ipcss));
    csum_insert(h, hdr, c->ipcss, c->tucss, c->ipcso, 0, true, false);
    /* the seed is the pseudo-header sum without length (SDM 3.5): add it */
    uint16_t seed = (uint16_t)~e1000__csum_fold(e1000__csum_add(len - c->tucss, h + c->tucso, 2));
    put_be16(h + c->tucso, seed);
    uint32_t nseg = (pay + mss - 1) / mss;
    struct e1000_gso g = {
        .hdr = h, .hdr_len = hdr, .pay = ts->buf + hdr, .pay_len = pay, .mss = (uint16_t)mss,
        .l3_start = c->ipcss, .csum_start = c->tucss, .csum_offset = 16, .nseg = nseg,
        .first_len = hdr + (nseg > 1 ? mss : pay), .last_len = hdr + pay - (nseg - 1) * mss,
    };
    if (e->tx_gso(e->tx_ctx, &g) != 0)
        return false;
    for (uint32_t k = 0; k < nseg; k++)
        account_len(o, h, k + 1 < nseg ? g.first_len : g.last_len, pad);
    o->tso_ok++;
    return true;
}

/* TCP segmentation (SDM 3.5): header of hdr_len bytes replicated in front
 * of each mss-sized piece; IPv4 total length / identification, IPv6
 * payload length, TCP sequence number and flags or UDP length fixed up;
 * checksums inserted per POPTS.  The TCP/UDP checksum field holds the
 * pseudo-header sum without length, as the SDM requires for TSO. */
static void tso(struct e1000 *e, struct tx_out *o, struct e1000_tx_state *ts, uint8_t *seg,
                bool vlan, uint16_t vet, bool pad)
{
    const struct e1000_tx_ctx *c = &ts->ctx;
    uint32_t hdr = c->hdr_len, mss = c->mss, len = ts->len;
    bool ipv4 = c->tucmd & (E1000_TXD_CMD_IP >> 24), tcp = c->tucmd & (E1000_TXD_CMD_TCP >> 24);
    uint32_t l4min = tcp ? 20 : 8;
    if (!mss || hdr > len || hdr + mss > E1000_TX_FRAME_MAX || c->tucss + l4min > hdr ||
        c->ipcss + (ipv4 ? 20u : 40u) > hdr || c->tucso + 2u > hdr || len == hdr) {
        o->tso_fail++;
        o->dropped++;
        return;
    }
    uint32_t pay = len - hdr;
    if (!vlan && gso_out(e, o, ts, pad))
        return;
    uint16_t ip_id = be16(ts->buf + c->ipcss + 4);
    uint32_t seq = (uint32_t)be16(ts->buf + c->tucss + 4) << 16 | be16(ts->buf + c->tucss + 6);
    for (uint32_t off = 0, k = 0; off < pay; off += mss, k++) {
        uint32_t n = pay - off < mss ? pay - off : mss;
        bool last = off + n == pay;
        uint32_t sl = hdr + n;
        memcpy(seg, ts->buf, hdr);
        memcpy(seg + hdr, ts->buf + hdr + off, n);
        if (ipv4) {
            put_be16(seg + c->ipcss + 2, (uint16_t)(sl - c->ipcss));
            put_be16(seg + c->ipcss + 4, (uint16_t)(ip_id + k));
            if (ts->popts & E1000_TXD_POPTS_IXSM)
                csum_insert(seg, sl, c->ipcss, c->ipcse ? c->ipcse + 1u : hdr, c->ipcso, 0,
                            true, false);
        } else {
            put_be16(seg + c->ipcss + 4, (uint16_t)(sl - c->ipcss - 40));
        }
        if (tcp) {
            uint32_t s = seq + off;
            put_be16(seg + c->tucss + 4, (uint16_t)(s >> 16));
            put_be16(seg + c->tucss + 6, (uint16_t)s);
            if (!last)
                seg[c->tucss + 13] &= (uint8_t)~0x09; /* FIN, PSH only on the last */
        } else {
            put_be16(seg + c->tucss + 4, (uint16_t)(sl - c->tucss));
        }
        if (ts->popts & E1000_TXD_POPTS_TXSM)
            csum_insert(seg, sl, c->tucss, 0, c->tucso, sl - c->tucss, false, !tcp);
        send(e, o, seg, sl, vlan, ts->vlan, vet, pad);
    }
    o->tso_ok++;
}

/* Called without e->lock (tx_lock held): frame assembly is ours alone. */
static void emit(struct e1000 *e, struct tx_out *o, uint8_t *seg, bool vme, uint16_t vet,
                 bool pad)
{
    struct e1000_tx_state *ts = &e->tx_st;
    bool vlan = ts->vle && vme;
    if (ts->legacy) {
        if (ts->ic)
            csum_insert(ts->buf, ts->len, ts->css, 0, ts->cso, 0, false, false);
    } else if (ts->tse) {
        tso(e, o, ts, seg, vlan, vet, pad);
        return;
    } else {
        const struct e1000_tx_ctx *c = &ts->ctx;
        if (ts->popts & E1000_TXD_POPTS_IXSM)
            csum_insert(ts->buf, ts->len, c->ipcss, c->ipcse ? c->ipcse + 1u : 0, c->ipcso, 0,
                        true, false);
        if (ts->popts & E1000_TXD_POPTS_TXSM)
            csum_insert(ts->buf, ts->len, c->tucss, c->tucse ? c->tucse + 1u : 0, c->tucso, 0,
                        false, !(c->tucmd & (E1000_TXD_CMD_TCP >> 24)));
    }
    send(e, o, ts->buf, ts->len, vlan, ts->vlan, vet, pad);
}

/* Append a data buffer to the frame being assembled. */
static void append(struct e1000 *e, struct e1000_tx_state *ts, uint64_t addr, uint32_t len)
{
    ts->in_frame = true;
    if (ts->dropping || !len)
        return;
    uint32_t limit = ts->tse ? E1000_TSO_MAX - 64 : E1000_TX_FRAME_MAX;
    if (len > limit || ts->len + len > limit) {
        e->stats.bad_descriptors++;
        ts->dropping = true;
        return;
    }
    int rc = dma__read(&e->dma, addr, ts->buf + ts->len, len);
    if (rc < 0) {
        e1000__dma_fault(e, addr, rc, true);
        ts->dropping = true;
        ts->desc_fault = true;
        return;
    }
    ts->len += len;
}

/* Process one descriptor; returns true when a frame is complete. */
static bool process(struct e1000 *e, struct e1000_tx_state *ts, const uint8_t *d)
{
    uint8_t cmd = d[11];
    if (!(cmd & E1000_TXD_CMD_DEXT_B)) {
        if (!ts->in_frame)
            ts->legacy = true;
        append(e, ts, get64(d), get16(d + 8));
        if (!(cmd & E1000_TXD_CMD_EOP_B))
            return false;
        ts->ic = cmd & E1000_TXD_CMD_IC_B; /* CSO/CSS of the EOP descriptor */
        ts->cso = d[10];
        ts->css = d[13];
        ts->vle = cmd & E1000_TXD_CMD_VLE_B;
        ts->vlan = get16(d + 14);
        return true;
    }
    uint32_t lower = get32(d + 8);
    switch (lower & E1000_TXD_DTYP_MASK) {
    case E1000_TXD_DTYP_C: {
        struct e1000_tx_ctx *c = &ts->ctx;
        c->ipcss = d[0];
        c->ipcso = d[1];
        c->ipcse = get16(d + 2);
        c->tucss = d[4];
        c->tucso = d[5];
        c->tucse = get16(d + 6);
        c->paylen = lower & E1000_TXD_LEN_MASK;
        c->tucmd = (uint8_t)(lower >> 24);
        c->hdr_len = d[13];
        c->mss = get16(d + 14);
        return false;
    }
    case E1000_TXD_DTYP_D:
        if (!ts->in_frame) {
            ts->legacy = false;
            ts->popts = d[13];
            ts->tse = lower & E1000_TXD_CMD_TSE;
        }
        append(e, ts, get64(d), lower & E1000_TXD_LEN_MASK);
        if (!(lower & E1000_TXD_CMD_EOP))
            return false;
        ts->vle = lower & E1000_TXD_CMD_VLE;
        ts->vlan = get16(d + 14);
        return true;
    default:
        e->stats.bad_descriptors++; /* reserved DTYP: skipped */
        return false;
    }
}

/* Model counters always; statistics registers only if no reset happened
 * while the frame was being handed over (a reset clears them). */
static void publish(struct e1000 *e, const struct tx_out *o, bool regs)
{
    e->stats.tx_frames += o->frames;
    e->diag.tx_dropped += o->dropped;
    if (o->tso_ok)
        e->diag.tx_tso_frames += o->frames;
    if (!regs)
        return;
    static const uint32_t ptc[7] = {E1000_PTC64, E1000_PTC127, E1000_PTC255, E1000_PTC511,
                                    E1000_PTC1023, E1000_PTC1522, 0};
    for (uint64_t i = 0; i < o->frames; i++) {
        e1000__stat_inc(e, E1000_GPTC);
        e1000__stat_inc(e, E1000_TPT);
    }
    for (unsigned b = 0; b < 6; b++)
        for (uint32_t i = 0; i < o->len_hist[b]; i++)
            e1000__stat_inc(e, ptc[b]);
    for (uint64_t i = 0; i < o->mcast; i++)
        e1000__stat_inc(e, E1000_MPTC);
    for (uint64_t i = 0; i < o->bcast; i++)
        e1000__stat_inc(e, E1000_BPTC);
    for (uint64_t i = 0; i < o->tso_ok; i++)
        e1000__stat_inc(e, E1000_TSCTC);
    for (uint64_t i = 0; i < o->tso_fail; i++)
        e1000__stat_inc(e, E1000_TSCTFC);
    e1000__stat_add64(e, E1000_GOTCL, o->bytes);
    e1000__stat_add64(e, E1000_TOTL, o->bytes);
}

unsigned e1000__tx_poll(struct e1000 *e, unsigned budget)
{
    struct e1000_tx_state *ts = &e->tx_st;
    uint8_t seg[E1000_TX_FRAME_MAX + 64];
    unsigned done = 0;
    uint32_t causes = 0;
    bool stalled = false;
    pthread_mutex_lock(&e->tx_lock);
    pthread_mutex_lock(&e->lock);
    e1000__clock_sync(e);
    while (done < budget) {
        if (ts->reset_gen != e->reset_gen) {
            frame_reset(ts);
            memset(&ts->ctx, 0, sizeof ts->ctx);
            ts->reset_gen = e->reset_gen;
        }
        struct e1000_ring r;
        if (!(e1000__r(e, E1000_TCTL) & E1000_TCTL_EN) ||
            !e1000__ring_snapshot(e, E1000_TDBAL, &r) || r.head == r.tail)
            break;
        bool ready = false;
        for (uint32_t n = 0; n < r.size && done < budget && r.head != r.tail && !ready; n++) {
            uint64_t da = r.base + (uint64_t)r.head * E1000_DESC_SIZE;
            uint8_t d[E1000_DESC_SIZE];
            int rc = dma__read(&e->dma, da, d, sizeof d);
            if (rc == DMA_E_NO_BUS_MASTER) {
                stalled = true; /* bus mastering went off under us: no fetch happened */
                break;
            }
            if (rc < 0) {
                e1000__dma_fault(e, da, rc, true);
                ts->in_frame = ts->dropping = true; /* rest of its frame is garbage */
            } else {
                ts->desc_fault = false;
                ready = process(e, ts, d);
                if ((d[11] & E1000_TXD_CMD_RS_B) && !ts->desc_fault) {
                    uint8_t st = E1000_TXD_STAT_DD;
                    rc = dma__write(&e->dma, da + 12, &st, 1);
                    if (rc < 0)
                        e1000__dma_fault(e, da + 12, rc, true);
                    else if ((d[11] & E1000_TXD_CMD_IDE_B) && (e1000__r(e, E1000_TIDV) & 0xFFFF))
                        e1000__delay_arm(e, &e->tx_delay, e1000__r(e, E1000_TIDV) & 0xFFFF,
                                         e1000__r(e, E1000_TADV) & 0xFFFF);
                    else
                        causes |= E1000_ICR_TXDW;
                }
            }
            r.head = (r.head + 1) % r.size;
            e1000__w(e, E1000_TDH, r.head);
            done++;
        }
        if (r.head == r.tail)
            causes |= E1000_ICR_TXQE;
        if (causes) {
            e1000__set_cause(e, causes);
            causes = 0;
        }
        if (stalled)
            break; /* TDH stays at the descriptor not fetched */
        if (!ready)
            continue; /* ring drained, budget spent or ring-size bound: loop test decides */
        if (ts->dropping) {
            e->diag.tx_dropped++;
            frame_reset(ts);
            continue;
        }
        bool vme = e1000__r(e, E1000_CTRL) & E1000_CTRL_VME;
        uint16_t vet = (uint16_t)e1000__r(e, E1000_VET);
        bool pad = e1000__r(e, E1000_TCTL) & E1000_TCTL_PSP;
        uint64_t gen = e->reset_gen;
        struct tx_out o = {0};
        pthread_mutex_unlock(&e->lock);
        emit(e, &o, seg, vme, vet, pad);
        pthread_mutex_lock(&e->lock);
        frame_reset(ts);
        publish(e, &o, gen == e->reset_gen);
    }
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&e->tx_lock);
    e1000__irq_flush(e);
    return done;
}
