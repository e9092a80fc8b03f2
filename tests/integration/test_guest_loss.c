/* The guest's TCP over a lossy wire: with 1% of the NIC's frames dropped,
 * the native guest's stream still completes, every byte the guest reports
 * acknowledged reaches the Linux sink, and the guest counted retransmissions. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testbed/testbed.h"
#include "lib/log.h"
#include "integ.h"

struct capture {
    unsigned long long bytes, retrans;
    int results;
};

static void on_line(void *ctx, const char *line, size_t len)
{
    (void)len;
    struct capture *c = ctx;
    if (sscanf(line, "RESULT stream bytes=%llu elapsed_ns=%*u msgs=%*u retrans=%llu", &c->bytes,
               &c->retrans) == 2)
        c->results++;
}

static void test_stream_survives_one_percent_loss(void **state)
{
    (void)state;
    log__set_quiet(1);
    char kernel[PATH_MAX + 64];
    integ__kernel(kernel, sizeof kernel);
    struct capture c = {0};
    struct testbed_config cfg = {
        .mode = TESTBED_NATIVE, .line_rate = 1000000000ull, .kernel = kernel,
        .cmdline = "stream 10.0.2.1 5001 16384 2", .wire_loss_ppm = 10000,
        .console = on_line, .console_ctx = &c,
    };
    struct testbed *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(testbed__create(t, &cfg), 0);
    assert_int_equal(testbed__run(t), 0);
    assert_int_equal(t->vm.exit_status, 0);
    struct wire_stats ws;
    wire__get_stats(t->plat.wire, &ws);
    testbed__destroy(t);
    assert_int_equal(c.results, 1);
    assert_true(c.bytes > 1000000);               /* it moved real data */
    assert_int_equal(t->sink.tcp_bytes, c.bytes);  /* every acknowledged byte arrived */
    assert_true(c.retrans > 0);                    /* and losses were repaired */
    assert_true(ws.drop_loss > 0);                 /* the wire really dropped frames */
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stream_survives_one_percent_loss)};
    return cmocka_run_group_tests_name("integration/guest_loss", tests, NULL, NULL);
}
