#include "hv/vm.h"

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hv/assign.h"
#include "hv/mptable.h"
#include "hv/virtio/virtio_net.h"
#include "drivers/e1000/e1000_regs.h"
#include "hv/vm_window.h"
#include "hw/i8042_regs.h"
#include "hw/timer/hpet.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/guest_load_linux.h"

#define HOST_BRIDGE_SLOT 0

/* The machine's I/O APIC inputs (VCPU_CAP_IOAPIC). */
static int vm__irq_line_cb(void *ctx, unsigned line, int level)
{
    struct hv_vm *vm = ctx;
    return vm__irq_line(&vm->vm, line, level);
}

void hv_vm__inject(void *opaque, uint8_t vector)
{
    struct hv_vm *vm = opaque;
    if (vcpu__inject_irq(&vm->vcpu, vector) != 0)
        return; /* coalesced with a pending one (or refused): nothing new to wake for */
    uint64_t one = 1;
    if (write(vm->halt_fd, &one, sizeof one) < 0) {
        /* counter saturated: the halted loop is already due to wake */
    }
}

/* ---- fixed devices ---------------------------------------------------- */

static void vm__console_line(void *ctx, const char *line, size_t len)
{
    struct hv_vm *vm = ctx;
    if (vm->cfg.console) {
        vm->cfg.console(vm->cfg.console_ctx, line, len);
        return;
    }
    printf("%s\n", line);
    fflush(stdout); /* the console interleaves with the tool's own lines */
}

static uint64_t uart_read(void *dev, uint64_t off, unsigned size)
{
    uint32_t v = 0;
    uart__pio(dev, (unsigned)off, size, false, &v);
    return v;
}

static void uart_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    uint32_t v = (uint32_t)val;
    uart__pio(dev, (unsigned)off, size, true, &v);
}

static const struct mmio_ops uart_ops = {.read = uart_read, .write = uart_write};

/* The UART's interrupt output is wired to ISA IRQ 4 (vCPU thread only). */
static void uart_irq(void *ctx, int level)
{
    struct hv_vm *vm = ctx;
    vm_irq__set_level(&vm->irq, PLATFORM_IRQ_COM1, level);
}

static uint64_t rtc_read(void *dev, uint64_t off, unsigned size)
{
    uint32_t v = 0;
    mc146818__pio(dev, (unsigned)off, size, false, &v);
    return v;
}

static void rtc_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    uint32_t v = (uint32_t)val;
    mc146818__pio(dev, (unsigned)off, size, true, &v);
}

static const struct mmio_ops rtc_ops = {.read = rtc_read, .write = rtc_write};

/* i8042 and port 0x92: the PC's reset lines end the VM as a guest reset. */
static uint64_t i8042_data_read(void *dev, uint64_t off, unsigned size)
{
    (void)off;
    uint32_t v = 0;
    i8042__pio(dev, I8042_DATA_OFF, size, false, &v);
    return v;
}

static void i8042_data_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)off;
    uint32_t v = (uint32_t)val;
    i8042__pio(dev, I8042_DATA_OFF, size, true, &v);
}

static uint64_t i8042_cmd_read(void *dev, uint64_t off, unsigned size)
{
    (void)off;
    uint32_t v = 0;
    i8042__pio(dev, I8042_CMD_OFF, size, false, &v);
    return v;
}

static void i8042_cmd_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)off;
    uint32_t v = (uint32_t)val;
    i8042__pio(dev, I8042_CMD_OFF, size, true, &v);
}

static uint64_t sysctl_read(void *dev, uint64_t off, unsigned size)
{
    (void)off;
    uint32_t v = 0;
    i8042__sysctl_pio(dev, size, false, &v);
    return v;
}

static void sysctl_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)off;
    uint32_t v = (uint32_t)val;
    i8042__sysctl_pio(dev, size, true, &v);
}

static const struct mmio_ops i8042_data_ops = {.read = i8042_data_read, .write = i8042_data_write};
static const struct mmio_ops i8042_cmd_ops = {.read = i8042_cmd_read, .write = i8042_cmd_write};
static const struct mmio_ops sysctl_ops = {.read = sysctl_read, .write = sysctl_write};

