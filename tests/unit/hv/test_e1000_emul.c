/* hv/e1000_emul: the emulated e1000 has a clock.  With an injected clock the
 * tests count interrupts against model time (not the scheduler): ITR
 * throttling (SDM 13.4.18), RDTR/RADV delayed receive interrupts and
 * TIDV/TADV delayed transmit interrupts fire at the model time the SDM says.
 * With the default clock the device's own timer thread delivers an
 * interrupt ITR held back, without any further guest access and without
 * spinning.  And the PCI command register (PCI Local Bus 3.0, 6.2.2):
 * Memory Space Enable clear stops BAR0 decoding, Bus Master Enable clear
 * stops every DMA and MSI; setting them again resumes.  A guest TSO burst
 * goes whole to a tx_gso callback that takes it (after the frames before
 * it, as one frame with the whole's headers), through the model's
 * segmenter frame by frame when it refuses, exactly as without one. */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "drivers/e1000/e1000_regs.h"
#include "hv/e1000_emul.h"
#include "lib/log.h"

#define RAM_BASE   0x100000ull
#define RING_N     256u
#define RX_RING    (RAM_BASE + 0x10000)
#define TX_RING    (RAM_BASE + 0x20000)
#define RX_BUF     (RAM_BASE + 0x40000)
#define TX_BUF     (RAM_BASE + 0x80000)
#define MSI_VECTOR 0x41
#define US         1000ull

struct fx {
    struct physmem pm;
    struct guest_mem gm;
    struct vm_irq irq;
    struct e1000_emul d;
    uint64_t t;           /* model time, ns */
    unsigned injected;    /* MSIs that reached the "vCPU" */
    unsigned sent;        /* frames out of the device */
    uint16_t tdt;
};

static uint64_t fake_clock(void *ctx)
{
    return ((struct fx *)ctx)->t;
}

static void on_inject(void *ctx, uint8_t vector)
{
    struct fx *f = ctx;
    assert_int_equal(vector, MSI_VECTOR);
    __atomic_fetch_add(&f->injected, 1, __ATOMIC_RELAXED);
}

/* What left the device, in order (when txlog.on): frames through tx ('f')
 * and bursts taken by tx_gso ('g'). */
#define TXLOG_MAX 64
struct txlog_entry {
    char kind;
    size_t len;
    uint8_t *data;
    struct e1000_emul_gso g;
};
static struct {
    bool on;
    unsigned n;
    struct txlog_entry e[TXLOG_MAX];
    unsigned gso_calls;   /* every tx_gso call, taken or not */
    int gso_answer;       /* what tx_gso returns */
} txlog;

static void txlog_add(char kind, const uint8_t *frame, size_t len, const struct e1000_emul_gso *g)
{
    assert_true(txlog.n < TXLOG_MAX);
    struct txlog_entry *e = &txlog.e[txlog.n++];
    e->kind = kind;
    e->len = len;
    e->data = malloc(len);
    assert_non_null(e->data);
    memcpy(e->data, frame, len);
    if (g)
        e->g = *g;
}

static void txlog_reset(bool on, int gso_answer)
{
    for (unsigned i = 0; i < txlog.n; i++)
        free(txlog.e[i].data);
    memset(&txlog, 0, sizeof txlog);
    txlog.on = on;
    txlog.gso_answer = gso_answer;
}

static void on_tx(void *ctx, const uint8_t *frame, size_t len)
{
    ((struct fx *)ctx)->sent++;
    if (txlog.on)
        txlog_add('f', frame, len, NULL);
}

static int on_tx_gso(void *ctx, const uint8_t *frame, size_t len, const struct e1000_emul_gso *g)
{
    (void)ctx;
    txlog.gso_calls++;
    if (txlog.gso_answer == 0)
        txlog_add('g', frame, len, g);
    return txlog.gso_answer;
}

static void wr(struct fx *f, uint32_t off, uint32_t v)
{
    e1000_emul_bar0_ops.write(&f->d, off, 4, v);
}

static uint32_t rd(struct fx *f, uint32_t off)
{
    return (uint32_t)e1000_emul_bar0_ops.read(&f->d, off, 4);
}

static void set_command(struct fx *f, uint16_t cmd)
{
    pci_dev__cfg_write(&f->d.pci, PCI_COMMAND, 2, cmd);
    e1000_emul__cfg_written(&f->d, PCI_COMMAND, 2);
}

