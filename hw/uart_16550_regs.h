/* 16550 UART register names (National Semiconductor / TI PC16550D data
 * sheet, section 8 "Registers", Table II "Summary of Registers";
 * interrupt sources and their reset: Table IV "Interrupt Control
 * Functions").  Offsets from the base port (COM1 0x3F8). */
#ifndef IOVIRT_HW_UART_16550_REGS_H
#define IOVIRT_HW_UART_16550_REGS_H

#define UART_RBR 0 /* receiver buffer (read, DLAB=0) */
#define UART_THR 0 /* transmitter holding (write, DLAB=0) */
#define UART_IER 1 /* interrupt enable (DLAB=0); bits 7:4 always 0 */
#define  UART_IER_ERBFI 0x01 /* received data available */
#define  UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define  UART_IER_ELSI  0x04 /* receiver line status */
#define  UART_IER_EDSSI 0x08 /* modem status */
#define  UART_IER_MASK  0x0F
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_IIR 2 /* interrupt identification (read) */
#define  UART_IIR_NO_INT 0x01 /* bit 0: 1 = no interrupt pending */
#define  UART_IIR_THRE   0x02 /* priority 3: THR empty; reset by reading IIR (if
                               * source) or writing THR */
#define  UART_IIR_RDA    0x04 /* priority 2: received data available */
#define  UART_IIR_RLS    0x06 /* priority 1: receiver line status */
#define  UART_IIR_FIFOS  0xC0 /* bits 7:6 set when FCR bit 0 enables the FIFOs */
#define UART_FCR 2 /* FIFO control (write) */
#define  UART_FCR_FIFO_EN  0x01
#define  UART_FCR_RX_RESET 0x02 /* self-clearing */
#define  UART_FCR_TX_RESET 0x04 /* self-clearing */
#define  UART_FCR_KEEP     0xC9 /* enable, DMA mode select, RX trigger level */
#define UART_LCR 3 /* line control */
#define  UART_LCR_DLAB 0x80
#define UART_MCR 4 /* modem control; bits 7:5 always 0 */
#define  UART_MCR_DTR  0x01
#define  UART_MCR_RTS  0x02
#define  UART_MCR_OUT1 0x04
#define  UART_MCR_OUT2 0x08
#define  UART_MCR_LOOP 0x10
#define  UART_MCR_MASK 0x1F
#define UART_LSR 5 /* line status */
#define  UART_LSR_DR   0x01 /* data ready */
#define  UART_LSR_THRE 0x20 /* transmitter holding register empty */
#define  UART_LSR_TEMT 0x40 /* transmitter empty */
#define UART_MSR 6 /* modem status: bits 3:0 deltas, 7:4 lines */
#define  UART_MSR_CTS 0x10
#define  UART_MSR_DSR 0x20
#define  UART_MSR_RI  0x40
#define  UART_MSR_DCD 0x80
#define UART_SCR 7 /* scratch */
#define UART_NR_PORTS 8

#endif
