/* Virtual CPU interface: what the hypervisor sees of "a way to run guest
 * code".  A backend (the sandboxed-process backend in vcpu/proc/, later KVM)
 * fills an ops table; everything above (hv/, bench/, tests) uses only the
 * vcpu__* wrappers below, which also do the exit accounting.
 *
 * The model is KVM's: vcpu__run() runs the guest until an exit the caller
 * must handle and fills vcpu->exit.  For MMIO/port reads the caller stores
 * the value in exit.mmio.data / exit.pio.data before the next vcpu__run(),
 * which completes the instruction (writes the destination register, advances
 * RIP).  Interrupts are queued with vcpu__inject_irq() (any thread) and
 * delivered by the backend as soon as the guest can take them.
 *
 * No global state: a vcpu hangs off its vm, the vm owns the memory map. */
#ifndef IOVIRT_VCPU_VCPU_H
#define IOVIRT_VCPU_VCPU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct physmem;
struct vcpu;
struct vm;

/* ---- guest memory map ------------------------------------------------- */

/* Highest guest-physical address + 1 any backend accepts (64 TiB); the
 * process backend keeps its own code above this. */
#define VCPU_GPA_LIMIT (1ull << 46)
#define VCPU_MEMMAP_MAX 4096

enum vcpu_mem_kind {
    VCPU_MEM_RAM,     /* guest RAM: [gpa, gpa+len) -> physmem HPA [hpa, hpa+len) */
    VCPU_MEM_DIRECT,  /* directly mapped device pages: fd at offset */
};

struct vcpu_mem_region {
    enum vcpu_mem_kind kind;
    uint64_t gpa, len;    /* page aligned */
    uint64_t hpa;         /* RAM: offset in physmem */
    int fd;               /* DIRECT: file to map (not owned) */
    uint64_t offset;      /* DIRECT: offset in fd, page aligned */
    bool writable;        /* DIRECT: map read-write (else read-only) */
};

/* Anything not covered by a region is emulated: an access exits (MMIO). */
struct vcpu_memmap {
    const struct physmem *pm;
    struct vcpu_mem_region *r;   /* sorted by gpa, non-overlapping */
    unsigned n, cap;
};

void vcpu_memmap__init(struct vcpu_memmap *m, const struct physmem *pm);
void vcpu_memmap__destroy(struct vcpu_memmap *m);
/* 0, or -EINVAL (unaligned, empty, beyond VCPU_GPA_LIMIT, HPA outside
 * physmem), -EEXIST (overlaps a region), -ENOSPC, -ENOMEM. */
int vcpu_memmap__add_ram(struct vcpu_memmap *m, uint64_t gpa, uint64_t hpa, uint64_t len);
int vcpu_memmap__add_direct(struct vcpu_memmap *m, uint64_t gpa, uint64_t len, int fd,
                            uint64_t offset, bool writable);
/* Host pointer to guest RAM [gpa, gpa+len) if it lies inside one RAM region,
 * else NULL.  The one helper every guest address goes through. */
void *vcpu_memmap__ram_ptr(const struct vcpu_memmap *m, uint64_t gpa, uint64_t len);
/* Copy to/from guest RAM across regions; 0 or -EFAULT (partial copies are
 * possible only for writes that hit a hole: callers treat -EFAULT as fatal
 * for the guest, never for the host). */
int vcpu_memmap__read(const struct vcpu_memmap *m, uint64_t gpa, void *buf, size_t len);
int vcpu_memmap__write(const struct vcpu_memmap *m, uint64_t gpa, const void *buf, size_t len);
/* The one contiguous RAM range starting at `base` (length of the run of
 * adjacent RAM regions), 0 if base is not RAM. */
uint64_t vcpu_memmap__ram_run(const struct vcpu_memmap *m, uint64_t base);

/* ---- registers and exits ---------------------------------------------- */

/* General-purpose registers in encoding order (same as enum x86_gpr). */
struct vcpu_regs {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
};

enum vcpu_exit_reason {
    VCPU_EXIT_NONE,
    VCPU_EXIT_MMIO,          /* exit.mmio */
    VCPU_EXIT_PIO,           /* exit.pio */
    VCPU_EXIT_HLT,           /* hlt with no interrupt deliverable; RIP is past it */
    VCPU_EXIT_IRQ_WINDOW,    /* vcpu->request_irq_window and the guest can take one */
    VCPU_EXIT_INTR,          /* vcpu__kick(): run stopped on request */
    VCPU_EXIT_FAULT,         /* exit.fault: guest exception or undecodable trap */
    VCPU_EXIT_SHUTDOWN,      /* exit.shutdown: the guest is gone */
    VCPU_EXIT__COUNT
};

