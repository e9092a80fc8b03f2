/* e1000 model transmit path: legacy single/multi-descriptor frames, DD
 * write-back and causes, counters, checksum offload, TSO, wrap-around,
 * budgets, and hostile descriptors / ring registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/hw/e1000_harness.h"
#include "hw/e1000/e1000_priv.h"
#include "lib/log.h"

static int setup(void **state)
{
    log__set_quiet(1);
    struct harness *h = h_new();
    h_tx_setup(h, 8);
    *state = h;
    return 0;
}

static uint8_t desc_status(struct harness *h, uint32_t idx)
{
    return hmem(h, H_TX_RING + idx * 16u)[12];
}

static void test_single_descriptor(void **state)
{
    struct harness *h = *state;
    size_t len = h_make_frame(hmem(h, H_TX_BUF), 100, NULL, 5);
    h_tx_legacy(h, 0, H_TX_BUF, (uint16_t)len,
                E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B | E1000_TXD_CMD_IFCS_B);
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    wr(h, E1000_TDT, 1);
    assert_int_equal(e1000__tx_poll(h->e, 32), 1);
    assert_int_equal(h->nframes, 1);
    assert_int_equal(h->frames[0].len, 100);
    assert_memory_equal(h->frames[0].data, hmem(h, H_TX_BUF), 100);
    assert_int_equal(desc_status(h, 0) & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
    assert_int_equal(rd(h, E1000_TDH), 1);
    assert_int_equal(h->level, 1);
    assert_int_equal(rd(h, E1000_ICR),
                     E1000_ICR_TXDW | E1000_ICR_TXQE | E1000_ICR_INT_ASSERTED);
    assert_int_equal(rd(h, E1000_GPTC), 1);
    assert_int_equal(rd(h, E1000_TPT), 1);
    assert_int_equal(rd(h, E1000_GOTCL), 104); /* octets include the FCS */
    assert_int_equal(rd(h, E1000_PTC127), 1);
    /* nothing more to do */
    assert_int_equal(e1000__tx_poll(h->e, 32), 0);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.tx_frames, 1);
}

static void test_multi_descriptor_and_padding(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 1500, NULL, 9);
    h_tx_legacy(h, 0, H_TX_BUF, 100, 0);
    h_tx_legacy(h, 1, H_TX_BUF + 100, 1000, 0);
    h_tx_legacy(h, 2, H_TX_BUF + 1100, 400, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    /* a short frame: padded to 60 by TCTL.PSP */
    h_make_frame(hmem(h, H_TX_BUF + 0x2000), 20, NULL, 1);
    h_tx_legacy(h, 3, H_TX_BUF + 0x2000, 20, E1000_TXD_CMD_EOP_B);
    wr(h, E1000_TDT, 4);
    assert_int_equal(e1000__tx_poll(h->e, 64), 4);
    assert_int_equal(h->nframes, 2);
    assert_int_equal(h->frames[0].len, 1500);
    assert_memory_equal(h->frames[0].data, hmem(h, H_TX_BUF), 1500);
    assert_int_equal(h->frames[1].len, 60);
    assert_memory_equal(h->frames[1].data, hmem(h, H_TX_BUF + 0x2000), 20);
    assert_int_equal(h->frames[1].data[59], 0);
    /* DD only where RS was asked */
    assert_int_equal(desc_status(h, 0), 0);
    assert_int_equal(desc_status(h, 2), E1000_TXD_STAT_DD);
    assert_int_equal(desc_status(h, 3), 0);
}

static void test_wraparound_and_budget(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_TDH, 6);
    wr(h, E1000_TDT, 6);
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t idx = (6 + i) % 8;
        h_make_frame(hmem(h, H_TX_BUF + i * 0x1000u), 64, NULL, (uint8_t)i);
        h_tx_legacy(h, idx, H_TX_BUF + i * 0x1000u, 64, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    }
    wr(h, E1000_TDT, 3); /* 6 7 0 1 2 */
    assert_int_equal(e1000__tx_poll(h->e, 2), 2);
    assert_int_equal(rd(h, E1000_TDH), 0);
    assert_int_equal(h->nframes, 2);
    assert_int_equal(e1000__tx_poll(h->e, 100), 3);
    assert_int_equal(rd(h, E1000_TDH), 3);
    assert_int_equal(h->nframes, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_memory_equal(h->frames[i].data, hmem(h, H_TX_BUF + i * 0x1000u), 64);
    assert_int_equal(e1000__tx_poll(h->e, 0), 0);
}