/* A driver's set-up: decode and bus mastering on, MSI to MSI_VECTOR, both
 * rings of RING_N descriptors, receiver and transmitter on, IMS = ims. */
static void fx_up_gso(struct fx *f, bool injected_clock, uint32_t ims, e1000_emul_tx_gso_fn tx_gso)
{
    memset(f, 0, sizeof(*f));
    log__set_quiet(1);
    assert_int_equal(physmem__init(&f->pm, 16ull << 20), 0);
    assert_int_equal(guest_mem__create(&f->gm, &f->pm, RAM_BASE, 2ull << 20), 0);
    f->irq = (struct vm_irq){.inject = on_inject, .ctx = f};
    struct e1000_emul_config c = {.clock_ns = fake_clock, .clock_ctx = f, .tx_gso = tx_gso};
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 0x42};
    assert_int_equal(e1000_emul__init(&f->d, &f->gm, &f->irq, mac, on_tx, f, injected_clock ? &c : NULL), 0);
    unsigned msi = f->d.pci.msi_cap;
    pci_dev__cfg_write(&f->d.pci, msi + PCI_MSI_ADDRESS_LO, 4, 0xFEE00000u);
    pci_dev__cfg_write(&f->d.pci, msi + PCI_MSI_DATA_64, 2, MSI_VECTOR);
    pci_dev__cfg_write(&f->d.pci, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    set_command(f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    for (unsigned i = 0; i < RING_N; i++) {
        struct e1000_rx_desc rd_ = {.buffer_addr = RX_BUF};
        struct e1000_tx_desc td = {.buffer_addr = TX_BUF};
        assert_int_equal(guest_mem__write(&f->gm, RX_RING + 16ull * i, &rd_, sizeof rd_), 0);
        assert_int_equal(guest_mem__write(&f->gm, TX_RING + 16ull * i, &td, sizeof td), 0);
    }
    uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};
    guest_mem__write(&f->gm, TX_BUF, frame, sizeof frame);
    wr(f, E1000_IMC, 0xFFFFFFFFu);
    wr(f, E1000_RDBAL, (uint32_t)RX_RING);
    wr(f, E1000_RDLEN, RING_N * 16);
    wr(f, E1000_RDH, 0);
    wr(f, E1000_RDT, RING_N - 1);
    wr(f, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    wr(f, E1000_TDBAL, (uint32_t)TX_RING);
    wr(f, E1000_TDLEN, RING_N * 16);
    wr(f, E1000_TDH, 0);
    wr(f, E1000_TDT, 0);
    wr(f, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    (void)rd(f, E1000_ICR);
    wr(f, E1000_IMS, ims);
}

static void fx_up(struct fx *f, bool injected_clock, uint32_t ims)
{
    fx_up_gso(f, injected_clock, ims, NULL);
}

static void fx_down(struct fx *f)
{
    e1000_emul__destroy(&f->d);
    guest_mem__destroy(&f->gm);
    physmem__destroy(&f->pm);
}

static void rx_one(struct fx *f)
{
    static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5};
    assert_int_equal(e1000_emul__rx(&f->d, frame, sizeof frame), 0);
}

/* One legacy TX descriptor: EOP | IFCS | RS, plus IDE if asked; TDT write. */
static void tx_one(struct fx *f, bool ide)
{
    struct e1000_tx_desc td = {.buffer_addr = TX_BUF, .length = 60,
                               .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B |
                                      (ide ? E1000_TXD_CMD_IDE_B : 0)};
    assert_int_equal(guest_mem__write(&f->gm, TX_RING + 16ull * f->tdt, &td, sizeof td), 0);
    f->tdt = (uint16_t)((f->tdt + 1) % RING_N);
    wr(f, E1000_TDT, f->tdt);
}

/* Run model time from 0 to end_us in 1-us steps; at each step a frame
 * arrives (rx) or is sent (tx) when the step is a multiple of every_us and
 * below frames_until_us; the driver answers each interrupt by reading ICR.
 * Returns the interrupts delivered; first/last model time of one. */
enum traffic { RX, TX, TX_IDE };
static unsigned run(struct fx *f, enum traffic kind, unsigned every_us, unsigned frames_until_us,
                    unsigned end_us, uint64_t *irq_at, unsigned max_at)
{
    unsigned seen = 0;
    for (unsigned us = 0; us <= end_us; us++) {
        f->t = 1000000 + us * US; /* model time never starts at 0 */
        e1000_emul__tick(&f->d);
        if (us < frames_until_us && us % every_us == 0) {
            if (kind == RX)
                rx_one(f);
            else
                tx_one(f, kind == TX_IDE);
        }
        while (seen < f->injected) {
            if (seen < max_at)
                irq_at[seen] = us;
            seen++;
            (void)rd(f, E1000_ICR); /* the driver's handler */
        }
        assert_int_equal(f->injected, seen); /* reading ICR raised nothing */
    }
    return seen;
}

/* ITR = 1000 (256 us): frames every 10 us for 1 ms, each raising RXT0
 * (RDTR 0).  Unthrottled that is 100 interrupts; throttled, an assertion
 * at 0, then one at the end of each 256 us interval: 256, 512, 768,
 * 1024 us (the model is ticked every 1 us).  Today's emulated device never ticks: one interrupt, the rest
 * withheld for ever. */
static void test_itr_throttles_against_model_time(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, true, E1000_ICR_RXT0);
    uint64_t at[8];
    assert_int_equal(run(&f, RX, 10, 1000, 1200, at, 8), 100);
    fx_down(&f);

    fx_up(&f, true, E1000_ICR_RXT0);
    wr(&f, E1000_ITR, 1000);
    assert_int_equal(run(&f, RX, 10, 1000, 1200, at, 8), 5);
    static const uint64_t want[5] = {0, 256, 512, 768, 1024};
    assert_memory_equal(at, want, sizeof want);
    fx_down(&f);
}

