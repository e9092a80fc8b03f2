/* Fuzz the e1000 model as a hostile driver would drive it: register writes
 * and reads (trapped), raw writes into the directly-mappable ring pages,
 * descriptor and buffer memory contents, received frames, TX polls and
 * time ticks, over a 64 KiB DMA window.
 *
 * Invariants (abort on violation):
 *  - the model writes memory only where the driver told it to: during
 *    tx_poll only the status byte (offset 12) of a descriptor inside the
 *    validated TX ring; during rx_frame only bytes 8-15 of descriptors in
 *    the validated RX ring, or data inside [buffer, buffer + BSIZE) of a
 *    buffer address it read from that ring during the same call; register
 *    accesses and ticks never DMA at all;
 *  - bounded work: tx_poll returns <= budget and issues <= 3 DMAs per
 *    descriptor; rx_frame issues a bounded number of DMAs;
 *  - frames handed to the wire are 14..16 KiB+pad long;
 *  - the interrupt line seen by the sink equals e1000__irq_level, and with
 *    ITR = 0 it equals (ICR & IMS) != 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define WIN_BASE 0x100000ull
#define WIN_SIZE 0x10000u

enum phase { PH_NONE, PH_TX, PH_RX };

struct fz {
    uint8_t mem[WIN_SIZE];
    void *regs;
    struct e1000 *e;
    enum phase phase;
    uint64_t rbase;
    uint32_t rsize, bufsize;
    bool rvalid;
    uint64_t tbase;
    uint32_t tsize;
    bool tvalid;
    uint64_t allowed[256];
    unsigned nallowed;
    unsigned dma_ops;
    int level;
    int gso_answer;     /* the GSO hook takes bursts (0) or refuses them */
    unsigned gso_calls;
};

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static bool in_win(uint64_t a, size_t len)
{
    return a >= WIN_BASE && a - WIN_BASE <= WIN_SIZE && len <= WIN_SIZE - (a - WIN_BASE);
}

static int f_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    struct fz *z = ctx;
    z->dma_ops++;
    CHECK(z->phase != PH_NONE);
    CHECK(len <= 65536 + 256);
    if (!in_win(a, len))
        return -14;
    memcpy(buf, z->mem + (a - WIN_BASE), len);
    if (z->phase == PH_RX && z->rvalid && len == 8 && a >= z->rbase &&
        a < z->rbase + (uint64_t)z->rsize * 16 && (a - z->rbase) % 16 == 0 &&
        z->nallowed < 256) {
        uint64_t v;
        memcpy(&v, buf, 8);
        z->allowed[z->nallowed++] = v;
    }
    return 0;
}

static int f_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    struct fz *z = ctx;
    z->dma_ops++;
    if (z->phase == PH_TX) {
        CHECK(z->tvalid && len == 1 && a >= z->tbase && a < z->tbase + (uint64_t)z->tsize * 16 &&
              (a - z->tbase) % 16 == 12);
    } else if (z->phase == PH_RX) {
        CHECK(z->rvalid);
        bool ok = len == 8 && a >= z->rbase && a < z->rbase + (uint64_t)z->rsize * 16 &&
                  (a - z->rbase) % 16 == 8;
        for (unsigned i = 0; i < z->nallowed && !ok; i++)
            ok = a >= z->allowed[i] && len <= z->bufsize && a - z->allowed[i] <= z->bufsize - len;
        CHECK(ok);
    } else {
        CHECK(0);
    }
    if (!in_win(a, len))
        return -14;
    memcpy(z->mem + (a - WIN_BASE), buf, len);
    return 0;
}

static const struct dma_ops f_ops = {.read = f_read, .write = f_write};

static void f_intx(void *ctx, int level)
{
    struct fz *z = ctx;
    CHECK(level != z->level);
    z->level = level;
}

static void f_tx(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx;
    CHECK(f && len >= 14 && len <= 16384 + 4 + 60);
    volatile uint8_t sink = f[0] ^ f[len - 1];
    (void)sink;
}

/* A TSO burst handed over whole: its description must be one a TAP could
 * take (what the wire writes as a virtio_net_hdr) and add up exactly. */
static int f_gso(void *ctx, const struct e1000_gso *g)
{
    struct fz *z = ctx;
    z->gso_calls++;
    CHECK(g->hdr && g->pay && g->hdr_len <= 255 && g->pay_len >= 1 && g->mss >= 1);
    CHECK(g->csum_offset == 16 && g->csum_start + 20u <= g->hdr_len);
    CHECK(g->l3_start + 20u <= g->csum_start); /* a whole IPv4 header before TCP */
    CHECK(g->nseg >= 1 && g->nseg <= E1000_GSO_MAX_SEGS);
    CHECK(g->first_len <= g->hdr_len + g->mss && g->last_len <= g->first_len);
    CHECK((uint64_t)g->hdr_len + g->pay_len ==
          (uint64_t)(g->nseg - 1) * (g->first_len - g->hdr_len) + g->last_len);
    CHECK(g->first_len <= 16384);
    volatile uint8_t sink = g->hdr[0] ^ g->hdr[g->hdr_len - 1] ^ g->pay[0] ^ g->pay[g->pay_len - 1];
    (void)sink;
    return z->gso_answer;
}

