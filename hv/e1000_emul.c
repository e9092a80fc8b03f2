#include "hv/e1000_emul.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/e1000/e1000_pci.h"
#include "drivers/e1000/e1000_regs.h"
#include "lib/log.h"

static void stat_inc(uint64_t *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static bool bus_master(const struct e1000_emul *d)
{
    return pci_dev__command(&d->pci) & PCI_COMMAND_MASTER;
}

static uint64_t emul__monotonic_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t emul__now(const struct e1000_emul *d)
{
    return d->cfg.clock_ns(d->cfg.clock_ctx);
}

static void emul__send_msi(struct e1000_emul *d)
{
    /* An MSI is a memory write the function masters (PCI 3.0 6.8): not
     * while Bus Master Enable is clear.  Held, sent when it is set again. */
    if (!bus_master(d)) {
        __atomic_store_n(&d->msi_pending, 1, __ATOMIC_RELEASE);
        stat_inc(&d->stats.msi_held);
        return;
    }
    vm_irq__msi(d->irq, pci_dev__msi_address(&d->pci), pci_dev__msi_data(&d->pci));
    stat_inc(&d->stats.msi_sent);
}

/* INTx is asserted while the model's level is high, MSI is off and the
 * command register's Interrupt Disable is clear (PCI 3.0 6.2.2, 6.8.1.3);
 * a sideband signal, not a bus-master cycle: BME does not gate it.  Every
 * change goes to the VM's line (hv/vm_irq.h: a level on the I/O APIC, or
 * the edge-vector convention on an assertion).  intx_lock orders the
 * model's changes against the configuration space's. */
static void emul__update_intx(struct e1000_emul *d)
{
    pthread_mutex_lock(&d->intx_lock);
    bool want = __atomic_load_n(&d->level, __ATOMIC_ACQUIRE) && !pci_dev__msi_enabled(&d->pci) &&
                !(pci_dev__command(&d->pci) & PCI_COMMAND_INTX_DISABLE);
    if (want != d->intx_asserted) {
        d->intx_asserted = want;
        unsigned line = d->intx_line >= 0 ? (unsigned)d->intx_line : d->pci.cfg[PCI_INTERRUPT_LINE];
        vm_irq__set_level(d->irq, line, want);
        if (want)
            stat_inc(&d->stats.intx_sent);
    }
    pthread_mutex_unlock(&d->intx_lock);
}

static void e1000_emul__level(void *ctx, int level)
{
    struct e1000_emul *d = ctx;
    int was = __atomic_exchange_n(&d->level, level, __ATOMIC_ACQ_REL);
    if (!level) {
        __atomic_store_n(&d->msi_pending, 0, __ATOMIC_RELEASE); /* nothing left to signal */
        emul__update_intx(d);
        return;
    }
    if (was)
        return; /* only a rising edge is a new interrupt */
    if (pci_dev__msi_enabled(&d->pci))
        emul__send_msi(d);
    else
        emul__update_intx(d);
}

/* ---- the timer ------------------------------------------------------------ */

/* After anything that may arm an earlier deadline (an access, a frame):
 * wake the thread if it sleeps past the model's new deadline, or may be
 * about to (wait_until 0: awake).  The thread reads the deadline and starts
 * waiting under tlock, and the signal is sent under tlock, so no arm is
 * missed: either the thread's read sees it or the signal reaches its wait. */
static void emul__timer_poke(struct e1000_emul *d)
{
    if (!d->thread_running)
        return;
    uint64_t next = e1000__next_deadline(d->nic);
    if (next == UINT64_MAX)
        return;
    uint64_t until = __atomic_load_n(&d->wait_until, __ATOMIC_ACQUIRE);
    if (until && next >= until)
        return;
    pthread_mutex_lock(&d->tlock);
    pthread_cond_signal(&d->tcond);
    pthread_mutex_unlock(&d->tlock);
}

uint64_t e1000_emul__tick(struct e1000_emul *d)
{
    e1000__tick(d->nic, emul__now(d));
    return e1000__next_deadline(d->nic);
}

static void *emul__timer_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "e1000-emul");
    struct e1000_emul *d = arg;
    pthread_mutex_lock(&d->tlock);
    while (!d->stopping) {
        pthread_mutex_unlock(&d->tlock);
        stat_inc(&d->stats.timer_wakeups);
        e1000__tick(d->nic, emul__now(d)); /* may raise the line: not under tlock */
        pthread_mutex_lock(&d->tlock);
        if (d->stopping)
            break;
        uint64_t now = emul__now(d), next = e1000__next_deadline(d->nic);
        /* Bounded below whatever the model says (a past deadline, a clock
         * step): the thread wakes at most once per timer_min_ns unless an
         * access or a frame arms an earlier deadline. */
        if (next != UINT64_MAX && next < now + d->cfg.timer_min_ns)
            next = now + d->cfg.timer_min_ns;
        __atomic_store_n(&d->wait_until, next, __ATOMIC_RELEASE);
        if (next == UINT64_MAX) {
            pthread_cond_wait(&d->tcond, &d->tlock);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
                                  .tv_nsec = (long)(next % 1000000000ull)};
            pthread_cond_timedwait(&d->tcond, &d->tlock, &ts);
        }
        __atomic_store_n(&d->wait_until, 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&d->tlock);
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------------- */

