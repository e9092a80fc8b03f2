/* qtest-style harness for the e1000 model: a DMA port over a plain memory
 * window, an irq sink that records level changes, a tx sink that keeps the
 * frames, and register helpers.  Included by tests/unit/hw/test_e1000_*.c. */
#ifndef IOVIRT_TESTS_E1000_HARNESS_H
#define IOVIRT_TESTS_E1000_HARNESS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define H_MEM_BASE 0x10000000ull /* bus address of the window */
#define H_MEM_SIZE (1u << 20)
#define H_MAX_FRAMES 64
#define H_FRAME_CAP 16500u

struct h_frame {
    uint8_t data[H_FRAME_CAP];
    size_t len;
};

struct harness {
    void *regs;
    uint8_t *mem;
    struct dma_port dma;
    struct irq_sink irq;
    struct e1000 *e;
    struct mmio_window w;
    /* dma accounting */
    unsigned dma_reads, dma_writes, dma_faults;
    uint64_t ro_lo, ro_hi; /* writes into [ro_lo, ro_hi) fail: a read-only mapping */
    bool no_bus_master;    /* every DMA refused: Bus Master Enable clear */
    /* irq */
    int level;
    unsigned level_changes, raises;
    /* tx */
    struct h_frame *frames;
    unsigned nframes;
    struct e1000 *peer; /* if set, transmitted frames go to peer's rx_frame */
};

static inline int h_dma_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    struct harness *h = ctx;
    if (h->no_bus_master)
        return DMA_E_NO_BUS_MASTER;
    h->dma_reads++;
    if (a < H_MEM_BASE || a - H_MEM_BASE > H_MEM_SIZE || len > H_MEM_SIZE - (a - H_MEM_BASE)) {
        h->dma_faults++;
        return -EFAULT;
    }
    memcpy(buf, h->mem + (a - H_MEM_BASE), len);
    return 0;
}

static inline int h_dma_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    struct harness *h = ctx;
    if (h->no_bus_master)
        return DMA_E_NO_BUS_MASTER;
    h->dma_writes++;
    if ((a < h->ro_hi && a + len > h->ro_lo) || a < H_MEM_BASE || a - H_MEM_BASE > H_MEM_SIZE || len > H_MEM_SIZE - (a - H_MEM_BASE)) {
        h->dma_faults++;
        return -EFAULT;
    }
    memcpy(h->mem + (a - H_MEM_BASE), buf, len);
    return 0;
}

static const struct dma_ops h_dma_ops = {.read = h_dma_read, .write = h_dma_write};

static inline void h_intx(void *ctx, int level)
{
    struct harness *h = ctx;
    if (level && !h->level)
        h->raises++;
    h->level = level;
    h->level_changes++;
}

static inline void h_tx(void *ctx, const uint8_t *f, size_t len)
{
    struct harness *h = ctx;
    if (h->peer) {
        e1000__rx_frame(h->peer, f, len);
        h->nframes++;
        return;
    }
    if (h->nframes < H_MAX_FRAMES && len <= H_FRAME_CAP) {
        memcpy(h->frames[h->nframes].data, f, len);
        h->frames[h->nframes].len = len;
    }
    h->nframes++;
}

static const uint8_t h_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static inline struct harness *h_new(void)
{
    struct harness *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    if (posix_memalign(&h->regs, 4096, E1000_MMIO_SIZE))
        abort();
    h->mem = calloc(1, H_MEM_SIZE);
    h->frames = calloc(H_MAX_FRAMES, sizeof *h->frames);
    if (!h->mem || !h->frames)
        abort();
    h->dma = (struct dma_port){.ops = &h_dma_ops, .ctx = h};
    h->irq = (struct irq_sink){.intx = h_intx, .ctx = h};
    h->e = e1000__create(h->regs, &h->dma, &h->irq, h_mac, h_tx, h);
    if (!h->e)
        abort();
    h->w = (struct mmio_window){.ops = &e1000_mmio_ops, .dev = h->e};
    return h;
}

static inline void h_free(struct harness *h)
{
    e1000__destroy(h->e);
    free(h->regs);
    free(h->mem);
    free(h->frames);
    free(h);
}

/* The cmocka teardown of a test whose state is h_new()'s harness. */
static inline int h_teardown(void **state)
{
    h_free(*state);
    return 0;
}

static inline uint32_t rd(struct harness *h, uint32_t off)
{
    return mmio__read32(&h->w, off);
}
static inline void wr(struct harness *h, uint32_t off, uint32_t v)
{
    mmio__write32(&h->w, off, v);
}
/* Write straight into the register buffer, as a guest with the ring page
 * mapped would (no masks, no trap). */
