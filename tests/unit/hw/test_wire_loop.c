/* hw/wire loopback pair: frames intact and in order, bounded queue with
 * counted drops, length checks, deterministic loss option, wakeup fd. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hw/wire/wire.h"
#include "lib/log.h"

static size_t make_frame(uint8_t *f, size_t len, uint32_t seq)
{
    memset(f, 0, len);
    memset(f, 0xff, 6);
    f[6] = 0x02;
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental EtherType */
    memcpy(f + 14, &seq, 4);
    for (size_t i = 18; i < len; i++)
        f[i] = (uint8_t)(seq * 7 + i);
    return len;
}

static void test_roundtrip_both_directions(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(16, 0, &a, &b), 0);
    uint8_t f[1514], g[1514];
    for (uint32_t i = 0; i < 10; i++) {
        size_t len = 60 + i * 100;
        make_frame(f, len, i);
        assert_int_equal(wire__send(i % 2 ? a : b, f, len), 0);
        assert_int_equal(wire__recv(i % 2 ? b : a, g, sizeof g), (int)len);
        assert_memory_equal(f, g, len);
    }
    assert_int_equal(wire__recv(a, g, sizeof g), 0);
    assert_int_equal(wire__recv(b, g, sizeof g), 0);
    struct wire_stats s;
    wire__get_stats(a, &s);
    assert_int_equal(s.tx_frames, 5);
    assert_int_equal(s.rx_frames, 5);
    wire__destroy(a);
    wire__destroy(b);
}

static void test_full_queue_drops_are_counted(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(4, 0, &a, &b), 0);
    uint8_t f[100], g[100];
    for (uint32_t i = 0; i < 6; i++) {
        make_frame(f, 100, i);
        assert_int_equal(wire__send(a, f, 100), i < 4 ? 0 : -ENOBUFS);
    }
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(wire__recv(b, g, sizeof g), 100);
        uint32_t seq;
        memcpy(&seq, g + 14, 4);
        assert_int_equal(seq, i);
    }
    assert_int_equal(wire__recv(b, g, sizeof g), 0);
    struct wire_stats s;
    wire__get_stats(a, &s);
    assert_int_equal(s.tx_frames, 4);
    assert_int_equal(s.drop_full, 2);
    wire__destroy(b); /* either order */
    wire__destroy(a);
}

static void test_length_checks(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(4, 1500, &a, &b), 0);
    uint8_t f[1600] = {0}, g[1600];
    assert_int_equal(wire__send(a, f, 13), -EMSGSIZE);
    assert_int_equal(wire__send(a, f, 1515), -EMSGSIZE);
    assert_int_equal(wire__send(a, f, 1514), 0);
    assert_int_equal(wire__send(a, f, 14), 0);
    /* A receive buffer too small: frame dropped, counted, next one fine. */
    assert_int_equal(wire__recv(b, g, 100), -EMSGSIZE);
    assert_int_equal(wire__recv(b, g, sizeof g), 14);
    struct wire_stats s, r;
    wire__get_stats(a, &s);
    wire__get_stats(b, &r);
    assert_int_equal(s.drop_short, 1);
    assert_int_equal(s.drop_long, 1);
    assert_int_equal(s.tx_frames, 2);
    assert_int_equal(r.drop_long, 1);
    assert_int_equal(r.rx_frames, 1);
    wire__destroy(a);
    wire__destroy(b);
}

/* Send n frames through a lossy end; record which arrived. */
static unsigned run_lossy(const struct wire_loss *loss, unsigned n, uint8_t *arrived)
{
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(n, 0, &a, &b), 0);
    wire__set_loss(a, loss);
    uint8_t f[64], g[64];
    for (uint32_t i = 0; i < n; i++) {
        make_frame(f, 64, i);
        assert_int_equal(wire__send(a, f, 64), 0);
    }
    memset(arrived, 0, n);
    unsigned got = 0;
    int len;
    while ((len = wire__recv(b, g, sizeof g)) > 0) {
        uint32_t seq;
        memcpy(&seq, g + 14, 4);
        assert_true(seq < n);
        arrived[seq] = 1;
        got++;
    }
    struct wire_stats s;
    wire__get_stats(a, &s);
    assert_int_equal(s.drop_loss + s.tx_frames, n);
    assert_int_equal(s.tx_frames, got);
    wire__destroy(a);
    wire__destroy(b);
    return n - got;
}

static void test_loss_one_in_n_is_exact(void **state)
{
    (void)state;
    uint8_t arrived[1000];
    struct wire_loss loss = {.one_in = 10};
    assert_int_equal(run_lossy(&loss, 1000, arrived), 100);
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(arrived[i], (i + 1) % 10 != 0);
}

