/* e1000 model registers: reset values, device reset, link, EEPROM (EERD and
 * EECD bit-banging), PHY through MDIC, interrupt cause/mask/level, ITR,
 * statistics read-to-clear, access widths, I/O BAR. */
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
    *state = h_new();
    return 0;
}

static void test_reset_values(void **state)
{
    struct harness *h = *state;
    uint32_t ctrl = rd(h, E1000_CTRL);
    assert_true(ctrl & E1000_CTRL_SLU);
    assert_int_equal(ctrl & E1000_CTRL_RST, 0);
    uint32_t st = rd(h, E1000_STATUS);
    assert_true(st & E1000_STATUS_LU);
    assert_true(st & E1000_STATUS_FD);
    assert_int_equal(st & E1000_STATUS_SPEED_MASK, E1000_STATUS_SPEED_1000);
    assert_int_equal(rd(h, E1000_RCTL), 0);
    assert_int_equal(rd(h, E1000_TCTL), 0);
    assert_int_equal(rd(h, E1000_IMS), 0);
    assert_int_equal(rd(h, E1000_ICR), 0);
    assert_int_equal(rd(h, E1000_TDLEN), 0);
    assert_int_equal(rd(h, E1000_VET), 0x8100);
    assert_true(rd(h, E1000_EECD) & E1000_EECD_PRES);
    /* RAL0/RAH0 hold the EEPROM MAC with AV */
    assert_int_equal(rd(h, E1000_RAL(0)), 0x12005452u);
    assert_int_equal(rd(h, E1000_RAH(0)), 0x80005634u);
    assert_int_equal(rd(h, E1000_RAH(1)), 0);
    assert_int_equal(e1000__irq_level(h->e), 0);
    /* unimplemented offset: reads 0, writes ignored */
    wr(h, 0x1F000, 0xFFFFFFFF);
    assert_int_equal(rd(h, 0x1F000), 0);
}

static void test_write_masks_and_ctrl_rst(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_RDLEN, 0xFFFFFFFF);
    assert_int_equal(rd(h, E1000_RDLEN), 0x000FFF80u); /* low 7 bits and above 19 are 0 */
    wr(h, E1000_TDBAL, 0x12345678);
    assert_int_equal(rd(h, E1000_TDBAL), 0x12345670u);
    wr(h, E1000_RDH, 0xABCDEF12);
    assert_int_equal(rd(h, E1000_RDH), 0xEF12);
    wr(h, E1000_STATUS, 0);
    assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU); /* read-only */
    wr(h, E1000_MTA + 4 * 5, 0xDEADBEEF);
    wr(h, E1000_RCTL, E1000_RCTL_EN);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    wr(h, E1000_ICS, E1000_ICR_RXT0);
    assert_int_equal(h->level, 1);
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
    assert_int_equal(rd(h, E1000_CTRL) & E1000_CTRL_RST, 0); /* self-clearing */
    assert_int_equal(rd(h, E1000_RDLEN), 0);
    assert_int_equal(rd(h, E1000_TDBAL), 0);
    assert_int_equal(rd(h, E1000_MTA + 4 * 5), 0);
    assert_int_equal(rd(h, E1000_RCTL), 0);
    assert_int_equal(rd(h, E1000_IMS), 0);
    assert_int_equal(h->level, 0); /* reset drops the line */
    assert_int_equal(rd(h, E1000_RAH(0)), 0x80005634u);
}

static void test_link_follows_slu(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_IMS, E1000_ICR_LSC);
    wr(h, E1000_CTRL, E1000_CTRL_FD); /* SLU and ASDE clear */
    assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
    assert_int_equal(h->level, 1);
    uint32_t icr = rd(h, E1000_ICR);
    assert_int_equal(icr, E1000_ICR_LSC | E1000_ICR_INT_ASSERTED);
    wr(h, E1000_CTRL, E1000_CTRL_SLU);
    assert_true(rd(h, E1000_STATUS) & E1000_STATUS_LU);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_LSC);
}