/* RDTR = 10 (10.24 us) alone: a burst of 8 frames 1 us apart gives one
 * RXT0, 10.24 us after its last frame (first step past: +11 us).  With
 * frames every 2 us for 200 us the RDTR timer never expires (re-armed by
 * each frame): one interrupt after the last frame.  RADV = 32 (32.768 us)
 * caps the wait: the first frame arms it, it fires at +33 us, the next
 * frame 1 us later arms it again: interrupts at 33, 67, 101, 135, 169, 203. */
static void test_rdtr_radv_delay_rx_interrupts(void **state)
{
    (void)state;
    struct fx f;
    uint64_t at[8];
    fx_up(&f, true, E1000_ICR_RXT0);
    wr(&f, E1000_RDTR, 10);
    assert_int_equal(run(&f, RX, 1, 8, 100, at, 8), 1);
    assert_int_equal(at[0], 7 + 11);
    fx_down(&f);

    fx_up(&f, true, E1000_ICR_RXT0);
    wr(&f, E1000_RDTR, 10);
    assert_int_equal(run(&f, RX, 2, 200, 300, at, 8), 1);
    assert_int_equal(at[0], 198 + 11);
    fx_down(&f);

    fx_up(&f, true, E1000_ICR_RXT0);
    wr(&f, E1000_RDTR, 10);
    wr(&f, E1000_RADV, 32);
    assert_int_equal(run(&f, RX, 2, 200, 300, at, 8), 6);
    static const uint64_t want[6] = {33, 67, 101, 135, 169, 203};
    assert_memory_equal(at, want, sizeof want);
    fx_down(&f);
}

/* The same for transmit: without IDE every RS descriptor raises TXDW (100
 * interrupts for 100 frames); with IDE and TIDV = 10 the interrupt waits
 * for a 10.24 us gap; TADV = 32 caps it as RADV does. */
static void test_tidv_tadv_delay_tx_interrupts(void **state)
{
    (void)state;
    struct fx f;
    uint64_t at[8];
    fx_up(&f, true, E1000_ICR_TXDW);
    wr(&f, E1000_TIDV, 10);
    assert_int_equal(run(&f, TX, 2, 200, 300, at, 8), 100);
    assert_int_equal(f.sent, 100);
    fx_down(&f);

    fx_up(&f, true, E1000_ICR_TXDW);
    wr(&f, E1000_TIDV, 10);
    assert_int_equal(run(&f, TX_IDE, 2, 200, 300, at, 8), 1);
    assert_int_equal(at[0], 198 + 11);
    assert_int_equal(f.sent, 100);
    fx_down(&f);

    fx_up(&f, true, E1000_ICR_TXDW);
    wr(&f, E1000_TIDV, 10);
    wr(&f, E1000_TADV, 32);
    assert_int_equal(run(&f, TX_IDE, 2, 200, 300, at, 8), 6);
    static const uint64_t want[6] = {33, 67, 101, 135, 169, 203};
    assert_memory_equal(at, want, sizeof want);
    fx_down(&f);
}

