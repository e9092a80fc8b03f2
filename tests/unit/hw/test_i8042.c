/* hw/i8042: the keyboard controller at 0x60/0x64 and port 0x92.  Linux's
 * probe (drivers/input/serio/i8042.c: flush, self test, command byte read
 * twice and written, the AUX checks, the keyboard port) gets every answer
 * at once; atkbd's GETID gets ACK AB 83 with one IRQ 1 edge per byte; the
 * reset lines (0xFE and the other pulses with bit 0 clear, the output
 * port's bit 0, port 0x92 bit 0) call the owner and nothing else does;
 * hostile writes keep the output buffer bounded and the status sane. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/i8042.h"
#include "hw/i8042_regs.h"

struct rec {
    unsigned resets, rises, falls;
    const char *how;
    int level;
};

static void on_reset(void *ctx, const char *how)
{
    struct rec *r = ctx;
    r->resets++;
    r->how = how;
}

static void on_irq(void *ctx, int level)
{
    struct rec *r = ctx;
    assert_true(level != r->level);
    r->level = level;
    if (level)
        r->rises++;
    else
        r->falls++;
}

static uint8_t status(struct i8042 *k)
{
    uint32_t v = 0xDEAD;
    i8042__pio(k, I8042_CMD_OFF, 1, false, &v);
    assert_true(v <= 0xFF);
    return (uint8_t)v;
}

static uint8_t data(struct i8042 *k)
{
    uint32_t v = 0xDEAD;
    i8042__pio(k, I8042_DATA_OFF, 1, false, &v);
    assert_true(v <= 0xFF);
    return (uint8_t)v;
}

static void cmd(struct i8042 *k, uint8_t c)
{
    assert_int_equal(status(k) & I8042_STR_IBF, 0); /* i8042_wait_write: never waits */
    uint32_t v = c;
    i8042__pio(k, I8042_CMD_OFF, 1, true, &v);
}

static void put(struct i8042 *k, uint8_t b)
{
    assert_int_equal(status(k) & I8042_STR_IBF, 0);
    uint32_t v = b;
    i8042__pio(k, I8042_DATA_OFF, 1, true, &v);
}

/* i8042_wait_read then read: the byte must already be there. */
static uint8_t reply(struct i8042 *k)
{
    assert_true(status(k) & I8042_STR_OBF);
    return data(k);
}

