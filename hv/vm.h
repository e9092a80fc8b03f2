/* A virtual machine: guest RAM on scattered host extents, one vCPU on a
 * backend chosen through its ops table (vcpu/vcpu.h), and the devices a
 * guest kernel expects at the platform's addresses
 * (drivers/platform/platform_map.h), all emulated by trapping: 16550
 * console, PCI host bridge with configuration mechanism #1 and ECAM,
 * HPET-like timer, CMOS clock, i8042 (reset), power-off port and one NIC in
 * the chosen mode:
 *   emulated  hw/e1000 model on guest memory (hv/e1000_emul)
 *   virtio    virtio-net 1.x (hv/virtio)
 *   assigned  the platform's physical NIC (hv/assign)
 * Emulated and virtio NICs reach the wire through the host bridge.
 * Everything hangs off struct hv_vm: several VMs can run at once. */
#ifndef IOVIRT_HV_VM_H
#define IOVIRT_HV_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/e1000_emul.h"
#include "hv/guest_mem.h"
#include "hv/vm_irq.h"
#include "host/bridge.h"
#include "host/host_os.h"
#include "hw/pci/pci_bus.h"
#include "hw/i8042.h"
#include "hw/mc146818_rtc.h"
#include "hw/uart_16550.h"
#include "lib/cpu_sample.h"
#include "drivers/platform/platform_map.h"
#include "vcpu/vcpu.h"
#include "vcpu/vcpu_trap.h"

struct hpet;
struct virtio_net;
struct hv_assign;

enum hv_nic_mode { HV_NIC_NONE, HV_NIC_EMULATED, HV_NIC_VIRTIO, HV_NIC_ASSIGNED };

/* Guest-physical layout (the platform's, so the same kernel sources run
 * natively (testbed/native.h, no VM) and in a VM). */
#define HV_NIC_SLOT       2              /* 00:02.0, requester ID 0x0010 */
/* Its INTA# wire: I/O APIC input 11 (a PCI line, level, active low, as
 * the MP table says; ISA IRQ 11 is not used), also what firmware writes
 * into its Interrupt Line register. */
#define HV_NIC_INTX_LINE  11
#define HV_MAX_RAM        (PLATFORM_PCI_MMIO_BASE - PLATFORM_RAM_BASE)

typedef void (*hv_console_fn)(void *ctx, const char *line, size_t len);

struct hv_vm_config {
    const char *name;            /* for messages, e.g. "vm0" */
    const struct vcpu_ops *backend; /* NULL: the default one for the kernel's
                                  * boot protocol (vcpu__backend_for_boot) */
    struct physmem *pm;
    uint64_t mem_bytes;          /* multiple of 2 MiB */
    const char *kernel_path;
    const char *cmdline;         /* a Linux bzImage: the kernel command line */
    const char *initrd_path;     /* a Linux bzImage: its initrd, NULL = none */
    enum hv_nic_mode nic;
    uint8_t mac[6];
    struct bridge *bridge;       /* emulated / virtio: the host's bridge */
    uint64_t virtio_features_off; /* virtio: feature bits the device does not
                                  * offer (virtio_net__parse_features_off) */
    struct host_os *host;        /* assigned: the machine's host OS */
    const char *assign_source;   /* assigned: "model" (NULL) or "vfio:BDF" (hv/assign.h) */
    uint64_t tsc_hz;             /* host TSC frequency told to the guest (lib/tsc.h) */
    bool allow_unsafe_interrupts; /* assigned: accept a device source that
                                  * cannot isolate interrupts (hv/assign.h) */
    hv_console_fn console;       /* NULL: print lines to stdout */
    void *console_ctx;
};

/* One trapped register window of a device (BAR or fixed range). */
struct hv_window {
    struct hv_vm *vm;
    const struct mmio_ops *ops;
    void *dev;
    uint64_t base, len;          /* base 0 = not mapped */
    enum vcpu_trap_space space;
    const char *name;
};

