#include "hw/uart_16550.h"

#include <string.h>

#include "hw/uart_16550_regs.h"

void uart__init(struct uart_16550 *u, uart_line_fn on_line, void *ctx)
{
    memset(u, 0, sizeof(*u));
    u->on_line = on_line;
    u->ctx = ctx;
}

void uart__set_irq(struct uart_16550 *u, uart_irq_fn irq, void *ctx)
{
    u->irq = irq;
    u->irq_ctx = ctx;
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

/* Highest-priority pending interrupt (Table IV): only THRE can be. */
static uint8_t uart__iid(const struct uart_16550 *u)
{
    return (u->ier & UART_IER_ETBEI) && u->thre_pending ? UART_IIR_THRE : UART_IIR_NO_INT;
}

static void uart__update_irq(struct uart_16550 *u)
{
    bool level = uart__iid(u) != UART_IIR_NO_INT;
    if (level == u->irq_level)
        return;
    u->irq_level = level;
    u->irq_changes++;
    if (u->irq)
        u->irq(u->irq_ctx, level);
}

/* MSR: the modem lines; in loopback MCR's outputs drive them (RTS -> CTS,
 * DTR -> DSR, OUT1 -> RI, OUT2 -> DCD).  Deltas never set. */
static uint8_t uart__msr(const struct uart_16550 *u)
{
    if (!(u->mcr & UART_MCR_LOOP))
        return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    return (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
           (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static void uart__write(struct uart_16550 *u, unsigned reg, uint8_t v)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_THR:
        if (dlab) {
            u->dll = v;
            break;
        }
        if (!(u->mcr & UART_MCR_LOOP))
            uart__put(u, v);
        u->thre_pending = true; /* the write reset THRE; the byte left at once: empty again */
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = v;
            break;
        }
        if ((v & UART_IER_ETBEI) && !(u->ier & UART_IER_ETBEI))
            u->thre_pending = true; /* enabled with THR empty: raised at once */
        else if (!(v & UART_IER_ETBEI))
            u->thre_pending = false;
        u->ier = v & UART_IER_MASK;
        break;
    case UART_FCR:
        u->fcr = v & UART_FCR_KEEP; /* the resets act on empty FIFOs: nothing to do */
        break;
    case UART_LCR: u->lcr = v; break;
    case UART_MCR: u->mcr = v & UART_MCR_MASK; break;
    case UART_SCR: u->scr = v; break;
    default: break; /* LSR, MSR: read-only (writes are factory test only) */
    }
}

static uint8_t uart__read(struct uart_16550 *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR: return dlab ? u->dll : 0; /* nothing is ever received */
    case UART_IER: return dlab ? u->dlm : u->ier;
    case UART_IIR: {
        uint8_t id = uart__iid(u);
        if (id == UART_IIR_THRE)
            u->thre_pending = false; /* reading IIR resets THRE when it is the source */
        return (uint8_t)(id | (u->fcr & UART_FCR_FIFO_EN ? UART_IIR_FIFOS : 0));
    }
    case UART_LCR: return u->lcr;
    case UART_MCR: return u->mcr;
    case UART_LSR: return UART_LSR_THRE | UART_LSR_TEMT; /* always ready, never data */
    case UART_MSR: return uart__msr(u);
    default: return u->scr;
    }
}

void uart__pio(struct uart_16550 *u, unsigned reg, unsigned size, bool is_write, uint32_t *val)
{
    if (size != 1 || reg >= UART_NR_PORTS) {
        if (!is_write)
            *val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        return;
    }
    if (is_write)
        uart__write(u, reg, (uint8_t)*val);
    else
        *val = uart__read(u, reg);
    uart__update_irq(u);
}