static void test_linux_probe(void **state)
{
    (void)state;
    struct rec r = {0};
    struct i8042 k;
    i8042__init(&k, on_reset, on_irq, &r);
    assert_int_equal(status(&k) & I8042_STR_OBF, 0);         /* i8042_flush: nothing */
    cmd(&k, I8042_CMD_CTL_TEST);
    assert_int_equal(reply(&k), I8042_RET_CTL_TEST);
    cmd(&k, I8042_CMD_CTL_RCTR);
    uint8_t ctr = reply(&k);
    cmd(&k, I8042_CMD_CTL_RCTR);
    assert_int_equal(reply(&k), ctr);                          /* a stable CTR */
    assert_true(ctr & I8042_CTR_XLATE);                        /* translated: atkbd skips set probing */
    ctr = (uint8_t)((ctr | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT);
    cmd(&k, I8042_CMD_CTL_WCTR);
    put(&k, ctr);
    unsigned rises = r.rises;
    cmd(&k, I8042_CMD_CTL_RCTR);
    assert_int_equal(reply(&k), ctr);
    assert_int_equal(r.rises, rises);                          /* KBDINT off: no IRQ 1 */
    /* i8042_check_aux: the loop answers without AUXDATA (auxerr), the
     * AUX test reports a stuck line: no AUX port, at once */
    cmd(&k, I8042_CMD_AUX_LOOP);
    put(&k, 0x5A);
    assert_int_equal(status(&k) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
    (void)data(&k);
    cmd(&k, I8042_CMD_AUX_TEST);
    uint8_t t = reply(&k);
    assert_true(t && t != 0xFA && t != 0xFF);
    /* the keyboard port: enabled with its interrupt, atkbd's GETID */
    ctr = (uint8_t)((ctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT);
    cmd(&k, I8042_CMD_CTL_WCTR);
    put(&k, ctr);
    /* (the replies above raised IRQ 1 while firmware's KBDINT was still on) */
    unsigned rises0 = r.rises;
    assert_int_equal(r.level, 0);
    put(&k, KBD_CMD_GETID);
    assert_int_equal(r.level, 1);
    static const uint8_t id[] = {KBD_REPLY_ACK, KBD_ID_0, KBD_ID_1};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(r.rises, rises0 + i + 1);             /* one edge per byte */
        assert_int_equal(status(&k) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
        assert_int_equal(data(&k), id[i]);
    }
    assert_int_equal(r.level, 0);
    assert_int_equal(status(&k) & I8042_STR_OBF, 0);
    /* commands with a parameter, reset, echo */
    put(&k, KBD_CMD_SETLEDS);
    assert_int_equal(data(&k), KBD_REPLY_ACK);
    put(&k, 0x07);
    assert_int_equal(data(&k), KBD_REPLY_ACK);
    put(&k, KBD_CMD_SCANSET);
    put(&k, 0);
    assert_int_equal(data(&k), KBD_REPLY_ACK);
    assert_int_equal(data(&k), KBD_REPLY_ACK);
    assert_int_equal(data(&k), 2);
    put(&k, KBD_CMD_RESET);
    assert_int_equal(data(&k), KBD_REPLY_ACK);
    assert_int_equal(data(&k), KBD_REPLY_BAT_OK);
    put(&k, KBD_CMD_ECHO);
    assert_int_equal(data(&k), KBD_CMD_ECHO);
    assert_int_equal(data(&k), KBD_CMD_ECHO);                  /* empty: the last byte again */
    assert_int_equal(status(&k) & I8042_STR_OBF, 0);
    assert_int_equal(r.resets, 0);
    assert_int_equal(r.level, 0);
}

static void test_reset_lines(void **state)
{
    (void)state;
    struct rec r = {0};
    struct i8042 k;
    i8042__init(&k, on_reset, on_irq, &r);
    /* Linux's reboot=k: kb_wait (IBF clear at once), then 0xFE */
    cmd(&k, I8042_CMD_SYSTEM_RESET);
    assert_int_equal(r.resets, 1);
    assert_string_equal(r.how, "i8042");
    unsigned n = 1;
    for (unsigned c = 0xF0; c <= 0xFF; c++) {
        cmd(&k, (uint8_t)c);
        n += !(c & 1);
        assert_int_equal(r.resets, n);                         /* bit 0 clear pulses reset */
    }
    cmd(&k, I8042_CMD_WRITE_OUTP);
    put(&k, I8042_OUTP_A20 | I8042_OUTP_RESET);
    assert_int_equal(r.resets, n);
    cmd(&k, I8042_CMD_READ_OUTP);
    assert_int_equal(data(&k), I8042_OUTP_A20 | I8042_OUTP_RESET);
    cmd(&k, I8042_CMD_WRITE_OUTP);
    put(&k, I8042_OUTP_A20);
    assert_int_equal(r.resets, n + 1);
    /* port 0x92: A20 alone is no reset, bit 0 is */
    uint32_t v = SYSCTL_A_A20;
    i8042__sysctl_pio(&k, 1, true, &v);
    assert_int_equal(r.resets, n + 1);
    i8042__sysctl_pio(&k, 1, false, &v);
    assert_int_equal(v, SYSCTL_A_A20);
    v = SYSCTL_A_FAST_RESET;
    i8042__sysctl_pio(&k, 1, true, &v);
    assert_int_equal(r.resets, n + 2);
    assert_string_equal(r.how, "port 0x92");
    v = 0xFF;
    i8042__sysctl_pio(&k, 2, true, &v);                        /* wrong width: ignored */
    assert_int_equal(r.resets, n + 2);
    i8042__sysctl_pio(&k, 4, false, &v);
    assert_int_equal(v, 0xFFFFFFFFu);
}

/* Garbage on both ports (reset values excluded): the queue stays within
 * I8042_QUEUE, IBF/timeout/parity never show, IRQ 1 is high exactly when a
 * byte waits with KBDINT set; a flood of reads ends empty. */
static void test_hostile_writes(void **state)
{
    (void)state;
    struct rec r = {0};
    struct i8042 k;
    i8042__init(&k, on_reset, on_irq, &r);
    uint32_t seed = 99;
    for (unsigned n = 0; n < 20000; n++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t v = seed >> 16;
        unsigned off = (seed >> 5) % 6, size = 1u << (seed >> 28) % 3;
        bool wr = (seed >> 9) & 1;
        if (wr && off == I8042_CMD_OFF && size == 1 && ((v & 0xF0) == 0xF0 || (v & 0xFF) == 0xD1))
            continue;                                          /* the reset lines: above */
        if (wr && off == I8042_DATA_OFF && k.pending == I8042_CMD_WRITE_OUTP)
            v |= I8042_OUTP_RESET;
        i8042__pio(&k, off, size, wr, &v);
        if (!wr && (size != 1 || (off != 0 && off != 4)))
            assert_int_equal(v, size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
        assert_true(k.out_n <= I8042_QUEUE);
        uint8_t s = status(&k);
        assert_int_equal(s & (I8042_STR_IBF | I8042_STR_TIMEOUT | I8042_STR_PARITY | I8042_STR_AUXDATA), 0);
        assert_int_equal(r.level, k.out_n && (k.ctr & I8042_CTR_KBDINT));
    }
    assert_int_equal(r.resets, 0);
    for (unsigned i = 0; i < 2 * I8042_QUEUE && (status(&k) & I8042_STR_OBF); i++)
        (void)data(&k);
    assert_int_equal(status(&k) & I8042_STR_OBF, 0);
    assert_int_equal(r.level, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_probe),
        cmocka_unit_test(test_reset_lines),
        cmocka_unit_test(test_hostile_writes),
    };
    return cmocka_run_group_tests_name("hw/i8042", tests, NULL, NULL);
}
