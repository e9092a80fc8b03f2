/* hv/mptable: the MP table (MP spec 1.4 ch. 4) read back the way Linux's
 * arch/x86/kernel/mpparse.c reads it: the floating pointer found by a
 * 16-byte scan of 0xF0000-0xFFFFF with its checksum, length and revision;
 * the table's signature, checksum, revision, local APIC address, and the
 * entries walked by their lengths up to the table's length, counted
 * against oemcount.  Then what they say: one BSP, PCI and ISA buses, the
 * I/O APIC, ISA IRQ 0 on input 2, no IRQ 2, each PCI pin on its line with
 * no ISA entry on that input, ExtINT/NMI on LINT0/1.  Hostile inputs are
 * refused before a byte is written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/mptable.h"
#include "hw/physmem.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

struct parsed {
    unsigned cpus, buses, ioapics, intsrc, lintsrc, entries;
    uint8_t pci_bus, isa_bus, ioapic_id;
    int isa_pin[16];             /* ISA IRQ -> input, -1 none */
    int pin_users[24];
    struct mpc_intsrc pci[MPTABLE_MAX_PCI_IRQS];
    unsigned npci;
    struct mpc_intsrc lint[4];
};

/* smp_check_mpc + smp_read_mpc, with the checks turned into asserts. */
static void parse(const uint8_t *table, struct parsed *p)
{
    const struct mpc_table *mpc = (const void *)table;
    memset(p, 0, sizeof *p);
    memset(p->isa_pin, 0xFF, sizeof p->isa_pin);
    assert_memory_equal(mpc->signature, "PCMP", 4);
    assert_int_equal(sum8(table, mpc->length), 0);
    assert_int_equal(mpc->spec, 4);
    assert_int_equal(mpc->lapic, 0xFEE00000u);
    assert_int_equal(mpc->oemptr, 0);
    assert_int_equal(mpc->ext_length, 0);
    size_t off = sizeof *mpc;
    p->pci_bus = p->isa_bus = 0xFF;
    while (off < mpc->length) {
        const uint8_t *e = table + off;
        p->entries++;
        switch (e[0]) {
        case MP_PROCESSOR: {
            const struct mpc_cpu *c = (const void *)e;
            assert_int_equal(c->apicid, 0);
            assert_int_equal(c->apicver, 0x14);
            assert_int_equal(c->cpuflag, CPU_ENABLED | CPU_BOOTPROCESSOR);
            p->cpus++;
            off += sizeof *c;
            break;
        }
        case MP_BUS: {
            const struct mpc_bus *b = (const void *)e;
            if (!memcmp(b->bustype, "PCI   ", 6))
                p->pci_bus = b->busid;
            else if (!memcmp(b->bustype, "ISA   ", 6))
                p->isa_bus = b->busid;
            else
                fail_msg("bus type %.6s", b->bustype);
            p->buses++;
            off += sizeof *b;
            break;
        }
        case MP_IOAPIC: {
            const struct mpc_ioapic *io = (const void *)e;
            assert_int_equal(io->apicaddr, 0xFEC00000u);
            assert_int_equal(io->apicver, 0x11);
            assert_int_equal(io->flags, MPC_APIC_USABLE);
            assert_true(io->apicid != 0); /* not the BSP's local APIC id */
            p->ioapic_id = io->apicid;
            p->ioapics++;
            off += sizeof *io;
            break;
        }
        case MP_INTSRC: {
            const struct mpc_intsrc *s = (const void *)e;
            assert_int_equal(s->irqtype, mp_INT);
            assert_int_equal(s->irqflag, 0);           /* conforms to the bus */
            assert_int_equal(s->dstapic, p->ioapic_id); /* the I/O APIC came first */
            assert_true(s->dstirq < 24);
            p->pin_users[s->dstirq]++;
            if (s->srcbus == p->isa_bus) {
                assert_true(s->srcbusirq < 16);
                assert_int_equal(p->isa_pin[s->srcbusirq], -1);
                p->isa_pin[s->srcbusirq] = s->dstirq;
            } else {
                assert_int_equal(s->srcbus, p->pci_bus);
                p->pci[p->npci++] = *s;
            }
            p->intsrc++;
            off += sizeof *s;
            break;
        }
        case MP_LINTSRC: {
            const struct mpc_intsrc *s = (const void *)e;
            assert_true(p->lintsrc < 4);
            p->lint[p->lintsrc++] = *s;
            off += sizeof *s;
            break;
        }
        default:
            fail_msg("unknown entry type %u at %zu", e[0], off);
        }
    }
    assert_int_equal(off, mpc->length);
    assert_int_equal(p->entries, mpc->oemcount);
}

