/* Time on the bare port: the TSC, its frequency measured against the HPET
 * (drivers/hpet/hpet_regs.h) over 10 ms, else from CPUID leaf 0x15 (TSC /
 * crystal ratio) or 0x16 (base MHz) (Intel SDM Vol. 2 CPUID). */
#include "guest/hal/bare/hal_bare.h"

#include "drivers/hpet/hpet_regs.h"

static struct {
    uint64_t tsc_hz;
    uint64_t ns_mult;                    /* ns = tsc * ns_mult >> 32 */
} hal_bare_time;

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint64_t hal_bare__tsc_from_hpet(void)
{
    uintptr_t h = (uintptr_t)hal__hpet_base();
    uint64_t cap = hal__mmio_read64(h + HPET_GCAP_ID);
    uint64_t period_fs = cap >> HPET_GCAP_COUNTER_CLK_PERIOD_SHIFT;
    if (period_fs == 0 || period_fs > HPET_MAX_CLK_PERIOD_FS)
        return 0;
    uint64_t conf = hal__mmio_read64(h + HPET_GEN_CONF);
    if (!(conf & HPET_GEN_CONF_ENABLE_CNF))
        hal__mmio_write64(h + HPET_GEN_CONF, conf | HPET_GEN_CONF_ENABLE_CNF);
    uint64_t hpet_hz = 1000000000000000ull / period_fs;
    uint64_t want = hpet_hz / 100;                         /* 10 ms */
    uint64_t c0 = hal__mmio_read64(h + HPET_MAIN_COUNTER), t0 = hal__rdtsc();
    uint64_t c1, t1;
    uint64_t guard = 0;
    do {
        c1 = hal__mmio_read64(h + HPET_MAIN_COUNTER);
        t1 = hal__rdtsc();
    } while (c1 - c0 < want && ++guard < 100000000ull);
    if (c1 == c0)
        return 0;                                          /* counter does not run */
    return (t1 - t0) * hpet_hz / (c1 - c0);
}

static uint64_t hal_bare__tsc_from_cpuid(void)
{
    uint32_t r[4];
    cpuid(0, r);
    uint32_t max = r[0];
    if (max >= 0x15) {
        cpuid(0x15, r);                        /* eax denominator, ebx numerator, ecx crystal Hz */
        if (r[0] && r[1] && r[2])
            return (uint64_t)r[2] * r[1] / r[0];
    }
    if (max >= 0x16) {
        cpuid(0x16, r);                        /* eax: base frequency, MHz */
        if (r[0])
            return (uint64_t)r[0] * 1000000ull;
    }
    return 0;
}

void hal_bare__time_init(void)
{
    const char *how = "HPET";
    uint64_t hz = hal_bare__tsc_from_hpet();
    if (!hz) {
        how = "CPUID";
        hz = hal_bare__tsc_from_cpuid();
    }
    if (!hz) {
        how = "guess";
        hz = 1000000000ull;
    }
    hal_bare_time.tsc_hz = hz;
    hal_bare_time.ns_mult = (1000000000ull << 32) / hz;
    hal_bare__printf("bare: TSC %lu kHz (%s)\n", (unsigned long)(hz / 1000), how);
}

uint64_t hal__tsc_hz(void)
{
    return hal_bare_time.tsc_hz;
}

uint64_t hal__now_ns(void)
{
    return (uint64_t)(((unsigned __int128)hal__rdtsc() * hal_bare_time.ns_mult) >> 32);
}
