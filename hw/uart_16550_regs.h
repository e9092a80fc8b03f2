/* 16550 UART register names (National Semiconductor PC16550D data sheet,
 * "Register Description", table 2).  Offsets from the base port (COM1 0x3F8). */
#ifndef IOVIRT_HW_UART_16550_REGS_H
#define IOVIRT_HW_UART_16550_REGS_H

#define UART_RBR 0 /* receiver buffer (read, DLAB=0) */
#define UART_THR 0 /* transmitter holding (write, DLAB=0) */
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_IIR 2 /* interrupt identification (read) */
#define  UART_IIR_NO_INT 0x01
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define  UART_LCR_DLAB 0x80
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define  UART_LSR_DR   0x01 /* data ready */
#define  UART_LSR_THRE 0x20 /* transmitter holding register empty */
#define  UART_LSR_TEMT 0x40 /* transmitter empty */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */
#define UART_NR_PORTS 8

#endif
