/* The native port's contract with the machine (guest/hal/native, and the
 * machine that boots it, testbed/native.c).
 *
 * Native means no hypervisor: the guest kernel is the machine's own OS.
 * It runs in the iovirt process (the machine's CPU is a thread of it), its
 * RAM mapped at VA == GPA == HPA.  A real CPU reaches a device with a load,
 * a store or an in/out instruction that becomes a bus cycle; here the same
 * bus access is a direct call through `struct native_bus` into the device
 * model (in-process `in`/`out` would fault).  Nothing traps and nothing is
 * counted as an exit.
 *
 * Interrupts: the machine's interrupt controller hands a vector to this CPU
 * by setting its bit in `pending` and interrupting the CPU thread (a
 * signal).  The vector enters the kernel's IDT gate handler with the frame
 * a 64-bit interrupt gate pushes without privilege change (SS, RSP, RFLAGS,
 * CS, RIP on the interrupted stack, RSP first aligned down to 16), with
 * `irq_masked` set; the handler returns with iretq (user CS/SS: iretq runs
 * in ring 3).  A vector is delivered only when vif = 1, irq_masked = 0 and
 * the CPU is executing kernel code (the image); while the kernel is inside
 * a bus call the vector stays pending and the port takes it when the call
 * returns (`attention`), when it unmasks, or when it halts.
 *
 * Entry: int _start(const struct native_bootinfo *bi), called on the CPU
 * thread's stack; it returns (to the machine) only when the kernel powers
 * off or is stopped, with the power-off status or NATIVE_STATUS_STOPPED. */
#ifndef IOVIRT_DRIVERS_PLATFORM_NATIVE_ABI_H
#define IOVIRT_DRIVERS_PLATFORM_NATIVE_ABI_H

#include <stdint.h>

#define NATIVE_BOOTINFO_MAGIC 0x4E41544956453031ull /* "NATIVE01" */
#define NATIVE_STATUS_STOPPED (-4)                  /* -EINTR: the machine stopped the CPU */

/* CPU state the kernel and the machine share (one CPU). */
struct native_cpu {
    volatile uint32_t irq_masked;  /* kernel: 1 = interrupts masked (the IF the kernel uses) */
    volatile uint32_t vif;         /* kernel: IF set by the first `sti` after lidt */
    volatile uint32_t attention;   /* machine: nonzero when a vector is pending or stop is asked */
    volatile uint32_t stop;        /* machine: leave the kernel at the next kernel instruction */
    volatile uint64_t pending[4];  /* raised, not yet delivered vectors (atomic bit ops) */
    volatile uint64_t delivered;   /* vectors delivered (signal or port), any path */
    uint64_t idt_base;             /* from lidt */
    uint32_t idt_limit;
    uint32_t pad;
    uint64_t stopped_rip;          /* kernel: where a stop resumes (leaves _start) */
};

/* Highest pending vector (x86 priority), its bit atomically cleared; -1 if
 * none.  Shared by the kernel (taking a vector itself) and the machine (its
 * signal handler), which race for the same bits: whoever clears a bit
 * delivers it, exactly once. */
static inline int native_cpu__take_pending(struct native_cpu *c)
{
    for (int w = 3; w >= 0; w--) {
        uint64_t p = __atomic_load_n(&c->pending[w], __ATOMIC_ACQUIRE);
        while (p) {
            int b = 63 - __builtin_clzll(p);
            uint64_t bit = 1ull << b;
            uint64_t old = __atomic_fetch_and(&c->pending[w], ~bit, __ATOMIC_ACQ_REL);
            if (old & bit)
                return w * 64 + b;
            p = old & ~bit;
        }
    }
    return -1;
}

/* The machine's bus.  Every function is called on the CPU thread. */
struct native_bus {
    void *ctx;
    uint32_t (*pio_read)(void *ctx, uint16_t port, unsigned size);
    void (*pio_write)(void *ctx, uint16_t port, unsigned size, uint32_t val);
    uint64_t (*mmio_read)(void *ctx, uint64_t addr, unsigned size);
    void (*mmio_write)(void *ctx, uint64_t addr, unsigned size, uint64_t val);
    void (*lidt)(void *ctx, uint64_t base, uint32_t limit);
    /* hlt: sleep until cpu->delivered != seen, a vector is pending or stop
     * is asked (bounded sleeps inside, no spinning); may return early. */
    void (*halt)(void *ctx, uint64_t seen);
    /* Record the power-off status; the port then leaves _start. */
    void (*poweroff)(void *ctx, int status);
};

struct native_bootinfo {
    uint64_t magic;
    const struct native_bus *bus;
    struct native_cpu *cpu;
    uint64_t ram_base, ram_size;
    uint64_t free_gpa;             /* first RAM byte the kernel may allocate */
    uint64_t tsc_hz;
    const char *cmdline;
};

#endif
