/* One complete set-up, as the CLI, the benchmark and the integration tests
 * need it: the modelled machine (TAP wire into a private namespace), its
 * host OS, a TCP/UDP sink on the Linux side, and one guest in a mode:
 *   native    the guest kernel is the machine's OS (identity RAM, the real
 *             NIC, pass-through DMA, its own MSIs), no hypervisor
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
#include "hw/platform.h"
#include "testbed/wire_sink.h"

enum testbed_mode { TESTBED_NONE, TESTBED_NATIVE, TESTBED_ASSIGNED, TESTBED_VIRTIO, TESTBED_EMULATED };

struct testbed_config {
    enum testbed_mode mode;
    uint64_t mem_bytes;        /* guest RAM (0 = 64 MiB) */
    uint64_t host_mem_bytes;   /* machine memory (0 = 1 GiB) */
    uint64_t line_rate;        /* bits/s, 0 = unlimited */
    const char *kernel;        /* guest kernel ELF */
    const char *cmdline;       /* guest program and arguments */
    uint16_t sink_port;        /* 0 = 5001 */
    uint32_t wire_loss_ppm;    /* test option: frames the NIC sends that the wire drops */
    bool no_interrupt_remapping; /* host boots VT-d without interrupt remapping */
    bool allow_unsafe_interrupts; /* assign a device even so (hv/assign.h) */
    hv_console_fn console;     /* NULL = stdout */
    void *console_ctx;
};

struct testbed {
    struct testbed_config cfg;
    struct platform plat;
    struct host_os host;
    struct wire_sink sink;
    struct hv_vm vm;
    bool plat_up, host_up, sink_up, vm_up;
};

const char *testbed__mode_name(enum testbed_mode m);
/* 0 on success; -1 for an unknown name. */
int testbed__mode_parse(const char *s, enum testbed_mode *out);
/* 0, or -errno with a message logged (everything created is released). */
int testbed__create(struct testbed *t, const struct testbed_config *cfg);
/* Run the guest to power-off: 0 (status in t->vm.exit_status) or -errno. */
int testbed__run(struct testbed *t);
void testbed__destroy(struct testbed *t);

#endif