static void i8042_reset(void *ctx, const char *how)
{
    struct hv_vm *vm = ctx;
    if (!vm->reset_by)
        vm->reset_by = how;
}

static void i8042_irq(void *ctx, int level)
{
    struct hv_vm *vm = ctx;
    vm_irq__set_level(&vm->irq, PLATFORM_IRQ_I8042_KBD, level);
}

static uint64_t pci_read(void *dev, uint64_t off, unsigned size)
{
    uint32_t v = 0;
    pci_bus__pio(dev, (uint16_t)(PCI_CONFIG_ADDRESS_PORT + off), size, false, &v);
    return v;
}

static void pci_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    uint32_t v = (uint32_t)val;
    pci_bus__pio(dev, (uint16_t)(PCI_CONFIG_ADDRESS_PORT + off), size, true, &v);
}

static const struct mmio_ops pci_ops = {.read = pci_read, .write = pci_write};

static uint64_t exit_read(void *dev, uint64_t off, unsigned size)
{
    (void)dev, (void)off, (void)size;
    return 0;
}

static void exit_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    (void)off, (void)size;
    struct hv_vm *vm = dev;
    vm->exit_status = (int)(uint32_t)val;
    vm->powered_off = true;
}

static const struct mmio_ops exit_ops = {.read = exit_read, .write = exit_write};

static void hpet_msi(void *ctx, uint16_t sid, uint64_t addr, uint32_t data)
{
    (void)sid;
    struct hv_vm *vm = ctx;
    vm_irq__msi(&vm->irq, addr, data);
}

/* ---- the NIC ------------------------------------------------------------ */

static void nic_cfg_written(struct pci_dev *d, unsigned off, unsigned size, uint32_t old, uint32_t val)
{
    (void)old, (void)val;
    struct hv_vm *vm = d->opaque;
    if (vm->e1000)
        e1000_emul__cfg_written(vm->e1000, off, size);
    else if (vm->virtio)
        virtio_net__cfg_written(vm->virtio, off, size);
    if (off < PCI_COMMAND || (off >= PCI_COMMAND + 2 && off < PCI_BASE_ADDRESS_0) ||
        off >= PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS)
        return;
    for (int b = 0; b < 2; b++)
        if (vm->nic_bar[b])
            hv_window__sync_bar(vm->nic_bar[b], d, b);
}

static void bridge_deliver(void *ctx, const uint8_t *frame, size_t len)
{
    struct hv_vm *vm = ctx;
    if (vm->e1000)
        e1000_emul__rx(vm->e1000, frame, len);
    else if (vm->virtio)
        virtio_net__rx_frame(vm->virtio, frame, len);
}

static void nic_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct hv_vm *vm = ctx;
    bridge__from_vm(vm->cfg.bridge, &vm->port, frame, len);
}

static int nic_tx_gso(void *ctx, const uint8_t *frame, size_t len, const struct vnet_tx_plan *plan)
{
    struct hv_vm *vm = ctx;
    struct bridge_gso g = {.l3_off = plan->l3_off, .l4_off = plan->l4_off, .hdr_len = plan->hdr_len,
                           .mss = plan->mss};
    return bridge__from_vm_gso(vm->cfg.bridge, &vm->port, frame, len, &g);
}

/* The emulated e1000's TSO bursts, whole, to the uplink's TSO as virtio's
 * (-EOPNOTSUPP when the frame cannot go whole, e.g. to another VM: the
 * model then segments it). */
static int nic_e1000_tx_gso(void *ctx, const uint8_t *frame, size_t len, const struct e1000_emul_gso *eg)
{
    struct hv_vm *vm = ctx;
    struct bridge_gso g = {.l3_off = eg->l3_off, .l4_off = eg->l4_off, .hdr_len = eg->hdr_len,
                           .mss = eg->mss};
    return bridge__from_vm_gso(vm->cfg.bridge, &vm->port, frame, len, &g);
}

static void virtio_msi(void *ctx, uint16_t sid, uint64_t addr, uint32_t data)
{
    (void)sid;
    struct hv_vm *vm = ctx;
    vm_irq__msi(&vm->irq, addr, data);
}

