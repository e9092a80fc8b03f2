/* drivers/e1000 against the e1000 model: two platform NICs joined by a
 * loopback wire, each driven by the portable driver core (host instance).
 * Frames of every size arrive intact and in order across ring wrap-around;
 * RX ring full is counted in MPC and recovers; TX ring full is reported;
 * gather, zero-copy and checksum insertion; interrupts reach the intc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/log.h"
#include "tests/unit/net_frames.h"
#include "tests/unit/nic_rig.h"

#define VEC_A 0x41
#define VEC_B 0x42
#define RX_COUNT 64u
#define TX_COUNT 64u

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct rig {
    struct physmem pm;
    struct intc *ic;
    struct wire *wa, *wb;
    struct rig_nic a, b;
    uint64_t irq_count[2];
};

static void on_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    struct rig *r = ctx;
    (void)cpu;
    __atomic_fetch_add(&r->irq_count[vector - VEC_A], 1, __ATOMIC_RELAXED);
}

static int setup(void **state)
{
    static struct rig r;
    memset(&r, 0, sizeof r);
    log__set_quiet(1);
    if (physmem__init(&r.pm, 64ull << 20))
        return -1;
    r.ic = intc__create();
    if (!r.ic || wire_loop__create_pair(1024, 0, &r.wa, &r.wb))
        return -1;
    intc__register(r.ic, 0, VEC_A, on_irq, &r);
    intc__register(r.ic, 0, VEC_B, on_irq, &r);
    intc__route_intx(r.ic, 0, 0, VEC_A);
    intc__route_intx(r.ic, 1, 0, VEC_B);
    struct host_e1000_config hc = {.rx_count = RX_COUNT, .tx_count = TX_COUNT};
    /* Unpaced: these tests are about correctness, not timing. */
    if (rig_nic_up(&r.a, &r.pm, r.ic, 0, r.wa, mac_a, 0, &hc) ||
        rig_nic_up(&r.b, &r.pm, r.ic, 1, r.wb, mac_b, 0, &hc))
        return -1;
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    rig_nic_down(&r->a);
    rig_nic_down(&r->b);
    wire__destroy(r->wa);
    wire__destroy(r->wb);
    intc__destroy(r->ic);
    physmem__destroy(&r->pm);
    return 0;
}