static void test_transmitter_disabled(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 64, NULL, 1);
    h_tx_legacy(h, 0, H_TX_BUF, 64, E1000_TXD_CMD_EOP_B);
    wr(h, E1000_TCTL, 0);
    wr(h, E1000_TDT, 1);
    assert_int_equal(e1000__tx_poll(h->e, 8), 0);
    assert_int_equal(rd(h, E1000_TDH), 0);
    wr(h, E1000_TCTL, E1000_TCTL_EN);
    assert_int_equal(e1000__tx_poll(h->e, 8), 1);
}

/* Context + data descriptors with IP and TCP checksum insertion. */
static void test_checksum_offload(void **state)
{
    struct harness *h = *state;
    uint8_t *f = hmem(h, H_TX_BUF);
    size_t len = h_make_tcp(f, 300);
    /* stack seeds the pseudo-header sum (with length) like Linux does */
    uint16_t seed = (uint16_t)~h_csum(NULL, 0, h_pseudo(f, 320));
    f[14 + 20 + 16] = (uint8_t)(seed >> 8);
    f[14 + 20 + 17] = (uint8_t)seed;
    struct e1000_context_desc c = {
        .ipcss = 14, .ipcso = 14 + 10, .ipcse = 14 + 19, .tucss = 34, .tucso = 34 + 16,
        .tucse = 0,
        .cmd_and_length = E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C | E1000_TXD_CMD_IP |
                          E1000_TXD_CMD_TCP | E1000_TXD_CMD_RS};
    memcpy(hmem(h, H_TX_RING), &c, 16);
    struct e1000_data_desc d = {
        .buffer_addr = H_TX_BUF,
        .cmd_and_length = (uint32_t)len | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT |
                          E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
        .popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM};
    memcpy(hmem(h, H_TX_RING + 16), &d, 16);
    wr(h, E1000_TDT, 2);
    assert_int_equal(e1000__tx_poll(h->e, 8), 2);
    assert_int_equal(h->nframes, 1);
    const uint8_t *o = h->frames[0].data;
    assert_int_equal(h->frames[0].len, len);
    assert_int_not_equal(o[24] | o[25], 0);
    assert_int_equal(h_csum(o + 14, 20, 0), 0);               /* IP header valid */
    assert_int_equal(h_csum(o + 34, 320, h_pseudo(o, 320)), 0); /* TCP valid */
    assert_int_equal(desc_status(h, 0), E1000_TXD_STAT_DD);     /* context: DD too */
    assert_int_equal(desc_status(h, 1), E1000_TXD_STAT_DD);
    /* offsets outside the frame: offload skipped, frame still sent */
    c.tucso = 250;
    c.ipcso = 255;
    memcpy(hmem(h, H_TX_RING + 32), &c, 16);
    d.cmd_and_length = 40 | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_EOP;
    memcpy(hmem(h, H_TX_RING + 48), &d, 16);
    wr(h, E1000_TDT, 4);
    assert_int_equal(e1000__tx_poll(h->e, 8), 2);
    assert_int_equal(h->nframes, 2);
    assert_memory_equal(h->frames[1].data, f, 40);
}