/* A TSO descriptor chain that becomes more frames (30 x 1000 bytes) than
 * the device's transmit queue holds (E1000_EMUL_TXQ): every frame reaches
 * the bridge, none is dropped (before issue 19 the 17th on were lost). */
static void test_tso_burst_larger_than_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, true, 0);
    enum { PAY = 30000, HDR = 54 };
    static uint8_t fr[HDR + PAY];
    memset(fr, 0, sizeof fr);
    fr[12] = 0x08;
    fr[14] = 0x45;
    fr[23] = 6;
    fr[46] = 0x50;
    assert_int_equal(guest_mem__write(&f.gm, TX_BUF, fr, sizeof fr), 0);
    struct e1000_context_desc c = {
        .ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34, .tucso = 50,
        .cmd_and_length = PAY | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C | E1000_TXD_CMD_IP |
                          E1000_TXD_CMD_TCP | E1000_TXD_CMD_TSE,
        .hdr_len = HDR, .mss = 1000};
    struct e1000_data_desc d = {
        .buffer_addr = TX_BUF, .popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM,
        .cmd_and_length = (HDR + PAY) | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE |
                          E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS};
    assert_int_equal(guest_mem__write(&f.gm, TX_RING, &c, sizeof c), 0);
    assert_int_equal(guest_mem__write(&f.gm, TX_RING + 16, &d, sizeof d), 0);
    wr(&f, E1000_TDT, 2);
    assert_true(PAY / 1000 > E1000_EMUL_TXQ);
    assert_int_equal(f.sent, PAY / 1000);
    fx_down(&f);
}

/* ---- TSO bursts handed over whole (tx_gso) ---------------------------------- */

#define TSO_BUF (RAM_BASE + 0x100000)
#define LEG_BUF (RAM_BASE + 0x90000)
#define TSO_HDR 54u
#define TSO_MSS 1460u
#define TSO_PAY (43u * TSO_MSS + 777u) /* 44 frames: more than the queue; the whole < 64 KiB */
#define TSO_SEQ 0x01020304u
#define TSO_ID  0x1234u

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

/* Ones' complement sum of big-endian 16-bit words (RFC 1071), folded. */
static uint16_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += be16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)s;
}

/* IPv4 pseudo-header of frame f (addresses, TCP) plus tcp_len. */
static uint32_t pseudo(const uint8_t *f, uint32_t tcp_len)
{
    return sum16(6 + tcp_len, f + 26, 8);
}

/* The guest's 64 KiB-class TSO frame as its driver hands it over:
 * Ethernet to the gateway, IPv4 10.0.2.15 -> 10.0.2.1 (ID TSO_ID, length
 * and checksum left to the device), TCP ACK|PSH at TSO_SEQ with the
 * checksum field the pseudo-header sum without length (SDM 3.5), then a
 * payload pattern. */
static void tso_frame(uint8_t *fr)
{
    static const uint8_t h[TSO_HDR] = {
        0x52, 0x54, 0, 0, 0, 0x01, 0x52, 0x54, 0, 0, 0, 0x42, 0x08, 0x00,
        0x45, 0, 0, 0, TSO_ID >> 8, TSO_ID & 0xFF, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 15, 10, 0, 2, 1,
        0x9c, 0x40, 0x13, 0x89, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};
    memcpy(fr, h, TSO_HDR);
    uint16_t seed = sum16(6, fr + 26, 8);
    fr[50] = (uint8_t)(seed >> 8), fr[51] = (uint8_t)seed;
    for (uint32_t i = 0; i < TSO_PAY; i++)
        fr[TSO_HDR + i] = (uint8_t)(i * 7 + (i >> 8) + 1);
}

/* One TDT write for: a legacy frame A (TX_BUF, broadcast 0x88b5), the TSO
 * burst (context, a header and a payload data descriptor, IXSM|TXSM), a
 * legacy frame B (LEG_BUF, 0x88b6).  fr: the burst as the guest wrote it. */
