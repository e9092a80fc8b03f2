/* host/vfio: the checks before VFIO is asked anything, against fake sysfs
 * trees (device present, bound to vfio-pci, has an IOMMU group, its group
 * viable) and the PCI address syntax.  Each refusal must name the cause
 * and the fix in its one line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/vfio/vfio_dev.h"

static char root[64];

static void mkdirs(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
}

static void link_to(const char *target, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    assert_int_equal(symlink(target, p), 0);
}

/* A device in group `group`, bound to `drv` ("" = none). */
static void add_dev(const char *bdf, const char *drv, int group)
{
    char rel[256], tgt[256];
    snprintf(rel, sizeof rel, "bus/pci/devices/%s", bdf);
    mkdirs(rel);
    if (drv[0]) {
        snprintf(tgt, sizeof tgt, "../../../bus/pci/drivers/%s", drv);
        snprintf(rel, sizeof rel, "bus/pci/devices/%s/driver", bdf);
        link_to(tgt, rel);
    }
    if (group >= 0) {
        snprintf(tgt, sizeof tgt, "../../../../kernel/iommu_groups/%d", group);
        snprintf(rel, sizeof rel, "bus/pci/devices/%s/iommu_group", bdf);
        link_to(tgt, rel);
        snprintf(rel, sizeof rel, "kernel/iommu_groups/%d/devices", group);
        mkdirs(rel);
        snprintf(tgt, sizeof tgt, "../../../../bus/pci/devices/%s", bdf);
        snprintf(rel, sizeof rel, "kernel/iommu_groups/%d/devices/%s", group, bdf);
        link_to(tgt, rel);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/iovirt-sysfs-XXXXXX");
    assert_non_null(mkdtemp(root));
    add_dev("0000:00:10.0", "vfio-pci", 5);
    add_dev("0000:00:11.0", "e1000", 6);
    add_dev("0000:00:12.0", "", 7);
    add_dev("0000:00:13.0", "vfio-pci", -1);
    add_dev("0000:00:14.0", "vfio-pci", 8);
    add_dev("0000:00:1f.2", "ahci", 8);
    add_dev("0000:00:15.0", "vfio-pci", 9);
    add_dev("0000:00:1c.0", "pcieport", 9);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int check(const char *bdf, int *group, char *err, size_t len)
{
    err[0] = '\0';
    return vfio_dev__check_sysfs(root, bdf, group, err, len);
}

static void test_viable_device(void **state)
{
    (void)state;
    char err[1024];
    int g = -1;
    assert_int_equal(check("0000:00:10.0", &g, err, sizeof err), 0);
    assert_int_equal(g, 5);
    /* a bridge on pcieport in the group is allowed, as Linux's VFIO allows it */
    assert_int_equal(check("0000:00:15.0", &g, err, sizeof err), 0);
    assert_int_equal(g, 9);
}

static void test_refusals_name_cause_and_fix(void **state)
{
    (void)state;
    char err[1024];
    int g = -1;
    assert_int_equal(check("0000:00:1e.0", &g, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err, "no such PCI device"));

    assert_int_equal(check("0000:00:11.0", &g, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "0000:00:11.0 is bound to e1000: bind it to vfio-pci"));
    assert_non_null(strstr(err, "driver_override"));
    assert_non_null(strstr(err, "unbind"));

    assert_int_equal(check("0000:00:12.0", &g, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "not bound to any driver: bind it to vfio-pci"));

    assert_int_equal(check("0000:00:13.0", &g, err, sizeof err), -ENODEV);
    assert_non_null(strstr(err, "has no IOMMU group"));
    assert_non_null(strstr(err, "intel_iommu=on"));

    assert_int_equal(check("0000:00:14.0", &g, err, sizeof err), -EBUSY);
    assert_non_null(strstr(err, "IOMMU group 8 of 0000:00:14.0 also holds 0000:00:1f.2, which is bound to ahci: "
                                "bind it to vfio-pci or choose another device"));
    assert_int_equal(g, -1); /* untouched by a refusal */
    assert_null(strchr(err, '\n'));
}

static void test_bdf_syntax(void **state)
{
    (void)state;
    char b[VFIO_DEV_BDF_LEN];
    assert_int_equal(vfio_dev__parse_bdf("0000:00:10.0", b), 0);
    assert_string_equal(b, "0000:00:10.0");
    assert_int_equal(vfio_dev__parse_bdf("00:1F.7", b), 0);
    assert_string_equal(b, "0000:00:1f.7");
    assert_int_equal(vfio_dev__parse_bdf("0001:ff:1f.7", b), 0);
    assert_string_equal(b, "0001:ff:1f.7");
    static const char *bad[] = {"", "0000:00:20.0", "00:10.8", "0000:00:10", "0000:00:10.0x", "../../etc",
                                "0000:00:10.0/..", "0:0:1.0", "00:10.0 ", "000g:00:10.0"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(vfio_dev__parse_bdf(bad[i], b), -EINVAL);
    assert_int_equal(vfio_dev__parse_bdf(NULL, b), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viable_device),
        cmocka_unit_test(test_refusals_name_cause_and_fix),
        cmocka_unit_test(test_bdf_syntax),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
