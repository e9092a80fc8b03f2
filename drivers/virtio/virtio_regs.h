/* virtio 1.x names and layouts of the virtio-net device, from "Virtual I/O
 * Device (VIRTIO) Version 1.2" (OASIS), with the 1.1 section numbers where
 * they differ: 2.1 device status, 2.6 split virtqueues, 4.1 PCI transport,
 * 5.1 network device, 6 reserved feature bits.  All fields little-endian
 * (x86: native).  Freestanding: the one header shared by the guest's driver
 * (guest/drivers) and the hypervisor's device (hv/virtio). */
#ifndef IOVIRT_DRIVERS_VIRTIO_REGS_H
#define IOVIRT_DRIVERS_VIRTIO_REGS_H

#include <stdint.h>

/* 4.1.2 PCI Device Discovery: vendor 0x1AF4, modern ID 0x1040 + type;
 * 5.1 network device type 1; transitional network device 0x1000. */
#define VIRTIO_PCI_VENDOR_ID        0x1AF4
#define VIRTIO_PCI_DEVICE_ID_NET    0x1041
#define VIRTIO_PCI_DEVICE_ID_NET_TRANSITIONAL 0x1000
#define VIRTIO_PCI_REVISION_MODERN  0x01        /* 4.1.2.1: modern-only devices */
#define VIRTIO_ID_NET               1

/* 2.1 Device Status Field */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE       1
#define VIRTIO_CONFIG_S_DRIVER            2
#define VIRTIO_CONFIG_S_DRIVER_OK         4
#define VIRTIO_CONFIG_S_FEATURES_OK       8
#define VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET 64
#define VIRTIO_CONFIG_S_FAILED            128

/* 6 Reserved Feature Bits */
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34

/* 5.1.3 Network device feature bits.  5.1.3.1: GUEST_TSO4 requires
 * GUEST_CSUM, HOST_TSO4 requires CSUM. */
#define VIRTIO_NET_F_CSUM           0   /* device takes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM     1   /* driver takes partial checksums */
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7   /* driver takes TSOv4 frames */
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_ECN      9
#define VIRTIO_NET_F_GUEST_UFO      10
#define VIRTIO_NET_F_HOST_TSO4      11  /* device takes TSOv4 frames */
#define VIRTIO_NET_F_HOST_TSO6      12
#define VIRTIO_NET_F_HOST_ECN       13
#define VIRTIO_NET_F_HOST_UFO       14
#define VIRTIO_NET_F_MRG_RXBUF      15  /* a received frame may span buffers */
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17

/* 4.1.4 Virtio Structure PCI Capabilities: struct virtio_pci_cap, a vendor
 * specific capability (ID 0x09) in configuration space. */
#define VIRTIO_PCI_CAP_VNDR         0   /* u8 cap_vndr (0x09) */
#define VIRTIO_PCI_CAP_NEXT         1   /* u8 cap_next */
#define VIRTIO_PCI_CAP_LEN          2   /* u8 cap_len */
#define VIRTIO_PCI_CAP_CFG_TYPE     3   /* u8 cfg_type */
#define VIRTIO_PCI_CAP_BAR          4   /* u8 bar */
#define VIRTIO_PCI_CAP_ID           5   /* u8 id */
#define VIRTIO_PCI_CAP_OFFSET       8   /* le32 offset within the BAR */
#define VIRTIO_PCI_CAP_LENGTH       12  /* le32 length */
#define VIRTIO_PCI_CAP_SIZE         16
/* 4.1.4.4 struct virtio_pci_notify_cap: the cap, then le32 multiplier */
#define VIRTIO_PCI_NOTIFY_CAP_MULT  16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE  20

/* cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4
#define VIRTIO_PCI_CAP_PCI_CFG      5

/* 4.1.4.3 Common configuration structure layout (struct
 * virtio_pci_common_cfg) */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00  /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF            0x04  /* le32 device_feature (RO) */
#define VIRTIO_PCI_COMMON_GFSELECT      0x08  /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF            0x0C  /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX          0x10  /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ          0x12  /* le16 num_queues (RO) */
#define VIRTIO_PCI_COMMON_STATUS        0x14  /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15  /* u8 config_generation (RO) */
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16  /* le16 queue_select */
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18  /* le16 queue_size */
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1A  /* le16 queue_msix_vector */
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1C  /* le16 queue_enable */
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1E  /* le16 queue_notify_off (RO) */
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20  /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28  /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2C
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30  /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_CFG_SIZE      0x38  /* 1.1 layout; 1.2 adds 4 bytes */