#define HV_MAX_WINDOWS 16

/* What a return from vcpu__run was, for the run loop's CPU accounting. */
enum hv_exit_kind {
    HV_EXIT_MMIO_READ, HV_EXIT_MMIO_WRITE, HV_EXIT_PIO_IN, HV_EXIT_PIO_OUT, HV_EXIT_HLT,
    HV_EXIT_OTHER, /* interrupt window, kick, anything else that returns */
    HV_EXIT_KINDS
};
const char *hv_exit_kind_name(enum hv_exit_kind k);

struct hv_vm {
    struct hv_vm_config cfg;
    struct guest_mem mem;
    /* A Linux VM's RAM at GPA 0..1 MiB (its real-mode trampoline, the EBDA
     * and ROM area): the first MiB of one more 2 MiB host extent. */
    bool low_mem;
    uint64_t low_hpa;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu vcpu;
    bool vcpu_created;
    struct vcpu_traps traps;
    struct vm_irq irq;
    int halt_fd;                 /* eventfd: an interrupt arrived (wakes HLT) */

    struct uart_16550 uart;
    struct mc146818 rtc;
    struct i8042 i8042;          /* and port 0x92 */
    struct pci_bus pci;
    struct pci_dev host_bridge;
    struct hpet *hpet;
    struct irq_sink hpet_sink;   /* lives as long as the timer */
    struct hv_window windows[HV_MAX_WINDOWS];
    unsigned nwindows;

    /* the NIC, by mode */
    struct pci_dev *nic_pci;
    struct hv_window *nic_bar[PCI_NUM_BARS];
    struct e1000_emul *e1000;
    struct virtio_net *virtio;
    struct hv_assign *assign;
    struct bridge_port port;
    bool port_attached;

    volatile bool stop_requested;
    bool powered_off;
    int exit_status;             /* guest's power-off value */
    const char *reset_by;        /* the guest reset the machine: "i8042" or
                                  * "port 0x92" (static text); NULL: no */
    uint64_t halts;
    /* The run loop's own CPU by the kind of exit it served (sampled, one
     * run in CPU_SAMPLE_EVERY: lib/cpu_sample.h): from the call that
     * resumed the guest (delivery, hand-off, waiting: spin or sleep, and
     * the decode; hand-offs the backend completes itself, e.g. cli/sti,
     * fall in the run that returns next) to the end of handling the exit
     * (device emulation, or the halt).  Read on the run loop's thread. */
    struct cpu_sample exit_cpu[HV_EXIT_KINDS];
    uint64_t exit_spin_ns[HV_EXIT_KINDS]; /* of the timed runs: the backend's spin (wall) */
    uint32_t exit_tick;
};

/* 0, or -errno with one clear message logged (bad config, kernel does not
 * load, out of host memory).  On error nothing is left allocated. */
int hv_vm__create(struct hv_vm *vm, const struct hv_vm_config *cfg);
/* Run until the guest powers off (returns 0, exit status in exit_status),
 * resets the machine (returns 0, reset_by set, exit_status 0: a reboot
 * ends the VM cleanly), faults or dies (-EFAULT, reported), or
 * hv_vm__stop() (-EINTR). */
int hv_vm__run(struct hv_vm *vm);
void hv_vm__stop(struct hv_vm *vm);   /* any thread */
/* The one line hv_vm__run() reports ("NAME: " before it) when exit e stops
 * the VM (a fault or the guest process's end): no newline, no control
 * character.  0, or -1 (and "") for an exit that does not stop it. */
#define HV_VM_STOP_MESSAGE_MAX 320
int hv_vm__stop_message(const struct vcpu_exit *e, char *buf, size_t size);
void hv_vm__destroy(struct hv_vm *vm);
/* Exit counts by reason and by device, one line each. */
void hv_vm__print_stats(struct hv_vm *vm, FILE *out);
/* Queue an interrupt for the guest (device threads). */
void hv_vm__inject(void *vm, uint8_t vector);

#endif
