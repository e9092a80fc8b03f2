/* `irqstorm VECTOR COUNT [TIMEOUT_MS]`: count the interrupts that arrive on
 * VECTOR until COUNT have been handled (or the timeout), while the CPU is
 * alternately busy in kernel code, busy in device accesses (COM1 LSR reads)
 * and halted, so they land everywhere.  Prints "irqstorm: ready" once the
 * handler is in place, then "RESULT irqstorm vector=V handled=N spurious=S".
 * Exit 0 if exactly COUNT arrived.  Whoever raises them (a test) waits for
 * the ready line; the kernel does nothing to provoke them. */
#include "drivers/platform/platform_map.h"
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/prog/prog.h"

static volatile uint64_t storm_handled;

static void storm_irq(void *ctx, unsigned vector)
{
    (void)ctx, (void)vector;
    storm_handled++;
}

int prog_irqstorm__run(struct kernel *k, int argc, char **argv)
{
    uint64_t vec = 0, count = 0, timeout_ms = 10000;
    if (argc < 3 || cmdline__parse_u64(argv[1], &vec) || cmdline__parse_u64(argv[2], &count) ||
        (argc > 3 && cmdline__parse_u64(argv[3], &timeout_ms)) || vec < IRQ_VEC_DYN_FIRST ||
        vec > IRQ_VEC_DYN_LAST) {
        kprintf("usage: irqstorm VECTOR(%u..%u) COUNT [TIMEOUT_MS]\n", IRQ_VEC_DYN_FIRST, IRQ_VEC_DYN_LAST);
        return 2;
    }
    if (irq__register(&k->irqs, (unsigned)vec, storm_irq, NULL)) {
        kprintf("irqstorm: vector %llu is taken\n", (unsigned long long)vec);
        return 2;
    }
    kprintf("irqstorm: ready\n");
    uint64_t deadline = hal__now_ns() + timeout_ms * 1000000ull;
    uint64_t spurious0 = k->irqs.spurious;
    for (unsigned round = 0; storm_handled < count && hal__now_ns() < deadline; round++) {
        switch (round % 3) {
        case 0: { /* kernel code only */
            uint64_t until = hal__now_ns() + 20000;
            while (hal__now_ns() < until)
                __asm__ volatile("pause");
            break;
        }
        case 1: /* device accesses */
            for (int i = 0; i < 50; i++)
                (void)hal__inb(PLATFORM_PORT_COM1 + 5);
            break;
        default: /* halted until an interrupt (or the next timer tick) */
            kernel__wait(k, hal__now_ns() + 1000000);
            break;
        }
    }
    /* Anything late (a duplicate) shows up here. */
    kernel__wait(k, hal__now_ns() + 20000000);
    uint64_t n = storm_handled;
    kprintf("RESULT irqstorm vector=%llu handled=%llu spurious=%llu\n", (unsigned long long)vec,
            (unsigned long long)n, (unsigned long long)(k->irqs.spurious - spurious0));
    return n == count ? 0 : 1;
}
