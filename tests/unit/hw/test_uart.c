/* hw/uart_16550: console lines, bounded line buffer, register behaviour
 * (TI PC16550D data sheet), the probes Linux's 8250 driver makes
 * (drivers/tty/serial/8250/8250_port.c: autoconfig, the THRE and TXEN
 * tests) and the THR-empty interrupt as a level, under hostile writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/uart_16550.h"
#include "hw/uart_16550_regs.h"

struct capture { char last[UART_LINE_MAX + 1]; int lines; };

static void on_line(void *ctx, const char *line, size_t len)
{
    struct capture *c = ctx;
    memcpy(c->last, line, len + 1);
    c->lines++;
}

static void put(struct uart_16550 *u, const char *s)
{
    for (; *s; s++) {
        uint32_t v = (uint8_t)*s;
        uart__pio(u, UART_THR, 1, true, &v);
    }
}

static void test_lines_are_delivered(void **state)
{
    (void)state;
    struct capture c = {0};
    struct uart_16550 u;
    uart__init(&u, on_line, &c);
    put(&u, "hello\r\nworld\x01\n");
    assert_int_equal(c.lines, 2);
    assert_string_equal(c.last, "world.");
    uint32_t lsr;
    uart__pio(&u, UART_LSR, 1, false, &lsr);
    assert_true(lsr & UART_LSR_THRE);
}

static void test_long_line_is_cut_not_grown(void **state)
{
    (void)state;
    struct capture c = {0};
    struct uart_16550 u;
    uart__init(&u, on_line, &c);
    for (int i = 0; i < 3 * UART_LINE_MAX; i++)
        put(&u, "x");
    assert_int_equal(c.lines, 3);
    assert_int_equal(strlen(c.last), UART_LINE_MAX);
}

static void test_divisor_latch_does_not_print(void **state)
{
    (void)state;
    struct capture c = {0};
    struct uart_16550 u;
    uart__init(&u, on_line, &c);
    uint32_t v = UART_LCR_DLAB;
    uart__pio(&u, UART_LCR, 1, true, &v);
    v = 1;
    uart__pio(&u, UART_DLL, 1, true, &v);
    v = '\n';
    uart__pio(&u, UART_THR, 1, true, &v); /* goes to DLL, not the console */
    assert_int_equal(c.lines, 0);
    uart__pio(&u, UART_DLL, 1, false, &v);
    assert_int_equal(v, '\n');
    uart__pio(&u, UART_LSR, 4, false, &v); /* wrong size */
    assert_int_equal(v, 0xFFFFFFFF);
}

static uint8_t rd(struct uart_16550 *u, unsigned reg)
{
    uint32_t v = 0xDEAD;
    uart__pio(u, reg, 1, false, &v);
    assert_true(v <= 0xFF);
    return (uint8_t)v;
}

static void wr(struct uart_16550 *u, unsigned reg, uint8_t b)
{
    uint32_t v = b;
    uart__pio(u, reg, 1, true, &v);
}

struct irq_rec {
    int level;
    unsigned changes;
};

static void on_irq(void *ctx, int level)
{
    struct irq_rec *r = ctx;
    assert_true(level != r->level); /* only changes are reported */
    r->level = level;
    r->changes++;
}

/* autoconfig(): the IER existence test, the FIFO type from IIR bits 7:6
 * after FCR = 1 (3: 16550A), no EFR (the register reads back IIR, never
 * 0), not a 16750 (IIR bit 5), not an XScale (IER bit 6), the loopback
 * MSR test (MCR = LOOP | OUT2 | RTS -> MSR lines DCD | CTS). */
