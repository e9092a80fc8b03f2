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
 * Pacing (hw/e1000/nic_pace.h), both directions: a frame of L bytes
 * (without FCS, padded to 60) occupies the wire for (8 preamble/SFD + L +
 * 4 FCS + 12 IFG) * 8 / bit_rate seconds.  The thread takes a TX
 * descriptor, or a frame from the wire into the RX ring, only when that
 * direction's line is free (frames arriving faster wait in the wire's
 * queue); while it stays backlogged it may catch up at most
 * `pace_credit_ns` of oversleep, so the long-run rate equals the configured
 * one although sleeps are coarse.
 *
 * Interrupts are delivered from the hardware thread (the model reports its
 * level with its lock held; delivery there could deadlock a handler that
 * reads ICR), as a real device sends its MSI write.
 *
 * PCI command register (PCI Local Bus 3.0, 6.2.2), as the function's
 * configuration space owner reports it (e1000_nic__set_command):
 *   - Memory Space Enable clear: BAR0 (e1000_nic__mmio) does not decode:
 *     reads return all-ones, as a master abort does (3.3.3.1), writes are
 *     dropped; I/O Space Enable likewise for BAR1 (e1000_nic__io);
 *   - Bus Master Enable clear: the function masters no cycle: no descriptor
 *     fetch, no write-back, no buffer access (the hardware thread runs no
 *     TX and places no RX frame; wire frames are dropped as an overflowing
 *     FIFO would, counted), and no MSI (a memory write, 6.8: held, sent
 *     when bus mastering returns with the line still asserted).  Every DMA
 *     goes through a gate: set_command returns only when no DMA is in
 *     flight, so none happens after a host clears BME;
 *   - Interrupt Disable: no INTx assertion.
 * A NIC without a configuration-space owner starts enabled (I/O, memory,
 * bus master), so standalone users work unchanged. */
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
    uint64_t (*clock_ns)(void *ctx); /* the model's clock: e1000__tick and pacing;
                                  * NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
    bool no_gso;                 /* TSO bursts go to the wire frame by frame even
                                  * where it takes GSO super-frames */
    int nice;                    /* hardware thread's nice value (best effort; it
                                  * never spins, so a high priority only keeps
                                  * "silicon" on time on a loaded host) */
};

/* Defaults: 1 Gb/s, 00:02.0, credit 10 ms, spin 20 us, idle 50..500 us,
 * pacing sleeps >= 100 us, nice -10. */
void e1000_nic__default_config(struct e1000_nic_config *cfg);

struct e1000_nic_stats {
    uint64_t tx_frames, tx_bytes, tx_wire_errors;
    uint64_t tx_gso_writes;     /* TSO bursts written to the wire whole (GSO) */
    uint64_t rx_frames, rx_bytes, rx_dropped;  /* dropped: ring full/off, runt, DMA fault */
    uint64_t msi_sent, intx_changes;
    uint64_t msi_held;          /* MSIs held back while Bus Master Enable was clear */
    uint64_t rx_no_bus_master;  /* wire frames dropped while Bus Master Enable was clear */
    uint64_t dma_blocked;       /* DMAs refused by the bus-master gate */
    uint64_t pace_lost_ns;      /* wire time lost: the thread woke later than the credit allows */
    uint64_t tx_idle_gaps;      /* times the TX ring ran dry while the wire was paced */
    uint64_t rx_pace_lost_ns;   /* the same two for receive: wire time lost, */
    uint64_t rx_idle_gaps;      /* times the wire ran dry while RX was paced */
    uint64_t rx_pace_waits;     /* turns that left frames on the wire: RX line busy */
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

/* The register window (BAR0) as software sees it: trapped accesses,
 * decoded only while Memory Space Enable is set. */
struct mmio_window e1000_nic__mmio(struct e1000_nic *n);
/* BAR1 (IOADDR/IODATA), decoded only while I/O Space Enable is set. */
struct mmio_window e1000_nic__io(struct e1000_nic *n);
/* The function's PCI command register changed (its configuration-space
 * owner calls this).  Clearing Bus Master Enable returns only once no DMA
 * of the function is in flight (bounded: one DMA access). */
void e1000_nic__set_command(struct e1000_nic *n, uint16_t cmd);
uint16_t e1000_nic__command(struct e1000_nic *n);
/* Function-level reset (CTRL.RST), not a BAR access: works whatever the
 * command register says (detach paths clear the command register first). */
void e1000_nic__reset(struct e1000_nic *n);
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
