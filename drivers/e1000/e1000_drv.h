/* Portable Intel 8254x (82540EM) driver core.
 *
 * Freestanding C: no libc, no allocation, no blocking loop without a bound.
 * It compiles into the host library (host/e1000, tests) and into the guest
 * kernel.  Everything machine-specific comes from the caller:
 *   - register access: read32/write32 on offsets of BAR0 (e1000_regs.h);
 *   - DMA addresses: bus_addr() turns a pointer into the address the NIC
 *     must use (GPA in a guest, IOVA/HPA on the host);
 *   - memory: descriptor rings and packet buffers.
 *
 * Sequence (SDM 14 "General initialization and reset operation"):
 * e1000_drv__init() resets the device (CTRL.RST), masks interrupts, reads
 * the MAC from the EEPROM through EERD (SDM 13.4.4), programs RAL0/RAH0,
 * clears the MTA, sets CTRL.SLU, programs the RX ring (SDM 14.4) and the TX
 * ring (SDM 14.5), then unmasks the causes asked for.
 *
 * Concurrency: one caller at a time per struct e1000_drv (the guest kernel or
 * one host thread); TX and RX may be split across two threads only if
 * e1000_drv__irq() is called by just one of them. */
#ifndef IOVIRT_DRIVERS_E1000_DRV_H
#define IOVIRT_DRIVERS_E1000_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/e1000/e1000_regs.h"

/* Return codes: negated Linux errno values, defined here because the
 * freestanding build has no <errno.h>. */
#define E1000_DRV_EIO       (-5)
#define E1000_DRV_EBUSY     (-16)
#define E1000_DRV_EINVAL    (-22)
#define E1000_DRV_EMSGSIZE  (-90)
#define E1000_DRV_ETIMEDOUT (-110)

#define E1000_DRV_BUF_SIZE  2048u   /* RCTL.BSIZE 2048; also the TX bounce slot */
#define E1000_DRV_MAX_FRAME 1514u   /* without FCS; LPE is not used */
#define E1000_DRV_MAX_DESC  4096u
#define E1000_DRV_MAX_FRAGS 16u
#define E1000_DRV_TSO_MAX   (14u + 65535u) /* one IPv4 packet: what a TSO frame may be */

/* Causes unmasked by default (SDM 13.4.20 IMS). */
/* Interrupt throttling (ITR) the driver programs: 8000/s (125 us). */
#define E1000_DRV_ITR_PER_SEC 8000u

#define E1000_DRV_IMS_DEFAULT \
    (E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXO)

struct e1000_drv_ops {
    uint32_t (*read32)(void *ctx, uint32_t off);
    void (*write32)(void *ctx, uint32_t off, uint32_t val);
    /* Bus address of va.  Buffers are E1000_DRV_BUF_SIZE-aligned slots or
     * caller fragments; each must be contiguous in bus space. */
    uint64_t (*bus_addr)(void *ctx, const void *va);
    /* Optional (NULL: busy-poll the register instead, still bounded). */
    void (*delay_us)(void *ctx, unsigned us);
};

struct e1000_drv_config {
    /* Rings: count a multiple of 8 in [8, E1000_DRV_MAX_DESC], ring memory
     * 16-byte aligned (128 recommended), count*16 bytes. */
    struct e1000_rx_desc *rx_ring;
    unsigned rx_count;
    uint8_t *rx_bufs;   /* rx_count * E1000_DRV_BUF_SIZE bytes */
    struct e1000_tx_desc *tx_ring;
    unsigned tx_count;
    uint8_t *tx_bufs;   /* tx_count * E1000_DRV_BUF_SIZE bytes (copy path) */
    uint32_t ims;       /* causes to unmask; 0 = polled, no interrupts */
    unsigned reset_timeout_us; /* 0 = 10000 */
};

/* One piece of a frame for gather transmit. */
struct e1000_drv_frag {
    const void *data;
    size_t len;
};

/* Legacy-descriptor checksum insertion (SDM 3.3.3: CMD.IC, CSS, CSO): the NIC
 * sums bytes [css, end of frame) and stores the ones' complement at cso.
 * The caller seeds the field (e.g. with the pseudo-header sum). */
struct e1000_drv_csum {
    uint8_t css;
    uint8_t cso;
};

/* TCP/IP checksum offload with a context descriptor (SDM 3.3.6) and an
 * extended data descriptor (SDM 3.3.7, POPTS IXSM/TXSM).  Offsets count from
 * the frame start; *cse 0 = to the end of the frame (else inclusive end).
 * The L4 checksum field must hold the pseudo-header sum (SDM 3.3.6). */
struct e1000_drv_offload {
    uint8_t ipcss, ipcso;
    uint16_t ipcse;
    uint8_t tucss, tucso;
    uint16_t tucse;
    bool ip_csum;   /* insert the IPv4 header checksum */
    bool l4_csum;   /* insert the TCP/UDP checksum */
    bool tcp;       /* L4 is TCP (else UDP) */
};