static void tx_tso_chain(struct fx *f, uint8_t *fr)
{
    tso_frame(fr);
    assert_int_equal(guest_mem__write(&f->gm, TSO_BUF, fr, TSO_HDR + TSO_PAY), 0);
    uint8_t b[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb6};
    assert_int_equal(guest_mem__write(&f->gm, LEG_BUF, b, sizeof b), 0);
    uint8_t d[5][16];
    struct e1000_tx_desc a = {.buffer_addr = TX_BUF, .length = 60,
                              .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B};
    struct e1000_context_desc c = {
        .ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34, .tucso = 50,
        .cmd_and_length = TSO_PAY | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C | E1000_TXD_CMD_IP |
                          E1000_TXD_CMD_TCP | E1000_TXD_CMD_TSE,
        .hdr_len = TSO_HDR, .mss = TSO_MSS};
    struct e1000_data_desc dh = {
        .buffer_addr = TSO_BUF, .popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM,
        .cmd_and_length = TSO_HDR | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE};
    struct e1000_data_desc dp = {
        .buffer_addr = TSO_BUF + TSO_HDR, .popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM,
        .cmd_and_length = TSO_PAY | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE |
                          E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS};
    struct e1000_tx_desc bb = {.buffer_addr = LEG_BUF, .length = 60,
                               .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B};
    memcpy(d[0], &a, 16), memcpy(d[1], &c, 16), memcpy(d[2], &dh, 16), memcpy(d[3], &dp, 16);
    memcpy(d[4], &bb, 16);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(guest_mem__write(&f->gm, TX_RING + 16ull * f->tdt, d[i], 16), 0);
        f->tdt = (uint16_t)((f->tdt + 1) % RING_N);
    }
    wr(f, E1000_TDT, f->tdt);
    assert_int_equal(rd(f, E1000_TDH), f->tdt);
}

static void check_legacy(const struct txlog_entry *e, uint8_t type_lo)
{
    assert_int_equal(e->kind, 'f');
    assert_int_equal(e->len, 60);
    assert_int_equal(e->data[12], 0x88);
    assert_int_equal(e->data[13], type_lo);
}

/* The model's segments of the burst: valid IPv4/TCP frames (length, ID +1,
 * both checksums, sequence, FIN/PSH on the last), payload in order. */
static void check_segments(const struct txlog_entry *e, const uint8_t *fr)
{
    unsigned n = (TSO_PAY + TSO_MSS - 1) / TSO_MSS;
    for (unsigned k = 0; k < n; k++, e++) {
        uint32_t p = k + 1 < n ? TSO_MSS : TSO_PAY - k * TSO_MSS;
        const uint8_t *o = e->data;
        assert_int_equal(e->kind, 'f');
        assert_int_equal(e->len, TSO_HDR + p);
        assert_memory_equal(o, fr, 14);
        assert_int_equal(be16(o + 16), 40 + p);
        assert_int_equal(be16(o + 18), TSO_ID + k);
        assert_int_equal(sum16(0, o + 14, 20), 0xFFFF);
        assert_int_equal(be32(o + 38), TSO_SEQ + k * TSO_MSS);
        assert_int_equal(o[47], k + 1 < n ? 0x10 : 0x18);
        assert_int_equal(sum16(pseudo(o, 20 + p), o + 34, 20 + p), 0xFFFF);
        assert_memory_equal(o + TSO_HDR, fr + TSO_HDR + k * TSO_MSS, p);
    }
}

/* A callback that takes bursts: the 44-frame burst is one call, between
 * frame A and frame B (A was queued: it must go first), with the frame
 * the uplink's TSO needs (headers of the whole: IPv4 total length and
 * header checksum, TCP checksum field the pseudo-header sum with the whole
 * TCP length; the payload untouched) and its offsets; no frame of it goes
 * through tx. */
