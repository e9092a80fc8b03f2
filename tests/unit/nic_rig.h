/* Test rig: platform NICs (hw/e1000/e1000_nic) driven by host driver
 * instances (host/e1000) on one host physical memory, with a platform
 * interrupt controller.  Header-only, test use only. */
#ifndef IOVIRT_TESTS_NIC_RIG_H
#define IOVIRT_TESTS_NIC_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "hw/e1000/e1000_nic.h"
#include "hw/intc/intc.h"
#include "hw/physmem.h"
#include "hw/wire/wire.h"
#include "host/e1000/host_e1000.h"

struct rig_nic {
    struct dma_port dma;
    struct intc_port port;
    struct irq_sink sink;
    struct e1000_nic *nic;
    struct host_e1000 drv;
    struct mmio_window mmio;
};

/* A NIC on `wire` with DMA straight to pm, interrupts into ic (INTx line),
 * started, with a host driver brought up on it.  0 or -errno. */
static inline int rig_nic_up(struct rig_nic *r, struct physmem *pm, struct intc *ic,
                             unsigned line, struct wire *wire, const uint8_t mac[6],
                             uint64_t bit_rate, const struct host_e1000_config *hc)
{
    memset(r, 0, sizeof(*r));
    e1000_nic__physmem_port(pm, &r->dma);
    intc__sink(&r->port, ic, line, &r->sink);
    struct e1000_nic_config c;
    e1000_nic__default_config(&c);
    c.dma = &r->dma;
    c.irq = &r->sink;
    c.wire = wire;
    c.bit_rate = bit_rate;
    memcpy(c.mac, mac, 6);
    r->nic = e1000_nic__create(&c);
    if (!r->nic)
        return -1;
    if (e1000_nic__start(r->nic) != 0)
        return -1;
    r->mmio = e1000_nic__mmio(r->nic);
    return host_e1000__init(&r->drv, pm, &r->mmio, hc);
}

static inline void rig_nic_down(struct rig_nic *r)
{
    host_e1000__fini(&r->drv);
    e1000_nic__destroy(r->nic);
}

static inline void rig_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Poll cond(arg) every 100 us for at most ~5 s. */
static inline bool rig_wait(bool (*cond)(void *), void *arg)
{
    for (int i = 0; i < 50000; i++) {
        if (cond(arg))
            return true;
        rig_sleep_us(100);
    }
    return cond(arg);
}

#endif