static size_t make_frame(uint8_t *f, size_t len, uint32_t seq)
{
    memcpy(f, mac_b, 6);
    memcpy(f + 6, mac_a, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memcpy(f + 14, &seq, 4);
    for (size_t i = 18; i < len; i++)
        f[i] = (uint8_t)(seq * 31 + i * 7);
    return len;
}

struct rx_check {
    uint32_t next_seq;
    size_t next_len;   /* expected length of the next frame (0: any) */
    unsigned got;
    bool bad;
};

static void check_frame(void *ctx, const uint8_t *f, size_t len)
{
    struct rx_check *c = ctx;
    uint8_t want[1514];
    uint32_t seq;
    memcpy(&seq, f + 14, 4);
    size_t wlen = c->next_len ? c->next_len : len;
    if (seq != c->next_seq || len != wlen || len > sizeof want) {
        c->bad = true;
        return;
    }
    make_frame(want, len, seq);
    if (memcmp(want, f, len) != 0)
        c->bad = true;
    c->next_seq++;
    if (c->next_len)
        c->next_len++;
    c->got++;
}

static void test_link_up_and_mac_from_eeprom(void **state)
{
    struct rig *r = *state;
    assert_true(e1000_drv__link_up(&r->a.drv.drv));
    assert_memory_equal(r->a.drv.drv.mac, mac_a, 6);
    assert_memory_equal(r->b.drv.drv.mac, mac_b, 6);
}

static void test_every_size_60_to_1514_in_order(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    struct rx_check c = {.next_seq = 0, .next_len = 60};
    uint8_t f[1514];
    uint32_t seq = 0;
    const uint32_t total = 1514 - 60 + 1;
    for (int spins = 0; c.got < total && spins < 200000 && !c.bad; spins++) {
        /* At most RX_COUNT-1 frames in flight: B's ring never overflows
         * (that case has its own test). */
        while (seq < total && seq - c.got < RX_COUNT - 1) {
            make_frame(f, 60 + seq, seq);
            int rc = e1000_drv__tx_frame(a, f, 60 + seq);
            if (rc == E1000_DRV_EBUSY)
                break;
            assert_int_equal(rc, 0);
            seq++;
        }
        if (e1000_drv__rx_poll(b, check_frame, &c, RX_COUNT) == 0)
            rig_sleep_us(50);
    }
    assert_false(c.bad);
    assert_int_equal(c.got, total);
    /* 1455 frames through 64-entry rings: both wrapped many times. */
    assert_true(total > 10 * RX_COUNT);
    assert_int_equal(e1000_drv__rx_missed(b), 0);
    e1000_drv__tx_reclaim(a);
    assert_int_equal(a->stats.tx_reclaimed, a->stats.tx_frames);
}

struct count_arg {
    struct e1000_nic *nic;
    uint64_t want;
};

static bool nic_rx_seen(void *arg)
{
    struct count_arg *c = arg;
    struct e1000_nic_stats s;
    e1000_nic__get_stats(c->nic, &s);
    return s.rx_frames + s.rx_dropped >= c->want;
}

static void test_rx_ring_full_counts_mpc_and_recovers(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    struct e1000_nic_stats before;
    e1000_nic__get_stats(r->b.nic, &before);
    e1000_drv__rx_missed(b);
    uint64_t missed0 = b->stats.rx_missed;

    /* B does not poll: its ring holds RX_COUNT-1 frames, the rest miss. */
    const unsigned extra = 20, n = RX_COUNT - 1 + extra;
    uint8_t f[200];
    for (unsigned i = 0; i < n; i++) {
        make_frame(f, sizeof f, 1000 + i);
        while (e1000_drv__tx_frame(a, f, sizeof f) == E1000_DRV_EBUSY)
            rig_sleep_us(50);
    }
    struct count_arg ca = {r->b.nic, before.rx_frames + before.rx_dropped + n};
    assert_true(rig_wait(nic_rx_seen, &ca));
    assert_int_equal(e1000_drv__rx_missed(b) - missed0, extra);

    struct rx_check c = {.next_seq = 1000, .next_len = 0};
    unsigned got = e1000_drv__rx_poll(b, check_frame, &c, 1000);
    assert_false(c.bad);
    assert_int_equal(got, RX_COUNT - 1);

    /* Recovery: buffers given back, new frames are received again. */
    for (unsigned i = 0; i < 10; i++) {
        make_frame(f, sizeof f, 5000 + i);
        assert_int_equal(e1000_drv__tx_frame(a, f, sizeof f), 0);
    }
    struct rx_check c2 = {.next_seq = 5000};
    for (int i = 0; i < 50000 && c2.got < 10; i++)
        if (e1000_drv__rx_poll(b, check_frame, &c2, 64) == 0)
            rig_sleep_us(100);
    assert_false(c2.bad);
    assert_int_equal(c2.got, 10);
    assert_int_equal(e1000_drv__rx_missed(b) - missed0, extra);
    struct wire_stats ws;
    wire__get_stats(r->wa, &ws);
    assert_int_equal(ws.drop_full, 0);
}

static void test_tx_ring_full_is_busy_then_drains(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    e1000_drv__rx_poll(b, NULL, NULL, 1000);
    /* Stop A's hardware: nothing is consumed. */
    e1000_nic__stop(r->a.nic);
    uint8_t f[100];
    unsigned queued = 0;
    int rc;
    for (;;) {
        make_frame(f, sizeof f, 7000 + queued);
        rc = e1000_drv__tx_frame(a, f, sizeof f);
        if (rc != 0)
            break;
        queued++;
    }
    assert_int_equal(rc, E1000_DRV_EBUSY);
    assert_int_equal(queued, TX_COUNT - 1);
    assert_int_equal(e1000_drv__tx_free(a), 0);
    assert_int_equal(e1000_nic__start(r->a.nic), 0);
    struct rx_check c = {.next_seq = 7000};
    for (int i = 0; i < 50000 && c.got < queued; i++)
        if (e1000_drv__rx_poll(b, check_frame, &c, 64) == 0)
            rig_sleep_us(100);
    assert_false(c.bad);
    assert_int_equal(c.got, queued);
    e1000_drv__tx_reclaim(a);
    assert_int_equal(e1000_drv__tx_free(a), TX_COUNT - 1);
}

static void test_gather_and_zero_copy(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    uint8_t f[1000];
    make_frame(f, sizeof f, 9000);
    struct e1000_drv_frag fr[3] = {{f, 14}, {f + 14, 300}, {f + 314, 686}};
    assert_int_equal(e1000_drv__tx(a, fr, 3, NULL), 0);
    /* Zero-copy: fragments must be in DMA-able (host physical) memory. */
    uint64_t hpa;
    assert_int_equal(physmem__alloc(&r->pm, PHYSMEM_PAGE_4K, &hpa), 0);
    uint8_t *zc = physmem__ptr(&r->pm, hpa, 4096);
    make_frame(zc, sizeof f, 9001);
    struct e1000_drv_frag zf[2] = {{zc, 100}, {zc + 100, 900}};
    assert_int_equal(e1000_drv__tx_zc(a, zf, 2), 0);
    struct rx_check c = {.next_seq = 9000, .next_len = 0};
    for (int i = 0; i < 50000 && c.got < 2; i++)
        if (e1000_drv__rx_poll(b, check_frame, &c, 64) == 0)
            rig_sleep_us(100);
    assert_false(c.bad);
    assert_int_equal(c.got, 2);
    /* Bad gathers are refused without touching the ring. */
    unsigned free_before = e1000_drv__tx_free(a);
    struct e1000_drv_frag tiny = {f, 10};
    assert_int_equal(e1000_drv__tx(a, &tiny, 1, NULL), E1000_DRV_EMSGSIZE);
    struct e1000_drv_frag huge[2] = {{f, 1000}, {f, 1000}};
    assert_int_equal(e1000_drv__tx(a, huge, 2, NULL), E1000_DRV_EMSGSIZE);
    assert_int_equal(e1000_drv__tx(a, fr, 0, NULL), E1000_DRV_EINVAL);
    assert_true(e1000_drv__tx_free(a) >= free_before);
    physmem__free(&r->pm, hpa, PHYSMEM_PAGE_4K);
}

struct udp_rx {
    uint8_t buf[256];
    size_t len;
    unsigned got;
};

static void copy_frame(void *ctx, const uint8_t *f, size_t len)
{
    struct udp_rx *u = ctx;
    if (len <= sizeof u->buf) {
        memcpy(u->buf, f, len);
        u->len = len;
    }
    u->got++;
}

static void test_legacy_checksum_insertion(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    /* IPv4/UDP frame: the NIC sums from the UDP header (css 34) to the end
     * and writes the result at the checksum field (cso 40).  The pseudo
     * header sum is seeded by software, as the SDM requires. */
    uint8_t f[14 + 20 + 8 + 64];
    memset(f, 0, sizeof f);
    tf_eth(f, mac_b, mac_a, TF_ETH_IPV4);
    uint8_t *ip = f + 14, *udp = ip + 20;
    tf_ipv4(ip, 20 + 8 + 64, 0, 0, 17, TF_GUEST_IP, TF_LINUX_IP);
    tf_put16(udp, 1234);
    tf_put16(udp + 2, 5678);
    tf_put16(udp + 4, 8 + 64);
    for (int i = 0; i < 64; i++)
        udp[8 + i] = (uint8_t)(i * 3 + 1);
    /* Pseudo-header: src, dst, proto, UDP length (not complemented). */
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = 17;
    tf_put16(ph + 10, 8 + 64);
    tf_put16(udp + 6, (uint16_t)~tf_csum(ph, 12));
    struct e1000_drv_csum cs = {.css = 34, .cso = 40};
    struct e1000_drv_frag fr = {f, sizeof f};
    assert_int_equal(e1000_drv__tx(a, &fr, 1, &cs), 0);

    struct udp_rx u = {.got = 0};
    for (int i = 0; i < 50000 && !u.got; i++)
        if (e1000_drv__rx_poll(b, copy_frame, &u, 1) == 0)
            rig_sleep_us(100);
    assert_int_equal(u.got, 1);
    assert_int_equal(u.len, sizeof f);
    /* Verify: pseudo header + UDP segment sums to 0xFFFF. */
    uint8_t v[12 + 8 + 64];
    memcpy(v, ph, 12);
    memcpy(v + 12, u.buf + 34, 8 + 64);
    assert_int_not_equal(tf_get16(u.buf + 40), tf_get16(udp + 6));
    assert_int_equal(tf_csum(v, sizeof v), 0);
    /* A checksum window outside the frame is refused by the driver. */
    struct e1000_drv_csum bad = {.css = 34, .cso = 200};
    assert_int_equal(e1000_drv__tx(a, &fr, 1, &bad), E1000_DRV_EINVAL);
}

/* IPv4 + TCP (proto 6) or UDP (17) frame with `plen` payload bytes; the L4
 * checksum field seeded with the pseudo-header sum, IP checksum zero. */
static size_t make_l4_frame(uint8_t *f, uint8_t proto, size_t plen, uint8_t seed)
{
    size_t l4h = proto == 6 ? 20 : 8, l4len = l4h + plen;
    memset(f, 0, 14 + 20 + l4len);
    tf_eth(f, mac_b, mac_a, TF_ETH_IPV4);
    uint8_t *ip = f + 14, *l4 = ip + 20;
    ip[0] = 0x45;
    tf_put16(ip + 2, (uint16_t)(20 + l4len));
    ip[8] = 64;
    ip[9] = proto;
    tf_put32(ip + 12, TF_GUEST_IP);
    tf_put32(ip + 16, TF_LINUX_IP);
    tf_put16(l4, 40000);
    tf_put16(l4 + 2, 5001);
    if (proto == 6) {
        tf_put32(l4 + 4, 0x01020304);
        l4[12] = 5 << 4;
        l4[13] = 0x18;
        tf_put16(l4 + 14, 65535);
    } else {
        tf_put16(l4 + 4, (uint16_t)l4len);
    }
    for (size_t i = 0; i < plen; i++)
        l4[l4h + i] = (uint8_t)(seed + i * 5);
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    tf_put16(ph + 10, (uint16_t)l4len);
    tf_put16(l4 + (proto == 6 ? 16 : 6), (uint16_t)~tf_csum(ph, 12));
    return 14 + 20 + l4len;
}

/* Both checksums of a received IPv4 TCP/UDP frame verify. */
static bool l4_frame_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    if (len < 34 || tf_csum(ip, 20) != 0)
        return false;
    size_t l4len = tf_get16(ip + 2) - 20u;
    uint8_t v[12 + 1500];
    memcpy(v, ip + 12, 8);
    v[8] = 0;
    v[9] = ip[9];
    tf_put16(v + 10, (uint16_t)l4len);
    memcpy(v + 12, ip + 20, l4len);
    return tf_csum(v, 12 + l4len) == 0;
}