/* Held while ISR has bits, dropped by the driver's ISR read (virtio 1.1
 * 4.1.4.5); virtio-net calls this under its lock. */
static void virtio_intx(void *ctx, int level)
{
    struct hv_vm *vm = ctx;
    vm_irq__set_level(&vm->irq, HV_NIC_INTX_LINE, level);
}

static int vm__add_nic(struct hv_vm *vm)
{
    const struct mmio_ops *bar_ops[2] = {NULL, NULL};
    void *dev = NULL;
    switch (vm->cfg.nic) {
    case HV_NIC_NONE:
        return 0;
    case HV_NIC_EMULATED: {
        struct e1000_emul_config ec = {.tx_gso = nic_e1000_tx_gso};
        vm->e1000 = calloc(1, sizeof(*vm->e1000));
        if (!vm->e1000 || e1000_emul__init(vm->e1000, &vm->mem, &vm->irq, vm->cfg.mac, nic_tx, vm, &ec))
            return -ENOMEM;
        vm->nic_pci = &vm->e1000->pci;
        vm->e1000->intx_line = HV_NIC_INTX_LINE;
        bar_ops[0] = &e1000_emul_bar0_ops;
        bar_ops[1] = &e1000_emul_bar1_ops;
        dev = vm->e1000;
        break;
    }
    case HV_NIC_VIRTIO: {
        struct virtio_net_params p = {
            .gm = &vm->mem, .requester_id = PCI_BDF(0, HV_NIC_SLOT, 0),
            .irq = {.msi = virtio_msi, .intx = virtio_intx, .ctx = vm},
            .tx = nic_tx, .tx_gso = nic_tx_gso, .tx_ctx = vm, .features_off = vm->cfg.virtio_features_off,
        };
        memcpy(p.mac, vm->cfg.mac, 6);
        vm->virtio = virtio_net__create(&p);
        if (!vm->virtio)
            return -ENOMEM;
        vm->nic_pci = virtio_net__pci(vm->virtio);
        bar_ops[0] = &virtio_net_bar_ops;
        dev = vm->virtio;
        break;
    }
    case HV_NIC_ASSIGNED: {
        const char *arg;
        if (!vm->cfg.host && assign__source(vm->cfg.assign_source, &arg) == &assign_model_ops) {
            log__err("hv", "%s: an assigned NIC needs the machine's host OS", vm->cfg.name);
            return -EINVAL;
        }
        vm->assign = calloc(1, sizeof(*vm->assign));
        if (!vm->assign)
            return -ENOMEM;
        int r = assign__attach(vm->assign, vm->cfg.host, vm);
        if (r) {
            free(vm->assign);
            vm->assign = NULL;
            return r;
        }
        return pci_bus__attach(&vm->pci, HV_NIC_SLOT, &vm->assign->vcfg);
    }
    }
    if (!vm->cfg.bridge) {
        log__err("hv", "%s: an emulated or virtio NIC needs the host bridge", vm->cfg.name);
        return -EINVAL;
    }
    /* Firmware: place the BARs; the guest enables decode itself. */
    struct pci_dev *d = vm->nic_pci;
    d->opaque = vm;
    d->on_write = nic_cfg_written;
    d->cfg[PCI_INTERRUPT_LINE] = HV_NIC_INTX_LINE;
    for (int b = 0; b < 2; b++) {
        if (!bar_ops[b] || !d->bars[b].size)
            continue;
        pci_dev__set_bar_addr(d, b, d->bars[b].io ? PLATFORM_PCI_PIO_BASE : PLATFORM_PCI_MMIO_BASE);
        vm->nic_bar[b] = hv_window__add(vm, d->bars[b].io ? VCPU_TRAP_PIO : VCPU_TRAP_MMIO, 0,
                                        d->bars[b].size, bar_ops[b], dev, b ? "nic-bar1" : "nic-bar0");
        if (!vm->nic_bar[b])
            return -ENOSPC;
    }
    int r = pci_bus__attach(&vm->pci, HV_NIC_SLOT, d);
    if (r)
        return r;
    memcpy(vm->port.mac, vm->cfg.mac, 6);
    vm->port.deliver = bridge_deliver;
    vm->port.ctx = vm;
    r = bridge__attach(vm->cfg.bridge, &vm->port);
    if (r) {
        log__err("hv", "%s: MAC already on the bridge", vm->cfg.name);
        return r;
    }
    vm->port_attached = true;
    if (vm->virtio)
        return virtio_net__start(vm->virtio);
    return 0;
}

