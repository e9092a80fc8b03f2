/* virtio 1.x names used by the virtio-net device, per the OASIS "Virtual I/O
 * Device (VIRTIO) Version 1.1" specification:
 *   2.1 device status field, 2.2 feature bits, 2.6 split virtqueues,
 *   4.1.2 PCI device discovery, 4.1.4 virtio structure PCI capabilities,
 *   4.1.4.3 common configuration, 4.1.4.4 notification, 4.1.4.5 ISR,
 *   5.1 network device (feature bits 5.1.3, config 5.1.4, header 5.1.6),
 *   6 reserved feature bits (VERSION_1, EVENT_IDX, ...).
 * Freestanding: shared by the hypervisor's device and the guest's driver. */
#ifndef IOVIRT_VIRTIO_REGS_H
#define IOVIRT_VIRTIO_REGS_H

#include <stdint.h>

/* 4.1.2 PCI IDs: modern device ID = 0x1040 + virtio device ID (net = 1) */
#define VIRTIO_PCI_VENDOR_ID       0x1AF4
#define VIRTIO_PCI_DEVICE_ID_NET   0x1041
#define VIRTIO_PCI_REVISION_MODERN 0x01
#define VIRTIO_ID_NET              1

/* 2.1 device status */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01
#define VIRTIO_STATUS_DRIVER             0x02
#define VIRTIO_STATUS_DRIVER_OK          0x04
#define VIRTIO_STATUS_FEATURES_OK        0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED             0x80

/* 6 / 5.1.3 feature bits */
#define VIRTIO_NET_F_CSUM          0
#define VIRTIO_NET_F_GUEST_CSUM    1
#define VIRTIO_NET_F_MTU           3
#define VIRTIO_NET_F_MAC           5
#define VIRTIO_NET_F_STATUS        16
#define VIRTIO_F_INDIRECT_DESC     28
#define VIRTIO_F_EVENT_IDX         29
#define VIRTIO_F_VERSION_1         32

/* 4.1.4 virtio_pci_cap (vendor-specific capability, cap_vndr = 0x09) */
#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5
#define VIRTIO_PCI_CAP_VNDR        0  /* u8 cap_vndr */
#define VIRTIO_PCI_CAP_NEXT        1  /* u8 cap_next */
#define VIRTIO_PCI_CAP_LEN         2  /* u8 cap_len */
#define VIRTIO_PCI_CAP_CFG_TYPE    3  /* u8 */
#define VIRTIO_PCI_CAP_BAR         4  /* u8 */
#define VIRTIO_PCI_CAP_ID          5  /* u8 */
#define VIRTIO_PCI_CAP_OFFSET      8  /* le32 */
#define VIRTIO_PCI_CAP_LENGTH      12 /* le32 */
#define VIRTIO_PCI_CAP_SIZE        16
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* le32 notify_off_multiplier */
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20

/* 4.1.4.3 common configuration structure */
#define VIRTIO_PCI_COMMON_DFSELECT   0x00 /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF         0x04 /* le32 device_feature (RO) */
#define VIRTIO_PCI_COMMON_GFSELECT   0x08 /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF         0x0C /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX       0x10 /* le16 msix_config */
#define VIRTIO_PCI_COMMON_NUMQ       0x12 /* le16 num_queues (RO) */
#define VIRTIO_PCI_COMMON_STATUS     0x14 /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 (RO) */
#define VIRTIO_PCI_COMMON_Q_SELECT   0x16 /* le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE     0x18 /* le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX     0x1A /* le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE   0x1C /* le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF     0x1E /* le16 queue_notify_off (RO) */
#define VIRTIO_PCI_COMMON_Q_DESCLO   0x20 /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI   0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO  0x28 /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI  0x2C
#define VIRTIO_PCI_COMMON_Q_USEDLO   0x30 /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI   0x34
#define VIRTIO_PCI_COMMON_SIZE       0x38
#define VIRTIO_MSI_NO_VECTOR         0xFFFF

/* 4.1.4.5 ISR status */
#define VIRTIO_PCI_ISR_QUEUE         0x01
#define VIRTIO_PCI_ISR_CONFIG        0x02

/* 2.6.5 virtqueue descriptor table entry (16 bytes) */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4

/* 2.6.6 available ring: flags, idx, ring[size], used_event */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_AVAIL_FLAGS   0
#define VIRTQ_AVAIL_IDX     2
#define VIRTQ_AVAIL_RING    4
/* 2.6.8 used ring: flags, idx, ring[size] of {id le32, len le32}, avail_event */
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_USED_FLAGS    0
#define VIRTQ_USED_IDX      2
#define VIRTQ_USED_RING     4
struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};
#define VIRTQ_MAX_SIZE      32768

/* 2.6.7.2 / 2.6.8.2: vring_need_event */
static inline int virtq__need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* 5.1.4 device configuration layout */
#define VIRTIO_NET_CFG_MAC      0  /* u8[6] */
#define VIRTIO_NET_CFG_STATUS   6  /* le16 */
#define VIRTIO_NET_CFG_MAX_VQ   8  /* le16 max_virtqueue_pairs */
#define VIRTIO_NET_CFG_MTU      10 /* le16 */
#define VIRTIO_NET_CFG_SIZE     12
#define VIRTIO_NET_S_LINK_UP    1

/* 5.1.6 virtio_net_hdr (with VIRTIO_F_VERSION_1: 12 bytes, num_buffers present) */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

#endif
