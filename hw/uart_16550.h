/* A 16550A as the console (TI PC16550D data sheet): the guest writes THR,
 * polled (LSR) or driven by the THR-empty interrupt; bytes are collected
 * into lines and handed to a sink (the hypervisor log, a test).  Lines are
 * cut at LINE_MAX bytes so a guest that never sends a newline cannot make
 * the host buffer grow.
 *
 * Transmission is instantaneous: THR and the transmitter are always empty
 * (LSR THRE and TEMT set), so the THRE interrupt (IIR 0x02, priority 3) is
 * pending whenever ETBEI allows it, except between a read of IIR that
 * reported it and the next THR write or ETBEI 0 -> 1 write (data sheet
 * Table IV; ETBEI 0 -> 1 with THR empty raising it at once is what Linux's
 * 8250 driver tests as "reasserts THRE", UART_BUG_THRE).  Nothing is ever
 * received: RBR reads 0, LSR DR and the error bits are 0, so the receive,
 * line-status and timeout interrupts never occur.  Modem lines: DCD, DSR,
 * CTS asserted, no deltas, so no modem-status interrupt; in loopback (MCR
 * bit 4) MSR's lines follow MCR's outputs as the data sheet's loopback
 * mode wires them, but the looped data path is not modelled (a byte
 * written in loopback is dropped, none is received).  FCR bit 0 shows as
 * IIR bits 7:6 (16550A).  The interrupt output is a level, reported to
 * `irq` when it changes; like QEMU and kvmtool it is not gated by MCR OUT2. */
#ifndef IOVIRT_HW_UART_16550_H
#define IOVIRT_HW_UART_16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_LINE_MAX 256

typedef void (*uart_line_fn)(void *ctx, const char *line, size_t len);
typedef void (*uart_irq_fn)(void *ctx, int level);

struct uart_16550 {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thre_pending;          /* THR-empty interrupt latched (Table IV) */
    bool irq_level;             /* the interrupt output as last reported */
    char line[UART_LINE_MAX + 1];
    size_t len;
    uint64_t bytes_out;
    uint64_t irq_changes;       /* level changes reported */
    uart_line_fn on_line;
    void *ctx;
    uart_irq_fn irq;
    void *irq_ctx;
};

void uart__init(struct uart_16550 *u, uart_line_fn on_line, void *ctx);
/* Where the interrupt output goes (NULL: nowhere; the level is still kept). */
void uart__set_irq(struct uart_16550 *u, uart_irq_fn irq, void *ctx);
/* Access register `reg` (0..7); size must be 1 (others: reads all-ones,
 * writes ignored).  One caller at a time (the vCPU thread). */
void uart__pio(struct uart_16550 *u, unsigned reg, unsigned size, bool is_write, uint32_t *val);
/* Hand a partial line to the sink (at shutdown). */
void uart__flush(struct uart_16550 *u);

#endif
