/* hw/e1000 NIC instance: configuration checks, clean start/stop with
 * statistics, the register file as a mappable memfd, and a TDT doorbell
 * written through a second (guest-like) mapping of the ring page, which no
 * trap sees, being picked up by the hardware thread's polling. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "hw/pci/pci_regs.h"
#include "lib/log.h"
#include "tests/unit/nic_rig.h"

static void test_bad_config_rejected(void **state)
{
    (void)state;
    struct e1000_nic_config c;
    e1000_nic__default_config(&c);
    assert_null(e1000_nic__create(&c)); /* no DMA path, no irq sink */
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 4ull << 20), 0);
    struct dma_port dma;
    e1000_nic__physmem_port(&pm, &dma);
    c.dma = &dma;
    assert_null(e1000_nic__create(&c)); /* still no irq sink */
    struct intc *ic = intc__create();
    struct intc_port port;
    struct irq_sink sink;
    intc__sink(&port, ic, 0, &sink);
    c.irq = &sink;
    c.bit_rate = 1000; /* 1 kb/s: below the modelled minimum */
    assert_null(e1000_nic__create(&c));
    c.bit_rate = E1000_NIC_DEFAULT_RATE;
    c.idle_sleep_min_ns = 0;
    assert_null(e1000_nic__create(&c));
    e1000_nic__default_config(&c);
    c.dma = &dma;
    c.irq = &sink;
    struct e1000_nic *n = e1000_nic__create(&c);
    assert_non_null(n);
    assert_int_equal(e1000_nic__requester_id(n), E1000_NIC_DEFAULT_RID);
    e1000_nic__destroy(n);
    intc__destroy(ic);
    physmem__destroy(&pm);
}

static bool frame_on_wire(void *arg)
{
    struct wire *w = arg;
    struct wire_stats s;
    wire__get_stats(w, &s);
    return s.rx_frames > 0 || wire__wait(w, 0) > 0;
}

static void test_start_stop_and_direct_mapped_doorbell(void **state)
{
    (void)state;
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 16ull << 20), 0);
    struct intc *ic = intc__create();
    struct wire *wa, *wb;
    assert_int_equal(wire_loop__create_pair(64, 0, &wa, &wb), 0);
    struct rig_nic r;
    struct host_e1000_config hc = {.rx_count = 8, .tx_count = 8};
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x33};
    assert_int_equal(rig_nic_up(&r, &pm, ic, 0, wa, mac, 0, &hc), 0);
    assert_int_equal(e1000_nic__start(r.nic), -EBUSY);

    /* The register file is a memfd of the BAR's size. */
    int fd = e1000_nic__regs_fd(r.nic);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, E1000_MMIO_SIZE);
    assert_int_equal((uintptr_t)e1000_nic__regs(r.nic) % 4096, 0);

    /* A second mapping of the TX ring page, as a guest would get it. */
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                         E1000_NIC_TX_RING_PAGE);
    assert_true(page != MAP_FAILED);
    uint32_t tdt;
    memcpy(&tdt, page + (E1000_TDT - E1000_NIC_TX_RING_PAGE), 4);
    assert_int_equal(tdt, mmio__read32(&r.mmio, E1000_TDT));

    /* Queue a frame by hand and ring the doorbell through the mapping. */
    struct e1000_drv *d = &r.drv.drv;
    uint8_t *buf = d->cfg.tx_bufs;
    memset(buf, 0xff, 6);
    memcpy(buf + 6, mac, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5;
    memset(buf + 14, 0x77, 46);
    struct e1000_tx_desc *t = &d->cfg.tx_ring[d->tx_tail];
    t->buffer_addr = (uint64_t)(buf - pm.base);
    t->length = 60;
    t->cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B;
    t->status = 0;
    d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
    __atomic_store_n((uint32_t *)(void *)(page + (E1000_TDT - E1000_NIC_TX_RING_PAGE)),
                     d->tx_tail, __ATOMIC_RELEASE);
    assert_true(rig_wait(frame_on_wire, wb));
    uint8_t g[100];
    assert_int_equal(wire__recv(wb, g, sizeof g), 60);
    assert_memory_equal(g, buf, 60);
    munmap(page, 4096);

    /* Stop joins the thread; stats survive; restart works. */
    e1000_nic__stop(r.nic);
    e1000_nic__stop(r.nic);
    struct e1000_nic_stats s;
    e1000_nic__get_stats(r.nic, &s);
    assert_int_equal(s.tx_frames, 1);
    assert_true(s.loops > 0);
    assert_true(s.run_ns > 0);
    assert_true(s.thread_cpu_ns > 0);
    assert_int_equal(e1000_nic__start(r.nic), 0);
    rig_nic_down(&r);
    wire__destroy(wa);
    wire__destroy(wb);
    intc__destroy(ic);
    physmem__destroy(&pm);
}

