/* The CPU contract of the process backend, as a guest kernel sees it.
 * Freestanding (stdint only): included by guest/ and by vcpu/.
 *
 * A guest kernel runs in ring 3 of a sandboxed process.  Everything a real
 * x86 kernel does with privilege works by trapping to whoever runs it (the
 * hypervisor), which emulates it (native mode uses another port and
 * contract, drivers/platform/native_abi.h):
 *   - in/out            port I/O (serial 0x3F8, PCI 0xCF8/0xCFC, ...)
 *   - MMIO to device pages that are not directly mapped
 *   - hlt               wait for the next interrupt
 *   - lidt              registers the IDT; injected interrupts enter the
 *                       64-bit interrupt gate's handler for the vector
 *   - cli/sti           set/clear the virtual IF (each costs an exit)
 * and the same contract holds in every VM.
 *
 * Cheap interrupt masking (no exit), like Xen PV's event-channel mask: the
 * guest may instead write proc_cpu_page.irq_masked; while it is non-zero no
 * interrupt is injected (the runner sets irq_pending when one waits).  After
 * unmasking, a guest that sees irq_pending set executes a trapping
 * instruction so the pending interrupt is delivered: `sti` is the right one
 * (it never halts; `hlt` would halt if the interrupt was delivered between
 * the check and the hlt).  As a safety net the process runner re-checks a
 * masked guest with a pending interrupt about every millisecond.
 *
 * An interrupt is delivered when virtual IF = 1 and irq_masked = 0.  Virtual
 * IF starts at 0, as after reset: the guest executes `sti` once its IDT is
 * loaded.  PUSHF/POPF cannot be trapped in ring 3 (POPF at CPL > IOPL leaves
 * IF unchanged without a fault, PUSHF always shows IF = 1; Intel SDM Vol. 2,
 * POPF/PUSHF): a guest must not save/restore interrupt state with them; it
 * uses cli/sti or irq_masked.
 *
 * Interrupt frame: like a 64-bit interrupt gate with no privilege change and
 * no error code: the runner aligns RSP down to 16, pushes SS, RSP, RFLAGS,
 * CS, RIP (the guest's own values) and enters the handler with interrupts
 * virtually masked (irq_masked = 1).  The handler returns with
 * `irq_masked = 0; iretq` (ring 3 to ring 3: iretq runs natively).  The
 * gate must be a present 64-bit interrupt or trap gate (type 0xE/0xF;
 * selector, DPL and IST are ignored).  Because frames land on the current
 * stack, guest code is compiled with -mno-red-zone, as any x86-64 kernel.
 * An interrupt that cannot be delivered (no IDT, vector beyond its limit,
 * gate not present, stack not in RAM) stops the guest with a fault exit
 * (vector 8, as a double fault would).  Only vectors 32..255 are injected;
 * CPU exceptions the guest raises itself end the run as fault exits, they
 * are not delivered to its IDT.
 *
 * Address space: guest-physical addresses stay below 1 << 46; the process
 * runner keeps its own trap stub and mailbox above that (the guest can reach
 * them, but only hurts itself). */
#ifndef IOVIRT_VCPU_PROC_ABI_H
#define IOVIRT_VCPU_PROC_ABI_H

#include <stdint.h>

#include "drivers/platform/platform_map.h" /* RAM base, fixed ports */

/* Guest-physical layout (VA == GPA inside the guest process). */
#define PROC_BOOTINFO_MAGIC  0x544f4f4254524956ull /* "VIRTBOOT" */

/* Written by the loader into guest RAM; its GPA is in RDI at entry.
 * RSP at entry points into RAM with room for the kernel's boot stack
 * (64 KiB, 16-byte aligned, as at a process entry point); vcpu/guest_load.c
 * puts [cpu page][bootinfo + cmdline][boot stack] right after the image. */
struct proc_bootinfo {
    uint64_t magic;
    uint64_t ram_base;        /* PLATFORM_RAM_BASE */
    uint64_t ram_size;        /* bytes */
    uint64_t cmdline_gpa;     /* NUL-terminated command line */
    uint64_t cpu_page_gpa;    /* struct proc_cpu_page, one 4 KiB page */
    uint64_t tsc_hz;          /* rdtsc frequency (rdtsc runs natively) */
    uint64_t free_gpa;        /* first byte after the loaded image, page aligned */
};

/* Shared between the guest and its runner; lives in guest RAM. */
struct proc_cpu_page {
    volatile uint32_t irq_masked;   /* guest writes: 1 = hold interrupts */
    volatile uint32_t irq_pending;  /* runner writes: 1 = an interrupt waits */
    volatile uint64_t reserved[7];
};

#endif