/* ---- firmware tables ------------------------------------------------------ */

/* The MP table (hv/mptable.h) with every PCI function's pin on the input
 * its Interrupt Line names (what firmware wrote there).  Written only for a
 * guest with RAM below 1 MiB (a Linux boot); for one whose RAM starts at
 * 1 MiB there is no BIOS area, and nothing to do. */
static int vm__write_mptable(struct hv_vm *vm)
{
    struct mptable_pci_irq irqs[PCI_BUS_SLOTS];
    unsigned n = 0;
    for (unsigned s = 0; s < PCI_BUS_SLOTS; s++) {
        const struct pci_dev *d = vm->pci.slot[s];
        if (d && d->cfg[PCI_INTERRUPT_PIN])
            irqs[n++] = (struct mptable_pci_irq){.dev = (uint8_t)s, .pin = d->cfg[PCI_INTERRUPT_PIN],
                                                 .line = d->cfg[PCI_INTERRUPT_LINE]};
    }
    uint32_t at;
    int r = mptable__write(&vm->map, irqs, n, &at);
    if (r == -ENOENT)
        return 0;
    if (r)
        log__err("hv", "%s: MP table: %s", vm->cfg.name, strerror(-r));
    else
        log__debug("hv", "%s: MP table at %#x", vm->cfg.name, at);
    return r;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int vm__add_fixed_devices(struct hv_vm *vm)
{
    uart__init(&vm->uart, vm__console_line, vm);
    uart__set_irq(&vm->uart, uart_irq, vm);
    mc146818__init(&vm->rtc, NULL, NULL);
    i8042__init(&vm->i8042, i8042_reset, i8042_irq, vm);
    pci_bus__init(&vm->pci);
    pci_dev__init(&vm->host_bridge, 0x8086, 0x1237, 0x060000, 0x02);
    pci_bus__attach(&vm->pci, HOST_BRIDGE_SLOT, &vm->host_bridge);

    vm->hpet_sink = (struct irq_sink){.msi = hpet_msi, .ctx = vm};
    struct hpet_config hc = {.irq = &vm->hpet_sink, .requester_id = PCI_BDF(0, 0x1F, 0),
                             .legacy_vector_base = 0x20, .own_thread = true};
    vm->hpet = hpet__create(&hc);
    if (!vm->hpet)
        return -ENOMEM;
    if (!hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_COM1, 8, &uart_ops, &vm->uart, "uart") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_RTC_INDEX, 2, &rtc_ops, &vm->rtc, "rtc") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_I8042_DATA, 1, &i8042_data_ops, &vm->i8042, "i8042-data") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_I8042_CMD, 1, &i8042_cmd_ops, &vm->i8042, "i8042-cmd") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_SYSCTL_A, 1, &sysctl_ops, &vm->i8042, "port92") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PCI_CONFIG_ADDRESS_PORT, 8, &pci_ops,
                        &vm->pci, "pci-cfg") ||
        !hv_window__add(vm, VCPU_TRAP_MMIO, PLATFORM_PCI_ECAM_BASE, PCI_BUS_ECAM_SIZE, &pci_bus_ecam_ops,
                        &vm->pci, "pci-ecam") ||
        !hv_window__add(vm, VCPU_TRAP_PIO, PLATFORM_PORT_EXIT, 4, &exit_ops, vm, "power-off") ||
        !hv_window__add(vm, VCPU_TRAP_MMIO, PLATFORM_HPET_BASE, HPET_MMIO_SIZE, &hpet_mmio_ops, vm->hpet, "hpet"))
        return -ENOSPC;
    return 0;
}

/* Guest RAM below PLATFORM_RAM_BASE, for a Linux kernel: its own memory
 * region (a KVM slot of its own), never adjacent to RAM in host memory. */
