/* e1000 model TCP segmentation (SDM 3.5) seen from the wire:
 *   - every frame the segmenter puts out is a valid Ethernet/IPv4/TCP frame
 *     (sizes, IPv4 length/ID/header checksum, sequence numbers, FIN/PSH
 *     only on the last, TCP checksum), payload in order;
 *   - a burst handed over whole (e1000__set_tx_gso) stands for exactly
 *     those frames: segmenting the super-frame by Linux's TCPv4 GSO rules
 *     (here, from scratch) gives the same bytes, and the statistics
 *     registers count the same frames;
 *   - a refused burst goes out frame by frame, unchanged;
 *   - hostile TSO contexts (MSS 0, header beyond the frame or past the L4
 *     header, header + MSS over 16 KiB, a data length beyond any frame)
 *     send nothing, are counted (TSCTFC), and leave the ring working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/hw/e1000_harness.h"
#include "hw/e1000/e1000_priv.h"
#include "lib/log.h"

#define MSS 1460u

/* What the GSO hook received (one burst), and whether it takes it. */
static struct {
    unsigned calls;
    int answer;
    struct e1000_gso g;
    uint8_t hdr[256];
    uint8_t pay[E1000_TSO_MAX];
} gso;

static int gso_take(void *ctx, const struct e1000_gso *g)
{
    (void)ctx;
    gso.calls++;
    gso.g = *g;
    memcpy(gso.hdr, g->hdr, g->hdr_len);
    memcpy(gso.pay, g->pay, g->pay_len);
    return gso.answer;
}

