/* VFIO container, group and device (host/vfio/vfio_dev.h; the ioctls of
 * <linux/vfio.h> as Documentation/driver-api/vfio.rst uses them). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "host/vfio/vfio_dev.h"

#define VFIO_UNSAFE_PARAM "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

static int fail(char *err, size_t errlen, int r, const char *fmt, const char *bdf, const char *what)
{
    snprintf(err, errlen, fmt, bdf, what);
    return r;
}

bool vfio_dev__unsafe_interrupts_allowed(void)
{
    char c = 'N';
    FILE *f = fopen(VFIO_UNSAFE_PARAM, "r");
    if (f) {
        if (fread(&c, 1, 1, f) != 1)
            c = 'N';
        fclose(f);
    }
    return c == 'Y' || c == '1';
}

static int region_info(struct vfio_dev *d, unsigned index, struct vfio_region *out)
{
    struct vfio_region_info ri = {.argsz = sizeof ri, .index = index};
    if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
        return -errno;
    *out = (struct vfio_region){
        .size = ri.size,
        .offset = ri.offset,
        .readable = ri.flags & VFIO_REGION_INFO_FLAG_READ,
        .writable = ri.flags & VFIO_REGION_INFO_FLAG_WRITE,
        .mmappable = ri.flags & VFIO_REGION_INFO_FLAG_MMAP,
    };
    return 0;
}

static unsigned irq_count(struct vfio_dev *d, unsigned index)
{
    struct vfio_irq_info ii = {.argsz = sizeof ii, .index = index};
    return ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) ? 0 : ii.count;
}

int vfio_dev__open(struct vfio_dev *d, const char *bdf_arg, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->container = d->group = d->device = -1;
    if (vfio_dev__parse_bdf(bdf_arg, d->bdf))
        return fail(err, errlen, -EINVAL, "'%s'%s: not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:10.0)", bdf_arg,
                    "");
    int r = vfio_dev__check_sysfs(NULL, d->bdf, &d->group_id, err, errlen);
    if (r)
        return r;

    d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (d->container < 0) {
        r = -errno;
        fail(err, errlen, r, "%s: /dev/vfio/vfio: %s (is the vfio module loaded?)", d->bdf, strerror(-r));
        goto out;
    }
    if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
        ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
        r = fail(err, errlen, -ENOTSUP, "%s: %s", d->bdf,
                 "this kernel's VFIO has no type1v2 IOMMU (vfio_iommu_type1 not loaded?)");
        goto out;
    }
    char path[64];
    snprintf(path, sizeof path, "/dev/vfio/%d", d->group_id);
    d->group = open(path, O_RDWR | O_CLOEXEC);
    if (d->group < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: %s: %s%s", d->bdf, path, strerror(-r),
                 r == -EBUSY ? " (another process holds the group)" : "");
        goto out;
    }
    struct vfio_group_status st = {.argsz = sizeof st};
    if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        r = -EBUSY;
        snprintf(err, errlen,
                 "%s: IOMMU group %d is not viable: bind every device of /sys/kernel/iommu_groups/%d/devices to "
                 "vfio-pci",
                 d->bdf, d->group_id, d->group_id);
        goto out;
    }
    if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container)) {
        r = -errno;
        fail(err, errlen, r, "%s: attaching the group to a container: %s", d->bdf, strerror(-r));
        goto out;
    }
    if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
        r = -errno;
        if (r == -EPERM)
            snprintf(err, errlen,
                     "%s: vfio refuses the IOMMU: it has no interrupt remapping, so the device's DMA could raise "
                     "any host interrupt; to assign it anyway load vfio_iommu_type1 with "
                     "allow_unsafe_interrupts=1 and pass --allow-unsafe-interrupts",
                     d->bdf);
        else
            fail(err, errlen, r, "%s: setting the type1v2 IOMMU: %s", d->bdf, strerror(-r));
        goto out;
    }
    d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
    if (d->device < 0) {
        r = -errno;
        fail(err, errlen, r, "%s: getting the device from its group: %s", d->bdf, strerror(-r));
        goto out;
    }
    struct vfio_device_info di = {.argsz = sizeof di};
    if (ioctl(d->device, VFIO_DEVICE_GET_INFO, &di) || !(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
        di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
        r = fail(err, errlen, -ENOTSUP, "%s: %s", d->bdf, "not a VFIO PCI device");
        goto out;
    }
    d->has_reset = di.flags & VFIO_DEVICE_FLAGS_RESET;
    for (unsigned i = 0; i < VFIO_DEV_NR_BARS; i++)
        if ((r = region_info(d, VFIO_PCI_BAR0_REGION_INDEX + i, &d->bar[i])))
            goto info_fail;
    if ((r = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &d->config)))
        goto info_fail;
    d->intx_count = irq_count(d, VFIO_PCI_INTX_IRQ_INDEX);
    d->msi_count = irq_count(d, VFIO_PCI_MSI_IRQ_INDEX);
    d->msix_count = irq_count(d, VFIO_PCI_MSIX_IRQ_INDEX);
    return 0;
info_fail:
    fail(err, errlen, r, "%s: reading its regions: %s", d->bdf, strerror(-r));
out:
    vfio_dev__close(d);
    return r;
}

void vfio_dev__close(struct vfio_dev *d)
{
    if (d->device >= 0) {
        vfio_dev__intx_disable(d);
        vfio_dev__msix_disable(d);
        close(d->device);
    }
    for (unsigned i = 0; i < d->ndma && d->container >= 0; i++) {
        struct vfio_iommu_type1_dma_unmap um = {.argsz = sizeof um, .iova = d->dma[i].iova, .size = d->dma[i].size};
        (void)ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &um);
    }
    d->ndma = 0;
    if (d->group >= 0)
        close(d->group);
    if (d->container >= 0)
        close(d->container);
    d->device = d->group = d->container = -1;
}

int vfio_dev__dma_map(struct vfio_dev *d, uint64_t iova, void *vaddr, uint64_t size, char *err, size_t errlen)
{
    if (d->ndma == VFIO_DEV_MAX_DMA) {
        snprintf(err, errlen, "%s: more than %d DMA mappings", d->bdf, VFIO_DEV_MAX_DMA);
        return -ENOSPC;
    }
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof m,
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uint64_t)(uintptr_t)vaddr,
        .iova = iova,
        .size = size,
    };
    if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &m)) {
        int r = -errno;
        struct rlimit rl;
        if (r == -ENOMEM && !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
            snprintf(err, errlen,
                     "%s: mapping %llu MiB of guest RAM for DMA: the locked-memory limit (RLIMIT_MEMLOCK, %llu "
                     "KiB) is too small: raise it (ulimit -l) to at least the guest's RAM or run with "
                     "CAP_IPC_LOCK",
                     d->bdf, (unsigned long long)(size >> 20), (unsigned long long)(rl.rlim_cur >> 10));
        else
            snprintf(err, errlen, "%s: mapping guest RAM at IOVA %#llx for DMA: %s", d->bdf,
                     (unsigned long long)iova, strerror(-r));
        return r;
    }
    d->dma[d->ndma].iova = iova;
    d->dma[d->ndma].size = size;
    d->ndma++;
    return 0;
}

static int rw(struct vfio_dev *d, const struct vfio_region *r, uint64_t off, void *buf, unsigned len, bool write)
{
    if (off > r->size || len > r->size - off || !(write ? r->writable : r->readable))
        return -EINVAL;
    ssize_t n = write ? pwrite(d->device, buf, len, (off_t)(r->offset + off))
                      : pread(d->device, buf, len, (off_t)(r->offset + off));
    return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int vfio_dev__region_read(struct vfio_dev *d, const struct vfio_region *r, uint64_t off, void *buf, unsigned len)
{
    return rw(d, r, off, buf, len, false);
}

int vfio_dev__region_write(struct vfio_dev *d, const struct vfio_region *r, uint64_t off, const void *buf,
                           unsigned len)
{
    return rw(d, r, off, (void *)buf, len, true);
}

int vfio_dev__cfg_read(struct vfio_dev *d, unsigned off, void *buf, unsigned len)
{
    return rw(d, &d->config, off, buf, len, false);
}

int vfio_dev__cfg_write(struct vfio_dev *d, unsigned off, const void *buf, unsigned len)
{
    return rw(d, &d->config, off, (void *)buf, len, true);
}

static int set_irqs(struct vfio_dev *d, uint32_t flags, int fd)
{
    /* struct vfio_irq_set ends in a flexible array: one int32 eventfd after it */
    union {
        struct vfio_irq_set s;
        uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    } set;
    memset(&set, 0, sizeof set);
    bool with_fd = flags & VFIO_IRQ_SET_DATA_EVENTFD;
    set.s.argsz = (uint32_t)(sizeof(struct vfio_irq_set) + (with_fd ? sizeof(int32_t) : 0));
    set.s.flags = flags;
    set.s.index = VFIO_PCI_INTX_IRQ_INDEX;
    set.s.start = 0;
    set.s.count = 1;
    if (with_fd) {
        int32_t v = fd;
        memcpy(set.bytes + sizeof(struct vfio_irq_set), &v, sizeof v);
    }
    return ioctl(d->device, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

int vfio_dev__intx_enable(struct vfio_dev *d, int eventfd)
{
    if (!d->intx_count)
        return -ENOTSUP;
    return set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, eventfd);
}

