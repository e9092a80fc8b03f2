/* hw/mc146818_rtc: the CMOS clock at 0x70/0x71 (MC146818A data sheet).
 * The time registers show the host clock's UTC time in BCD (or binary, as
 * register B asks), 24- or 12-hour; register A never shows "update in
 * progress" (Linux spins on it at boot); D says the time is valid; one
 * reading is one instant even across a second boundary; the index's NMI
 * bit is ignored; time writes are dropped, RAM keeps its bytes; hostile
 * indexes and widths stay inside 128 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hw/mc146818_regs.h"
#include "hw/mc146818_rtc.h"

static time_t now;
static time_t fake_clock(void *ctx)
{
    (void)ctx;
    return now;
}

static time_t utc(int y, int mon, int d, int h, int m, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = m, .tm_sec = s};
    return timegm(&tm);
}

static uint8_t cmos(struct mc146818 *r, uint8_t index)
{
    uint32_t v = index;
    mc146818__pio(r, RTC_PORT_INDEX, 1, true, &v);
    v = 0xDEAD;
    mc146818__pio(r, RTC_PORT_DATA, 1, false, &v);
    assert_true(v <= 0xFF);
    return (uint8_t)v;
}

static void cmos_wr(struct mc146818 *r, uint8_t index, uint8_t val)
{
    uint32_t v = index;
    mc146818__pio(r, RTC_PORT_INDEX, 1, true, &v);
    v = val;
    mc146818__pio(r, RTC_PORT_DATA, 1, true, &v);
}

static void test_bcd_time_and_status(void **state)
{
    (void)state;
    struct mc146818 r;
    now = utc(2026, 12, 6, 17, 42, 3); /* a Sunday */
    mc146818__init(&r, fake_clock, NULL);
    assert_int_equal(cmos(&r, RTC_REG_A) & RTC_A_UIP, 0);
    assert_int_equal(cmos(&r, RTC_REG_A), 0x26);
    assert_int_equal(cmos(&r, RTC_REG_B), RTC_B_24H);
    assert_int_equal(cmos(&r, RTC_REG_C), 0);
    assert_int_equal(cmos(&r, RTC_REG_D), RTC_D_VRT);
    assert_int_equal(cmos(&r, RTC_SECONDS), 0x03);
    assert_int_equal(cmos(&r, RTC_MINUTES), 0x42);
    assert_int_equal(cmos(&r, RTC_HOURS), 0x17);
    assert_int_equal(cmos(&r, RTC_DAY_OF_WEEK), 0x01);
    assert_int_equal(cmos(&r, RTC_DAY_OF_MONTH), 0x06);
    assert_int_equal(cmos(&r, RTC_MONTH), 0x12);
    assert_int_equal(cmos(&r, RTC_YEAR), 0x26);
    /* NMI mask bit of the index write: ignored */
    assert_int_equal(cmos(&r, RTC_INDEX_NMI_DIS | RTC_MINUTES), 0x42);
    assert_int_equal(cmos(&r, RTC_INDEX_NMI_DIS | RTC_REG_D), RTC_D_VRT);
    /* the index port reads all-ones (write-only) */
    uint32_t v = 0;
    mc146818__pio(&r, RTC_PORT_INDEX, 1, false, &v);
    assert_int_equal(v, 0xFF);
}

