/* Portable e1000 driver core: see e1000_drv.h.  Freestanding. */
#include "drivers/e1000/e1000_drv.h"

/* The NIC reads descriptors we wrote and writes back status concurrently:
 * descriptor fields it may change are read through volatile, and a fence
 * orders descriptor stores before the doorbell (SDM 3.3.1: software must
 * have written the descriptors before moving the tail). */
#define DRV_RELEASE() __atomic_thread_fence(__ATOMIC_RELEASE)
#define DRV_ACQUIRE() __atomic_thread_fence(__ATOMIC_ACQUIRE)

/* Word copies for the bulk (the guest kernel has no memcpy to call): a
 * TSO frame is up to 64 KiB through here. */
static void drv_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (; n >= 8; n -= 8, dst += 8, src += 8) {
        uint64_t w;
        __builtin_memcpy(&w, src, 8);
        __builtin_memcpy(dst, &w, 8);
    }
    while (n--)
        *dst++ = *src++;
}

static uint32_t rd(struct e1000_drv *d, uint32_t off)
{
    return d->ops.read32(d->ctx, off);
}

static void wr(struct e1000_drv *d, uint32_t off, uint32_t v)
{
    d->ops.write32(d->ctx, off, v);
}

static void delay(struct e1000_drv *d, unsigned us)
{
    if (d->ops.delay_us)
        d->ops.delay_us(d->ctx, us);
}

/* Poll until (reg & mask) == want, at most timeout_us (1 us steps). */
static bool wait_reg(struct e1000_drv *d, uint32_t off, uint32_t mask, uint32_t want,
                     unsigned timeout_us, uint32_t *last)
{
    for (unsigned i = 0; i <= timeout_us; i++) {
        uint32_t v = rd(d, off);
        if (last)
            *last = v;
        if ((v & mask) == want)
            return true;
        delay(d, 1);
    }
    return false;
}

static bool ring_ok(const void *ring, unsigned count)
{
    return ring && ((uintptr_t)ring & 15u) == 0 && count >= 8 && count % 8 == 0 &&
           count <= E1000_DRV_MAX_DESC;
}

static int read_eeprom(struct e1000_drv *d, unsigned word, uint16_t *out)
{
    wr(d, E1000_EERD, E1000_EERD_START | ((uint32_t)word << E1000_EERD_ADDR_SHIFT));
    uint32_t v = 0;
    if (!wait_reg(d, E1000_EERD, E1000_EERD_DONE, E1000_EERD_DONE, 10000, &v))
        return E1000_DRV_ETIMEDOUT;
    *out = (uint16_t)((v & E1000_EERD_DATA_MASK) >> E1000_EERD_DATA_SHIFT);
    return 0;
}

static void setup_rx(struct e1000_drv *d)
{
    const struct e1000_drv_config *c = &d->cfg;
    for (unsigned i = 0; i < c->rx_count; i++) {
        struct e1000_rx_desc *r = &c->rx_ring[i];
        r->buffer_addr = d->ops.bus_addr(d->ctx, c->rx_bufs + (size_t)i * E1000_DRV_BUF_SIZE);
        r->length = 0;
        r->csum = 0;
        r->status = 0;
        r->errors = 0;
        r->special = 0;
    }
    uint64_t base = d->ops.bus_addr(d->ctx, c->rx_ring);
    wr(d, E1000_RDBAL, (uint32_t)base);
    wr(d, E1000_RDBAH, (uint32_t)(base >> 32));
    wr(d, E1000_RDLEN, c->rx_count * E1000_DESC_SIZE);
    wr(d, E1000_RDH, 0);
    DRV_RELEASE();
    /* All but one descriptor to the NIC: RDH == RDT means "no buffers". */
    wr(d, E1000_RDT, c->rx_count - 1);
    d->rx_next = 0;
    d->rx_discard = false;
    wr(d, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 |
                          E1000_RCTL_SECRC | E1000_RCTL_RDMTS_HALF);
}