static int setup(void **state)
{
    log__set_quiet(1);
    struct harness *h = h_new();
    h_tx_setup(h, 8);
    memset(&gso, 0, sizeof gso);
    *state = h;
    return 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A TSO frame of `pay` payload bytes at H_TX_BUF (seed: pseudo-header sum
 * without length, SDM 3.5), context at descriptor `at`, data in two
 * descriptors (header, payload).  Returns the new tail. */
static uint32_t put_tso(struct harness *h, uint32_t at, size_t pay, uint16_t mss, uint8_t popts,
                        bool vle)
{
    uint8_t *f = hmem(h, H_TX_BUF);
    size_t len = h_make_tcp(f, pay);
    uint16_t seed = (uint16_t)~h_csum(NULL, 0, h_pseudo(f, 0));
    put16(f + 50, seed);
    struct e1000_context_desc c = {
        .ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34, .tucso = 50, .tucse = 0,
        .cmd_and_length = (uint32_t)pay | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C |
                          E1000_TXD_CMD_IP | E1000_TXD_CMD_TCP | E1000_TXD_CMD_TSE,
        .hdr_len = 54, .mss = mss};
    memcpy(hmem(h, H_TX_RING + at * 16), &c, 16);
    struct e1000_data_desc d = {
        .buffer_addr = H_TX_BUF,
        .cmd_and_length = 54 | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE,
        .popts = popts};
    memcpy(hmem(h, H_TX_RING + (at + 1) * 16), &d, 16);
    d.buffer_addr = H_TX_BUF + 54;
    d.cmd_and_length = (uint32_t)(len - 54) | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT |
                       E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS |
                       (vle ? E1000_TXD_CMD_VLE : 0);
    d.special = 0x0123;
    memcpy(hmem(h, H_TX_RING + (at + 2) * 16), &d, 16);
    return at + 3;
}

/* Every frame a valid Ethernet/IPv4/TCP frame of the burst, in order. */
static void check_frames(struct harness *h, const uint8_t *orig, size_t pay, uint16_t mss)
{
    unsigned n = (unsigned)((pay + mss - 1) / mss);
    assert_int_equal(h->nframes, n);
    for (unsigned k = 0; k < n; k++) {
        const uint8_t *o = h->frames[k].data;
        size_t p = k + 1 < n ? mss : pay - (size_t)k * mss;
        size_t l = 54 + p;
        assert_int_equal(h->frames[k].len, l < 60 ? 60 : l);     /* PSP pads to 60 */
        assert_true(h->frames[k].len <= 1514);
        assert_memory_equal(o, orig, 14);                        /* Ethernet header */
        assert_int_equal(o[14], 0x45);
        assert_int_equal(get16(o + 16), 40 + p);                 /* IPv4 total length */
        assert_int_equal(get16(o + 18), 0x1234 + k);             /* IPv4 ID +1 per frame */
        assert_int_equal(h_csum(o + 14, 20, 0), 0);              /* header checksum */
        assert_int_equal(get32(o + 38), 0x01020304u + k * mss);  /* sequence number */
        assert_int_equal(o[47] & 0x09, k + 1 == n ? 0x09 : 0);   /* FIN, PSH: last only */
        assert_int_equal(o[47] & ~0x09, orig[47] & ~0x09);
        assert_int_equal(h_csum(o + 34, 20 + p, h_pseudo(o, 20 + (uint32_t)p)), 0);
        assert_memory_equal(o + 54, orig + 54 + (size_t)k * mss, p);
    }
}

/* Linux's TCPv4 GSO of the super-frame the hook got (tcp_gso_segment /
 * inet_gso_segment): headers copied, IPv4 length, ID +1 and checksum,
 * sequence advanced, FIN/PSH cleared but on the last, TCP checksum over
 * each frame.  Compared with what the segmenter put out. */
static void check_gso_equals(struct harness *h, size_t pay)
{
    const struct e1000_gso *g = &gso.g;
    assert_int_equal(g->hdr_len, 54);
    assert_int_equal(g->pay_len, pay);
    assert_int_equal(g->l3_start, 14);
    assert_int_equal(g->csum_start, 34);
    assert_int_equal(g->csum_offset, 16);
    assert_int_equal(get16(gso.hdr + 16), 40 + pay);             /* whole IPv4 length */
    assert_int_equal(h_csum(gso.hdr + 14, 20, 0), 0);
    /* CHECKSUM_PARTIAL: pseudo-header sum with the whole TCP length */
    assert_int_equal(get16(gso.hdr + 50), (uint16_t)~h_csum(NULL, 0, h_pseudo(gso.hdr, 20 + (uint32_t)pay)));
    unsigned n = (unsigned)((pay + g->mss - 1) / g->mss);
    assert_int_equal(g->nseg, n);
    assert_int_equal(h->nframes, n);
    for (unsigned k = 0; k < n; k++) {
        size_t p = k + 1 < n ? g->mss : pay - (size_t)k * g->mss;
        assert_int_equal(k + 1 < n ? g->first_len : g->last_len, 54 + p);
        uint8_t s[1514];
        memcpy(s, gso.hdr, 54);
        memcpy(s + 54, gso.pay + (size_t)k * g->mss, p);
        put16(s + 16, (uint16_t)(40 + p));
        put16(s + 18, (uint16_t)(get16(gso.hdr + 18) + k));
        put16(s + 24, 0);
        put16(s + 24, h_csum(s + 14, 20, 0));
        uint32_t seq = get32(gso.hdr + 38) + k * g->mss;
        put16(s + 38, (uint16_t)(seq >> 16));
        put16(s + 40, (uint16_t)seq);
        if (k + 1 < n)
            s[47] &= (uint8_t)~0x09;
        put16(s + 50, 0);
        put16(s + 50, h_csum(s + 34, 20 + p, h_pseudo(s, 20 + (uint32_t)p)));
        assert_memory_equal(h->frames[k].data, s, 54 + p);
    }
}

struct counters {
    uint32_t gptc, tpt, gotcl, ptc64, ptc1522, tsctc, tsctfc;
};

static struct counters read_counters(struct harness *h)
{
    struct counters c = {
        .gptc = rd(h, E1000_GPTC), .tpt = rd(h, E1000_TPT), .gotcl = rd(h, E1000_GOTCL),
        .ptc64 = rd(h, E1000_PTC64), .ptc1522 = rd(h, E1000_PTC1522),
        .tsctc = rd(h, E1000_TSCTC), .tsctfc = rd(h, E1000_TSCTFC)};
    rd(h, E1000_GOTCH);
    return c;
}

/* Run one burst of `pay` bytes framewise, then again with the GSO hook;
 * the frames and counters must agree. */
static void burst_both_ways(struct harness *h, size_t pay)
{
    uint8_t orig[E1000_TSO_MAX];
    uint32_t t = put_tso(h, 0, pay, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    memcpy(orig, hmem(h, H_TX_BUF), 54 + pay);
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), t);
    check_frames(h, orig, pay, MSS);
    struct counters framewise = read_counters(h);
    assert_int_equal(framewise.gptc, h->nframes);
    assert_int_equal(framewise.tsctc, 1);
    unsigned frames = h->nframes;

    /* The same burst again, offered whole and taken: nothing framewise. */
    e1000__set_tx_gso(h->e, gso_take);
    h->nframes = 0;
    uint32_t t2 = put_tso(h, t, pay, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    wr(h, E1000_TDT, t2 % 8);
    assert_int_equal(e1000__tx_poll(h->e, 8), t2 - t);
    assert_int_equal(gso.calls, 1);
    assert_int_equal(h->nframes, 0);
    struct counters whole = read_counters(h);
    assert_memory_equal(&whole, &framewise, sizeof whole);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.tx_tso_frames, 2 * frames);
    /* ...and it is exactly the frames the segmenter made */
    h->nframes = frames;
    memcpy(orig, hmem(h, H_TX_BUF), 54 + pay);
    check_gso_equals(h, pay);
}