static void test_tso_burst_goes_whole_to_tx_gso(void **state)
{
    (void)state;
    struct fx f;
    static uint8_t fr[TSO_HDR + TSO_PAY];
    txlog_reset(true, 0);
    fx_up_gso(&f, true, 0, on_tx_gso);
    tx_tso_chain(&f, fr);
    assert_int_equal(txlog.gso_calls, 1);
    assert_int_equal(txlog.n, 3);
    check_legacy(&txlog.e[0], 0xb5);
    check_legacy(&txlog.e[2], 0xb6);
    assert_int_equal(f.sent, 2); /* A and B only */

    const struct txlog_entry *g = &txlog.e[1];
    assert_int_equal(g->kind, 'g');
    assert_int_equal(g->len, TSO_HDR + TSO_PAY);
    assert_int_equal(g->g.l3_off, 14);
    assert_int_equal(g->g.l4_off, 34);
    assert_int_equal(g->g.hdr_len, TSO_HDR);
    assert_int_equal(g->g.mss, TSO_MSS);
    const uint8_t *o = g->data;
    assert_memory_equal(o, fr, 16);                          /* Ethernet, IPv4 version.. */
    assert_int_equal(be16(o + 16), 40 + TSO_PAY);            /* the whole's IPv4 length */
    assert_memory_equal(o + 18, fr + 18, 6);                 /* ID, flags, TTL, protocol */
    assert_int_equal(sum16(0, o + 14, 20), 0xFFFF);          /* its header checksum */
    assert_memory_equal(o + 26, fr + 26, 24);                /* addresses, TCP to the window */
    assert_int_equal(be16(o + 50), sum16(pseudo(o, 20 + TSO_PAY), NULL, 0));
    assert_memory_equal(o + 52, fr + 52, 2);
    assert_memory_equal(o + TSO_HDR, fr + TSO_HDR, TSO_PAY); /* payload intact */

    struct e1000_emul_stats st;
    e1000_emul__get_stats(&f.d, &st);
    assert_int_equal(st.tx_gso, 1);
    assert_int_equal(st.tx_gso_refused, 0);
    fx_down(&f);
    txlog_reset(false, 0);
}

/* Without a callback the model segments (A, 44 frames, B), and with one
 * that refuses (as the bridge does for a frame to another VM) what goes
 * out through tx is the same, byte for byte. */