static void test_loss_ppm_is_seeded_and_deterministic(void **state)
{
    (void)state;
    static uint8_t first[4000], second[4000], other[4000];
    struct wire_loss loss = {.ppm = 100000, .seed = 42}; /* 10% */
    unsigned d1 = run_lossy(&loss, 4000, first);
    unsigned d2 = run_lossy(&loss, 4000, second);
    assert_int_equal(d1, d2);
    assert_memory_equal(first, second, sizeof first);
    /* 10% of 4000 = 400; binomial sd ~19, allow +-5 sd. */
    assert_in_range(d1, 305, 495);
    loss.seed = 43;
    run_lossy(&loss, 4000, other);
    assert_memory_not_equal(first, other, sizeof first);
    struct wire_loss none = {0};
    assert_int_equal(run_lossy(&none, 4000, other), 0);
}

static void test_wait_reports_pending_frames(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(8, 0, &a, &b), 0);
    uint8_t f[60] = {0}, g[60];
    assert_int_equal(wire__wait(b, 1000000), 0); /* nothing yet: times out */
    assert_int_equal(wire__send(a, f, 60), 0);
    assert_int_equal(wire__wait(b, 1000000000), 1);
    assert_int_equal(wire__recv(b, g, sizeof g), 60);
    assert_int_equal(wire__recv(b, g, sizeof g), 0);
    assert_int_equal(wire__wait(b, 1000000), 0); /* drained: quiet again */
    wire__destroy(a);
    wire__destroy(b);
}

struct sender {
    struct wire *w;
    uint32_t n;
};

static void *send_thread(void *arg)
{
    struct sender *s = arg;
    uint8_t f[200];
    for (uint32_t i = 0; i < s->n; i++) {
        make_frame(f, sizeof f, i);
        wire__send(s->w, f, sizeof f);
    }
    return NULL;
}

static void test_concurrent_sender_keeps_order(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(64, 0, &a, &b), 0);
    struct sender s = {a, 20000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, send_thread, &s), 0);
    uint8_t g[200];
    uint32_t got = 0;
    int64_t last = -1;
    struct wire_stats st;
    for (;;) {
        int len = wire__recv(b, g, sizeof g);
        if (len == 0) {
            wire__get_stats(a, &st);
            if (st.tx_frames + st.drop_full == s.n && got == st.tx_frames)
                break;
            wire__wait(b, 1000000);
            continue;
        }
        assert_int_equal(len, 200);
        uint32_t seq;
        memcpy(&seq, g + 14, 4);
        assert_true((int64_t)seq > last);
        last = seq;
        got++;
    }
    pthread_join(th, NULL);
    wire__get_stats(a, &st);
    assert_int_equal(st.tx_frames + st.drop_full, s.n);
    assert_int_equal(got, st.tx_frames);
    wire__destroy(a);
    wire__destroy(b);
}

static void test_capture_writes_pcap(void **state)
{
    (void)state;
    struct wire *a, *b;
    assert_int_equal(wire_loop__create_pair(8, 0, &a, &b), 0);
    char path[] = "/tmp/iovirt-wire-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(wire__capture(a, path), 0);
    uint8_t f[100], g[100];
    make_frame(f, 100, 7);
    assert_int_equal(wire__send(a, f, 100), 0);  /* captured (sent) */
    assert_int_equal(wire__send(b, f, 60), 0);
    assert_int_equal(wire__recv(a, g, sizeof g), 60); /* captured (received) */
    assert_int_equal(wire__capture(a, NULL), 0);
    assert_int_equal(wire__send(a, f, 100), 0);  /* not captured */
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    unlink(path);
    assert_int_equal(n, 24 + 16 + 100 + 16 + 60);
    uint32_t magic, caplen;
    memcpy(&magic, buf, 4);
    assert_int_equal(magic, 0xA1B2C3D4u);
    memcpy(&caplen, buf + 24 + 8, 4);
    assert_int_equal(caplen, 100);
    assert_memory_equal(buf + 24 + 16, f, 100);
    wire__destroy(a);
    wire__destroy(b);
}

static void test_bad_config_rejected(void **state)
{
    (void)state;
    struct wire *a = NULL, *b = NULL;
    assert_int_equal(wire_loop__create_pair(70000, 0, &a, &b), -EINVAL);
    assert_int_equal(wire_loop__create_pair(8, 20000, &a, &b), -EINVAL);
    assert_null(a);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_both_directions),
        cmocka_unit_test(test_full_queue_drops_are_counted),
        cmocka_unit_test(test_length_checks),
        cmocka_unit_test(test_loss_one_in_n_is_exact),
        cmocka_unit_test(test_loss_ppm_is_seeded_and_deterministic),
        cmocka_unit_test(test_wait_reports_pending_frames),
        cmocka_unit_test(test_concurrent_sender_keeps_order),
        cmocka_unit_test(test_capture_writes_pcap),
        cmocka_unit_test(test_bad_config_rejected),
    };
    return cmocka_run_group_tests_name("hw/wire loopback", tests, NULL, NULL);
}
