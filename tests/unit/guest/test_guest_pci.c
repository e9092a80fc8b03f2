/* guest/pci/pci.c (host build) against a fake configuration space: bus 0
 * scan incl. multifunction, BAR sizing protocol (decode off, restore),
 * 32/64-bit and I/O BARs, capability walk (bounded on a looping list), MSI
 * and MSI-X programming, enabling decode + bus mastering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/pci/pci.c"

struct fake_fn {
    bool present;
    uint8_t cfg[256];
    uint64_t bar_size[6];    /* 0 = unimplemented; for 64-bit: on the low BAR */
    bool sized_with_decode_on;
    bool holey;              /* BAR0 reads back with bit 20 stuck at 0 */
};

struct fake {
    struct fake_fn fn[32][8];
    unsigned reads, writes;
};

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static uint32_t fake_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    struct fake *f = ctx;
    f->reads++;
    assert_int_equal(off & 3, 0);
    if (bus || dev >= 32 || fn >= 8 || !f->fn[dev][fn].present || off >= 256)
        return 0xFFFFFFFFu;
    return get32(&f->fn[dev][fn].cfg[off]);
}

static void fake_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    struct fake *f = ctx;
    f->writes++;
    if (bus || !f->fn[dev][fn].present || off >= 256)
        return;
    struct fake_fn *x = &f->fn[dev][fn];
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
        unsigned i = (off - PCI_BAR0) / 4;
        uint32_t flags_lo = get32(&x->cfg[off]) & 0xF;
        if (v == 0xFFFFFFFFu && (get32(&x->cfg[PCI_COMMAND]) & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO)))
            x->sized_with_decode_on = true;
        if (i > 0 && x->bar_size[i] == 0 && (get32(&x->cfg[off - 4]) & 7) == PCI_BAR_MEM_TYPE_64 &&
            x->bar_size[i - 1]) {
            uint64_t mask = ~(x->bar_size[i - 1] - 1);
            put32(&x->cfg[off], v & (uint32_t)(mask >> 32));
            return;
        }
        if (!x->bar_size[i]) {
            put32(&x->cfg[off], 0);
            return;
        }
        uint32_t mask = (uint32_t)~(x->bar_size[i] - 1);
        if (x->holey)
            mask &= ~(1u << 20);
        put32(&x->cfg[off], (v & mask & ~0xFu) | flags_lo);
        return;
    }
    if (off == PCI_COMMAND) { /* Status is RW1C: ignore high half */
        put16(&x->cfg[off], (uint16_t)v);
        return;
    }
    if (off == 0 || off == 8 || off == 0x2C)
        return; /* read-only IDs */
    put32(&x->cfg[off], v);
}

static const struct pci_cfg_ops fake_ops = {.read32 = fake_read, .write32 = fake_write};

static struct fake_fn *mkfn(struct fake *f, unsigned dev, unsigned fn, uint16_t ven, uint16_t id,
                            uint32_t class_rev, uint8_t htype)
{
    struct fake_fn *x = &f->fn[dev][fn];
    x->present = true;
    put32(&x->cfg[0], (uint32_t)id << 16 | ven);
    put32(&x->cfg[8], class_rev);
    x->cfg[PCI_HEADER_TYPE] = htype;
    return x;
}

static void add_cap(struct fake_fn *x, uint8_t at, uint8_t id, uint8_t next)
{
    x->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    if (!x->cfg[PCI_CAPABILITY_LIST])
        x->cfg[PCI_CAPABILITY_LIST] = at;
    x->cfg[at] = id;
    x->cfg[at + 1] = next;
}

