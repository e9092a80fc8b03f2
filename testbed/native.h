/* Native mode: the guest kernel (its native port, guest/hal/native) as the
 * machine's own OS, with no hypervisor (drivers/platform/native_abi.h).
 *
 *   - RAM: identity (HPA == GPA), mapped in this process at VA == GPA, where
 *     the kernel image is loaded (vcpu/guest_load's ELF checks) and runs: it
 *     is the machine's trusted OS, as on bare metal;
 *   - CPU: one thread of this process runs the kernel's entry;
 *   - bus: a port I/O or MMIO access is a direct call into the device model
 *     (PCI configuration mechanism #1 and ECAM of the platform's bus, the
 *     NIC's BAR0/BAR1 registers, the 16550 console, the HPET, the power-off
 *     port), counted as bus accesses, never as exits: there is no exit;
 *   - DMA: the NIC's context entry is pass-through (bus address == HPA);
 *   - interrupts: the platform interrupt controller's handler for every
 *     kernel vector marks it pending and interrupts the CPU thread (SIGUSR2);
 *     the handler (on an alternate stack) enters the kernel's IDT gate with
 *     an interrupt frame when the CPU is in kernel code and unmasked.
 * One native machine per process at a time (its RAM sits at fixed addresses). */
#ifndef IOVIRT_TESTBED_NATIVE_H
#define IOVIRT_TESTBED_NATIVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "drivers/platform/native_abi.h"
#include "host/host_os.h"
#include "hv/guest_mem.h"
#include "hw/intc/intc.h"
#include "hw/uart_16550.h"
#include "vcpu/vcpu.h"

struct hpet;

typedef void (*native_console_fn)(void *ctx, const char *line, size_t len);

struct native_config {
    struct host_os *host;        /* booted without interrupt remapping */
    uint64_t mem_bytes;          /* multiple of 2 MiB */
    const char *kernel_path;     /* the native port's ELF */
    const char *cmdline;
    uint64_t tsc_hz;
    native_console_fn console;   /* NULL: print lines to stdout */
    void *console_ctx;
};

struct native_stats {
    uint64_t pio_reads, pio_writes, mmio_reads, mmio_writes; /* bus accesses (no exits) */
    uint64_t unclaimed;          /* accesses no device decoded (master abort) */
    uint64_t raised;             /* vectors the interrupt controller handed the CPU */
    uint64_t coalesced;          /* raised while the same vector was still pending */
    uint64_t delivered;          /* entered the kernel's IDT (both paths) */
    uint64_t delivered_async;    /* of which by the signal handler */
    uint64_t signals, halts, bad_gates;
};

struct native_machine {
    struct native_config cfg;
    struct guest_mem mem;
    struct vcpu_memmap map;      /* the loader's view of RAM */
    bool map_up;
    uint64_t ram_mapped;         /* bytes mapped at VA == GPA from PLATFORM_RAM_BASE */
    uint64_t entry, image_start, image_end;

    struct native_cpu cpu;
    struct native_bus bus;
    struct native_bootinfo bi;
    char *cmdline;

    struct uart_16550 uart;
    struct hpet *hpet;
    struct intc_port hpet_port;
    struct irq_sink hpet_sink;
    bool irqs_registered, nic_attached;

    pthread_t thread;
    volatile pid_t tid;
    volatile int running;        /* the CPU thread is inside the kernel */
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool halted;
    uint64_t cpu_ns_at_end;

    bool powered_off;
    int exit_status;
    struct native_stats stats;
};

/* 0, or -errno with a message logged; nothing left on error. */
int native__create(struct native_machine *m, const struct native_config *cfg);
/* Run the kernel on its CPU thread until it powers off (0, status in
 * exit_status) or native__stop() (-EINTR). */
int native__run(struct native_machine *m);
/* Any thread, also a signal handler: leave the kernel at once. */
void native__stop(struct native_machine *m);
void native__destroy(struct native_machine *m);
/* CPU time of the CPU thread so far (it is part of this process's time). */
int64_t native__cpu_time_ns(struct native_machine *m);
void native__get_stats(struct native_machine *m, struct native_stats *out);
void native__print_stats(struct native_machine *m, FILE *out);
/* Raise `vector` on the CPU as the interrupt controller would (tests). */
void native__raise(struct native_machine *m, uint8_t vector);

#endif