static void test_frames_valid_and_gso_equal(void **state)
{
    burst_both_ways(*state, 5000); /* 3 x 1460 + 620 */
}

static void test_tiny_last_frame_padded(void **state)
{
    burst_both_ways(*state, 2 * MSS + 1); /* last frame 55 bytes: PSP pads */
}

static void test_largest_burst(void **state)
{
    struct harness *h = *state;
    burst_both_ways(h, 44 * MSS); /* 64240: what the guest's TCP sends */
}

static void test_refused_burst_goes_framewise(void **state)
{
    struct harness *h = *state;
    e1000__set_tx_gso(h->e, gso_take);
    gso.answer = -1;
    uint8_t orig[6000];
    uint32_t t = put_tso(h, 0, 5000, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    memcpy(orig, hmem(h, H_TX_BUF), 5054);
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), t);
    assert_int_equal(gso.calls, 1);
    check_frames(h, orig, 5000, MSS); /* the driver's header was left as it was */
}

static void test_not_offered_without_both_checksums_or_with_vlan(void **state)
{
    struct harness *h = *state;
    e1000__set_tx_gso(h->e, gso_take);
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
    wr(h, E1000_VET, 0x8100);
    uint32_t t = put_tso(h, 0, 3000, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, true);
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), t);
    assert_int_equal(h->nframes, 3);           /* tagged: framewise */
    assert_int_equal(get16(h->frames[0].data + 12), 0x8100);
    h->nframes = 0;
    t = put_tso(h, 3, 3000, MSS, E1000_TXD_POPTS_IXSM, false); /* no TXSM */
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), 3);
    assert_int_equal(h->nframes, 3);
    assert_int_equal(gso.calls, 0);
}

/* A context whose TCP header starts inside the 20-byte IPv4 header (IPCSE
 * + 1 = TUCSS = IPCSS + 16) is no IPv4/TCP super-frame a GSO consumer
 * could describe with separate L3 and L4 offsets: framewise. */
static void test_not_offered_with_short_ipv4_header(void **state)
{
    struct harness *h = *state;
    e1000__set_tx_gso(h->e, gso_take);
    uint32_t t = put_tso(h, 0, 3000, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    struct e1000_context_desc c;
    memcpy(&c, hmem(h, H_TX_RING), 16);
    c.ipcse = 29, c.tucss = 30, c.tucso = 46;
    memcpy(hmem(h, H_TX_RING), &c, 16);
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), t);
    assert_int_equal(gso.calls, 0);
    assert_int_equal(h->nframes, 3);
}