struct fixture {
    struct fake f;
    void *msix_bar;
    struct pci_bus bus;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct fake *f = &fx->f;
    mkfn(f, 0, 0, 0x8086, 0x1237, 0x06000002, 0);                     /* host bridge */
    struct fake_fn *e = mkfn(f, 3, 0, 0x8086, 0x100E, 0x02000003, 0);  /* e1000 */
    put32(&e->cfg[0x10], 0xFEBC0000u);
    e->bar_size[0] = 0x20000;
    put32(&e->cfg[0x14], 0xC001u);
    e->bar_size[1] = 0x40;
    put32(&e->cfg[PCI_COMMAND], PCI_COMMAND_MEMORY | 0x00100000u /* status: cap list */);
    e->cfg[PCI_INTERRUPT_LINE] = 11;
    e->cfg[PCI_INTERRUPT_PIN] = 1;
    add_cap(e, 0x50, PCI_CAP_ID_MSI, 0);
    put16(&e->cfg[0x52], PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
    put32(&e->cfg[0x60], 0xFFFFFFFFu); /* MSI mask register: all masked */

    /* Multifunction device 4: fn0 virtio-net (64-bit BAR4 + MSI-X), fn2 other. */
    fx->msix_bar = aligned_alloc(0x4000, 0x4000);
    memset(fx->msix_bar, 0, 0x4000);
    uint64_t va = (uint64_t)(uintptr_t)fx->msix_bar;
    struct fake_fn *v = mkfn(f, 4, 0, 0x1AF4, 0x1041, 0x02000001, PCI_HEADER_MULTIFUNCTION);
    put32(&v->cfg[0x20], (uint32_t)va | PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
    put32(&v->cfg[0x24], (uint32_t)(va >> 32));
    v->bar_size[4] = 0x4000;
    add_cap(v, 0x40, PCI_CAP_ID_MSIX, 0x60);
    put16(&v->cfg[0x42], 2);                /* 3 entries */
    put32(&v->cfg[0x44], 0x2000 | 4);       /* table at BAR4 + 0x2000 */
    add_cap(v, 0x60, PCI_CAP_ID_VNDR, 0x70);
    add_cap(v, 0x70, PCI_CAP_ID_VNDR, 0);
    mkfn(f, 4, 2, 0x1234, 0x0002, 0xFF000000, 0);

    /* Device 7: looping capability list, 64-bit BAR in the last slot. */
    struct fake_fn *bad = mkfn(f, 7, 0, 0x1234, 0x0007, 0xFF000000, 0);
    add_cap(bad, 0x40, 0x01, 0x40);
    put32(&bad->cfg[0x24], 0xE0000000u | PCI_BAR_MEM_TYPE_64);
    bad->bar_size[5] = 0x1000;

    /* Device 10: a BAR whose read-back has a hole above the size bit. */
    struct fake_fn *holey = mkfn(f, 10, 0, 0x1234, 0x000A, 0xFF000000, 0);
    put32(&holey->cfg[0x10], 0xE0000000u);
    holey->bar_size[0] = 0x1000;
    holey->holey = true;

    /* Device 9: not multifunction, so fn1 must not be scanned. */
    mkfn(f, 9, 0, 0x1234, 0x0009, 0xFF000000, 0);
    mkfn(f, 9, 1, 0x1234, 0x0091, 0xFF000000, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    free(fx->msix_bar);
    free(fx);
    return 0;
}

static struct pci_dev *find(struct fixture *fx, uint16_t dev_id)
{
    for (unsigned i = 0; i < fx->bus.ndevs; i++)
        if (fx->bus.devs[i].device == dev_id)
            return &fx->bus.devs[i];
    return NULL;
}

static void test_scan_finds_functions(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(pci__enumerate(&fx->bus, &fake_ops, &fx->f), 7);
    assert_non_null(find(fx, 0x1237));
    assert_non_null(find(fx, 0x0002));          /* fn 2 of a multifunction device */
    assert_null(find(fx, 0x0091));              /* fn 1 of a single-function device */
    struct pci_dev *e = find(fx, 0x100E);
    assert_int_equal(e->dev, 3);
    assert_int_equal(e->class_code, 0x02);
    assert_int_equal(e->revision, 3);
    assert_int_equal(e->irq_line, 11);
    assert_int_equal(e->irq_pin, 1);
    assert_ptr_equal(pci__find(&fx->bus, 0x8086, 0x100E), e);
    e->claimed = true;
    assert_null(pci__find(&fx->bus, 0x8086, 0x100E));
}

static void test_bar_sizing(void **state)
{
    struct fixture *fx = *state;
    pci__enumerate(&fx->bus, &fake_ops, &fx->f);
    struct pci_dev *e = find(fx, 0x100E);
    assert_int_equal(e->bar[0].addr, 0xFEBC0000u);
    assert_int_equal(e->bar[0].size, 0x20000);
    assert_false(e->bar[0].io);
    assert_true(e->bar[1].io);
    assert_int_equal(e->bar[1].addr, 0xC000);
    assert_int_equal(e->bar[1].size, 0x40);
    assert_int_equal(e->bar[2].size, 0);
    /* Decode was off while sizing; BARs and command restored. */
    assert_false(fx->f.fn[3][0].sized_with_decode_on);
    assert_int_equal(get32(&fx->f.fn[3][0].cfg[0x10]), 0xFEBC0000u);
    assert_int_equal(get32(&fx->f.fn[3][0].cfg[0x14]), 0xC001u);
    assert_int_equal(fx->f.fn[3][0].cfg[PCI_COMMAND], PCI_COMMAND_MEMORY);
    struct pci_dev *v = find(fx, 0x1041);
    assert_true(v->bar[4].is64);
    assert_true(v->bar[4].prefetch);
    assert_int_equal(v->bar[4].addr, (uint64_t)(uintptr_t)fx->msix_bar);
    assert_int_equal(v->bar[4].size, 0x4000);
    assert_int_equal(v->bar[5].size, 0); /* upper half is not a BAR */
    struct pci_dev *bad = find(fx, 0x0007);
    assert_int_equal(bad->bar[5].size, 0); /* 64-bit BAR in slot 5 refused */
    assert_int_equal(find(fx, 0x000A)->bar[0].size, 0); /* holes above the size bit refused */
}

static void test_capabilities(void **state)
{
    struct fixture *fx = *state;
    pci__enumerate(&fx->bus, &fake_ops, &fx->f);
    struct pci_dev *v = find(fx, 0x1041);
    assert_int_equal(v->cap_msix, 0x40);
    assert_int_equal(v->cap_msi, 0);
    uint8_t c = pci__find_cap(v, PCI_CAP_ID_VNDR, 0);
    assert_int_equal(c, 0x60);
    assert_int_equal(pci__find_cap(v, PCI_CAP_ID_VNDR, c), 0x70);
    assert_int_equal(pci__find_cap(v, PCI_CAP_ID_VNDR, 0x70), 0);
    struct pci_dev *bad = find(fx, 0x0007);
    unsigned before = fx->f.reads;
    assert_int_equal(pci__find_cap(bad, PCI_CAP_ID_MSI, 0), 0);
    assert_true(fx->f.reads - before < 2 * PCI_CAP_WALK_MAX + 4);
}

static void test_enable_and_msi(void **state)
{
    struct fixture *fx = *state;
    pci__enumerate(&fx->bus, &fake_ops, &fx->f);
    struct pci_dev *e = find(fx, 0x100E);
    pci__enable(e);
    uint8_t *cfg = fx->f.fn[3][0].cfg;
    uint16_t cmd = (uint16_t)get32(&cfg[PCI_COMMAND]);
    assert_true(cmd & PCI_COMMAND_MEMORY);
    assert_true(cmd & PCI_COMMAND_MASTER);
    assert_true(cmd & PCI_COMMAND_IO);
    assert_int_equal(pci__msi_enable(e, 0xFEE00000u, 0x31), 0);
    assert_int_equal(get32(&cfg[0x54]), 0xFEE00000u);
    assert_int_equal(get32(&cfg[0x58]), 0);
    assert_int_equal(get32(&cfg[0x5C]) & 0xFFFF, 0x31);
    assert_int_equal(get32(&cfg[0x60]), 0);      /* vector unmasked */
    assert_true(get32(&cfg[0x50]) >> 16 & PCI_MSI_FLAGS_ENABLE);
    assert_true(get32(&cfg[PCI_COMMAND]) & PCI_COMMAND_INTX_DISABLE);
    struct pci_dev *host = find(fx, 0x1237);
    assert_int_equal(pci__msi_enable(host, 0xFEE00000u, 0x31), -ENODEV);
}

static void test_msix(void **state)
{
    struct fixture *fx = *state;
    pci__enumerate(&fx->bus, &fake_ops, &fx->f);
    struct pci_dev *v = find(fx, 0x1041);
    assert_int_equal(pci__msix_size(v), 3);
    volatile uint32_t *t = (uint32_t *)((uint8_t *)fx->msix_bar + 0x2000);
    t[2 * 4 + 3] = 1;
    assert_int_equal(pci__msix_set(v, 2, 0xFEE00000u, 0x42), 0);
    assert_int_equal(t[2 * 4 + 0], 0xFEE00000u);
    assert_int_equal(t[2 * 4 + 1], 0);
    assert_int_equal(t[2 * 4 + 2], 0x42);
    assert_int_equal(t[2 * 4 + 3], 0); /* unmasked */
    assert_int_equal(pci__msix_set(v, 3, 0xFEE00000u, 0x43), -EINVAL);
    assert_int_equal(pci__msix_enable(v), 0);
    uint16_t flags = (uint16_t)(get32(&fx->f.fn[4][0].cfg[0x40]) >> 16);
    assert_true(flags & PCI_MSIX_FLAGS_ENABLE);
    /* A table that does not fit in its BAR is refused. */
    put32(&fx->f.fn[4][0].cfg[0x44], 0x3FF8 | 4);
    assert_int_equal(pci__msix_set(v, 0, 0xFEE00000u, 0x42), -EINVAL);
    put32(&fx->f.fn[4][0].cfg[0x44], 0x0 | 6); /* BIR 6 is invalid */
    assert_int_equal(pci__msix_set(v, 0, 0xFEE00000u, 0x42), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_finds_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_and_msi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
    };
    return cmocka_run_group_tests_name("guest_pci", tests, NULL, NULL);
}