static void setup_tx(struct e1000_drv *d)
{
    const struct e1000_drv_config *c = &d->cfg;
    for (unsigned i = 0; i < c->tx_count; i++) {
        struct e1000_tx_desc *t = &c->tx_ring[i];
        t->buffer_addr = 0;
        t->length = 0;
        t->cso = 0;
        t->cmd = 0;
        t->status = E1000_TXD_STAT_DD; /* "free" */
        t->css = 0;
        t->special = 0;
    }
    uint64_t base = d->ops.bus_addr(d->ctx, c->tx_ring);
    wr(d, E1000_TDBAL, (uint32_t)base);
    wr(d, E1000_TDBAH, (uint32_t)(base >> 32));
    wr(d, E1000_TDLEN, c->tx_count * E1000_DESC_SIZE);
    wr(d, E1000_TDH, 0);
    wr(d, E1000_TDT, 0);
    d->tx_tail = d->tx_clean = 0;
    d->ctx_valid = false;
    /* SDM 14.5: CT 0x10, COLD 0x40 (full duplex), pad short packets. */
    wr(d, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | (0x10u << E1000_TCTL_CT_SHIFT) |
                          (0x40u << E1000_TCTL_COLD_SHIFT));
    wr(d, E1000_TIPG, E1000_TIPG_82540_COPPER);
}

int e1000_drv__init(struct e1000_drv *d, const struct e1000_drv_ops *ops, void *ctx,
                    const struct e1000_drv_config *cfg)
{
    d->ready = false;
    if (!ops || !ops->read32 || !ops->write32 || !ops->bus_addr || !cfg)
        return E1000_DRV_EINVAL;
    if (!ring_ok(cfg->rx_ring, cfg->rx_count) || !ring_ok(cfg->tx_ring, cfg->tx_count) ||
        !cfg->rx_bufs || !cfg->tx_bufs)
        return E1000_DRV_EINVAL;
    d->ops = *ops;
    d->ctx = ctx;
    d->cfg = *cfg;
    struct e1000_drv_stats zero = {0};
    d->stats = zero;
    unsigned timeout = cfg->reset_timeout_us ? cfg->reset_timeout_us : 10000;

    /* SDM 14.2 / 13.4.1: mask first, reset, mask again (reset re-enables
     * nothing but the driver must not see stale causes). */
    wr(d, E1000_IMC, 0xFFFFFFFFu);
    wr(d, E1000_CTRL, rd(d, E1000_CTRL) | E1000_CTRL_RST);
    delay(d, 1);
    if (!wait_reg(d, E1000_CTRL, E1000_CTRL_RST, 0, timeout, 0))
        return E1000_DRV_ETIMEDOUT;
    wr(d, E1000_IMC, 0xFFFFFFFFu);
    (void)rd(d, E1000_ICR);

    for (unsigned w = 0; w < 3; w++) {
        uint16_t v;
        int r = read_eeprom(d, E1000_EEPROM_MAC0 + w, &v);
        if (r)
            return r;
        d->mac[2 * w] = (uint8_t)v;
        d->mac[2 * w + 1] = (uint8_t)(v >> 8);
    }
    wr(d, E1000_RAL(0), (uint32_t)d->mac[0] | (uint32_t)d->mac[1] << 8 |
                            (uint32_t)d->mac[2] << 16 | (uint32_t)d->mac[3] << 24);
    wr(d, E1000_RAH(0), (uint32_t)d->mac[4] | (uint32_t)d->mac[5] << 8 | E1000_RAH_AV);
    for (unsigned i = 0; i < E1000_MTA_COUNT; i++)
        wr(d, E1000_MTA + 4 * i, 0);

    wr(d, E1000_CTRL, (rd(d, E1000_CTRL) & ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST)) |
                          E1000_CTRL_SLU | E1000_CTRL_ASDE);
    setup_rx(d);
    setup_tx(d);
    /* Interrupt moderation, as Linux's e1000 does by default
     * (InterruptThrottleRate): at most E1000_DRV_ITR_PER_SEC interrupts a
     * second, in 256 ns units.  Without it the rate follows how fast the
     * interrupt happens to be delivered (2,000-12,000/s in one sweep) and
     * so does the CPU it costs. */
    wr(d, E1000_ITR, 1000000000u / (E1000_DRV_ITR_PER_SEC * 256u));
    d->ready = true;
    if (cfg->ims)
        wr(d, E1000_IMS, cfg->ims);
    return 0;
}

