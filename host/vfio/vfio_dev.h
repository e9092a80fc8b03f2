/* A PCI function of this Linux host, taken through VFIO (the kernel's
 * Documentation/driver-api/vfio.rst; <linux/vfio.h>), as the `vfio` device
 * source of direct assignment (hv/assign_vfio.c).  Type1v2 IOMMU only: the
 * test machine's 6.1 kernel predates iommufd.
 *
 * Open checks everything a user gets wrong first, each with one line that
 * says what to do: the device exists, it is bound to vfio-pci, the host has
 * an IOMMU (the device has a group), every other device of its group is
 * bound to vfio-pci or to nothing (the group is viable), and the container
 * accepts type1v2 (which vfio refuses without interrupt remapping unless
 * vfio_iommu_type1's allow_unsafe_interrupts is set). */
#ifndef IOVIRT_HOST_VFIO_VFIO_DEV_H
#define IOVIRT_HOST_VFIO_VFIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFIO_DEV_BDF_LEN 13     /* "0000:00:00.0" + NUL */
#define VFIO_DEV_NR_BARS 6
#define VFIO_DEV_MAX_DMA 1024  /* 2 GiB of guest RAM in 2 MiB extents */

struct vfio_region {
    uint64_t size, offset;     /* offset of the region in the device fd */
    bool readable, writable, mmappable;
};

struct vfio_dev {
    char bdf[VFIO_DEV_BDF_LEN];
    int group_id;
    int container, group, device;          /* -1 when closed */
    bool has_reset;                        /* VFIO_DEVICE_RESET offered (FLR, PM, bus) */
    struct vfio_region bar[VFIO_DEV_NR_BARS];
    struct vfio_region config;
    unsigned intx_count, msi_count, msix_count;
    /* DMA mappings made (unmapped again by vfio_dev__close) */
    struct { uint64_t iova, size; } dma[VFIO_DEV_MAX_DMA];
    unsigned ndma;
};

/* "DDDD:BB:DD.F" or "BB:DD.F" (domain 0000) into out; 0 or -EINVAL. */
int vfio_dev__parse_bdf(const char *s, char out[VFIO_DEV_BDF_LEN]);

/* 0, or -errno with one line in err naming the cause and the fix.  sysfs:
 * the sysfs root (tests point it at a fake tree; NULL = "/sys"). */
int vfio_dev__check_sysfs(const char *sysfs, const char *bdf, int *group_id, char *err, size_t errlen);
int vfio_dev__open(struct vfio_dev *d, const char *bdf, char *err, size_t errlen);
/* Unmaps DMA, closes the fds; safe on a partly opened or closed device. */
void vfio_dev__close(struct vfio_dev *d);

/* vfio_iommu_type1's allow_unsafe_interrupts: when it is off, an attached
 * container proves the IOMMU remaps (and so isolates) interrupts. */
bool vfio_dev__unsafe_interrupts_allowed(void);

/* Map [vaddr, vaddr+size) of this process at iova, read-write for the
 * device.  0 or -errno (-ENOMEM with a hint when RLIMIT_MEMLOCK is short). */
int vfio_dev__dma_map(struct vfio_dev *d, uint64_t iova, void *vaddr, uint64_t size, char *err, size_t errlen);

/* Configuration space and region access through the device fd (pread/
 * pwrite at the region's offset); 0 or -errno. */
int vfio_dev__cfg_read(struct vfio_dev *d, unsigned off, void *buf, unsigned len);
int vfio_dev__cfg_write(struct vfio_dev *d, unsigned off, const void *buf, unsigned len);
int vfio_dev__region_read(struct vfio_dev *d, const struct vfio_region *r, uint64_t off, void *buf, unsigned len);
int vfio_dev__region_write(struct vfio_dev *d, const struct vfio_region *r, uint64_t off, const void *buf,
                           unsigned len);

/* INTx: each assertion signals `eventfd` with the line masked (VFIO masks
 * it automatically); unmask re-arms it, signalling again at once if the
 * device still asserts.  intx_disable tears the trigger down. */
int vfio_dev__intx_enable(struct vfio_dev *d, int eventfd);
int vfio_dev__intx_unmask(struct vfio_dev *d);
/* Let eventfd `fd` unmask INTx (a KVM irqfd's resample fd: the guest's EOI
 * unmasks the host line without this process); fd -1 removes it.  0 or
 * -errno. */
int vfio_dev__intx_unmask_eventfd(struct vfio_dev *d, int fd);
void vfio_dev__intx_disable(struct vfio_dev *d);

/* MSI-X (VFIO_PCI_MSIX_IRQ_INDEX): vector i signals fds[i]; n <= the
 * function's count.  msix_disable tears all vectors down. */
int vfio_dev__msix_enable(struct vfio_dev *d, unsigned n, const int *fds);
void vfio_dev__msix_disable(struct vfio_dev *d);

/* VFIO_DEVICE_RESET where offered: 0, -ENOTSUP if the device has none. */
int vfio_dev__reset(struct vfio_dev *d);

#endif