static uint32_t reg(struct fz *z, uint32_t off)
{
    uint32_t v;
    memcpy(&v, (uint8_t *)z->regs + off, 4);
    return v;
}

/* The same validation the model applies (SDM 3.2.6 / 3.3.8). */
static bool ring(struct fz *z, uint32_t b, uint64_t *base, uint32_t *size)
{
    uint32_t len = reg(z, b + 8);
    *base = (uint64_t)reg(z, b + 4) << 32 | (reg(z, b) & ~0xFu);
    *size = len / 16;
    return len && !(len % 128) && len <= 0xFFF80u && reg(z, b + 0x10) < *size &&
           reg(z, b + 0x18) < *size;
}

static uint32_t bufsize(uint32_t rctl)
{
    uint32_t bs = (rctl >> 16) & 3;
    if (rctl & E1000_RCTL_BSEX)
        return bs ? 32768u >> bs : 2048u;
    return 2048u >> bs;
}

static const uint32_t regs_of_interest[] = {
    E1000_CTRL, E1000_STATUS, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICR, E1000_ITR,
    E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDBAH,
    E1000_RDLEN, E1000_RDH, E1000_RDT, E1000_RDTR, E1000_RADV, E1000_TDBAL, E1000_TDBAH,
    E1000_TDLEN, E1000_TDH, E1000_TDT, E1000_TIDV, E1000_TADV, E1000_RXCSUM, E1000_MTA,
    E1000_RAL(0), E1000_RAH(0), E1000_RAH(1), E1000_GPRC, E1000_GORCH, E1000_MPC,
    E1000_VET, E1000_CTRL_EXT,
};
#define NREGS (sizeof regs_of_interest / sizeof regs_of_interest[0])

struct in {
    const uint8_t *p;
    size_t n;
};
static uint8_t u8(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}
static uint16_t u16(struct in *in)
{
    return (uint16_t)(u8(in) | u8(in) << 8);
}
static uint32_t u32(struct in *in)
{
    return (uint32_t)u16(in) | (uint32_t)u16(in) << 16;
}

static void check_irq(struct fz *z)
{
    CHECK(e1000__irq_level(z->e) == z->level);
    if (!(reg(z, E1000_ITR) & 0xFFFF)) {
        uint32_t pend = reg(z, E1000_ICR) & reg(z, E1000_IMS) & E1000_ICR_CAUSE_MASK;
        CHECK(z->level == (pend != 0));
        CHECK(!!(reg(z, E1000_ICR) & E1000_ICR_INT_ASSERTED) == (pend != 0));
    }
}