static void emul__queue_tx(void *ctx, const uint8_t *frame, size_t len);
static int emul__tx_gso(void *ctx, const struct e1000_gso *g);

static void emul__free_bufs(struct e1000_emul *d)
{
    free(d->regs);
    free(d->txq_buf);
    free(d->gso_buf);
    d->regs = NULL;
    d->txq_buf = NULL;
    d->gso_buf = NULL;
}

int e1000_emul__init(struct e1000_emul *d, struct guest_mem *gm, struct vm_irq *irq,
                     const uint8_t mac[6], e1000_tx_fn tx, void *tx_ctx,
                     const struct e1000_emul_config *cfg)
{
    memset(d, 0, sizeof(*d));
    if (cfg)
        d->cfg = *cfg;
    bool own_thread = !d->cfg.clock_ns;
    if (!d->cfg.clock_ns)
        d->cfg.clock_ns = emul__monotonic_ns;
    if (!d->cfg.timer_min_ns)
        d->cfg.timer_min_ns = E1000_EMUL_TIMER_MIN_NS;
    d->regs = aligned_alloc(4096, E1000_MMIO_SIZE);
    d->txq_buf = malloc((size_t)E1000_EMUL_TXQ * E1000_EMUL_TXQ_SLOT);
    if (d->cfg.tx_gso)
        d->gso_buf = malloc(E1000_EMUL_GSO_MAX);
    if (!d->regs || !d->txq_buf || (d->cfg.tx_gso && !d->gso_buf)) {
        emul__free_bufs(d);
        return -ENOMEM;
    }
    memset(d->regs, 0, E1000_MMIO_SIZE);
    e1000__pci_init(&d->pci);
    guest_mem__dma_port(gm, &d->dma);
    d->irq = irq;
    d->tx = tx;
    d->tx_ctx = tx_ctx;
    /* The model reports its interrupt level only; MSI/INTx is our choice. */
    d->sink = (struct irq_sink){.msi = NULL, .intx = e1000_emul__level, .ctx = d};
    d->nic = e1000__create(d->regs, &d->dma, &d->sink, mac, emul__queue_tx, d);
    if (!d->nic) {
        emul__free_bufs(d);
        return -ENOMEM;
    }
    if (d->cfg.tx_gso)
        e1000__set_tx_gso(d->nic, emul__tx_gso);
    pthread_mutex_init(&d->txq_lock, NULL);
    pthread_mutex_init(&d->intx_lock, NULL);
    d->intx_line = -1;
    e1000__set_clock(d->nic, d->cfg.clock_ns, d->cfg.clock_ctx);
    pthread_mutex_init(&d->tlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->tcond, &ca);
    pthread_condattr_destroy(&ca);
    if (own_thread) {
        int r = pthread_create(&d->thread, NULL, emul__timer_thread, d);
        if (r) {
            log__err("e1000-emul", "timer thread: %s", strerror(r));
            e1000_emul__destroy(d);
            return -r;
        }
        d->thread_running = true;
    }
    return 0;
}

void e1000_emul__stop(struct e1000_emul *d)
{
    if (!d->thread_running)
        return;
    pthread_mutex_lock(&d->tlock);
    d->stopping = true;
    pthread_cond_signal(&d->tcond);
    pthread_mutex_unlock(&d->tlock);
    pthread_join(d->thread, NULL);
    d->thread_running = false;
}

void e1000_emul__destroy(struct e1000_emul *d)
{
    if (d->nic) {
        e1000_emul__stop(d);
        e1000__destroy(d->nic);
        pthread_cond_destroy(&d->tcond);
        pthread_mutex_destroy(&d->tlock);
        pthread_mutex_destroy(&d->txq_lock);
        pthread_mutex_destroy(&d->intx_lock);
    }
    emul__free_bufs(d);
    memset(d, 0, sizeof(*d));
}