static inline void poke(struct harness *h, uint32_t off, uint32_t v)
{
    memcpy((uint8_t *)h->regs + off, &v, 4);
}
static inline uint8_t *hmem(struct harness *h, uint64_t bus)
{
    return h->mem + (bus - H_MEM_BASE);
}

/* Ring layout used by the tests. */
#define H_TX_RING  (H_MEM_BASE + 0x0000)
#define H_RX_RING  (H_MEM_BASE + 0x1000)
#define H_TX_BUF   (H_MEM_BASE + 0x10000)
#define H_RX_BUF   (H_MEM_BASE + 0x40000)

static inline void h_tx_setup(struct harness *h, uint32_t ndesc)
{
    wr(h, E1000_TDBAL, (uint32_t)H_TX_RING);
    wr(h, E1000_TDBAH, (uint32_t)(H_TX_RING >> 32));
    wr(h, E1000_TDLEN, ndesc * 16);
    wr(h, E1000_TDH, 0);
    wr(h, E1000_TDT, 0);
    wr(h, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static inline void h_tx_legacy(struct harness *h, uint32_t idx, uint64_t buf, uint16_t len, uint8_t cmd)
{
    struct e1000_tx_desc d = {.buffer_addr = buf, .length = len, .cmd = cmd};
    memcpy(hmem(h, H_TX_RING + idx * 16u), &d, sizeof d);
}

#define H_RX_BUF_STRIDE 0x4000ull

/* RX ring of ndesc descriptors, buffer i at H_RX_BUF + i * H_RX_BUF_STRIDE. */
static inline void h_rx_setup(struct harness *h, uint32_t ndesc, uint32_t rctl_extra)
{
    for (uint32_t i = 0; i < ndesc; i++) {
        struct e1000_rx_desc d = {.buffer_addr = H_RX_BUF + i * H_RX_BUF_STRIDE};
        memcpy(hmem(h, H_RX_RING + i * 16u), &d, sizeof d);
    }
    wr(h, E1000_RDBAL, (uint32_t)H_RX_RING);
    wr(h, E1000_RDBAH, (uint32_t)(H_RX_RING >> 32));
    wr(h, E1000_RDLEN, ndesc * 16);
    wr(h, E1000_RDH, 0);
    wr(h, E1000_RDT, ndesc - 1);
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | rctl_extra);
}

/* Receive buffer idx of h_rx_setup's ring. */
static inline uint8_t *h_rx_buf(struct harness *h, uint32_t idx)
{
    return hmem(h, H_RX_BUF + idx * H_RX_BUF_STRIDE);
}

static inline struct e1000_rx_desc h_rx_desc(struct harness *h, uint32_t idx)
{
    struct e1000_rx_desc d;
    memcpy(&d, hmem(h, H_RX_RING + idx * 16u), sizeof d);
    return d;
}

/* A frame to our MAC (or dst), payload pattern seeded by `seed`. */
static inline size_t h_make_frame(uint8_t *f, size_t len, const uint8_t dst[6], uint8_t seed)
{
    memcpy(f, dst ? dst : h_mac, 6);
    const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x99};
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xB5; /* local experimental EtherType */
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i * 7);
    return len;
}

/* Internet checksum of a byte range, for checking offloads independently. */
static inline uint16_t h_csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 (20) + TCP (20) frame with `pay` payload bytes; IP and
 * TCP checksum fields left 0. Returns the length. */
static inline size_t h_make_tcp(uint8_t *f, size_t pay)
{
    size_t len = 14 + 20 + 20 + pay;
    h_make_frame(f, len, NULL, 3);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 20 + pay) >> 8);
    ip[3] = (uint8_t)(20 + 20 + pay);
    ip[4] = 0x12;
    ip[5] = 0x34; /* id */
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    memcpy(ip + 12, addrs, 8);
    uint8_t *tcp = ip + 20;
    tcp[0] = 0x30;
    tcp[1] = 0x39;
    tcp[2] = 0x00;
    tcp[3] = 0x50;
    tcp[4] = 0x01;
    tcp[5] = 0x02;
    tcp[6] = 0x03;
    tcp[7] = 0x04; /* seq */
    tcp[12] = 0x50;
    tcp[13] = 0x19; /* FIN PSH ACK */
    tcp[14] = 0xFF;
    return len;
}

/* TCP pseudo-header sum (not complemented) for a given TCP length. */
static inline uint32_t h_pseudo(const uint8_t *f, uint32_t tcplen)
{
    const uint8_t *ip = f + 14;
    uint32_t s = 0;
    for (int i = 12; i < 20; i += 2)
        s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    return s + 6 + tcplen;
}

#endif
