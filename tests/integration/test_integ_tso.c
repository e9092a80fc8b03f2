/* Issue 19, segmentation offload end to end: the guest's TCP hands the
 * e1000 64 KiB TSO frames, the NIC model segments them and writes each
 * burst to the TAP as one GSO super-frame; the Linux sink must read
 * exactly the stream the guest sent, byte for byte (the sink checks every
 * byte against the stream program's pattern), as many bytes as the guest
 * reports acknowledged, after a clean close.  The same with `tso=off`
 * (checksum offload only, no GSO write) and `offload=off`, and in emulated
 * mode (the emulated e1000 hands each TSO burst whole to the bridge, the
 * host driver gives it to the NIC's TSO, and the NIC model writes it to
 * the TAP as one GSO super-frame, as in native mode).
 * Line rate 1 Gb/s, 1 s streams of 64 KiB messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/integration/integ.h"

#define MSG        65536u
#define STREAM_MIN (1ull << 20)

/* gso: expect TSO bursts written whole to the TAP (> 0) or none (0). */
static void stream_exact(enum testbed_mode m, const char *opts, bool gso)
{
    struct integ_out *o = malloc(sizeof(*o));
    assert_non_null(o);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s%sstream 10.0.2.1 5001 %u 1", opts, *opts ? " " : "", MSG);
    integ__run_verify(m, cmd, MSG, o);
    integ__expect_ok(o, testbed__mode_name(m));
    uint64_t bytes = 0, ns = 0;
    assert_true(integ__field(&o->con, "RESULT stream", "bytes", &bytes));
    assert_true(integ__field(&o->con, "RESULT stream", "elapsed_ns", &ns));
    printf("  %-8s %-12s guest bytes=%" PRIu64 " sink=%" PRIu64 " bad=%" PRIu64
           " (%.0f Mb/s) nic tx frames %" PRIu64 " gso writes %" PRIu64 "\n",
           testbed__mode_name(m), *opts ? opts : "(offload)", bytes, o->sink_tcp_bytes,
           o->sink_bad_bytes, integ__mbps(bytes, ns), o->nic_tx_frames, o->nic_gso_writes);
    assert_int_equal(o->sink_closed, 1);
    assert_int_equal(o->sink_tcp_bytes, bytes);
    if (o->sink_bad_bytes)
        fail_msg("%" PRIu64 " stream bytes differ, the first at offset %" PRIu64,
                 o->sink_bad_bytes, o->sink_first_bad_at);
    assert_true(bytes > STREAM_MIN);
    assert_int_equal(o->faults_total, 0);
    /* Every MSS-sized frame crossed the modelled wire and was counted. */
    assert_true(o->nic_tx_frames >= bytes / 1460);
    if (gso)
        assert_true(o->nic_gso_writes > 0);
    else
        assert_int_equal(o->nic_gso_writes, 0);
    if (m == TESTBED_EMULATED) /* ...bursts the bridge took whole from the emulated e1000 */
        assert_true(o->uplink_tx_gso > 0);
    free(o);
}

static void test_native_tso(void **state) { (void)state; stream_exact(TESTBED_NATIVE, "", true); }
static void test_native_tso_off(void **state) { (void)state; stream_exact(TESTBED_NATIVE, "tso=off", false); }
static void test_native_offload_off(void **state) { (void)state; stream_exact(TESTBED_NATIVE, "offload=off", false); }
static void test_assigned_tso(void **state) { (void)state; stream_exact(TESTBED_ASSIGNED, "", true); }
static void test_emulated_tso(void **state) { (void)state; stream_exact(TESTBED_EMULATED, "", true); }

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_tso),
        cmocka_unit_test(test_native_tso_off),
        cmocka_unit_test(test_native_offload_off),
        cmocka_unit_test(test_assigned_tso),
        cmocka_unit_test(test_emulated_tso),
    };
    return cmocka_run_group_tests_name("integ_tso", tests, NULL, NULL);
}
