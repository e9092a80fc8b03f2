/* Internal state of the e1000 model, shared by its source files only.
 *
 * Locking: `lock` protects everything in struct e1000 except the TX frame
 * assembly state (`tx`), which belongs to whoever holds `tx_lock` (one
 * tx_poll at a time).  Order: tx_lock, then lock.  tx_poll drops `lock`
 * (never tx_lock) while handing a frame to the tx callback, so a callback
 * may feed another model's rx_frame without lock-order cycles.  The irq sink
 * is never called with `lock` held: state changes publish the new line
 * level in `irq_state`, and every public entry point calls e1000__irq_flush
 * after unlocking (see e1000_irq.c), so the sink may take its own locks or
 * even call back into the model.
 *
 * Registers live in the caller's buffer at their spec offsets.  Ring pages
 * may be mapped into a guest, so every access is an atomic 32-bit load or
 * store and ring registers are re-validated at every use. */
#ifndef IOVIRT_HW_E1000_PRIV_H
#define IOVIRT_HW_E1000_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define E1000_TX_FRAME_MAX 16384u /* largest non-TSO frame assembled */
#define E1000_TSO_MAX      (65536u + 256u) /* header + TSO payload */

/* Register flags for the access table (e1000_core.c). */
enum {
    E1000_REG_RC = 1u << 0,  /* read-to-clear (statistics, ICR) */
    E1000_REG_WO = 1u << 1,  /* write-only: reads return 0 */
    E1000_REG_RO = 1u << 2,  /* read-only: writes ignored */
    E1000_REG_FX = 1u << 3,  /* write has a side effect: see e1000__reg_write */
    E1000_REG_RX = 1u << 4,  /* read has a side effect / computed value */
};

struct e1000_reg_info {
    uint32_t off;     /* first register */
    uint16_t count;   /* number of consecutive 32-bit registers */
    uint8_t flags;
    uint32_t reset;   /* value after reset */
    uint32_t wmask;   /* bits a write may change */
};

/* Offload context from the last TCP/IP context descriptor (SDM 3.3.6). */
struct e1000_tx_ctx {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen;
    uint8_t tucmd, hdr_len;
    uint16_t mss;
};

/* Frame being assembled from TX descriptors (owned by tx_lock). */
struct e1000_tx_state {
    uint8_t *buf;       /* E1000_TSO_MAX bytes */
    uint32_t len;
    bool in_frame;      /* descriptors seen since the last EOP */
    bool dropping;      /* frame hit an error: discard until EOP */
    bool desc_fault;    /* this descriptor's buffer DMA failed: no write-back */
    bool legacy;        /* frame uses legacy descriptors */
    uint8_t popts;      /* POPTS of the first data descriptor */
    bool tse;           /* TCP segmentation requested */
    uint8_t cso, css;   /* legacy checksum fields */
    bool ic;
    bool vle;
    uint16_t vlan;
    uint64_t reset_gen; /* device reset generation the frame belongs to */
    struct e1000_tx_ctx ctx;
};

/* Microwire EEPROM bit-bang state (SDM 5.4). */
struct e1000_eecd_state {
    bool cs, sk, reading, dout;
    uint32_t bits_in, shift;
    uint8_t addr;
    uint8_t out_bit;
};

/* A delayed interrupt cause: fires at the earlier of the two deadlines. */
struct e1000_delay {
    uint64_t deadline, abs_deadline; /* 0: not armed */
};

struct e1000 {
    uint8_t *regs;
    struct dma_port dma;
    struct irq_sink irq;
    e1000_tx_fn tx;
    void *tx_ctx;
    e1000_tx_gso_fn tx_gso;
    void (*doorbell)(void *ctx, uint32_t off);
    void *doorbell_ctx;
    uint8_t mac[6];
    uint32_t ioaddr; /* BAR1 IOADDR */

    pthread_mutex_t lock;
    pthread_mutex_t tx_lock;
    pthread_mutex_t irq_lock; /* one irq deliverer at a time */