static void test_linux_autoconfig_finds_16550a(void **state)
{
    (void)state;
    struct uart_16550 u;
    uart__init(&u, NULL, NULL);
    wr(&u, UART_IER, 0);
    assert_int_equal(rd(&u, UART_IER) & 0x0F, 0);
    wr(&u, UART_IER, 0x0F);
    assert_int_equal(rd(&u, UART_IER) & 0x0F, 0x0F);
    wr(&u, UART_IER, 0);

    wr(&u, UART_MCR, UART_MCR_LOOP | 0x0A);
    assert_int_equal(rd(&u, UART_MSR) & 0xF0, UART_MSR_DCD | UART_MSR_CTS);
    wr(&u, UART_MCR, 0);
    assert_int_equal(rd(&u, UART_MSR) & 0xF0, UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);

    wr(&u, UART_LCR, 0xBF);
    wr(&u, UART_FCR, 0);           /* "EFR" = 0: an FCR write on a 16550 */
    wr(&u, UART_LCR, 0);
    wr(&u, UART_FCR, UART_FCR_FIFO_EN);
    assert_int_equal(rd(&u, UART_IIR) >> 6, 3); /* 16550A */
    wr(&u, UART_LCR, 0x80);
    assert_true(rd(&u, UART_IIR) != 0);     /* no ST16C650V1 EFR */
    wr(&u, UART_LCR, 0xBF);
    assert_true(rd(&u, UART_IIR) != 0);     /* no 16650 EFR */
    wr(&u, UART_LCR, 0xE0);
    assert_int_equal(rd(&u, UART_IIR) & UART_MCR_LOOP, 0); /* not an NS SuperIO */
    wr(&u, UART_LCR, 0);
    wr(&u, UART_FCR, UART_FCR_FIFO_EN | 0x20); /* 64-byte FIFO request */
    assert_int_equal(rd(&u, UART_IIR) & 0xE0, 0xC0);   /* not a 16750 */
    wr(&u, UART_IER, 0x40);
    assert_int_equal(rd(&u, UART_IER) & 0x40, 0);      /* not an XScale */
    wr(&u, UART_IER, 0);
    assert_int_equal(rd(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(rd(&u, UART_RBR), 0);
}

/* serial8250_do_startup(): THRI enabled with THR empty raises THRE at once
 * (else UART_BUG_TXEN); cleared by the IIR read; re-raised when THRI is
 * enabled again (else UART_BUG_THRE and a timer instead of the interrupt). */
static void test_linux_thre_tests(void **state)
{
    (void)state;
    struct uart_16550 u;
    struct irq_rec r = {0};
    uart__init(&u, NULL, NULL);
    uart__set_irq(&u, on_irq, &r);
    wr(&u, UART_IER, UART_IER_ETBEI);
    assert_int_equal(r.level, 1);
    uint8_t iir1 = rd(&u, UART_IIR);
    assert_int_equal(iir1, UART_IIR_THRE);
    assert_int_equal(r.level, 0);
    wr(&u, UART_IER, 0);
    wr(&u, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(&u, UART_IIR), UART_IIR_THRE); /* reasserted */
    assert_int_equal(rd(&u, UART_IIR), UART_IIR_NO_INT); /* and cleared by the read */
    /* ETBEI written again while set does not re-raise (no 0 -> 1 change) */
    wr(&u, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(&u, UART_IIR), UART_IIR_NO_INT);
    wr(&u, UART_IER, 0);
    assert_int_equal(r.level, 0);
    assert_int_equal(r.changes, 4);
}

/* The interrupt-driven transmit loop of serial8250_handle_irq(): IIR says
 * THRE (drops the line), up to 16 THR writes (raise it again: one new
 * edge per pass, not one per byte), until the driver clears ETBEI. */
static void test_thre_interrupt_driven_output(void **state)
{
    (void)state;
    struct capture c = {0};
    struct uart_16550 u;
    struct irq_rec r = {0};
    uart__init(&u, on_line, &c);
    uart__set_irq(&u, on_irq, &r);
    wr(&u, UART_FCR, UART_FCR_FIFO_EN | UART_FCR_RX_RESET | UART_FCR_TX_RESET);
    wr(&u, UART_IER, UART_IER_ETBEI);
    const char *msg = "interrupt driven output of a line longer than sixteen\n";
    size_t n = strlen(msg), sent = 0;
    unsigned passes = 0;
    while (r.level && passes < 100) {
        passes++;
        assert_int_equal(rd(&u, UART_IIR), UART_IIR_FIFOS | UART_IIR_THRE);
        assert_int_equal(r.level, 0);
        assert_true(rd(&u, UART_LSR) & UART_LSR_THRE);
        if (sent == n) {
            wr(&u, UART_IER, 0); /* __stop_tx */
            break;
        }
        for (int i = 0; i < 16 && sent < n; i++)
            wr(&u, UART_THR, (uint8_t)msg[sent++]);
        assert_int_equal(r.level, 1);
    }
    assert_int_equal(sent, n);
    assert_int_equal(passes, (n + 15) / 16 + 1);
    assert_int_equal(c.lines, 1);
    assert_string_equal(c.last, "interrupt driven output of a line longer than sixteen");
    assert_int_equal(r.level, 0);
    assert_int_equal(rd(&u, UART_IIR), UART_IIR_FIFOS | UART_IIR_NO_INT);
    assert_int_equal(r.changes, 2 * passes);
}

/* Every register written with 0, all-ones and garbage, in both DLAB
 * states and at every width: reserved bits stay 0, the status registers
 * stay sane, the interrupt output is consistent with IIR, no byte of the
 * loopback reaches the console, and the line buffer stays bounded. */
static void test_hostile_writes(void **state)
{
    (void)state;
    struct capture c = {0};
    struct uart_16550 u;
    struct irq_rec r = {0};
    uart__init(&u, on_line, &c);
    uart__set_irq(&u, on_irq, &r);
    static const uint8_t vals[] = {0x00, 0xFF, 0x80, 0x7F, 0x5A, 0xA5, 0x10, 0xEF};
    uint32_t seed = 12345;
    for (unsigned round = 0; round < 4000; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned reg = (seed >> 8) % 10;      /* 8, 9: beyond the block */
        unsigned size = 1u << ((seed >> 12) % 3);
        uint32_t v = round < 160 ? vals[round % 8] : seed >> 16;
        if ((seed >> 20) & 1) {
            uart__pio(&u, reg, size, true, &v);
        } else {
            uart__pio(&u, reg, size, false, &v);
            if (size != 1 || reg >= 8)
                assert_int_equal(v, size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
        }
        uint8_t lcr = rd(&u, UART_LCR);
        wr(&u, UART_LCR, lcr & 0x7F);
        assert_int_equal(rd(&u, UART_IER) & 0xF0, 0);
        assert_int_equal(rd(&u, UART_MCR) & 0xE0, 0);
        assert_int_equal(rd(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
        assert_int_equal(rd(&u, UART_RBR), 0);
        assert_int_equal(rd(&u, UART_MSR) & 0x0F, 0);
        /* the line is high exactly when IIR reports an interrupt */
        bool pending = !(u.ier & UART_IER_ETBEI) ? false : u.thre_pending;
        assert_int_equal(r.level, pending);
        uint8_t iir = rd(&u, UART_IIR);
        assert_int_equal(iir & 0x30, 0);
        assert_true((iir & 0x0F) == UART_IIR_NO_INT || (iir & 0x0F) == UART_IIR_THRE);
        assert_int_equal(r.level, 0); /* that read reset it */
        wr(&u, UART_LCR, lcr);
        assert_true(u.len <= UART_LINE_MAX);
    }
    /* loopback: the byte goes nowhere */
    wr(&u, UART_LCR, 0);
    uart__flush(&u);
    int lines = c.lines;
    wr(&u, UART_MCR, UART_MCR_LOOP);
    put(&u, "looped\n");
    assert_int_equal(c.lines, lines);
    wr(&u, UART_MCR, 0);
    put(&u, "out\n");
    assert_int_equal(c.lines, lines + 1);
    assert_string_equal(c.last, "out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_delivered),
        cmocka_unit_test(test_long_line_is_cut_not_grown),
        cmocka_unit_test(test_divisor_latch_does_not_print),
        cmocka_unit_test(test_linux_autoconfig_finds_16550a),
        cmocka_unit_test(test_linux_thre_tests),
        cmocka_unit_test(test_thre_interrupt_driven_output),
        cmocka_unit_test(test_hostile_writes),
    };
    return cmocka_run_group_tests_name("hw/uart_16550", tests, NULL, NULL);
}
