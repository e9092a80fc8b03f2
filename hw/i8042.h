/* The PC's 8042 keyboard controller at ports 0x60/0x64 and system control
 * port A at 0x92: enough of a controller for Linux's i8042 probe to finish
 * at once (self test, command byte, interface tests), an MF2 keyboard that
 * answers its commands and never has a key pressed, and the two reset
 * lines a guest uses to reboot: command 0xFE (any 0xF0-0xFF pulse with bit
 * 0 clear), an output-port write with bit 0 clear, and port 0x92 bit 0.
 * A reset calls `reset`; the owner ends the VM.
 *
 * An AT-type controller: no auxiliary (mouse) port.  AUX_TEST (0xA9)
 * reports the clock line stuck (0x01) and the auxiliary loop (0xD3)
 * answers on the keyboard side, so Linux's i8042_check_aux() gives up at
 * once instead of waiting for IRQ 12.  Bytes are taken instantly: the
 * input buffer is never full (IBF 0), so no guest wait loop spins.  The
 * output buffer holds at most I8042_QUEUE bytes (replies to commands; a
 * hostile guest's flood is dropped).  IRQ 1 rises each time a byte
 * reaches the output buffer with the command byte's KBDINT set (an edge
 * per byte, as the 8042 pulses it) and falls when it is read. */
#ifndef IOVIRT_HW_I8042_H
#define IOVIRT_HW_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_QUEUE 16

typedef void (*i8042_reset_fn)(void *ctx, const char *how);
typedef void (*i8042_irq_fn)(void *ctx, int level);

struct i8042 {
    uint8_t ctr;                 /* controller command byte */
    uint8_t outp;                /* output port */
    uint8_t sysctl_a;            /* port 0x92 */
    uint8_t pending;             /* controller command awaiting its data byte, 0 = none */
    uint8_t kbd_pending;         /* keyboard command awaiting its parameter, 0 = none */
    bool last_was_cmd;
    uint8_t out[I8042_QUEUE];
    unsigned out_head, out_n;
    uint8_t last_out;            /* data port reads repeat it when empty */
    bool irq_level;
    uint64_t dropped;            /* replies that found the queue full */
    i8042_reset_fn reset;
    i8042_irq_fn irq;
    void *ctx;
};

void i8042__init(struct i8042 *k, i8042_reset_fn reset, i8042_irq_fn irq, void *ctx);
/* Ports 0x60 (off 0) and 0x64 (off 4); byte accesses (others: reads
 * all-ones, writes ignored). */
void i8042__pio(struct i8042 *k, unsigned off, unsigned size, bool is_write, uint32_t *val);
/* Port 0x92. */
void i8042__sysctl_pio(struct i8042 *k, unsigned size, bool is_write, uint32_t *val);

#endif