void e1000_drv__stop(struct e1000_drv *d)
{
    if (!d->ready)
        return;
    wr(d, E1000_IMC, 0xFFFFFFFFu);
    wr(d, E1000_RCTL, 0);
    wr(d, E1000_TCTL, 0);
    wr(d, E1000_CTRL, rd(d, E1000_CTRL) | E1000_CTRL_RST);
    delay(d, 1);
    (void)wait_reg(d, E1000_CTRL, E1000_CTRL_RST, 0, d->cfg.reset_timeout_us ? d->cfg.reset_timeout_us : 10000, 0);
    d->ready = false;
}

/* ---- transmit ---------------------------------------------------------- */

unsigned e1000_drv__tx_free(const struct e1000_drv *d)
{
    unsigned n = d->cfg.tx_count;
    unsigned used = (d->tx_tail + n - d->tx_clean) % n;
    return n - 1 - used; /* one slot stays empty: TDH == TDT means empty */
}

/* Legacy and data descriptors carry EOP in the CMD/DCMD byte; a context
 * descriptor has TUCMD there, whose bit 0 (TCP) sits where EOP is. */
static bool desc_ends_frame(volatile struct e1000_tx_desc *t)
{
    uint8_t cmd = t->cmd;
    if ((cmd & E1000_TXD_CMD_DEXT_B) &&
        ((uint32_t)t->cso << 16 & E1000_TXD_DTYP_MASK) == E1000_TXD_DTYP_C)
        return false;
    return cmd & E1000_TXD_CMD_EOP_B;
}

unsigned e1000_drv__tx_reclaim(struct e1000_drv *d)
{
    unsigned frames = 0, n = d->cfg.tx_count;
    while (d->tx_clean != d->tx_tail) {
        volatile struct e1000_tx_desc *t = &d->cfg.tx_ring[d->tx_clean];
        if (!(t->status & E1000_TXD_STAT_DD))
            break;
        DRV_ACQUIRE();
        if (desc_ends_frame(t))
            frames++;
        d->tx_clean = (d->tx_clean + 1) % n;
    }
    d->stats.tx_reclaimed += frames;
    return frames;
}

/* Descriptors the NIC has moved past (behind TDH) without writing DD back
 * were skipped (e.g. their DMA faulted): reclaim them so the ring cannot
 * wedge.  Costs one register read, so only when the ring is full. */
static void tx_reclaim_skipped(struct e1000_drv *d)
{
    unsigned n = d->cfg.tx_count;
    unsigned head = rd(d, E1000_TDH);
    if (head >= n)
        return; /* nonsense from the device: trust only DD */
    unsigned behind = (head + n - d->tx_clean) % n;
    unsigned used = (d->tx_tail + n - d->tx_clean) % n;
    if (behind > used)
        return;
    DRV_ACQUIRE();
    while (d->tx_clean != head) {
        volatile struct e1000_tx_desc *t = &d->cfg.tx_ring[d->tx_clean];
        if (!(t->status & E1000_TXD_STAT_DD))
            d->stats.tx_errors++;
        else if (desc_ends_frame(t))
            d->stats.tx_reclaimed++;
        d->tx_clean = (d->tx_clean + 1) % n;
    }
}

static int tx_room(struct e1000_drv *d, unsigned need)
{
    if (!d->ready)
        return E1000_DRV_EIO;
    if (e1000_drv__tx_free(d) < need)
        e1000_drv__tx_reclaim(d);
    if (e1000_drv__tx_free(d) < need)
        tx_reclaim_skipped(d);
    if (e1000_drv__tx_free(d) < need) {
        d->stats.tx_busy++;
        return E1000_DRV_EBUSY;
    }
    return 0;
}

static void tx_put(struct e1000_drv *d, uint64_t addr, size_t len, uint8_t cmd,
                   const struct e1000_drv_csum *csum)
{
    struct e1000_tx_desc *t = &d->cfg.tx_ring[d->tx_tail];
    t->buffer_addr = addr;
    t->length = (uint16_t)len;
    t->cso = csum ? csum->cso : 0;
    t->css = csum ? csum->css : 0;
    t->special = 0;
    t->status = 0;
    t->cmd = (uint8_t)(cmd | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B |
                       (csum ? E1000_TXD_CMD_IC_B : 0));
    d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
}

