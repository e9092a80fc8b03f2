/* vcpu/x86_decode differential test against Zydis 4 (libzydis-dev).
 *
 * Deterministic pseudo-random MOV-family encodings (prefixes, REX, ModRM,
 * SIB, displacement, immediate), the direct memory-offset MOVs A0-A3 under
 * every combination of up to three prefixes (66, 67, REX with and without
 * W, segment overrides, LOCK, REP/REPNE) and longer random prefix runs, and
 * biased byte soup.  Asserted:
 *  - whenever we accept, Zydis decodes the same length, a mnemonic of the
 *    family, the same direction, memory operand size, register operand and
 *    immediate, and the effective address computed from Zydis's base/index/
 *    scale/disp (RIP-relative included) with the same registers, truncated
 *    to Zydis's address width, equals ours (for moffs also Zydis's own
 *    ZydisCalcAbsoluteAddress);
 *  - every family encoding Zydis accepts as a memory access (MOVSXD only with
 *    REX.W, 32-bit address size only on moffs MOVs) we accept too, unless it
 *    has a prefix we refuse by design (segment override, LOCK, REP/REPNE),
 *    which we then must refuse;
 *  - a strict prefix of an accepted encoding is TRUNCATED for us and
 *    NO_MORE_DATA for Zydis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <Zydis/Zydis.h>

#include "vcpu/x86_decode.h"

#define ITERATIONS 500000
#define SOUP_ITERATIONS 500000

struct rng {
    uint64_t s;
};

static uint64_t rng__next(struct rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rng__below(struct rng *r, unsigned n)
{
    return (unsigned)(rng__next(r) % n);
}

static uint64_t mask(unsigned bytes)
{
    return bytes >= 8 ? UINT64_MAX : (1ull << (8 * bytes)) - 1;
}

struct diff {
    ZydisDecoder zy;
    struct rng rng;
    /* coverage counters: the test fails if a class was never exercised */
    unsigned long accepted, rip_rel, sib, no_base, high8, imm, ext, prefixed_rex_dropped, moffs;
};

/* GPR number of a Zydis register (RAX..R15 are consecutive, in encoding
 * order); *high8 set for AH/CH/DH/BH. */
static int zy_gpr(ZydisRegister reg, bool *high8)
{
    *high8 = reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH;
    ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
    if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15)
        return -1;
    return (int)(big - ZYDIS_REGISTER_RAX);
}

static void random_regs(struct rng *r, struct x86_gprs *g)
{
    for (int i = 0; i < X86_NR_GPRS; i++) {
        uint64_t v = rng__next(r);
        g->r[i] = (rng__below(r, 4) == 0) ? (v & 0xffff) : v; /* some small values */
    }
    g->rip = rng__next(r);
}

static bool in_family(ZydisMnemonic m)
{
    return m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX || m == ZYDIS_MNEMONIC_MOVSX ||
           m == ZYDIS_MNEMONIC_MOVSXD;
}

/* A0-A3: MOV AL/rAX <-> moffs (no ModRM). */
static bool zy_is_moffs(const ZydisDecodedInstruction *zi)
{
    return zi->mnemonic == ZYDIS_MNEMONIC_MOV && zi->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
           zi->opcode >= 0xa0 && zi->opcode <= 0xa3;
}

/* Zydis accepted the bytes as a family memory access we promise to handle
 * (prefixes refused by design are the caller's business). */
static bool zy_expect_accept(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *ops)
{
    if (!in_family(zi->mnemonic))
        return false;
    if (zi->mnemonic == ZYDIS_MNEMONIC_MOVSXD && zi->operand_width != 64)
        return false; /* MOVSXD without REX.W: refused by design */
    if (zi->address_width != 64 && !zy_is_moffs(zi))
        return false; /* 0x67 with ModRM addressing: refused by design */
    for (unsigned i = 0; i < zi->operand_count_visible; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM)
            return true;
    return false;
}

#define DIFF_FAIL(why)                                                                     \
    do {                                                                                   \
        char hex_[64] = "";                                                                \
        for (size_t k_ = 0; k_ < n && k_ < 20; k_++)                                       \
            snprintf(hex_ + 3 * k_, sizeof hex_ - 3 * k_, "%02x ", code[k_]);             \
        fail_msg("%s: bytes %s(len %zu)", why, hex_, n);                                   \
    } while (0)

