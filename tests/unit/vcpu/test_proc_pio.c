/* Process backend: port I/O in every encoding, registers preserved, exit
 * accounting (guest tests/guests/pio.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc_guest_util.h"

struct out_rec {
    uint16_t port;
    uint8_t len;
    uint32_t data;
};

static void test_pio_all_forms(void **state)
{
    (void)state;
    struct tguest g;
    tguest__init(&g);
    tguest__start(&g, "pio", "");
    struct out_rec outs[32];
    unsigned nout = 0, nin = 0;
    uint32_t code = ~0u;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (tguest__is_exit(e, &code))
            break;
        assert_int_equal(e->reason, VCPU_EXIT_PIO);
        if (e->pio.is_write) {
            assert_true(nout < 32);
            outs[nout++] = (struct out_rec){e->pio.port, e->pio.len, e->pio.data};
        } else {
            assert_int_equal(e->pio.port, 0x81);
            e->pio.data = e->pio.len == 1 ? 0x01 : e->pio.len == 2 ? 0x0202 : 0x04040404;
            nin++;
        }
    }
    assert_int_equal(code, 0);
    const struct out_rec want[] = {
        {0x80, 1, 0x11}, {0x80, 2, 0x2222}, {0x80, 4, 0x33333333},
        {0x3F8, 1, 0x44}, {0x3F8, 2, 0x5555}, {0x3F8, 4, 0x66666666}, {0x80, 1, 0x77},
    };
    assert_int_equal(nout, sizeof want / sizeof want[0]);
    for (unsigned i = 0; i < nout; i++) {
        assert_int_equal(outs[i].port, want[i].port);
        assert_int_equal(outs[i].len, want[i].len);
        assert_int_equal(outs[i].data, want[i].data);
    }
    assert_int_equal(nin, 6);
    assert_int_equal(g.v.stats.n[VCPU_STAT_PIO_IN], 6);
    assert_int_equal(g.v.stats.n[VCPU_STAT_PIO_OUT], nout + 1);
    assert_true(vcpu__cpu_time_ns(&g.v) >= 0);
    tguest__fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pio_all_forms),
    };
    return cmocka_run_group_tests_name("proc_pio", tests, NULL, NULL);
}
