#include "hw/uart_16550.h"

#include <string.h>

#include "hw/uart_16550_regs.h"

void uart__init(struct uart_16550 *u, uart_line_fn on_line, void *ctx)
{
    memset(u, 0, sizeof(*u));
    u->on_line = on_line;
    u->ctx = ctx;
}

void uart__flush(struct uart_16550 *u)
{
    if (!u->len)
        return;
    u->line[u->len] = '\0';
    if (u->on_line)
        u->on_line(u->ctx, u->line, u->len);
    u->len = 0;
}

static void uart__put(struct uart_16550 *u, uint8_t c)
{
    u->bytes_out++;
    if (c == '\r')
        return;
    if (c == '\n') {
        u->line[u->len] = '\0';
        if (u->on_line)
            u->on_line(u->ctx, u->line, u->len);
        u->len = 0;
        return;
    }
    /* Keep the console printable: control bytes from a hostile guest are shown as '.'. */
    u->line[u->len++] = (c >= 0x20 && c < 0x7F) || c == '\t' ? (char)c : '.';
    if (u->len == UART_LINE_MAX)
        uart__flush(u);
}

void uart__pio(struct uart_16550 *u, unsigned reg, unsigned size, bool is_write, uint32_t *val)
{
    if (size != 1 || reg >= UART_NR_PORTS) {
        if (!is_write)
            *val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        return;
    }
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t v = (uint8_t)*val;
    if (is_write) {
        switch (reg) {
        case UART_THR: if (dlab) u->dll = v; else uart__put(u, v); break;
        case UART_IER: if (dlab) u->dlm = v; else u->ier = v & 0x0F; break;
        case UART_LCR: u->lcr = v; break;
        case UART_MCR: u->mcr = v & 0x1F; break;
        case UART_SCR: u->scr = v; break;
        default: break; /* FCR, LSR, MSR: nothing to model */
        }
        return;
    }
    switch (reg) {
    case UART_RBR: *val = dlab ? u->dll : 0; break;
    case UART_IER: *val = dlab ? u->dlm : u->ier; break;
    case UART_IIR: *val = UART_IIR_NO_INT; break;
    case UART_LCR: *val = u->lcr; break;
    case UART_MCR: *val = u->mcr; break;
    case UART_LSR: *val = UART_LSR_THRE | UART_LSR_TEMT; break; /* always ready */
    case UART_MSR: *val = 0xB0; break; /* DCD, DSR, CTS */
    default: *val = u->scr; break;
    }
}
