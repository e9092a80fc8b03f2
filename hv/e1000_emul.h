/* The emulated e1000 (`--nic emulated`): the hw/e1000 register model
 * instantiated in the hypervisor with its DMA against the VM's guest
 * memory.  Every guest register access is a trap forwarded here; a write
 * to TDT runs the transmit ring at once (as QEMU does) and frames go to the
 * host bridge (a TSO burst whole through cfg.tx_gso, if the owner gave
 * one and it takes it); received frames come from the bridge.  The
 * model's interrupt level becomes an MSI (if the guest enabled it, on its
 * rising edge) or the INTx level on the wired line (hv/vm_irq.h: held on
 * the VM's I/O APIC input until the driver's ICR read drops it, or an edge
 * vector on a machine without one).
 *
 * Time: the model's clock (default CLOCK_MONOTONIC) stamps every trapped
 * access and received frame, and a timer thread ticks the model at its next
 * deadline (ITR interval end, RDTR/RADV/TIDV/TADV expiry: SDM 13.4.18 and
 * the delay timers of 3.2.7 / 3.4), exactly as the physical NIC's hardware
 * thread does.  The thread never spins: it sleeps on a condition variable
 * until the deadline, each wait at least timer_min_ns long, and is woken
 * early only when an access or a frame armed an earlier deadline.  With an
 * injected clock (tests) there is no thread: the owner calls
 * e1000_emul__tick, as with hw/timer/hpet.
 *
 * PCI command register (PCI Local Bus 3.0, 6.2.2): Memory/I/O Space Enable
 * clear -> the BARs do not decode (reads all-ones, writes dropped, as a
 * master abort); Bus Master Enable clear -> no DMA (no descriptor fetch, no
 * write-back, no received frame placed) and no MSI (a memory write, 6.8):
 * an MSI due meanwhile is held and sent when bus mastering returns with the
 * line still asserted; TX descriptors queued meanwhile run then too. */
#ifndef IOVIRT_HV_E1000_EMUL_H
#define IOVIRT_HV_E1000_EMUL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/guest_mem.h"
#include "hv/vm_irq.h"
#include "hw/e1000/e1000.h"
#include "hw/pci/pci_dev.h"
#include "lib/cpu_sample.h"

#define E1000_EMUL_TIMER_MIN_NS 10000ull /* shortest timer-thread wait: 10 us */

/* A guest TSO burst as one IPv4/TCP frame of up to 64 KiB, for a consumer
 * that segments it itself (the bridge's uplink TSO, as QEMU's e1000 hands
 * TSO to a vnet-header TAP whole): where the IPv4 and TCP headers start,
 * all headers' length, the MSS.  The frame's headers are those of the
 * whole (struct e1000_gso: IPv4 total length and header checksum of the
 * whole, the TCP checksum field the pseudo-header sum with its length). */
struct e1000_emul_gso {
    uint16_t l3_off, l4_off, hdr_len, mss;
};
/* 0: it went whole; non-zero: refused, the model segments it and the
 * frames go to the tx callback one by one as without it. */
typedef int (*e1000_emul_tx_gso_fn)(void *ctx, const uint8_t *frame, size_t len,
                                    const struct e1000_emul_gso *g);

struct e1000_emul_config {
    uint64_t (*clock_ns)(void *ctx); /* NULL: CLOCK_MONOTONIC and a timer thread */
    void *clock_ctx;
    uint64_t timer_min_ns;           /* 0: E1000_EMUL_TIMER_MIN_NS */
    e1000_emul_tx_gso_fn tx_gso;     /* called with tx_ctx; NULL: every TSO burst is
                                      * segmented by the model */
};

struct e1000_emul_stats {
    uint64_t tx_kicks;       /* TDT writes that ran the TX ring */
    uint64_t timer_wakeups;  /* timer thread turns */
    uint64_t msi_sent, intx_sent;
    uint64_t msi_held;       /* MSIs held back while Bus Master Enable was clear */
    uint64_t rx_blocked;     /* frames refused while Bus Master Enable was clear */
    uint64_t tx_gso;         /* TSO bursts handed to tx_gso whole */
    uint64_t tx_gso_refused; /* ...and those it refused (segmented by the model) */
};

/* The BAR0 registers whose handler CPU is counted apart (the rest:
 * OTHER), for e1000_emul.reg_cpu. */
enum e1000_emul_reg {
    E1000_EMUL_REG_CTRL, E1000_EMUL_REG_STATUS, E1000_EMUL_REG_ICR, E1000_EMUL_REG_ICS,
    E1000_EMUL_REG_IMS, E1000_EMUL_REG_IMC, E1000_EMUL_REG_ITR, E1000_EMUL_REG_RDT,
    E1000_EMUL_REG_TDT, E1000_EMUL_REG_OTHER, E1000_EMUL_REGS
};