/* Compare one accepted decode of ours with Zydis on the same bytes. */
static void compare_accepted(struct diff *d, const uint8_t *code, size_t n,
                             const struct x86_gprs *g, const struct x86_mmio_insn *ours)
{
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d->zy, code, n, &zi, ops)))
        DIFF_FAIL("we accept, Zydis rejects");
    if (zi.length != ours->length)
        DIFF_FAIL("length differs");
    if (!in_family(zi.mnemonic))
        DIFF_FAIL("mnemonic outside family");
    bool zx = zi.mnemonic == ZYDIS_MNEMONIC_MOVZX;
    bool sx = zi.mnemonic == ZYDIS_MNEMONIC_MOVSX || zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD;
    if ((ours->ext == X86_EXT_ZERO) != zx || (ours->ext == X86_EXT_SIGN) != sx)
        DIFF_FAIL("extension kind differs");

    const ZydisDecodedOperand *mem = NULL, *reg = NULL, *imm = NULL;
    for (unsigned i = 0; i < zi.operand_count_visible; i++) {
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
            mem = &ops[i];
        else if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER)
            reg = &ops[i];
        else if (ops[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
            imm = &ops[i];
    }
    if (!mem || mem->mem.type != ZYDIS_MEMOP_TYPE_MEM)
        DIFF_FAIL("no memory operand");
    if (mem->size != 8u * ours->access_size)
        DIFF_FAIL("memory operand size differs");
    bool zy_store = (mem->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
    if (zy_store != (ours->dir == X86_MMIO_STORE))
        DIFF_FAIL("direction differs");

    /* Effective address from Zydis's fields. */
    uint64_t ea = 0;
    bool h;
    if (mem->mem.base == ZYDIS_REGISTER_RIP) {
        ea = g->rip + zi.length;
        d->rip_rel++;
    } else if (mem->mem.base != ZYDIS_REGISTER_NONE) {
        int b = zy_gpr(mem->mem.base, &h);
        if (b < 0)
            DIFF_FAIL("odd base register");
        ea = g->r[b];
    } else {
        d->no_base++;
    }
    if (mem->mem.index != ZYDIS_REGISTER_NONE) {
        int x = zy_gpr(mem->mem.index, &h);
        if (x < 0)
            DIFF_FAIL("odd index register");
        ea += g->r[x] * mem->mem.scale;
    }
    if (mem->mem.disp.has_displacement)
        ea += (uint64_t)mem->mem.disp.value;
    /* The sum is truncated to the address size, then zero-extended (SDM
     * Vol. 1 3.3.7); Zydis sign-extends a 32-bit moffs into disp.value. */
    if (zi.address_width == 32)
        ea &= 0xffffffffull;
    else if (zi.address_width != 64)
        DIFF_FAIL("odd address width");
    if (ea != ours->addr)
        DIFF_FAIL("effective address differs");
    if (zy_is_moffs(&zi)) {
        ZyanU64 abs = 0;
        if (mem->mem.base != ZYDIS_REGISTER_NONE || mem->mem.index != ZYDIS_REGISTER_NONE ||
            !ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&zi, mem, g->rip, &abs)) || abs != ours->addr)
            DIFF_FAIL("moffs address differs from ZydisCalcAbsoluteAddress");
        d->moffs++;
    }
    if (zi.raw.sib.offset)
        d->sib++;

    if (imm) {
        if (ours->dir != X86_MMIO_STORE || reg)
            DIFF_FAIL("immediate operand on a non-imm form");
        if ((imm->imm.value.u & mask(ours->access_size)) != ours->store_value)
            DIFF_FAIL("immediate differs");
        d->imm++;
    } else {
        if (!reg)
            DIFF_FAIL("no register operand");
        int r = zy_gpr(reg->reg.value, &h);
        unsigned width = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg->reg.value) / 8;
        if (r < 0 || h != ours->reg_high8 || r != (h ? ours->reg - 4 : ours->reg) ||
            width != ours->reg_size)
            DIFF_FAIL("register operand differs");
        if (ours->dir == X86_MMIO_STORE &&
            ((g->r[r] >> (h ? 8 : 0)) & mask(width)) != ours->store_value)
            DIFF_FAIL("store value differs");
        d->high8 += h;
    }
    d->ext += ours->ext != X86_EXT_NONE;
    d->accepted++;
}