enum vcpu_shutdown_cause {
    VCPU_SHUTDOWN_EXITED,    /* guest process exited (status) */
    VCPU_SHUTDOWN_SIGNALED,  /* killed by a signal (signo; SIGSYS = seccomp) */
    VCPU_SHUTDOWN_PROTOCOL,  /* trap protocol violated by the guest side */
    VCPU_SHUTDOWN_UNRESPONSIVE, /* did not answer a kick in time; killed */
};

/* Fault vectors beyond the architectural ones, for traps that are not CPU
 * exceptions. */
#define VCPU_FAULT_VEC_DOUBLE 8    /* an interrupt could not be delivered */

struct vcpu_exit {
    enum vcpu_exit_reason reason;
    union {
        struct {
            uint64_t addr;
            uint64_t data;      /* write: value; read: caller fills it */
            uint8_t len;        /* 1, 2, 4, 8 */
            bool is_write;
        } mmio;
        struct {
            uint16_t port;
            uint32_t data;      /* out: value; in: caller fills it */
            uint8_t len;        /* 1, 2, 4 */
            bool is_write;      /* out */
        } pio;
        struct {
            uint8_t vector;     /* x86 exception vector (14 #PF, 13 #GP, 6 #UD ...) */
            uint64_t error_code;
            uint64_t addr;      /* faulting address (#PF), else 0 */
            uint64_t rip;
            const char *why;    /* static text: what the backend could not do */
        } fault;
        struct {
            enum vcpu_shutdown_cause cause;
            int status;         /* exit status or signal number */
        } shutdown;
    };
};

/* ---- accounting (always on: a few adds per exit) ---------------------- */

enum vcpu_stat {
    VCPU_STAT_MMIO_READ, VCPU_STAT_MMIO_WRITE, VCPU_STAT_PIO_IN, VCPU_STAT_PIO_OUT,
    VCPU_STAT_HLT, VCPU_STAT_IRQ_WINDOW, VCPU_STAT_INTR, VCPU_STAT_FAULT,
    VCPU_STAT_SHUTDOWN,
    /* handled inside the backend, never seen by the caller */
    VCPU_STAT_CLI, VCPU_STAT_STI, VCPU_STAT_LIDT, VCPU_STAT_KICK,
    VCPU_STAT_INJECT,        /* interrupts delivered into the guest */
    VCPU_STAT_EXITS,         /* every guest->hypervisor round trip */
    VCPU_STAT__COUNT
};

struct vcpu_stats {
    uint64_t n[VCPU_STAT__COUNT];
    /* Wall time the caller's thread busy-waited inside run() for the
     * guest's next exit (a backend that spins before it sleeps: proc), ns.
     * Spinning is CPU: on the run loop's thread it is hypervisor CPU. */
    uint64_t spin_ns;
};

const char *vcpu__stat_name(enum vcpu_stat s);
const char *vcpu__exit_name(enum vcpu_exit_reason r);

/* ---- backends ----------------------------------------------------------- */

#define VCPU_CAP_DIRECT_MAP   (1u << 0)  /* VCPU_MEM_DIRECT regions */
#define VCPU_CAP_ASYNC_INJECT (1u << 1)  /* vcpu__inject_irq() while running */
#define VCPU_CAP_CPU_TIME     (1u << 2)  /* vcpu__cpu_time_ns() */
#define VCPU_CAP_SANDBOXED    (1u << 3)  /* guest cannot make host system calls */
/* hlt waits inside run() until an interrupt arrives (an in-kernel
 * interrupt controller): the caller never sleeps on a HLT exit. */
#define VCPU_CAP_HALT_IN_RUN  (1u << 4)
/* Guest code runs on the thread that calls run(): vcpu__cpu_time_ns() is
 * part of this process's CPU time, not another process's. */
#define VCPU_CAP_IN_PROCESS   (1u << 5)
/* The machine has an I/O APIC (82093AA, at PLATFORM_IOAPIC_BASE, inputs
 * 0-23) and a PIC behind it that the guest programs itself: devices drive
 * levels on their inputs with irq_line (kvm: the in-kernel irqchip).
 * Without it, an interrupt line is the hypervisor's edge-vector
 * convention (hv/vm_irq.h). */
#define VCPU_CAP_IOAPIC       (1u << 6)

/* How a backend enters a guest kernel (vcpu/guest_load.h lays out the boot
 * data for each):
 *   PROC  64-bit ring 3 at the ELF entry, RDI = struct proc_bootinfo
 *         (vcpu/proc/proc_abi.h): the proc port, build/guest/iovirt-guest.elf
 *   PVH   32-bit protected mode, paging off, at the ELF's PVH note entry,
 *         EBX = struct hvm_start_info (drivers/platform/pvh.h): the bare
 *         port, build/guest/iovirt-guest-bare.elf
 *   LINUX 64-bit long mode with paging (Linux boot.rst "64-bit BOOT
 *         PROTOCOL", drivers/platform/linux_boot.h): a stock bzImage at
 *         its load address + 0x200, RSI = the zero page; the loader builds
 *         the identity page tables and the GDT in guest low memory
 *         (vcpu/guest_load_linux.h) and the backend loads them
 *         (set_entry_state). */
