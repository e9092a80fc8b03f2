/* Hardware abstraction layer of the guest kernel: everything above it
 * (kernel, PCI, drivers, programs) is the same for every port.
 *
 * Ports: guest/hal/proc/ (ring 3 under the process backend: privileged
 * instructions trap to whoever runs the guest, IF is virtual, see
 * vcpu/proc/proc_abi.h); guest/hal/native/ (the machine's own OS, no
 * hypervisor: device accesses are calls into the machine's bus, interrupts
 * arrive asynchronously, see drivers/platform/native_abi.h); guest/hal/bare/
 * (ring 0 on an x86-64 CPU, booted by PVH: long mode, IDT, local APIC, I/O
 * APIC; see docs/guest.md).
 *
 * Port I/O and MMIO accessors are per port (below). */
#ifndef IOVIRT_GUEST_HAL_H
#define IOVIRT_GUEST_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a port's entry code hands to the kernel (port-neutral boot info). */
struct boot_params {
    uint64_t ram_base, ram_size;
    uint64_t free_start;      /* first free byte after image and boot data */
    const char *cmdline;
    uint64_t tsc_hz;
    struct { uint64_t addr, len; } reserved[4]; /* boot data to keep (len 0 = unused) */
};

/* The kernel's entry point, called by the port once the CPU is usable. */
void kernel__main(const struct boot_params *bp) __attribute__((noreturn));

/* ---- port I/O and MMIO (per port) ------------------------------------- */
/* hal__inb..outl and hal__mmio_read8..write64.  The proc and bare ports use
 * the x86 instructions themselves (guest/hal/x86_io.h: under the process
 * backend they trap to whoever runs the guest, on a CPU they reach the
 * device); the native port, whose kernel is the machine's own OS running in
 * the iovirt process, calls the machine's bus (guest/hal/native/hal_io.h).
 * mk/guest.mk defines IOVIRT_HAL_NATIVE for the native port. */
#if defined(IOVIRT_HAL_NATIVE)
#include "guest/hal/native/hal_io.h"
#else
#include "guest/hal/x86_io.h"
#endif

/* Compiler barrier / full fence (device rings in RAM). */
static inline void hal__barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void hal__mb(void) { __asm__ volatile("mfence" ::: "memory"); }

/* ---- memory ----------------------------------------------------------- */
/* Bus address a device uses for a buffer: VA == GPA, and the platform's
 * IOMMU (if any) maps GPA to host memory. */
static inline uint64_t hal__dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }

/* ---- interrupts ------------------------------------------------------- */
#define HAL_NUM_VECTORS 256
/* Called (interrupts masked) for every vector the CPU delivers. */
typedef void (*hal_irq_dispatch_fn)(void *ctx, unsigned vector);

/* Install the vector table (IDT) and the dispatcher; interrupts stay
 * masked until hal__irq_enable(). */
void hal__irq_init(hal_irq_dispatch_fn fn, void *ctx);
/* Mask; returns whether interrupts were enabled before. */
bool hal__irq_save(void);
void hal__irq_restore(bool was_enabled);
void hal__irq_enable(void);
/* Enable interrupts and wait until one has been handled (x86 `sti; hlt`).
 * Call with interrupts masked after checking the wait condition; returns
 * with interrupts masked again. */
void hal__irq_wait(void);

/* MSI message the local interrupt controller accepts for `vector`
 * (x86: address 0xFEE00000 | dest << 12, data = vector, fixed, edge). */
static inline uint64_t hal__msi_addr(unsigned dest) { return 0xFEE00000ull | ((uint64_t)(dest & 0xFF) << 12); }
static inline uint32_t hal__msi_data(unsigned vector) { return vector & 0xFF; }

/* A handler now serves PCI INTx on `vector` (32 + Interrupt Line): let
 * that INTx through.  The bare port unmasks the I/O APIC inputs it routed
 * to the vector (until then a device asserting its line cannot storm a
 * vector nobody acknowledges); on the proc and native ports the platform
 * delivers INTx itself and this does nothing. */
void hal__intx_enable(unsigned vector);

/* ---- time ------------------------------------------------------------- */
static inline uint64_t hal__rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
uint64_t hal__tsc_hz(void);
uint64_t hal__now_ns(void);     /* monotonic, from the TSC */

/* ---- platform --------------------------------------------------------- */
/* Fixed platform resources a port knows. */
uint64_t hal__hpet_base(void);
void hal__poweroff(int status) __attribute__((noreturn));

#endif