/* A TSO context that must not send anything: counted, ring advances. */
static void hostile(struct harness *h, void (*spoil)(struct e1000_context_desc *c,
                                                     struct e1000_data_desc *d))
{
    e1000__set_tx_gso(h->e, gso_take);
    uint32_t t = put_tso(h, 0, 3000, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    struct e1000_context_desc c;
    struct e1000_data_desc d;
    memcpy(&c, hmem(h, H_TX_RING), 16);
    memcpy(&d, hmem(h, H_TX_RING + 32), 16);
    spoil(&c, &d);
    memcpy(hmem(h, H_TX_RING), &c, 16);
    memcpy(hmem(h, H_TX_RING + 32), &d, 16);
    wr(h, E1000_TDT, t);
    assert_int_equal(e1000__tx_poll(h->e, 8), t);
    assert_int_equal(rd(h, E1000_TDH), t);
    assert_int_equal(h->nframes, 0);
    assert_int_equal(gso.calls, 0);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.tx_dropped, 1);
    assert_int_equal(hmem(h, H_TX_RING + 32)[12], E1000_TXD_STAT_DD); /* RS still honoured */
    /* the next, sane burst goes out */
    t = put_tso(h, t, 1000, MSS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM, false);
    wr(h, E1000_TDT, t % 8);
    e1000__tx_poll(h->e, 8);
    assert_int_equal(gso.calls, 1);
}

static void mss_zero(struct e1000_context_desc *c, struct e1000_data_desc *d) { (void)d; c->mss = 0; }
static void hdr_beyond_frame(struct e1000_context_desc *c, struct e1000_data_desc *d)
{
    c->hdr_len = 255; /* the largest HDRLEN; the frame is 54 + 3000 but... */
    d->cmd_and_length = (d->cmd_and_length & ~E1000_TXD_LEN_MASK) | 100; /* ...only 154 bytes */
}
static void hdr_before_l4(struct e1000_context_desc *c, struct e1000_data_desc *d) { (void)d; c->hdr_len = 40; }
static void tucss_past_hdr(struct e1000_context_desc *c, struct e1000_data_desc *d) { (void)d; c->tucss = 60; }
static void ipcss_past_hdr(struct e1000_context_desc *c, struct e1000_data_desc *d) { (void)d; c->ipcss = 50; }
static void mss_over_frame(struct e1000_context_desc *c, struct e1000_data_desc *d) { (void)d; c->mss = 16384; }
static void data_beyond_any_frame(struct e1000_context_desc *c, struct e1000_data_desc *d)
{
    (void)c;
    d->cmd_and_length = (d->cmd_and_length & ~E1000_TXD_LEN_MASK) | E1000_TXD_LEN_MASK;
}

static void test_hostile_mss_zero(void **s) { hostile(*s, mss_zero); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
static void test_hostile_hdr_beyond_frame(void **s) { hostile(*s, hdr_beyond_frame); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
static void test_hostile_hdr_before_l4(void **s) { hostile(*s, hdr_before_l4); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
static void test_hostile_tucss_past_hdr(void **s) { hostile(*s, tucss_past_hdr); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
static void test_hostile_ipcss_past_hdr(void **s) { hostile(*s, ipcss_past_hdr); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
static void test_hostile_mss_over_frame(void **s) { hostile(*s, mss_over_frame); assert_int_equal(rd(*s, E1000_TSCTFC), 1); }
/* Rejected while gathering (bad descriptor), before any context is used. */
static void test_hostile_data_beyond_any_frame(void **s) { hostile(*s, data_beyond_any_frame); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_valid_and_gso_equal, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_tiny_last_frame_padded, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_largest_burst, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_refused_burst_goes_framewise, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_not_offered_without_both_checksums_or_with_vlan, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_not_offered_with_short_ipv4_header, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_mss_zero, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_hdr_beyond_frame, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_hdr_before_l4, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_tucss_past_hdr, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_ipcss_past_hdr, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_mss_over_frame, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_data_beyond_any_frame, setup, h_teardown),
    };
    return cmocka_run_group_tests_name("e1000_tso", tests, NULL, NULL);
}
