#include "hw/mc146818_rtc.h"

#include <string.h>

#include "hw/mc146818_regs.h"

static time_t rtc__host_time(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

void mc146818__init(struct mc146818 *r, rtc_clock_fn clock, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->clock = clock ? clock : rtc__host_time;
    r->clock_ctx = ctx;
    r->reg_a = RTC_A_DV_32K | RTC_A_RS_1024HZ;
    r->reg_b = RTC_B_24H; /* BCD, 24-hour: what PC firmware leaves */
    r->snapshot = r->clock(r->clock_ctx);
}

static uint8_t rtc__encode(const struct mc146818 *r, unsigned v)
{
    v %= 100;
    return (uint8_t)(r->reg_b & RTC_B_DM_BINARY ? v : (v / 10) << 4 | v % 10);
}

/* UTC calendar fields of a Unix time, computed here rather than with
 * gmtime_r: glibc's first gmtime_r reads the time-zone files (an openat),
 * which a confined VMM may no longer do once the guest runs.  Days to
 * civil date after H. Hinnant's "chrono-compatible low-level date
 * algorithms" (proleptic Gregorian calendar). */
struct rtc_civil {
    unsigned sec, min, hour, wday, mday, mon, year; /* mon 1..12, wday 0 = Sunday */
};

static struct rtc_civil rtc__civil(int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    struct rtc_civil c = {.sec = (unsigned)(secs % 60), .min = (unsigned)(secs / 60 % 60),
                          .hour = (unsigned)(secs / 3600)};
    c.wday = (unsigned)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    c.mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    c.mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    c.year = (unsigned)(yoe + era * 400 + (c.mon <= 2));
    return c;
}

static uint8_t rtc__time_reg(const struct mc146818 *r, unsigned reg)
{
    struct rtc_civil tm = rtc__civil((int64_t)r->snapshot);
    switch (reg) {
    case RTC_SECONDS: return rtc__encode(r, tm.sec); /* no leap second */
    case RTC_MINUTES: return rtc__encode(r, tm.min);
    case RTC_HOURS: {
        unsigned h = tm.hour;
        if (r->reg_b & RTC_B_24H)
            return rtc__encode(r, h);
        unsigned h12 = h % 12 ? h % 12 : 12;
        return (uint8_t)(rtc__encode(r, h12) | (h >= 12 ? 0x80 : 0));
    }
    case RTC_DAY_OF_WEEK: return rtc__encode(r, tm.wday + 1);
    case RTC_DAY_OF_MONTH: return rtc__encode(r, tm.mday);
    case RTC_MONTH: return rtc__encode(r, tm.mon);
    default: return rtc__encode(r, tm.year % 100); /* RTC_YEAR */
    }
}

static uint8_t rtc__read(struct mc146818 *r)
{
    unsigned reg = r->index;
    switch (reg) {
    case RTC_SECONDS:
        /* a fresh reading starts at the seconds (and at register A, which
         * a reader polls first): the other fields come from the same
         * instant, so a read across a second boundary stays consistent */
        r->snapshot = r->clock(r->clock_ctx);
        return rtc__time_reg(r, reg);
    case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK: case RTC_DAY_OF_MONTH:
    case RTC_MONTH: case RTC_YEAR:
        return rtc__time_reg(r, reg);
    case RTC_REG_A:
        r->snapshot = r->clock(r->clock_ctx);
        return r->reg_a; /* UIP never set */
    case RTC_REG_B: return r->reg_b;
    case RTC_REG_C: return 0;         /* no interrupt flags, ever */
    case RTC_REG_D: return RTC_D_VRT;
    default: return r->ram[reg];      /* alarms and general-purpose RAM */
    }
}

static void rtc__write(struct mc146818 *r, uint8_t v)
{
    unsigned reg = r->index;
    switch (reg) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR:
        break;                        /* the host's clock is the time */
    case RTC_REG_A: r->reg_a = (uint8_t)(v & ~RTC_A_UIP); break;
    case RTC_REG_B: r->reg_b = v; break;
    case RTC_REG_C: case RTC_REG_D: break; /* read-only */
    default: r->ram[reg] = v; break;
    }
}

void mc146818__pio(struct mc146818 *r, unsigned off, unsigned size, bool is_write, uint32_t *val)
{
    if (size != 1 || off > RTC_PORT_DATA) {
        if (!is_write)
            *val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        return;
    }
    if (off == RTC_PORT_INDEX) {
        if (is_write)
            r->index = (uint8_t)(*val & RTC_INDEX_MASK); /* NMI mask bit ignored */
        else
            *val = 0xFF; /* the index register is write-only */
        return;
    }
    if (is_write)
        rtc__write(r, (uint8_t)*val);
    else
        *val = rtc__read(r);
}
