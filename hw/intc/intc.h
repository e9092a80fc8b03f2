/* Platform interrupt controller (the modelled machine's LAPICs + IOAPIC, as
 * far as devices see them): MSI writes and INTx levels from devices become
 * calls to handlers that "CPUs" (host threads, the hypervisor) registered
 * per (cpu, vector), with counters.
 *
 * MSI compatibility format (Intel SDM Vol. 3A 11.11.1 "Message Address
 * Register Format", 11.11.2 "Message Data Register Format"): address
 * 0xFEE<dest:8><...>, data vector in bits 7:0.  With a VT-d unit attached
 * every MSI goes through its interrupt remapping (vtd__remap_msi), which
 * translates remappable-format ones (VT-d spec 5.1.2.2, address bit 4) and
 * passes or blocks compatibility-format ones; without one, compatibility
 * format is decoded here and remappable format is dropped and counted.  Handlers run on the thread that raised the interrupt (the NIC's
 * hardware thread, a test): they must be short (set a flag, wake a thread). */
#ifndef IOVIRT_HW_INTC_H
#define IOVIRT_HW_INTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/irq.h"

struct vtd;
struct vtd_msi;

/* Interrupt remapping hook (VT-d): 0 and *out, or a negative fault reason. */
typedef int (*intc_remap_fn)(void *ctx, uint16_t requester_id, uint64_t addr, uint32_t data,
                             struct vtd_msi *out);

/* Intel SDM Vol. 3A 11.11.1 / 11.11.2 */
#define INTC_MSI_ADDR_BASE        0xFEE00000u
#define INTC_MSI_ADDR_BASE_MASK   0xFFF00000u
#define INTC_MSI_ADDR_DEST_SHIFT  12
#define INTC_MSI_ADDR_DEST_MASK   0x000FF000u
#define INTC_MSI_ADDR_IF_REMAP    0x00000010u /* VT-d 5.1.2.2 interrupt format */
#define INTC_MSI_ADDR_DM_LOGICAL  0x00000004u
#define INTC_MSI_DATA_VECTOR_MASK 0x000000FFu
#define INTC_MIN_VECTOR           16u         /* 0-15 are reserved */

#define INTC_MAX_CPUS   8u
#define INTC_NR_VECTORS 256u
#define INTC_NR_INTX    24u  /* IOAPIC input pins */

typedef void (*intc_handler_fn)(void *ctx, unsigned cpu, uint8_t vector);

struct intc_stats {
    uint64_t msi, intx_edges, delivered;
    uint64_t spurious;     /* no handler registered for (cpu, vector) */
    uint64_t bad_msi;      /* not 0xFEExxxxx, reserved vector, dest out of range */
    uint64_t remap_faults; /* VT-d refused the remappable interrupt */
};

struct intc;

struct intc *intc__create(void);
/* Send remappable-format MSIs through remap(ctx, ...) (e.g. VT-d). */
void intc__set_remap(struct intc *ic, intc_remap_fn remap, void *ctx);
/* The same with a hw/vtd unit (intc_vtd.c). */
void intc__attach_vtd(struct intc *ic, struct vtd *vtd);
void intc__destroy(struct intc *ic);

/* 0, -EINVAL (cpu/vector out of range), -EBUSY (already taken). */
int intc__register(struct intc *ic, unsigned cpu, uint8_t vector, intc_handler_fn fn, void *ctx);
/* Returns once no call of the handler is in flight: its ctx may be freed.
 * Must not be called from that handler. */
void intc__unregister(struct intc *ic, unsigned cpu, uint8_t vector);
/* Route INTx input `line` to (cpu, vector) (an IOAPIC redirection entry). */
int intc__route_intx(struct intc *ic, unsigned line, unsigned cpu, uint8_t vector);

/* Device-side inputs. */
void intc__msi(struct intc *ic, uint16_t requester_id, uint64_t addr, uint32_t data);
void intc__intx(struct intc *ic, unsigned line, int level);
/* End of interrupt: a level-triggered line still asserted is delivered again. */
void intc__eoi(struct intc *ic, unsigned cpu, uint8_t vector);

/* An irq_sink into this controller; its INTx goes to `line`.  The port is
 * storage owned by the caller and must outlive the sink. */
struct intc_port {
    struct intc *ic;
    unsigned line;
};
void intc__sink(struct intc_port *port, struct intc *ic, unsigned line, struct irq_sink *out);

uint64_t intc__count(struct intc *ic, unsigned cpu, uint8_t vector);
void intc__get_stats(struct intc *ic, struct intc_stats *out);

#endif
