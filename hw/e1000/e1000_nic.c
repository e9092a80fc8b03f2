/* Physical NIC instance: e1000 model + register memfd + hardware thread.
 * See e1000_nic.h for the pacing and interrupt model. */
#include "hw/e1000/e1000_nic.h"
#include "hw/e1000/nic_pace.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "drivers/e1000/e1000_regs.h"
#include "hw/pci/pci_regs.h"
#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/wire/wire.h"
#include "lib/log.h"

#define NIC_TX_BURST 64u   /* frames per loop turn, then RX gets a go */
#define NIC_RX_BURST 64u
#define NIC_RX_BATCH 16u   /* wire frames handed to the model in one pass */

struct e1000_nic {
    struct e1000_nic_config cfg;
    struct e1000 *model;
    uint8_t *regs;
    int regs_fd;
    int kick_fd;
    struct vtd_dma_ctx vtd_ctx;
    struct dma_port bus;         /* the path to memory (VT-d or plain) */
    struct dma_port dma;         /* what the model uses: the bus-master gate */
    uint16_t command;            /* atomic: PCI command register */
    int dma_inflight;            /* atomic: DMAs past the gate */
    int msi_held;                /* atomic: an MSI was due while BME was clear */
    struct irq_sink model_irq;   /* what the model calls */
    struct irq_sink out;         /* where interrupts go */

    pthread_t thread;
    bool running;
    uint64_t started_ns;
    pid_t hw_tid;                /* atomic: the hardware thread's tid, 0 if stopped */
    int stop;                    /* atomic */
    int sleeping;                /* atomic: thread is (about to be) in ppoll */

    /* interrupt state, atomics: written by whichever thread moved the level */
    int irq_level;
    uint32_t irq_edges;
    int delivered_level;         /* hardware thread only */
    pthread_mutex_t msi_lock;
    bool msi_enabled;
    uint64_t msi_addr;
    uint32_t msi_data;

    /* pacing of both link directions, hardware thread only */
    struct nic_pace tx_pace, rx_pace;
    bool rx_waiting;             /* frames wait on the wire for the RX line */
    uint64_t tx_now;             /* the clock of the tx_poll under way */
    unsigned tx_emitted;         /* frames it put on the wire (paced each) */

    struct e1000_nic_stats stats; /* atomics */
    uint8_t rx_buf[NIC_RX_BATCH][WIRE_MAX_BUF]; /* hardware thread only */
    struct e1000_rx_in rx_in[NIC_RX_BATCH];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stat_add(uint64_t *c, uint64_t v)
{
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static uint16_t nic_cmd(const struct e1000_nic *n)
{
    return __atomic_load_n(&n->command, __ATOMIC_SEQ_CST);
}

static bool nic_bus_master(const struct e1000_nic *n)
{
    return nic_cmd(n) & PCI_COMMAND_MASTER;
}

/* ---- the bus-master gate: every DMA of the model passes here ------------ */

/* In flight first, then the check (seq_cst both sides, Dekker with
 * e1000_nic__set_command): a DMA either sees BME clear or is counted before
 * the clearing thread looks at the count. */
static bool gate_enter(struct e1000_nic *n)
{
    __atomic_fetch_add(&n->dma_inflight, 1, __ATOMIC_SEQ_CST);
    if (nic_bus_master(n))
        return true;
    __atomic_fetch_sub(&n->dma_inflight, 1, __ATOMIC_SEQ_CST);
    stat_add(&n->stats.dma_blocked, 1);
    return false;
}

static int gate_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct e1000_nic *n = ctx;
    if (!gate_enter(n))
        return DMA_E_NO_BUS_MASTER; /* no cycle on the bus: nothing read */
    int r = dma__read(&n->bus, addr, buf, len);
    __atomic_fetch_sub(&n->dma_inflight, 1, __ATOMIC_SEQ_CST);
    return r;
}

static int gate_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    struct e1000_nic *n = ctx;
    if (!gate_enter(n))
        return DMA_E_NO_BUS_MASTER;
    int r = dma__write(&n->bus, addr, buf, len);
    __atomic_fetch_sub(&n->dma_inflight, 1, __ATOMIC_SEQ_CST);
    return r;
}