    uint8_t reg_index[E1000_MMIO_SIZE / 4]; /* dword -> table entry + 1 */
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[E1000_PHY_REG_COUNT];
    struct e1000_eecd_state eecd;

    /* interrupts */
    int irq_level;          /* line level the model computed */
    uint64_t irq_state;     /* atomic: change count << 1 | irq_level */
    int irq_delivered;      /* level last given to the sink (irq_lock) */
    uint64_t irq_delivered_seq; /* irq_state's change count then (irq_lock) */
    bool irq_ever;          /* an interrupt was asserted at least once */
    bool irq_hold;          /* e1000__rx_frames: line evaluated after the burst */
    uint64_t now_ns;        /* model time: the last tick, or the clock at the
                             * last entry point (e1000__set_clock) */
    uint64_t (*clock_ns)(void *ctx); /* NULL: time only moves by e1000__tick */
    void *clock_ctx;
    uint64_t last_irq_ns;
    struct e1000_delay rx_delay, tx_delay;

    uint64_t reset_gen;
    struct e1000_stats stats;
    struct e1000_diag diag;
    uint32_t crc_table[256];
    struct e1000_tx_state tx_st;
    uint8_t rx_scratch[E1000_ETH_FRAME_LPE_MAX]; /* RX frame with its VLAN tag stripped */
};

/* Register file access (lock held). */
static inline uint32_t e1000__r(const struct e1000 *e, uint32_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(e->regs + off), __ATOMIC_ACQUIRE);
}
static inline void e1000__w(struct e1000 *e, uint32_t off, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)(e->regs + off), v, __ATOMIC_RELEASE);
}

/* e1000_core.c */
void e1000__reset_locked(struct e1000 *e);
void e1000__update_link(struct e1000 *e);

/* e1000_eeprom_phy.c */
void e1000__eeprom_init(struct e1000 *e);
void e1000__phy_reset(struct e1000 *e);
void e1000__eerd_write(struct e1000 *e, uint32_t val);
void e1000__eecd_write(struct e1000 *e, uint32_t val);
uint32_t e1000__eecd_read(struct e1000 *e);
void e1000__mdic_write(struct e1000 *e, uint32_t val);

/* e1000_irq.c */
void e1000__set_cause(struct e1000 *e, uint32_t causes);
void e1000__irq_update(struct e1000 *e);
void e1000__irq_flush(struct e1000 *e); /* without `lock` held */
uint32_t e1000__icr_read(struct e1000 *e);
void e1000__rx_delay_flush(struct e1000 *e);
void e1000__delay_arm(struct e1000 *e, struct e1000_delay *d, uint32_t delay, uint32_t abs);
/* Advance model time to now (never backwards) and fire expired delays
 * (lock held); e1000__clock_sync does it at the clock's time, if set. */
void e1000__advance_locked(struct e1000 *e, uint64_t now);
void e1000__clock_sync(struct e1000 *e);

/* e1000_stats.c */
void e1000__stat_inc(struct e1000 *e, uint32_t off);
void e1000__stat_add64(struct e1000 *e, uint32_t off_low, uint64_t v);
uint32_t e1000__stat_read(struct e1000 *e, uint32_t off);
void e1000__crc_init(struct e1000 *e);
uint32_t e1000__crc32(const struct e1000 *e, const uint8_t *p, size_t len);
void e1000__dma_fault(struct e1000 *e, uint64_t addr, int err, bool tx);

/* e1000_csum.c: Internet checksum (RFC 1071) helpers */
uint32_t e1000__csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t e1000__csum_fold(uint32_t sum);

/* Ring geometry, validated (SDM 3.2.6 / 3.3.8). */
struct e1000_ring {
    uint64_t base;
    uint32_t size; /* descriptors */
    uint32_t head, tail;
};
/* Snapshot ring registers at base_reg (RDBAL or TDBAL); false if invalid:
 * length 0, not a multiple of 128, head or tail outside the ring. */
bool e1000__ring_snapshot(struct e1000 *e, uint32_t base_reg, struct e1000_ring *r);

#endif