static unsigned msi_seen;

static void on_msi(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)ctx, (void)cpu, (void)vector;
    __atomic_fetch_add(&msi_seen, 1, __ATOMIC_RELAXED);
}

static bool msi_arrived(void *arg)
{
    (void)arg;
    return __atomic_load_n(&msi_seen, __ATOMIC_RELAXED) > 0;
}

static bool rx_refused(void *arg)
{
    struct e1000_nic_stats s;
    e1000_nic__get_stats(arg, &s);
    return s.rx_no_bus_master > 0;
}

/* PCI Local Bus 3.0, 6.2.2.  Bus Master Enable clear: the NIC masters no
 * cycle: a queued TX descriptor is not fetched (no frame on the wire, no
 * DD write-back, TDH unmoved), a wire frame is not placed (RX descriptor
 * and buffer canary untouched), and a raised cause sends no MSI (6.8: a
 * memory write).  Set again: the frame goes, DD is written, the held MSI
 * arrives.  Memory Space Enable clear: BAR0 reads all-ones (master abort),
 * writes are dropped; set again, it decodes.  Today's NIC ignores both. */
static void test_command_register(void **state)
{
    (void)state;
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 16ull << 20), 0);
    struct intc *ic = intc__create();
    struct wire *wa, *wb;
    assert_int_equal(wire_loop__create_pair(64, 0, &wa, &wb), 0);
    struct rig_nic r;
    struct host_e1000_config hc = {.rx_count = 8, .tx_count = 8};
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x34};
    assert_int_equal(rig_nic_up(&r, &pm, ic, 0, wa, mac, 0, &hc), 0);
    assert_int_equal(intc__register(ic, 0, 0x51, on_msi, NULL), 0);
    e1000_nic__set_msi(r.nic, true, INTC_MSI_ADDR_BASE, 0x51);
    mmio__write32(&r.mmio, E1000_IMC, 0xFFFFFFFFu);
    (void)mmio__read32(&r.mmio, E1000_ICR);
    __atomic_store_n(&msi_seen, 0, __ATOMIC_RELAXED);

    uint16_t on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    e1000_nic__set_command(r.nic, PCI_COMMAND_MEMORY);
    assert_int_equal(e1000_nic__command(r.nic), PCI_COMMAND_MEMORY);

    /* TX queued by hand, doorbell through the (decoding) BAR. */
    struct e1000_drv *d = &r.drv.drv;
    uint8_t *buf = d->cfg.tx_bufs;
    memset(buf, 0xff, 6);
    memcpy(buf + 6, mac, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5;
    memset(buf + 14, 0x77, 46);
    unsigned slot = d->tx_tail;
    struct e1000_tx_desc *t = &d->cfg.tx_ring[slot];
    t->buffer_addr = (uint64_t)(buf - pm.base);
    t->length = 60;
    t->cmd = E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_IFCS_B | E1000_TXD_CMD_RS_B;
    t->status = 0;
    uint32_t tdh = mmio__read32(&r.mmio, E1000_TDH);
    d->tx_tail = (d->tx_tail + 1) % d->cfg.tx_count;
    mmio__write32(&r.mmio, E1000_TDT, d->tx_tail);

    /* RX: a frame from the far end, and a canary in the buffer it would use. */
    struct e1000_rx_desc *rxd = &d->cfg.rx_ring[d->rx_next];
    uint8_t *rxbuf = pm.base + rxd->buffer_addr;
    memset(rxbuf, 0xC5, 64);
    uint8_t canary[64];
    memset(canary, 0xC5, sizeof canary);
    assert_int_equal(wire__send(wb, buf, 60), 0);
    assert_true(rig_wait(rx_refused, r.nic));

    /* An interrupt cause with MSI on: held, not sent. */
    mmio__write32(&r.mmio, E1000_IMS, E1000_ICR_LSC);
    mmio__write32(&r.mmio, E1000_ICS, E1000_ICR_LSC);
    rig_sleep_us(20000);
    assert_int_equal(__atomic_load_n(&msi_seen, __ATOMIC_RELAXED), 0);
    struct e1000_nic_stats s;
    e1000_nic__get_stats(r.nic, &s);
    assert_true(s.msi_held >= 1);
    assert_int_equal(s.msi_sent, 0);
    assert_int_equal(s.tx_frames, 0);
    assert_int_equal(__atomic_load_n(&t->status, __ATOMIC_ACQUIRE), 0);
    assert_int_equal(mmio__read32(&r.mmio, E1000_TDH), tdh);
    assert_int_equal(wire__recv(wb, (uint8_t[100]){0}, 100), 0);
    assert_int_equal(__atomic_load_n(&rxd->status, __ATOMIC_ACQUIRE), 0);
    assert_memory_equal(rxbuf, canary, sizeof canary);

    /* Memory Space Enable clear: no decode. */
    e1000_nic__set_command(r.nic, 0);
    assert_int_equal(mmio__read32(&r.mmio, E1000_STATUS), 0xFFFFFFFFu);
    assert_int_equal(mmio__read32(&r.mmio, E1000_IMS), 0xFFFFFFFFu);
    mmio__write32(&r.mmio, E1000_IMC, E1000_ICR_LSC); /* dropped */

    /* Both back: the held MSI, the frame, its DD; the BAR decodes again. */
    e1000_nic__set_command(r.nic, on);
    assert_true(rig_wait(msi_arrived, NULL));
    assert_true(rig_wait(frame_on_wire, wb));
    uint8_t g[100];
    assert_int_equal(wire__recv(wb, g, sizeof g), 60);
    assert_memory_equal(g, buf, 60);
    for (int i = 0; i < 5000 && !(__atomic_load_n(&t->status, __ATOMIC_ACQUIRE) & E1000_TXD_STAT_DD); i++)
        rig_sleep_us(100);
    assert_true(t->status & E1000_TXD_STAT_DD);
    assert_int_equal(mmio__read32(&r.mmio, E1000_IMS) & E1000_ICR_LSC, E1000_ICR_LSC);
    assert_true(mmio__read32(&r.mmio, E1000_STATUS) != 0xFFFFFFFFu);

    mmio__write32(&r.mmio, E1000_IMC, 0xFFFFFFFFu);
    e1000_nic__set_msi(r.nic, false, 0, 0);
    intc__unregister(ic, 0, 0x51);
    rig_nic_down(&r);
    wire__destroy(wa);
    wire__destroy(wb);
    intc__destroy(ic);
    physmem__destroy(&pm);
}