static void wr(struct fz *z, uint32_t off, uint32_t v)
{
    e1000_mmio_ops.write(z->e, off, 4, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz *z = calloc(1, sizeof *z);
    if (!z || posix_memalign(&z->regs, 4096, E1000_MMIO_SIZE))
        abort();
    struct dma_port port = {.ops = &f_ops, .ctx = z};
    struct irq_sink sink = {.intx = f_intx, .ctx = z};
    const uint8_t mac[6] = {0x52, 0x54, 0, 1, 2, 3};
    z->e = e1000__create(z->regs, &port, &sink, mac, f_tx, z);
    CHECK(z->e);
    e1000__set_tx_gso(z->e, f_gso);
    /* a sane starting point so the fuzzer reaches the data paths */
    wr(z, E1000_TDBAL, (uint32_t)WIN_BASE);
    wr(z, E1000_TDLEN, 256);
    wr(z, E1000_RDBAL, (uint32_t)WIN_BASE + 0x100);
    wr(z, E1000_RDLEN, 256);
    wr(z, E1000_RDT, 15);
    wr(z, E1000_TCTL, E1000_TCTL_EN);
    wr(z, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_UPE | E1000_RCTL_SECRC);
    for (uint32_t i = 0; i < 16; i++) {
        uint64_t b = WIN_BASE + 0x1000 + i * 0x800;
        memcpy(z->mem + 0x100 + i * 16, &b, 8);
    }
    uint8_t *frame = malloc(17000);
    CHECK(frame);
    struct in in = {data, size};
    uint64_t now = 0;
    for (unsigned step = 0; in.n && step < 512; step++) {
        uint8_t op = u8(&in);
        switch (op % 9) {
        case 0: { /* trapped register write */
            uint8_t sel = u8(&in);
            uint32_t off = sel < 200 ? regs_of_interest[sel % NREGS] : (u16(&in) * 4u) % E1000_MMIO_SIZE;
            wr(z, off, u32(&in));
            break;
        }
        case 1: { /* trapped register read (with read side effects) */
            uint8_t sel = u8(&in);
            uint32_t off = sel < 200 ? regs_of_interest[sel % NREGS] : (u16(&in) * 4u) % E1000_MMIO_SIZE;
            unsigned sz = 1u << (u8(&in) % 4);
            (void)e1000_mmio_ops.read(z->e, off + (sz < 4 ? (u8(&in) & 3) : 0), sz);
            break;
        }
        case 2: { /* raw write into a mapped ring page (no trap, no masks) */
            uint32_t off = 0x2000 + (u16(&in) % 0x2000) * 4 % 0x2000;
            uint32_t v = u32(&in);
            memcpy((uint8_t *)z->regs + off, &v, 4);
            break;
        }
        case 3: { /* memory contents */
            uint16_t a = u16(&in);
            uint8_t n = u8(&in);
            for (unsigned i = 0; i < n; i++)
                z->mem[(a + i) % WIN_SIZE] = u8(&in);
            break;
        }
        case 4: { /* a descriptor pointing mostly inside the window */
            uint16_t idx = u8(&in) % 32;
            uint8_t d[16];
            uint64_t b = WIN_BASE + u16(&in);
            memcpy(d, &b, 8);
            for (int i = 8; i < 16; i++)
                d[i] = u8(&in);
            memcpy(z->mem + (idx * 16u) % WIN_SIZE, d, 16);
            break;
        }
        case 5: { /* received frame */
            uint16_t len = u16(&in);
            len = (len & 0x8000) ? (uint16_t)(len % 17000) : (uint16_t)(len % 1600);
            for (unsigned i = 0; i < len; i++)
                frame[i] = (uint8_t)(i < 6 ? (op & 0x10 ? 0xFF : mac[i]) : i * 13 + op);
            if (in.n >= 2 && len > 14) {
                frame[12] = u8(&in);
                frame[13] = u8(&in);
            }
            z->rvalid = ring(z, E1000_RDBAL, &z->rbase, &z->rsize);
            z->bufsize = bufsize(reg(z, E1000_RCTL));
            z->nallowed = 0;
            z->dma_ops = 0;
            z->phase = PH_RX;
            int rc = e1000__rx_frame(z->e, frame, len);
            z->phase = PH_NONE;
            CHECK(rc == 0 || rc == -28 || rc == -22 || rc == -14);
            CHECK(z->dma_ops <= 3 * (17000 / 256 + 2));
            break;
        }
        case 6: { /* transmit poll */
            unsigned budget = u8(&in);
            z->tvalid = ring(z, E1000_TDBAL, &z->tbase, &z->tsize);
            z->dma_ops = 0;
            z->phase = PH_TX;
            unsigned n = e1000__tx_poll(z->e, budget);
            z->phase = PH_NONE;
            CHECK(n <= budget);
            CHECK(z->dma_ops <= 3 * n);
            break;
        }
        case 7:
            now += (uint64_t)u16(&in) * 64;
            e1000__tick(z->e, now);
            break;
        case 8: { /* a context descriptor */
            if (op & 0x40) { /* a TSO burst with fuzzed layout, ready to poll */
                uint32_t idx = u8(&in) % 14;
                /* one field at a time: initialisers are not sequenced */
                struct e1000_context_desc c = {0};
                c.ipcss = u8(&in) % 40;
                c.hdr_len = u8(&in);
                c.mss = u16(&in);
                c.cmd_and_length = E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C |
                                   ((u8(&in) & 7u) << 24) | E1000_TXD_CMD_TSE;
                c.ipcso = (uint8_t)(c.ipcss + 10);
                c.ipcse = (uint16_t)(c.ipcss + 19 + (u8(&in) & 1));
                c.tucss = (uint8_t)(c.ipcss + 20 + u8(&in) % 8);
                c.tucso = (uint8_t)(c.tucss + (u8(&in) & 1 ? 16 : 6));
                uint32_t len = (uint32_t)c.hdr_len + u16(&in) % 0x4000;
                struct e1000_data_desc d = {0};
                d.buffer_addr = WIN_BASE + 0x2000;
                d.popts = u8(&in) & 3;
                d.cmd_and_length = len | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE |
                                   E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS;
                memcpy(z->mem + idx * 16u, &c, 16);
                memcpy(z->mem + (idx + 1) * 16u, &d, 16);
                z->gso_answer = op & 0x20 ? -1 : 0;
                wr(z, E1000_TDT, idx + 2);
                break;
            }
            uint16_t idx = u8(&in) % 16;
            uint8_t d[16];
            for (int i = 0; i < 16; i++)
                d[i] = u8(&in);
            d[11] |= E1000_TXD_CMD_DEXT_B;
            d[10] &= 0x0F;
            memcpy(z->mem + idx * 16u, d, 16);
            break;
        }
        }
        check_irq(z);
    }
    e1000__destroy(z->e);
    free(frame);
    free(z->regs);
    free(z);
    return 0;
}