static void test_tso(void **state)
{
    struct harness *h = *state;
    uint8_t *f = hmem(h, H_TX_BUF);
    size_t len = h_make_tcp(f, 2500);
    uint16_t seed = (uint16_t)~h_csum(NULL, 0, h_pseudo(f, 0)); /* no length for TSO */
    f[14 + 20 + 16] = (uint8_t)(seed >> 8);
    f[14 + 20 + 17] = (uint8_t)seed;
    struct e1000_context_desc c = {
        .ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34, .tucso = 50, .tucse = 0,
        .cmd_and_length = 2500 | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C | E1000_TXD_CMD_IP |
                          E1000_TXD_CMD_TCP | E1000_TXD_CMD_TSE,
        .hdr_len = 54, .mss = 1000};
    memcpy(hmem(h, H_TX_RING), &c, 16);
    /* header and payload in two data descriptors */
    struct e1000_data_desc d = {
        .buffer_addr = H_TX_BUF,
        .cmd_and_length = 54 | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE,
        .popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM};
    memcpy(hmem(h, H_TX_RING + 16), &d, 16);
    d.buffer_addr = H_TX_BUF + 54;
    d.cmd_and_length = (uint32_t)(len - 54) | E1000_TXD_DTYP_D | E1000_TXD_CMD_DEXT |
                       E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS;
    memcpy(hmem(h, H_TX_RING + 32), &d, 16);
    wr(h, E1000_TDT, 3);
    assert_int_equal(e1000__tx_poll(h->e, 8), 3);
    assert_int_equal(h->nframes, 3);
    const uint32_t pays[3] = {1000, 1000, 500};
    uint32_t seq = 0x01020304;
    for (unsigned k = 0; k < 3; k++) {
        const uint8_t *o = h->frames[k].data;
        assert_int_equal(h->frames[k].len, 54 + pays[k]);
        assert_int_equal(o[16] << 8 | o[17], 40 + pays[k]);            /* IP total length */
        assert_int_equal(o[18] << 8 | o[19], 0x1234 + k);              /* IP id */
        assert_int_equal(h_csum(o + 14, 20, 0), 0);
        uint32_t s = (uint32_t)o[38] << 24 | o[39] << 16 | o[40] << 8 | o[41];
        assert_int_equal(s, seq);
        seq += pays[k];
        assert_int_equal(o[47] & 0x09, k == 2 ? 0x09 : 0);              /* FIN/PSH last */
        assert_int_equal(h_csum(o + 34, 20 + pays[k], h_pseudo(o, 20 + pays[k])), 0);
        assert_memory_equal(o + 54, f + 54 + k * 1000, pays[k]);
    }
    assert_int_equal(rd(h, E1000_TSCTC), 1);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.tx_tso_frames, 3);
}

static void test_zero_length_and_oversize(void **state)
{
    struct harness *h = *state;
    /* a zero-length EOP descriptor: nothing sent, DD written, no loop */
    h_tx_legacy(h, 0, H_TX_BUF, 0, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    /* a frame over 16 KiB: dropped whole */
    h_tx_legacy(h, 1, H_TX_BUF, 16000, 0);
    h_tx_legacy(h, 2, H_TX_BUF, 1000, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    /* a good frame after */
    h_make_frame(hmem(h, H_TX_BUF + 0x8000), 80, NULL, 4);
    h_tx_legacy(h, 3, H_TX_BUF + 0x8000, 80, E1000_TXD_CMD_EOP_B);
    wr(h, E1000_TDT, 4);
    assert_int_equal(e1000__tx_poll(h->e, 64), 4);
    assert_int_equal(h->nframes, 1);
    assert_int_equal(h->frames[0].len, 80);
    assert_int_equal(desc_status(h, 0), E1000_TXD_STAT_DD);
    assert_int_equal(desc_status(h, 2), E1000_TXD_STAT_DD);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.bad_descriptors, 1);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.tx_dropped, 2);
    assert_int_equal(rd(h, E1000_GPTC), 1);
}

static void test_dma_fault_touches_nothing(void **state)
{
    struct harness *h = *state;
    /* buffer outside the DMA window, RS set */
    h_tx_legacy(h, 0, 0x1000, 64, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    h_make_frame(hmem(h, H_TX_BUF), 64, NULL, 2);
    h_tx_legacy(h, 1, H_TX_BUF, 64, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    uint8_t *before = malloc(H_MEM_SIZE);
    assert_non_null(before);
    memcpy(before, h->mem, H_MEM_SIZE);
    wr(h, E1000_TDT, 2);
    assert_int_equal(e1000__tx_poll(h->e, 8), 2);
    /* the faulting descriptor: no frame, no DD; the next one goes out */
    assert_int_equal(h->nframes, 1);
    assert_memory_equal(h->frames[0].data, hmem(h, H_TX_BUF), 64);
    assert_int_equal(desc_status(h, 0), 0);
    assert_int_equal(desc_status(h, 1), E1000_TXD_STAT_DD);
    before[1 * 16 + 12] = E1000_TXD_STAT_DD; /* the only byte that may change */
    assert_memory_equal(before, h->mem, H_MEM_SIZE);
    free(before);
    assert_int_equal(rd(h, E1000_TDH), 2);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.dma_error, 1);
    assert_int_equal(dg.tx_dma_errors, 1);
    assert_int_equal(dg.last_dma_addr, 0x1000);
    assert_int_equal(dg.last_dma_errno, -EFAULT);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.dma_errors, 1);
    e1000__clear_dma_error(h->e);
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.dma_error, 0);
}