/* Descriptors taken per pass (so at most this many frames queued) and the
 * largest frame the model assembles (hw/e1000: 16 KiB + headers). */
#define E1000_EMUL_TXQ      16u
#define E1000_EMUL_TXQ_SLOT (16384u + 64u)
/* The largest TSO burst made contiguous for tx_gso: HDRLEN (a byte) + 64 KiB. */
#define E1000_EMUL_GSO_MAX  (256u + 65536u)

struct e1000_emul {
    struct pci_dev pci;
    struct e1000 *nic;
    void *regs;                 /* register file (E1000_MMIO_SIZE) */
    struct dma_port dma;        /* the model may keep pointers to these two */
    struct irq_sink sink;
    struct vm_irq *irq;
    int level;                  /* last interrupt level seen from the model */
    int msi_pending;            /* an MSI was due while BME was clear */
    pthread_mutex_t intx_lock;  /* the two below */
    bool intx_asserted;         /* the line as last driven */
    int intx_line;              /* the wired line (hv_vm: the platform's routing);
                                 * -1 (the default): the Interrupt Line register */
    bool bme_seen;              /* Bus Master Enable at the last command write */
    e1000_tx_fn tx;
    void *tx_ctx;
    /* Frames the model transmits are queued here under its lock and handed
     * to tx() after it is released (lock order: docs/architecture.md), one
     * transmit pass at a time (txq_lock). */
    pthread_mutex_t txq_lock;
    uint8_t *txq_buf;           /* E1000_EMUL_TXQ slots of E1000_EMUL_TXQ_SLOT bytes */
    size_t txq_len[E1000_EMUL_TXQ];
    unsigned txq_n;
    uint8_t *gso_buf;           /* E1000_EMUL_GSO_MAX bytes if cfg.tx_gso (txq_lock) */
    uint32_t ioaddr;            /* BAR1 IOADDR latch */

    struct e1000_emul_config cfg;
    pthread_mutex_t tlock;      /* timer thread state below */
    pthread_cond_t tcond;
    pthread_t thread;
    bool thread_running, stopping;
    uint64_t wait_until;        /* clock time the thread sleeps to; UINT64_MAX: none */
    struct e1000_emul_stats stats; /* atomics */
    /* The BAR0 handlers' thread CPU by register, [0] reads, [1] writes
     * (sampled: lib/cpu_sample.h): the model's register emulation and, on a
     * TDT write, its transmit pass and the hand-off to the bridge.  Only
     * the vCPU run loop calls the handlers, and only it reads these. */
    struct cpu_sample reg_cpu[2][E1000_EMUL_REGS];
};

/* 0, -ENOMEM or -EINVAL.  cfg NULL: defaults (monotonic clock, timer
 * thread started). */
/* One line "NAME: e1000 register CPU (sampled): ICR r=N x U us ...". */
void e1000_emul__print_reg_cpu(const struct e1000_emul *d, const char *name, FILE *out);
const char *e1000_emul__reg_name(enum e1000_emul_reg r);

int e1000_emul__init(struct e1000_emul *d, struct guest_mem *gm, struct vm_irq *irq,
                     const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx,
                     const struct e1000_emul_config *cfg);
/* Stop and join the timer thread (idempotent): after it returns the device
 * raises no interrupt of its own accord.  hv_vm's teardown calls it before
 * the vCPU goes. */
void e1000_emul__stop(struct e1000_emul *d);
void e1000_emul__destroy(struct e1000_emul *d);
/* Trapped register windows (dev = struct e1000_emul *): BAR0 MMIO, BAR1 I/O. */
extern const struct mmio_ops e1000_emul_bar0_ops;
extern const struct mmio_ops e1000_emul_bar1_ops;
/* A frame from the bridge; 0 or the model's error, -EIO while bus
 * mastering is off. */
int e1000_emul__rx(struct e1000_emul *d, const uint8_t *frame, size_t len);
/* The owner of the configuration space calls this after every write to it
 * (the command register may have changed). */
void e1000_emul__cfg_written(struct e1000_emul *d, unsigned off, unsigned size);
/* Tick the model at the clock's time; returns the next deadline (clock
 * time) or UINT64_MAX.  For owners without the timer thread (tests). */
uint64_t e1000_emul__tick(struct e1000_emul *d);
void e1000_emul__get_stats(struct e1000_emul *d, struct e1000_emul_stats *out);

/* CPU time (ns) of the timer thread so far; 0 when there is none. */
uint64_t e1000_emul__thread_cpu_ns(struct e1000_emul *d);

#endif
