/* libFuzzer: the PC platform devices a guest reaches by port I/O (16550A,
 * i8042 + port 0x92, CMOS RTC) driven with any sequence of accesses at any
 * width and offset, and the MP table builder with any device list.  After
 * every access the device's invariants hold (what its header promises a
 * guest can never break); any violation aborts.  Input: a stream of
 * operations (tests/fuzz/fuzz_input.h: past the end, zeros). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mptable.h"
#include "hw/i8042.h"
#include "hw/i8042_regs.h"
#include "hw/mc146818_regs.h"
#include "hw/mc146818_rtc.h"
#include "hw/uart_16550.h"
#include "hw/uart_16550_regs.h"
#include "tests/fuzz/fuzz_input.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int uart_level, kbd_level;
static unsigned resets;

static void on_uart_irq(void *ctx, int level) { (void)ctx; CHECK(level != uart_level); uart_level = level; }
static void on_kbd_irq(void *ctx, int level) { (void)ctx; CHECK(level != kbd_level); kbd_level = level; }
static void on_reset(void *ctx, const char *how) { (void)ctx; CHECK(how); resets++; }
static time_t fixed_clock(void *ctx) { (void)ctx; return 1796579323; }

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static void fuzz_mptable(struct in *in)
{
    static struct mptable_pci_irq pci[MPTABLE_MAX_PCI_IRQS + 8];
    unsigned n = (unsigned)(take(in, 1) % (MPTABLE_MAX_PCI_IRQS + 8));
    for (unsigned i = 0; i < n; i++)
        pci[i] = (struct mptable_pci_irq){.dev = (uint8_t)take(in, 1), .pin = (uint8_t)take(in, 1),
                                          .line = (uint8_t)take(in, 1)};
    static uint8_t buf[8192];
    uint32_t gpa = (uint32_t)take(in, 4);
    size_t size = (size_t)(take(in, 2) % sizeof buf);
    long r = mptable__build(buf, size, gpa, pci, n);
    if (r < 0)
        return;
    CHECK((size_t)r <= mptable__max_size(n) && (size_t)r <= size);
    CHECK(!memcmp(buf, "_MP_", 4) && !sum8(buf, 16));
    const struct mpc_table *mpc = (const void *)(buf + 16);
    CHECK(mpc->length + 16u == (size_t)r && !sum8(buf + 16, mpc->length));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    struct uart_16550 u;
    struct i8042 k;
    struct mc146818 rtc;
    uart_level = kbd_level = 0;
    resets = 0;
    uart__init(&u, NULL, NULL);
    uart__set_irq(&u, on_uart_irq, NULL);
    i8042__init(&k, on_reset, on_kbd_irq, NULL);
    mc146818__init(&rtc, fixed_clock, NULL);
    for (unsigned ops = 0; in.n && ops < 4096; ops++) {
        uint8_t op = (uint8_t)take(&in, 1);
        unsigned off = op >> 2 & 0xF, size = 1u << (op >> 6 & 3); /* 8: nonsense */
        bool wr = take(&in, 1) & 1;
        uint32_t v = (uint32_t)take(&in, 4);
        switch (op & 3) {
        case 0:
            uart__pio(&u, off, size, wr, &v);
            break;
        case 1:
            if (off == 8)
                i8042__sysctl_pio(&k, size, wr, &v);
            else
                i8042__pio(&k, off, size, wr, &v);
            break;
        case 2:
            mc146818__pio(&rtc, off, size, wr, &v);
            break;
        default:
            fuzz_mptable(&in);
            break;
        }
        /* what a guest can never break */
        CHECK(u.len <= UART_LINE_MAX && (u.ier & 0xF0) == 0 && (u.mcr & 0xE0) == 0);
        CHECK(uart_level == ((u.ier & UART_IER_ETBEI) && u.thre_pending));
        CHECK(k.out_n <= I8042_QUEUE && k.out_head < I8042_QUEUE);
        CHECK(kbd_level == (k.out_n && (k.ctr & I8042_CTR_KBDINT)));
        CHECK(rtc.index < RTC_NR_REGS && !(rtc.reg_a & RTC_A_UIP));
    }
    return 0;
}