static void tx_doorbell(struct e1000_drv *d, size_t len)
{
    DRV_RELEASE();
    wr(d, E1000_TDT, d->tx_tail);
    d->stats.tx_frames++;
    d->stats.tx_bytes += len;
}

static int frags_len(const struct e1000_drv_frag *frags, unsigned nfrags, size_t *total)
{
    size_t sum = 0;
    if (!frags || nfrags == 0 || nfrags > E1000_DRV_MAX_FRAGS)
        return E1000_DRV_EINVAL;
    for (unsigned i = 0; i < nfrags; i++) {
        if (frags[i].len > E1000_DRV_MAX_FRAME || (!frags[i].data && frags[i].len))
            return E1000_DRV_EMSGSIZE;
        sum += frags[i].len;
    }
    if (sum < E1000_ETH_HLEN || sum > E1000_DRV_MAX_FRAME)
        return E1000_DRV_EMSGSIZE;
    *total = sum;
    return 0;
}

int e1000_drv__tx(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags,
                  const struct e1000_drv_csum *csum)
{
    size_t len;
    int r = frags_len(frags, nfrags, &len);
    if (r)
        return r;
    if (csum && (csum->css >= len || (size_t)csum->cso + 2 > len))
        return E1000_DRV_EINVAL;
    r = tx_room(d, 1);
    if (r)
        return r;
    uint8_t *slot = d->cfg.tx_bufs + (size_t)d->tx_tail * E1000_DRV_BUF_SIZE;
    size_t off = 0;
    for (unsigned i = 0; i < nfrags; i++) {
        drv_copy(slot + off, frags[i].data, frags[i].len);
        off += frags[i].len;
    }
    tx_put(d, d->ops.bus_addr(d->ctx, slot), len, E1000_TXD_CMD_EOP_B, csum);
    tx_doorbell(d, len);
    return 0;
}

static bool same_ctx(const struct e1000_drv_offload *a, const struct e1000_drv_offload *b)
{
    return a->ipcss == b->ipcss && a->ipcso == b->ipcso && a->ipcse == b->ipcse &&
           a->tucss == b->tucss && a->tucso == b->tucso && a->tucse == b->tucse &&
           a->tcp == b->tcp;
}

static bool offload_ok(const struct e1000_drv_offload *o, size_t len)
{
    if (o->ip_csum && (o->ipcss >= len || (size_t)o->ipcso + 2 > len ||
                       (o->ipcse && (o->ipcse < o->ipcss || o->ipcse >= len))))
        return false;
    if (o->l4_csum && (o->tucss >= len || (size_t)o->tucso + 2 > len ||
                       (o->tucse && (o->tucse < o->tucss || o->tucse >= len))))
        return false;
    return true;
}

static void put_ctx(struct e1000_drv *d, const struct e1000_drv_offload *o, uint32_t tucmd,
                    uint32_t paylen, uint8_t hdr_len, uint16_t mss)
{
    struct e1000_context_desc *c = (struct e1000_context_desc *)(void *)&d->cfg.tx_ring[d->tx_tail];
    c->ipcss = o->ipcss;
    c->ipcso = o->ipcso;
    c->ipcse = o->ipcse;
    c->tucss = o->tucss;
    c->tucso = o->tucso;
    c->tucse = o->tucse;
    c->status = 0;
    c->hdr_len = hdr_len;
    c->mss = mss;
    c->cmd_and_length = paylen | E1000_TXD_DTYP_C | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_RS |
                        E1000_TXD_CMD_IP | tucmd;
    d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
}

int e1000_drv__tx_offload(struct e1000_drv *d, const struct e1000_drv_frag *frags,
                          unsigned nfrags, const struct e1000_drv_offload *o)
{
    size_t len;
    int r = frags_len(frags, nfrags, &len);
    if (r)
        return r;
    if (!o || !offload_ok(o, len))
        return E1000_DRV_EINVAL;
    bool need_ctx = !d->ctx_valid || !same_ctx(o, &d->last_ctx);
    r = tx_room(d, need_ctx ? 2 : 1);
    if (r)
        return r;
    if (need_ctx) {
        put_ctx(d, o, o->tcp ? E1000_TXD_CMD_TCP : 0, 0, 0, 0);
        d->last_ctx = *o;
        d->ctx_valid = true;
    }
    uint8_t *slot = d->cfg.tx_bufs + (size_t)d->tx_tail * E1000_DRV_BUF_SIZE;
    size_t off = 0;
    for (unsigned i = 0; i < nfrags; i++) {
        drv_copy(slot + off, frags[i].data, frags[i].len);
        off += frags[i].len;
    }
    struct e1000_data_desc *t = (struct e1000_data_desc *)(void *)&d->cfg.tx_ring[d->tx_tail];
    t->buffer_addr = d->ops.bus_addr(d->ctx, slot);
    t->status = 0;
    t->popts = (uint8_t)((o->ip_csum ? E1000_TXD_POPTS_IXSM : 0) |
                         (o->l4_csum ? E1000_TXD_POPTS_TXSM : 0));
    t->special = 0;
    t->cmd_and_length = (uint32_t)len | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT |
                        E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
    d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
    tx_doorbell(d, len);
    return 0;
}