int vfio_dev__intx_unmask(struct vfio_dev *d)
{
    return set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, -1);
}

int vfio_dev__intx_unmask_eventfd(struct vfio_dev *d, int fd)
{
    if (!d->intx_count)
        return -ENOTSUP;
    return set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, fd);
}

void vfio_dev__intx_disable(struct vfio_dev *d)
{
    if (d->intx_count) { /* count 0 + DATA_NONE + TRIGGER: tear the trigger down */
        struct vfio_irq_set s = {.argsz = sizeof s,
                                 .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                                 .index = VFIO_PCI_INTX_IRQ_INDEX};
        (void)ioctl(d->device, VFIO_DEVICE_SET_IRQS, &s);
    }
}

int vfio_dev__msix_enable(struct vfio_dev *d, unsigned n, const int *fds)
{
    if (!n || n > d->msix_count)
        return -EINVAL;
    size_t sz = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
    struct vfio_irq_set *set = calloc(1, sz);
    if (!set)
        return -ENOMEM;
    *set = (struct vfio_irq_set){.argsz = (uint32_t)sz,
                                 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                                 .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = n};
    memcpy(set->data, fds, n * sizeof(int32_t));
    int r = ioctl(d->device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
    free(set);
    return r;
}

void vfio_dev__msix_disable(struct vfio_dev *d)
{
    if (d->msix_count) {
        struct vfio_irq_set s = {.argsz = sizeof s,
                                 .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                                 .index = VFIO_PCI_MSIX_IRQ_INDEX};
        (void)ioctl(d->device, VFIO_DEVICE_SET_IRQS, &s);
    }
}

int vfio_dev__reset(struct vfio_dev *d)
{
    if (!d->has_reset)
        return -ENOTSUP;
    return ioctl(d->device, VFIO_DEVICE_RESET) ? -errno : 0;
}