enum vcpu_boot { VCPU_BOOT_PROC, VCPU_BOOT_PVH, VCPU_BOOT_LINUX };

/* The control state of an entry other than the one create() sets up. */
struct vcpu_entry_state {
    enum vcpu_boot boot;
    uint64_t cr3;              /* LINUX: GPA of the PML4 */
    uint64_t gdt_base;         /* LINUX: GPA of the GDT */
    uint16_t gdt_limit;
    uint16_t cs, ds;           /* selectors of its code and data descriptors */
};

struct vcpu_ops {
    const char *name;
    unsigned caps;
    enum vcpu_boot boot;
    /* Further protocols it enters (bit 1u << enum vcpu_boot), through
     * set_entry_state after create(); 0: only `boot`. */
    unsigned also_boots;
    int (*set_entry_state)(struct vcpu *v, const struct vcpu_entry_state *s);
    /* Can this host run the backend?  0, or -errno with `why` filled
     * ("no /dev/kvm: ENOENT"); on success `why` says what it uses.  NULL:
     * always. */
    int (*probe)(char *why, size_t len);
    int (*vm_init)(struct vm *vm);            /* backend state in vm->backend */
    void (*vm_destroy)(struct vm *vm);
    int (*create)(struct vcpu *v);            /* backend state in v->backend */
    void (*destroy)(struct vcpu *v);
    int (*get_regs)(struct vcpu *v, struct vcpu_regs *r);
    int (*set_regs)(struct vcpu *v, const struct vcpu_regs *r);
    int (*run)(struct vcpu *v);               /* fills v->exit */
    void (*kick)(struct vcpu *v);             /* thread safe */
    void (*notify_irq)(struct vcpu *v);       /* thread safe: irr changed */
    /* Would a pending interrupt be taken now (virtual IF and masks)?  Asked
     * only while the vCPU is not running (halted).  NULL: always. */
    bool (*interruptible)(struct vcpu *v);
    int64_t (*cpu_time_ns)(struct vcpu *v);
    /* Make a signal on eventfd `efd` raise `vector` (32..255, fixed, edge)
     * in the guest without passing through this process (KVM_IRQFD over an
     * MSI route), until detached.  NULL: not offered. */
    int (*irqfd_attach)(struct vm *vm, int efd, uint8_t vector);
    void (*irqfd_detach)(struct vm *vm, int efd);
    /* A level-triggered line (INTx) on input `pin` of the guest's I/O
     * APIC: a signal on `efd` asserts it, and the guest's EOI of the
     * vector its redirection entry names deasserts it and signals
     * `resample_fd` (KVM_IRQFD_FLAG_RESAMPLE), so the device can be checked
     * and the line asserted again.  NULL: not offered. */
    int (*irqfd_attach_level)(struct vm *vm, int efd, int resample_fd, unsigned pin);
    void (*irqfd_detach_level)(struct vm *vm, int efd, unsigned pin);
    /* Drive interrupt input `gsi` (0-23: ISA IRQ n is GSI n, PCI lines
     * GSI 5-23) to `level` (1 asserted, 0 not; logical, no polarity): the
     * I/O APIC delivers per the guest's redirection entry (edge or level,
     * re-delivered at EOI while asserted), the PIC per its own state.
     * Thread safe.  NULL: no VCPU_CAP_IOAPIC. */
    int (*irq_line)(struct vm *vm, unsigned gsi, int level);
};

struct vm {
    const struct vcpu_ops *ops;
    struct vcpu_memmap *mem;   /* not owned; must outlive the vm */
    void *backend;
};

struct vcpu {
    struct vm *vm;
    unsigned id;
    struct vcpu_exit exit;
    struct vcpu_stats stats;
    bool request_irq_window;            /* exit VCPU_EXIT_IRQ_WINDOW when deliverable */
    uint64_t cpu_page_gpa;              /* guest's struct proc_cpu_page, 0 = none */
    /* Pending vectors (bit per vector; bits 0..31 are never pending).
     * irr points at irr_local unless the backend keeps it elsewhere (the
     * process backend: in the page it shares with the guest process, as its
     * posted-interrupt bitmap; docs/vcpu.md). */
    _Atomic uint64_t *irr;
    _Atomic uint64_t irr_local[4];
    _Atomic bool kick_requested;
    void *backend;
};