static uint16_t eerd(struct harness *h, uint32_t addr)
{
    wr(h, E1000_EERD, addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
    uint32_t v = rd(h, E1000_EERD);
    assert_true(v & E1000_EERD_DONE);
    return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

static void test_eeprom_eerd(void **state)
{
    struct harness *h = *state;
    assert_int_equal(eerd(h, 0), 0x5452);
    assert_int_equal(eerd(h, 1), 0x1200);
    assert_int_equal(eerd(h, 2), 0x5634);
    assert_int_equal(eerd(h, E1000_EEPROM_DEVICE_ID), E1000_PCI_DEV_82540EM);
    uint16_t sum = 0;
    for (uint32_t i = 0; i < E1000_EEPROM_WORDS; i++)
        sum = (uint16_t)(sum + eerd(h, i));
    assert_int_equal(sum, E1000_EEPROM_SUM);
    assert_int_equal(eerd(h, 200), 0); /* past the part: DONE, data 0 */
}

/* Microwire read exactly as a bit-banging driver does it. */
static void ee_clock(struct harness *h, uint32_t *eecd)
{
    wr(h, E1000_EECD, *eecd | E1000_EECD_SK);
    wr(h, E1000_EECD, *eecd & ~E1000_EECD_SK);
}

static uint16_t eecd_read_word(struct harness *h, uint32_t addr)
{
    uint32_t eecd = rd(h, E1000_EECD) | E1000_EECD_REQ;
    wr(h, E1000_EECD, eecd);
    assert_true(rd(h, E1000_EECD) & E1000_EECD_GNT);
    eecd = (eecd | E1000_EECD_CS) & ~(E1000_EECD_SK | E1000_EECD_DI);
    wr(h, E1000_EECD, eecd);
    uint32_t cmd = E1000_EEPROM_OP_READ << 6 | addr;
    for (int b = 8; b >= 0; b--) {
        eecd = (cmd >> b & 1) ? eecd | E1000_EECD_DI : eecd & ~E1000_EECD_DI;
        wr(h, E1000_EECD, eecd);
        ee_clock(h, &eecd);
    }
    eecd &= ~E1000_EECD_DI;
    uint16_t v = 0;
    for (int b = 0; b < 16; b++) {
        wr(h, E1000_EECD, eecd | E1000_EECD_SK);
        v = (uint16_t)(v << 1 | ((rd(h, E1000_EECD) & E1000_EECD_DO) ? 1 : 0));
        wr(h, E1000_EECD, eecd);
    }
    wr(h, E1000_EECD, eecd & ~(E1000_EECD_CS | E1000_EECD_REQ));
    return v;
}

static void test_eeprom_bitbang(void **state)
{
    struct harness *h = *state;
    assert_int_equal(eecd_read_word(h, 0), 0x5452);
    assert_int_equal(eecd_read_word(h, 2), 0x5634);
    assert_int_equal(eecd_read_word(h, E1000_EEPROM_CHECKSUM_REG), eerd(h, 0x3F));
    assert_int_equal(rd(h, E1000_EECD) & E1000_EECD_GNT, 0);
}

static uint32_t mdic(struct harness *h, uint32_t op, uint32_t phy, uint32_t reg, uint16_t data)
{
    wr(h, E1000_MDIC, op | phy << E1000_MDIC_PHY_SHIFT | reg << E1000_MDIC_REG_SHIFT | data);
    uint32_t v = rd(h, E1000_MDIC);
    assert_true(v & E1000_MDIC_READY);
    return v;
}

static void test_mdic_phy(void **state)
{
    struct harness *h = *state;
    uint32_t v = mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_ID1, 0);
    assert_int_equal(v & E1000_MDIC_ERROR, 0);
    assert_int_equal(v & 0xFFFF, 0x0141);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_ID2, 0) & 0xFFFF, 0x0C20);
    v = mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_STATUS, 0);
    assert_true(v & E1000_MII_SR_LINK_STATUS);
    assert_true(v & E1000_MII_SR_AN_COMPLETE);
    /* restart autoneg self-clears */
    mdic(h, E1000_MDIC_OP_WRITE, 1, E1000_PHY_CTRL,
         E1000_MII_CR_AN_ENABLE | E1000_MII_CR_RESTART_AN);
    v = mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_CTRL, 0);
    assert_int_equal(v & 0xFFFF, E1000_MII_CR_AN_ENABLE);
    /* read-only PHY register keeps its value */
    mdic(h, E1000_MDIC_OP_WRITE, 1, E1000_PHY_ID1, 0xFFFF);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_ID1, 0) & 0xFFFF, 0x0141);
    /* a writable one stores */
    mdic(h, E1000_MDIC_OP_WRITE, 1, E1000_PHY_AUTONEG_ADV, 0x01E1);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_AUTONEG_ADV, 0) & 0xFFFF, 0x01E1);
    /* absent PHY address: error */
    assert_true(mdic(h, E1000_MDIC_OP_READ, 2, E1000_PHY_ID1, 0) & E1000_MDIC_ERROR);
    /* power down: PHY and MAC link go down */
    mdic(h, E1000_MDIC_OP_WRITE, 1, E1000_PHY_CTRL, E1000_MII_CR_POWER_DOWN);
    assert_int_equal(mdic(h, E1000_MDIC_OP_READ, 1, E1000_PHY_STATUS, 0) &
                         E1000_MII_SR_LINK_STATUS, 0);
    assert_int_equal(rd(h, E1000_STATUS) & E1000_STATUS_LU, 0);
    /* MDIC interrupt */
    rd(h, E1000_ICR);
    wr(h, E1000_MDIC, E1000_MDIC_OP_READ | 1u << E1000_MDIC_PHY_SHIFT | E1000_MDIC_INT_EN);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_MDAC);
}

