/* host/vtd bring-up against a scripted register file (no model): feature
 * refusal, bounded handshakes, and the order of the enable sequence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "host/vtd/host_vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"

#define FAKE_IRO 0x0F
#define FAKE_FRO 0x22

struct fake_unit {
    uint64_t cap, ecap;
    uint32_t gsts;
    bool deaf;            /* never acknowledges GCMD commands */
    uint64_t rtaddr, ccmd, iotlb;
    /* what the driver did, in order */
    char log[32][16];
    unsigned nlog;
};

static void note(struct fake_unit *f, const char *what)
{
    if (f->nlog < 32)
        snprintf(f->log[f->nlog++], sizeof f->log[0], "%s", what);
}

static uint64_t fake_read(void *dev, uint64_t off, unsigned size)
{
    struct fake_unit *f = dev;
    (void)size;
    switch (off) {
    case VTD_REG_VER: return 0x10;
    case VTD_REG_CAP: return f->cap;
    case VTD_REG_ECAP: return f->ecap;
    case VTD_REG_GSTS: return f->gsts;
    case VTD_REG_RTADDR: return f->rtaddr;
    case VTD_REG_CCMD: return f->ccmd;
    case FAKE_IRO * 16 + VTD_REG_IOTLB_OFF: return f->iotlb;
    default: return 0;
    }
}

static void fake_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct fake_unit *f = dev;
    (void)size;
    switch (off) {
    case VTD_REG_RTADDR:
        f->rtaddr = val;
        note(f, "RTADDR");
        break;
    case VTD_REG_GCMD:
        if (val & VTD_GCMD_SRTP)
            note(f, "SRTP");
        if ((val & VTD_GCMD_TE) && !(f->gsts & VTD_GSTS_TES))
            note(f, "TE");
        if (f->deaf)
            break;
        /* Persistent bits mirror; SRTP reports RTPS. */
        f->gsts = (f->gsts & VTD_GSTS_RTPS) | ((uint32_t)val & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE));
        if (val & VTD_GCMD_SRTP)
            f->gsts |= VTD_GSTS_RTPS;
        break;
    case VTD_REG_CCMD:
        /* Completes at once, reports the granularity it was asked for. */
        f->ccmd = (val & ~VTD_CCMD_ICC & ~VTD_CCMD_CAIG_MASK) |
                  (vtd_field(val, VTD_CCMD_CIRG_MASK, VTD_CCMD_CIRG_SHIFT) << VTD_CCMD_CAIG_SHIFT);
        note(f, vtd_field(val, VTD_CCMD_CIRG_MASK, VTD_CCMD_CIRG_SHIFT) == VTD_CCMD_GLOBAL ? "CC-global" : "CC");
        break;
    case FAKE_IRO * 16 + VTD_REG_IOTLB_OFF:
        f->iotlb = (val & ~VTD_IOTLB_IVT & ~VTD_IOTLB_IAIG_MASK) |
                   (vtd_field(val, VTD_IOTLB_IIRG_MASK, VTD_IOTLB_IIRG_SHIFT) << VTD_IOTLB_IAIG_SHIFT);
        note(f, vtd_field(val, VTD_IOTLB_IIRG_MASK, VTD_IOTLB_IIRG_SHIFT) == VTD_IOTLB_GLOBAL ? "IOTLB-global"
                                                                                              : "IOTLB");
        break;
    default:
        break;
    }
}

static const struct mmio_ops fake_ops = { .read = fake_read, .write = fake_write };

/* A plausible unit: 39+48-bit, 2M+1G, PSI, 256 domains, no QI. */
static void fake_init(struct fake_unit *f)
{
    memset(f, 0, sizeof(*f));
    f->cap = ((uint64_t)(VTD_CAP_SAGAW_39BIT | VTD_CAP_SAGAW_48BIT) << VTD_CAP_SAGAW_SHIFT) |
             (47ull << VTD_CAP_MGAW_SHIFT) | ((uint64_t)FAKE_FRO << VTD_CAP_FRO_SHIFT) |
             ((uint64_t)(VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G) << VTD_CAP_SLLPS_SHIFT) | VTD_CAP_PSI |
             (3ull << VTD_CAP_NFR_SHIFT) | (9ull << VTD_CAP_MAMV_SHIFT) | (2ull << VTD_CAP_ND_SHIFT);
    f->ecap = (uint64_t)FAKE_IRO << VTD_ECAP_IRO_SHIFT;
}

