/* The host e1000 driver (drivers/e1000 core) on the platform NIC, whose wire
 * is a TAP in a private namespace: ARP and ICMP echo sent through the NIC
 * (paced at the default 1 Gb/s) get the Linux kernel's real replies, and a
 * TCP peer inside the namespace is reachable from a socket made there. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/log.h"
#include "tests/unit/net_frames.h"
#include "tests/unit/nic_rig.h"

struct rig {
    struct physmem pm;
    struct intc *ic;
    struct wire *tap;
    struct rig_nic nic;
    uint8_t linux_mac[6];
};

static int setup(void **state)
{
    static struct rig r;
    memset(&r, 0, sizeof r);
    log__set_quiet(1);
    if (physmem__init(&r.pm, 32ull << 20) || wire_tap__create(NULL, &r.tap))
        return -1;
    r.ic = intc__create();
    struct host_e1000_config hc = {.rx_count = 64, .tx_count = 64};
    if (!r.ic || rig_nic_up(&r.nic, &r.pm, r.ic, 0, r.tap, tf_guest_mac,
                            E1000_NIC_DEFAULT_RATE, &hc))
        return -1;
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    struct rig *r = *state;
    rig_nic_down(&r->nic);
    wire__destroy(r->tap);
    intc__destroy(r->ic);
    physmem__destroy(&r->pm);
    return 0;
}

typedef bool (*match_fn)(const uint8_t *f, size_t len, void *arg);

/* Receive through the driver until match() (bounded, ~3 s); answer the
 * kernel's ARP requests for the guest address on the way. */
static int drv_await(struct rig *r, match_fn match, void *arg, uint8_t *out, size_t cap)
{
    struct e1000_drv *d = &r->nic.drv.drv;
    for (int i = 0; i < 30000; i++) {
        int len = e1000_drv__rx(d, out, cap);
        if (len <= 0) {
            rig_sleep_us(100);
            continue;
        }
        uint8_t mac[6];
        if (tf_is_arp(out, (size_t)len, 1, TF_LINUX_IP, mac) &&
            tf_get32(out + 14 + 24) == TF_GUEST_IP) {
            uint8_t rep[60];
            tf_arp_reply(rep, tf_guest_mac, TF_GUEST_IP, mac, TF_LINUX_IP);
            e1000_drv__tx_frame(d, rep, sizeof rep);
            continue;
        }
        if (match(out, (size_t)len, arg))
            return len;
    }
    return -ETIMEDOUT;
}

static bool is_arp_reply(const uint8_t *f, size_t len, void *arg)
{
    return tf_is_arp(f, len, 2, TF_LINUX_IP, arg) && memcmp(f, tf_guest_mac, 6) == 0;
}

static void test_arp_through_nic(void **state)
{
    struct rig *r = *state;
    uint8_t f[60], in[2048];
    tf_arp_request(f, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP);
    assert_int_equal(e1000_drv__tx_frame(&r->nic.drv.drv, f, sizeof f), 0);
    int len = drv_await(r, is_arp_reply, r->linux_mac, in, sizeof in);
    assert_true(len >= 60);
    assert_int_equal(tf_get16(in + 14 + 6), 2);            /* reply */
    assert_int_equal(tf_get32(in + 14 + 14), TF_LINUX_IP); /* sender */
    assert_memory_equal(in + 14 + 18, tf_guest_mac, 6);    /* target */
    assert_int_equal(tf_get32(in + 14 + 24), TF_GUEST_IP);
    assert_false(memcmp(r->linux_mac, tf_bcast, 6) == 0);
}

struct echo_match {
    uint16_t seq;
    const uint8_t *payload;
    size_t plen;
};

static bool is_echo_reply(const uint8_t *f, size_t len, void *arg)
{
    struct echo_match *m = arg;
    return tf_is_echo_reply(f, len, TF_LINUX_IP, TF_GUEST_IP, 0x77, m->seq, m->payload, m->plen);
}

static void test_ping_through_nic(void **state)
{
    struct rig *r = *state;
    uint8_t arp[60], in[2048];
    tf_arp_request(arp, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP);
    e1000_drv__tx_frame(&r->nic.drv.drv, arp, sizeof arp);
    assert_true(drv_await(r, is_arp_reply, r->linux_mac, in, sizeof in) > 0);

    static const size_t sizes[] = {0, 18, 56, 1000, 1472}; /* 1472: a full 1500-byte packet */
    uint8_t payload[1472], f[1514];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i ^ 0xA5);
    for (uint16_t k = 0; k < 5; k++) {
        size_t len = tf_icmp_echo(f, r->linux_mac, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP, 8,
                                  0x77, k, payload, sizes[k]);
        assert_int_equal(e1000_drv__tx_frame(&r->nic.drv.drv, f, len), 0);
        struct echo_match m = {k, payload, sizes[k]};
        assert_true(drv_await(r, is_echo_reply, &m, in, sizeof in) > 0);
    }
    struct e1000_nic_stats s;
    e1000_nic__get_stats(r->nic.nic, &s);
    assert_true(s.tx_frames >= 6);
    assert_true(s.rx_frames >= 6);
}

static void test_tcp_listener_in_namespace(void **state)
{
    struct rig *r = *state;
    int s = wire_tap__socket(r->tap, AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001),
                            .sin_addr.s_addr = htonl(TF_LINUX_IP)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 1), 0);
    /* A client in the same namespace connects through its loopback. */
    int c = wire_tap__socket(r->tap, AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int acc = accept(s, NULL, NULL);
    assert_true(acc >= 0);
    assert_int_equal(write(c, "sink", 4), 4);
    char buf[8];
    assert_int_equal(read(acc, buf, sizeof buf), 4);
    assert_memory_equal(buf, "sink", 4);
    close(acc);
    close(c);
    close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_through_nic),
        cmocka_unit_test(test_ping_through_nic),
        cmocka_unit_test(test_tcp_listener_in_namespace),
    };
    return cmocka_run_group_tests_name("drivers/e1000 over TAP", tests, setup, teardown);
}
