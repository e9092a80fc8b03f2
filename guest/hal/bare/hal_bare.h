/* Internals of the bare port (guest/hal/bare/): shared between its files,
 * never included above the HAL. */
#ifndef IOVIRT_GUEST_HAL_BARE_HAL_BARE_H
#define IOVIRT_GUEST_HAL_BARE_HAL_BARE_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/platform/pvh.h"
#include "guest/hal/hal.h"

/* Status the port powers off with when the kernel takes an exception
 * (sysexits' EX_SOFTWARE; below 128 so QEMU's isa-debug-exit can carry it). */
#define HAL_BARE_STATUS_FAULT 70
/* Status for unusable boot data (as the other ports). */
#define HAL_BARE_STATUS_BOOT  2

/* What isr.S pushed, lowest address first (struct pointer = RSP). */
struct bare_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};

/* Boot data saved before .bss is cleared (hal_bare.c). */
#define HAL_BARE_MAX_MEMMAP 32
struct bare_boot {
    const struct hvm_start_info *si_addr;
    struct hvm_start_info si;
    struct hvm_memmap_table_entry memmap[HAL_BARE_MAX_MEMMAP];
    unsigned nmemmap;
    char cmdline[512];
    uint64_t cmdline_len;
    uint64_t entry_tsc;                  /* rdtsc on entry to C */
};
extern struct bare_boot hal_bare_boot;

/* Minimal console for the port's own messages (COM1, polled). */
void hal_bare__printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* hal_bare_apic.c: local APIC and 8259. */
void hal_bare__lapic_init(void);
void hal_bare__lapic_eoi(void);
#define HAL_BARE_SPURIOUS_VECTOR 0xFF

/* hal_bare_ioapic.c: I/O APIC, INTx routing. */
void hal_bare__ioapic_init(void);

/* hal_bare_tss.c: TSS with an IST stack for #DF, guard page under the stack. */
void hal_bare__tss_init(void);
#define HAL_BARE_DF_IST 1

/* hal_bare_time.c */
void hal_bare__time_init(void);

#endif