static int vm__add_low_mem(struct hv_vm *vm)
{
    int r = physmem__alloc_scattered(vm->cfg.pm, GUEST_MEM_EXTENT, GUEST_MEM_EXTENT, &vm->low_hpa);
    if (r) {
        log__err("hv", "%s: no host memory for RAM below 1 MiB", vm->cfg.name);
        return r;
    }
    vm->low_mem = true;
    return vcpu_memmap__add_ram(&vm->map, 0, vm->low_hpa, PLATFORM_RAM_BASE);
}

/* Load the kernel the way its image boots; a Linux bzImage gets RAM below
 * 1 MiB first.  0, or -errno with the reason in err. */
static int vm__load_kernel(struct hv_vm *vm, struct guest_load_info *info, char *err, size_t errlen)
{
    const struct hv_vm_config *cfg = &vm->cfg;
    enum vcpu_boot boot = VCPU_BOOT_PROC;
    /* an unreadable file is reported once, by the load below */
    if (guest_load__file_boot(cfg->kernel_path, &boot, err, errlen) || boot != VCPU_BOOT_LINUX) {
        if (cfg->initrd_path) {
            snprintf(err, errlen, "an initrd is only for a Linux bzImage kernel");
            return -EINVAL;
        }
        err[0] = 0;
        return guest_load__file(&vm->map, cfg->kernel_path, cfg->cmdline ? cfg->cmdline : "", cfg->tsc_hz, info,
                                err, errlen);
    }
    /* a backend that cannot enter it is the first thing to say */
    struct guest_load_info want = {.boot = VCPU_BOOT_LINUX};
    int r;
    if (cfg->backend && (r = guest_load__check_backend(&want, cfg->backend, err, errlen)))
        return r;
    if ((r = vm__add_low_mem(vm)))
        return r;
    return guest_load__linux_file(&vm->map, cfg->kernel_path, cfg->initrd_path, cfg->cmdline, info, err, errlen);
}

int hv_vm__create(struct hv_vm *vm, const struct hv_vm_config *cfg)
{
    memset(vm, 0, sizeof(*vm));
    vm->cfg = *cfg;
    vm->halt_fd = -1;
    if (!vm->cfg.name)
        vm->cfg.name = "vm";
    if (cfg->mem_bytes == 0 || cfg->mem_bytes % GUEST_MEM_EXTENT || cfg->mem_bytes > HV_MAX_RAM) {
        log__err("hv", "%s: memory must be a multiple of 2 MiB between 2 MiB and %llu MiB",
                 vm->cfg.name, (unsigned long long)(HV_MAX_RAM >> 20));
        return -EINVAL;
    }
    int r = guest_mem__create(&vm->mem, cfg->pm, PLATFORM_RAM_BASE, cfg->mem_bytes);
    if (r)
        return r;
    vcpu_memmap__init(&vm->map, cfg->pm);
    vcpu_traps__init(&vm->traps);
    vm->irq = (struct vm_irq){.inject = hv_vm__inject, .ctx = vm};
    vm->halt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->halt_fd < 0) {
        r = -errno;
        goto fail;
    }
    for (uint64_t i = 0; i < vm->mem.nr_extents; i++) {
        r = vcpu_memmap__add_ram(&vm->map, vm->mem.base + i * GUEST_MEM_EXTENT, vm->mem.hpa[i],
                                 GUEST_MEM_EXTENT);
        if (r)
            goto fail;
    }
    char err[256] = "";
    struct guest_load_info info;
    r = vm__load_kernel(vm, &info, err, sizeof err);
    if (!r && !vm->cfg.backend) {
        /* the default for this image: a proc-port kernel runs on proc
         * wherever it always did, a PVH one or a bzImage on kvm */
        vm->cfg.backend = vcpu__backend_for_boot(info.boot, err, sizeof err);
        if (!vm->cfg.backend)
            r = -ENOEXEC;
    } else if (!r) {
        r = guest_load__check_backend(&info, vm->cfg.backend, err, sizeof err);
    }
    if (r) {
        log__err("hv", "%s: cannot load guest kernel '%s': %s", vm->cfg.name, cfg->kernel_path,
                 err[0] ? err : strerror(-r));
        goto fail;
    }
    /* The interrupt model is the machine's: lines are I/O APIC inputs
     * where there is one (hv/vm_irq.h). */
    if (vm->cfg.backend->caps & VCPU_CAP_IOAPIC) {
        vm->irq.line = vm__irq_line_cb;
        vm->irq.line_ctx = vm;
    }
    if ((r = vm__add_fixed_devices(vm)) || (r = vm__add_nic(vm)) || (r = vm__write_mptable(vm)))
        goto fail;
    if ((r = vm__init(&vm->vm, vm->cfg.backend, &vm->map)))
        goto fail;
    if ((r = vcpu__create(&vm->vcpu, &vm->vm, 0))) {
        vm__destroy(&vm->vm);
        goto fail;
    }
    vm->vcpu_created = true;
    if ((r = guest_load__setup_vcpu(&vm->vcpu, &info)) || (vm->assign && (r = assign__vm_ready(vm->assign))))
        goto fail;
    return 0;