void e1000_emul__get_stats(struct e1000_emul *d, struct e1000_emul_stats *out)
{
    uint64_t *dst = (uint64_t *)out;
    const uint64_t *src = (const uint64_t *)&d->stats;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- registers -------------------------------------------------------------- */

/* Hand the queued frames to the bridge, in order. */
static void emul__flush(struct e1000_emul *d)
{
    for (unsigned i = 0; i < d->txq_n; i++)
        d->tx(d->tx_ctx, d->txq_buf + (size_t)i * E1000_EMUL_TXQ_SLOT, d->txq_len[i]);
    d->txq_n = 0;
}

/* The model's transmit callback (its state lock is not held then, only its
 * tx_lock; docs/e1000.md): queue.  A TSO descriptor chain makes up to
 * 64 KiB / MSS frames in one pass, more than the queue holds: a full queue
 * goes to the bridge first (until issue 19 the surplus was dropped). */
static void emul__queue_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct e1000_emul *d = ctx;
    if (len > E1000_EMUL_TXQ_SLOT)
        return; /* cannot happen: the model's frames are at most 16 KiB + tag */
    if (d->txq_n >= E1000_EMUL_TXQ)
        emul__flush(d);
    memcpy(d->txq_buf + (size_t)d->txq_n * E1000_EMUL_TXQ_SLOT, frame, len);
    d->txq_len[d->txq_n++] = len;
}

/* The model's TSO hook, called where emul__queue_tx is (inside
 * e1000__tx_poll from emul__tx: txq_lock and the model's tx_lock held, its
 * state lock not).  The frames queued so far go first, so the bridge sees
 * the guest's order; then the burst, made one contiguous frame (one copy
 * of each byte, where segmenting copies every byte once plus a header per
 * frame), goes to tx_gso whole.  A refusal (e.g. the bridge forwards to
 * another VM) leaves it to the model, which queues its frames as ever. */
static int emul__tx_gso(void *ctx, const struct e1000_gso *g)
{
    struct e1000_emul *d = ctx;
    size_t len = (size_t)g->hdr_len + g->pay_len;
    if (len > E1000_EMUL_GSO_MAX)
        return -1; /* cannot happen: the model offers at most one IPv4 packet */
    emul__flush(d);
    memcpy(d->gso_buf, g->hdr, g->hdr_len);
    memcpy(d->gso_buf + g->hdr_len, g->pay, g->pay_len);
    struct e1000_emul_gso eg = {.l3_off = g->l3_start, .l4_off = g->csum_start,
                                .hdr_len = (uint16_t)g->hdr_len, .mss = g->mss};
    if (d->cfg.tx_gso(d->tx_ctx, d->gso_buf, len, &eg) != 0) {
        stat_inc(&d->stats.tx_gso_refused);
        return -1;
    }
    stat_inc(&d->stats.tx_gso);
    return 0;
}

static void emul__tx(struct e1000_emul *d)
{
    stat_inc(&d->stats.tx_kicks);
    pthread_mutex_lock(&d->txq_lock);
    /* Bounded: at most a ring's worth (4096 descriptors) per call; frames
     * go to the bridge with the model's state lock released. */
    for (unsigned total = 0; total < 4096;) {
        unsigned n = e1000__tx_poll(d->nic, E1000_EMUL_TXQ);
        emul__flush(d);
        total += n;
        if (n < E1000_EMUL_TXQ)
            break;
    }
    pthread_mutex_unlock(&d->txq_lock);
}

static enum e1000_emul_reg reg_of(uint64_t off)
{
    switch (off & ~3ull) {
    case E1000_CTRL: return E1000_EMUL_REG_CTRL;
    case E1000_STATUS: return E1000_EMUL_REG_STATUS;
    case E1000_ICR: return E1000_EMUL_REG_ICR;
    case E1000_ICS: return E1000_EMUL_REG_ICS;
    case E1000_IMS: return E1000_EMUL_REG_IMS;
    case E1000_IMC: return E1000_EMUL_REG_IMC;
    case E1000_ITR: return E1000_EMUL_REG_ITR;
    case E1000_RDT: return E1000_EMUL_REG_RDT;
    case E1000_TDT: return E1000_EMUL_REG_TDT;
    default: return E1000_EMUL_REG_OTHER;
    }
}

const char *e1000_emul__reg_name(enum e1000_emul_reg r)
{
    static const char *const names[E1000_EMUL_REGS] = {"CTRL", "STATUS", "ICR", "ICS", "IMS",
                                                       "IMC", "ITR", "RDT", "TDT", "other"};
    return (unsigned)r < E1000_EMUL_REGS ? names[r] : "?";
}

