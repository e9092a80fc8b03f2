/* e1000 model receive path: placement, multi-buffer frames, wrap-around,
 * ring full / missed and recovery, filtering, length limits, FCS, checksum
 * offload status, RDMTS, delayed RXT0, hostile ring state, DMA faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/hw/e1000_harness.h"
#include "lib/log.h"

static int setup(void **state)
{
    log__set_quiet(1);
    struct harness *h = h_new();
    h_rx_setup(h, 8, 0);
    *state = h;
    return 0;
}

static void test_single_frame(void **state)
{
    struct harness *h = *state;
    uint8_t f[200];
    h_make_frame(f, sizeof f, NULL, 1);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    struct e1000_rx_desc d = h_rx_desc(h, 0);
    assert_int_equal(d.length, 200);
    assert_int_equal(d.status & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP),
                     E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.buffer_addr, H_RX_BUF); /* buffer address untouched */
    assert_memory_equal(h_rx_buf(h, 0), f, sizeof f);
    assert_int_equal(rd(h, E1000_RDH), 1);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXT0);
    assert_int_equal(rd(h, E1000_GPRC), 1);
    assert_int_equal(rd(h, E1000_TPR), 1);
    assert_int_equal(rd(h, E1000_GORCL), 204);
    assert_int_equal(rd(h, E1000_PRC255), 1);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.rx_frames, 1);
}

static void test_multi_buffer_frame(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_BSIZE_512 | E1000_RCTL_LPE);
    uint8_t f[1300];
    h_make_frame(f, sizeof f, NULL, 2);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    const uint16_t lens[3] = {512, 512, 276};
    for (uint32_t i = 0; i < 3; i++) {
        struct e1000_rx_desc d = h_rx_desc(h, i);
        assert_int_equal(d.length, lens[i]);
        assert_true(d.status & E1000_RXD_STAT_DD);
        assert_int_equal(!!(d.status & E1000_RXD_STAT_EOP), i == 2);
        assert_memory_equal(h_rx_buf(h, i), f + 512 * i, lens[i]);
    }
    assert_int_equal(rd(h, E1000_RDH), 3);
    /* nothing written past the used part of the last buffer */
    assert_int_equal(h_rx_buf(h, 2)[276], 0);
}

static void test_fcs_kept_without_secrc(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_SECRC);
    uint8_t f[60];
    h_make_frame(f, sizeof f, NULL, 3);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    struct e1000_rx_desc d = h_rx_desc(h, 0);
    assert_int_equal(d.length, 64);
    /* CRC-32 over frame + FCS leaves the 802.3 residue */
    uint32_t c = 0xFFFFFFFFu;
    const uint8_t *p = h_rx_buf(h, 0);
    for (int i = 0; i < 64; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    assert_int_equal(c, 0xDEBB20E3u);
}

static void test_wraparound(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_RDH, 6);
    wr(h, E1000_RDT, 5); /* 7 descriptors available: 6 7 0 1 2 3 4 */
    uint8_t f[100];
    for (uint8_t i = 0; i < 4; i++) {
        h_make_frame(f, sizeof f, NULL, i);
        assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
        uint32_t idx = (6u + i) % 8;
        assert_memory_equal(h_rx_buf(h, idx), f, sizeof f);
        assert_true(h_rx_desc(h, idx).status & E1000_RXD_STAT_DD);
    }
    assert_int_equal(rd(h, E1000_RDH), 2);
}