fail:
    hv_vm__destroy(vm);
    return r < 0 ? r : -EINVAL;
}

/* Teardown rule: every interrupt source (a device thread, a handler the
 * machine's interrupt controller calls, a bridge port that delivers frames
 * into an emulated device) is quiesced before the vCPU it injects into goes:
 * its thread joined, its handler unregistered and drained.  Only then is the
 * vCPU destroyed, and only then the devices' memory freed. */
static void vm__quiesce_irq_sources(struct hv_vm *vm)
{
    if (vm->hpet) {
        hpet__destroy(vm->hpet); /* joins the timer thread */
        vm->hpet = NULL;
    }
    if (vm->virtio)
        virtio_net__stop(vm->virtio); /* joins the device thread */
    if (vm->e1000)
        e1000_emul__stop(vm->e1000); /* joins the model's timer thread */
    if (vm->port_attached) {
        bridge__detach(vm->cfg.bridge, &vm->port); /* no delivery in flight after it */
        vm->port_attached = false;
    }
    if (vm->assign) {
        assign__detach(vm->assign); /* NIC quiet, host vector unregistered and drained */
        free(vm->assign);
        vm->assign = NULL;
    }
}

void hv_vm__destroy(struct hv_vm *vm)
{
    vm__quiesce_irq_sources(vm);
    if (vm->vcpu_created) {
        vcpu__destroy(&vm->vcpu);
        vm__destroy(&vm->vm);
        vm->vcpu_created = false;
    }
    if (vm->virtio)
        virtio_net__destroy(vm->virtio);
    if (vm->e1000) {
        e1000_emul__destroy(vm->e1000);
        free(vm->e1000);
    }
    uart__flush(&vm->uart);
    vcpu_traps__destroy(&vm->traps);
    vcpu_memmap__destroy(&vm->map);
    guest_mem__destroy(&vm->mem);
    if (vm->low_mem)
        physmem__free(vm->cfg.pm, vm->low_hpa, GUEST_MEM_EXTENT);
    if (vm->halt_fd >= 0)
        close(vm->halt_fd);
    memset(vm, 0, sizeof(*vm));
    vm->halt_fd = -1;
}

void hv_vm__stop(struct hv_vm *vm)
{
    vm->stop_requested = true;
    vcpu__kick(&vm->vcpu);
    uint64_t one = 1;
    if (write(vm->halt_fd, &one, sizeof one) < 0) {
        /* already signalled */
    }
}

/* HLT: sleep until an interrupt the guest would take is pending, or we are
 * told to stop.  A pending interrupt the guest has masked does not end the
 * halt (cli; hlt sleeps for good, as on hardware): waking on it would turn
 * the halt into a busy loop of exits. */
static void vm__halt(struct hv_vm *vm)
{
    vm->halts++;
    while (!vcpu__irq_deliverable(&vm->vcpu) && !vm->stop_requested) {
        struct pollfd p = {.fd = vm->halt_fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            uint64_t n;
            if (read(vm->halt_fd, &n, sizeof n) < 0) {
                /* raced with another reader: re-check */
            }
        }
    }
}