struct l4_rx {
    unsigned got, ok;
};

static void check_l4(void *ctx, const uint8_t *f, size_t len)
{
    struct l4_rx *c = ctx;
    c->got++;
    c->ok += l4_frame_ok(f, len);
}

static void test_context_descriptor_checksum_offload(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    e1000_drv__rx_poll(b, NULL, NULL, 1000);
    for (int i = 0; i < 50000 && e1000_drv__tx_free(a) != TX_COUNT - 1; i++) {
        e1000_drv__tx_reclaim(a);
        rig_sleep_us(100);
    }
    assert_int_equal(e1000_drv__tx_free(a), TX_COUNT - 1);
    struct e1000_drv_offload tcp = {.ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34,
                                    .tucso = 50, .ip_csum = true, .l4_csum = true, .tcp = true};
    struct e1000_drv_offload udp = tcp;
    udp.tcp = false;
    udp.tucso = 40;
    uint8_t f[1514];
    struct e1000_drv_frag fr = {f, 0};
    unsigned free0 = e1000_drv__tx_free(a);
    fr.len = make_l4_frame(f, 6, 1000, 1);
    uint8_t plain[1514];
    memcpy(plain, f, fr.len);
    assert_false(l4_frame_ok(plain, fr.len)); /* not valid before the NIC fills it */
    assert_int_equal(e1000_drv__tx_offload(a, &fr, 1, &tcp), 0);
    assert_int_equal(free0 - e1000_drv__tx_free(a), 2);  /* context + data */
    fr.len = make_l4_frame(f, 6, 1460, 2);
    assert_int_equal(e1000_drv__tx_offload(a, &fr, 1, &tcp), 0);
    assert_int_equal(free0 - e1000_drv__tx_free(a), 3);  /* context reused */
    fr.len = make_l4_frame(f, 17, 300, 3);
    assert_int_equal(e1000_drv__tx_offload(a, &fr, 1, &udp), 0);
    struct l4_rx c = {0};
    for (int i = 0; i < 50000 && c.got < 3; i++)
        if (e1000_drv__rx_poll(b, check_l4, &c, 64) == 0)
            rig_sleep_us(100);
    assert_int_equal(c.got, 3);
    assert_int_equal(c.ok, 3);
    /* Context descriptors are not counted as frames when reclaimed. */
    uint64_t before = a->stats.tx_reclaimed;
    for (int i = 0; i < 50000 && e1000_drv__tx_free(a) != TX_COUNT - 1; i++) {
        e1000_drv__tx_reclaim(a);
        rig_sleep_us(100);
    }
    assert_int_equal(a->stats.tx_reclaimed - before, 3);
    struct e1000_drv_offload bad = tcp;
    bad.tucso = 250;
    fr.len = 200;
    assert_int_equal(e1000_drv__tx_offload(a, &fr, 1, &bad), E1000_DRV_EINVAL);
}