static void test_ring_full_missed_and_recovery(void **state)
{
    struct harness *h = *state;
    uint8_t f[100];
    h_make_frame(f, sizeof f, NULL, 4);
    wr(h, E1000_IMS, E1000_ICR_RXO);
    for (int i = 0; i < 7; i++)
        assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 7); /* RDH == RDT: no descriptors left */
    assert_int_equal(h->level, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(rd(h, E1000_MPC), 2);
    assert_int_equal(rd(h, E1000_RNBC), 2);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXO);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.rx_missed, 2);
    /* driver frees two descriptors */
    wr(h, E1000_RDT, 1);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(rd(h, E1000_RDH), 1);
    /* a frame needing more buffers than available is missed whole */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_BSIZE_256);
    wr(h, E1000_RDT, 3); /* two free */
    uint8_t big[700];
    h_make_frame(big, sizeof big, NULL, 5);
    assert_int_equal(e1000__rx_frame(h->e, big, sizeof big), -ENOSPC);
    assert_int_equal(rd(h, E1000_RDH), 1);
}

static void test_filtering(void **state)
{
    struct harness *h = *state;
    uint8_t f[64];
    const uint8_t other[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
    const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};
    struct e1000_diag dg;

    h_make_frame(f, sizeof f, other, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 0); /* filtered */
    h_make_frame(f, sizeof f, mcast, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 0);
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.rx_filtered, 2);

    h_make_frame(f, sizeof f, bcast, 0); /* BAM set by setup */
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 1);
    assert_int_equal(rd(h, E1000_BPRC), 1);

    /* multicast through the MTA (MO = 0: bits 47:36) */
    uint32_t hash = ((uint32_t)mcast[4] >> 4 | (uint32_t)mcast[5] << 4) & 0xFFF;
    wr(h, E1000_MTA + 4 * (hash >> 5), 1u << (hash & 31));
    h_make_frame(f, sizeof f, mcast, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 2);
    assert_int_equal(rd(h, E1000_MPRC), 1);

    /* second unicast address in RAL1/RAH1 */
    wr(h, E1000_RAL(1), 0x00005452);
    wr(h, E1000_RAH(1), 0x0100 | E1000_RAH_AV);
    h_make_frame(f, sizeof f, other, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 3);
    /* without AV it no longer matches */
    wr(h, E1000_RAH(1), 0x0100);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 3);
    /* unicast promiscuous */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_UPE);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 4);
    /* broadcast without BAM or MPE is dropped */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) & ~E1000_RCTL_BAM);
    h_make_frame(f, sizeof f, bcast, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 4);
    /* multicast promiscuous */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_MPE);
    const uint8_t m2[6] = {0x33, 0x33, 0, 0, 0, 1};
    h_make_frame(f, sizeof f, m2, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 5);
}

static void test_length_limits(void **state)
{
    struct harness *h = *state;
    uint8_t *f = calloc(1, 20000);
    assert_non_null(f);
    h_make_frame(f, 20000, NULL, 1);
    assert_int_equal(e1000__rx_frame(h->e, f, 13), -EINVAL);
    assert_int_equal(e1000__rx_frame(h->e, f, 0), -EINVAL);
    assert_int_equal(e1000__rx_frame(h->e, NULL, 10), -EINVAL);
    assert_int_equal(e1000__rx_frame(h->e, f, 14), 0); /* header only: accepted */
    assert_int_equal(e1000__rx_frame(h->e, f, 1518), 0);
    assert_int_equal(e1000__rx_frame(h->e, f, 1519), -EINVAL);
    assert_int_equal(rd(h, E1000_RUC), 2);
    assert_int_equal(rd(h, E1000_ROC), 1);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.rx_too_short, 2);
    assert_int_equal(s.rx_too_long, 1);
    /* LPE with 16 KiB buffers (BSEX): one jumbo frame, one descriptor */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_LPE | E1000_RCTL_BSEX | E1000_RCTL_BSIZE_16384);
    assert_int_equal(e1000__rx_frame(h->e, f, 16384), 0);
    struct e1000_rx_desc d = h_rx_desc(h, 2);
    assert_int_equal(d.length, 16384);
    assert_true(d.status & E1000_RXD_STAT_EOP);
    assert_memory_equal(h_rx_buf(h, 2), f, 16384);
    assert_int_equal(e1000__rx_frame(h->e, f, 16385), -EINVAL);
    free(f);
}

