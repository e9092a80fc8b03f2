/* What sysfs says about a device before VFIO is asked anything: the checks
 * whose failure users of VFIO meet most, each as one line with the fix
 * (host/vfio/vfio_dev.h). */
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/vfio/vfio_dev.h"

/* snprintf into a path buffer; a path too long for it is an error, not a
 * silently shortened name. */
__attribute__((format(printf, 3, 4))) static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vfio_dev__parse_bdf(const char *s, char out[VFIO_DEV_BDF_LEN])
{
    unsigned dom = 0, bus, dev, fn;
    char tail;
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
            return -EINVAL;
    if (n == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4 && s[4] == ':' &&
        s[7] == ':' && s[10] == '.') {
        /* DDDD:BB:DD.F */
    } else if (n == 7 && sscanf(s, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3 && s[2] == ':' && s[5] == '.') {
        dom = 0;
    } else {
        return -EINVAL;
    }
    if (dev > 0x1f || fn > 7)
        return -EINVAL;
    snprintf(out, VFIO_DEV_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
    return 0;
}

/* Name of the driver bound to `devdir`, "" if none; -errno on I/O trouble. */
static int driver_of(const char *devdir, char *name, size_t len)
{
    char link[PATH_MAX], target[PATH_MAX];
    if (path_fmt(link, sizeof link, "%s/driver", devdir))
        return -ENAMETOOLONG;
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) {
        if (errno != ENOENT)
            return -errno;
        name[0] = '\0';
        return 0;
    }
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    if (path_fmt(name, len, "%s", base ? base + 1 : target))
        return -ENAMETOOLONG;
    return 0;
}

/* Drivers Linux's VFIO accepts next to vfio-pci in a viable group
 * (drivers/vfio/group.c: vfio_dev_driver_allowed: pci-stub, pcieport). */
static bool driver_ok_in_group(const char *drv)
{
    return !drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

int vfio_dev__check_sysfs(const char *sysfs, const char *bdf, int *group_id, char *err, size_t errlen)
{
    char dir[PATH_MAX], drv[128], link[PATH_MAX], target[PATH_MAX];
    if (!sysfs)
        sysfs = "/sys";
    if (path_fmt(dir, sizeof dir, "%s/bus/pci/devices/%s", sysfs, bdf) || access(dir, F_OK)) {
        snprintf(err, errlen, "%s: no such PCI device (not in %s/bus/pci/devices)", bdf, sysfs);
        return -ENODEV;
    }
    int r = driver_of(dir, drv, sizeof drv);
    if (r) {
        snprintf(err, errlen, "%s: reading its driver: %s", bdf, strerror(-r));
        return r;
    }
    if (!drv[0]) {
        snprintf(err, errlen,
                 "%s is not bound to any driver: bind it to vfio-pci (echo vfio-pci > %s/driver_override; "
                 "echo %s > %s/bus/pci/drivers_probe)",
                 bdf, dir, bdf, sysfs);
        return -EBUSY;
    }
    if (strcmp(drv, "vfio-pci")) {
        snprintf(err, errlen,
                 "%s is bound to %s: bind it to vfio-pci (echo vfio-pci > %s/driver_override; echo %s > "
                 "%s/driver/unbind; echo %s > %s/bus/pci/drivers_probe)",
                 bdf, drv, dir, bdf, dir, bdf, sysfs);
        return -EBUSY;
    }
    ssize_t n = path_fmt(link, sizeof link, "%s/iommu_group", dir) ? -1 : readlink(link, target, sizeof target - 1);
    if (n < 0) {
        snprintf(err, errlen,
                 "%s has no IOMMU group: this host runs without an IOMMU (enable VT-d/AMD-Vi in firmware and boot "
                 "with intel_iommu=on or amd_iommu=on)",
                 bdf);
        return -ENODEV;
    }
    target[n] = '\0';
    const char *g = strrchr(target, '/');
    char *end;
    long gid = strtol(g ? g + 1 : target, &end, 10);
    if (*end || gid < 0 || gid > INT_MAX) {
        snprintf(err, errlen, "%s: unreadable IOMMU group link '%s'", bdf, target);
        return -EINVAL;
    }
    /* viability: every member bound to vfio-pci, an allowed driver or none */
    char gdir[PATH_MAX];
    DIR *dp = path_fmt(gdir, sizeof gdir, "%s/kernel/iommu_groups/%ld/devices", sysfs, gid) ? NULL : opendir(gdir);
    if (!dp) {
        snprintf(err, errlen, "%s: cannot list IOMMU group %ld (%s): %s", bdf, gid, gdir, strerror(errno));
        return -errno;
    }
    struct dirent *e;
    r = 0;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, bdf))
            continue;
        char mdir[PATH_MAX];
        if (path_fmt(mdir, sizeof mdir, "%s/%s", gdir, e->d_name))
            continue;
        if (driver_of(mdir, drv, sizeof drv) == 0 && !driver_ok_in_group(drv)) {
            snprintf(err, errlen,
                     "IOMMU group %ld of %s also holds %s, which is bound to %s: bind it to vfio-pci or choose "
                     "another device",
                     gid, bdf, e->d_name, drv);
            r = -EBUSY;
            break;
        }
    }
    closedir(dp);
    if (!r)
        *group_id = (int)gid;
    return r;
}