/* Strict prefixes of an accepted encoding: truncated for both decoders. */
static void check_truncation(struct diff *d, const uint8_t *code, size_t len,
                             const struct x86_gprs *g)
{
    size_t n = rng__below(&d->rng, len);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, code, n);
    struct x86_mmio_insn o;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    int rc = x86_decode_mmio(p, n, g, &o);
    ZyanStatus zs = ZydisDecoderDecodeFull(&d->zy, p, n, &zi, ops);
    free(p);
    if (rc != X86_DECODE_TRUNCATED)
        DIFF_FAIL("prefix of accepted encoding not TRUNCATED");
    if (zs != ZYDIS_STATUS_NO_MORE_DATA)
        DIFF_FAIL("Zydis does not report NO_MORE_DATA on a prefix");
}

static const uint8_t opcodes[][2] = {
    { 0x88 }, { 0x89 }, { 0x8a }, { 0x8b }, { 0xc6 }, { 0xc7 }, { 0x63 },
    { 0x0f, 0xb6 }, { 0x0f, 0xb7 }, { 0x0f, 0xbe }, { 0x0f, 0xbf },
};

/* One structured MOV-family encoding into buf; returns bytes written
 * (the decoders find the real length themselves). */
static size_t gen_family(struct rng *r, uint8_t *buf)
{
    size_t n = 0;
    unsigned npfx = rng__below(r, 4);
    for (unsigned i = 0; i < npfx; i++)
        buf[n++] = rng__below(r, 2) ? 0x66 : (uint8_t)(0x40 | rng__below(r, 16));
    if (rng__below(r, 2)) /* a REX right before the opcode half of the time */
        buf[n++] = (uint8_t)(0x40 | rng__below(r, 16));
    const uint8_t *op = opcodes[rng__below(r, sizeof opcodes / sizeof opcodes[0])];
    buf[n++] = op[0];
    if (op[0] == 0x0f)
        buf[n++] = op[1];
    unsigned mod = rng__below(r, 16) == 0 ? 3 : rng__below(r, 3);
    unsigned reg = rng__below(r, 8);
    if ((op[0] == 0xc6 || op[0] == 0xc7) && rng__below(r, 8))
        reg = 0;
    unsigned rm = rng__below(r, 8);
    if (rng__below(r, 3) == 0)
        rm = 4; /* more SIB */
    else if (rng__below(r, 6) == 0)
        rm = 5;
    buf[n++] = (uint8_t)(mod << 6 | reg << 3 | rm);
    if (mod != 3 && rm == 4) {
        uint8_t sib = (uint8_t)rng__next(r);
        if (rng__below(r, 4) == 0)
            sib = (uint8_t)((sib & ~0x38) | 0x20); /* no index */
        if (rng__below(r, 4) == 0)
            sib = (uint8_t)((sib & ~0x07) | 0x05); /* base 101 */
        buf[n++] = sib;
    }
    /* displacement and immediate bytes: simply random, enough for any form */
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)rng__next(r);
    return n;
}

static const uint8_t interesting[] = {
    0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x40, 0x41, 0x44,
    0x48, 0x4c, 0x4f, 0x0f, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0x63, 0xb6, 0xb7, 0xbe,
    0xbf, 0xa4, 0xa5, 0xaa, 0xab, 0xc4, 0xc5, 0x62, 0x05, 0x04, 0x24, 0x25, 0x44, 0x84,
    0xa0, 0xa1, 0xa2, 0xa3,
};

static void test_family_differential(void **state)
{
    struct diff *d = *state;
    d->rng.s = 0x1badb002;
    unsigned long zy_family = 0;
    for (long it = 0; it < ITERATIONS; it++) {
        uint8_t code[40];
        struct x86_gprs g;
        random_regs(&d->rng, &g);
        size_t n = gen_family(&d->rng, code);
        struct x86_mmio_insn ours;
        int rc = x86_decode_mmio(code, n, &g, &ours);

        ZydisDecodedInstruction zi;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        bool zy_ok = ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d->zy, code, n, &zi, ops));
        if (zy_ok && zy_expect_accept(&zi, ops)) {
            zy_family++;
            if (rc != X86_DECODE_OK)
                DIFF_FAIL("Zydis accepts a family memory MOV, we reject");
        }
        if (rc == X86_DECODE_OK) {
            compare_accepted(d, code, n, &g, &ours);
            check_truncation(d, code, ours.length, &g);
            if (code[0] != 0x66 && (code[0] & 0xf0) == 0x40 && ours.length > 2 &&
                (code[1] == 0x66))
                d->prefixed_rex_dropped++;
        } else if (rc != X86_DECODE_UNSUPPORTED) {
            DIFF_FAIL("family encoding with ample bytes not OK/UNSUPPORTED");
        }
    }
    print_message("family: %lu accepted (%lu Zydis family), rip-rel %lu, sib %lu, no-base %lu, "
                  "high8 %lu, imm %lu, ext %lu, REX-then-66 %lu\n",
                  d->accepted, zy_family, d->rip_rel, d->sib, d->no_base, d->high8, d->imm,
                  d->ext, d->prefixed_rex_dropped);
    /* the generator must really exercise each class */
    assert_true(d->accepted > ITERATIONS / 2);
    assert_true(d->rip_rel > 1000 && d->sib > 10000 && d->no_base > 1000);
    assert_true(d->high8 > 1000 && d->imm > 1000 && d->ext > 10000);
    assert_true(d->prefixed_rex_dropped > 100);
}