static const struct dma_ops gate_ops = {.read = gate_read, .write = gate_write};

static void nic_kick(struct e1000_nic *n)
{
    stat_add(&n->stats.kicks, 1);
    uint64_t one = 1;
    if (write(n->kick_fd, &one, sizeof one) < 0) {
        /* counter full: the thread is awake anyway */
    }
}

/* Wake the thread only if it may be asleep (Dekker with nic_sleep). */
static void nic_wake(struct e1000_nic *n)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&n->sleeping, __ATOMIC_RELAXED))
        nic_kick(n);
}

void e1000_nic__default_config(struct e1000_nic_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->requester_id = E1000_NIC_DEFAULT_RID;
    cfg->bit_rate = E1000_NIC_DEFAULT_RATE;
    cfg->pace_credit_ns = 10000000;
    cfg->spin_ns = 20000;
    cfg->idle_sleep_min_ns = 50000;
    cfg->idle_sleep_max_ns = 500000;
    cfg->pace_sleep_min_ns = 100000;
    cfg->nice = -10;
}

/* ---- callbacks from the model ------------------------------------------ */

/* The level may change on any thread that touches the model (the hardware
 * thread, or a driver's register write): record it, and let the hardware
 * thread deliver, as a device sends its own interrupt messages. */
static void model_intx(void *ctx, int level)
{
    struct e1000_nic *n = ctx;
    int old = __atomic_exchange_n(&n->irq_level, level ? 1 : 0, __ATOMIC_ACQ_REL);
    if (level && !old)
        __atomic_fetch_add(&n->irq_edges, 1, __ATOMIC_ACQ_REL);
    if (__atomic_load_n(&n->hw_tid, __ATOMIC_RELAXED) != gettid())
        nic_wake(n); /* raised by another thread (a register write) */
}

static void model_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct e1000_nic *n = ctx;
    (void)rid;
    (void)addr;
    (void)data;
    /* The 82540EM has no MSI capability and its model only drives INTx; the
     * NIC makes MSIs from the level with its own address/data.  Should a
     * model message arrive anyway, treat it as one edge. */
    __atomic_fetch_add(&n->irq_edges, 1, __ATOMIC_ACQ_REL);
    nic_wake(n);
}

/* Every frame takes the modelled wire for its own time (preamble, IFG,
 * FCS counted), however it is handed to the backend. */
static void tx_paced(struct e1000_nic *n, size_t len)
{
    nic_pace__sent(&n->tx_pace, n->tx_now, len);
    n->tx_emitted++;
}

static void model_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct e1000_nic *n = ctx;
    tx_paced(n, len);
    if (!n->cfg.wire || wire__send(n->cfg.wire, frame, len) != 0) {
        stat_add(&n->stats.tx_wire_errors, 1);
        return;
    }
    stat_add(&n->stats.tx_frames, 1);
    stat_add(&n->stats.tx_bytes, len);
}

/* A TSO burst: one write of a GSO super-frame where the wire takes it,
 * paced and counted as the frames it stands for; else refused, and the
 * model hands the frames over one by one. */
static int model_tx_gso(void *ctx, const struct e1000_gso *g)
{
    struct e1000_nic *n = ctx;
    if (!n->cfg.wire)
        return -1;
    struct wire_gso wg = {
        .hdr = g->hdr, .hdr_len = g->hdr_len, .pay = g->pay, .pay_len = g->pay_len,
        .mss = g->mss, .csum_start = g->csum_start, .csum_offset = g->csum_offset,
        .nseg = g->nseg, .seg_len = g->first_len, .last_len = g->last_len,
    };
    int r = wire__send_gso(n->cfg.wire, &wg);
    if (r == -EOPNOTSUPP)
        return -1;
    for (uint32_t k = 0; k < g->nseg; k++)
        tx_paced(n, k + 1 < g->nseg ? g->first_len : g->last_len);
    uint64_t bytes = (uint64_t)(g->nseg - 1) * g->first_len + g->last_len;
    if (r != 0) {
        stat_add(&n->stats.tx_wire_errors, g->nseg);
        return 0; /* lost on the wire, as its frames would be */
    }
    stat_add(&n->stats.tx_frames, g->nseg);
    stat_add(&n->stats.tx_bytes, bytes);
    stat_add(&n->stats.tx_gso_writes, 1);
    return 0;
}

