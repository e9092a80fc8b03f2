/* Issue 19, virtio-net offloads end to end: the guest streams 64 KiB
 * messages to the Linux sink in virtio mode, and the bytes the sink read
 * must equal the bytes the guest reports acknowledged, and their content
 * the stream's pattern byte for byte, whichever way the frames were cut:
 *   - offloads on: the guest's TCP hands TSO frames (HOST_TSO4), the device
 *     passes them whole to the bridge and the host NIC's TSO cuts them;
 *   - the uplink's TSO taken away: the device segments in software;
 *   - offloads off on the guest's command line, or on the device: plain
 *     MTU frames, nothing segmented.
 * Line rate 1 Gb/s, 1 s streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/integration/integ.h"

#define STREAM_MIN (1ull << 20)
#define F(bit) (1ull << (bit))

static void stream(const char *cmdline, const struct integ_opts *opt, struct integ_out *o, const char *what)
{
    integ__run_opts(TESTBED_VIRTIO, cmdline, opt, o);
    integ__expect_ok(o, what);
    uint64_t bytes = 0, ns = 0;
    assert_true(integ__field(&o->con, "RESULT stream", "bytes", &bytes));
    assert_true(integ__field(&o->con, "RESULT stream", "elapsed_ns", &ns));
    printf("  %-28s guest bytes=%" PRIu64 " sink=%" PRIu64 " (%.0f Mb/s) features %#" PRIx64
           " tso %" PRIu64 " (whole %" PRIu64 ") nic tx %" PRIu64 "\n", what, bytes, o->sink_tcp_bytes,
           integ__mbps(bytes, ns), o->virtio_features, o->virtio.tx_gso, o->virtio.tx_gso_whole, o->nic_tx_frames);
    assert_int_equal(o->sink_closed, 1);
    assert_int_equal(o->sink_tcp_bytes, bytes);
    assert_int_equal(o->sink_bad_bytes, 0); /* the content too, byte for byte */
    assert_true(bytes > STREAM_MIN);
    assert_int_equal(o->virtio.tx_hdr_dropped, 0);
    assert_int_equal(o->faults_total, 0);
    /* On the wire every frame is MTU-sized whoever cut it. */
    assert_true(o->nic_tx_frames >= bytes / 1460);
}

static void test_offloads_on_host_tso(void **state)
{
    (void)state;
    struct integ_out *o = malloc(sizeof(*o));
    static const struct integ_opts opt = {.verify_msg = 65536};
    stream("stream 10.0.2.1 5001 65536 1", &opt, o, "offloads on, NIC TSO");
    assert_true(o->virtio_features & F(VIRTIO_NET_F_HOST_TSO4));
    assert_true(o->virtio_features & F(VIRTIO_NET_F_MRG_RXBUF));
    assert_true(o->virtio.tx_gso > 0);
    assert_int_equal(o->virtio.tx_gso_whole, o->virtio.tx_gso);
    assert_int_equal(o->uplink_tx_gso, o->virtio.tx_gso);
    assert_true(o->nic_gso_writes > 0); /* the NIC's bursts went to the TAP whole */
    assert_true(o->virtio.rx_data_valid > 0); /* the sink's ACKs, checked by the device */
    free(o);
}

static void no_uplink_tso(struct testbed *t)
{
    t->host.bridge.uplink_tx_gso = NULL;
}

static void test_offloads_on_software_segmentation(void **state)
{
    (void)state;
    struct integ_out *o = malloc(sizeof(*o));
    static const struct integ_opts opt = {.verify_msg = 65536, .before_run = no_uplink_tso};
    stream("stream 10.0.2.1 5001 65536 1", &opt, o, "offloads on, device segments");
    assert_true(o->virtio.tx_gso > 0);
    assert_int_equal(o->virtio.tx_gso_whole, 0);
    assert_int_equal(o->uplink_tx_gso, 0);
    assert_int_equal(o->nic_gso_writes, 0);
    assert_true(o->virtio.tx_frames > o->virtio.tx_gso); /* each cut into several */
    free(o);
}

static void test_offloads_off_in_guest(void **state)
{
    (void)state;
    struct integ_out *o = malloc(sizeof(*o));
    static const struct integ_opts opt = {.verify_msg = 65536};
    stream("offload=off stream 10.0.2.1 5001 65536 1", &opt, o, "offloads off (guest)");
    assert_false(o->virtio_features & (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4)));
    assert_int_equal(o->virtio.tx_gso, 0);
    assert_int_equal(o->virtio.tx_csum, 0);
    free(o);
}

static void test_offloads_off_on_device(void **state)
{
    (void)state;
    struct integ_out *o = malloc(sizeof(*o));
    static const struct integ_opts opt = {.verify_msg = 65536, .virtio_off = "offloads"};
    stream("stream 10.0.2.1 5001 65536 1", &opt, o, "offloads off (device)");
    assert_int_equal(o->virtio_features & (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
                                           F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4) |
                                           F(VIRTIO_NET_F_MRG_RXBUF)), 0);
    assert_int_equal(o->virtio.tx_gso, 0);
    assert_int_equal(o->virtio.rx_data_valid, 0);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offloads_on_host_tso),
        cmocka_unit_test(test_offloads_on_software_segmentation),
        cmocka_unit_test(test_offloads_off_in_guest),
        cmocka_unit_test(test_offloads_off_on_device),
    };
    return cmocka_run_group_tests_name("integration/virtio_offload", tests, NULL, NULL);
}
