/* Console: the platform's 16550 UART at COM1 (I/O port 0x3F8), transmit
 * only.  Stateless (a fixed port), so any code may print. */
#ifndef IOVIRT_GUEST_KERNEL_CONSOLE_H
#define IOVIRT_GUEST_KERNEL_CONSOLE_H

#include <stddef.h>

#define CONSOLE_PORT   0x3F8
/* 16550 registers (offsets from the base; PC16550D datasheet, table 2). */
#define UART_THR       0      /* transmitter holding register (write) */
#define UART_IER       1
#define UART_FCR       2
#define UART_LCR       3
#define UART_MCR       4
#define UART_LSR       5
#define UART_LSR_THRE  0x20   /* THR empty */
#define UART_LSR_WAIT_MAX 1000 /* bounded: a broken UART never hangs us */

void console__init(void);
void console__putc(char c);
void console__write(const char *s, size_t n);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
