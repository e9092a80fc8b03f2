/* The platform's physical NIC: one e1000 model made into "silicon".
 *
 * It owns
 *   - the register file: E1000_MMIO_SIZE bytes in a memfd, page aligned, so
 *     ring/doorbell pages can be mapped into a guest (docs/nic.md, page
 *     policy);
 *   - the e1000 model, DMA-ing through VT-d with the NIC's requester ID
 *     (vtd__dma_port), or through a plain port on a machine without IOMMU;
 *   - a hardware thread that polls TDT doorbells and the wire with bounded
 *     sleeps (adaptive: a short spin after activity, then sleeps that grow
 *     from idle_sleep_min_ns to idle_sleep_max_ns), paces transmitted frames
 *     at the modelled line rate, delivers wire frames into the RX ring and
 *     turns the model's interrupt level into MSI or INTx towards hw/intc.
 *
 * Pacing: a frame of L bytes (without FCS, padded to 60) occupies the wire
 * for (8 preamble/SFD + L + 4 FCS + 12 IFG) * 8 / bit_rate seconds.  The
 * thread takes a descriptor only when the wire is free; while it stays
 * backlogged it may catch up at most `pace_credit_ns` of oversleep, so the
 * long-run rate equals the configured one although sleeps are coarse.
 *
 * Interrupts are delivered from the hardware thread (the model reports its
 * level with its lock held; delivery there could deadlock a handler that
 * reads ICR), as a real device sends its MSI write. */
#ifndef IOVIRT_HW_E1000_NIC_H
#define IOVIRT_HW_E1000_NIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/e1000/e1000.h"
#include "hw/irq.h"
#include "hw/mmio.h"

struct vtd;
struct wire;
struct physmem;

#define E1000_NIC_DEFAULT_RID   0x0010u        /* 00:02.0 */
#define E1000_NIC_DEFAULT_RATE  1000000000ull  /* 1 Gb/s */
/* Per-frame wire overhead beyond the frame without FCS (IEEE 802.3 clause
 * 4.4.2 / 3.1.1): preamble + SFD 8, FCS 4, inter-frame gap 12 bytes. */
#define E1000_NIC_WIRE_OVERHEAD (8u + 4u + 12u)
#define E1000_NIC_MIN_FRAME     60u

/* Register pages the NIC polls and that hold no side-effect register
 * (RDBAL..RDT and TDBAL..TDT with plain-storage neighbours): they may be
 * mapped into a guest.  Every other page must trap. */
#define E1000_NIC_RX_RING_PAGE 0x2000u
#define E1000_NIC_TX_RING_PAGE 0x3000u

struct e1000_nic_config {
    struct vtd *vtd;             /* DMA through VT-d with requester_id, or: */
    const struct dma_port *dma;  /* a plain port (used when vtd is NULL) */
    uint16_t requester_id;       /* 0 = E1000_NIC_DEFAULT_RID */
    struct wire *wire;           /* NULL: frames are discarded (counted) */
    const struct irq_sink *irq;  /* where MSI / INTx go (e.g. intc__sink) */
    uint8_t mac[6];              /* EEPROM MAC; all zero = 52:54:00:12:34:56 */
    uint64_t bit_rate;           /* bits/s; 0 = unpaced */
    uint64_t pace_credit_ns;     /* catch-up bound while backlogged */
    uint64_t spin_ns;            /* keep polling this long after activity */
    uint64_t idle_sleep_min_ns, idle_sleep_max_ns;
    uint64_t pace_sleep_min_ns;  /* shortest sleep while waiting for the wire */
    int nice;                    /* hardware thread's nice value (best effort; it
                                  * never spins, so a high priority only keeps
                                  * "silicon" on time on a loaded host) */
};

/* Defaults: 1 Gb/s, 00:02.0, credit 10 ms, spin 20 us, idle 50..500 us,
 * pacing sleeps >= 100 us, nice -10. */
void e1000_nic__default_config(struct e1000_nic_config *cfg);

struct e1000_nic_stats {
    uint64_t tx_frames, tx_bytes, tx_wire_errors;
    uint64_t rx_frames, rx_bytes, rx_dropped;  /* dropped: ring full/off, runt, DMA fault */
    uint64_t msi_sent, intx_changes;
    uint64_t pace_lost_ns;      /* wire time lost: the thread woke later than the credit allows */
    uint64_t tx_idle_gaps;      /* times the TX ring ran dry while the wire was paced */
    uint64_t loops, sleeps, kicks;
    uint64_t thread_cpu_ns;     /* CPU time of the hardware thread */
    uint64_t run_ns;            /* wall time the thread has been running */
};

struct e1000_nic;

struct e1000_nic *e1000_nic__create(const struct e1000_nic_config *cfg);
/* Stops the thread if running. */
void e1000_nic__destroy(struct e1000_nic *n);
/* Start / stop (join) the hardware thread.  0 or -errno. */
int e1000_nic__start(struct e1000_nic *n);
void e1000_nic__stop(struct e1000_nic *n);

/* The register window (BAR0) as software sees it: trapped accesses. */
struct mmio_window e1000_nic__mmio(struct e1000_nic *n);
/* The register file: memfd (E1000_MMIO_SIZE bytes) and its host mapping. */
int e1000_nic__regs_fd(struct e1000_nic *n);
void *e1000_nic__regs(struct e1000_nic *n);
struct e1000 *e1000_nic__model(struct e1000_nic *n);
uint16_t e1000_nic__requester_id(struct e1000_nic *n);

/* MSI address/data as programmed in PCI config (whoever owns it calls this);
 * enabled=false falls back to INTx. */
void e1000_nic__set_msi(struct e1000_nic *n, bool enabled, uint64_t addr, uint32_t data);
void e1000_nic__get_stats(struct e1000_nic *n, struct e1000_nic_stats *out);

/* A dma_port straight onto host physical memory (bus address = HPA), for a
 * machine modelled without IOMMU.  ctx storage is the physmem itself. */
void e1000_nic__physmem_port(struct physmem *pm, struct dma_port *out);

#endif
