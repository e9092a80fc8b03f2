#include "testbed/native.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "drivers/e1000/e1000_regs.h"
#include "drivers/platform/platform_map.h"
#include "hw/e1000/e1000.h"
#include "hw/pci/pci_regs.h"
#include "hw/platform.h"
#include "hw/timer/hpet.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"

#define NATIVE_SIGNAL    SIGUSR2
#define NATIVE_ALTSTACK  (64u * 1024)
#define NATIVE_CPU_STACK (8u << 20)
#define HALT_SLICE_NS    20000000ull   /* bounded sleeps in hlt: a stop is seen within this */
#define FIRST_VECTOR     32u

/* The machine whose CPU the signal interrupts (one per process). */
static struct native_machine *volatile native_current;

static void count(uint64_t *c)
{
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* ---- the bus ---------------------------------------------------------------- */

static struct platform *plat(struct native_machine *m)
{
    return m->cfg.host->plat;
}

static bool nic_decodes(struct native_machine *m, int bar, uint64_t a, uint64_t len, uint64_t *off)
{
    const struct pci_dev *d = &plat(m)->nic_pci;
    uint16_t need = bar ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    if (!(pci_dev__command(d) & need))
        return false;
    uint64_t base = pci_dev__bar_addr(d, bar);
    if (!base || a < base || a - base >= len)
        return false;
    *off = a - base;
    return true;
}

static void pio(struct native_machine *m, uint16_t port, unsigned size, bool w, uint32_t *v)
{
    uint64_t off;
    if (port >= PLATFORM_PORT_COM1 && port < PLATFORM_PORT_COM1 + 8) {
        uart__pio(&m->uart, port - PLATFORM_PORT_COM1, size, w, v);
    } else if (port >= PCI_CONFIG_ADDRESS_PORT && port < PCI_CONFIG_ADDRESS_PORT + 8) {
        pci_bus__pio(&plat(m)->pci, port, size, w, v);
    } else if (port == PLATFORM_PORT_EXIT) {
        if (w) {
            m->exit_status = (int)*v;
            m->powered_off = true;
        } else {
            *v = 0;
        }
    } else if (nic_decodes(m, 1, port, E1000_BAR1_IO_SIZE, &off)) {
        struct e1000 *e = e1000_nic__model(plat(m)->nic);
        if (w)
            e1000_io_ops.write(e, off, size, *v);
        else
            *v = (uint32_t)e1000_io_ops.read(e, off, size);
    } else {
        m->stats.unclaimed++;
        if (!w)
            *v = (uint32_t)mmio__all_ones(size);
    }
}

static uint32_t bus_pio_read(void *ctx, uint16_t port, unsigned size)
{
    struct native_machine *m = ctx;
    uint32_t v = 0;
    m->stats.pio_reads++;
    pio(m, port, size, false, &v);
    return v;
}

static void bus_pio_write(void *ctx, uint16_t port, unsigned size, uint32_t val)
{
    struct native_machine *m = ctx;
    m->stats.pio_writes++;
    pio(m, port, size, true, &val);
}

/* The device an MMIO address decodes to, or false (master abort). */
static bool mmio_decode(struct native_machine *m, uint64_t a, struct mmio_window *w, uint64_t *off)
{
    if (a >= PLATFORM_PCI_ECAM_BASE && a - PLATFORM_PCI_ECAM_BASE < PCI_BUS_ECAM_SIZE) {
        *w = (struct mmio_window){&pci_bus_ecam_ops, &plat(m)->pci};
        *off = a - PLATFORM_PCI_ECAM_BASE;
        return true;
    }
    if (a >= PLATFORM_HPET_BASE && a - PLATFORM_HPET_BASE < HPET_MMIO_SIZE) {
        *w = (struct mmio_window){&hpet_mmio_ops, m->hpet};
        *off = a - PLATFORM_HPET_BASE;
        return true;
    }
    if (nic_decodes(m, 0, a, E1000_MMIO_SIZE, off)) {
        *w = e1000_nic__mmio(plat(m)->nic);
        return true;
    }
    return false;
}

static uint64_t bus_mmio_read(void *ctx, uint64_t addr, unsigned size)
{
    struct native_machine *m = ctx;
    struct mmio_window w;
    uint64_t off;
    m->stats.mmio_reads++;
    if (!mmio_decode(m, addr, &w, &off)) {
        m->stats.unclaimed++;
        return mmio__all_ones(size);
    }
    return w.ops->read(w.dev, off, size);
}

static void bus_mmio_write(void *ctx, uint64_t addr, unsigned size, uint64_t val)
{
    struct native_machine *m = ctx;
    struct mmio_window w;
    uint64_t off;
    m->stats.mmio_writes++;
    if (!mmio_decode(m, addr, &w, &off)) {
        m->stats.unclaimed++;
        return;
    }
    w.ops->write(w.dev, off, size, val);
}

static void bus_lidt(void *ctx, uint64_t base, uint32_t limit)
{
    struct native_machine *m = ctx;
    m->cpu.idt_base = base;
    m->cpu.idt_limit = limit;
}

static bool any_pending(const struct native_cpu *c)
{
    /* pending is set by device threads (native__raise): atomic loads */
    for (int w = 0; w < 4; w++)
        if (__atomic_load_n(&c->pending[w], __ATOMIC_ACQUIRE))
            return true;
    return false;
}

static void bus_halt(void *ctx, uint64_t seen)
{
    struct native_machine *m = ctx;
    struct native_cpu *c = &m->cpu;
    m->stats.halts++;
    pthread_mutex_lock(&m->lock);
    m->halted = true;
    while (c->delivered == seen && !any_pending(c) && !c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + HALT_SLICE_NS;
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec = (long)(ns % 1000000000ull);
        pthread_cond_timedwait(&m->wake, &m->lock, &ts);
    }
    m->halted = false;
    pthread_mutex_unlock(&m->lock);
}

static void bus_poweroff(void *ctx, int status)
{
    struct native_machine *m = ctx;
    m->exit_status = status;
    m->powered_off = true;
}

/* ---- interrupts ----------------------------------------------------------------- */

void native__raise(struct native_machine *m, uint8_t vector)
{
    struct native_cpu *c = &m->cpu;
    uint64_t bit = 1ull << (vector & 63);
    count(&m->stats.raised);
    uint64_t old = __atomic_fetch_or(&c->pending[vector >> 6], bit, __ATOMIC_ACQ_REL);
    if (old & bit) {
        count(&m->stats.coalesced); /* still pending: one delivery, as an APIC's IRR */
        return;
    }
    __atomic_store_n(&c->attention, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&m->lock);
    bool halted = m->halted;
    if (halted)
        pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    if (!halted && __atomic_load_n(&m->running, __ATOMIC_ACQUIRE)) {
        count(&m->stats.signals);
        syscall(SYS_tgkill, getpid(), m->tid, NATIVE_SIGNAL);
    }
}

static void native__irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu;
    native__raise(ctx, vector);
}

