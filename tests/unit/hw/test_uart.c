/* hw/uart_16550: console lines, bounded line buffer, register behaviour. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_delivered),
        cmocka_unit_test(test_long_line_is_cut_not_grown),
        cmocka_unit_test(test_divisor_latch_does_not_print),
    };
    return cmocka_run_group_tests_name("hw/uart_16550", tests, NULL, NULL);
}
