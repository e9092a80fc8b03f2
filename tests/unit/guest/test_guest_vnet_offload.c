/* guest/drivers/virtio_net_offload.c (host build): which offered features
 * the driver takes with each command-line switch, 5.1.3.1's dependencies
 * kept, and a received NEEDS_CSUM frame's checksum finished. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../net_frames.h"
#include "guest/drivers/virtio_net_offload.c"

#define B(bit) (1ull << (bit))
#define BASE (B(VIRTIO_F_VERSION_1) | B(VIRTIO_NET_F_MAC) | B(VIRTIO_F_EVENT_IDX))
#define OFFL (B(VIRTIO_NET_F_CSUM) | B(VIRTIO_NET_F_GUEST_CSUM) | B(VIRTIO_NET_F_HOST_TSO4) | \
              B(VIRTIO_NET_F_GUEST_TSO4) | B(VIRTIO_NET_F_MRG_RXBUF))

static uint64_t pick(uint64_t offered, const char *offload, const char *tso, const char *list)
{
    struct vnet_switches sw = {.offload = offload, .tso = tso, .vnet_off = list};
    return vnet__choose_features(offered, &sw);
}

static void test_choose(void **state)
{
    (void)state;
    uint64_t all = BASE | OFFL | B(VIRTIO_NET_F_STATUS) | B(VIRTIO_NET_F_CTRL_VQ);
    assert_int_equal(pick(all, NULL, NULL, NULL), BASE | OFFL);        /* never what it cannot do */
    assert_int_equal(pick(BASE, NULL, NULL, NULL), BASE);              /* nothing offered, nothing taken */
    assert_int_equal(pick(all, "off", NULL, NULL), BASE | B(VIRTIO_NET_F_MRG_RXBUF));
    assert_int_equal(pick(all, NULL, "off", NULL),
                     BASE | B(VIRTIO_NET_F_CSUM) | B(VIRTIO_NET_F_GUEST_CSUM) | B(VIRTIO_NET_F_MRG_RXBUF));
    assert_int_equal(pick(all, NULL, NULL, "offloads"), BASE);
    assert_int_equal(pick(all, NULL, NULL, "event-idx,none"), (BASE | OFFL) & ~B(VIRTIO_F_EVENT_IDX));
    /* each switched off alone; dependencies follow (5.1.3.1; GUEST_TSO4 needs merged buffers here) */
    assert_int_equal(pick(all, NULL, NULL, "csum"), (BASE | OFFL) & ~(B(VIRTIO_NET_F_CSUM) | B(VIRTIO_NET_F_HOST_TSO4)));
    assert_int_equal(pick(all, NULL, NULL, "tso4"), (BASE | OFFL) & ~B(VIRTIO_NET_F_HOST_TSO4));
    assert_int_equal(pick(all, NULL, NULL, "guest-csum"),
                     (BASE | OFFL) & ~(B(VIRTIO_NET_F_GUEST_CSUM) | B(VIRTIO_NET_F_GUEST_TSO4)));
    assert_int_equal(pick(all, NULL, NULL, "guest-tso4"), (BASE | OFFL) & ~B(VIRTIO_NET_F_GUEST_TSO4));
    assert_int_equal(pick(all, NULL, NULL, "mrg-rxbuf"),
                     (BASE | OFFL) & ~(B(VIRTIO_NET_F_MRG_RXBUF) | B(VIRTIO_NET_F_GUEST_TSO4)));
    /* a device offering TSO without its checksum: not taken */
    assert_int_equal(pick(BASE | B(VIRTIO_NET_F_HOST_TSO4) | B(VIRTIO_NET_F_GUEST_TSO4), NULL, NULL, NULL), BASE);
    assert_int_equal(pick(all, NULL, NULL, "bogus,csum"), pick(all, NULL, NULL, "csum"));
}

static void test_finish_csum(void **state)
{
    (void)state;
    uint8_t f[14 + 20 + 8 + 31] = {0};
    uint8_t *ip = f + 14, *u = ip + 20;
    tf_put16(f + 12, TF_ETH_IPV4);
    ip[0] = 0x45;
    ip[9] = 17;
    tf_put32(ip + 12, TF_LINUX_IP);
    tf_put32(ip + 16, TF_GUEST_IP);
    tf_put16(u + 4, 8 + 31);
    for (int i = 0; i < 31; i++)
        u[8 + i] = (uint8_t)(i * 3 + 1);
    uint32_t s = (TF_LINUX_IP >> 16) + (TF_LINUX_IP & 0xFFFF) + (TF_GUEST_IP >> 16) + (TF_GUEST_IP & 0xFFFF) + 17 + 39;
    tf_put16(u + 6, (uint16_t)((s & 0xFFFF) + (s >> 16))); /* the seed a partial-checksum sender leaves */
    assert_int_equal(vnet__finish_csum(f, sizeof f, 34, 6), 0);
    uint8_t ph[12 + 39];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0, ph[9] = 17;
    tf_put16(ph + 10, 39);
    memcpy(ph + 12, u, 39);
    assert_int_equal(tf_csum(ph, sizeof ph), 0);
    assert_int_equal(vnet__finish_csum(f, sizeof f, 34, 38), -1);     /* field past the end */
    assert_int_equal(vnet__finish_csum(f, sizeof f, 0xFFFF, 0xFFFF), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_finish_csum),
    };
    return cmocka_run_group_tests_name("guest/virtio_net_offload", tests, NULL, NULL);
}