static void model_doorbell(void *ctx, uint32_t off)
{
    (void)off;
    nic_wake(ctx);
}

/* ---- the hardware thread ----------------------------------------------- */

static void deliver_irq(struct e1000_nic *n)
{
    uint32_t edges = __atomic_exchange_n(&n->irq_edges, 0, __ATOMIC_ACQ_REL);
    int level = __atomic_load_n(&n->irq_level, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&n->msi_lock);
    bool msi = n->msi_enabled;
    uint64_t addr = n->msi_addr;
    uint32_t data = n->msi_data;
    pthread_mutex_unlock(&n->msi_lock);
    uint16_t cmd = nic_cmd(n);
    if (msi) {
        /* Edge-triggered: one message per assertion (coalesced).  A memory
         * write: not without Bus Master Enable; held until it returns. */
        if (!(cmd & PCI_COMMAND_MASTER)) {
            if (edges) {
                __atomic_store_n(&n->msi_held, 1, __ATOMIC_RELEASE);
                stat_add(&n->stats.msi_held, 1);
            }
            edges = 0;
        } else if (__atomic_exchange_n(&n->msi_held, 0, __ATOMIC_ACQ_REL) && level) {
            edges = 1; /* bus mastering is back, the line still asserted */
        }
        if (edges && n->out.msi) {
            n->out.msi(n->out.ctx, n->cfg.requester_id, addr, data);
            stat_add(&n->stats.msi_sent, 1);
        }
        n->delivered_level = level;
        return;
    }
    if (cmd & PCI_COMMAND_INTX_DISABLE)
        level = 0; /* Interrupt Disable: INTx# not asserted (6.2.2 bit 10) */
    /* The line dropped and rose again since the last delivery (a driver's
     * ICR read, then a new cause): the wire saw both, so does the
     * controller -- a level-triggered input that is masked until EOI needs
     * that edge, or the new assertion is lost. */
    if (edges && level && n->delivered_level && n->out.intx) {
        n->out.intx(n->out.ctx, 0);
        stat_add(&n->stats.intx_changes, 1);
        n->delivered_level = 0;
    }
    if (level != n->delivered_level && n->out.intx) {
        n->out.intx(n->out.ctx, level);
        stat_add(&n->stats.intx_changes, 1);
    }
    n->delivered_level = level;
}

/* Copy what pacing counted into the atomics get_stats reads. */
static void pace_stats(const struct nic_pace *p, uint64_t lost0, uint64_t gaps0, uint64_t *lost,
                       uint64_t *gaps)
{
    if (p->lost_ns != lost0)
        stat_add(lost, p->lost_ns - lost0);
    if (p->idle_gaps != gaps0)
        stat_add(gaps, p->idle_gaps - gaps0);
}

/* Transmit while the modelled wire is free.  Returns descriptors consumed. */
static unsigned nic_tx(struct e1000_nic *n, uint64_t now)
{
    unsigned work = 0, frames = 0;
    struct nic_pace *p = &n->tx_pace;
    uint64_t lost0 = p->lost_ns, gaps0 = p->idle_gaps;
    /* Bounded in descriptors too: a ring of frames that never end (no EOP)
     * must not keep the thread here. */
    while (frames < NIC_TX_BURST && work < 8 * NIC_TX_BURST) {
        if (nic_pace__busy(p, now))
            break;
        n->tx_now = now;
        n->tx_emitted = 0;
        if (e1000__tx_poll(n->model, 1) == 0) {
            nic_pace__idle(p);
            break;
        }
        work++;
        frames += n->tx_emitted; /* 0: inside a frame, or a context descriptor */
    }
    pace_stats(p, lost0, gaps0, &n->stats.pace_lost_ns, &n->stats.tx_idle_gaps);
    return work;
}

/* Move wire frames into the RX ring while the modelled receive line is
 * free: a frame that arrives faster than the line rate waits in the wire's
 * queue (the TAP's, which drops on overflow as Linux's does), as it would
 * before a real NIC's PHY.  Frames are read until the wire has none, the
 * line is busy or a batch is full, and each batch goes to the model in one
 * pass (one lock, one interrupt evaluation), as the NIC drains its FIFO. */