void e1000_emul__print_reg_cpu(const struct e1000_emul *d, const char *name, FILE *out)
{
    fprintf(out, "%s: e1000 register CPU (sampled):", name);
    for (int r = 0; r < E1000_EMUL_REGS; r++)
        for (int w = 0; w < 2; w++) {
            const struct cpu_sample *c = &d->reg_cpu[w][r];
            if (c->n)
                fprintf(out, " %s/%c=%llux%.2fus", e1000_emul__reg_name(r), w ? 'w' : 'r',
                        (unsigned long long)c->n,
                        c->sampled ? (double)c->ns / (double)c->sampled / 1e3 : 0.0);
        }
    fprintf(out, "\n");
}

static uint64_t bar0_read_(struct e1000_emul *d, uint64_t off, unsigned size)
{
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_MEMORY))
        return ~0ull; /* decode disabled: master abort */
    uint64_t v = e1000_mmio_ops.read(d->nic, off, size);
    emul__timer_poke(d); /* an ICR read may leave an ITR-held assertion */
    return v;
}

static uint64_t bar0_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_emul *d = dev;
    struct cpu_sample *c = &d->reg_cpu[0][reg_of(off)];
    if (!cpu_sample__count(c))
        return bar0_read_(d, off, size);
    uint64_t t0 = cpu_sample__now();
    uint64_t v = bar0_read_(d, off, size);
    cpu_sample__add(c, t0, cpu_sample__now());
    return v;
}

static void bar0_write_(struct e1000_emul *d, uint64_t off, unsigned size, uint64_t val)
{
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_MEMORY))
        return;
    e1000_mmio_ops.write(d->nic, off, size, val);
    if ((off & ~3ull) == E1000_TDT && bus_master(d))
        emul__tx(d); /* without bus mastering: when BME is set again */
    emul__timer_poke(d);
}

static void bar0_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_emul *d = dev;
    struct cpu_sample *c = &d->reg_cpu[1][reg_of(off)];
    if (!cpu_sample__count(c)) {
        bar0_write_(d, off, size, val);
        return;
    }
    uint64_t t0 = cpu_sample__now();
    bar0_write_(d, off, size, val);
    cpu_sample__add(c, t0, cpu_sample__now());
}

const struct mmio_ops e1000_emul_bar0_ops = {.read = bar0_read, .write = bar0_write};

/* BAR1: IOADDR selects a register, IODATA accesses it (SDM 13.2.x). */
static uint64_t bar1_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_IO) || size != 4)
        return ~0ull;
    if (off == E1000_IOADDR)
        return d->ioaddr;
    if (off == E1000_IODATA) {
        uint64_t v = e1000_mmio_ops.read(d->nic, d->ioaddr, 4);
        emul__timer_poke(d);
        return v;
    }
    return ~0ull;
}

static void bar1_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_emul *d = dev;
    if (!(pci_dev__command(&d->pci) & PCI_COMMAND_IO) || size != 4)
        return;
    if (off == E1000_IOADDR) {
        d->ioaddr = (uint32_t)val & (E1000_MMIO_SIZE - 4);
    } else if (off == E1000_IODATA) {
        e1000_mmio_ops.write(d->nic, d->ioaddr, 4, val);
        if (d->ioaddr == E1000_TDT && bus_master(d))
            emul__tx(d);
        emul__timer_poke(d);
    }
}

const struct mmio_ops e1000_emul_bar1_ops = {.read = bar1_read, .write = bar1_write};

int e1000_emul__rx(struct e1000_emul *d, const uint8_t *frame, size_t len)
{
    if (!bus_master(d)) {
        stat_inc(&d->stats.rx_blocked);
        return -EIO; /* no bus mastering: the device cannot DMA */
    }
    int r = e1000__rx_frame(d->nic, frame, len);
    emul__timer_poke(d);
    return r;
}

void e1000_emul__cfg_written(struct e1000_emul *d, unsigned off, unsigned size)
{
    /* MSI enable or Interrupt Disable may have changed what INTx shows */
    emul__update_intx(d);
    if (off + size <= PCI_COMMAND || off >= PCI_COMMAND + 2)
        return;
    bool was = d->bme_seen;
    d->bme_seen = bus_master(d);
    if (was || !d->bme_seen)
        return;
    /* Bus mastering is on (again): what waited for it goes now. */
    if (__atomic_exchange_n(&d->msi_pending, 0, __ATOMIC_ACQ_REL) &&
        __atomic_load_n(&d->level, __ATOMIC_ACQUIRE) && pci_dev__msi_enabled(&d->pci))
        emul__send_msi(d);
    emul__tx(d);
    emul__timer_poke(d);
}

uint64_t e1000_emul__thread_cpu_ns(struct e1000_emul *d)
{
    clockid_t cid;
    struct timespec ts;
    if (!d || !d->thread_running || pthread_getcpuclockid(d->thread, &cid) ||
        clock_gettime(cid, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