int hv_vm__stop_message(const struct vcpu_exit *e, char *buf, size_t size)
{
    if (!size)
        return -1;
    buf[0] = 0;
    switch (e->reason) {
    case VCPU_EXIT_FAULT:
        snprintf(buf, size, "guest fault: vector %u at rip %#llx (address %#llx): %s; VM stopped",
                 e->fault.vector, (unsigned long long)e->fault.rip, (unsigned long long)e->fault.addr,
                 e->fault.why ? e->fault.why : "exception");
        break;
    case VCPU_EXIT_SHUTDOWN:
        if (e->shutdown.cause == VCPU_SHUTDOWN_SIGNALED && e->shutdown.status == SIGSYS) {
            /* The sandbox's seccomp filter killed the stub: the guest
             * executed a system call (syscall, int 0x80, sysenter), in any
             * CPU mode. */
            snprintf(buf, size, "%s", "guest attempted a system call: killed by the seccomp filter (SIGSYS); "
                                      "VM stopped");
            break;
        }
        snprintf(buf, size, "guest stopped unexpectedly (%s %d)",
                 e->shutdown.cause == VCPU_SHUTDOWN_SIGNALED ? "signal" : "status", e->shutdown.status);
        break;
    default:
        return -1;
    }
    /* One line, whatever a backend put in `why`. */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return 0;
}

const char *hv_exit_kind_name(enum hv_exit_kind k)
{
    static const char *const names[HV_EXIT_KINDS] = {"mmio_read", "mmio_write", "pio_in", "pio_out",
                                                     "hlt", "other"};
    return (unsigned)k < HV_EXIT_KINDS ? names[k] : "?";
}

static enum hv_exit_kind exit_kind(const struct vcpu_exit *e)
{
    switch (e->reason) {
    case VCPU_EXIT_MMIO:
        return e->mmio.is_write ? HV_EXIT_MMIO_WRITE : HV_EXIT_MMIO_READ;
    case VCPU_EXIT_PIO:
        return e->pio.is_write ? HV_EXIT_PIO_OUT : HV_EXIT_PIO_IN;
    case VCPU_EXIT_HLT:
        return HV_EXIT_HLT;
    default:
        return HV_EXIT_OTHER;
    }
}

/* One run of the guest and the handling of its exit: 1 to go on, else
 * what hv_vm__run returns. */
static int vm__step(struct hv_vm *vm);

int hv_vm__run(struct hv_vm *vm)
{
    cpu_sample__clock_cost(); /* calibrate before the first timed run */
    for (;;) {
        bool timed = vm->exit_tick++ % CPU_SAMPLE_EVERY == 0;
        uint64_t t0 = timed ? cpu_sample__now() : 0, s0 = vm->vcpu.stats.spin_ns;
        int r = vm__step(vm);
        enum hv_exit_kind k = exit_kind(&vm->vcpu.exit);
        vm->exit_cpu[k].n++;
        if (timed) {
            cpu_sample__add(&vm->exit_cpu[k], t0, cpu_sample__now());
            vm->exit_spin_ns[k] += vm->vcpu.stats.spin_ns - s0;
        }
        if (r != 1)
            return r;
    }
}

static int vm__step(struct hv_vm *vm)
{
    if (vm->stop_requested)
        return -EINTR;
    int r = vcpu__run(&vm->vcpu);
    if (r) {
        log__err("hv", "%s: vCPU failed: %s", vm->cfg.name, strerror(-r));
        return r;
    }
    struct vcpu_exit *e = &vm->vcpu.exit;
    switch (e->reason) {
    case VCPU_EXIT_MMIO:
    case VCPU_EXIT_PIO:
        vcpu_traps__dispatch(&vm->traps, &vm->vcpu);
        if (vm->powered_off)
            return 0;
        if (vm->reset_by) {
            /* A PC resets its CPU here; a VM ends, cleanly: the
             * guest asked to reboot (Linux's reboot=k). */
            vm->exit_status = 0;
            return 0;
        }
        break;
    case VCPU_EXIT_HLT:
        /* A backend that halts inside run (an in-kernel interrupt
         * controller) has nothing for us to wait on. */
        if (!(vm->vm.ops->caps & VCPU_CAP_HALT_IN_RUN))
            vm__halt(vm);
        break;
    case VCPU_EXIT_FAULT:
    case VCPU_EXIT_SHUTDOWN: {
        char msg[HV_VM_STOP_MESSAGE_MAX];
        hv_vm__stop_message(e, msg, sizeof msg);
        log__err("hv", "%s: %s", vm->cfg.name, msg);
        return -EFAULT;
    }
    default:
        break; /* interrupt window, kick: just resume */
    }
    return 1;
}