/* Copy n bytes starting at byte `at` of the fragments' concatenation. */
static void frags_copy(uint8_t *dst, const struct e1000_drv_frag *f, unsigned nf, size_t at,
                       size_t n)
{
    for (unsigned i = 0; i < nf && n; i++) {
        if (at >= f[i].len) {
            at -= f[i].len;
            continue;
        }
        size_t k = f[i].len - at < n ? f[i].len - at : n;
        drv_copy(dst, (const uint8_t *)f[i].data + at, k);
        dst += k;
        n -= k;
        at = 0;
    }
}

/* Ones' complement sum of the IPv4 pseudo header without length (SDM 3.5:
 * the hardware adds each segment's length). */
static uint16_t tso_seed(const uint8_t *ip)
{
    uint32_t sum = 6; /* protocol TCP */
    for (unsigned i = 12; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

int e1000_drv__tx_tso(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags,
                      const struct e1000_drv_offload *o, uint8_t hdr_len, uint16_t mss)
{
    size_t len = 0;
    if (!frags || nfrags == 0 || nfrags > E1000_DRV_MAX_FRAGS || !o)
        return E1000_DRV_EINVAL;
    for (unsigned i = 0; i < nfrags; i++) {
        if (!frags[i].data && frags[i].len)
            return E1000_DRV_EINVAL;
        len += frags[i].len;
        if (len > E1000_DRV_TSO_MAX)
            return E1000_DRV_EMSGSIZE;
    }
    if (!o->tcp || !o->ip_csum || !o->l4_csum || !offload_ok(o, len) || !mss ||
        len <= hdr_len || (size_t)hdr_len + mss > E1000_DRV_MAX_FRAME ||
        (size_t)o->ipcss + 20 > hdr_len || (size_t)o->tucss + 20 > hdr_len ||
        (size_t)o->tucso + 2 > hdr_len)
        return E1000_DRV_EINVAL;
    unsigned ndata = (unsigned)((len + E1000_DRV_BUF_SIZE - 1) / E1000_DRV_BUF_SIZE);
    int r = tx_room(d, 1 + ndata);
    if (r)
        return r;
    /* Written for every TSO frame, as its PAYLEN differs; the next
     * checksum-only frame writes its own again. */
    put_ctx(d, o, E1000_TXD_CMD_TCP | E1000_TXD_CMD_TSE, (uint32_t)(len - hdr_len), hdr_len, mss);
    d->ctx_valid = false;
    uint8_t popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
    for (size_t at = 0; at < len; at += E1000_DRV_BUF_SIZE) {
        size_t n = len - at < E1000_DRV_BUF_SIZE ? len - at : E1000_DRV_BUF_SIZE;
        uint8_t *slot = d->cfg.tx_bufs + (size_t)d->tx_tail * E1000_DRV_BUF_SIZE;
        frags_copy(slot, frags, nfrags, at, n);
        if (at == 0) {
            uint16_t seed = tso_seed(slot + o->ipcss);
            slot[o->tucso] = (uint8_t)(seed >> 8);
            slot[o->tucso + 1] = (uint8_t)seed;
        }
        struct e1000_data_desc *t = (struct e1000_data_desc *)(void *)&d->cfg.tx_ring[d->tx_tail];
        t->buffer_addr = d->ops.bus_addr(d->ctx, slot);
        t->status = 0;
        t->popts = popts;
        t->special = 0;
        t->cmd_and_length = (uint32_t)n | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT |
                            E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS |
                            (at + n == len ? E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS : 0);
        d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
    }
    tx_doorbell(d, len);
    return 0;
}

int e1000_drv__tx_frame(struct e1000_drv *d, const void *frame, size_t len)
{
    struct e1000_drv_frag f = {frame, len};
    return e1000_drv__tx(d, &f, 1, 0);
}

int e1000_drv__tx_zc(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags)
{
    size_t len;
    int r = frags_len(frags, nfrags, &len);
    if (r)
        return r;
    r = tx_room(d, nfrags);
    if (r)
        return r;
    for (unsigned i = 0; i < nfrags; i++)
        tx_put(d, d->ops.bus_addr(d->ctx, frags[i].data), frags[i].len,
               i + 1 == nfrags ? E1000_TXD_CMD_EOP_B : 0, 0);
    tx_doorbell(d, len);
    return 0;
}

/* ---- receive ----------------------------------------------------------- */

unsigned e1000_drv__rx_poll(struct e1000_drv *d, e1000_drv_rx_fn rx, void *ctx,
                            unsigned budget)
{
    if (!d->ready)
        return 0;
    unsigned n = d->cfg.rx_count, delivered = 0, seen = 0;
    unsigned last = n; /* last descriptor handed back; n = none */
    /* Bounded by the ring size even if the NIC keeps filling. */
    while (delivered < budget && seen < n) {
        unsigned i = d->rx_next;
        volatile struct e1000_rx_desc *r = &d->cfg.rx_ring[i];
        uint8_t status = r->status;
        if (!(status & E1000_RXD_STAT_DD))
            break;
        DRV_ACQUIRE();
        uint8_t errors = r->errors;
        size_t len = r->length;
        bool eop = status & E1000_RXD_STAT_EOP;
        if (!eop || d->rx_discard || errors || len < E1000_ETH_HLEN ||
            len > E1000_DRV_BUF_SIZE) {
            /* Frames spanning descriptors (never with BSIZE 2048 and no
             * LPE) or flagged in error are dropped whole. */
            d->stats.rx_errors += eop ? 1 : 0;
            d->rx_discard = !eop;
        } else {
            const uint8_t *buf = d->cfg.rx_bufs + (size_t)i * E1000_DRV_BUF_SIZE;
            if (rx)
                rx(ctx, buf, len);
            d->stats.rx_frames++;
            d->stats.rx_bytes += len;
            delivered++;
        }
        /* Give it back: the NIC may overwrite buffer_addr's target only. */
        r->buffer_addr = d->ops.bus_addr(d->ctx, d->cfg.rx_bufs + (size_t)i * E1000_DRV_BUF_SIZE);
        r->status = 0;
        r->errors = 0;
        r->length = 0;
        last = i;
        d->rx_next = (i + 1) % n;
        seen++;
    }
    if (last != n) {
        DRV_RELEASE();
        /* RDT = the descriptor just freed: the NIC owns all others. */
        wr(d, E1000_RDT, last);
    }
    return delivered;
}

struct rx_copy {
    uint8_t *buf;
    size_t cap;
    int ret;
};

static void rx_copy_fn(void *ctx, const uint8_t *frame, size_t len)
{
    struct rx_copy *c = ctx;
    if (len > c->cap) {
        c->ret = E1000_DRV_EMSGSIZE;
        return;
    }
    drv_copy(c->buf, frame, len);
    c->ret = (int)len;
}

int e1000_drv__rx(struct e1000_drv *d, void *buf, size_t cap)
{
    struct rx_copy c = {buf, cap, 0};
    e1000_drv__rx_poll(d, rx_copy_fn, &c, 1);
    return c.ret;
}

/* ---- interrupts and status --------------------------------------------- */

uint32_t e1000_drv__irq(struct e1000_drv *d)
{
    uint32_t icr = rd(d, E1000_ICR);
    if (icr)
        d->stats.irqs++;
    return icr;
}

bool e1000_drv__link_up(struct e1000_drv *d)
{
    return rd(d, E1000_STATUS) & E1000_STATUS_LU;
}

uint64_t e1000_drv__rx_missed(struct e1000_drv *d)
{
    d->stats.rx_missed += rd(d, E1000_MPC);
    return d->stats.rx_missed;
}