static void test_checksum_offload_status(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_RXCSUM, E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD);
    uint8_t f[14 + 40 + 100];
    size_t len = h_make_tcp(f, 100);
    uint16_t ic = h_csum(f + 14, 20, 0);
    f[24] = (uint8_t)(ic >> 8);
    f[25] = (uint8_t)ic;
    uint16_t tc = h_csum(f + 34, 120, h_pseudo(f, 120));
    f[50] = (uint8_t)(tc >> 8);
    f[51] = (uint8_t)tc;
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    struct e1000_rx_desc d = h_rx_desc(h, 0);
    assert_true(d.status & E1000_RXD_STAT_IPCS);
    assert_true(d.status & E1000_RXD_STAT_TCPCS);
    assert_int_equal(d.status & E1000_RXD_STAT_IXSM, 0);
    assert_int_equal(d.errors, 0);
    f[60] ^= 0x55; /* corrupt payload */
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    d = h_rx_desc(h, 1);
    assert_int_equal(d.errors, E1000_RXD_ERR_TCPE);
    f[60] ^= 0x55;
    f[22] ^= 1; /* corrupt TTL: IP header checksum wrong */
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    d = h_rx_desc(h, 2);
    assert_true(d.errors & E1000_RXD_ERR_IPE);
    /* offload off: IXSM */
    wr(h, E1000_RXCSUM, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    d = h_rx_desc(h, 3);
    assert_true(d.status & E1000_RXD_STAT_IXSM);
    assert_int_equal(d.errors, 0);
}

static void test_rdmts_and_delayed_rxt0(void **state)
{
    struct harness *h = *state;
    uint8_t f[64];
    h_make_frame(f, sizeof f, NULL, 0);
    wr(h, E1000_IMS, E1000_ICR_RXDMT0);
    /* 7 free, threshold 1/2 of 8 = 4: crossing on the 3rd frame */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h->level, 0);
        e1000__rx_frame(h->e, f, sizeof f);
    }
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXDMT0);
    /* RDTR: RXT0 waits for the timer */
    wr(h, E1000_IMC, 0xFFFFFFFF);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    e1000__tick(h->e, 1000);
    wr(h, E1000_RDTR, 10);  /* 10.24 us, re-armed per frame */
    wr(h, E1000_RADV, 20);  /* 20.48 us absolute */
    e1000__rx_frame(h->e, f, sizeof f);
    assert_int_equal(h->level, 0);
    e1000__tick(h->e, 1000 + 5000);
    e1000__rx_frame(h->e, f, sizeof f); /* re-arms the 10.24 us timer */
    e1000__tick(h->e, 1000 + 11000);
    assert_int_equal(h->level, 0);
    e1000__tick(h->e, 1000 + 5000 + 10240);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXT0);
}