static void test_icr_ics_ims_imc(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_ICS, E1000_ICR_TXDW | E1000_ICR_RXT0);
    assert_int_equal(h->level, 0); /* masked */
    assert_int_equal(rd(h, E1000_IMS), 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    assert_int_equal(h->level, 1);
    assert_int_equal(rd(h, E1000_IMS), E1000_ICR_RXT0);
    wr(h, E1000_IMC, E1000_ICR_RXT0);
    assert_int_equal(h->level, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    assert_int_equal(h->level, 1);
    /* W1C of one cause keeps the line for the other */
    wr(h, E1000_ICR, E1000_ICR_RXT0);
    assert_int_equal(h->level, 1);
    /* read-to-clear returns causes with INT_ASSERTED */
    uint32_t v = rd(h, E1000_ICR);
    assert_int_equal(v, E1000_ICR_TXDW | E1000_ICR_INT_ASSERTED);
    assert_int_equal(h->level, 0);
    assert_int_equal(rd(h, E1000_ICR), 0);
    /* ICS is write-only, IMC too */
    assert_int_equal(rd(h, E1000_ICS), 0);
    assert_int_equal(rd(h, E1000_IMC), 0);
    /* masked cause: no INT_ASSERTED */
    wr(h, E1000_IMC, 0xFFFFFFFF);
    wr(h, E1000_ICS, E1000_ICR_LSC);
    assert_int_equal(rd(h, E1000_ICR), E1000_ICR_LSC);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.interrupts, h->raises);
    assert_int_equal(s.interrupts, 2);
}