/* What arrives of a TSO frame: each frame checked as it comes. */
struct tso_rx {
    unsigned got, ok;
    uint32_t next_seq;
    uint16_t next_id;
    uint8_t data[24000];
    size_t bytes;
};

static void check_tso(void *ctx, const uint8_t *f, size_t len)
{
    struct tso_rx *c = ctx;
    const uint8_t *ip = f + 14, *tcp = ip + 20;
    size_t p = tf_get16(ip + 2) - 40u;
    c->got++;
    bool ok = len <= 1514 && l4_frame_ok(f, len) && tf_get32(tcp + 4) == c->next_seq &&
              tf_get16(ip + 4) == c->next_id && c->bytes + p <= sizeof c->data;
    if (ok) {
        memcpy(c->data + c->bytes, tcp + 20, p);
        c->bytes += p;
        c->next_seq += (uint32_t)p;
        c->next_id++;
        c->ok++;
    }
}

/* e1000_drv__tx_tso: one 20000-byte payload in a TSO context with 1460-byte
 * MSS arrives as 14 valid frames with consecutive sequence numbers and IDs,
 * the payload intact; impossible layouts are refused. */
static void test_tso_frames_arrive_valid(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    e1000_drv__rx_poll(b, NULL, NULL, 1000);
    enum { PAY = 20000 };
    static uint8_t f[14 + 40 + PAY];
    make_l4_frame(f, 6, 0, 0); /* the headers; the stack's seed is replaced by the driver's */
    tf_put16(f + 16, 40 + PAY);
    tf_put16(f + 18, 0x0700);
    tf_put16(f + 24, tf_csum(f + 14, 20));
    for (size_t i = 0; i < PAY; i++)
        f[54 + i] = (uint8_t)(i * 13 + (i >> 8));
    struct e1000_drv_offload o = {.ipcss = 14, .ipcso = 24, .ipcse = 33, .tucss = 34,
                                  .tucso = 50, .ip_csum = true, .l4_csum = true, .tcp = true};
    /* header and payload in separate fragments, as the guest stack hands them */
    struct e1000_drv_frag fr[2] = {{f, 54}, {f + 54, PAY}};
    unsigned free0 = e1000_drv__tx_free(a);
    assert_int_equal(e1000_drv__tx_tso(a, fr, 2, &o, 54, 1460), 0);
    assert_int_equal(free0 - e1000_drv__tx_free(a), 1 + (54 + PAY + 2047) / 2048);
    static struct tso_rx c;
    memset(&c, 0, sizeof c);
    c.next_seq = 0x01020304;
    c.next_id = 0x0700;
    for (int i = 0; i < 50000 && c.got < 14; i++)
        if (e1000_drv__rx_poll(b, check_tso, &c, 64) == 0)
            rig_sleep_us(100);
    assert_int_equal(c.got, 14);
    assert_int_equal(c.ok, 14);
    assert_int_equal(c.bytes, PAY);
    assert_memory_equal(c.data, f + 54, PAY);
    /* refused: MSS 0, header past the frame, header + MSS over a frame,
     * no checksum asked, more than one IPv4 packet */
    assert_int_equal(e1000_drv__tx_tso(a, fr, 2, &o, 54, 0), E1000_DRV_EINVAL);
    struct e1000_drv_frag hdr_only = {f, 54};
    assert_int_equal(e1000_drv__tx_tso(a, &hdr_only, 1, &o, 54, 1460), E1000_DRV_EINVAL);
    assert_int_equal(e1000_drv__tx_tso(a, fr, 2, &o, 54, 1461), E1000_DRV_EINVAL);
    struct e1000_drv_offload no_l4 = o;
    no_l4.l4_csum = false;
    assert_int_equal(e1000_drv__tx_tso(a, fr, 2, &no_l4, 54, 1460), E1000_DRV_EINVAL);
    struct e1000_drv_frag four[4] = {{f, sizeof f}, {f, sizeof f}, {f, sizeof f}, {f, sizeof f}};
    assert_int_equal(e1000_drv__tx_tso(a, four, 4, &o, 54, 1460), E1000_DRV_EMSGSIZE);
}

