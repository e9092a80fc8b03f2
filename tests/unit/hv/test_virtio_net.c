/* hv/virtio: virtio-net device driven qtest-style through its BAR and guest
 * memory: feature negotiation, TX and RX through split virtqueues,
 * notification/interrupt suppression, hostile rings, and a correct driver
 * publishing an index while the device reads it. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <cmocka.h>

#include "../net_frames.h"
#include "drivers/virtio/virtio_regs.h"
#include "hv/virtio/virtio_net.h"
#include "lib/log.h"

#define RAM_BASE 0x100000ull
#define QSZ 8
/* Ring layout in guest RAM. */
#define DESC(q)  (RAM_BASE + 0x10000 + (q) * 0x4000)
#define AVAIL(q) (DESC(q) + 16 * QSZ)
#define USED(q)  (DESC(q) + 0x1000)
#define BUF(i)   (RAM_BASE + 0x40000 + (i) * 0x1000)

struct fixture {
    struct physmem pm;
    struct guest_mem gm;
    struct virtio_net *vn;
    uint8_t sent[2048];
    size_t sent_len;
    int tx_count, msi_count;
    int irqs_at_tx[16];        /* interrupts raised before the k-th frame left */
    int intx_level, intx_calls;
    uint16_t avail_idx[2];
    bool gso_accept;           /* what the uplink's TSO answers */
    int gso_calls;
    struct vnet_tx_plan gso_plan;
};

static int on_tx_gso(void *ctx, const uint8_t *f, size_t len, const struct vnet_tx_plan *plan)
{
    struct fixture *fx = ctx;
    fx->gso_calls++;
    if (!fx->gso_accept)
        return -EOPNOTSUPP;
    fx->gso_plan = *plan;
    memcpy(fx->sent, f, len < sizeof fx->sent ? len : sizeof fx->sent);
    fx->sent_len = len;
    fx->tx_count++;
    return 0;
}

static void on_intx(void *ctx, int level)
{
    struct fixture *fx = ctx;
    fx->intx_level = level;
    fx->intx_calls++;
}

static void on_tx(void *ctx, const uint8_t *f, size_t len)
{
    struct fixture *fx = ctx;
    if (fx->tx_count < 16)
        fx->irqs_at_tx[fx->tx_count] = fx->msi_count + fx->intx_calls;
    memcpy(fx->sent, f, len < sizeof fx->sent ? len : sizeof fx->sent);
    fx->sent_len = len;
    fx->tx_count++;
}

static void on_msi(void *ctx, uint16_t sid, uint64_t addr, uint32_t data)
{
    struct fixture *fx = ctx;
    assert_int_equal(sid, 0x0018);
    assert_int_equal(addr, 0xFEE00000);
    assert_int_equal(data, 0x41);
    fx->msi_count++;
}

static void w(struct fixture *fx, uint64_t off, unsigned size, uint64_t v)
{
    virtio_net_bar_ops.write(fx->vn, off, size, v);
}

static uint64_t r(struct fixture *fx, uint64_t off, unsigned size)
{
    return virtio_net_bar_ops.read(fx->vn, off, size);
}