static void test_itr_throttles(void **state)
{
    struct harness *h = *state;
    e1000__tick(h->e, 1000000);
    wr(h, E1000_ITR, 100); /* 25.6 us */
    wr(h, E1000_IMS, E1000_ICR_TXDW);
    wr(h, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(h->level, 1);
    rd(h, E1000_ICR);
    assert_int_equal(h->level, 0);
    wr(h, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(h->level, 0); /* too soon */
    e1000__tick(h->e, 1000000 + 25599);
    assert_int_equal(h->level, 0);
    e1000__tick(h->e, 1000000 + 25600);
    assert_int_equal(h->level, 1);
    assert_int_equal(h->raises, 2);
    /* ITR 0: immediate */
    rd(h, E1000_ICR);
    wr(h, E1000_ITR, 0);
    wr(h, E1000_ICS, E1000_ICR_TXDW);
    assert_int_equal(h->level, 1);
}

static void test_stats_read_to_clear(void **state)
{
    struct harness *h = *state;
    uint8_t f[100];
    h_make_frame(f, sizeof f, NULL, 1);
    /* receiver off: missed */
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(e1000__rx_frame(h->e, f, sizeof f), -ENOSPC);
    assert_int_equal(rd(h, E1000_MPC), 2);
    assert_int_equal(rd(h, E1000_MPC), 0);
    assert_int_equal(rd(h, E1000_TPR), 2);
    assert_int_equal(rd(h, E1000_TPR), 0);
    assert_int_equal(rd(h, E1000_TORL), 2 * 104);
    assert_int_equal(rd(h, E1000_TORH), 0); /* reading H clears both */
    assert_int_equal(rd(h, E1000_TORL), 0);
    /* writes to statistics are ignored */
    wr(h, E1000_GPRC, 55);
    assert_int_equal(rd(h, E1000_GPRC), 0);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.rx_missed, 2); /* model counters do not clear */
}

static void test_access_widths_and_io_bar(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_MTA, 0x11223344);
    assert_int_equal(h->w.ops->read(h->e, E1000_MTA + 1, 1), 0x33);
    assert_int_equal(h->w.ops->read(h->e, E1000_MTA + 2, 2), 0x1122);
    assert_int_equal(h->w.ops->read(h->e, E1000_MTA + 1, 4), 0); /* unaligned */
    h->w.ops->write(h->e, E1000_MTA, 1, 0xFF); /* narrow write ignored */
    assert_int_equal(rd(h, E1000_MTA), 0x11223344);
    mmio__write64(&h->w, E1000_RDBAL, 0x0000000123456780ull);
    assert_int_equal(rd(h, E1000_RDBAH), 1);
    assert_int_equal(mmio__read64(&h->w, E1000_RDBAL), 0x0000000123456780ull);
    assert_int_equal(h->w.ops->read(h->e, E1000_MMIO_SIZE - 2, 4), 0);
    assert_int_equal(h->w.ops->read(h->e, UINT64_MAX - 1, 4), 0);
    /* I/O BAR */
    e1000_io_ops.write(h->e, E1000_IOADDR, 4, E1000_MTA + 4);
    e1000_io_ops.write(h->e, E1000_IODATA, 4, 0xCAFEF00D);
    assert_int_equal(rd(h, E1000_MTA + 4), 0xCAFEF00D);
    assert_int_equal(e1000_io_ops.read(h->e, E1000_IODATA, 4), 0xCAFEF00D);
    assert_int_equal(e1000_io_ops.read(h->e, E1000_IOADDR, 4), E1000_MTA + 4);
    e1000_io_ops.write(h->e, E1000_IOADDR, 4, 0xFFFFFFFF); /* wrapped into the BAR */
    assert_true(e1000_io_ops.read(h->e, E1000_IOADDR, 4) < E1000_MMIO_SIZE);
}

struct bell {
    unsigned n;
    uint32_t last;
};

static void doorbell(void *ctx, uint32_t off)
{
    struct bell *b = ctx;
    b->n++;
    b->last = off;
}

static void test_doorbell(void **state)
{
    struct harness *h = *state;
    struct bell b = {0, 0};
    e1000__set_doorbell(h->e, doorbell, &b);
    wr(h, E1000_TDT, 3);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.last, E1000_TDT);
    wr(h, E1000_RDT, 1);
    assert_int_equal(b.last, E1000_RDT);
    wr(h, E1000_TDH, 0);
    assert_int_equal(b.n, 2);
    e1000__set_doorbell(h->e, NULL, NULL);
}

/* An interrupt handler that reads ICR from inside the sink, as an
 * emulator delivering synchronously would: no deadlock, and the sink sees
 * the line rise and then fall. */
struct reenter {
    struct e1000 *e;
    uint32_t icr_seen;
    int levels[8];
    unsigned n;
};

