/* One complete set-up, as the CLI, the benchmark and the integration tests
 * need it: the modelled machine (TAP wire into a private namespace), its
 * host OS, a TCP/UDP sink on the Linux side, and one guest in a mode:
 *   native    the guest kernel (its native port) is the machine's OS: no
 *             hypervisor, no VM (testbed/native.h: identity RAM, the real
 *             NIC by direct bus calls, pass-through DMA, its own MSIs)
 *   assigned  a VM with the NIC assigned through the IOMMU
 *   virtio    a VM with virtio-net on the host bridge
 *   emulated  a VM with an emulated e1000 on the host bridge
 *   none      a VM without a NIC
 * Everything is torn down by testbed__destroy, also after a failed create. */
#ifndef IOVIRT_TESTBED_TESTBED_H
#define IOVIRT_TESTBED_TESTBED_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vm.h"
#include "testbed/native.h"
#include "hw/platform.h"
#include "testbed/wire_iperf3.h"
#include "testbed/wire_sink.h"

/* The Linux side of the wire beside the sink: nothing more, Debian's
 * iperf3 server, or Debian's iperf3 client towards the guest's `iperf3 -s`,
 * started when the guest prints "Server listening on" (testbed/wire_iperf3.h). */
enum testbed_peer { TESTBED_PEER_SINK, TESTBED_PEER_IPERF3, TESTBED_PEER_IPERF3_CLIENT };

enum testbed_mode { TESTBED_NONE, TESTBED_NATIVE, TESTBED_ASSIGNED, TESTBED_VIRTIO, TESTBED_EMULATED };

struct testbed_config {
    enum testbed_mode mode;
    uint64_t mem_bytes;        /* guest RAM (0 = 64 MiB) */
    uint64_t host_mem_bytes;   /* machine memory (0 = 1 GiB) */
    uint64_t line_rate;        /* bits/s, 0 = unlimited */
    const char *kernel;        /* guest kernel ELF (the VM modes) */
    const struct vcpu_ops *backend; /* VM modes: NULL = the default for the
                                * kernel's boot protocol (hv/vm.h) */
    const char *native_kernel; /* native port's ELF; NULL: iovirt-guest-native.elf
                                * next to `kernel` */
    const char *cmdline;       /* guest program and arguments; a Linux
                                * bzImage: its kernel command line */
    const char *initrd;        /* a Linux bzImage's initrd, NULL = none */
    uint16_t sink_port;        /* 0 = 5001 */
    uint32_t sink_verify_msg;  /* test option: the sink checks the stream's
                                * content for this message size (wire_sink__verify) */
    enum testbed_peer peer;    /* the sink always runs; IPERF3 adds the server */
    uint16_t peer_port;        /* iperf3's port, 0 = 5201 */
    struct wire_iperf3_client_args peer_args; /* IPERF3_CLIENT: its test (time_s 0: 10 s) */
    uint32_t wire_loss_ppm;    /* test option: frames the NIC sends that the wire drops */
    bool no_interrupt_remapping; /* host boots VT-d without interrupt remapping */
    bool allow_unsafe_interrupts; /* assign a device even so (hv/assign.h) */
    const char *assign_source; /* assigned: "model" (NULL) or "vfio:BDF" */
    const char *virtio_off;    /* virtio: features the device does not offer
                                * (virtio_net__parse_features_off); NULL: the
                                * environment's IOVIRT_VIRTIO_OFF, else none */
    hv_console_fn console;     /* NULL = stdout */
    void *console_ctx;
};

struct testbed {
    struct testbed_config cfg;
    struct platform plat;
    struct host_os host;
    struct wire_sink sink;
    struct wire_iperf3 peer;   /* peer IPERF3*; its report after destroy */
    bool peer_failed;          /* the client could not be started */
    struct hv_vm vm;           /* every mode but native */
    struct native_machine native; /* native */
    bool plat_up, host_up, sink_up, peer_up, vm_up, native_up;
};

const char *testbed__mode_name(enum testbed_mode m);
/* 0 on success; -1 for an unknown name. */
int testbed__mode_parse(const char *s, enum testbed_mode *out);
const char *testbed__peer_name(enum testbed_peer p);
/* 0, or -1 for an unknown name (sink, iperf3, iperf3-client). */
int testbed__peer_parse(const char *s, enum testbed_peer *out);
/* 0, or -errno with a message logged (everything created is released). */
int testbed__create(struct testbed *t, const struct testbed_config *cfg);
/* Run the guest to power-off: 0 (status: testbed__exit_status) or -errno
 * (-EINTR after testbed__stop). */
int testbed__run(struct testbed *t);
/* Any thread or a signal handler. */
void testbed__stop(struct testbed *t);
int testbed__exit_status(const struct testbed *t);
/* Exits by reason so far (vcpu/vcpu.h VCPU_STAT_*): the VM's vCPU; all
 * zero natively, where nothing traps. */
void testbed__exit_stats(const struct testbed *t, uint64_t out[VCPU_STAT__COUNT]);
/* CPU time of the guest outside this process (a VM's vCPU process), ns;
 * 0 natively and for a vCPU on a thread of this process (kvm:
 * VCPU_CAP_IN_PROCESS), whose time is part of this process's. */
uint64_t testbed__guest_cpu_ns(struct testbed *t);
/* CPU time (ns) of the thread that runs the guest OS inside this process
 * (already part of the process's CPU time): natively the kernel's CPU
 * thread, for a kvm VM the vCPU thread; 0 for a proc VM, whose guest runs
 * in its own process. */
uint64_t testbed__os_thread_cpu_ns(struct testbed *t);
/* Interrupts delivered to the guest kernel so far: injected into the VM's
 * vCPU, or (native) entered into the kernel's IDT. */
uint64_t testbed__interrupts(struct testbed *t);
void testbed__destroy(struct testbed *t);

#endif