/* Bus Master Enable went clear between the thread's check and the fetch:
 * the gate issues no cycle, so the descriptor is not consumed (TDH stays,
 * no fault, no frame) and goes out once bus mastering is back. */
static void test_no_bus_master_consumes_nothing(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 64, NULL, 3);
    h_tx_legacy(h, 0, H_TX_BUF, 64, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    h->no_bus_master = true;
    wr(h, E1000_TDT, 1);
    assert_int_equal(e1000__tx_poll(h->e, 8), 0);
    assert_int_equal(rd(h, E1000_TDH), 0);
    assert_int_equal(h->nframes, 0);
    assert_int_equal(desc_status(h, 0), 0);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.tx_dma_errors, 0);
    h->no_bus_master = false;
    assert_int_equal(e1000__tx_poll(h->e, 8), 1);
    assert_int_equal(rd(h, E1000_TDH), 1);
    assert_int_equal(h->nframes, 1);
    assert_int_equal(desc_status(h, 0), E1000_TXD_STAT_DD);
}

static void test_fault_mid_frame_drops_whole_frame(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 300, NULL, 2);
    h_tx_legacy(h, 0, H_TX_BUF, 100, 0);
    h_tx_legacy(h, 1, 0xFFFFFFFFFFFFFF00ull, 100, 0); /* faults */
    h_tx_legacy(h, 2, H_TX_BUF + 200, 100, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    wr(h, E1000_TDT, 3);
    assert_int_equal(e1000__tx_poll(h->e, 8), 3);
    assert_int_equal(h->nframes, 0);
    assert_int_equal(desc_status(h, 2), E1000_TXD_STAT_DD);
}

static void test_ring_outside_window(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_TDBAL, 0x2000);
    wr(h, E1000_TDBAH, 0);
    wr(h, E1000_TDT, 5);
    assert_int_equal(e1000__tx_poll(h->e, 100), 5); /* each fetch faults, bounded */
    assert_int_equal(h->nframes, 0);
    assert_int_equal(rd(h, E1000_TDH), 5);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.dma_errors, 5);
}

static void test_hostile_ring_registers(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 64, NULL, 2);
    for (uint32_t i = 0; i < 8; i++)
        h_tx_legacy(h, i, H_TX_BUF, 64, E1000_TXD_CMD_EOP_B);
    /* TDT beyond the ring (8 descriptors) */
    wr(h, E1000_TDT, 20);
    assert_int_equal(e1000__tx_poll(h->e, 100), 0);
    assert_int_equal(rd(h, E1000_TDH), 0);
    /* TDH beyond the ring through the mapped page */
    wr(h, E1000_TDT, 2);
    poke(h, E1000_TDH, 9);
    assert_int_equal(e1000__tx_poll(h->e, 100), 0);
    poke(h, E1000_TDH, 0);
    /* ring length 0 */
    wr(h, E1000_TDLEN, 0);
    assert_int_equal(e1000__tx_poll(h->e, 100), 0);
    /* not a multiple of 128 (only possible through the mapped page) */
    poke(h, E1000_TDLEN, 200);
    assert_int_equal(e1000__tx_poll(h->e, 100), 0);
    poke(h, E1000_TDLEN, 0x80000000u);
    assert_int_equal(e1000__tx_poll(h->e, 100), 0);
    assert_int_equal(h->nframes, 0);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.ring_errors, 5);
    /* repaired: works again */
    wr(h, E1000_TDLEN, 128);
    assert_int_equal(e1000__tx_poll(h->e, 100), 2);
    assert_int_equal(h->nframes, 2);
}