void hv_vm__print_stats(struct hv_vm *vm, FILE *out)
{
    fprintf(out, "%s: exits by reason:", vm->cfg.name);
    for (int s = 0; s < VCPU_STAT__COUNT; s++)
        if (vm->vcpu.stats.n[s])
            fprintf(out, " %s=%llu", vcpu__stat_name(s), (unsigned long long)vm->vcpu.stats.n[s]);
    fprintf(out, "\n%s: exits by device:", vm->cfg.name);
    for (unsigned i = 0; i < vm->traps.n; i++)
        fprintf(out, " %s=%llu/%llu", vm->traps.t[i].name, (unsigned long long)vm->traps.t[i].reads,
                (unsigned long long)vm->traps.t[i].writes);
    /* Ports and addresses no device claims (read all-ones, writes dropped,
     * as on a PC's bus): a guest probing or hammering them shows here. */
    fprintf(out, " unclaimed=%llu/%llu (reads/writes)\n", (unsigned long long)vm->traps.unclaimed_reads,
            (unsigned long long)vm->traps.unclaimed_writes);
    /* The run loop's thread CPU per exit it served (sampled, 1 in
     * CPU_SAMPLE_EVERY; hv/vm.h): returns x us each = estimated ms. */
    fprintf(out, "%s: run-loop CPU by exit (sampled):", vm->cfg.name);
    for (int k = 0; k < HV_EXIT_KINDS; k++) {
        const struct cpu_sample *c = &vm->exit_cpu[k];
        if (c->n)
            fprintf(out, " %s=%llux%.2fus(spin %.2f)", hv_exit_kind_name(k), (unsigned long long)c->n,
                    c->sampled ? (double)c->ns / (double)c->sampled / 1e3 : 0.0,
                    c->sampled ? (double)vm->exit_spin_ns[k] / (double)c->sampled / 1e3 : 0.0);
    }
    fprintf(out, " spinning=%.1fms\n", (double)vm->vcpu.stats.spin_ns / 1e6);
    if (vm->e1000) {
        struct e1000_emul_stats st;
        e1000_emul__get_stats(vm->e1000, &st);
        fprintf(out, "%s: e1000-emul: tx kicks %llu gso %llu (refused %llu) msi %llu (held %llu) "
                "intx %llu rx_blocked %llu timer wakeups %llu\n",
                vm->cfg.name, (unsigned long long)st.tx_kicks, (unsigned long long)st.tx_gso,
                (unsigned long long)st.tx_gso_refused, (unsigned long long)st.msi_sent,
                (unsigned long long)st.msi_held, (unsigned long long)st.intx_sent,
                (unsigned long long)st.rx_blocked, (unsigned long long)st.timer_wakeups);
        e1000_emul__print_reg_cpu(vm->e1000, vm->cfg.name, out);
    }
    if (vm->virtio) {
        struct virtio_net_stats st;
        virtio_net__get_stats(vm->virtio, &st);
        fprintf(out, "%s: virtio-net features %#llx: tx %llu (gso %llu whole %llu csum %llu hdr_dropped %llu) "
                "rx %llu (dropped %llu merged %llu data_valid %llu) notifies %llu interrupts %llu\n",
                vm->cfg.name, (unsigned long long)virtio_net__negotiated(vm->virtio),
                (unsigned long long)st.tx_frames, (unsigned long long)st.tx_gso,
                (unsigned long long)st.tx_gso_whole,
                (unsigned long long)st.tx_csum, (unsigned long long)st.tx_hdr_dropped,
                (unsigned long long)st.rx_frames, (unsigned long long)st.rx_dropped,
                (unsigned long long)st.rx_merged, (unsigned long long)st.rx_data_valid,
                (unsigned long long)st.notifies, (unsigned long long)st.interrupts);
    }
}