static void test_tso_burst_refused_or_no_tx_gso_segmented(void **state)
{
    (void)state;
    struct fx f;
    static uint8_t fr[TSO_HDR + TSO_PAY];
    unsigned n = (TSO_PAY + TSO_MSS - 1) / TSO_MSS;
    txlog_reset(true, 0);
    fx_up(&f, true, 0);
    tx_tso_chain(&f, fr);
    assert_int_equal(txlog.gso_calls, 0);
    assert_int_equal(txlog.n, n + 2);
    check_legacy(&txlog.e[0], 0xb5);
    check_segments(&txlog.e[1], fr);
    check_legacy(&txlog.e[n + 1], 0xb6);
    struct e1000_emul_stats st;
    e1000_emul__get_stats(&f.d, &st);
    assert_int_equal(st.tx_gso, 0);
    fx_down(&f);

    /* keep the no-callback log, run again refusing */
    static struct txlog_entry ref[TXLOG_MAX];
    unsigned nref = txlog.n;
    memcpy(ref, txlog.e, sizeof ref);
    txlog.n = 0;
    txlog.gso_answer = -EOPNOTSUPP;
    fx_up_gso(&f, true, 0, on_tx_gso);
    tx_tso_chain(&f, fr);
    assert_int_equal(txlog.gso_calls, 1);
    assert_int_equal(txlog.n, nref);
    for (unsigned i = 0; i < nref; i++) {
        assert_int_equal(txlog.e[i].kind, 'f');
        assert_int_equal(txlog.e[i].len, ref[i].len);
        assert_memory_equal(txlog.e[i].data, ref[i].data, ref[i].len);
        free(ref[i].data);
    }
    assert_int_equal(f.sent, n + 2);
    e1000_emul__get_stats(&f.d, &st);
    assert_int_equal(st.tx_gso, 0);
    assert_int_equal(st.tx_gso_refused, 1);
    fx_down(&f);
    txlog_reset(false, 0);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Default clock: the device's timer thread makes the assertion ITR held
 * back (ITR 40000 = 10.24 ms), with no guest access after the cause, and
 * sleeps meanwhile (a handful of wake-ups, not a spin). */
static void test_timer_thread_delivers_held_interrupt(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, false, E1000_ICR_TXDW);
    wr(&f, E1000_ITR, 40000);
    wr(&f, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(__atomic_load_n(&f.injected, __ATOMIC_RELAXED), 1);
    (void)rd(&f, E1000_ICR);
    uint64_t t0 = mono_ns();
    wr(&f, E1000_ICS, E1000_ICR_TXDW); /* held: < 10.24 ms since the first */
    assert_int_equal(__atomic_load_n(&f.injected, __ATOMIC_RELAXED), 1);
    while (__atomic_load_n(&f.injected, __ATOMIC_RELAXED) < 2 && mono_ns() - t0 < 2000000000ull) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(__atomic_load_n(&f.injected, __ATOMIC_RELAXED), 2);
    struct e1000_emul_stats st;
    e1000_emul__get_stats(&f.d, &st);
    assert_true(st.timer_wakeups < 50);
    /* Idle with nothing armed: the thread sleeps without a deadline. */
    (void)rd(&f, E1000_ICR);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    struct e1000_emul_stats st2;
    e1000_emul__get_stats(&f.d, &st2);
    assert_true(st2.timer_wakeups - st.timer_wakeups < 5);
    e1000_emul__stop(&f.d); /* joined; destroy after it is fine */
    e1000_emul__stop(&f.d);
    fx_down(&f);
}

/* PCI 3.0 6.2.2 Memory Space Enable: clear, BAR0 reads all-ones (master
 * abort) and writes are dropped; set again, it decodes. */
static void test_memory_space_enable(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, true, 0);
    assert_true(rd(&f, E1000_STATUS) != 0xFFFFFFFFu);
    set_command(&f, PCI_COMMAND_MASTER);
    assert_int_equal(rd(&f, E1000_STATUS), 0xFFFFFFFFu);
    wr(&f, E1000_IMS, E1000_ICR_LSC);
    set_command(&f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(rd(&f, E1000_IMS), 0);
    wr(&f, E1000_IMS, E1000_ICR_LSC);
    assert_int_equal(rd(&f, E1000_IMS), E1000_ICR_LSC);
    fx_down(&f);
}

/* PCI 3.0 6.2.2 Bus Master Enable: clear, the device masters nothing: a
 * TDT write fetches no descriptor and writes back no DD, a received frame
 * is refused with its buffer (a canary) untouched, and an interrupt cause
 * sends no MSI (6.8: a memory write).  Set again: the queued frame goes,
 * DD is written, and the held MSI arrives. */
static void test_bus_master_enable(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, true, E1000_ICR_TXDW | E1000_ICR_RXT0 | E1000_ICR_LSC);
    uint8_t canary[256], back[256];
    memset(canary, 0xC5, sizeof canary);
    guest_mem__write(&f.gm, RX_BUF, canary, sizeof canary);
    set_command(&f, PCI_COMMAND_MEMORY);

    tx_one(&f, false);
    struct e1000_tx_desc td;
    guest_mem__read(&f.gm, TX_RING, &td, sizeof td);
    assert_int_equal(td.status & E1000_TXD_STAT_DD, 0);
    assert_int_equal(rd(&f, E1000_TDH), 0);
    assert_int_equal(f.sent, 0);

    static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5};
    assert_int_equal(e1000_emul__rx(&f.d, frame, sizeof frame), -EIO);
    guest_mem__read(&f.gm, RX_BUF, back, sizeof back);
    assert_memory_equal(back, canary, sizeof canary);
    struct e1000_rx_desc rdsc;
    guest_mem__read(&f.gm, RX_RING, &rdsc, sizeof rdsc);
    assert_int_equal(rdsc.status, 0);
    assert_int_equal(rd(&f, E1000_RDH), 0);

    wr(&f, E1000_ICS, E1000_ICR_LSC);
    assert_int_equal(f.injected, 0);
    struct e1000_emul_stats st;
    e1000_emul__get_stats(&f.d, &st);
    assert_int_equal(st.msi_held, 1);
    assert_int_equal(st.rx_blocked, 1);

    set_command(&f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(f.injected, 1); /* the held MSI */
    assert_int_equal(f.sent, 1);     /* the queued frame */
    guest_mem__read(&f.gm, TX_RING, &td, sizeof td);
    assert_true(td.status & E1000_TXD_STAT_DD);
    assert_int_equal(rd(&f, E1000_TDH), 1);
    (void)rd(&f, E1000_ICR);
    rx_one(&f);
    assert_int_equal(f.injected, 2);
    guest_mem__read(&f.gm, RX_RING, &rdsc, sizeof rdsc);
    assert_true(rdsc.status & E1000_RXD_STAT_DD);
    fx_down(&f);
}