static void check_common(const struct parsed *p)
{
    assert_int_equal(p->cpus, 1);
    assert_int_equal(p->buses, 2);
    assert_int_equal(p->pci_bus, 0);
    assert_int_equal(p->isa_bus, 1);
    assert_int_equal(p->ioapics, 1);
    assert_int_equal(p->isa_pin[0], 2);  /* the PIT */
    assert_int_equal(p->isa_pin[2], -1); /* the cascade */
    assert_int_equal(p->isa_pin[1], 1);
    assert_int_equal(p->isa_pin[4], 4);
    assert_int_equal(p->isa_pin[8], 8);
    for (unsigned pin = 0; pin < 24; pin++)
        assert_true(p->pin_users[pin] <= 1); /* no input claimed twice */
    assert_int_equal(p->lintsrc, 2);
    assert_int_equal(p->lint[0].irqtype, mp_ExtINT);
    assert_int_equal(p->lint[0].dstirq, 0);
    assert_int_equal(p->lint[0].dstapic, 0xFF);
    assert_int_equal(p->lint[1].irqtype, mp_NMI);
    assert_int_equal(p->lint[1].dstirq, 1);
}

static const uint8_t *check_mpf(const uint8_t *block, uint32_t gpa)
{
    const struct mpf_intel *mpf = (const void *)block;
    assert_memory_equal(mpf->signature, "_MP_", 4);
    assert_int_equal(mpf->length, 1);
    assert_int_equal(mpf->specification, 4);
    assert_int_equal(sum8(block, 16), 0);
    assert_int_equal(mpf->feature1, 0);
    assert_true(mpf->physptr >= gpa + 16);
    return block + (mpf->physptr - gpa);
}

static void test_one_nic(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    const struct mptable_pci_irq nic = {.dev = 2, .pin = 1, .line = 11};
    long n = mptable__build(buf, sizeof buf, 0xFF000, &nic, 1);
    assert_true(n > 0 && (size_t)n <= mptable__max_size(1));
    struct parsed p;
    parse(check_mpf(buf, 0xFF000), &p);
    check_common(&p);
    assert_int_equal(p.isa_pin[11], -1);  /* the NIC's input is not ISA IRQ 11's */
    assert_int_equal(p.npci, 1);
    assert_int_equal(p.pci[0].srcbusirq, 2 << 2 | 0); /* device 2, INTA# */
    assert_int_equal(p.pci[0].dstirq, 11);
    assert_int_equal(p.intsrc, 14 + 1);   /* ISA 0,1,3..10,12..15 and the NIC */
}

static void test_no_pci_and_many(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    long n = mptable__build(buf, sizeof buf, 0xF0000, NULL, 0);
    assert_true(n > 0);
    struct parsed p;
    parse(check_mpf(buf, 0xF0000), &p);
    check_common(&p);
    assert_int_equal(p.intsrc, 15);
    for (unsigned irq = 3; irq < 16; irq++)
        assert_int_equal(p.isa_pin[irq], (int)irq);

    /* every pin of every device, on inputs 16-23 and the free ISA ones */
    static struct mptable_pci_irq all[MPTABLE_MAX_PCI_IRQS];
    static const uint8_t lines[] = {16, 17, 18, 19, 20, 21, 22, 23, 5, 9, 10, 11};
    for (unsigned i = 0; i < MPTABLE_MAX_PCI_IRQS; i++)
        all[i] = (struct mptable_pci_irq){.dev = (uint8_t)(i / 4), .pin = (uint8_t)(i % 4 + 1),
                                          .line = lines[i % sizeof lines]};
    n = mptable__build(buf, sizeof buf, 0xF0000, all, MPTABLE_MAX_PCI_IRQS);
    assert_true(n > 0 && (size_t)n <= mptable__max_size(MPTABLE_MAX_PCI_IRQS));
    const struct mpc_table *mpc = (const void *)(buf + 16);
    assert_int_equal(sum8(buf + 16, mpc->length), 0);
    assert_int_equal(mpc->oemcount, 1 + 2 + 1 + (15 - 4) + MPTABLE_MAX_PCI_IRQS + 2);
}

/* Hostile or broken inputs: refused, and the buffer past the refusal is
 * never the caller's problem (nothing read out of bounds under ASan). */
