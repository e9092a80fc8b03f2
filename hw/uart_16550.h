/* A transmit-only 16550 as a console: the guest writes THR and polls LSR;
 * bytes are collected into lines and handed to a sink (the hypervisor log,
 * a test).  Lines are cut at LINE_MAX bytes so a guest that never sends a
 * newline cannot make the host buffer grow. */
#ifndef IOVIRT_HW_UART_16550_H
#define IOVIRT_HW_UART_16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_LINE_MAX 256

typedef void (*uart_line_fn)(void *ctx, const char *line, size_t len);

struct uart_16550 {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    char line[UART_LINE_MAX + 1];
    size_t len;
    uint64_t bytes_out;
    uart_line_fn on_line;
    void *ctx;
};

void uart__init(struct uart_16550 *u, uart_line_fn on_line, void *ctx);
/* Access register `reg` (0..7); size must be 1 (others: reads 0xFF, writes ignored). */
void uart__pio(struct uart_16550 *u, unsigned reg, unsigned size, bool is_write, uint32_t *val);
/* Hand a partial line to the sink (at shutdown). */
void uart__flush(struct uart_16550 *u);

#endif