static void test_hostile_ring_state(void **state)
{
    struct harness *h = *state;
    uint8_t f[64];
    h_make_frame(f, sizeof f, NULL, 0);
    wr(h, E1000_RDLEN, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    poke(h, E1000_RDLEN, 8 * 16 + 8);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    wr(h, E1000_RDLEN, 8 * 16);
    poke(h, E1000_RDT, 100);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    poke(h, E1000_RDT, 3);
    poke(h, E1000_RDH, 0xFFFF);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.ring_errors, 4);
    assert_int_equal(rd(h, E1000_MPC), 4);
    poke(h, E1000_RDH, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
}

static void test_dma_faults_leave_ring_unchanged(void **state)
{
    struct harness *h = *state;
    uint8_t f[300];
    h_make_frame(f, sizeof f, NULL, 7);
    /* descriptor 0 points outside the window */
    struct e1000_rx_desc bad = {.buffer_addr = 0x100};
    memcpy(hmem(h, H_RX_RING), &bad, sizeof bad);
    uint8_t *before = malloc(H_MEM_SIZE);
    assert_non_null(before);
    memcpy(before, h->mem, H_MEM_SIZE);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -EFAULT);
    assert_memory_equal(before, h->mem, H_MEM_SIZE);
    assert_int_equal(rd(h, E1000_RDH), 0);
    struct e1000_diag dg;
    e1000__get_diag(h->e, &dg);
    assert_int_equal(dg.rx_dma_errors, 1);
    assert_int_equal(dg.last_dma_addr, 0x100);
    /* buffer that straddles the window end */
    bad.buffer_addr = H_MEM_BASE + H_MEM_SIZE - 100;
    memcpy(hmem(h, H_RX_RING), &bad, sizeof bad);
    memcpy(before, h->mem, H_MEM_SIZE);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -EFAULT);
    assert_memory_equal(before, h->mem, H_MEM_SIZE);
    /* descriptor ring in a read-only mapping: data lands, write-back fails,
     * RDH stays and no DD appears */
    struct e1000_rx_desc good = {.buffer_addr = H_RX_BUF};
    memcpy(hmem(h, H_RX_RING), &good, sizeof good);
    h->ro_lo = H_RX_RING;
    h->ro_hi = H_RX_RING + 0x1000;
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -EFAULT);
    assert_int_equal(h_rx_desc(h, 0).status, 0);
    assert_int_equal(rd(h, E1000_RDH), 0);
    h->ro_lo = h->ro_hi = 0;
    /* repaired: the same ring works */
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_true(h_rx_desc(h, 0).status & E1000_RXD_STAT_DD);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.dma_errors, 3);
    free(before);
}

static void test_receiver_disabled(void **state)
{
    struct harness *h = *state;
    uint8_t f[64];
    h_make_frame(f, sizeof f, NULL, 0);
    wr(h, E1000_RCTL, 0);
    wr(h, E1000_IMS, E1000_ICR_RXO);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(rd(h, E1000_MPC), 1);
    assert_int_equal(h->level, 0); /* a disabled receiver signals nothing */
    assert_int_equal(rd(h, E1000_RDH), 0);
    assert_int_equal(h_rx_desc(h, 0).status, 0);
}

static void test_vlan_strip_and_filter(void **state)
{
    struct harness *h = *state;
    uint8_t f[104], plain[100];
    h_make_frame(plain, sizeof plain, NULL, 8);
    memcpy(f, plain, 12);
    f[12] = 0x81;
    f[13] = 0x00;
    f[14] = 0x20;
    f[15] = 0x05; /* PCP 1, VID 5 */
    memcpy(f + 16, plain + 12, 88);
    /* VME clear: delivered as is */
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(h_rx_desc(h, 0).length, 104);
    assert_int_equal(h_rx_desc(h, 0).status & E1000_RXD_STAT_VP, 0);
    /* VME: tag stripped into the descriptor */
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_VME);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    struct e1000_rx_desc d = h_rx_desc(h, 1);
    assert_int_equal(d.length, 100);
    assert_true(d.status & E1000_RXD_STAT_VP);
    assert_int_equal(d.special, 0x2005);
    assert_memory_equal(h_rx_buf(h, 1), plain, 100);
    /* VFE: VID 5 not in VFTA -> filtered; set it -> accepted */
    wr(h, E1000_RCTL, rd(h, E1000_RCTL) | E1000_RCTL_VFE);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 2);
    wr(h, E1000_VFTA, 1u << 5);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), 0);
    assert_int_equal(rd(h, E1000_RDH), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_frame, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_multi_buffer_frame, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_fcs_kept_without_secrc, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_wraparound, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ring_full_missed_and_recovery, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_filtering, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_length_limits, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_checksum_offload_status, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_rdmts_and_delayed_rxt0, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_ring_state, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_dma_faults_leave_ring_unchanged, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_receiver_disabled, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_vlan_strip_and_filter, setup, h_teardown),
    };
    return cmocka_run_group_tests_name("e1000_rx", tests, NULL, NULL);
}
