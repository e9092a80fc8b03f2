/* HPET register layout, names from the IA-PC HPET (High Precision Event
 * Timers) Specification, revision 1.0a (October 2004), section 2.3
 * "Register Descriptions" (2.3.1 register map).  Freestanding: included by
 * the host model (hw/timer/hpet.c) and by the guest kernel's timer driver.
 *
 * The platform implements a subset (see docs/guest.md): 64-bit main counter,
 * HPET_NUM_TIMERS comparators, one-shot and periodic modes, FSB (MSI-style)
 * delivery; no LegacyReplacement route. */
#ifndef IOVIRT_DRIVERS_HPET_HPET_REGS_H
#define IOVIRT_DRIVERS_HPET_HPET_REGS_H

#include <stdint.h>

#define HPET_MMIO_SIZE 0x400u /* 1 KiB register block (spec 2.3.1) */

/* 2.3.4 General Capabilities and ID Register (RO, 64 bit) */
#define HPET_GCAP_ID                      0x000
#define HPET_GCAP_REV_ID_MASK             0xFFull        /* 7:0 */
#define HPET_GCAP_NUM_TIM_CAP_SHIFT       8              /* 12:8 = last timer index */
#define HPET_GCAP_NUM_TIM_CAP_MASK        (0x1Full << 8)
#define HPET_GCAP_COUNT_SIZE_CAP          (1ull << 13)   /* 1 = 64-bit main counter */
#define HPET_GCAP_LEG_RT_CAP              (1ull << 15)
#define HPET_GCAP_VENDOR_ID_SHIFT         16             /* 31:16 */
#define HPET_GCAP_COUNTER_CLK_PERIOD_SHIFT 32            /* 63:32, femtoseconds per tick */
#define HPET_MAX_CLK_PERIOD_FS            0x05F5E100u    /* spec: period <= 100 ns */

/* 2.3.5 General Configuration Register (RW) */
#define HPET_GEN_CONF                     0x010
#define HPET_GEN_CONF_ENABLE_CNF          (1ull << 0)    /* main counter runs, interrupts allowed */
#define HPET_GEN_CONF_LEG_RT_CNF          (1ull << 1)

/* 2.3.6 General Interrupt Status Register (RW1C; level-triggered timers) */
#define HPET_GINTR_STA                    0x020
#define HPET_GINTR_STA_Tn_INT_STS(n)      (1ull << (n))

/* 2.3.7 Main Counter Value Register */
#define HPET_MAIN_COUNTER                 0x0F0

/* 2.3.8 Timer N Configuration and Capability Register */
#define HPET_TIMn_CONF(n)                 (0x100u + 0x20u * (n))
#define HPET_Tn_INT_TYPE_CNF              (1ull << 1)    /* 0 edge, 1 level */
#define HPET_Tn_INT_ENB_CNF               (1ull << 2)
#define HPET_Tn_TYPE_CNF                  (1ull << 3)    /* 1 periodic */
#define HPET_Tn_PER_INT_CAP               (1ull << 4)    /* RO */
#define HPET_Tn_SIZE_CAP                  (1ull << 5)    /* RO, 1 = 64-bit comparator */
#define HPET_Tn_VAL_SET_CNF               (1ull << 6)
#define HPET_Tn_32MODE_CNF                (1ull << 8)
#define HPET_Tn_INT_ROUTE_CNF_SHIFT       9              /* 13:9 */
#define HPET_Tn_INT_ROUTE_CNF_MASK        (0x1Full << 9)
#define HPET_Tn_FSB_EN_CNF                (1ull << 14)
#define HPET_Tn_FSB_INT_DEL_CAP           (1ull << 15)   /* RO */
#define HPET_Tn_INT_ROUTE_CAP_SHIFT       32             /* 63:32, RO */

/* 2.3.9 Timer N Comparator Value Register */
#define HPET_TIMn_COMPARATOR(n)           (0x108u + 0x20u * (n))

/* 2.3.10 Timer N FSB Interrupt Route Register: 31:0 FSB_INT_VAL (data),
 * 63:32 FSB_INT_ADDR (address), the message written when the timer fires. */
#define HPET_TIMn_FSB_INT_ROUTE(n)        (0x110u + 0x20u * (n))

#endif
