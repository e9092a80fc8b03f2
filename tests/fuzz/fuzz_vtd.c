/* Fuzz the VT-d model as software and devices see it: the input is a
 * configuration byte, then a sequence of operations -- register reads and
 * writes, 8-byte stores into a small host memory (where the root, context
 * and page tables, the invalidation queue and the IR table live), DMA
 * translations, DMA transfers and interrupt remapping requests.
 *
 * Invariants checked after each operation:
 *  - a successful translation keeps the page offset, returns page_left in
 *    (0, 1 GiB], and an HPA below 2^HAW (== the IOVA when TE is off);
 *  - a refused translation / remap returns a known fault reason and adds
 *    exactly one recorded-or-dropped fault; a DMA adds at most one, and
 *    none when it succeeds;
 *  - statistics are monotonic and hits + misses never exceed lookups;
 *  - GCMD reads 0.
 * Memory outside physmem is never touched (ASan / unmapped pages). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"

#define MEM_SIZE (2ull << 20)


static void check(int ok)
{
    if (!ok)
        abort();
}

static void msi_sink(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    (void)ctx; (void)rid; (void)addr; (void)data;
}

static uint64_t faults(const struct vtd_stats *s) { return s->faults_recorded + s->faults_dropped; }

static void check_stats(const struct vtd_stats *prev, const struct vtd_stats *s)
{
    check(s->translations >= prev->translations);
    check(s->iotlb_hits >= prev->iotlb_hits && s->iotlb_misses >= prev->iotlb_misses);
    check(s->cc_hits >= prev->cc_hits && s->cc_misses >= prev->cc_misses);
    check(faults(s) >= faults(prev));
    check(s->iotlb_hits + s->iotlb_misses <= s->translations);
    check(s->cc_hits + s->cc_misses <= s->translations);
    check(s->ir_faults <= s->ir_requests);
    check(faults(s) <= s->translations + s->ir_requests);
}

static bool valid_dma_reason(int r) { return r <= -0x1 && r >= -0xD; }
static bool valid_ir_reason(int r) { return r <= -0x20 && r >= -0x26; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct physmem pm;
    static int ready;
    if (!ready) {
        log__set_quiet(1);
        if (physmem__init(&pm, MEM_SIZE) != 0)
            abort();
        ready = 1;
    }
    memset(pm.base, 0, pm.size);

    struct in in = {data, size};
    uint8_t c = (uint8_t)take(&in, 1);
    struct vtd_config cfg = {
        .sagaw = (uint8_t)((c & 3) == 1 ? 0x2 : (c & 3) == 2 ? 0x4 : 0),
        .superpages = (c >> 2) & 1,
        .nr_fault_regs = 1 + ((c >> 3) & 3),
        .iotlb_entries = 4u << ((c >> 5) & 7), /* 4 .. 512: evictions happen */
    };
    struct vtd *v = vtd__create(&pm, &cfg);
    check(v != NULL);
    struct irq_sink sink = {.msi = msi_sink};
    vtd__set_fault_irq(v, &sink);
    struct vtd_stats prev = {0}, s;
    unsigned ops = 0;

    while (in.n && ops++ < 4096) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 7) {
        case 0: { /* register write */
            static const unsigned sizes[4] = {1, 2, 4, 8};
            uint64_t off = take(&in, 2) & 0x1FFF; /* also past the window */
            unsigned sz = sizes[(op >> 3) & 3];
            vtd_mmio_ops.write(v, off, sz, take(&in, 8));
            break;
        }
        case 1: { /* register read */
            static const unsigned sizes[4] = {1, 2, 4, 8};
            uint64_t off = take(&in, 2) & 0x1FFF;
            (void)vtd_mmio_ops.read(v, off, sizes[(op >> 3) & 3]);
            check(vtd_mmio_ops.read(v, VTD_REG_GCMD, 4) == 0);
            break;
        }
        case 2: { /* store into memory (tables, queue, IRT) */
            uint64_t a = take(&in, 3) & ~7ull;
            uint64_t val = take(&in, 8);
            physmem__write(&pm, a, &val, 8); /* may be refused: outside */
            break;
        }
        case 3: { /* translate */
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t iova = take(&in, (op >> 3) & 1 ? 8 : 4);
            bool w = op & 0x80;
            bool te = vtd_mmio_ops.read(v, VTD_REG_GSTS, 4) & VTD_GSTS_TES;
            struct vtd_stats before;
            vtd__get_stats(v, &before);
            uint64_t hpa = 0, left = 0;
            int r = vtd__translate(v, sid, iova, w, &hpa, &left);
            vtd__get_stats(v, &s);
            if (r == 0) {
                check((hpa & 0xFFF) == (iova & 0xFFF));
                check(left > 0 && left <= (1ull << 30));
                check(te ? hpa < (1ull << VTD_MODEL_HAW) || hpa == iova : hpa == iova);
                check(faults(&s) == faults(&before));
            } else {
                check(valid_dma_reason(r));
                check(faults(&s) == faults(&before) + 1);
            }
            break;
        }
        case 4: { /* DMA */
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t iova = take(&in, 4);
            size_t len = (size_t)(take(&in, 2) & 0x3FFF);
            static uint8_t buf[0x4000];
            struct vtd_stats before;
            vtd__get_stats(v, &before);
            int r = (op & 0x80) ? vtd__dma_write(v, sid, iova, buf, len)
                                : vtd__dma_read(v, sid, iova, buf, len);
            vtd__get_stats(v, &s);
            check(r == 0 || r == -14 /* EFAULT */);
            check(faults(&s) <= faults(&before) + 1);
            if (r == 0)
                check(faults(&s) == faults(&before));
            break;
        }
        case 5: { /* interrupt remapping */
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t addr = take(&in, 4);
            if (op & 0x80)
                addr = 0xFEE00000ull | (addr & 0xFFFFF);
            uint32_t d = (uint32_t)take(&in, (op >> 3) & 1 ? 4 : 2);
            struct vtd_stats before;
            vtd__get_stats(v, &before);
            struct vtd_msi m;
            int r = vtd__remap_msi(v, sid, addr, d, &m);
            vtd__get_stats(v, &s);
            check(s.ir_requests == before.ir_requests + 1);
            if (r == 0) {
                check(faults(&s) == faults(&before));
            } else {
                check(valid_ir_reason(r));
                check(faults(&s) == faults(&before) + 1);
            }
            break;
        }
        case 6: { /* a 32-bit register write at a register offset (commands) */
            static const uint16_t regs[] = {VTD_REG_GCMD, VTD_REG_CCMD + 4, VTD_MODEL_REG_IOTLB + 4,
                                            VTD_REG_IQT, VTD_REG_FSTS, VTD_REG_FECTL, VTD_REG_ICS,
                                            VTD_REG_IECTL, VTD_MODEL_REG_FRCD + 12};
            unsigned i = (op >> 3) % (sizeof regs / sizeof regs[0]);
            vtd_mmio_ops.write(v, regs[i], 4, take(&in, 4));
            break;
        }
        }
        vtd__get_stats(v, &s);
        check_stats(&prev, &s);
        prev = s;
    }
    vtd__destroy(v);
    return 0;
}