static void nic_rx_deliver(struct e1000_nic *n, unsigned k)
{
    if (!k)
        return;
    if (!nic_bus_master(n)) {
        /* Nowhere to put them without DMA: lost, as from a full FIFO. */
        stat_add(&n->stats.rx_no_bus_master, k);
        stat_add(&n->stats.rx_dropped, k);
        return;
    }
    int rc[NIC_RX_BATCH];
    e1000__rx_frames(n->model, n->rx_in, k, rc);
    uint64_t frames = 0, bytes = 0;
    for (unsigned i = 0; i < k; i++) {
        if (rc[i] == 0) {
            frames++;
            bytes += n->rx_in[i].len;
        }
    }
    stat_add(&n->stats.rx_frames, frames);
    stat_add(&n->stats.rx_bytes, bytes);
    if (k - frames)
        stat_add(&n->stats.rx_dropped, k - frames);
}

static unsigned nic_rx(struct e1000_nic *n, uint64_t now)
{
    unsigned work = 0, k = 0;
    struct nic_pace *p = &n->rx_pace;
    uint64_t lost0 = p->lost_ns, gaps0 = p->idle_gaps;
    n->rx_waiting = false;
    if (!n->cfg.wire)
        return 0;
    while (work < NIC_RX_BURST) {
        if (nic_pace__busy(p, now)) {
            /* Only frames that wait make the line busy: with none, drop the
             * backlog so the thread sleeps on the wire, not on the pace. */
            if (wire__wait(n->cfg.wire, 0) > 0) {
                n->rx_waiting = true;
                stat_add(&n->stats.rx_pace_waits, 1);
            } else {
                nic_pace__idle(p);
            }
            break;
        }
        int len = wire__recv(n->cfg.wire, n->rx_buf[k], WIRE_MAX_BUF);
        if (len <= 0) {
            nic_pace__idle(p);
            break;
        }
        work++;
        nic_pace__sent(p, now, (size_t)len); /* it took the line, kept or not */
        n->rx_in[k] = (struct e1000_rx_in){n->rx_buf[k], (size_t)len};
        if (++k == NIC_RX_BATCH) {
            nic_rx_deliver(n, k);
            k = 0;
        }
    }
    nic_rx_deliver(n, k);
    pace_stats(p, lost0, gaps0, &n->stats.rx_pace_lost_ns, &n->stats.rx_idle_gaps);
    return work;
}

static uint32_t reg_load(const struct e1000_nic *n, uint32_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(n->regs + off), __ATOMIC_ACQUIRE);
}

static bool tx_pending(const struct e1000_nic *n)
{
    /* Without bus mastering queued descriptors are not work: the thread
     * must sleep, not poll them (a guest clearing BME must not make it spin). */
    return nic_bus_master(n) && (reg_load(n, E1000_TCTL) & E1000_TCTL_EN) &&
           reg_load(n, E1000_TDH) != reg_load(n, E1000_TDT);
}

/* The model's interrupt delay timers (RDTR, RADV, TIDV, TADV in 1.024 us
 * units) and throttling interval (ITR, 256 ns) only advance when the thread
 * ticks it: while any is programmed, do not sleep longer than the shortest,
 * so a delayed interrupt is not held back by an idle sleep. */
static uint64_t timer_cap(const struct e1000_nic *n, uint64_t sleep)
{
    static const uint32_t delay_regs[] = {E1000_RDTR, E1000_RADV, E1000_TIDV, E1000_TADV};
    uint64_t cap = sleep;
    for (unsigned i = 0; i < sizeof delay_regs / sizeof delay_regs[0]; i++) {
        uint64_t t = (uint64_t)(reg_load(n, delay_regs[i]) & 0xFFFFu) * E1000_DELAY_UNIT_NS;
        if (t && t < cap)
            cap = t;
    }
    uint64_t itr = (uint64_t)(reg_load(n, E1000_ITR) & E1000_ITR_INTERVAL_MASK) * E1000_ITR_UNIT_NS;
    if (itr && itr < cap)
        cap = itr;
    return cap < n->cfg.idle_sleep_min_ns ? n->cfg.idle_sleep_min_ns : cap;
}