/* The handler of `vector` from the kernel's IDT, or 0 if the gate is not a
 * present 64-bit interrupt/trap gate inside the limit. */
static uint64_t gate_handler(const struct native_machine *m, unsigned vector)
{
    const struct native_cpu *c = &m->cpu;
    uint64_t off = (uint64_t)vector * 16;
    if (!c->idt_base || off + 15 > c->idt_limit)
        return 0;
    uint64_t a = c->idt_base + off;
    if (a < m->image_start || a + 16 > m->image_end)
        return 0;
    const uint8_t *g = (const uint8_t *)(uintptr_t)a;
    uint8_t type = g[5] & 0x0F;
    if (!(g[5] & 0x80) || (type != 0x0E && type != 0x0F))
        return 0;
    uint64_t h = (uint64_t)g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24 |
                 (uint64_t)g[8] << 32 | (uint64_t)g[9] << 40 | (uint64_t)g[10] << 48 | (uint64_t)g[11] << 56;
    return h >= m->image_start && h < m->image_end ? h : 0;
}

/* The CPU thread was interrupted.  In kernel code, unmasked: enter the gate
 * of the highest pending vector with a 64-bit interrupt frame on the
 * interrupted stack (as vcpu/proc/proc_inject.c does for a guest process).
 * In the machine's own code (a bus call, which may use the red zone):
 * nothing; the port takes the vector when the call returns.  Not
 * instrumented: it writes below the kernel's stack pointer. */
