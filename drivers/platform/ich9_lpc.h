/* The ICH9 LPC bridge's PCI interrupt routing, as QEMU's q35 machine
 * models it (Intel I/O Controller Hub 9 datasheet, 316972: 5.9.2 the I/O
 * APIC interrupt mapping, PIRQA#..PIRQH# on IRQ16..23; chapter 13.1, the
 * LPC configuration registers PIRQ[A-D]_ROUT at 60h-63h and
 * PIRQ[E-H]_ROUT at 68h-6Bh).  PIRQA..PIRQH are the eight PCI interrupt
 * request lines after the chipset's swizzle; each goes to I/O APIC input
 * 16 + n and, when its PIRQ[n]_ROUT.IRQEN is 0, to the 8259 IRQ in 3:0.
 * Firmware (SeaBIOS on q35) programs PIRQ[n]_ROUT and writes that 8259 IRQ
 * into each function's Interrupt Line register.  Freestanding. */
#ifndef IOVIRT_DRIVERS_PLATFORM_ICH9_LPC_H
#define IOVIRT_DRIVERS_PLATFORM_ICH9_LPC_H

#define ICH9_LPC_DEV            31       /* bus 0, device 31, function 0 */
#define ICH9_LPC_VENDOR         0x8086
#define ICH9_LPC_DEVICE         0x2918   /* 82801IB (ICH9) LPC, what q35 presents */
#define ICH9_LPC_PIRQA_ROUT     0x60     /* PIRQA..D: 0x60..0x63 */
#define ICH9_LPC_PIRQE_ROUT     0x68     /* PIRQE..H: 0x68..0x6B */
#define ICH9_PIRQ_ROUT_IRQEN    0x80     /* 1 = not routed to the 8259 */
#define ICH9_PIRQ_ROUT_IRQ(r)   ((r) & 0x0F)
#define ICH9_NUM_PIRQ           8
#define ICH9_PIRQ_GSI_BASE      16       /* PIRQn -> I/O APIC input 16 + n */

#endif