/* Sleep up to ns, woken early by a kick or (if `wire`) a wire frame. */
static void nic_sleep(struct e1000_nic *n, uint64_t ns, bool check_tx, bool wire)
{
    __atomic_store_n(&n->sleeping, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* Re-check after announcing the sleep so a doorbell or interrupt posted
     * just before is not slept through. */
    if ((check_tx && tx_pending(n)) || (wire && n->cfg.wire && wire__pending(n->cfg.wire)) ||
        __atomic_load_n(&n->irq_edges, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&n->irq_level, __ATOMIC_ACQUIRE) != n->delivered_level ||
        __atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&n->sleeping, 0, __ATOMIC_RELAXED);
        return;
    }
    struct pollfd p[2] = {{.fd = n->kick_fd, .events = POLLIN},
                          {.fd = n->cfg.wire && wire ? n->cfg.wire->poll_fd : -1, .events = POLLIN}};
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
    stat_add(&n->stats.sleeps, 1);
    if (ppoll(p, 2, &ts, NULL) > 0 && (p[0].revents & POLLIN)) {
        uint64_t v;
        if (read(n->kick_fd, &v, sizeof v) < 0) {
            /* raced with another reader: nothing to clear */
        }
    }
    __atomic_store_n(&n->sleeping, 0, __ATOMIC_RELAXED);
}

static void *nic_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "nic-hw"); /* top -H, ps -L */
    struct e1000_nic *n = arg;
    const struct e1000_nic_config *c = &n->cfg;
    uint64_t start = n->started_ns, last_work = now_ns(), idle_sleep = c->idle_sleep_min_ns;

    __atomic_store_n(&n->hw_tid, gettid(), __ATOMIC_RELAXED);
    if (c->nice && setpriority(PRIO_PROCESS, (id_t)gettid(), c->nice) < 0)
        log__debug("nic", "hardware thread priority %d not applied: %s", c->nice,
                   strerror(errno));

    while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
        uint64_t wall = now_ns();
        /* the model's clock: its timers and both directions' pacing */
        uint64_t now = c->clock_ns ? c->clock_ns(c->clock_ctx) : wall;
        stat_add(&n->stats.loops, 1);
        /* Tick first so delays armed by this turn's TX/RX start from now. */
        e1000__tick(n->model, now);
        unsigned work = (nic_bus_master(n) ? nic_tx(n, now) : 0) + nic_rx(n, now);
        deliver_irq(n);
        if (work) {
            last_work = wall;
            idle_sleep = c->idle_sleep_min_ns;
            continue;
        }
        uint64_t wait = nic_pace__busy(&n->tx_pace, now) ? n->tx_pace.next_free_ns - now : 0;
        if (n->rx_waiting && n->rx_pace.next_free_ns > now &&
            (!wait || n->rx_pace.next_free_ns - now < wait))
            wait = n->rx_pace.next_free_ns - now;
        if (wait) {
            /* A line busy, frames waiting: sleep until it is free (at least
             * the minimum; the credit absorbs the overshoot).  Frames waiting
             * on the wire must not wake it (the wire's fd stays readable). */
            nic_sleep(n, wait > c->pace_sleep_min_ns ? wait : c->pace_sleep_min_ns, false,
                      !n->rx_waiting);
            continue;
        }
        if (wall - last_work < c->spin_ns)
            continue;
        nic_sleep(n, timer_cap(n, idle_sleep), true, true);
        idle_sleep = idle_sleep * 2 > c->idle_sleep_max_ns ? c->idle_sleep_max_ns : idle_sleep * 2;
    }
    __atomic_store_n(&n->hw_tid, 0, __ATOMIC_RELAXED);
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    __atomic_store_n(&n->stats.thread_cpu_ns,
                     (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
    stat_add(&n->stats.run_ns, now_ns() - start);
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int physmem_dma_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    return physmem__read(ctx, a, buf, len);
}

static int physmem_dma_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    return physmem__write(ctx, a, buf, len);
}

static const struct dma_ops physmem_dma_ops = {
    .read = physmem_dma_read,
    .write = physmem_dma_write,
};

