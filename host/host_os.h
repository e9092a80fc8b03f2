/* The host operating system of the modelled machine: what Linux+KVM would
 * be in the report.  It boots the VT-d driver (translation on, queued
 * invalidation, interrupt remapping), logs DMA-remapping faults, and owns
 * the physical NIC until a VM is given it:
 *   - host_os__nic_up(): the host e1000 driver runs the NIC (its DMA in
 *     pass-through, its MSI remapped to a host vector) and a receive thread
 *     feeds the software bridge that emulated and virtio VMs hang off;
 *   - host_os__nic_down(): the driver stops and the NIC is reset, so it can
 *     be assigned (hv/assign) or handed to the native guest. */
#ifndef IOVIRT_HOST_HOST_OS_H
#define IOVIRT_HOST_HOST_OS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/bridge.h"
#include "host/e1000/host_e1000.h"
#include "host/vtd/host_vtd.h"
#include "hw/platform.h"

#define HOST_OS_CPU          0
#define HOST_OS_NIC_VECTOR   0x40   /* host vector for its own NIC */
#define HOST_OS_FAULT_LOG    64
#define HOST_OS_FAULT_LOG_LINES 64 /* faults logged one per line, then only counted */

struct host_os {
    struct platform *plat;
    struct host_vtd *iommu;
    struct bridge bridge;
    struct mmio_window vtd_win;
    bool ir;                      /* interrupt remapping on */

    /* DMA-remapping and interrupt-remapping faults seen, newest last */
    pthread_mutex_t fault_lock;
    struct host_vtd_fault faults[HOST_OS_FAULT_LOG];
    unsigned nfaults;
    uint64_t faults_total; /* under fault_lock: host_os__faults_total() */

    /* the host's own use of the NIC */
    bool nic_up;
    struct host_e1000 nic;
    pthread_mutex_t nic_lock;
    pthread_cond_t tx_room;       /* TX descriptors reclaimed (host_os__uplink_tx waits) */
    unsigned tx_waiters;          /* under nic_lock */
    uint64_t tx_queue_stops, tx_stopped_ns; /* under nic_lock: TX ring full, time waited */
    uint16_t nic_irte;
    int rx_fd;                    /* eventfd: the NIC's MSI arrived */
    pthread_t rx_thread;
    bool rx_stop; /* __atomic: read by the rx thread */
    uint64_t nic_irqs, cpu_ns_rx;
    uint64_t nic_irq_cpu_ns;      /* the NIC vector's handler, timed per call on the
                                   * thread that raised it (host OS work) */
};

/* 0, or -errno with a message.  interrupt_remapping: program the IRT (VM
 * hosts); off for the native baseline, whose kernel sends plain MSIs, and
 * for a host run without it (`iovirt run --no-interrupt-remapping`), as
 * Linux with intremap=off: every interrupt request, including a device's
 * DMA write into 0xFEExxxxx, is then delivered as its address/data say,
 * so assigning a device is unsafe (hv/assign.c refuses it unless told). */
int host_os__boot(struct host_os *h, struct platform *p, bool interrupt_remapping);
void host_os__shutdown(struct host_os *h);
int host_os__nic_up(struct host_os *h);
void host_os__nic_down(struct host_os *h);
/* Collect pending fault records from the unit (also done on fault events). */
void host_os__poll_faults(struct host_os *h);
/* Copy of the last n faults (up to HOST_OS_FAULT_LOG); returns the count. */
unsigned host_os__faults(struct host_os *h, struct host_vtd_fault *out, unsigned max);
/* Every fault recorded so far (faults_total, read under its lock: the NIC
 * thread records faults as they happen). */
uint64_t host_os__faults_total(struct host_os *h);
/* Host-side CPU time (ns) of threads the host OS runs (receive thread). */
uint64_t host_os__cpu_ns(struct host_os *h);

#endif
