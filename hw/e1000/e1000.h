/* Intel 82540EM (e1000) register and descriptor model.  Spec names and
 * offsets: drivers/e1000/e1000_regs.h (8254x Software Developer's Manual).
 *
 * The same model is the platform's physical NIC (DMA through VT-d, driven by
 * its own hardware thread, hw/e1000/e1000_nic.c) and the hypervisor's
 * emulated e1000 (DMA into guest memory).  It knows nothing of its caller:
 * registers through e1000_mmio_ops, memory through a struct dma_port,
 * interrupts through a struct irq_sink, frames out through a callback.
 *
 * The register file lives in a caller-supplied, page-aligned buffer of
 * E1000_MMIO_SIZE bytes so that pages holding only ring state and doorbells
 * (RDBAL..RDT, TDBAL..TDT) can be mapped straight into a guest.  The model
 * therefore re-reads and validates ring registers on every poll: they may
 * change under it at any time and must never make it loop or touch memory it
 * must not. */
#ifndef IOVIRT_HW_E1000_H
#define IOVIRT_HW_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/irq.h"
#include "hw/mmio.h"

#define E1000_MMIO_SIZE 0x20000u /* BAR0: 128 KiB */

struct e1000;

/* Called for each transmitted frame (without FCS). */
typedef void (*e1000_tx_fn)(void *ctx, const uint8_t *frame, size_t len);

/* A TCP segmentation burst handed over whole (e1000__set_tx_gso): what the
 * segmenter would put on the wire as nseg frames, as one IPv4/TCP
 * super-frame in the form a virtio_net_hdr GSO packet takes (hdr: the
 * frame's headers with the IPv4 total length and header checksum of the
 * whole, the TCP checksum field holding the pseudo-header sum *with* the
 * whole's TCP length, folded, not complemented; pay: the payload).
 * seg_len[] gives each frame's length (without FCS), for pacing. */
#define E1000_GSO_MAX_SEGS 1024u
struct e1000_gso {
    const uint8_t *hdr;
    uint32_t hdr_len;
    const uint8_t *pay;
    uint32_t pay_len;
    uint16_t mss;
    uint16_t l3_start;                /* IPv4 header start (the context's IPCSS) */
    uint16_t csum_start, csum_offset; /* TCP header start; checksum field within it */
    uint32_t nseg;
    uint32_t first_len, last_len;     /* every frame but the last is first_len */
};
/* Returns 0 if the burst went out whole, non-zero to have it segmented and
 * handed to the tx callback frame by frame instead. */
typedef int (*e1000_tx_gso_fn)(void *ctx, const struct e1000_gso *g);

struct e1000_stats {
    uint64_t tx_frames, rx_frames, rx_missed, rx_too_short, rx_too_long;
    uint64_t dma_errors, bad_descriptors, interrupts;
};

/* regs: E1000_MMIO_SIZE bytes, page aligned, owned by the caller. */
struct e1000 *e1000__create(void *regs, const struct dma_port *dma, const struct irq_sink *irq,
                            const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx);
void e1000__destroy(struct e1000 *e);

extern const struct mmio_ops e1000_mmio_ops; /* dev = struct e1000 * */
/* BAR1 I/O window (IOADDR at 0, IODATA at 4; 32-bit accesses), dev as above. */
extern const struct mmio_ops e1000_io_ops;

/* Process up to `budget` TX descriptors between TDH and TDT (bounded).
 * Returns the number of descriptors consumed. */
unsigned e1000__tx_poll(struct e1000 *e, unsigned budget);
/* Deliver a received frame into the RX ring.  0, or -ENOSPC (ring full or
 * receiver off: counted in MPC), -EINVAL (runt/oversize: counted),
 * -EFAULT (DMA failed: frame dropped, ring unchanged, counted).  Frames the
 * address filters reject return 0 (counted in e1000_diag.rx_filtered). */
int e1000__rx_frame(struct e1000 *e, const uint8_t *frame, size_t len);
/* Several frames that arrived together, in order, in one pass: one lock,
 * one clock read and one interrupt evaluation for all of them (the
 * interrupt, if any, is raised once, after the last is in place), as a
 * NIC drains its receive FIFO into the ring.  rc[i] (may be NULL) is what
 * e1000__rx_frame would have returned for frame i; returns how many
 * returned 0. */
struct e1000_rx_in {
    const uint8_t *data;
    size_t len;
};
unsigned e1000__rx_frames(struct e1000 *e, const struct e1000_rx_in *in, unsigned n, int *rc);
/* Re-evaluate interrupt throttling / delayed RX timer at time now_ns. */
void e1000__tick(struct e1000 *e, uint64_t now_ns);

void e1000__get_stats(struct e1000 *e, struct e1000_stats *out);

/* ---- Additions beyond the original interface (docs/e1000.md) ---- */

/* Model diagnostics for tests and the NIC layer. */
struct e1000_diag {
    uint64_t ring_errors;    /* tx_poll/rx_frame refused: invalid ring registers */
    uint64_t rx_filtered;    /* frames dropped by the address filters */
    uint64_t tx_dma_errors, rx_dma_errors;
    uint64_t tx_dropped;     /* frames discarded (oversize, DMA error, bad descriptor) */
    uint64_t tx_tso_frames;  /* TSO segments sent */
    int dma_error;           /* sticky: a DMA failed since the last clear */
    int last_dma_errno;
    uint64_t last_dma_addr;  /* bus address of the last failed DMA */
};
void e1000__get_diag(struct e1000 *e, struct e1000_diag *out);
void e1000__clear_dma_error(struct e1000 *e);

/* Full device reset, as CTRL.RST (for PCI function-level reset). */
void e1000__reset(struct e1000 *e);
/* Interrupt line level the model computed ((ICR & IMS) != 0, after ITR);
 * delivered to the sink by the call that changed it or a concurrent deliverer. */
int e1000__irq_level(struct e1000 *e);
/* Called (outside the model lock) after a trapped MMIO write to TDT or RDT,
 * so an emulating hypervisor or a NIC thread can be woken; off = E1000_TDT
 * or E1000_RDT.  Writes through directly-mapped pages are not seen. */
void e1000__set_doorbell(struct e1000 *e, void (*fn)(void *ctx, uint32_t off), void *ctx);
/* Optional: TSO bursts of IPv4/TCP with IXSM and TXSM, no VLAN tag, whose
 * whole fits one IPv4 packet, go to fn whole instead of frame by frame
 * (the counters still count every frame).  Same context as tx. */
void e1000__set_tx_gso(struct e1000 *e, e1000_tx_gso_fn fn);

/* The model's clock (ns, monotonic; injectable so tests count interrupts
 * against model time).  With one set, every entry point (MMIO, tx_poll,
 * rx_frame) first advances model time to clock_ns(ctx) and fires expired
 * delay timers, as e1000__tick does; NULL (the default): time moves only by
 * e1000__tick.  Model time never goes backwards. */
void e1000__set_clock(struct e1000 *e, uint64_t (*clock_ns)(void *ctx), void *ctx);
/* Model time now (the latest tick or clock sample). */
uint64_t e1000__now(struct e1000 *e);
/* Model time at which a tick has something to do: the earliest armed
 * RDTR/RADV/TIDV/TADV deadline, or the end of the ITR interval holding back
 * a pending assertion; UINT64_MAX if none.  May lie in the past (tick now).
 * A caller that sleeps until it must bound its own wait below. */
uint64_t e1000__next_deadline(struct e1000 *e);

#endif
