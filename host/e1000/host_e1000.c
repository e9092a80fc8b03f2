/* Host e1000 driver instance: see host_e1000.h. */
#include "host/e1000/host_e1000.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#define HOST_RING_BYTES 0x10000ull /* both rings live in the first 64 KiB */

static uint32_t h_read32(void *ctx, uint32_t off)
{
    struct host_e1000 *h = ctx;
    return mmio__read32(&h->regs, off);
}

static void h_write32(void *ctx, uint32_t off, uint32_t v)
{
    struct host_e1000 *h = ctx;
    mmio__write32(&h->regs, off, v);
}

static uint64_t h_bus_addr(void *ctx, const void *va)
{
    struct host_e1000 *h = ctx;
    return (uint64_t)((const uint8_t *)va - h->pm->base);
}

static void h_delay_us(void *ctx, unsigned us)
{
    (void)ctx;
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

static const struct e1000_drv_ops host_ops = {
    .read32 = h_read32,
    .write32 = h_write32,
    .bus_addr = h_bus_addr,
    .delay_us = h_delay_us,
};

int host_e1000__init(struct host_e1000 *h, struct physmem *pm, const struct mmio_window *regs,
                     const struct host_e1000_config *cfg)
{
    memset(h, 0, sizeof(*h));
    unsigned rx = cfg && cfg->rx_count ? cfg->rx_count : 256;
    unsigned tx = cfg && cfg->tx_count ? cfg->tx_count : 256;
    uint64_t need = HOST_RING_BYTES + (uint64_t)(rx + tx) * E1000_DRV_BUF_SIZE;
    if ((uint64_t)(rx + tx) * E1000_DESC_SIZE > HOST_RING_BYTES || need > PHYSMEM_PAGE_2M) {
        log__err("host-e1000", "rings of %u + %u descriptors do not fit in 2 MiB", rx, tx);
        return -EINVAL;
    }
    int r = physmem__alloc(pm, PHYSMEM_PAGE_2M, &h->hpa);
    if (r) {
        log__err("host-e1000", "no 2 MiB extent for rings and buffers");
        return r;
    }
    h->pm = pm;
    h->regs = *regs;
    uint8_t *base = physmem__ptr(pm, h->hpa, PHYSMEM_PAGE_2M);
    struct e1000_drv_config dc = {
        .rx_ring = (struct e1000_rx_desc *)(void *)base,
        .rx_count = rx,
        .tx_ring = (struct e1000_tx_desc *)(void *)(base + (uint64_t)rx * E1000_DESC_SIZE),
        .tx_count = tx,
        .rx_bufs = base + HOST_RING_BYTES,
        .tx_bufs = base + HOST_RING_BYTES + (uint64_t)rx * E1000_DRV_BUF_SIZE,
        .ims = cfg ? cfg->ims : 0,
    };
    r = e1000_drv__init(&h->drv, &host_ops, h, &dc);
    if (r) {
        log__err("host-e1000", "device init failed (%d)", r);
        physmem__free(pm, h->hpa, PHYSMEM_PAGE_2M);
        h->pm = NULL;
        return r == E1000_DRV_ETIMEDOUT ? -ETIMEDOUT : -EINVAL;
    }
    return 0;
}

void host_e1000__fini(struct host_e1000 *h)
{
    if (!h->pm)
        return;
    e1000_drv__stop(&h->drv);
    physmem__free(h->pm, h->hpa, PHYSMEM_PAGE_2M);
    h->pm = NULL;
}