/* INTx as a level (MSI off): with an I/O APIC the wired line follows the
 * model's level (asserted by LSC, dropped by the driver's ICR read), the
 * command register's Interrupt Disable and MSI enable drop it while set
 * (PCI 3.0 6.2.2, 6.8.1.3); without one an assertion is the edge vector
 * 32 + line and a deassertion nothing. */
struct line_rec {
    unsigned calls, line;
    int level;
};

static int rec_line(void *ctx, unsigned line, int level)
{
    struct line_rec *r = ctx;
    r->calls++, r->line = line, r->level = level;
    return 0;
}

static unsigned edge_vectors[4];
static void on_edge(void *ctx, uint8_t vector)
{
    (void)ctx;
    edge_vectors[vector & 3]++;
    assert_int_equal(vector, 32 + 11);
}

static void test_intx_level(void **state)
{
    (void)state;
    struct fx f;
    fx_up(&f, true, E1000_ICR_LSC);
    struct line_rec rec = {0};
    f.irq.line = rec_line, f.irq.line_ctx = &rec;
    f.d.intx_line = 11;
    unsigned msi = f.d.pci.msi_cap;
    pci_dev__cfg_write(&f.d.pci, msi + PCI_MSI_FLAGS, 2, 0);
    e1000_emul__cfg_written(&f.d, msi + PCI_MSI_FLAGS, 2);
    f.d.pci.cfg[PCI_INTERRUPT_LINE] = 3;  /* the guest's scratch value: not the wire */

    wr(&f, E1000_ICS, E1000_ICR_LSC);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.line, 11);
    assert_int_equal(rec.level, 1);
    assert_true(vm_irq__level(&f.irq, 11));
    wr(&f, E1000_ICS, E1000_ICR_LSC);  /* still asserted: nothing new */
    assert_int_equal(rec.calls, 1);
    assert_true(rd(&f, E1000_ICR) & E1000_ICR_LSC);
    assert_int_equal(rec.calls, 2);
    assert_int_equal(rec.level, 0);
    assert_false(vm_irq__level(&f.irq, 11));

    /* Interrupt Disable drops an asserted line and raises it again when clear. */
    wr(&f, E1000_ICS, E1000_ICR_LSC);
    assert_int_equal(rec.level, 1);
    set_command(&f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(rec.level, 0);
    set_command(&f, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(rec.level, 1);
    /* MSI on: INTx drops (the function signals by message only). */
    pci_dev__cfg_write(&f.d.pci, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    e1000_emul__cfg_written(&f.d, msi + PCI_MSI_FLAGS, 2);
    assert_int_equal(rec.level, 0);
    unsigned calls = rec.calls;
    (void)rd(&f, E1000_ICR);
    assert_int_equal(rec.calls, calls);
    assert_int_equal(f.injected, 0);

    /* No I/O APIC: each assertion is vector 32 + 11, deassertion nothing. */
    pci_dev__cfg_write(&f.d.pci, msi + PCI_MSI_FLAGS, 2, 0);
    e1000_emul__cfg_written(&f.d, msi + PCI_MSI_FLAGS, 2);
    f.irq = (struct vm_irq){.inject = on_edge, .ctx = &f};
    memset(edge_vectors, 0, sizeof edge_vectors);
    wr(&f, E1000_ICS, E1000_ICR_LSC);
    (void)rd(&f, E1000_ICR);
    wr(&f, E1000_ICS, E1000_ICR_LSC);
    assert_int_equal(edge_vectors[(32 + 11) & 3], 2);
    assert_int_equal(f.irq.delivered, 2);
    assert_int_equal(rec.calls, calls);
    fx_down(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_itr_throttles_against_model_time),
        cmocka_unit_test(test_rdtr_radv_delay_rx_interrupts),
        cmocka_unit_test(test_tidv_tadv_delay_tx_interrupts),
        cmocka_unit_test(test_tso_burst_larger_than_queue),
        cmocka_unit_test(test_tso_burst_goes_whole_to_tx_gso),
        cmocka_unit_test(test_tso_burst_refused_or_no_tx_gso_segmented),
        cmocka_unit_test(test_timer_thread_delivers_held_interrupt),
        cmocka_unit_test(test_memory_space_enable),
        cmocka_unit_test(test_bus_master_enable),
        cmocka_unit_test(test_intx_level),
    };
    return cmocka_run_group_tests_name("hv/e1000_emul", tests, NULL, NULL);
}
