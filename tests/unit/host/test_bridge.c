/* host/bridge: forwarding by MAC, broadcast, spoofing, uplink drops, TSO
 * frames to the uplink whole only where the uplink is their way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "host/bridge.h"

struct sink { int frames; size_t last_len; };
static struct sink uplink;
static int uplink_fail;

static void deliver(void *ctx, const uint8_t *f, size_t len)
{
    (void)f;
    struct sink *s = ctx;
    s->frames++;
    s->last_len = len;
}

static int uplink_tx(void *ctx, const uint8_t *f, size_t len)
{
    deliver(ctx, f, len);
    return uplink_fail ? -ENOSPC : 0;
}

static const uint8_t ma[6] = {0x52, 0, 0, 0, 0, 1}, mb[6] = {0x52, 0, 0, 0, 0, 2},
                     peer[6] = {0x52, 0, 0, 0, 0, 9}, bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* A bridge with a fresh uplink and two VM ports attached: pa (MAC ma,
 * delivering to sa) and pb (mb, sb). */
static void bridge_two_vms(struct bridge *b, struct bridge_port *pa, struct sink *sa,
                           struct bridge_port *pb, struct sink *sb)
{
    memset(&uplink, 0, sizeof uplink);
    uplink_fail = 0;
    bridge__init(b, uplink_tx, &uplink);
    *sa = (struct sink){0};
    *sb = (struct sink){0};
    *pa = (struct bridge_port){.deliver = deliver, .ctx = sa};
    *pb = (struct bridge_port){.deliver = deliver, .ctx = sb};
    memcpy(pa->mac, ma, 6);
    memcpy(pb->mac, mb, 6);
    assert_int_equal(bridge__attach(b, pa), 0);
    assert_int_equal(bridge__attach(b, pb), 0);
}

static void frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
    memset(f, 0, 60);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
}

static void test_forwarding(void **state)
{
    (void)state;
    struct bridge b;
    struct sink sa, sb;
    struct bridge_port pa, pb, dup = {.deliver = deliver, .ctx = &sb};
    bridge_two_vms(&b, &pa, &sa, &pb, &sb);
    memcpy(dup.mac, ma, 6);
    assert_int_equal(bridge__attach(&b, &dup), -EEXIST);
    uint8_t f[60];
    frame(f, peer, ma); /* to the wire */
    bridge__from_vm(&b, &pa, f, 60);
    assert_int_equal(uplink.frames, 1);
    frame(f, mb, ma);   /* VM to VM stays local */
    bridge__from_vm(&b, &pa, f, 60);
    assert_int_equal(sb.frames, 1);
    assert_int_equal(uplink.frames, 1);
    frame(f, bcast, ma); /* broadcast: other VM and the wire, not the sender */
    bridge__from_vm(&b, &pa, f, 60);
    assert_int_equal(sb.frames, 2);
    assert_int_equal(sa.frames, 0);
    assert_int_equal(uplink.frames, 2);
    frame(f, peer, mb); /* spoofed source MAC */
    bridge__from_vm(&b, &pa, f, 60);
    assert_int_equal(pa.dropped, 1);
    assert_int_equal(uplink.frames, 2);
    frame(f, ma, peer); /* from the wire */
    bridge__from_uplink(&b, f, 60);
    assert_int_equal(sa.frames, 1);
    frame(f, bcast, peer);
    bridge__from_uplink(&b, f, 60);
    assert_int_equal(sa.frames, 2);
    assert_int_equal(sb.frames, 3);
    frame(f, peer, peer);
    bridge__from_uplink(&b, f, 60);
    assert_int_equal(b.uplink_rx_unclaimed, 1);
    bridge__from_uplink(&b, f, 10); /* runt */
    assert_int_equal(b.uplink_rx_unclaimed, 2);
    uplink_fail = 1;
    frame(f, peer, ma);
    bridge__from_vm(&b, &pa, f, 60);
    assert_int_equal(b.uplink_tx_dropped, 1);
    bridge__detach(&b, &pa);
    frame(f, ma, peer);
    bridge__from_uplink(&b, f, 60);
    assert_int_equal(sa.frames, 2);
    bridge__destroy(&b);
}

static int gso_calls, gso_fail;
static struct bridge_gso gso_seen;

static int uplink_gso(void *ctx, const uint8_t *f, size_t len, const struct bridge_gso *g)
{
    deliver(ctx, f, len);
    gso_calls++;
    gso_seen = *g;
    return gso_fail ? -ENOSPC : 0;
}

static void test_gso(void **state)
{
    (void)state;
    struct bridge b;
    struct sink sa, sb;
    struct bridge_port pa, pb;
    gso_calls = gso_fail = 0;
    bridge_two_vms(&b, &pa, &sa, &pb, &sb);
    const struct bridge_gso g = {.l3_off = 14, .l4_off = 34, .hdr_len = 54, .mss = 1460};
    uint8_t f[60];
    frame(f, peer, ma);
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), -EOPNOTSUPP); /* no TSO uplink */
    assert_int_equal(uplink.frames, 0);
    b.uplink_tx_gso = uplink_gso;
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), 0);           /* to the wire, whole */
    assert_int_equal(gso_calls, 1);
    assert_int_equal(gso_seen.mss, 1460);
    assert_int_equal(b.uplink_tx_gso_frames, 1);
    assert_int_equal(b.uplink_tx_frames, 1);
    frame(f, mb, ma);                                                        /* to a VM: the sender segments */
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), -EOPNOTSUPP);
    frame(f, bcast, ma);                                                     /* group: likewise */
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), -EOPNOTSUPP);
    assert_int_equal(sb.frames, 0);
    assert_int_equal(gso_calls, 1);
    frame(f, peer, mb);                                                      /* spoofed: dropped here */
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), 0);
    assert_int_equal(pa.dropped, 1);
    assert_int_equal(gso_calls, 1);
    gso_fail = 1;                                                            /* the NIC refuses: counted */
    frame(f, peer, ma);
    assert_int_equal(bridge__from_vm_gso(&b, &pa, f, 60, &g), 0);
    assert_int_equal(b.uplink_tx_dropped, 1);
    bridge__destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_forwarding), cmocka_unit_test(test_gso)};
    return cmocka_run_group_tests_name("host/bridge", tests, NULL, NULL);
}