void e1000_nic__physmem_port(struct physmem *pm, struct dma_port *out)
{
    out->ops = &physmem_dma_ops;
    out->ctx = pm;
}

static bool config_ok(const struct e1000_nic_config *c)
{
    if (!c->vtd && (!c->dma || !c->dma->ops)) {
        log__err("nic", "no DMA path: give a VT-d unit or a dma_port");
        return false;
    }
    if (!c->irq) {
        log__err("nic", "no interrupt sink");
        return false;
    }
    if (c->bit_rate && c->bit_rate < 1000000) {
        log__err("nic", "bit rate %llu b/s below 1 Mb/s", (unsigned long long)c->bit_rate);
        return false;
    }
    if (c->nice < -20 || c->nice > 19) {
        log__err("nic", "nice %d outside -20..19", c->nice);
        return false;
    }
    if (c->idle_sleep_min_ns == 0 || c->idle_sleep_max_ns < c->idle_sleep_min_ns ||
        c->idle_sleep_max_ns > 100000000 || c->pace_sleep_min_ns > 100000000) {
        log__err("nic", "idle sleeps must satisfy 0 < min <= max <= 100 ms");
        return false;
    }
    return true;
}

struct e1000_nic *e1000_nic__create(const struct e1000_nic_config *cfg)
{
    if (!cfg || !config_ok(cfg))
        return NULL;
    struct e1000_nic *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->cfg = *cfg;
    if (!n->cfg.requester_id)
        n->cfg.requester_id = E1000_NIC_DEFAULT_RID;
    static const uint8_t zero[6], def_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    if (!memcmp(n->cfg.mac, zero, 6))
        memcpy(n->cfg.mac, def_mac, 6);
    n->regs_fd = -1;
    n->kick_fd = -1;
    n->out = *cfg->irq;
    pthread_mutex_init(&n->msi_lock, NULL);

    n->regs_fd = memfd_create("iovirt-e1000-regs", MFD_CLOEXEC);
    if (n->regs_fd < 0 || ftruncate(n->regs_fd, E1000_MMIO_SIZE) < 0)
        goto fail_errno;
    void *regs = mmap(NULL, E1000_MMIO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, n->regs_fd, 0);
    if (regs == MAP_FAILED)
        goto fail_errno;
    n->regs = regs;
    n->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->kick_fd < 0)
        goto fail_errno;

    if (cfg->vtd)
        vtd__dma_port(&n->vtd_ctx, cfg->vtd, n->cfg.requester_id, &n->bus);
    else
        n->bus = *cfg->dma;
    n->dma = (struct dma_port){.ops = &gate_ops, .ctx = n};
    n->command = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    n->model_irq.intx = model_intx;
    n->model_irq.msi = model_msi;
    n->model_irq.ctx = n;
    nic_pace__init(&n->tx_pace, n->cfg.bit_rate, n->cfg.pace_credit_ns);
    nic_pace__init(&n->rx_pace, n->cfg.bit_rate, n->cfg.pace_credit_ns);
    n->model = e1000__create(n->regs, &n->dma, &n->model_irq, n->cfg.mac, model_tx, n);
    if (n->model && !n->cfg.no_gso)
        e1000__set_tx_gso(n->model, model_tx_gso);
    if (!n->model) {
        log__err("nic", "e1000 model creation failed");
        goto fail;
    }
    e1000__set_doorbell(n->model, model_doorbell, n);
    return n;

fail_errno:
    log__err("nic", "register file / eventfd: %s", strerror(errno));
fail:
    e1000_nic__destroy(n);
    return NULL;
}

int e1000_nic__start(struct e1000_nic *n)
{
    if (n->running)
        return -EBUSY;
    __atomic_store_n(&n->stop, 0, __ATOMIC_RELEASE);
    n->running = true;
    n->started_ns = now_ns();
    int r = pthread_create(&n->thread, NULL, nic_thread, n);
    if (r) {
        n->running = false;
        log__err("nic", "hardware thread: %s", strerror(r));
        return -r;
    }
    return 0;
}

void e1000_nic__stop(struct e1000_nic *n)
{
    if (!n->running)
        return;
    __atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
    nic_kick(n);
    pthread_join(n->thread, NULL);
    n->running = false;
}