static int setup(void **state)
{
    static struct physmem pm;
    log__set_quiet(1);
    assert_int_equal(physmem__init(&pm, 8ull << 20), 0);
    *state = &pm;
    return 0;
}

static int teardown(void **state)
{
    physmem__destroy(*state);
    return 0;
}

static void test_enable_sequence_register_mode(void **state)
{
    struct physmem *pm = *state;
    struct fake_unit f;
    fake_init(&f);
    struct mmio_window w = { &fake_ops, &f };
    struct host_vtd *h = NULL;
    assert_int_equal(host_vtd__init(&h, pm, &w, NULL), 0);

    struct host_vtd_caps c;
    host_vtd__get_caps(h, &c);
    assert_int_equal(c.levels, 4);
    assert_int_equal(c.agaw, 48);
    assert_true(c.sp_2m && c.sp_1g);
    assert_int_equal(c.nr_domains, 256);
    assert_int_equal(c.nr_fault_regs, 4);
    assert_false(host_vtd__uses_qi(h));
    assert_int_equal(f.rtaddr % 4096, 0);

    /* Root table pointer first, caches flushed globally, then TE. */
    const char *want[] = { "RTADDR", "SRTP", "CC-global", "IOTLB-global", "TE" };
    assert_int_equal(f.nlog, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_string_equal(f.log[i], want[i]);
    assert_true(f.gsts & VTD_GSTS_TES);

    host_vtd__destroy(h);
    assert_false(f.gsts & VTD_GSTS_TES);
    assert_int_equal(physmem__free_bytes(pm), pm->size);
}

static void test_levels_option_picks_3_level(void **state)
{
    struct fake_unit f;
    fake_init(&f);
    struct mmio_window w = { &fake_ops, &f };
    struct host_vtd_options o = { .levels = 3 };
    struct host_vtd *h = NULL;
    assert_int_equal(host_vtd__init(&h, *state, &w, &o), 0);
    struct host_vtd_caps c;
    host_vtd__get_caps(h, &c);
    assert_int_equal(c.levels, 3);
    assert_int_equal(c.iova_limit, 1ull << 39);
    host_vtd__destroy(h);
}

static void test_refuses_missing_features(void **state)
{
    struct physmem *pm = *state;
    struct fake_unit f;
    struct mmio_window w = { &fake_ops, &f };
    struct host_vtd *h = NULL;

    fake_init(&f);
    f.cap &= ~VTD_CAP_SAGAW_MASK; /* no usable table format */
    assert_int_equal(host_vtd__init(&h, pm, &w, NULL), -ENOTSUP);

    fake_init(&f);
    f.cap &= ~((uint64_t)VTD_CAP_SAGAW_39BIT << VTD_CAP_SAGAW_SHIFT);
    struct host_vtd_options three = { .levels = 3 };
    assert_int_equal(host_vtd__init(&h, pm, &w, &three), -ENOTSUP);

    fake_init(&f);
    struct host_vtd_options ir = { .require_ir = true };
    assert_int_equal(host_vtd__init(&h, pm, &w, &ir), -ENOTSUP);
    struct host_vtd_options pt = { .require_pt = true };
    assert_int_equal(host_vtd__init(&h, pm, &w, &pt), -ENOTSUP);

    fake_init(&f);
    f.cap = 0; /* nothing there */
    assert_int_equal(host_vtd__init(&h, pm, &w, NULL), -ENODEV);

    /* Nothing was programmed, nothing leaked. */
    assert_null(h);
    assert_int_equal(f.nlog, 0);
    assert_int_equal(physmem__free_bytes(pm), pm->size);
}

static void test_handshake_timeout_is_bounded(void **state)
{
    struct physmem *pm = *state;
    struct fake_unit f;
    fake_init(&f);
    f.deaf = true;
    struct mmio_window w = { &fake_ops, &f };
    struct host_vtd_options o = { .timeout_ms = 20 };
    struct host_vtd *h = NULL;
    assert_int_equal(host_vtd__init(&h, pm, &w, &o), -ETIMEDOUT);
    assert_null(h);
    /* It gave up at the root table pointer and never enabled translation. */
    assert_string_equal(f.log[f.nlog - 1], "SRTP");
    assert_int_equal(physmem__free_bytes(pm), pm->size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enable_sequence_register_mode),
        cmocka_unit_test(test_levels_option_picks_3_level),
        cmocka_unit_test(test_refuses_missing_features),
        cmocka_unit_test(test_handshake_timeout_is_bounded),
    };
    return cmocka_run_group_tests_name("host_vtd_probe", tests, setup, teardown);
}