struct e1000_drv_stats {
    uint64_t tx_frames, tx_bytes, tx_busy, tx_reclaimed;
    uint64_t tx_errors;     /* descriptors the NIC skipped without write-back */
    uint64_t rx_frames, rx_bytes, rx_errors, rx_missed;
    uint64_t irqs;
};

struct e1000_drv {
    struct e1000_drv_ops ops;
    void *ctx;
    struct e1000_drv_config cfg;
    uint8_t mac[6];
    unsigned tx_tail;   /* next descriptor to fill (= TDT we last wrote) */
    unsigned tx_clean;  /* oldest descriptor not yet reclaimed */
    unsigned rx_next;   /* next descriptor the NIC will fill */
    bool rx_discard;    /* inside a multi-descriptor (oversize) frame */
    bool ctx_valid;     /* last_ctx is what the NIC holds */
    struct e1000_drv_offload last_ctx;
    bool ready;
    struct e1000_drv_stats stats;
};

/* Reset and bring up the device.  0, E1000_DRV_EINVAL (bad config),
 * E1000_DRV_ETIMEDOUT (reset or EEPROM read did not complete). */
int e1000_drv__init(struct e1000_drv *d, const struct e1000_drv_ops *ops, void *ctx,
                    const struct e1000_drv_config *cfg);
/* Reset the device and stop using the rings (bounded). */
void e1000_drv__stop(struct e1000_drv *d);

/* Copy a frame given as fragments into one bounce slot and queue it.
 * csum may be NULL.  0, E1000_DRV_EBUSY (ring full even after reclaiming),
 * E1000_DRV_EMSGSIZE (total < 14 or > E1000_DRV_MAX_FRAME). */
int e1000_drv__tx(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags,
                  const struct e1000_drv_csum *csum);
/* Copy path with checksum offload: a context descriptor (only when the
 * context changed since the last one) plus one data descriptor. */
int e1000_drv__tx_offload(struct e1000_drv *d, const struct e1000_drv_frag *frags,
                          unsigned nfrags, const struct e1000_drv_offload *o);
/* TCP segmentation (SDM 3.5) of one IPv4/TCP frame of up to
 * E1000_DRV_TSO_MAX bytes: a TSO context descriptor (HDRLEN hdr_len, MSS
 * mss, PAYLEN) and TSE data descriptors over as many bounce slots as the
 * frame needs.  o must ask for both checksums, TCP.  The driver writes the
 * seed the SDM asks for into its copy (TCP checksum field = pseudo-header
 * sum without length, from the IPv4 addresses at ipcss); the NIC fixes up
 * lengths, IDs, sequence numbers and checksums per frame.  Returns as
 * e1000_drv__tx; E1000_DRV_EINVAL for an impossible layout. */
int e1000_drv__tx_tso(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags,
                      const struct e1000_drv_offload *o, uint8_t hdr_len, uint16_t mss);
/* Same for one contiguous frame. */
int e1000_drv__tx_frame(struct e1000_drv *d, const void *frame, size_t len);
/* Zero-copy gather: one descriptor per fragment pointing at caller memory,
 * which must stay untouched until e1000_drv__tx_reclaim() has reported the
 * frame (frames complete in order). */
int e1000_drv__tx_zc(struct e1000_drv *d, const struct e1000_drv_frag *frags, unsigned nfrags);
/* Reclaim descriptors the NIC has written back (DD).  Returns the number of
 * whole frames completed. */
unsigned e1000_drv__tx_reclaim(struct e1000_drv *d);
/* Descriptors free for new frames right now. */
unsigned e1000_drv__tx_free(const struct e1000_drv *d);

/* Poll the RX ring: call rx(ctx, frame, len) for up to `budget` good frames
 * (frame is valid only during the call), give the descriptors back by
 * advancing RDT once.  Returns frames delivered. */
typedef void (*e1000_drv_rx_fn)(void *ctx, const uint8_t *frame, size_t len);
unsigned e1000_drv__rx_poll(struct e1000_drv *d, e1000_drv_rx_fn rx, void *ctx,
                            unsigned budget);
/* Copy out the next good frame: length, 0 if none, E1000_DRV_EMSGSIZE if it
 * does not fit in cap (frame dropped). */
int e1000_drv__rx(struct e1000_drv *d, void *buf, size_t cap);

/* Read ICR once (read-to-clear) and return the causes. */
uint32_t e1000_drv__irq(struct e1000_drv *d);
/* STATUS.LU */
bool e1000_drv__link_up(struct e1000_drv *d);
/* Accumulate MPC (missed packets, read-to-clear) into stats; returns total. */
uint64_t e1000_drv__rx_missed(struct e1000_drv *d);

#endif