static void setup_queue(struct fixture *fx, int q)
{
    w(fx, VIRTIO_PCI_COMMON_Q_SELECT, 2, (uint64_t)q);
    w(fx, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSZ);
    w(fx, VIRTIO_PCI_COMMON_Q_DESCLO, 4, DESC(q));
    w(fx, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, AVAIL(q));
    w(fx, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_USEDLO, 4, USED(q));
    w(fx, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

static int setup(void **state)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof fx);
    log__set_quiet(1);
    assert_int_equal(physmem__init(&fx.pm, 32ull << 20), 0);
    assert_int_equal(guest_mem__create(&fx.gm, &fx.pm, RAM_BASE, 4ull << 20), 0);
    struct virtio_net_params p = {
        .gm = &fx.gm, .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56}, .requester_id = 0x0018,
        .irq = {.msi = on_msi, .intx = on_intx, .ctx = &fx}, .tx = on_tx, .tx_gso = on_tx_gso, .tx_ctx = &fx,
    };
    fx.vn = virtio_net__create(&p);
    assert_non_null(fx.vn);
    /* Enable MSI in config space as a driver would. */
    struct pci_dev *d = virtio_net__pci(fx.vn);
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_ADDRESS_LO, 4, 0xFEE00000);
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_DATA_64, 2, 0x41);
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    /* Firmware/driver: memory decode and bus mastering on (PCI 3.0 6.2.2). */
    pci_dev__cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    virtio_net__cfg_written(fx.vn, PCI_COMMAND, 2);
    /* 3.1.1 driver initialisation. */
    w(&fx, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    w(&fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    w(&fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    w(&fx, VIRTIO_PCI_COMMON_GF, 4, 1u << VIRTIO_NET_F_MAC);
    w(&fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    w(&fx, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
    w(&fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    assert_true(r(&fx, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK);
    setup_queue(&fx, VIRTIO_NET_RX_VQ);
    setup_queue(&fx, VIRTIO_NET_TX_VQ);
    w(&fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    virtio_net__destroy(fx->vn);
    guest_mem__destroy(&fx->gm);
    physmem__destroy(&fx->pm);
    return 0;
}

static void put_desc(struct fixture *fx, int q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};
    assert_int_equal(guest_mem__write(&fx->gm, DESC(q) + 16 * i, &d, sizeof d), 0);
}

static void make_avail(struct fixture *fx, int q, uint16_t head)
{
    uint16_t idx = fx->avail_idx[q];
    guest_mem__write(&fx->gm, AVAIL(q) + VIRTQ_AVAIL_RING + 2 * (idx % QSZ), &head, 2);
    idx++;
    guest_mem__write(&fx->gm, AVAIL(q) + VIRTQ_AVAIL_IDX, &idx, 2);
    fx->avail_idx[q] = idx;
}

static uint16_t used_idx(struct fixture *fx, int q)
{
    uint16_t v;
    guest_mem__read(&fx->gm, USED(q) + VIRTQ_USED_IDX, &v, 2);
    return v;
}

static void test_features_and_config(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(r(fx, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    w(fx, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    assert_true(r(fx, VIRTIO_PCI_COMMON_DF, 4) & (1u << (VIRTIO_F_VERSION_1 - 32)));
    assert_int_equal(r(fx, VIRTIO_NET_DEVICE_OFF + VIRTIO_NET_CFG_MAC + 5, 1), 0x56);
    assert_int_equal(r(fx, VIRTIO_NET_DEVICE_OFF + VIRTIO_NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
    /* Capabilities are found by walking the PCI list. */
    struct pci_dev *d = virtio_net__pci(fx->vn);
    int found = 0;
    for (uint8_t c = d->cfg[PCI_CAPABILITY_LIST]; c; c = d->cfg[c + 1])
        if (d->cfg[c] == PCI_CAP_ID_VNDR)
            found |= 1 << d->cfg[c + VIRTIO_PCI_CAP_CFG_TYPE];
    assert_int_equal(found, 0x1E);
}

static void test_tx_frame_with_header_split(void **state)
{
    struct fixture *fx = *state;
    uint8_t frame[100];
    for (int i = 0; i < 100; i++)
        frame[i] = (uint8_t)(i + 3);
    struct virtio_net_hdr h = {0};
    guest_mem__write(&fx->gm, BUF(0), &h, sizeof h);
    guest_mem__write(&fx->gm, BUF(1), frame, 40);
    guest_mem__write(&fx->gm, BUF(2), frame + 40, 60);
    put_desc(fx, 1, 0, BUF(0), sizeof h, VIRTQ_DESC_F_NEXT, 1);
    put_desc(fx, 1, 1, BUF(1), 40, VIRTQ_DESC_F_NEXT, 2);
    put_desc(fx, 1, 2, BUF(2), 60, 0, 0);
    make_avail(fx, 1, 0);
    w(fx, VIRTIO_NET_NOTIFY_OFF + VIRTIO_NET_TX_VQ * VIRTIO_NET_NOTIFY_MULT, 2, 1);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->tx_count, 1);
    assert_int_equal(fx->sent_len, 100);
    assert_memory_equal(fx->sent, frame, 100);
    assert_int_equal(used_idx(fx, 1), 1);
    assert_int_equal(fx->msi_count, 1);
    /* With NO_INTERRUPT set by the driver, the next completion is silent. */
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_FLAGS, &flags, 2);
    make_avail(fx, 1, 0);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->msi_count, 1);
    assert_int_equal(fx->tx_count, 2);
}

static void test_rx_frame_and_no_buffer_drop(void **state)
{
    struct fixture *fx = *state;
    uint8_t frame[64];
    memset(frame, 0xEE, sizeof frame);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), -ENOSPC);
    put_desc(fx, 0, 0, BUF(4), 2048, VIRTQ_DESC_F_WRITE, 0);
    make_avail(fx, 0, 0);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), 0);
    struct virtq_used_elem e;
    guest_mem__read(&fx->gm, USED(0) + VIRTQ_USED_RING, &e, sizeof e);
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, sizeof(struct virtio_net_hdr) + 64);
    uint8_t back[64];
    guest_mem__read(&fx->gm, BUF(4) + sizeof(struct virtio_net_hdr), back, 64);
    assert_memory_equal(back, frame, 64);
    struct virtio_net_stats st;
    virtio_net__get_stats(fx->vn, &st);
    assert_int_equal(st.rx_dropped, 1);
    assert_int_equal(st.rx_frames, 1);
}

/* Each hostile ring breaks the device (NEEDS_RESET), touches nothing
 * outside guest RAM and stops further processing. */
static void expect_broken(struct fixture *fx)
{
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 0);
    assert_true(virtio_net__broken(fx->vn));
    assert_true(r(fx, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
    assert_int_equal(fx->tx_count, 0);
    /* The driver cannot clear NEEDS_RESET except by a reset. */
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0x0F);
    assert_true(virtio_net__broken(fx->vn));
}

static void test_descriptor_loop(void **state)
{
    struct fixture *fx = *state;
    put_desc(fx, 1, 0, BUF(0), 20, VIRTQ_DESC_F_NEXT, 1);
    put_desc(fx, 1, 1, BUF(1), 20, VIRTQ_DESC_F_NEXT, 0);
    make_avail(fx, 1, 0);
    expect_broken(fx);
}

static void test_out_of_range_indexes(void **state)
{
    struct fixture *fx = *state;
    put_desc(fx, 1, 0, BUF(0), 20, VIRTQ_DESC_F_NEXT, QSZ + 3);
    make_avail(fx, 1, 0);
    expect_broken(fx);
}

static void test_head_out_of_range(void **state)
{
    struct fixture *fx = *state;
    make_avail(fx, 1, 0xFFFF);
    expect_broken(fx);
}

static void test_avail_idx_jump(void **state)
{
    struct fixture *fx = *state;
    uint16_t idx = QSZ + 5;
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_IDX, &idx, 2);
    expect_broken(fx);
}

static void test_buffer_outside_ram(void **state)
{
    struct fixture *fx = *state;
    put_desc(fx, 1, 0, RAM_BASE + (4ull << 20) - 8, 64, 0, 0);
    make_avail(fx, 1, 0);
    expect_broken(fx);
}

static void test_4gib_length(void **state)
{
    struct fixture *fx = *state;
    put_desc(fx, 1, 0, BUF(0), 0xFFFFFFFFu, 0, 0);
    make_avail(fx, 1, 0);
    expect_broken(fx);
}

static void test_zero_length_chain_is_harmless(void **state)
{
    struct fixture *fx = *state;
    put_desc(fx, 1, 0, BUF(0), 0, 0, 0);
    make_avail(fx, 1, 0);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->tx_count, 0); /* nothing to send, but returned */
    assert_false(virtio_net__broken(fx->vn));
    assert_int_equal(used_idx(fx, 1), 1);
}

static void test_ring_outside_ram_refused_at_enable(void **state)
{
    struct fixture *fx = *state;
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    w(fx, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1000); /* below guest RAM */
    w(fx, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    assert_true(virtio_net__broken(fx->vn));
    assert_int_equal(r(fx, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
}

/* ---- a driver's index store landing between the device's loads ----------
 * A driver on another CPU may update avail->idx at any moment (virtio 1.1
 * 2.6.13.3, 1.2 2.7.13.3); the device must see the old or the new index,
 * never a mix.  To try the worst interleaving without timing luck, the page
 * holding avail->idx is made inaccessible while the device runs: each device
 * access to it faults, is let through for exactly one instruction (the trap
 * flag), and right after the first instruction that touches avail->idx the
 * "driver" (this test) stores its next index.  A device that reads the index
 * with one load sees the old value, then the new one on its re-check; one
 * that assembles it from two loads (a byte-wise copy: glibc's memcpy of 2
 * bytes loads byte 0, then the word) sees the new high byte on the old low
 * byte: 0x00FF -> 0x0100 reads as 0x01FF, 256 entries ahead.  (Where the
 * C library's 2-byte copy happens to be one load, the old code passes too;
 * with glibc 2.36's AVX-512 memcpy it failed here.) */
#define EFLAGS_TF 0x100
static struct {
    uint8_t *page;            /* host page holding avail->idx */
    uint16_t *idx;            /* host address of avail->idx */
    uint16_t next;            /* the index the driver publishes */
    bool armed, store_due;
    unsigned idx_accesses, stores;
} race;

static void race_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    uint8_t *a = si->si_addr;
    if (!race.page || a < race.page || a >= race.page + PHYSMEM_PAGE_4K) {
        signal(sig, SIG_DFL); /* a real fault: crash on the retry */
        return;
    }
    mprotect(race.page, PHYSMEM_PAGE_4K, PROT_READ | PROT_WRITE);
    if (a >= (uint8_t *)race.idx && a < (uint8_t *)race.idx + 2) {
        race.idx_accesses++;
        race.store_due |= race.armed;
        race.armed = false;
    }
    uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF; /* one instruction, then SIGTRAP */
}

static void race_trap(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    uc->uc_mcontext.gregs[REG_EFL] &= ~(long long)EFLAGS_TF;
    if (race.store_due) {
        __atomic_store_n(race.idx, race.next, __ATOMIC_RELEASE); /* the driver's one 16-bit store */
        race.store_due = false;
        race.stores++;
    }
    mprotect(race.page, PHYSMEM_PAGE_4K, PROT_NONE);
}

static void test_index_published_during_device_read(void **state)
{
    struct fixture *fx = *state;
    /* Bring the TX queue to avail idx == last_avail == 0x00FF, one frame at a time. */
    uint8_t pkt[sizeof(struct virtio_net_hdr) + 60] = {0};
    memset(pkt + sizeof(struct virtio_net_hdr), 0xA5, 60);
    guest_mem__write(&fx->gm, BUF(0), pkt, sizeof pkt);
    put_desc(fx, 1, 0, BUF(0), sizeof pkt, 0, 0);
    for (int i = 0; i < 0xFF; i++) {
        make_avail(fx, 1, 0);
        assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    }
    assert_int_equal(used_idx(fx, 1), 0xFF);
    /* The driver fills ring[0xFF % QSZ]; it publishes idx 0x0100 during the device's read. */
    uint16_t head = 0;
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_RING + 2 * (0xFF % QSZ), &head, 2);
    uint64_t hpa, left;
    assert_int_equal(guest_mem__gpa_to_hpa(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_IDX, &hpa, &left), 0);
    memset(&race, 0, sizeof race);
    race.idx = physmem__ptr(&fx->pm, hpa, 2);
    assert_non_null(race.idx);
    race.page = (uint8_t *)((uintptr_t)race.idx & ~(uintptr_t)(PHYSMEM_PAGE_4K - 1));
    race.next = 0x0100;
    race.armed = true;
    struct sigaction sa = {.sa_flags = SA_SIGINFO}, old_segv, old_trap;
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = race_segv;
    assert_int_equal(sigaction(SIGSEGV, &sa, &old_segv), 0);
    sa.sa_sigaction = race_trap;
    assert_int_equal(sigaction(SIGTRAP, &sa, &old_trap), 0);
    assert_int_equal(mprotect(race.page, PHYSMEM_PAGE_4K, PROT_NONE), 0);

    unsigned done = virtio_net__tx_process(fx->vn, 16);

    mprotect(race.page, PHYSMEM_PAGE_4K, PROT_READ | PROT_WRITE);
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGTRAP, &old_trap, NULL);
    assert_int_equal(race.stores, 1);        /* the interleaving really happened */
    assert_true(race.idx_accesses >= 2);     /* the device looked again after the store */
    assert_false(virtio_net__broken(fx->vn)); /* a correct driver is never a guest error */
    assert_int_equal(done, 1);
    assert_int_equal(used_idx(fx, 1), 0x0100);
    assert_int_equal(fx->tx_count, 0x100);
}

/* PCI 3.0 6.2.2: with Bus Master Enable clear the function masters no
 * cycle: no ring read (TX waits), no buffer or used-ring write (RX refused),
 * no MSI.  Setting it again resumes: queued TX goes, the interrupt with it. */
static void set_command(struct fixture *fx, uint16_t cmd)
{
    struct pci_dev *d = virtio_net__pci(fx->vn);
    pci_dev__cfg_write(d, PCI_COMMAND, 2, cmd);
    virtio_net__cfg_written(fx->vn, PCI_COMMAND, 2);
}

static void test_bus_master_off_no_dma(void **state)
{
    struct fixture *fx = *state;
    set_command(fx, PCI_COMMAND_MEMORY);
    /* TX queued while BME is clear: nothing read, nothing sent. */
    struct virtio_net_hdr h = {0};
    uint8_t frame[60];
    memset(frame, 0x5A, sizeof frame);
    guest_mem__write(&fx->gm, BUF(0), &h, sizeof h);
    guest_mem__write(&fx->gm, BUF(1), frame, sizeof frame);
    put_desc(fx, 1, 0, BUF(0), sizeof h, VIRTQ_DESC_F_NEXT, 1);
    put_desc(fx, 1, 1, BUF(1), sizeof frame, 0, 0);
    make_avail(fx, 1, 0);
    w(fx, VIRTIO_NET_NOTIFY_OFF + VIRTIO_NET_TX_VQ * VIRTIO_NET_NOTIFY_MULT, 2, 1);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 0);
    assert_int_equal(fx->tx_count, 0);
    assert_int_equal(used_idx(fx, 1), 0);
    /* RX while BME is clear: refused, the buffer (canary) untouched. */
    uint8_t canary[256], back[256];
    memset(canary, 0xC5, sizeof canary);
    guest_mem__write(&fx->gm, BUF(4), canary, sizeof canary);
    put_desc(fx, 0, 0, BUF(4), 2048, VIRTQ_DESC_F_WRITE, 0);
    make_avail(fx, 0, 0);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), -EIO);
    guest_mem__read(&fx->gm, BUF(4), back, sizeof back);
    assert_memory_equal(back, canary, sizeof canary);
    assert_int_equal(used_idx(fx, 0), 0);
    assert_int_equal(fx->msi_count, 0);
    struct virtio_net_stats st;
    virtio_net__get_stats(fx->vn, &st);
    assert_int_equal(st.rx_blocked, 1);
    /* Bus mastering back: the queued frame goes and is signalled. */
    set_command(fx, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->tx_count, 1);
    assert_memory_equal(fx->sent, frame, sizeof frame);
    assert_int_equal(used_idx(fx, 1), 1);
    assert_int_equal(fx->msi_count, 1);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), 0);
    assert_int_equal(used_idx(fx, 0), 1);
    assert_int_equal(fx->msi_count, 2);
}

