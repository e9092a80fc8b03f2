/* virtio-net 1.x device (modern PCI transport, virtio 1.1 sections 4.1 and
 * 5.1) for a VM: PCI function with the four virtio capabilities and MSI,
 * BAR0 holding common/ISR/device/notify structures, RX queue 0 and TX queue
 * 1 in guest memory, processed by a backend thread.  Frames leave through a
 * callback (the host bridge) and arrive with virtio_net__rx_frame().
 *
 * A guest error in a ring (see hv/virtio/virtq.h) sets DEVICE_NEEDS_RESET,
 * raises a configuration interrupt and stops the queues until the driver
 * resets the device; the host is never touched.
 *
 * PCI command register (PCI Local Bus 3.0, 6.2.2): with Bus Master Enable
 * clear the device touches no guest memory (no ring or buffer access: TX
 * waits, received frames are refused with -EIO) and sends no MSI (a memory
 * write, 6.8; held and sent when bus mastering returns); INTx is not
 * gated.  Memory Space Enable is decoded by the BAR window's owner
 * (hv/vm_window: the window stops decoding, reads are all-ones). */
#ifndef IOVIRT_HV_VIRTIO_NET_H
#define IOVIRT_HV_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/virtio_regs.h"
#include "hv/guest_mem.h"
#include "drivers/virtio/vnet_offload.h"
#include "hw/irq.h"
#include "hw/mmio.h"
#include "hw/pci/pci_dev.h"

/* BAR0 layout (each structure in its own page so a VMM could map/trap each). */
#define VIRTIO_NET_BAR_SIZE    0x4000u
#define VIRTIO_NET_COMMON_OFF  0x0000u
#define VIRTIO_NET_ISR_OFF     0x1000u
#define VIRTIO_NET_DEVICE_OFF  0x2000u
#define VIRTIO_NET_NOTIFY_OFF  0x3000u
#define VIRTIO_NET_NOTIFY_MULT 4u
#define VIRTIO_NET_QUEUE_MAX   256u
/* Most chains one received frame may fill with MRG_RXBUF (5.1.6.4). */
#define VNET_RX_MAX_CHAINS     64u

/* Features the device offers unless switched off: the offloads of 5.1.3
 * (checksum and TSOv4 both ways, mergeable receive buffers), event index,
 * MAC and status.  VERSION_1 cannot be switched off. */
#define VIRTIO_NET_DEVICE_FEATURES                                                              \
    ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_NET_F_MAC) | \
     (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_CSUM) |                              \
     (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |                     \
     (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_MRG_RXBUF))

struct virtio_net;

typedef void (*virtio_net_tx_fn)(void *ctx, const uint8_t *frame, size_t len);
/* A checked TSO frame (HOST_TSO4) to pass on whole: 0 when taken, else
 * the device segments it in software and sends the pieces with tx. */
typedef int (*virtio_net_tx_gso_fn)(void *ctx, const uint8_t *frame, size_t len,
                                    const struct vnet_tx_plan *plan);

struct virtio_net_params {
    struct guest_mem *gm;
    uint8_t mac[6];
    uint16_t requester_id;       /* for MSI delivery */
    struct irq_sink irq;         /* msi() when MSI is enabled, else intx() */
    virtio_net_tx_fn tx;
    virtio_net_tx_gso_fn tx_gso; /* NULL: always segment in software */
    void *tx_ctx;
    uint64_t features_off;       /* feature bits not to offer (0: all of
                                  * VIRTIO_NET_DEVICE_FEATURES) */
};

struct virtio_net_stats {
    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes, rx_dropped;
    uint64_t notifies, interrupts, guest_errors;
    uint64_t msi_held;    /* MSIs held back while Bus Master Enable was clear */
    uint64_t rx_blocked;  /* frames refused while Bus Master Enable was clear */
    uint64_t tx_gso;      /* TSO frames from the guest (tx_frames counts what left: whole or segments) */
    uint64_t tx_gso_whole; /* of those, passed on whole to tx_gso (the uplink's TSO) */
    uint64_t tx_csum;     /* partial checksums finished */
    uint64_t tx_hdr_dropped; /* frames dropped for their virtio_net_hdr (vnet_offload.h) */
    uint64_t rx_data_valid;  /* frames delivered with DATA_VALID (GUEST_CSUM) */
    uint64_t rx_merged;   /* frames delivered across more than one buffer (MRG_RXBUF) */
};

struct virtio_net *virtio_net__create(const struct virtio_net_params *p);
/* Parse a comma list of features to switch off ("csum", "guest-csum",
 * "tso4", "guest-tso4", "mrg-rxbuf", "event-idx"; "offloads" for the first
 * five; "none" for nothing) into a features_off mask: 0, or -EINVAL for an
 * unknown name. */
int virtio_net__parse_features_off(const char *list, uint64_t *off);
/* The features the driver negotiated (FEATURES_OK), 0 before. */
uint64_t virtio_net__negotiated(struct virtio_net *vn);
/* Stops the backend thread first. */
void virtio_net__destroy(struct virtio_net *vn);
struct pci_dev *virtio_net__pci(struct virtio_net *vn);
extern const struct mmio_ops virtio_net_bar_ops; /* dev = struct virtio_net *, offsets in BAR0 */

/* Start/stop the backend thread that processes TX when notified. */
int virtio_net__start(struct virtio_net *vn);
void virtio_net__stop(struct virtio_net *vn);
/* CPU time (ns) the backend thread has used so far; 0 when it is not running. */
uint64_t virtio_net__thread_cpu_ns(struct virtio_net *vn);
/* Process up to budget TX chains now (the thread calls this; tests may too). */
unsigned virtio_net__tx_process(struct virtio_net *vn, unsigned budget);
/* Deliver a frame to the guest: 0, -ENOSPC (no RX buffer: dropped, counted),
 * -EIO (device not running or broken). */
int virtio_net__rx_frame(struct virtio_net *vn, const uint8_t *frame, size_t len);
bool virtio_net__broken(struct virtio_net *vn);
/* The owner of the configuration space calls this after every write to it:
 * when Bus Master Enable is set again, a held MSI is sent and pending TX
 * runs. */
void virtio_net__cfg_written(struct virtio_net *vn, unsigned off, unsigned size);
void virtio_net__get_stats(struct virtio_net *vn, struct virtio_net_stats *out);

#endif