__attribute__((no_sanitize_address)) static void native__on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    struct native_machine *m = native_current;
    if (!m || !__atomic_load_n(&m->running, __ATOMIC_ACQUIRE) || (pid_t)syscall(SYS_gettid) != m->tid)
        return;
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    uint64_t rip = (uint64_t)g[REG_RIP];
    if (rip < m->image_start || rip >= m->image_end)
        return;
    struct native_cpu *c = &m->cpu;
    if (c->stop) {
        if (c->stopped_rip)
            g[REG_RIP] = (greg_t)c->stopped_rip;
        return;
    }
    if (!c->vif || c->irq_masked)
        return;
    c->irq_masked = 1;
    int v = native_cpu__take_pending(c);
    uint64_t handler = v >= 0 ? gate_handler(m, (unsigned)v) : 0;
    if (!handler) {
        if (v >= 0)
            count(&m->stats.bad_gates);
        c->irq_masked = 0;
        return;
    }
    uint16_t cs, ss;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    uint64_t rsp = ((uint64_t)g[REG_RSP] & ~15ull) - 40;
    uint64_t *f = (uint64_t *)(uintptr_t)rsp;
    f[0] = rip;
    f[1] = cs;
    f[2] = (uint64_t)g[REG_EFL];
    f[3] = (uint64_t)g[REG_RSP];
    f[4] = ss;
    g[REG_RSP] = (greg_t)rsp;
    g[REG_RIP] = (greg_t)handler;
    __atomic_add_fetch(&c->delivered, 1, __ATOMIC_RELAXED);
    count(&m->stats.delivered_async);
}

static int native__install_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = native__on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(NATIVE_SIGNAL, &sa, NULL) ? -errno : 0;
}

static void hpet_msi(void *ctx, uint16_t sid, uint64_t addr, uint32_t data)
{
    struct native_machine *m = ctx;
    intc__msi(plat(m)->intc, sid, addr, data);
}

