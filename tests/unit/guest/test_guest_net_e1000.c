/* The guest kernel's e1000 driver end to end: the real guest boots on the
 * process backend with an emulated 82540EM (hw/e1000 model: registers
 * trapped, DMA into guest RAM, INTx level -> vector 32 + line 11) found by
 * PCI enumeration, and talks to a peer IPv4 stack (guest/net compiled for
 * the host) at 10.0.2.1 behind the "wire":
 *   - ping 10.0.2.1 3: three echo replies, exit 0;
 *   - stream 10.0.2.1 5001 1000 1: the RESULT line's bytes equal what the
 *     peer's socket received, and the peer saw the orderly close;
 *   - udp_stream 10.0.2.1 5002 1000 1: datagrams of exactly 1000 bytes
 *     arrive, no more than the guest says it sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "guest_peer.h"
#include "guest_platform.h"
#include "hw/e1000/e1000.h"
#include "drivers/e1000/e1000_regs.h"

#define NIC_BAR0   0xFEBC0000u
#define NIC_DEV    3
#define NIC_LINE   11
struct rig {
    struct platform *p;
    void *regs;
    struct e1000 *e;
    struct dma_port dma;
    struct irq_sink irq;
    uint32_t cfg[64];            /* config space of 00:03.0 */
    uint32_t bar0;
    struct peer *peer;
};

static int rig_dma_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    struct rig *r = ctx;
    return vcpu_memmap__read(&r->p->map, a, buf, len);
}

static int rig_dma_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    struct rig *r = ctx;
    return vcpu_memmap__write(&r->p->map, a, buf, len);
}

static const struct dma_ops rig_dma_ops = {.read = rig_dma_read, .write = rig_dma_write};

static void rig_intx(void *ctx, int level)
{
    struct rig *r = ctx;
    if (level) /* rising edge: the guest's handler reads ICR, which lowers it */
        platform_irq(r->p, 32 + NIC_LINE);
}

static void rig_tx(void *ctx, const uint8_t *f, size_t len)
{
    struct rig *r = ctx;
    peer__queue(r->peer, f, len);
}

static int rig_deliver(void *ctx, const uint8_t *f, size_t len)
{
    struct rig *r = ctx;
    return e1000__rx_frame(r->e, f, len) == 0 ? 0 : -NET_EBUSY;
}

/* Config space of an 82540EM at 00:03.0: BAR0 128 KiB memory, INTx pin A
 * routed to line 11, no capabilities (the real part has no MSI). */
static uint32_t rig_pci_read(struct platform *p, unsigned dev, unsigned fn, unsigned off)
{
    struct rig *r = p->test;
    if (dev != NIC_DEV || fn != 0)
        return 0xFFFFFFFFu;
    if (off == 0x10)
        return r->bar0;
    return r->cfg[off / 4];
}

static void rig_pci_write(struct platform *p, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
    struct rig *r = p->test;
    if (dev != NIC_DEV || fn != 0)
        return;
    if (off == 0x10)
        r->bar0 = v & ~(E1000_MMIO_SIZE - 1u); /* size mask; memory, 32-bit */
    else if (off == 0x04)
        r->cfg[1] = (r->cfg[1] & 0xFFFF0000u) | (v & 0x0407u);
    else if (off == 0x3C)
        r->cfg[15] = (r->cfg[15] & ~0xFFu) | (v & 0xFF);
}

static void nic_trap(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
                     void *opaque)
{
    (void)v;
    struct rig *r = opaque;
    uint64_t off = addr - NIC_BAR0, val = 0;
    if (is_write) {
        memcpy(&val, data, len);
        e1000_mmio_ops.write(r->e, off, len, val);
        e1000__tx_poll(r->e, 256); /* emulated NIC: TX runs at the doorbell */
    } else {
        val = e1000_mmio_ops.read(r->e, off, len);
        memcpy(data, &val, len);
    }
}

static void rig_tick(struct platform *p)
{
    struct rig *r = p->test;
    e1000__tick(r->e, now_ns());
    peer__tick(r->peer);
}

