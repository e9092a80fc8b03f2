/* The PC's CMOS real-time clock (MC146818A) at ports 0x70/0x71: the time
 * of day read from the host's clock (UTC), never "update in progress", so
 * a guest that spins while register A's UIP is set (Linux at boot) reads
 * at once; register B's data mode (BCD or binary) and 12/24-hour bit are
 * honoured; register D reports valid RAM and time.  Not modelled: setting
 * the time (writes to the time registers are dropped; the host's clock is
 * the truth), alarms, the periodic/update interrupts (register C reads 0,
 * no IRQ 8) and the square-wave output.  The index's bit 7 (the PC's NMI
 * mask) is ignored.  Bounded: 128 bytes of state, no allocation. */
#ifndef IOVIRT_HW_MC146818_RTC_H
#define IOVIRT_HW_MC146818_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef time_t (*rtc_clock_fn)(void *ctx);

struct mc146818 {
    uint8_t index;
    uint8_t reg_a, reg_b;
    uint8_t ram[128];            /* alarms and 0x0E..0x7F */
    time_t snapshot;             /* the time the time registers show */
    rtc_clock_fn clock;
    void *clock_ctx;
};

/* clock NULL: time(NULL). */
void mc146818__init(struct mc146818 *r, rtc_clock_fn clock, void *ctx);
/* Port offset 0 (index, write) or 1 (data); byte accesses (others: reads
 * all-ones, writes ignored). */
void mc146818__pio(struct mc146818 *r, unsigned off, unsigned size, bool is_write, uint32_t *val);

#endif