static void test_binary_and_12_hour(void **state)
{
    (void)state;
    struct mc146818 r;
    now = utc(2000, 1, 1, 0, 5, 59); /* a Saturday, just after midnight */
    mc146818__init(&r, fake_clock, NULL);
    assert_int_equal(cmos(&r, RTC_YEAR), 0x00);
    assert_int_equal(cmos(&r, RTC_DAY_OF_WEEK), 7);
    cmos_wr(&r, RTC_REG_B, 0);                     /* BCD, 12-hour */
    assert_int_equal(cmos(&r, RTC_HOURS), 0x12);   /* 12 AM */
    now = utc(2099, 7, 31, 23, 59, 58);
    assert_int_equal(cmos(&r, RTC_SECONDS), 0x58);
    assert_int_equal(cmos(&r, RTC_HOURS), 0x80 | 0x11); /* 11 PM */
    cmos_wr(&r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
    assert_int_equal(cmos(&r, RTC_SECONDS), 58);
    assert_int_equal(cmos(&r, RTC_HOURS), 23);
    assert_int_equal(cmos(&r, RTC_MONTH), 7);
    assert_int_equal(cmos(&r, RTC_YEAR), 99);
    cmos_wr(&r, RTC_REG_B, RTC_B_DM_BINARY);
    assert_int_equal(cmos(&r, RTC_HOURS), 0x80 | 11);
}

/* Linux's reading (mc146818_get_time): A until UIP is clear, seconds,
 * the rest, seconds again.  The clock ticks from 23:59:59 to 00:00:00 on
 * New Year in the middle: the fields read after the seconds are the
 * seconds' instant, and the second reading of the seconds differs, so the
 * reader knows to retry. */
static void test_one_reading_is_one_instant(void **state)
{
    (void)state;
    struct mc146818 r;
    now = utc(2026, 12, 31, 23, 59, 59);
    mc146818__init(&r, fake_clock, NULL);
    assert_int_equal(cmos(&r, RTC_REG_A) & RTC_A_UIP, 0);
    assert_int_equal(cmos(&r, RTC_SECONDS), 0x59);
    now++;
    assert_int_equal(cmos(&r, RTC_MINUTES), 0x59);
    assert_int_equal(cmos(&r, RTC_HOURS), 0x23);
    assert_int_equal(cmos(&r, RTC_DAY_OF_MONTH), 0x31);
    assert_int_equal(cmos(&r, RTC_MONTH), 0x12);
    assert_int_equal(cmos(&r, RTC_YEAR), 0x26);
    assert_int_equal(cmos(&r, RTC_SECONDS), 0x00);
    assert_int_equal(cmos(&r, RTC_MINUTES), 0x00);
    assert_int_equal(cmos(&r, RTC_YEAR), 0x27);
}

/* Writes: the time registers keep the host's time, UIP and C/D are
 * read-only, alarms and RAM keep their bytes; every index 0..255, every
 * value and width leaves the device sane. */
static void test_hostile_writes(void **state)
{
    (void)state;
    struct mc146818 r;
    now = utc(2026, 12, 6, 17, 42, 3);
    mc146818__init(&r, fake_clock, NULL);
    static const uint8_t time_regs[] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
                                        RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR};
    for (unsigned i = 0; i < sizeof time_regs; i++)
        cmos_wr(&r, time_regs[i], 0x99);
    assert_int_equal(cmos(&r, RTC_DAY_OF_WEEK), 0x01);
    assert_int_equal(cmos(&r, RTC_MONTH), 0x12);
    assert_int_equal(cmos(&r, RTC_SECONDS), 0x03);
    assert_int_equal(cmos(&r, RTC_HOURS), 0x17);
    assert_int_equal(cmos(&r, RTC_YEAR), 0x26);
    cmos_wr(&r, RTC_REG_A, 0xFF);
    assert_int_equal(cmos(&r, RTC_REG_A), 0x7F);  /* UIP stays clear */
    cmos_wr(&r, RTC_REG_C, 0xFF);
    cmos_wr(&r, RTC_REG_D, 0x00);
    assert_int_equal(cmos(&r, RTC_REG_C), 0);
    assert_int_equal(cmos(&r, RTC_REG_D), RTC_D_VRT);
    cmos_wr(&r, RTC_HOURS_ALARM, 0x42);
    assert_int_equal(cmos(&r, RTC_HOURS_ALARM), 0x42);
    for (unsigned i = RTC_RAM_FIRST; i < RTC_NR_REGS; i++)
        cmos_wr(&r, (uint8_t)i, (uint8_t)(i * 7));
    for (unsigned i = RTC_RAM_FIRST; i < RTC_NR_REGS; i++)
        assert_int_equal(cmos(&r, (uint8_t)i), (uint8_t)(i * 7));
    /* indexes 0x80..0xFF are 0x00..0x7F with the NMI bit: same bytes */
    for (unsigned i = 0x80 + RTC_RAM_FIRST; i < 0x100; i++)
        assert_int_equal(cmos(&r, (uint8_t)i), (uint8_t)((i & 0x7F) * 7));
    /* garbage everywhere, including register B: time fields stay in range */
    uint32_t seed = 7;
    for (unsigned n = 0; n < 5000; n++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t v = seed >> 8;
        unsigned size = 1u << (seed >> 28) % 3;
        mc146818__pio(&r, (seed >> 4) % 3, size, (seed >> 3) & 1, &v);
        if (!((seed >> 3) & 1) && (size != 1 || (seed >> 4) % 3 == 2))
            assert_int_equal(v, size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
        assert_true(r.index < RTC_NR_REGS);
        assert_int_equal(cmos(&r, RTC_REG_A) & RTC_A_UIP, 0);
        uint8_t b = cmos(&r, RTC_REG_B), s = cmos(&r, RTC_SECONDS);
        assert_true(b & RTC_B_DM_BINARY ? s < 60 : (s >> 4) < 6 && (s & 15) < 10);
        (void)cmos(&r, (uint8_t)(seed >> 12));
    }
}

/* The calendar is the model's own arithmetic (no gmtime_r: its first call
 * opens the time-zone files, which the confined VMM may not): every field
 * agrees with glibc's gmtime_r from 1970 to 2105, leap days and century
 * years included, stepping by an odd number of seconds so every
 * hour/minute/second and weekday is met. */
static void test_calendar_matches_gmtime(void **state)
{
    (void)state;
    struct mc146818 r;
    now = 0;
    mc146818__init(&r, fake_clock, NULL);
    cmos_wr(&r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
    static const time_t fixed[] = {0, 951782400 /* 2000-02-29 */, 951868799, 4107542400 /* 2100-03-01 */,
                                   4107456000 /* 2100-02-28 */, 2147483647, 2147483648};
    unsigned checked = 0;
    time_t t = 0;
    for (size_t i = 0; t < 4260211200 /* 2105 */; i++) {
        now = i < sizeof fixed / sizeof fixed[0] ? fixed[i] : (t += 86399 * 7 + 3607);
        struct tm tm;
        assert_non_null(gmtime_r(&now, &tm));
        assert_int_equal(cmos(&r, RTC_SECONDS), tm.tm_sec);
        assert_int_equal(cmos(&r, RTC_MINUTES), tm.tm_min);
        assert_int_equal(cmos(&r, RTC_HOURS), tm.tm_hour);
        assert_int_equal(cmos(&r, RTC_DAY_OF_WEEK), tm.tm_wday + 1);
        assert_int_equal(cmos(&r, RTC_DAY_OF_MONTH), tm.tm_mday);
        assert_int_equal(cmos(&r, RTC_MONTH), tm.tm_mon + 1);
        assert_int_equal(cmos(&r, RTC_YEAR), tm.tm_year % 100);
        checked++;
    }
    assert_true(checked > 7000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_time_and_status),
        cmocka_unit_test(test_binary_and_12_hour),
        cmocka_unit_test(test_one_reading_is_one_instant),
        cmocka_unit_test(test_hostile_writes),
        cmocka_unit_test(test_calendar_matches_gmtime),
    };
    return cmocka_run_group_tests_name("hw/mc146818_rtc", tests, NULL, NULL);
}