/* An interrupt due while BME is clear (a configuration interrupt for a
 * broken ring) is held, not sent, and goes when BME is set again. */
static void test_bus_master_off_msi_held(void **state)
{
    struct fixture *fx = *state;
    set_command(fx, PCI_COMMAND_MEMORY);
    /* A queue enabled outside guest RAM breaks the device: config interrupt. */
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    w(fx, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x10);
    w(fx, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    assert_true(virtio_net__broken(fx->vn));
    assert_int_equal(fx->msi_count, 0);
    struct virtio_net_stats st;
    virtio_net__get_stats(fx->vn, &st);
    assert_int_equal(st.msi_held, 1);
    set_command(fx, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(fx->msi_count, 1);
}

/* INTx as a level (virtio 1.1 4.1.4.5, PCI 3.0 6.2.2 and 6.8.1.3):
 * asserted while ISR has bits, dropped by the driver's ISR read, dropped
 * while Interrupt Disable or MSI is on and raised again when both are off
 * with ISR still pending; never asserted while MSI is on. */
static void test_intx_level(void **state)
{
    struct fixture *fx = *state;
    struct pci_dev *d = virtio_net__pci(fx->vn);
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_FLAGS, 2, 0);
    virtio_net__cfg_written(fx->vn, d->msi_cap + PCI_MSI_FLAGS, 2);
    assert_int_equal(fx->intx_level, 0);
    uint8_t frame[64];
    memset(frame, 0xEE, sizeof frame);
    put_desc(fx, 0, 0, BUF(4), 2048, VIRTQ_DESC_F_WRITE, 0);
    put_desc(fx, 0, 1, BUF(5), 2048, VIRTQ_DESC_F_WRITE, 0);
    make_avail(fx, 0, 0);
    make_avail(fx, 0, 1);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), 0);
    assert_int_equal(fx->intx_level, 1);
    assert_int_equal(fx->msi_count, 0);
    assert_int_equal(r(fx, VIRTIO_NET_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
    assert_int_equal(fx->intx_level, 0);
    assert_int_equal(r(fx, VIRTIO_NET_ISR_OFF, 1), 0);
    assert_int_equal(virtio_net__rx_frame(fx->vn, frame, sizeof frame), 0);
    assert_int_equal(fx->intx_level, 1);
    set_command(fx, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(fx->intx_level, 0);
    set_command(fx, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(fx->intx_level, 1);                 /* ISR still pending */
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    virtio_net__cfg_written(fx->vn, d->msi_cap + PCI_MSI_FLAGS, 2);
    assert_int_equal(fx->intx_level, 0);
    int calls = fx->intx_calls;
    (void)r(fx, VIRTIO_NET_ISR_OFF, 1);
    pci_dev__cfg_write(d, d->msi_cap + PCI_MSI_FLAGS, 2, 0);
    virtio_net__cfg_written(fx->vn, d->msi_cap + PCI_MSI_FLAGS, 2);
    assert_int_equal(fx->intx_level, 0);                 /* nothing pending: stays low */
    assert_true(fx->intx_calls >= calls);
}

/* ---- offloads (virtio 1.2 5.1.3, 5.1.6.2, 5.1.6.4) ---------------------- */
#define OFFLOAD_BITS (1u << VIRTIO_NET_F_CSUM | 1u << VIRTIO_NET_F_GUEST_CSUM | 1u << VIRTIO_NET_F_HOST_TSO4 | \
                      1u << VIRTIO_NET_F_GUEST_TSO4 | 1u << VIRTIO_NET_F_MRG_RXBUF)

/* Reset and initialise again with these low feature bits (VERSION_1 high);
 * whether FEATURES_OK stuck.  Rings start over at index 0. */
static bool renegotiate(struct fixture *fx, uint32_t lo)
{
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    w(fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    w(fx, VIRTIO_PCI_COMMON_GF, 4, lo);
    w(fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    w(fx, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(r(fx, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_FEATURES_OK))
        return false;
    uint16_t zero = 0;
    for (int q = 0; q < 2; q++) {
        guest_mem__write(&fx->gm, AVAIL(q) + VIRTQ_AVAIL_IDX, &zero, 2);
        guest_mem__write(&fx->gm, USED(q) + VIRTQ_USED_IDX, &zero, 2);
        fx->avail_idx[q] = 0;
        setup_queue(fx, q);
    }
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    return true;
}

static uint32_t offered_lo(struct fixture *fx)
{
    w(fx, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    return (uint32_t)r(fx, VIRTIO_PCI_COMMON_DF, 4);
}

/* Each offload on and off, driver side: every one alone (with its
 * 5.1.3.1 dependency) is accepted and is what the device then uses; a
 * dependency missing is refused at FEATURES_OK. */
static void test_offload_negotiation_each(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(offered_lo(fx) & OFFLOAD_BITS, OFFLOAD_BITS);
    const uint32_t sets[] = {
        0, 1u << VIRTIO_NET_F_CSUM, 1u << VIRTIO_NET_F_GUEST_CSUM,
        1u << VIRTIO_NET_F_CSUM | 1u << VIRTIO_NET_F_HOST_TSO4,
        1u << VIRTIO_NET_F_GUEST_CSUM | 1u << VIRTIO_NET_F_GUEST_TSO4,
        1u << VIRTIO_NET_F_MRG_RXBUF, OFFLOAD_BITS,
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        assert_true(renegotiate(fx, sets[i]));
        assert_int_equal(virtio_net__negotiated(fx->vn), sets[i] | 1ull << VIRTIO_F_VERSION_1);
    }
    assert_false(renegotiate(fx, 1u << VIRTIO_NET_F_HOST_TSO4));   /* without CSUM */
    assert_false(renegotiate(fx, 1u << VIRTIO_NET_F_GUEST_TSO4));  /* without GUEST_CSUM */
    assert_int_equal(virtio_net__negotiated(fx->vn), 0);
}

/* Device side: features_off takes offers away (dependencies follow), and
 * a driver asking for one not offered is refused. */
static void test_offload_switched_off_on_device(void **state)
{
    struct fixture *fx = *state;
    uint64_t off = 0;
    assert_int_equal(virtio_net__parse_features_off("bogus", &off), -EINVAL);
    assert_int_equal(virtio_net__parse_features_off("csum,", &off), 0);
    assert_int_equal(off, 1ull << VIRTIO_NET_F_CSUM);
    assert_int_equal(virtio_net__parse_features_off("none", &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(virtio_net__parse_features_off("offloads", &off), 0);
    assert_int_equal(off, OFFLOAD_BITS);
    struct virtio_net *dflt = fx->vn;
    struct virtio_net_params p = {.gm = &fx->gm, .tx = on_tx, .tx_ctx = fx};
    assert_int_equal(virtio_net__parse_features_off("csum,mrg-rxbuf", &p.features_off), 0);
    fx->vn = virtio_net__create(&p);
    pci_dev__cfg_write(virtio_net__pci(fx->vn), PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(offered_lo(fx) & OFFLOAD_BITS,
                     1u << VIRTIO_NET_F_GUEST_CSUM | 1u << VIRTIO_NET_F_GUEST_TSO4); /* HOST_TSO4 went with CSUM */
    assert_false(renegotiate(fx, 1u << VIRTIO_NET_F_CSUM));
    assert_false(renegotiate(fx, 1u << VIRTIO_NET_F_MRG_RXBUF));
    assert_true(renegotiate(fx, 1u << VIRTIO_NET_F_GUEST_CSUM));
    virtio_net__destroy(fx->vn);
    fx->vn = dflt;
}

static size_t tcp_frame(uint8_t *f, size_t plen)
{
    memset(f, 0, 54);
    tf_eth(f, tf_bcast, tf_guest_mac, TF_ETH_IPV4);
    f[0] = 0x02;
    uint8_t *ip = f + 14, *t = f + 34;
    tf_ipv4(ip, (uint16_t)(40 + plen), 0, 0, 6, TF_GUEST_IP, TF_LINUX_IP);
    tf_put32(t + 4, 1000);
    t[12] = 5 << 4;
    t[13] = 0x18;
    for (size_t i = 0; i < plen; i++)
        t[20 + i] = (uint8_t)i;
    return 54 + plen;
}

/* One TX chain: header in BUF(0), frame in BUF(1).. (contiguous). */
static void tx_chain(struct fixture *fx, const struct virtio_net_hdr *h, const uint8_t *f, size_t len)
{
    guest_mem__write(&fx->gm, BUF(0), h, sizeof *h);
    guest_mem__write(&fx->gm, BUF(1), f, len);
    put_desc(fx, 1, 0, BUF(0), sizeof *h, VIRTQ_DESC_F_NEXT, 1);
    put_desc(fx, 1, 1, BUF(1), (uint32_t)len, 0, 0);
    make_avail(fx, 1, 0);
}

/* A TSOv4 header for tcp_frame's frames: Ethernet + IPv4 + TCP, MSS 1460. */
static const struct virtio_net_hdr tso4_hdr = {
    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
    .hdr_len = 54, .gso_size = 1460, .csum_start = 34, .csum_offset = 16};

static void test_tx_tso(void **state)
{
    struct fixture *fx = *state;
    assert_true(renegotiate(fx, 1u << VIRTIO_NET_F_CSUM | 1u << VIRTIO_NET_F_HOST_TSO4));
    static uint8_t f[12000];
    size_t len = tcp_frame(f, 10000);
    struct virtio_net_hdr h = tso4_hdr;
    /* The uplink refuses: segmented here, 7 frames, the last one short. */
    tx_chain(fx, &h, f, len);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->gso_calls, 1);
    assert_int_equal(fx->tx_count, 7);
    assert_int_equal(fx->sent_len, 54 + 10000 - 6 * 1460);
    assert_int_equal(tf_get32(fx->sent + 38), 1000 + 6 * 1460);
    /* The uplink takes it: one hand-off, the plan in the frame's real offsets. */
    fx->gso_accept = true;
    fx->tx_count = 0;
    tx_chain(fx, &h, f, len);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->tx_count, 1);
    assert_int_equal(fx->sent_len, len);
    assert_int_equal(fx->gso_plan.l3_off, 14);
    assert_int_equal(fx->gso_plan.l4_off, 34);
    assert_int_equal(fx->gso_plan.hdr_len, 54);
    assert_int_equal(fx->gso_plan.mss, 1460);
    struct virtio_net_stats st;
    virtio_net__get_stats(fx->vn, &st);
    assert_int_equal(st.tx_gso, 2);
    assert_int_equal(st.tx_gso_whole, 1);
    assert_int_equal(st.tx_frames, 8);
    assert_int_equal(st.tx_hdr_dropped, 0);
}

/* A hostile header drops the frame, counted; the buffer comes back and the
 * device keeps working. */
static void test_tx_hostile_header_contained(void **state)
{
    struct fixture *fx = *state;
    static uint8_t f[4000];
    size_t len = tcp_frame(f, 3000);
    struct virtio_net_hdr gso = tso4_hdr;
    /* Not negotiated (setup took MAC only): dropped. */
    tx_chain(fx, &gso, f, len);
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_true(renegotiate(fx, 1u << VIRTIO_NET_F_CSUM | 1u << VIRTIO_NET_F_HOST_TSO4));
    struct virtio_net_hdr bad[4] = {gso, gso, gso, gso};
    bad[0].gso_size = 0;
    bad[1].hdr_len = 0xFFFF;
    bad[2].csum_offset = 0xFFFF;
    bad[3].gso_type = 0x42;
    for (int i = 0; i < 4; i++) {
        tx_chain(fx, &bad[i], f, len);
        assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
        assert_int_equal(used_idx(fx, 1), i + 1);
    }
    assert_int_equal(fx->tx_count, 0);
    assert_int_equal(fx->gso_calls, 0);
    assert_false(virtio_net__broken(fx->vn));
    struct virtio_net_stats st;
    virtio_net__get_stats(fx->vn, &st);
    assert_int_equal(st.tx_hdr_dropped, 5);
    tx_chain(fx, &gso, f, len); /* a good one still goes */
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 1);
    assert_int_equal(fx->tx_count, 3);
}

static void rx_buffers(struct fixture *fx, unsigned n, uint32_t size)
{
    for (unsigned i = 0; i < n; i++) {
        put_desc(fx, 0, (uint16_t)i, BUF(4 + i), size, VIRTQ_DESC_F_WRITE, 0);
        make_avail(fx, 0, (uint16_t)i);
    }
}

/* 5.1.6.4: a 3000-byte frame over three 1024-byte buffers, num_buffers 3
 * in the first header, the bytes contiguous across them. */
static void test_rx_mergeable(void **state)
{
    struct fixture *fx = *state;
    assert_true(renegotiate(fx, 1u << VIRTIO_NET_F_MRG_RXBUF));
    static uint8_t f[3000], back[3000];
    for (size_t i = 0; i < sizeof f; i++)
        f[i] = (uint8_t)(i * 13);
    rx_buffers(fx, 2, 1024);
    assert_int_equal(virtio_net__rx_frame(fx->vn, f, sizeof f), -ENOSPC); /* 2 KiB is not enough */
    assert_int_equal(used_idx(fx, 0), 0);                                 /* buffers kept */
    put_desc(fx, 0, 2, BUF(6), 1024, VIRTQ_DESC_F_WRITE, 0);
    make_avail(fx, 0, 2);
    assert_int_equal(virtio_net__rx_frame(fx->vn, f, sizeof f), 0);
    assert_int_equal(used_idx(fx, 0), 3);
    struct virtio_net_hdr h;
    guest_mem__read(&fx->gm, BUF(4), &h, sizeof h);
    assert_int_equal(h.num_buffers, 3);
    struct virtq_used_elem e[3];
    guest_mem__read(&fx->gm, USED(0) + VIRTQ_USED_RING, e, sizeof e);
    assert_int_equal(e[0].id, 0);
    assert_int_equal(e[0].len, 1024);
    assert_int_equal(e[1].id, 1);
    assert_int_equal(e[1].len, 1024);
    assert_int_equal(e[2].id, 2);
    assert_int_equal(e[2].len, 12 + 3000 - 2048);
    guest_mem__read(&fx->gm, BUF(4) + 12, back, 1012);
    guest_mem__read(&fx->gm, BUF(5), back + 1012, 1024);
    guest_mem__read(&fx->gm, BUF(6), back + 2036, 3000 - 2036);
    assert_memory_equal(back, f, sizeof f);
    /* A small frame takes one buffer, num_buffers 1. */
    rx_buffers(fx, 1, 1024);
    assert_int_equal(virtio_net__rx_frame(fx->vn, f, 100), 0);
    guest_mem__read(&fx->gm, BUF(4), &h, sizeof h);
    assert_int_equal(h.num_buffers, 1);
    /* A buffer smaller than the header breaks the ring (5.1.6.3.1). */
    rx_buffers(fx, 1, 8);
    assert_int_equal(virtio_net__rx_frame(fx->vn, f, 100), -EIO);
    assert_true(virtio_net__broken(fx->vn));
}

/* Without MRG_RXBUF the same frame needs one buffer of its own size. */
static void test_rx_not_mergeable(void **state)
{
    struct fixture *fx = *state;
    static uint8_t f[3000];
    rx_buffers(fx, 3, 1024);
    assert_int_equal(virtio_net__rx_frame(fx->vn, f, sizeof f), -ENOSPC);
    assert_int_equal(used_idx(fx, 0), 1); /* the first buffer given back empty */
}

/* GUEST_CSUM: DATA_VALID on a frame whose checksums are right, not on a
 * corrupted one; never without GUEST_CSUM (5.1.6.4). */
static void test_rx_data_valid(void **state)
{
    struct fixture *fx = *state;
    static uint8_t f[600];
    size_t len = tcp_frame(f, 500);
    /* finish the TCP checksum as a sender would */
    uint8_t *buf = calloc(1, 12 + len);
    memcpy(buf, f + 26, 8);
    buf[9] = 6;
    tf_put16(buf + 10, (uint16_t)(len - 34));
    memcpy(buf + 12, f + 34, len - 34);
    tf_put16(f + 50, tf_csum(buf, 12 + len - 34));
    free(buf);
    struct virtio_net_hdr h;
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            assert_true(renegotiate(fx, 1u << VIRTIO_NET_F_GUEST_CSUM));
        if (round == 2)
            f[len - 1] ^= 0x55;
        rx_buffers(fx, 1, 2048);
        assert_int_equal(virtio_net__rx_frame(fx->vn, f, len), 0);
        guest_mem__read(&fx->gm, BUF(4), &h, sizeof h);
        assert_int_equal(h.flags, round == 1 ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
        assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        assert_int_equal(h.num_buffers, 1);
    }
}

/* 2.7.10 with EVENT_IDX: the device asks for a notification only when it
 * has drained the ring: a driver adding 5 frames while the device works
 * is asked for none (avail_event stays behind), then for the next one. */
static void start_event_idx(struct fixture *fx)
{
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    w(fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    w(fx, VIRTIO_PCI_COMMON_GF, 4, 1u << VIRTIO_F_EVENT_IDX);
    w(fx, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    w(fx, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    uint16_t zero = 0;
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_IDX, &zero, 2);
    guest_mem__write(&fx->gm, USED(1) + VIRTQ_USED_RING + 8 * QSZ, &zero, 2);
    fx->avail_idx[1] = 0;
    setup_queue(fx, 0);
    setup_queue(fx, 1);
    w(fx, VIRTIO_PCI_COMMON_STATUS, 1, 0x0F);
}

static void test_tx_event_idx_one_kick_per_ring(void **state)
{
    struct fixture *fx = *state;
    start_event_idx(fx);
    uint8_t pkt[sizeof(struct virtio_net_hdr) + 60] = {0};
    guest_mem__write(&fx->gm, BUF(0), pkt, sizeof pkt);
    put_desc(fx, 1, 0, BUF(0), sizeof pkt, 0, 0);
    uint16_t ev;
    for (int i = 0; i < 5; i++)
        make_avail(fx, 1, 0);
    assert_int_equal(virtio_net__tx_process(fx->vn, 2), 2); /* budget: still busy */
    guest_mem__read(&fx->gm, USED(1) + VIRTQ_USED_RING + 8 * QSZ, &ev, 2);
    assert_int_equal(ev, 0); /* not re-armed mid-ring: adds past 0 ask for no kick */
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 3);
    guest_mem__read(&fx->gm, USED(1) + VIRTQ_USED_RING + 8 * QSZ, &ev, 2);
    assert_int_equal(ev, 5); /* drained: the next add (index 5 -> 6) kicks */
    assert_true(virtq__need_event(ev, 6, 5));
}

/* 2.7.10: a driver that stopped on a full ring sets used_event and waits.
 * The device interrupts as soon as the used index passes it, not after it
 * has sent the rest of the ring: otherwise the driver refills only once the
 * whole queue has gone to the wire, and the wire idles meanwhile. */
static void test_tx_event_idx_interrupt_mid_batch(void **state)
{
    struct fixture *fx = *state;
    start_event_idx(fx);
    uint16_t used_event = 1; /* interrupt once the second buffer is used */
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_RING + 2 * QSZ, &used_event, 2);
    uint8_t pkt[sizeof(struct virtio_net_hdr) + 60] = {0};
    guest_mem__write(&fx->gm, BUF(0), pkt, sizeof pkt);
    put_desc(fx, 1, 0, BUF(0), sizeof pkt, 0, 0);
    for (int i = 0; i < 6; i++)
        make_avail(fx, 1, 0);
    int before = fx->msi_count + fx->intx_calls;
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 6);
    assert_int_equal(fx->tx_count, 6);
    /* A buffer is used once copied, before its frame goes out: the second
     * buffer's use crosses used_event, so the interrupt precedes its frame. */
    assert_int_equal(fx->irqs_at_tx[0], before);
    assert_int_equal(fx->irqs_at_tx[1], before + 1);
    assert_int_equal(fx->msi_count + fx->intx_calls, before + 1); /* and only once */
}

/* used_event is the guest's to write: 0 asks at the first buffer, 0xFFFF
 * at the one that takes the used index from 0xFFFF to 0 (2.7.10's
 * arithmetic is mod 2^16), and across that wrap-around exactly once. */
static void set_used_event(struct fixture *fx, uint16_t ev)
{
    guest_mem__write(&fx->gm, AVAIL(1) + VIRTQ_AVAIL_RING + 2 * QSZ, &ev, 2);
}

static void test_tx_used_event_bounds(void **state)
{
    struct fixture *fx = *state;
    start_event_idx(fx);
    uint8_t pkt[sizeof(struct virtio_net_hdr) + 60] = {0};
    guest_mem__write(&fx->gm, BUF(0), pkt, sizeof pkt);
    put_desc(fx, 1, 0, BUF(0), sizeof pkt, 0, 0);
    set_used_event(fx, 0);
    for (int i = 0; i < 3; i++)
        make_avail(fx, 1, 0);
    int before = fx->msi_count + fx->intx_calls;
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 3);
    assert_int_equal(fx->irqs_at_tx[0], before + 1); /* the first buffer crossed 0 */
    assert_int_equal(fx->msi_count + fx->intx_calls, before + 1);
    /* 0xFFFF: not until the used index wraps; run it up to 0xFFFE */
    set_used_event(fx, 0xFFFF);
    before = fx->msi_count + fx->intx_calls;
    for (unsigned used = 3; used < 0xFFFE; used++) {
        make_avail(fx, 1, 0);
        assert_int_equal(virtio_net__tx_process(fx->vn, 1), 1);
    }
    assert_int_equal(used_idx(fx, 1), 0xFFFE);
    assert_int_equal(fx->msi_count + fx->intx_calls, before);
    fx->tx_count = 0;
    for (int i = 0; i < 3; i++)
        make_avail(fx, 1, 0); /* used 0xFFFE -> 0xFFFF -> 0 -> 1 */
    assert_int_equal(virtio_net__tx_process(fx->vn, 16), 3);
    assert_int_equal(used_idx(fx, 1), 1);
    assert_int_equal(fx->irqs_at_tx[0], before);
    assert_int_equal(fx->irqs_at_tx[1], before + 1); /* 0xFFFF -> 0 crossed it */
    assert_int_equal(fx->msi_count + fx->intx_calls, before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_features_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_master_off_no_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_master_off_msi_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intx_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_frame_with_header_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_frame_and_no_buffer_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_4gib_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_length_chain_is_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_outside_ram_refused_at_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_published_during_device_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offload_negotiation_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offload_switched_off_on_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_hostile_header_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_not_mergeable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_data_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_event_idx_one_kick_per_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_event_idx_interrupt_mid_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_used_event_bounds, setup, teardown),
    };
    return cmocka_run_group_tests_name("hv/virtio_net", tests, NULL, NULL);
}
