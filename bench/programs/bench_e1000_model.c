/* Cost of the e1000 model itself (no wire, no IOMMU): frames per second
 * through e1000__tx_poll and e1000__rx_frame over a plain-memory DMA port,
 * for small and full-size frames, with and without TX checksum offload.
 * Prints figures; 1 Gb/s line rate needs ~81 k full-size frames/s. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define BASE 0x40000000ull
#define MEM (4u << 20)
#define RING 256u

struct bench {
    uint8_t *mem;
    uint64_t tx_bytes;
};

static int b_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    struct bench *b = ctx;
    if (a < BASE || a - BASE > MEM || len > MEM - (a - BASE))
        return -EFAULT;
    memcpy(buf, b->mem + (a - BASE), len);
    return 0;
}

static int b_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    struct bench *b = ctx;
    if (a < BASE || a - BASE > MEM || len > MEM - (a - BASE))
        return -EFAULT;
    memcpy(b->mem + (a - BASE), buf, len);
    return 0;
}

static void b_tx(void *ctx, const uint8_t *f, size_t len)
{
    struct bench *b = ctx;
    b->tx_bytes += len + f[len - 1] * 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void wr(struct e1000 *e, uint32_t off, uint32_t v)
{
    e1000_mmio_ops.write(e, off, 4, v);
}
static uint32_t rd(struct e1000 *e, uint32_t off)
{
    return (uint32_t)e1000_mmio_ops.read(e, off, 4);
}

static void bench_tx(struct e1000 *e, struct bench *b, uint32_t len, int offload, unsigned frames)
{
    /* descriptor ring at BASE, buffers at BASE + 64 KiB */
    for (uint32_t i = 0; i < RING; i++) {
        uint8_t d[16] = {0};
        uint64_t buf = BASE + 0x10000 + (uint64_t)i * 2048;
        memcpy(d, &buf, 8);
        if (offload) {
            uint32_t cl = len | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP |
                          E1000_TXD_CMD_RS;
            memcpy(d + 8, &cl, 4);
            d[13] = E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM;
        } else {
            uint16_t l = (uint16_t)len;
            memcpy(d + 8, &l, 2);
            d[11] = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B;
        }
        memcpy(b->mem + i * 16, d, 16);
        memset(b->mem + 0x10000 + i * 2048, 0x45, len);
    }
    wr(e, E1000_TDBAL, (uint32_t)BASE);
    wr(e, E1000_TDBAH, (uint32_t)(BASE >> 32));
    wr(e, E1000_TDLEN, RING * 16);
    wr(e, E1000_TDH, 0);
    wr(e, E1000_TDT, 0);
    wr(e, E1000_TCTL, E1000_TCTL_EN);
    if (offload) { /* one context descriptor through the ring first */
        uint8_t c[16] = {14, 24, 33, 0, 34, 50, 0, 0};
        uint32_t cl = E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C | E1000_TXD_CMD_IP | E1000_TXD_CMD_TCP;
        memcpy(c + 8, &cl, 4);
        uint8_t save[16];
        memcpy(save, b->mem, 16);
        memcpy(b->mem, c, 16);
        wr(e, E1000_TDT, 1);
        e1000__tx_poll(e, 1);
        memcpy(b->mem, save, 16);
    }
    unsigned sent = 0;
    double t0 = now_s();
    while (sent < frames) {
        wr(e, E1000_TDT, (rd(e, E1000_TDH) + RING - 1) % RING);
        sent += e1000__tx_poll(e, 64);
        rd(e, E1000_ICR);
    }
    double dt = now_s() - t0;
    printf("tx  %5u B %-8s %9.0f frames/s  %7.2f Gb/s  %6.2f us/frame\n", len,
           offload ? "csum" : "plain", sent / dt, sent * (double)len * 8 / dt / 1e9,
           dt / sent * 1e6);
}

static void bench_rx(struct e1000 *e, struct bench *b, uint32_t len, unsigned frames)
{
    for (uint32_t i = 0; i < RING; i++) {
        uint64_t buf = BASE + 0x200000 + (uint64_t)i * 2048;
        memset(b->mem + 0x100000 + i * 16, 0, 16);
        memcpy(b->mem + 0x100000 + i * 16, &buf, 8);
    }
    wr(e, E1000_RDBAL, (uint32_t)(BASE + 0x100000));
    wr(e, E1000_RDBAH, (uint32_t)(BASE >> 32));
    wr(e, E1000_RDLEN, RING * 16);
    wr(e, E1000_RDH, 0);
    wr(e, E1000_RDT, RING - 1);
    wr(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    uint8_t f[1514];
    memset(f, 0xFF, 6);
    memset(f + 6, 0x22, len - 6);
    unsigned got = 0;
    double t0 = now_s();
    while (got < frames) {
        if (e1000__rx_frame(e, f, len) == 0)
            got++;
        else
            wr(e, E1000_RDT, (rd(e, E1000_RDH) + RING - 1) % RING);
    }
    double dt = now_s() - t0;
    printf("rx  %5u B %-8s %9.0f frames/s  %7.2f Gb/s  %6.2f us/frame\n", len, "plain",
           got / dt, got * (double)len * 8 / dt / 1e9, dt / got * 1e6);
}

int main(void)
{
    struct bench b = {.mem = calloc(1, MEM)};
    void *regs = NULL;
    if (!b.mem || posix_memalign(&regs, 4096, E1000_MMIO_SIZE))
        return 1;
    static const struct dma_ops ops = {.read = b_read, .write = b_write};
    struct dma_port port = {.ops = &ops, .ctx = &b};
    const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 1};
    struct e1000 *e = e1000__create(regs, &port, NULL, mac, b_tx, &b);
    if (!e)
        return 1;
    printf("e1000 model cost (plain-memory DMA port, no wire)\n");
    bench_tx(e, &b, 64, 0, 400000);
    bench_tx(e, &b, 1514, 0, 200000);
    bench_tx(e, &b, 1514, 1, 200000);
    bench_rx(e, &b, 64, 400000);
    bench_rx(e, &b, 1514, 200000);
    e1000__destroy(e);
    free(regs);
    free(b.mem);
    return 0;
}