/* The gate itself: once set_command clears BME it has returned, no DMA of
 * the model reaches memory (a direct rx_frame is refused: -EFAULT from the
 * model's failed DMA, memory untouched). */
static void test_bus_master_gate(void **state)
{
    (void)state;
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 16ull << 20), 0);
    struct intc *ic = intc__create();
    struct rig_nic r;
    struct host_e1000_config hc = {.rx_count = 8, .tx_count = 8};
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x35};
    assert_int_equal(rig_nic_up(&r, &pm, ic, 0, NULL, mac, 0, &hc), 0);
    struct e1000_drv *d = &r.drv.drv;
    struct e1000_rx_desc *rxd = &d->cfg.rx_ring[d->rx_next];
    uint8_t *rxbuf = pm.base + rxd->buffer_addr;
    memset(rxbuf, 0xC5, 64);
    uint8_t f[60];
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    memset(f + 12, 0x42, 48);
    e1000_nic__set_command(r.nic, PCI_COMMAND_MEMORY);
    assert_int_equal(e1000__rx_frame(e1000_nic__model(r.nic), f, sizeof f), -EFAULT);
    assert_int_equal(rxd->status, 0);
    assert_int_equal(rxbuf[0], 0xC5);
    struct e1000_nic_stats s;
    e1000_nic__get_stats(r.nic, &s);
    assert_true(s.dma_blocked >= 1);
    e1000_nic__set_command(r.nic, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(e1000__rx_frame(e1000_nic__model(r.nic), f, sizeof f), 0);
    assert_true(rxd->status & E1000_RXD_STAT_DD);
    rig_nic_down(&r);
    intc__destroy(ic);
    physmem__destroy(&pm);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_config_rejected),
        cmocka_unit_test(test_start_stop_and_direct_mapped_doorbell),
        cmocka_unit_test(test_command_register),
        cmocka_unit_test(test_bus_master_gate),
    };
    return cmocka_run_group_tests_name("hw/e1000 NIC instance", tests, NULL, NULL);
}