static bool irq_seen(void *arg)
{
    struct rig *r = arg;
    return __atomic_load_n(&r->irq_count[1], __ATOMIC_RELAXED) > 0;
}

static void test_rx_interrupt_reaches_intc(void **state)
{
    struct rig *r = *state;
    struct e1000_drv *a = &r->a.drv.drv, *b = &r->b.drv.drv;
    e1000_drv__rx_poll(b, NULL, NULL, 1000);
    (void)e1000_drv__irq(b);
    r->irq_count[1] = 0;
    struct mmio_window w = e1000_nic__mmio(r->b.nic);
    mmio__write32(&w, E1000_IMS, E1000_DRV_IMS_DEFAULT);
    /* INTx line 1 -> vector VEC_B; then the same through MSI. */
    uint8_t f[60];
    make_frame(f, sizeof f, 1);
    assert_int_equal(e1000_drv__tx_frame(a, f, sizeof f), 0);
    assert_true(rig_wait(irq_seen, r));
    uint32_t icr = e1000_drv__irq(b);
    assert_true(icr & E1000_ICR_RXT0);
    assert_int_equal(e1000_drv__irq(b) & E1000_ICR_RXT0, 0); /* read-to-clear */
    e1000_drv__rx_poll(b, NULL, NULL, 1000);

    r->irq_count[1] = 0;
    e1000_nic__set_msi(r->b.nic, true, INTC_MSI_ADDR_BASE | (0u << INTC_MSI_ADDR_DEST_SHIFT),
                       VEC_B);
    assert_int_equal(e1000_drv__tx_frame(a, f, sizeof f), 0);
    assert_true(rig_wait(irq_seen, r));
    assert_true(e1000_drv__irq(b) & E1000_ICR_RXT0);
    struct e1000_nic_stats s;
    e1000_nic__get_stats(r->b.nic, &s);
    assert_true(s.msi_sent >= 1);
    mmio__write32(&w, E1000_IMC, 0xFFFFFFFFu);
    e1000_nic__set_msi(r->b.nic, false, 0, 0);
    e1000_drv__rx_poll(b, NULL, NULL, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_up_and_mac_from_eeprom),
        cmocka_unit_test(test_every_size_60_to_1514_in_order),
        cmocka_unit_test(test_rx_ring_full_counts_mpc_and_recovers),
        cmocka_unit_test(test_tx_ring_full_is_busy_then_drains),
        cmocka_unit_test(test_gather_and_zero_copy),
        cmocka_unit_test(test_legacy_checksum_insertion),
        cmocka_unit_test(test_context_descriptor_checksum_offload),
        cmocka_unit_test(test_tso_frames_arrive_valid),
        cmocka_unit_test(test_rx_interrupt_reaches_intc),
    };
    return cmocka_run_group_tests_name("drivers/e1000 over loopback", tests, setup, teardown);
}