static void reenter_intx(void *ctx, int level)
{
    struct reenter *r = ctx;
    if (r->n < 8)
        r->levels[r->n++] = level;
    if (level)
        r->icr_seen = (uint32_t)e1000_mmio_ops.read(r->e, E1000_ICR, 4);
}

/* A model whose irq sink is fn(r): no DMA is ever made (no rings). */
static void *reenter_model(struct reenter *r, void (*fn)(void *, int))
{
    void *regs = NULL;
    static uint8_t mem[64];
    static struct harness dummy;
    static struct dma_port dma;
    static struct irq_sink sink;
    assert_int_equal(posix_memalign(&regs, 4096, E1000_MMIO_SIZE), 0);
    dummy = (struct harness){.mem = mem};
    dma = (struct dma_port){.ops = &h_dma_ops, .ctx = &dummy};
    sink = (struct irq_sink){.intx = fn, .ctx = r};
    r->e = e1000__create(regs, &dma, &sink, h_mac, NULL, NULL);
    assert_non_null(r->e);
    return regs;
}

static void test_irq_sink_may_reenter(void **state)
{
    (void)state;
    struct reenter r = {0};
    void *regs = reenter_model(&r, reenter_intx);
    e1000_mmio_ops.write(r.e, E1000_IMS, 4, E1000_ICR_RXT0);
    e1000_mmio_ops.write(r.e, E1000_ICS, 4, E1000_ICR_RXT0);
    assert_int_equal(r.icr_seen, E1000_ICR_RXT0 | E1000_ICR_INT_ASSERTED);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.levels[0], 1);
    assert_int_equal(r.levels[1], 0);
    assert_int_equal(e1000__irq_level(r.e), 0);
    e1000__destroy(r.e);
    free(regs);
}

/* The line falls and rises again while another thread delivers (here: the
 * sink itself reads ICR and a new cause arrives before the delivery ends):
 * the sink must see the fall and the new rise.  An MSI is sent per rising
 * edge, so a collapsed 1 -> 0 -> 1 is a lost interrupt, and a driver that
 * is never interrupted never reads ICR again: the line stays high for good. */
static void pulse_intx(void *ctx, int level)
{
    struct reenter *r = ctx;
    if (r->n < 8)
        r->levels[r->n++] = level;
    if (level && r->n == 1) {
        r->icr_seen = (uint32_t)e1000_mmio_ops.read(r->e, E1000_ICR, 4); /* falls */
        e1000_mmio_ops.write(r->e, E1000_ICS, 4, E1000_ICR_TXDW);        /* rises */
    }
}

static void test_irq_fall_and_rise_during_delivery(void **state)
{
    (void)state;
    struct reenter r = {0};
    void *regs = reenter_model(&r, pulse_intx);
    e1000_mmio_ops.write(r.e, E1000_IMS, 4, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    e1000_mmio_ops.write(r.e, E1000_ICS, 4, E1000_ICR_RXT0);
    assert_int_equal(r.icr_seen, E1000_ICR_RXT0 | E1000_ICR_INT_ASSERTED);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.levels[0], 1);
    assert_int_equal(r.levels[1], 0); /* the ICR read */
    assert_int_equal(r.levels[2], 1); /* the new cause: a second edge */
    assert_int_equal(e1000__irq_level(r.e), 1);
    /* A pulse that ends low (a cause raised and read before delivery) is
     * no interrupt: nothing more is delivered for it. */
    e1000_mmio_ops.read(r.e, E1000_ICR, 4);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.levels[3], 0);
    e1000__destroy(r.e);
    free(regs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_write_masks_and_ctrl_rst, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_link_follows_slu, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_eeprom_eerd, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_eeprom_bitbang, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_mdic_phy, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icr_ics_ims_imc, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_itr_throttles, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_stats_read_to_clear, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_access_widths_and_io_bar, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_doorbell, setup, h_teardown),
        cmocka_unit_test(test_irq_sink_may_reenter),
        cmocka_unit_test(test_irq_fall_and_rise_during_delivery),
    };
    return cmocka_run_group_tests_name("e1000_regs", tests, NULL, NULL);
}