static struct rig *rig_new(struct platform *p)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->p = p;
    p->test = r;
    assert_int_equal(posix_memalign(&r->regs, 4096, E1000_MMIO_SIZE), 0);
    memset(r->regs, 0, E1000_MMIO_SIZE);
    r->dma = (struct dma_port){.ops = &rig_dma_ops, .ctx = r};
    r->irq = (struct irq_sink){.intx = rig_intx, .ctx = r};
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    r->e = e1000__create(r->regs, &r->dma, &r->irq, mac, rig_tx, r);
    assert_non_null(r->e);
    r->cfg[0] = (uint32_t)E1000_PCI_DEV_82540EM << 16 | E1000_PCI_VENDOR_INTEL;
    r->cfg[2] = E1000_PCI_CLASS_ETHERNET << 8 | E1000_PCI_REVISION;
    r->bar0 = NIC_BAR0;
    r->cfg[15] = 1u << 8 | NIC_LINE; /* pin A, line 11 */
    p->pci_read = rig_pci_read;
    p->pci_write = rig_pci_write;
    p->tick = rig_tick;
    assert_int_equal(vcpu_traps__register(&p->traps, VCPU_TRAP_MMIO, NIC_BAR0, E1000_MMIO_SIZE,
                                          nic_trap, r, "e1000"), 0);
    r->peer = peer__new(rig_deliver, r);
    return r;
}

static void rig_free(struct rig *r)
{
    e1000__destroy(r->e);
    free(r->regs);
    free(r->peer);
    free(r);
}

static void test_ping_over_e1000(void **state)
{
    (void)state;
    static struct platform p;
    platform_init(&p);
    struct rig *r = rig_new(&p);
    platform_load(&p, "nic=e1000 ip=10.0.2.15 interval_ms=10 ping 10.0.2.1 3");
    platform_run(&p);
    if (p.status != 0 || !strstr(p.out, "RESULT ping sent=3 received=3"))
        fail_msg("status %u; console:\n%s", p.status, p.out);
    assert_non_null(strstr(p.out, "e1000: 00:03.0 interrupts: INTx, vector 43"));
    assert_true(net__stats(&r->peer->stack)->icmp_echo_rep_out >= 3);
    assert_true(net__stats(&r->peer->stack)->arp_rep_out >= 1);
    assert_true(p.msis >= 3); /* RX interrupts reached the guest */
    /* The receive ring holds TCP's largest window in full segments
     * (1023 usable descriptors x 1460 >= 1 MiB; docs/guest-net.md). */
    assert_int_equal(e1000_mmio_ops.read(r->e, E1000_RDLEN, 4), 1024 * 16);
    platform_fini(&p);
    rig_free(r);
}

static void test_tcp_stream_over_e1000(void **state)
{
    (void)state;
    static struct platform p;
    platform_init(&p);
    struct rig *r = rig_new(&p);
    platform_load(&p, "stream 10.0.2.1 5001 1000 1");
    platform_run(&p);
    const char *res = strstr(p.out, "RESULT stream ");
    if (p.status != 0 || !res)
        fail_msg("status %u; console:\n%s", p.status, p.out);
    unsigned long long bytes, el, msgs, retrans;
    assert_int_equal(sscanf(res, "RESULT stream bytes=%llu elapsed_ns=%llu msgs=%llu retrans=%llu",
                            &bytes, &el, &msgs, &retrans), 4);
    assert_true(bytes >= 1000);
    assert_true(msgs * 1000 <= bytes + 1000);   /* whole messages, at most one partial */
    assert_true(el >= 1000000000ull);
    /* Every acknowledged byte reached the peer's socket, and it saw FIN. */
    for (int i = 0; i < 200 && !r->peer->eof; i++) {
        rig_tick(&p);
        usleep(1000);
    }
    assert_int_equal(r->peer->rx_bytes, bytes);
    assert_true(r->peer->eof);
    assert_int_equal(r->peer->q_drops, 0);
    platform_fini(&p);
    rig_free(r);
}

static void test_udp_stream_over_e1000(void **state)
{
    (void)state;
    static struct platform p;
    platform_init(&p);
    struct rig *r = rig_new(&p);
    r->peer->udp_expect = 1000;
    platform_load(&p, "udp_stream 10.0.2.1 5002 1000 1");
    platform_run(&p);
    const char *res = strstr(p.out, "RESULT udp_stream ");
    if (p.status != 0 || !res)
        fail_msg("status %u; console:\n%s", p.status, p.out);
    unsigned long long bytes, el, msgs, busy;
    assert_int_equal(sscanf(res, "RESULT udp_stream bytes=%llu elapsed_ns=%llu msgs=%llu busy=%llu",
                            &bytes, &el, &msgs, &busy), 4);
    assert_int_equal(bytes, msgs * 1000);
    for (int i = 0; i < 50; i++) { /* frames still queued towards the peer */
        rig_tick(&p);
        usleep(1000);
    }
    assert_true(r->peer->udp_msgs > 0);
    assert_true(r->peer->udp_msgs <= msgs);
    assert_int_equal(r->peer->udp_odd, 0);
    platform_fini(&p);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_over_e1000),
        cmocka_unit_test(test_tcp_stream_over_e1000),
        cmocka_unit_test(test_udp_stream_over_e1000),
    };
    return cmocka_run_group_tests_name("guest_net_e1000", tests, NULL, NULL);
}