static void test_huge_ring_bounded_by_budget(void **state)
{
    struct harness *h = *state;
    /* 65528 zeroed descriptors (the whole window): budget bounds the walk */
    wr(h, E1000_TDLEN, 0x000FFF80u);
    wr(h, E1000_TDT, 60000);
    assert_int_equal(e1000__tx_poll(h->e, 1000), 1000);
    assert_int_equal(rd(h, E1000_TDH), 1000);
    assert_int_equal(h->nframes, 0); /* zero-length legacy descriptors, no EOP */
}

static void test_reserved_dtyp_and_write_back_fault(void **state)
{
    struct harness *h = *state;
    uint8_t d[16] = {0};
    d[10] = 0x30; /* DTYP 3 */
    d[11] = E1000_TXD_CMD_DEXT_B | E1000_TXD_CMD_RS_B;
    memcpy(hmem(h, H_TX_RING), d, 16);
    /* descriptor 1 in a read-only mapping: its DD write-back fails */
    h_make_frame(hmem(h, H_TX_BUF), 64, NULL, 2);
    h_tx_legacy(h, 1, H_TX_BUF, 64, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    h->ro_lo = H_TX_RING + 16;
    h->ro_hi = H_TX_RING + 32;
    wr(h, E1000_TDT, 2);
    assert_int_equal(e1000__tx_poll(h->e, 8), 2);
    assert_int_equal(h->nframes, 1);
    assert_int_equal(desc_status(h, 0), E1000_TXD_STAT_DD);
    assert_int_equal(desc_status(h, 1), 0);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.bad_descriptors, 1);
    assert_int_equal(s.dma_errors, 1);
}

/* The model's word-at-a-time checksum equals the bytewise RFC 1071 sum for
 * every length and alignment, with and without a carried-in sum. */
static void test_csum_helper_matches_reference(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len++) {
            uint32_t carry = (uint32_t)(len * 977u) & 0x1FFFF;
            uint16_t want = h_csum(buf + off, len, carry);
            assert_int_equal(e1000__csum_fold(e1000__csum_add(carry, buf + off, len)), want);
        }
}

static void test_vlan_insertion(void **state)
{
    struct harness *h = *state;
    h_make_frame(hmem(h, H_TX_BUF), 100, NULL, 6);
    struct e1000_tx_desc d = {.buffer_addr = H_TX_BUF, .length = 100,
                              .cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_VLE_B, .special = 0x2005};
    memcpy(hmem(h, H_TX_RING), &d, 16);
    memcpy(hmem(h, H_TX_RING + 16), &d, 16);
    wr(h, E1000_TDT, 1);
    assert_int_equal(e1000__tx_poll(h->e, 8), 1); /* CTRL.VME clear: no tag */
    assert_int_equal(h->frames[0].len, 100);
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
    wr(h, E1000_TDT, 2);
    assert_int_equal(e1000__tx_poll(h->e, 8), 1);
    const uint8_t *o = h->frames[1].data;
    assert_int_equal(h->frames[1].len, 104);
    assert_memory_equal(o, hmem(h, H_TX_BUF), 12);
    assert_int_equal(o[12] << 8 | o[13], 0x8100); /* VET */
    assert_int_equal(o[14] << 8 | o[15], 0x2005);
    assert_memory_equal(o + 16, hmem(h, H_TX_BUF) + 12, 88);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_helper_matches_reference),
        cmocka_unit_test_setup_teardown(test_single_descriptor, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_multi_descriptor_and_padding, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_wraparound_and_budget, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_transmitter_disabled, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_checksum_offload, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_tso, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_vlan_insertion, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_zero_length_and_oversize, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_bus_master_consumes_nothing, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_dma_fault_touches_nothing, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_fault_mid_frame_drops_whole_frame, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ring_outside_window, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_ring_registers, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_huge_ring_bounded_by_budget, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_reserved_dtyp_and_write_back_fault, setup, h_teardown),
    };
    return cmocka_run_group_tests_name("e1000_tx", tests, NULL, NULL);
}