/* ---- direct memory-offset MOVs (A0-A3) ---------------------------------- */

/* Prefixes that matter to A0-A3: operand size, address size, REX without W
 * (plain, and with R/X/B which must not change the register) and with W,
 * and the ones we refuse by design: segment overrides, LOCK, REP/REPNE. */
static const uint8_t moffs_prefixes[] = {
    0x66, 0x67, 0x40, 0x41, 0x47, 0x48, 0x4f,
    0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0, 0xf2, 0xf3,
};
#define N_MOFFS_PREFIXES (sizeof moffs_prefixes / sizeof moffs_prefixes[0])

static bool refused_prefix(uint8_t p)
{
    return p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65 ||
           p == 0xf0 || p == 0xf2 || p == 0xf3;
}

/* Offsets: random, with bit 31 set (sign- vs zero-extension of moffs32),
 * with bit 63 set, or small. */
static uint64_t moffs_value(struct rng *r)
{
    uint64_t v = rng__next(r);
    switch (rng__below(r, 4)) {
    case 0: return v | 0x80000000ull;
    case 1: return v | 0x8000000000000000ull;
    case 2: return v & 0xffff;
    default: return v;
    }
}

struct moffs_stats {
    unsigned long cases, accepted, refused_by_prefix, too_long, addr32, opsize16, rex_w,
        rex_no_w, per_opcode[4];
};

/* Decode prefixes + opcode + an 8-byte offset (enough for either address
 * size) with both decoders and apply the rules in the file comment. */
static void moffs_case(struct diff *d, struct moffs_stats *st, const uint8_t *pfx, size_t npfx,
                       uint8_t opcode)
{
    uint8_t buf[32];
    size_t n = 0;
    bool refused = false;
    for (size_t i = 0; i < npfx; i++) {
        buf[n++] = pfx[i];
        refused |= refused_prefix(pfx[i]);
    }
    buf[n++] = opcode;
    uint64_t off = moffs_value(&d->rng);
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(off >> (8 * i));
    uint8_t *code = malloc(n); /* exact size: ASan catches over-reads */
    assert_non_null(code);
    memcpy(code, buf, n);

    struct x86_gprs g;
    random_regs(&d->rng, &g);
    struct x86_mmio_insn ours;
    int rc = x86_decode_mmio(code, n, &g, &ours);
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZyanStatus zs = ZydisDecoderDecodeFull(&d->zy, code, n, &zi, ops);
    st->cases++;

    if (zs == ZYDIS_STATUS_INSTRUCTION_TOO_LONG) {
        if (rc != X86_DECODE_UNSUPPORTED)
            DIFF_FAIL("longer than 15 bytes for Zydis, not UNSUPPORTED for us");
        st->too_long++;
    } else if (!ZYAN_SUCCESS(zs)) {
        if (rc == X86_DECODE_OK)
            DIFF_FAIL("we accept, Zydis rejects");
    } else if (!zy_is_moffs(&zi) || !zy_expect_accept(&zi, ops)) {
        DIFF_FAIL("Zydis does not see a moffs MOV");
    } else if (refused) {
        if (rc != X86_DECODE_UNSUPPORTED)
            DIFF_FAIL("segment/LOCK/REP prefix on a moffs MOV not refused");
        st->refused_by_prefix++;
    } else {
        if (rc != X86_DECODE_OK)
            DIFF_FAIL("Zydis accepts a moffs MOV, we reject");
        compare_accepted(d, code, n, &g, &ours);
        check_truncation(d, code, ours.length, &g);
        if (ours.reg != X86_RAX || ours.reg_high8 || ours.ext != X86_EXT_NONE)
            DIFF_FAIL("moffs MOV register is not AL/AX/EAX/RAX");
        st->accepted++;
        st->addr32 += zi.address_width == 32;
        st->opsize16 += ours.access_size == 2;
        st->rex_w += (zi.attributes & ZYDIS_ATTRIB_HAS_REX) && zi.raw.rex.W;
        st->rex_no_w += (zi.attributes & ZYDIS_ATTRIB_HAS_REX) && !zi.raw.rex.W;
        st->per_opcode[opcode - 0xa0]++;
    }
    free(code);
}