void e1000_nic__destroy(struct e1000_nic *n)
{
    if (!n)
        return;
    e1000_nic__stop(n);
    if (n->model)
        e1000__destroy(n->model);
    if (n->regs)
        munmap(n->regs, E1000_MMIO_SIZE);
    if (n->regs_fd >= 0)
        close(n->regs_fd);
    if (n->kick_fd >= 0)
        close(n->kick_fd);
    pthread_mutex_destroy(&n->msi_lock);
    free(n);
}

/* BAR decode (6.2.2): a disabled space answers like a master abort. */
static uint64_t bar0_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_nic *n = dev;
    if (!(nic_cmd(n) & PCI_COMMAND_MEMORY))
        return mmio__all_ones(size);
    return e1000_mmio_ops.read(n->model, off, size);
}

static void bar0_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_nic *n = dev;
    if (nic_cmd(n) & PCI_COMMAND_MEMORY)
        e1000_mmio_ops.write(n->model, off, size, val);
}

static uint64_t bar1_read(void *dev, uint64_t off, unsigned size)
{
    struct e1000_nic *n = dev;
    if (!(nic_cmd(n) & PCI_COMMAND_IO))
        return mmio__all_ones(size);
    return e1000_io_ops.read(n->model, off, size);
}

static void bar1_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000_nic *n = dev;
    if (nic_cmd(n) & PCI_COMMAND_IO)
        e1000_io_ops.write(n->model, off, size, val);
}

static const struct mmio_ops nic_bar0_ops = {.read = bar0_read, .write = bar0_write};
static const struct mmio_ops nic_bar1_ops = {.read = bar1_read, .write = bar1_write};

struct mmio_window e1000_nic__mmio(struct e1000_nic *n)
{
    struct mmio_window w = {.ops = &nic_bar0_ops, .dev = n};
    return w;
}

struct mmio_window e1000_nic__io(struct e1000_nic *n)
{
    struct mmio_window w = {.ops = &nic_bar1_ops, .dev = n};
    return w;
}

void e1000_nic__set_command(struct e1000_nic *n, uint16_t cmd)
{
    uint16_t old = __atomic_exchange_n(&n->command, cmd, __ATOMIC_SEQ_CST);
    if ((old & PCI_COMMAND_MASTER) && !(cmd & PCI_COMMAND_MASTER)) {
        /* No DMA after this returns: wait out the ones already past the
         * gate (each is one bounded access; yield, never a long spin). */
        while (__atomic_load_n(&n->dma_inflight, __ATOMIC_SEQ_CST))
            sched_yield();
    }
    /* A held MSI and queued TX go when the hardware thread next runs. */
    nic_kick(n);
}

uint16_t e1000_nic__command(struct e1000_nic *n) { return nic_cmd(n); }

void e1000_nic__reset(struct e1000_nic *n)
{
    e1000__reset(n->model);
    nic_wake(n);
}

int e1000_nic__regs_fd(struct e1000_nic *n) { return n->regs_fd; }
void *e1000_nic__regs(struct e1000_nic *n) { return n->regs; }
struct e1000 *e1000_nic__model(struct e1000_nic *n) { return n->model; }
uint16_t e1000_nic__requester_id(struct e1000_nic *n) { return n->cfg.requester_id; }

void e1000_nic__set_msi(struct e1000_nic *n, bool enabled, uint64_t addr, uint32_t data)
{
    pthread_mutex_lock(&n->msi_lock);
    n->msi_enabled = enabled;
    n->msi_addr = addr;
    n->msi_data = data;
    pthread_mutex_unlock(&n->msi_lock);
    nic_wake(n);
}

void e1000_nic__get_stats(struct e1000_nic *n, struct e1000_nic_stats *out)
{
    uint64_t *dst = (uint64_t *)out;
    const uint64_t *src = (const uint64_t *)&n->stats;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    if (n->running) {
        clockid_t cid;
        struct timespec ts;
        if (pthread_getcpuclockid(n->thread, &cid) == 0 && clock_gettime(cid, &ts) == 0)
            out->thread_cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        out->run_ns += now_ns() - n->started_ns;
    }
}
