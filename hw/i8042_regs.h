/* The PC's 8042 keyboard controller (IBM PC/AT Technical Reference,
 * "Keyboard Controller": status register, commands, controller command
 * byte; names as Linux's drivers/input/serio/i8042.h), the keyboard's own
 * commands (IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
 * Auxiliary Device Controller", keyboard commands), and system control
 * port A (port 0x92, IBM PS/2: bit 0 fast reset, bit 1 A20). */
#ifndef IOVIRT_HW_I8042_REGS_H
#define IOVIRT_HW_I8042_REGS_H

#define I8042_DATA_OFF    0        /* port 0x60 */
#define I8042_CMD_OFF     4        /* port 0x64: status (in), command (out) */

/* status register */
#define I8042_STR_OBF     0x01     /* output buffer full */
#define I8042_STR_IBF     0x02     /* input buffer full */
#define I8042_STR_SYS     0x04     /* system flag (command byte bit 2) */
#define I8042_STR_CMDDAT  0x08     /* last write was to the command port */
#define I8042_STR_KEYLOCK 0x10     /* 1 = keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20     /* output buffer holds auxiliary-device data */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY  0x80

/* controller command byte ("CTR") */
#define I8042_CTR_KBDINT  0x01     /* IRQ 1 when the output buffer fills */
#define I8042_CTR_AUXINT  0x02
#define I8042_CTR_SYS     0x04
#define I8042_CTR_IGNKEYLOCK 0x08
#define I8042_CTR_KBDDIS  0x10
#define I8042_CTR_AUXDIS  0x20
#define I8042_CTR_XLATE   0x40     /* scan code translation to set 1 */

/* controller commands (port 0x64) */
#define I8042_CMD_CTL_RCTR   0x20  /* read the command byte */
#define I8042_CMD_CTL_WCTR   0x60  /* write the command byte (next data byte) */
#define I8042_CMD_AUX_DISABLE 0xA7
#define I8042_CMD_AUX_ENABLE 0xA8
#define I8042_CMD_AUX_TEST   0xA9  /* 0x00 ok, 0x01-0x04 line stuck */
#define I8042_CMD_CTL_TEST   0xAA  /* self test: 0x55 */
#define I8042_CMD_KBD_TEST   0xAB  /* keyboard interface test: 0x00 ok */
#define I8042_CMD_KBD_DISABLE 0xAD
#define I8042_CMD_KBD_ENABLE 0xAE
#define I8042_CMD_READ_OUTP  0xD0  /* read the output port */
#define I8042_CMD_WRITE_OUTP 0xD1  /* write the output port (next data byte) */
#define I8042_CMD_KBD_LOOP   0xD2  /* next data byte comes back as keyboard data */
#define I8042_CMD_AUX_LOOP   0xD3  /* next data byte comes back as auxiliary data */
#define I8042_CMD_AUX_SEND   0xD4  /* next data byte goes to the auxiliary device */
#define I8042_CMD_PULSE_BASE 0xF0  /* 0xF0-0xFF: pulse output port bits 3:0 low */
#define I8042_CMD_SYSTEM_RESET 0xFE /* pulse bit 0: the CPU reset line */

#define I8042_RET_CTL_TEST   0x55
#define I8042_OUTP_RESET     0x01  /* output port bit 0: 0 holds the CPU in reset */
#define I8042_OUTP_A20       0x02

/* keyboard commands and replies */
#define KBD_CMD_SETLEDS   0xED     /* + 1 parameter byte */
#define KBD_CMD_ECHO      0xEE     /* reply 0xEE */
#define KBD_CMD_SCANSET   0xF0     /* + 1 parameter byte; 0: report the set */
#define KBD_CMD_GETID     0xF2     /* reply ACK, 0xAB, 0x83 (MF2 keyboard) */
#define KBD_CMD_SETREP    0xF3     /* + 1 parameter byte */
#define KBD_CMD_RESET     0xFF     /* reply ACK, then BAT 0xAA */
#define KBD_REPLY_ACK     0xFA
#define KBD_REPLY_BAT_OK  0xAA
#define KBD_ID_0          0xAB
#define KBD_ID_1          0x83

/* system control port A */
#define SYSCTL_A_FAST_RESET 0x01
#define SYSCTL_A_A20        0x02

#endif
