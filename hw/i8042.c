#include "hw/i8042.h"

#include <string.h>

#include "hw/i8042_regs.h"

static void i8042__set_irq(struct i8042 *k, bool level)
{
    if (level == k->irq_level)
        return;
    k->irq_level = level;
    if (k->irq)
        k->irq(k->ctx, level);
}

/* IRQ 1 follows "a byte waits in the output buffer" while KBDINT is set. */
static void i8042__update_irq(struct i8042 *k)
{
    i8042__set_irq(k, k->out_n && (k->ctr & I8042_CTR_KBDINT));
}

void i8042__init(struct i8042 *k, i8042_reset_fn reset, i8042_irq_fn irq, void *ctx)
{
    memset(k, 0, sizeof(*k));
    /* what PC firmware leaves: keyboard interrupt on, translation, system
     * flag set (the self test passed), A20 on, reset line released */
    k->ctr = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE;
    k->outp = I8042_OUTP_RESET | I8042_OUTP_A20;
    k->sysctl_a = SYSCTL_A_A20;
    k->reset = reset;
    k->irq = irq;
    k->ctx = ctx;
}

static void i8042__queue(struct i8042 *k, uint8_t b)
{
    if (k->out_n == I8042_QUEUE) {
        k->dropped++;
        return;
    }
    k->out[(k->out_head + k->out_n++) % I8042_QUEUE] = b;
}

static void i8042__reset_line(struct i8042 *k, const char *how)
{
    if (k->reset)
        k->reset(k->ctx, how);
}

/* A byte for the keyboard (a data-port write with no controller command
 * waiting): an MF2 keyboard's answers. */
static void i8042__kbd_write(struct i8042 *k, uint8_t b)
{
    if (k->kbd_pending) {
        uint8_t cmd = k->kbd_pending;
        k->kbd_pending = 0;
        i8042__queue(k, KBD_REPLY_ACK);
        if (cmd == KBD_CMD_SCANSET && b == 0)
            i8042__queue(k, 2); /* the keyboard's set; the controller translates */
        return;
    }
    switch (b) {
    case KBD_CMD_ECHO:
        i8042__queue(k, KBD_CMD_ECHO);
        break;
    case KBD_CMD_GETID:
        i8042__queue(k, KBD_REPLY_ACK);
        i8042__queue(k, KBD_ID_0);
        i8042__queue(k, KBD_ID_1);
        break;
    case KBD_CMD_RESET:
        i8042__queue(k, KBD_REPLY_ACK);
        i8042__queue(k, KBD_REPLY_BAT_OK);
        break;
    case KBD_CMD_SETLEDS:
    case KBD_CMD_SCANSET:
    case KBD_CMD_SETREP:
        k->kbd_pending = b;
        i8042__queue(k, KBD_REPLY_ACK);
        break;
    default:
        i8042__queue(k, KBD_REPLY_ACK); /* enable, disable, defaults, ...: acknowledged */
        break;
    }
}

static void i8042__data_write(struct i8042 *k, uint8_t b)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    switch (cmd) {
    case I8042_CMD_CTL_WCTR:
        k->ctr = b;
        break;
    case I8042_CMD_WRITE_OUTP:
        k->outp = b;
        if (!(b & I8042_OUTP_RESET))
            i8042__reset_line(k, "i8042");
        break;
    case I8042_CMD_KBD_LOOP:
    case I8042_CMD_AUX_LOOP: /* no auxiliary port: it comes back as keyboard data */
        i8042__queue(k, b);
        break;
    case I8042_CMD_AUX_SEND:
        break; /* no auxiliary device to take it */
    default:
        i8042__kbd_write(k, b);
        break;
    }
}

static void i8042__command(struct i8042 *k, uint8_t c)
{
    k->pending = 0;
    switch (c) {
    case I8042_CMD_CTL_RCTR: i8042__queue(k, k->ctr); break;
    case I8042_CMD_CTL_WCTR:
    case I8042_CMD_WRITE_OUTP:
    case I8042_CMD_KBD_LOOP:
    case I8042_CMD_AUX_LOOP:
    case I8042_CMD_AUX_SEND:
        k->pending = c;
        break;
    case I8042_CMD_AUX_DISABLE: k->ctr |= I8042_CTR_AUXDIS; break;
    case I8042_CMD_AUX_ENABLE: k->ctr &= (uint8_t)~I8042_CTR_AUXDIS; break;
    case I8042_CMD_AUX_TEST: i8042__queue(k, 0x01); break; /* clock line stuck: no port */
    case I8042_CMD_CTL_TEST:
        k->ctr |= I8042_CTR_SYS;
        i8042__queue(k, I8042_RET_CTL_TEST);
        break;
    case I8042_CMD_KBD_TEST: i8042__queue(k, 0x00); break;
    case I8042_CMD_KBD_DISABLE: k->ctr |= I8042_CTR_KBDDIS; break;
    case I8042_CMD_KBD_ENABLE: k->ctr &= (uint8_t)~I8042_CTR_KBDDIS; break;
    case I8042_CMD_READ_OUTP: i8042__queue(k, k->outp); break;
    default:
        /* 0xF0-0xFF pulse output port bits 3:0 where the command's bit is
         * 0; bit 0 is the CPU's reset line (0xFE: "pulse reset") */
        if ((c & 0xF0) == I8042_CMD_PULSE_BASE && !(c & I8042_OUTP_RESET))
            i8042__reset_line(k, "i8042");
        break; /* anything else: ignored */
    }
}

static uint8_t i8042__status(const struct i8042 *k)
{
    return (uint8_t)((k->out_n ? I8042_STR_OBF : 0) | (k->ctr & I8042_CTR_SYS ? I8042_STR_SYS : 0) |
                     (k->last_was_cmd ? I8042_STR_CMDDAT : 0) | I8042_STR_KEYLOCK);
}

void i8042__pio(struct i8042 *k, unsigned off, unsigned size, bool is_write, uint32_t *val)
{
    if (size != 1 || (off != I8042_DATA_OFF && off != I8042_CMD_OFF)) {
        if (!is_write)
            *val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        return;
    }
    if (!is_write) {
        if (off == I8042_CMD_OFF) {
            *val = i8042__status(k);
            return;
        }
        if (k->out_n) {
            k->last_out = k->out[k->out_head];
            k->out_head = (k->out_head + 1) % I8042_QUEUE;
            k->out_n--;
            i8042__set_irq(k, false); /* the read empties the buffer: IRQ 1 falls */
        }
        *val = k->last_out;
    } else if (off == I8042_CMD_OFF) {
        k->last_was_cmd = true;
        i8042__command(k, (uint8_t)*val);
    } else {
        k->last_was_cmd = false;
        i8042__data_write(k, (uint8_t)*val);
    }
    i8042__update_irq(k); /* the next byte, if any, raises it again */
}

void i8042__sysctl_pio(struct i8042 *k, unsigned size, bool is_write, uint32_t *val)
{
    if (size != 1) {
        if (!is_write)
            *val = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        return;
    }
    if (!is_write) {
        *val = k->sysctl_a;
        return;
    }
    k->sysctl_a = (uint8_t)(*val & SYSCTL_A_A20);
    if (*val & SYSCTL_A_FAST_RESET)
        i8042__reset_line(k, "port 0x92");
}
