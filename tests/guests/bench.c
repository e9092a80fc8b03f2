/* Exit-cost benchmark guest (bench/programs/bench_vcpu.c drives it).
 * Commands come from TEST_PORT_PARAM: a command, then a count.
 *   1 n  n MMIO reads          2 n  n MMIO writes       3 n  n port writes
 *   4 n  spin with interrupts on until n interrupts were handled (each
 *        handler stores rdtsc at irq_tsc and writes BENCH_PORT_ACK)
 *   5 n  native loop of n iterations; reports rdtsc cycles (lo, hi)
 *   6 n  n port writes with interrupts on (the host injects at each)
 *   7 n  n times: hlt with interrupts on; the host wakes it with vector
 *        0x21, whose handler only counts (no exit of its own)
 *   0    power off */
#include "guest.h"

#define BENCH_PORT_ACK 0x511

static volatile uint32_t handled;
static volatile uint64_t irq_tsc;

__attribute__((used)) void on_irq(void)
{
    irq_tsc = rdtsc();
    handled++;
    outb(BENCH_PORT_ACK, 0);
    irq_done();
}
GUEST_IRQ_ENTRY(irq_entry, on_irq);

static volatile uint32_t woken;

__attribute__((used)) void on_wake(void)
{
    woken++;
    irq_done();
}
GUEST_IRQ_ENTRY(wake_entry, on_wake);

/* The same loop the host runs natively (bench_vcpu.c). */
static uint64_t native_loop(uint64_t n)
{
    uint64_t x = 88172645463325252ull;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

int guest_main(struct proc_bootinfo *bi)
{
    volatile uint32_t *reg = (volatile uint32_t *)TEST_MMIO_BASE;
    idt_set(0x20, irq_entry);
    idt_set(0x21, wake_entry);
    idt_load(bi);
    report((uint32_t)(uintptr_t)&irq_tsc);
    for (;;) {
        uint32_t cmd = inl(TEST_PORT_PARAM);
        if (cmd == 0)
            return 0;
        uint32_t n = inl(TEST_PORT_PARAM);
        switch (cmd) {
        case 1:
            for (uint32_t i = 0; i < n; i++)
                (void)*reg;
            break;
        case 2:
            for (uint32_t i = 0; i < n; i++)
                *reg = i;
            break;
        case 3:
            for (uint32_t i = 0; i < n; i++)
                outl(0x80, i);
            break;
        case 4:
            handled = 0;
            sti();
            while (handled < n)
                cpu_relax();
            cli();
            break;
        case 5: {
            uint64_t t0 = rdtsc();
            uint64_t x = native_loop(n);
            uint64_t dt = rdtsc() - t0;
            report((uint32_t)x);
            report((uint32_t)dt);
            report((uint32_t)(dt >> 32));
            break;
        }
        case 6:
            sti();
            for (uint32_t i = 0; i < n; i++)
                outl(0x80, i);
            cli();
            break;
        case 7:
            sti();
            for (uint32_t i = 0; i < n; i++) {
                uint32_t w = woken;
                while (woken == w)
                    hlt();
            }
            cli();
            break;
        default:
            return 1;
        }
    }
}
