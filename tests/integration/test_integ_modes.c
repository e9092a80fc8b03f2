/* Issue 6, "each of the four modes": the same guest kernel binary, in
 * native, assigned, virtio and emulated mode, pings the Linux peer 10.0.2.1
 * (every reply must arrive) and streams TCP to the sink on port 5001 in the
 * wire's namespace; the bytes the Linux sink counted from its socket must
 * equal the bytes the guest reports as acknowledged (the stream closes
 * cleanly, the sink counts after the close) and be more than 1 MB.
 * Line rate 1 Gb/s, 1 s streams of 16 KiB messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/integration/integ.h"

#define PING_COUNT     3
#define STREAM_MIN     (1ull << 20)

static void ping_mode(enum testbed_mode m)
{
    struct integ_out *o = malloc(sizeof(*o));
    assert_non_null(o);
    integ__run(m, "ping 10.0.2.1 3 interval_ms=50", o);
    integ__expect_ok(o, testbed__mode_name(m));
    uint64_t sent = 0, received = 0;
    assert_true(integ__field(&o->con, "RESULT ping", "sent", &sent));
    assert_true(integ__field(&o->con, "RESULT ping", "received", &received));
    assert_int_equal(sent, PING_COUNT);
    assert_int_equal(received, PING_COUNT);
    free(o);
}

static void stream_mode(enum testbed_mode m)
{
    struct integ_out *o = malloc(sizeof(*o));
    assert_non_null(o);
    integ__run(m, "stream 10.0.2.1 5001 16384 1", o);
    integ__expect_ok(o, testbed__mode_name(m));
    uint64_t bytes = 0, ns = 0;
    assert_true(integ__field(&o->con, "RESULT stream", "bytes", &bytes));
    assert_true(integ__field(&o->con, "RESULT stream", "elapsed_ns", &ns));
    printf("  %-8s stream: guest bytes=%" PRIu64 " sink tcp_bytes=%" PRIu64 " (%.0f Mb/s), nic tx frames %" PRIu64 "\n",
           testbed__mode_name(m), bytes, o->sink_tcp_bytes, integ__mbps(bytes, ns), o->nic_tx_frames);
    assert_int_equal(o->sink_closed, 1);
    assert_int_equal(o->sink_tcp_bytes, bytes);
    assert_true(bytes > STREAM_MIN);
    /* Legitimate traffic never faults in the IOMMU. */
    assert_int_equal(o->faults_total, 0);
    /* Every frame crossed the physical NIC: at least one per 1460-byte segment. */
    assert_true(o->nic_tx_frames >= bytes / 1460);
    free(o);
}

static void test_native(void **state) { (void)state; ping_mode(TESTBED_NATIVE); stream_mode(TESTBED_NATIVE); }
static void test_assigned(void **state) { (void)state; ping_mode(TESTBED_ASSIGNED); stream_mode(TESTBED_ASSIGNED); }
static void test_virtio(void **state) { (void)state; ping_mode(TESTBED_VIRTIO); stream_mode(TESTBED_VIRTIO); }
static void test_emulated(void **state) { (void)state; ping_mode(TESTBED_EMULATED); stream_mode(TESTBED_EMULATED); }

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native),
        cmocka_unit_test(test_assigned),
        cmocka_unit_test(test_virtio),
        cmocka_unit_test(test_emulated),
    };
    return cmocka_run_group_tests_name("integ_modes", tests, NULL, NULL);
}