int vm__init(struct vm *vm, const struct vcpu_ops *ops, struct vcpu_memmap *mem);
void vm__destroy(struct vm *vm);
int vcpu__create(struct vcpu *v, struct vm *vm, unsigned id);
void vcpu__destroy(struct vcpu *v);
int vcpu__get_regs(struct vcpu *v, struct vcpu_regs *r);
/* Put a created vcpu in the control state of protocol s->boot (one of the
 * backend's also_boots): 0, -ENOTSUP (the backend does not enter it), or
 * the backend's -errno. */
int vcpu__set_entry_state(struct vcpu *v, const struct vcpu_entry_state *s);
/* Replaces the guest state; an MMIO/PIO read still waiting for completion
 * is dropped (the caller chose the registers). */
int vcpu__set_regs(struct vcpu *v, const struct vcpu_regs *r);
/* 0 and v->exit filled, or -errno for host-side failures (the guest's
 * misbehaviour is an exit, never an error). */
int vcpu__run(struct vcpu *v);
/* Make a running vcpu__run() return VCPU_EXIT_INTR soon (any thread). */
void vcpu__kick(struct vcpu *v);
/* Queue interrupt `vector` (32..255) for delivery (any thread): 0 when it
 * became pending (the backend was notified), 1 when it already was (the two
 * coalesce, nothing else happens), -EINVAL for vectors reserved to
 * exceptions. */
int vcpu__inject_irq(struct vcpu *v, uint8_t vector);
bool vcpu__irq_pending(struct vcpu *v);
/* Pending and the guest would take it now.  A halted guest that cannot take
 * one (cli; hlt) stays halted, as a real CPU does: callers sleep. */
bool vcpu__irq_deliverable(struct vcpu *v);
/* CPU time the guest has used, ns, or -ENOTSUP. */
int64_t vcpu__cpu_time_ns(struct vcpu *v);

/* An eventfd that raises `vector` in the guest by itself (the backend's
 * irqfd_attach): 0, -ENOTSUP (the backend has none), -EINVAL (vector <
 * 32), -ENOSPC, or the backend's -errno.  detach is a no-op for an fd never
 * attached. */
int vm__irqfd_attach(struct vm *vm, int efd, uint8_t vector);
void vm__irqfd_detach(struct vm *vm, int efd);
/* The same for a level-triggered I/O APIC input with resampling (see
 * irqfd_attach_level): 0, -ENOTSUP, -EINVAL (pin > 23, bad fds), -errno. */
int vm__irqfd_attach_level(struct vm *vm, int efd, int resample_fd, unsigned pin);
void vm__irqfd_detach_level(struct vm *vm, int efd, unsigned pin);
/* Drive an interrupt input (see irq_line): 0, -ENOTSUP (no I/O APIC, or
 * the vm not initialised yet), -EINVAL (gsi > 23), or the backend's -errno. */
#define VCPU_IRQ_LINES 24
int vm__irq_line(struct vm *vm, unsigned gsi, int level);

/* For backends: highest pending vector, atomically removed; -1 if none. */
int vcpu__irr_take(struct vcpu *v);

/* Backends by name (ops->name), NULL if this build has none by that name;
 * the default one; the names, for messages ("kvm, proc").  The hypervisor
 * picks through these, never by naming a backend (vcpu/vcpu_backends.c). */
const struct vcpu_ops *vcpu__backend(const char *name);
/* The first backend this host can run, in order kvm, proc. */
const struct vcpu_ops *vcpu__default_backend(void);
const char *vcpu__backend_names(void);
/* Pick a backend for a run: `name` (NULL: the default) if this host can run
 * it.  NULL and `why` says why not ("unknown backend 'x' (kvm, proc)", "kvm:
 * no /dev/kvm: ENOENT"); else `why` says why this one ("/dev/kvm", "no
 * /dev/kvm: ENOENT"), for the run's first log line. */
const struct vcpu_ops *vcpu__backend_choose(const char *name, char *why, size_t len);
/* Does `ops` enter kernels of this kind (its boot or one of also_boots)? */
bool vcpu__boots(const struct vcpu_ops *ops, enum vcpu_boot boot);
/* The kind's name for messages: "proc-port", "PVH", "Linux bzImage". */
const char *vcpu__boot_name(enum vcpu_boot boot);
/* The first backend (same order) that boots images of this kind and can
 * run here; NULL and `why` ("a PVH image needs the kvm backend: no
 * /dev/kvm: ENOENT") if none.  A proc-port image always gets proc. */
const struct vcpu_ops *vcpu__backend_for_boot(enum vcpu_boot boot, char *why, size_t len);

/* The process backend (vcpu/proc/): for its own tests and benchmarks. */
extern const struct vcpu_ops proc_vcpu_ops;
/* The KVM backend (vcpu/kvm/): for its own tests and benchmarks. */
extern const struct vcpu_ops kvm_vcpu_ops;

#endif
