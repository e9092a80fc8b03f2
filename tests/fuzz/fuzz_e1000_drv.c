/* drivers/e1000 against a hostile device: register reads (TDH, ICR, MPC,
 * STATUS...) and descriptor write-backs (status, length, errors) come from
 * the fuzzer.  Invariants: the driver only touches its own rings and
 * buffers (ASan), every call returns (bounded), ring indices stay in range,
 * delivered frames lie inside the RX buffer of their descriptor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/e1000/e1000_drv.h"

#define NDESC 16u

struct dev {
    const uint8_t *in;
    size_t len, pos;
    uint8_t *arena;
    size_t arena_len;
    uint8_t *rx_bufs;
};

static uint8_t next8(struct dev *v)
{
    return v->pos < v->len ? v->in[v->pos++] : 0;
}

static uint32_t next32(struct dev *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x = x << 8 | next8(v);
    return x;
}

static uint32_t f_read32(void *ctx, uint32_t off)
{
    struct dev *v = ctx;
    if (off == E1000_CTRL)
        return next8(v) & 1 ? 0 : E1000_CTRL_SLU; /* RST always clears */
    if (off == E1000_EERD)
        return E1000_EERD_DONE | (uint32_t)next8(v) << 16;
    return next32(v);
}

static void f_write32(void *ctx, uint32_t off, uint32_t val)
{
    (void)ctx;
    (void)off;
    (void)val;
}

static uint64_t f_bus(void *ctx, const void *va)
{
    struct dev *v = ctx;
    return (uint64_t)((const uint8_t *)va - v->arena);
}

static void check_rx(void *ctx, const uint8_t *f, size_t len)
{
    struct dev *v = ctx;
    if (f < v->rx_bufs || f + len > v->rx_bufs + NDESC * E1000_DRV_BUF_SIZE || len > E1000_DRV_BUF_SIZE)
        abort();
    volatile uint8_t sink = f[len - 1]; /* touch the whole claimed range */
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dev v = {.in = data, .len = size};
    v.arena_len = (2 * NDESC * E1000_DESC_SIZE + 2 * NDESC * E1000_DRV_BUF_SIZE + 2 * 4096) & ~(size_t)4095;
    v.arena = aligned_alloc(4096, v.arena_len);
    if (!v.arena)
        return 0;
    memset(v.arena, 0, v.arena_len);
    struct e1000_rx_desc *rxr = (void *)v.arena;
    struct e1000_tx_desc *txr = (void *)(v.arena + NDESC * E1000_DESC_SIZE);
    v.rx_bufs = v.arena + 2 * NDESC * E1000_DESC_SIZE;
    uint8_t *tx_bufs = v.rx_bufs + NDESC * E1000_DRV_BUF_SIZE;
    uint8_t *scratch = tx_bufs + NDESC * E1000_DRV_BUF_SIZE;
    struct e1000_drv_ops ops = {f_read32, f_write32, f_bus, NULL};
    struct e1000_drv_config cfg = {rxr, NDESC, v.rx_bufs, txr, NDESC, tx_bufs,
                                   E1000_DRV_IMS_DEFAULT, 100};
    struct e1000_drv d;
    if (e1000_drv__init(&d, &ops, &v, &cfg) != 0) {
        free(v.arena);
        return 0;
    }
    uint8_t frame[1600];
    memset(frame, 0x5a, sizeof frame);
    while (v.pos < v.len) {
        uint8_t op = next8(&v);
        unsigned i = next8(&v) % NDESC;
        switch (op % 7) {
        case 0:
            e1000_drv__tx_frame(&d, frame, next32(&v) % sizeof frame);
            break;
        case 1:
            txr[i].status = next8(&v);
            txr[i].cmd = next8(&v);
            txr[i].cso = next8(&v);
            break;
        case 2:
            rxr[i].status = next8(&v);
            rxr[i].errors = next8(&v);
            rxr[i].length = (uint16_t)next32(&v);
            break;
        case 3:
            e1000_drv__rx_poll(&d, check_rx, &v, next8(&v));
            break;
        case 4: {
            uint8_t out[256];
            e1000_drv__rx(&d, out, next8(&v));
            e1000_drv__tx_reclaim(&d);
            e1000_drv__irq(&d);
            e1000_drv__link_up(&d);
            e1000_drv__rx_missed(&d);
            break;
        }
        case 5: {
            struct e1000_drv_offload o = {next8(&v), next8(&v), (uint16_t)next32(&v), next8(&v),
                                          next8(&v), (uint16_t)next32(&v), true, true, i & 1};
            struct e1000_drv_frag fr = {frame, next32(&v) % sizeof frame};
            e1000_drv__tx_offload(&d, &fr, 1, &o);
            break;
        }
        case 6: {
            struct e1000_drv_frag fr[3] = {{scratch, next8(&v)}, {scratch + 256, next8(&v)},
                                           {scratch + 512, next32(&v) % 1600}};
            e1000_drv__tx_zc(&d, fr, 1 + i % 3);
            struct e1000_drv_csum cs = {next8(&v), next8(&v)};
            e1000_drv__tx(&d, fr, 1 + i % 3, &cs);
            break;
        }
        }
        if (d.tx_tail >= NDESC || d.tx_clean >= NDESC || d.rx_next >= NDESC ||
            e1000_drv__tx_free(&d) > NDESC - 1)
            abort();
    }
    e1000_drv__stop(&d);
    free(v.arena);
    return 0;
}