static void test_moffs_differential(void **state)
{
    struct diff *d = *state;
    struct moffs_stats st;
    memset(&st, 0, sizeof st);
    d->rng.s = 0xa0a1a2a3;
    /* Every sequence of up to three prefixes, each opcode, a few offsets. */
    const size_t np = N_MOFFS_PREFIXES;
    for (size_t len = 0; len <= 3; len++) {
        size_t combos = 1;
        for (size_t i = 0; i < len; i++)
            combos *= np;
        for (size_t k = 0; k < combos; k++) {
            uint8_t pfx[3];
            for (size_t i = 0, x = k; i < len; i++, x /= np)
                pfx[i] = moffs_prefixes[x % np];
            for (uint8_t op = 0xa0; op <= 0xa3; op++)
                for (int rep = 0; rep < 2; rep++)
                    moffs_case(d, &st, pfx, len, op);
        }
    }
    /* Longer runs up to and past the 15-byte limit (7+ prefixes + 9). */
    for (int it = 0; it < 50000; it++) {
        uint8_t pfx[10];
        size_t len = 4 + rng__below(&d->rng, 7);
        bool clean = rng__below(&d->rng, 2); /* half without refused prefixes */
        for (size_t i = 0; i < len; i++)
            pfx[i] = moffs_prefixes[rng__below(&d->rng, clean ? 7 : N_MOFFS_PREFIXES)];
        moffs_case(d, &st, pfx, len, (uint8_t)(0xa0 + rng__below(&d->rng, 4)));
    }
    print_message("moffs: %lu cases, %lu accepted (A0 %lu A1 %lu A2 %lu A3 %lu; addr32 %lu, "
                  "16-bit %lu, REX.W %lu, REX no W %lu), %lu refused for a prefix, "
                  "%lu too long\n",
                  st.cases, st.accepted, st.per_opcode[0], st.per_opcode[1], st.per_opcode[2],
                  st.per_opcode[3], st.addr32, st.opsize16, st.rex_w, st.rex_no_w,
                  st.refused_by_prefix, st.too_long);
    for (int i = 0; i < 4; i++)
        assert_true(st.per_opcode[i] > 1000);
    assert_true(st.addr32 > 1000 && st.opsize16 > 1000 && st.rex_w > 1000 && st.rex_no_w > 1000);
    assert_true(st.refused_by_prefix > 1000 && st.too_long > 1000);
    assert_int_equal(d->moffs, st.accepted);
}

static void test_byte_soup(void **state)
{
    struct diff *d = *state;
    d->rng.s = 0xfeedface;
    unsigned long accepted = 0, truncated = 0;
    for (long it = 0; it < SOUP_ITERATIONS; it++) {
        size_t n = 1 + rng__below(&d->rng, 17);
        uint8_t *code = malloc(n); /* exact size: ASan catches over-reads */
        assert_non_null(code);
        for (size_t i = 0; i < n; i++)
            code[i] = rng__below(&d->rng, 2) ? interesting[rng__below(&d->rng, sizeof interesting)]
                                             : (uint8_t)rng__next(&d->rng);
        struct x86_gprs g;
        random_regs(&d->rng, &g);
        struct x86_mmio_insn ours;
        int rc = x86_decode_mmio(code, n, &g, &ours);
        if (rc == X86_DECODE_OK) {
            if (ours.length > n || ours.length > 15)
                DIFF_FAIL("length beyond buffer");
            compare_accepted(d, code, n, &g, &ours);
            accepted++;
        } else if (rc == X86_DECODE_TRUNCATED) {
            truncated++;
        } else if (rc != X86_DECODE_UNSUPPORTED) {
            DIFF_FAIL("unknown status");
        }
        free(code);
    }
    print_message("soup: %lu accepted (%lu moffs), %lu truncated of %d\n", accepted, d->moffs,
                  truncated, SOUP_ITERATIONS);
    assert_true(accepted > 1000);
    assert_true(d->moffs > 100);
    assert_true(truncated > 1000);
}

static int setup(void **state)
{
    struct diff *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    if (!ZYAN_SUCCESS(ZydisDecoderInit(&d->zy, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_family_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moffs_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_soup, setup, teardown),
    };
    return cmocka_run_group_tests_name("x86_decode_zydis", tests, NULL, NULL);
}
