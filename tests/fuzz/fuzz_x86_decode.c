/* libFuzzer target for vcpu/x86_decode.  The whole input is the code bytes,
 * copied into an exactly-sized heap buffer so ASan flags any over-read; the
 * register file is derived from a hash of the input.  Invariants (abort on
 * violation): on OK the length fits min(15, size), sizes are 1/2/4/8, reg is
 * a GPR, high-8 only for byte registers 4..7, the decode is reproducible from
 * exactly `length` bytes and truncated one byte earlier; 0x67 only on the
 * moffs MOVs (A0-A3), which use AL/AX/EAX/RAX and the 8-byte (4-byte under
 * 0x67, zero-extended) offset that follows the opcode as the address; on
 * error the output is untouched; x86_mmio_complete writes nothing outside the
 * register file and at most the destination register besides RIP. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/x86_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint64_t mix(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool valid_size(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

static int decode_copy(const uint8_t *data, size_t n, const struct x86_gprs *g,
                       struct x86_mmio_insn *out)
{
    uint8_t *code = malloc(n ? n : 1);
    if (!code)
        abort();
    if (n)
        memcpy(code, data, n);
    int rc = x86_decode_mmio(code, n, g, out);
    free(code);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = 0xcbf29ce484222325ull; /* FNV-1a of the input */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001b3ull;

    /* Canaries around the register file catch writes outside it. */
    struct {
        uint64_t before[4];
        struct x86_gprs g;
        uint64_t after[4];
    } box;
    memset(box.before, 0xc3, sizeof box.before);
    memset(box.after, 0x3c, sizeof box.after);
    for (int i = 0; i < X86_NR_GPRS; i++)
        box.g.r[i] = mix(&seed);
    box.g.rip = mix(&seed);

    struct x86_mmio_insn d, untouched;
    memset(&d, 0x77, sizeof d);
    untouched = d;
    int rc = decode_copy(data, size, &box.g, &d);
    if (rc != X86_DECODE_OK) {
        CHECK(rc == X86_DECODE_TRUNCATED || rc == X86_DECODE_UNSUPPORTED);
        CHECK(memcmp(&d, &untouched, sizeof d) == 0);
        return 0;
    }

    CHECK(d.length >= 2 && d.length <= 15 && d.length <= size);
    CHECK(valid_size(d.access_size));
    CHECK(d.reg < X86_NR_GPRS);
    CHECK(d.dir == X86_MMIO_LOAD || d.dir == X86_MMIO_STORE);
    CHECK(d.ext == X86_EXT_NONE || d.ext == X86_EXT_ZERO || d.ext == X86_EXT_SIGN);
    if (d.reg_high8)
        CHECK(d.access_size == 1 && d.reg_size == 1 && d.reg >= 4 && d.reg <= 7);
    if (d.dir == X86_MMIO_LOAD) {
        CHECK(valid_size(d.reg_size) && d.reg_size >= d.access_size);
        CHECK(d.ext != X86_EXT_NONE || d.reg_size == d.access_size);
    } else {
        CHECK(d.ext == X86_EXT_NONE);
        CHECK(d.access_size == 8 || d.store_value >> (8 * d.access_size) == 0);
    }

    /* Opcode after the 66/67/REX prefixes (the only ones ever accepted). */
    size_t op = 0;
    bool addr32 = false;
    while (op < d.length && (data[op] == 0x66 || data[op] == 0x67 || (data[op] & 0xf0) == 0x40))
        addr32 |= data[op++] == 0x67;
    CHECK(op < d.length);
    if (data[op] >= 0xa0 && data[op] <= 0xa3) {
        unsigned n = addr32 ? 4 : 8;
        CHECK(d.length == op + 1 + n);
        uint64_t moffs = 0;
        for (unsigned i = 0; i < n; i++)
            moffs |= (uint64_t)data[op + 1 + i] << (8 * i);
        CHECK(d.addr == moffs);
        CHECK(d.reg == X86_RAX && !d.reg_high8 && d.ext == X86_EXT_NONE);
        CHECK(d.reg_size == d.access_size && (d.access_size == 1) == !(data[op] & 1));
    } else {
        CHECK(!addr32);
    }

    /* Exactly `length` bytes reproduce the decode; one fewer is truncated. */
    struct x86_mmio_insn again;
    CHECK(decode_copy(data, d.length, &box.g, &again) == X86_DECODE_OK);
    CHECK(memcmp(&d, &again, sizeof d) == 0);
    CHECK(decode_copy(data, d.length - 1u, &box.g, &again) == X86_DECODE_TRUNCATED);

    struct x86_gprs before = box.g;
    x86_mmio_complete(&d, &box.g, mix(&seed));
    for (size_t i = 0; i < 4; i++)
        CHECK(box.before[i] == 0xc3c3c3c3c3c3c3c3ull && box.after[i] == 0x3c3c3c3c3c3c3c3cull);
    CHECK(box.g.rip == before.rip + d.length);
    int dst = d.dir == X86_MMIO_STORE ? -1 : d.reg_high8 ? d.reg - 4 : d.reg;
    for (int i = 0; i < X86_NR_GPRS; i++)
        if (i != dst)
            CHECK(box.g.r[i] == before.r[i]);
    if (dst >= 0 && d.reg_size == 4)
        CHECK(box.g.r[dst] >> 32 == 0); /* 32-bit writes zero-extend */
    if (dst >= 0 && d.reg_size < 4) {
        uint64_t keep = d.reg_high8 ? ~0xff00ull : ~((1ull << (8 * d.reg_size)) - 1);
        CHECK((box.g.r[dst] & keep) == (before.r[dst] & keep)); /* 8/16-bit merge */
    }
    return 0;
}