/* 4.1.5.1.2 MSI-X vector configuration: "no vector" */
#define VIRTIO_MSI_NO_VECTOR        0xFFFF

/* 4.1.4.5 ISR status: read clears */
#define VIRTIO_PCI_ISR_QUEUE        0x1
#define VIRTIO_PCI_ISR_CONFIG       0x2

/* 2.7 Split Virtqueues (1.1: 2.6): layout and alignment (2.7 table:
 * descriptor table 16, available ring 2, used ring 4). */
#define VIRTQ_DESC_ALIGN   16
#define VIRTQ_AVAIL_ALIGN  2
#define VIRTQ_USED_ALIGN   4
#define VIRTQ_MAX_SIZE     32768

/* 2.7.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2
#define VIRTQ_DESC_F_INDIRECT   4
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* 2.7.6 The Virtqueue Available Ring */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];  /* then le16 used_event (EVENT_IDX) */
};

/* 2.7.8 The Virtqueue Used Ring */
#define VIRTQ_USED_F_NO_NOTIFY 1
/* Byte offsets inside the rings, for a device reading guest memory field
 * by field (2.6.6 available ring: flags, idx, ring[size], used_event; 2.6.8
 * used ring: flags, idx, ring[size] of 8-byte elements, avail_event). */
#define VIRTQ_AVAIL_FLAGS   0
#define VIRTQ_AVAIL_IDX     2
#define VIRTQ_AVAIL_RING    4
#define VIRTQ_USED_FLAGS    0
#define VIRTQ_USED_IDX      2
#define VIRTQ_USED_RING     4

/* 2.6.7.2 / 2.6.8.2: vring_need_event */
static inline int virtq__need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}
struct virtq_used_elem {
    uint32_t id;   /* head of the used descriptor chain */
    uint32_t len;  /* bytes written into the chain's device-writable part */
};
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* then le16 avail_event (EVENT_IDX) */
};

/* 5.1.4 Device configuration layout (struct virtio_net_config) */
#define VIRTIO_NET_CFG_MAC      0   /* u8 mac[6], valid with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CFG_STATUS   6   /* le16, valid with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_CFG_MAX_VQ   8   /* le16 max_virtqueue_pairs */
#define VIRTIO_NET_CFG_MTU      10  /* le16, valid with VIRTIO_NET_F_MTU */
#define VIRTIO_NET_CFG_SIZE     12
#define VIRTIO_NET_S_LINK_UP    1

/* 5.1.6 Device Operation: struct virtio_net_hdr; 12 bytes when
 * VIRTIO_F_VERSION_1 is negotiated (num_buffers always present). */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
/* flags (5.1.6): NEEDS_CSUM: the checksum from csum_start to the end of
 * the frame goes at csum_start + csum_offset, the field already holding the
 * pseudo-header sum (5.1.6.2); DATA_VALID: the device checked the frame's
 * checksum (5.1.6.4, only with GUEST_CSUM; a driver never sets it,
 * 5.1.6.2.1). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4
/* gso_type (5.1.6): with anything but NONE, gso_size is the MSS, hdr_len
 * the length of the Ethernet + IP + TCP headers (a hint unless
 * VIRTIO_NET_F_HOST_HDRLEN, 5.1.6.2.1), and NEEDS_CSUM is set; ECN is or-ed
 * in only with HOST_ECN / GUEST_ECN. */
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP   3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN   0x80
#define VIRTIO_NET_RX_VQ        0   /* 5.1.2 receiveq1 */
#define VIRTIO_NET_TX_VQ        1   /* transmitq1 */
/* 5.1.6.3.1: without MRG_RXBUF, buffers of >= 1526 bytes, or >= 65562
 * with GUEST_TSO4/6/UFO; with MRG_RXBUF each buffer holds at least the
 * header, and the device writes num_buffers, the count of buffers (chains)
 * the frame fills (5.1.6.4). */
#define VIRTIO_NET_MIN_RX_BUF   1526
#define VIRTIO_NET_MIN_RX_BUF_GSO 65562

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr layout");

#endif