static void test_refused_inputs(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    struct mptable_pci_irq ok = {.dev = 2, .pin = 1, .line = 11}, bad;
    static struct mptable_pci_irq many[MPTABLE_MAX_PCI_IRQS + 1];
    for (unsigned i = 0; i <= MPTABLE_MAX_PCI_IRQS; i++)
        many[i] = (struct mptable_pci_irq){.dev = (uint8_t)(i / 4 % 32), .pin = (uint8_t)(i % 4 + 1), .line = 16};
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, many, MPTABLE_MAX_PCI_IRQS + 1), -E2BIG);
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, many, UINT32_MAX), -E2BIG);
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, NULL, 1), -EINVAL);
    bad = ok, bad.pin = 0;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    bad = ok, bad.pin = 5;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    bad = ok, bad.dev = 32;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    bad = ok, bad.line = 24;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    bad = ok, bad.line = 255;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    static const uint8_t fixed[] = {0, 1, 2, 4, 8};
    for (unsigned i = 0; i < sizeof fixed; i++) {
        bad = ok, bad.line = fixed[i];
        assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, &bad, 1), -EINVAL);
    }
    struct mptable_pci_irq twice[2] = {ok, ok};
    twice[1].line = 12;
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0000, twice, 2), -EINVAL);
    assert_int_equal(mptable__build(buf, sizeof buf, 0xF0008, &ok, 1), -EINVAL);     /* unaligned */
    assert_int_equal(mptable__build(buf, sizeof buf, 0xFFFFFFF0u, &ok, 1), -EINVAL); /* past 4 GiB */
    assert_int_equal(mptable__build(buf, mptable__max_size(1) - 1, 0xF0000, &ok, 1), -ENOSPC);
    assert_int_equal(mptable__build(NULL, 0, 0xF0000, &ok, 1), -ENOSPC);
    assert_true(mptable__build(buf, mptable__max_size(1), 0xF0000, &ok, 1) > 0);
}

/* Into guest memory: a guest whose RAM starts at 1 MiB gets nothing (and
 * nothing fails); one with RAM below 1 MiB gets it at the top of the BIOS
 * area, where Linux's 16-byte scan of 0xF0000-0xFFFFF finds it. */
static void test_write_into_guest(void **state)
{
    (void)state;
    struct physmem pm;
    assert_int_equal(physmem__init(&pm, 16ull << 20), 0);
    uint64_t hpa[2];
    assert_int_equal(physmem__alloc_scattered(&pm, 4ull << 20, PHYSMEM_PAGE_2M, hpa), 0);
    const struct mptable_pci_irq nic = {.dev = 2, .pin = 1, .line = 11};

    struct vcpu_memmap high;
    vcpu_memmap__init(&high, &pm);
    assert_int_equal(vcpu_memmap__add_ram(&high, 0x100000, hpa[0], PHYSMEM_PAGE_2M), 0);
    uint32_t at = 0;
    assert_int_equal(mptable__write(&high, &nic, 1, &at), -ENOENT);
    assert_int_equal(at, 0);
    vcpu_memmap__destroy(&high);

    struct vcpu_memmap low;
    vcpu_memmap__init(&low, &pm);
    assert_int_equal(vcpu_memmap__add_ram(&low, 0, hpa[1], PHYSMEM_PAGE_2M), 0);
    /* the reset vector's 16 bytes (a loader's stub there) stay untouched */
    static const uint8_t stub[16] = {0x2e, 0x0f, 0x01, 0x1e, 0xf8, 0xff, 0xcc, 0xf4, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(vcpu_memmap__write(&low, 0xFFFF0, stub, sizeof stub), 0);
    assert_int_equal(mptable__write(&low, &nic, 1, &at), 0);
    assert_true(at >= 0xF0000 && at + mptable__max_size(1) <= 0xFFFF0 && at % 16 == 0);
    assert_true(0x100000 - at < 0x400); /* at the top of the area */
    uint8_t back[16];
    assert_int_equal(vcpu_memmap__read(&low, 0xFFFF0, back, sizeof back), 0);
    assert_memory_equal(back, stub, sizeof stub);
    uint8_t *bios = vcpu_memmap__ram_ptr(&low, 0xF0000, 0x10000);
    assert_non_null(bios);
    uint32_t found = 0;
    for (uint32_t a = 0xF0000; a < 0x100000; a += 16)
        if (!memcmp(bios + (a - 0xF0000), "_MP_", 4) && !sum8(bios + (a - 0xF0000), 16)) {
            found = a;
            break;
        }
    assert_int_equal(found, at);
    struct parsed p;
    parse(check_mpf(bios + (at - 0xF0000), at), &p);
    check_common(&p);
    assert_int_equal(p.npci, 1);
    vcpu_memmap__destroy(&low);
    physmem__destroy(&pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_nic),
        cmocka_unit_test(test_no_pci_and_many),
        cmocka_unit_test(test_refused_inputs),
        cmocka_unit_test(test_write_into_guest),
    };
    return cmocka_run_group_tests_name("hv/mptable", tests, NULL, NULL);
}
