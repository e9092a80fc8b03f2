/* Intel 82540EM (e1000) register and descriptor model.  Spec names and
 * offsets: hw/e1000/e1000_regs.h (8254x Software Developer's Manual).
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

struct e1000_stats {
    uint64_t tx_frames, rx_frames, rx_missed, rx_too_short, rx_too_long;
    uint64_t dma_errors, bad_descriptors, interrupts;
};

/* regs: E1000_MMIO_SIZE bytes, page aligned, owned by the caller. */
struct e1000 *e1000__create(void *regs, const struct dma_port *dma, const struct irq_sink *irq,
                            const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx);
void e1000__destroy(struct e1000 *e);

extern const struct mmio_ops e1000_mmio_ops; /* dev = struct e1000 * */

/* Process up to `budget` TX descriptors between TDH and TDT (bounded).
 * Returns the number of descriptors consumed. */
unsigned e1000__tx_poll(struct e1000 *e, unsigned budget);
/* Deliver a received frame into the RX ring.  0, or -ENOSPC (ring full or
 * receiver off: counted in MPC), -EINVAL (runt/oversize: counted). */
int e1000__rx_frame(struct e1000 *e, const uint8_t *frame, size_t len);
/* Re-evaluate interrupt throttling / delayed RX timer at time now_ns. */
void e1000__tick(struct e1000 *e, uint64_t now_ns);

void e1000__get_stats(struct e1000 *e, struct e1000_stats *out);

#endif
