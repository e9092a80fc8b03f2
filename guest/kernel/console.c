/* See console.h. */
#include "guest/kernel/console.h"

#include <stdarg.h>

#include "guest/hal/hal.h"
#include "guest/lib/printf.h"

void console__init(void)
{
    hal__outb(CONSOLE_PORT + UART_IER, 0);     /* no UART interrupts */
    hal__outb(CONSOLE_PORT + UART_LCR, 0x03);  /* 8N1 */
    hal__outb(CONSOLE_PORT + UART_FCR, 0x07);  /* FIFO on, cleared */
}

void console__putc(char c)
{
    for (unsigned i = 0; i < UART_LSR_WAIT_MAX; i++)
        if (hal__inb(CONSOLE_PORT + UART_LSR) & UART_LSR_THRE)
            break;
    hal__outb(CONSOLE_PORT + UART_THR, (uint8_t)c);
}

void console__write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            console__putc('\r');
        console__putc(s[i]);
    }
}

/* Buffer a line, then write it: keeps lines whole when interrupts print. */
struct kprintf_buf {
    char buf[128];
    size_t len;
};

static void kprintf__put(void *ctx, char c)
{
    struct kprintf_buf *b = ctx;
    b->buf[b->len++] = c;
    if (b->len == sizeof(b->buf) || c == '\n') {
        console__write(b->buf, b->len);
        b->len = 0;
    }
}

int kprintf(const char *fmt, ...)
{
    struct kprintf_buf b = {.len = 0};
    va_list ap;
    va_start(ap, fmt);
    int n = kfmt__vformat(kprintf__put, &b, fmt, ap);
    va_end(ap);
    console__write(b.buf, b.len);
    return n;
}