static void console_line(void *ctx, const char *line, size_t len)
{
    struct native_machine *m = ctx;
    if (m->cfg.console) {
        m->cfg.console(m->cfg.console_ctx, line, len);
        return;
    }
    printf("%s\n", line);
    fflush(stdout);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static int native__map_ram(struct native_machine *m)
{
    const struct physmem *pm = &plat(m)->pm;
    for (uint64_t i = 0; i < m->mem.nr_extents; i++) {
        uint64_t gpa = m->mem.base + i * GUEST_MEM_EXTENT;
        void *want = (void *)(uintptr_t)gpa;
        void *p = mmap(want, GUEST_MEM_EXTENT, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_SHARED | MAP_FIXED_NOREPLACE, pm->fd, (off_t)m->mem.hpa[i]);
        if (p == MAP_FAILED || p != want) {
            int e = p == MAP_FAILED ? errno : EEXIST;
            if (p != MAP_FAILED)
                munmap(p, GUEST_MEM_EXTENT);
            log__err("native", "mapping RAM at %#llx in this process: %s (is another native machine running?)",
                     (unsigned long long)gpa, strerror(e));
            return -e;
        }
        m->ram_mapped += GUEST_MEM_EXTENT;
    }
    return 0;
}

static int native__attach_nic(struct native_machine *m)
{
    struct host_os *h = m->cfg.host;
    struct platform *p = h->plat;
    host_os__nic_down(h);
    int r = host_vtd__attach_passthrough(h->iommu, PLATFORM_NIC_SID);
    if (r) {
        log__err("native", "pass-through context entry for the NIC: %s", strerror(-r));
        return r;
    }
    m->nic_attached = true;
    for (unsigned v = FIRST_VECTOR; v < INTC_NR_VECTORS; v++)
        if ((r = intc__register(p->intc, HOST_OS_CPU, (uint8_t)v, native__irq, m))) {
            for (unsigned u = FIRST_VECTOR; u < v; u++)
                intc__unregister(p->intc, HOST_OS_CPU, (uint8_t)u);
            log__err("native", "interrupt vector %u: %s", v, strerror(-r));
            return r;
        }
    m->irqs_registered = true;
    /* Firmware places the BARs where the kernel will find them. */
    pci_dev__set_bar_addr(&p->nic_pci, 0, PLATFORM_PCI_MMIO_BASE);
    pci_dev__set_bar_addr(&p->nic_pci, 1, PLATFORM_PCI_PIO_BASE);
    return 0;
}

int native__create(struct native_machine *m, const struct native_config *cfg)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (!cfg->host || !cfg->kernel_path) {
        log__err("native", "native mode needs the machine's host OS and a kernel");
        return -EINVAL;
    }
    if (cfg->mem_bytes == 0 || cfg->mem_bytes % GUEST_MEM_EXTENT ||
        cfg->mem_bytes > PLATFORM_PCI_MMIO_BASE - PLATFORM_RAM_BASE) {
        log__err("native", "memory must be a multiple of 2 MiB below the PCI window");
        return -EINVAL;
    }
    if (native_current) {
        log__err("native", "one native machine per process");
        return -EBUSY;
    }
    int r = guest_mem__create_identity(&m->mem, &plat(m)->pm, PLATFORM_RAM_BASE, cfg->mem_bytes);
    if (r)
        return r;
    native_current = m;
    if ((r = native__map_ram(m)))
        goto fail;
    vcpu_memmap__init(&m->map, &plat(m)->pm);
    m->map_up = true;
    for (uint64_t i = 0; i < m->mem.nr_extents; i++)
        if ((r = vcpu_memmap__add_ram(&m->map, m->mem.base + i * GUEST_MEM_EXTENT, m->mem.hpa[i],
                                      GUEST_MEM_EXTENT)))
            goto fail;
    char err[256] = "";
    struct guest_load_info info;
    r = guest_load__file(&m->map, cfg->kernel_path, cfg->cmdline ? cfg->cmdline : "", cfg->tsc_hz, &info, err,
                         sizeof err);
    if (r) {
        log__err("native", "cannot load kernel '%s': %s", cfg->kernel_path, err[0] ? err : strerror(-r));
        goto fail;
    }
    m->entry = info.entry;
    m->image_start = PLATFORM_RAM_BASE;
    m->image_end = info.cpu_page_gpa; /* the image, page-rounded */
    m->cmdline = strdup(cfg->cmdline ? cfg->cmdline : "");
    if (!m->cmdline) {
        r = -ENOMEM;
        goto fail;
    }
    m->bus = (struct native_bus){
        .ctx = m, .pio_read = bus_pio_read, .pio_write = bus_pio_write, .mmio_read = bus_mmio_read,
        .mmio_write = bus_mmio_write, .lidt = bus_lidt, .halt = bus_halt, .poweroff = bus_poweroff,
    };
    m->bi = (struct native_bootinfo){
        .magic = NATIVE_BOOTINFO_MAGIC, .bus = &m->bus, .cpu = &m->cpu, .ram_base = info.ram_base,
        .ram_size = info.ram_size, .free_gpa = info.free_gpa, .tsc_hz = cfg->tsc_hz, .cmdline = m->cmdline,
    };
    uart__init(&m->uart, console_line, m);
    m->hpet_sink = (struct irq_sink){.msi = hpet_msi, .ctx = m};
    struct hpet_config hc = {.irq = &m->hpet_sink, .requester_id = PCI_BDF(0, 0x1F, 0),
                             .legacy_vector_base = 0x20, .own_thread = true};
    m->hpet = hpet__create(&hc);
    if (!m->hpet) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = native__attach_nic(m)) || (r = native__install_signal()))
        goto fail;
    return 0;
fail:
    native__destroy(m);
    return r < 0 ? r : -EINVAL;
}

typedef int (*native_entry_fn)(const struct native_bootinfo *bi);

static void *native__cpu_thread(void *arg)
{
    struct native_machine *m = arg;
    stack_t ss = {.ss_sp = malloc(NATIVE_ALTSTACK), .ss_size = NATIVE_ALTSTACK};
    stack_t old;
    if (!ss.ss_sp || sigaltstack(&ss, &old)) {
        free(ss.ss_sp);
        m->exit_status = NATIVE_STATUS_STOPPED;
        return NULL;
    }
    m->tid = (pid_t)syscall(SYS_gettid);
    native_entry_fn entry = (native_entry_fn)(uintptr_t)m->entry;
    __atomic_store_n(&m->running, 1, __ATOMIC_RELEASE);
    int status = m->cpu.stop ? NATIVE_STATUS_STOPPED : entry(&m->bi);
    __atomic_store_n(&m->running, 0, __ATOMIC_RELEASE);
    struct timespec ts;
    if (!clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        m->cpu_ns_at_end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (status == NATIVE_STATUS_STOPPED && !m->powered_off)
        m->exit_status = status;
    sigaltstack(&old, NULL);
    free(ss.ss_sp);
    return NULL;
}

int native__run(struct native_machine *m)
{
    if (m->thread_started)
        return -EBUSY;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, NATIVE_CPU_STACK);
    int r = pthread_create(&m->thread, &a, native__cpu_thread, m);
    pthread_attr_destroy(&a);
    if (r) {
        log__err("native", "CPU thread: %s", strerror(r));
        return -r;
    }
    m->thread_started = true;
    pthread_join(m->thread, NULL);
    m->stats.delivered = m->cpu.delivered;
    if (m->powered_off)
        return 0;
    if (m->cpu.stop)
        return -EINTR;
    log__err("native", "the kernel left without powering off (status %d)", m->exit_status);
    return -EFAULT;
}

void native__stop(struct native_machine *m)
{
    m->cpu.stop = 1;
    __atomic_store_n(&m->cpu.attention, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&m->running, __ATOMIC_ACQUIRE))
        syscall(SYS_tgkill, getpid(), m->tid, NATIVE_SIGNAL);
    /* A halted CPU sees the stop within HALT_SLICE_NS (no lock here: this
     * may run in a signal handler). */
}

/* Teardown: interrupt sources first (the timer thread joined, the vectors
 * unregistered and drained), the NIC quiet and reset, then RAM. */
void native__destroy(struct native_machine *m)
{
    if (m->hpet) {
        hpet__destroy(m->hpet);
        m->hpet = NULL;
    }
    struct platform *p = m->cfg.host ? m->cfg.host->plat : NULL;
    if (m->irqs_registered)
        for (unsigned v = FIRST_VECTOR; v < INTC_NR_VECTORS; v++)
            intc__unregister(p->intc, HOST_OS_CPU, (uint8_t)v);
    m->irqs_registered = false;
    if (m->nic_attached) {
        pci_bus__cfg_write(&p->pci, 0, PLATFORM_NIC_SLOT, 0, p->nic_pci.msi_cap + PCI_MSI_FLAGS, 2, 0);
        pci_bus__cfg_write(&p->pci, 0, PLATFORM_NIC_SLOT, 0, PCI_COMMAND, 2, 0);
        e1000_nic__reset(p->nic); /* function-level: decode is already off */
        host_vtd__detach(m->cfg.host->iommu, PLATFORM_NIC_SID);
        m->nic_attached = false;
    }
    uart__flush(&m->uart);
    if (m->map_up)
        vcpu_memmap__destroy(&m->map);
    if (m->ram_mapped)
        munmap((void *)(uintptr_t)PLATFORM_RAM_BASE, m->ram_mapped);
    if (m->mem.nr_extents)
        guest_mem__destroy(&m->mem);
    free(m->cmdline);
    if (native_current == m)
        native_current = NULL;
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    int status = m->exit_status;
    bool off = m->powered_off;
    struct native_stats st = m->stats;
    memset(m, 0, sizeof(*m));
    m->exit_status = status;
    m->powered_off = off;
    m->stats = st;
}

int64_t native__cpu_time_ns(struct native_machine *m)
{
    if (!m->thread_started)
        return 0;
    if (!__atomic_load_n(&m->running, __ATOMIC_ACQUIRE))
        return (int64_t)m->cpu_ns_at_end;
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(m->thread, &cid) || clock_gettime(cid, &ts))
        return -1;
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void native__get_stats(struct native_machine *m, struct native_stats *out)
{
    *out = m->stats;
    out->delivered = m->thread_started ? m->cpu.delivered : m->stats.delivered;
}

void native__print_stats(struct native_machine *m, FILE *out)
{
    struct native_stats s;
    native__get_stats(m, &s);
    fprintf(out,
            "native: exits: 0 (no hypervisor)\n"
            "native: bus accesses: pio %llu/%llu mmio %llu/%llu (reads/writes), unclaimed %llu\n"
            "native: interrupts: raised %llu coalesced %llu delivered %llu (by signal %llu), signals %llu, "
            "halts %llu\n",
            (unsigned long long)s.pio_reads, (unsigned long long)s.pio_writes, (unsigned long long)s.mmio_reads,
            (unsigned long long)s.mmio_writes, (unsigned long long)s.unclaimed, (unsigned long long)s.raised,
            (unsigned long long)s.coalesced, (unsigned long long)s.delivered,
            (unsigned long long)s.delivered_async, (unsigned long long)s.signals, (unsigned long long)s.halts);
}
