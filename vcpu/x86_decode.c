/* x86-64 decoder for the MOV family a guest uses on device registers.
 *
 * References are to the Intel 64 and IA-32 Architectures SDM, Vol. 2
 * (instruction format: chapter 2; MOV/MOVZX/MOVSX/MOVSXD: chapter 4) and
 * Vol. 1 sections 3.3.7 and 3.6.1 (address size in 64-bit mode) and
 * 3.4.1.1 (64-bit register write rules).  The guest is an attacker: every
 * byte fetch is bounds-checked against code_len and the 15-byte
 * architectural limit, and anything outside the accepted subset is refused
 * instead of guessed at. */
#include "vcpu/x86_decode.h"

#include <string.h>

/* Vol. 2 section 2.3.11: an instruction is at most 15 bytes; longer ones #GP. */
#define X86_MAX_INSN_LEN 15

/* Legacy prefixes, Vol. 2 section 2.1.1. */
#define PFX_OPSIZE   0x66
#define PFX_ADDRSIZE 0x67
#define PFX_LOCK     0xf0
#define PFX_REPNE    0xf2
#define PFX_REP      0xf3

/* REX, Vol. 2 section 2.2.1 / Table 2-4: 0100WRXB. */
#define REX_W 0x8
#define REX_R 0x4
#define REX_X 0x2
#define REX_B 0x1

/* ModR/M and SIB fields, Vol. 2 section 2.1.3 / Figure 2-1. */
#define MODRM_MOD(b) ((b) >> 6)
#define MODRM_REG(b) (((b) >> 3) & 7)
#define MODRM_RM(b)  ((b) & 7)
#define SIB_SCALE(b) ((b) >> 6)
#define SIB_INDEX(b) (((b) >> 3) & 7)
#define SIB_BASE(b)  ((b) & 7)
#define RM_SIB       4 /* r/m = 100b: a SIB byte follows (Table 2-2) */
#define RM_DISP32    5 /* mod = 00, r/m = 101b: RIP+disp32 in 64-bit mode (Table 2-7) */
#define SIB_NO_INDEX 4 /* index = 100b without REX.X: no index (Table 2-3, 2-5) */
#define SIB_NO_BASE  5 /* mod = 00, base = 101b: disp32, no base (Table 2-3, 2-5) */

/* Cursor over the guest's code bytes. */
struct x86_cursor {
    const uint8_t *code;
    size_t len;
    size_t pos;
};

/* Fetch one byte; the architectural limit wins over a short buffer because a
 * 16th byte can never be valid, whatever the guest has mapped. */
static int cursor__byte(struct x86_cursor *c, uint8_t *out)
{
    if (c->pos >= X86_MAX_INSN_LEN)
        return X86_DECODE_UNSUPPORTED;
    if (c->pos >= c->len)
        return X86_DECODE_TRUNCATED;
    *out = c->code[c->pos++];
    return X86_DECODE_OK;
}

/* Little-endian field of n (1..8) bytes (Vol. 2 section 2.1.4),
 * zero-extended to 64 bits. */
static int cursor__unsigned(struct x86_cursor *c, unsigned n, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        int rc = cursor__byte(c, &b);
        if (rc)
            return rc;
        v |= (uint64_t)b << (8 * i);
    }
    *out = v;
    return X86_DECODE_OK;
}

/* Immediate/displacement of n (1..4) bytes, sign-extended to 64 bits
 * (sections 2.2.1.3 and 2.2.1.5). */
static int cursor__signed(struct x86_cursor *c, unsigned n, int64_t *out)
{
    uint64_t v;
    int rc = cursor__unsigned(c, n, &v);
    if (rc)
        return rc;
    unsigned shift = 64 - 8 * n;
    *out = (int64_t)(v << shift) >> shift;
    return X86_DECODE_OK;
}

static uint64_t x86__mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

/* What the opcode means for our purposes. */
enum x86_form {
    FORM_STORE_REG,  /* 88/89: MOV r/m, r */
    FORM_LOAD,       /* 8A/8B, 0F B6/B7/BE/BF, 63: r <- r/m */
    FORM_STORE_IMM,  /* C6/C7 /0: MOV r/m, imm */
};

struct x86_op {
    enum x86_form form;
    unsigned access_size;
    unsigned reg_size;
    enum x86_ext ext;
    bool byte_reg; /* ModRM.reg names a byte register (high-8 possible) */
    bool moffs;    /* A0-A3: no ModRM; AL/rAX and an absolute offset */
};

/* Opcode selection, SDM Vol. 2 chapter 4 "MOV", "MOVZX", "MOVSX/MOVSXD".
 * osz is the operand size from REX.W / 0x66 (Vol. 2 section 2.2.1.2,
 * Vol. 1 Table 3-4).  Returns false for anything outside the family. */
static bool x86__select(bool two_byte, uint8_t opc, unsigned osz, bool rex_w,
                        struct x86_op *op)
{
    memset(op, 0, sizeof *op);
    op->ext = X86_EXT_NONE;
    if (two_byte) {
        switch (opc) {
        case 0xb6: /* MOVZX r16/32/64, r/m8 */
        case 0xbe: /* MOVSX r16/32/64, r/m8 */
            op->access_size = 1;
            break;
        case 0xb7: /* MOVZX r16/32/64, r/m16 */
        case 0xbf: /* MOVSX r16/32/64, r/m16 */
            op->access_size = 2;
            break;
        default:
            return false;
        }
        op->form = FORM_LOAD;
        op->reg_size = osz;
        op->ext = (opc & 0x08) ? X86_EXT_SIGN : X86_EXT_ZERO;
        return true;
    }
    switch (opc) {
    case 0x88: op->form = FORM_STORE_REG; op->access_size = 1; op->byte_reg = true; break;
    case 0x89: op->form = FORM_STORE_REG; op->access_size = osz; break;
    case 0x8a: op->form = FORM_LOAD; op->access_size = 1; op->byte_reg = true; break;
    case 0x8b: op->form = FORM_LOAD; op->access_size = osz; break;
    case 0xc6: op->form = FORM_STORE_IMM; op->access_size = 1; break;
    case 0xc7: op->form = FORM_STORE_IMM; op->access_size = osz; break;
    /* MOV AL, moffs8 / rAX, moffs / moffs8, AL / moffs, rAX: the register
     * is always the accumulator (REX.R/X/B don't apply, AL is never AH). */
    case 0xa0: op->form = FORM_LOAD; op->access_size = 1; op->moffs = true; break;
    case 0xa1: op->form = FORM_LOAD; op->access_size = osz; op->moffs = true; break;
    case 0xa2: op->form = FORM_STORE_REG; op->access_size = 1; op->moffs = true; break;
    case 0xa3: op->form = FORM_STORE_REG; op->access_size = osz; op->moffs = true; break;
    case 0x63:
        /* MOVSXD r64, r/m32.  Without REX.W it is a plain (discouraged)
         * 32/16-bit move no compiler emits for MMIO: refuse it. */
        if (!rex_w)
            return false;
        op->form = FORM_LOAD;
        op->access_size = 4;
        op->reg_size = 8;
        op->ext = X86_EXT_SIGN;
        return true;
    default:
        return false;
    }
    op->reg_size = op->access_size;
    return true;
}

/* Value of a byte register operand: without any REX, encodings 4..7 are
 * AH/CH/DH/BH (Vol. 2 section 2.2.1.2, Vol. 1 section 3.4.1.1). */
static uint64_t x86__read_reg(const struct x86_gprs *regs, unsigned reg, unsigned size,
                              bool high8)
{
    if (high8)
        return (regs->r[reg - 4] >> 8) & 0xff;
    return regs->r[reg] & x86__mask(size);
}

/* Direct memory-offset MOV (A0-A3), Vol. 2 section 2.2.1.4 / Table 2-6 and
 * chapter 4 "MOV": the absolute address follows the opcode in place of a
 * ModRM byte, as wide as the address size: 8 bytes by default, 4 bytes
 * under 0x67, zero-extended (effective addresses are truncated to the
 * address size, Vol. 1 section 3.3.7).  Unlike a displacement it is never
 * sign-extended.  Operand size as elsewhere (REX.W, then 0x66). */
static int x86__decode_moffs(struct x86_cursor *c, const struct x86_op *op, bool addrsize,
                             const struct x86_gprs *regs, struct x86_mmio_insn *out)
{
    uint64_t moffs;
    int rc = cursor__unsigned(c, addrsize ? 4 : 8, &moffs);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->length = (uint8_t)c->pos;
    out->access_size = (uint8_t)op->access_size;
    out->addr = moffs;
    out->ext = X86_EXT_NONE;
    out->reg = X86_RAX;
    out->reg_size = (uint8_t)op->access_size;
    if (op->form == FORM_LOAD) {
        out->dir = X86_MMIO_LOAD;
    } else {
        out->dir = X86_MMIO_STORE;
        out->store_value = x86__read_reg(regs, X86_RAX, op->access_size, false);
    }
    return X86_DECODE_OK;
}

int x86_decode_mmio(const uint8_t *code, size_t code_len, const struct x86_gprs *regs,
                    struct x86_mmio_insn *out)
{
    struct x86_cursor c = { .code = code, .len = code ? code_len : 0, .pos = 0 };
    bool opsize = false, addrsize = false, have_rex = false;
    uint8_t rex = 0, b;
    int rc;

    /* Prefixes (Vol. 2 sections 2.1.1 and 2.2.1).  A REX prefix only counts
     * when it immediately precedes the opcode; one followed by another
     * prefix is ignored (section 2.2.1). */
    for (;;) {
        if ((rc = cursor__byte(&c, &b)))
            return rc;
        if (b == PFX_OPSIZE || b == PFX_ADDRSIZE) {
            if (b == PFX_OPSIZE)
                opsize = true;
            else
                addrsize = true; /* 32-bit addresses (Vol. 1 3.6.1): moffs forms only */
            have_rex = false;
            rex = 0;
        } else if ((b & 0xf0) == 0x40) {
            have_rex = true;
            rex = b & 0x0f;
        } else if (b == PFX_LOCK || b == PFX_REPNE || b == PFX_REP || b == 0x26 || b == 0x2e ||
                   b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65) {
            /* LOCK/REP are meaningless or string forms here, and FS/GS need
             * segment bases we don't track; the null segments are refused
             * for uniformity. */
            return X86_DECODE_UNSUPPORTED;
        } else {
            break;
        }
    }

    /* Opcode (section 2.1.2); VEX (C4/C5) and EVEX (62) fall out here as
     * unknown one-byte opcodes. */
    bool two_byte = false;
    if (b == 0x0f) {
        two_byte = true;
        if ((rc = cursor__byte(&c, &b)))
            return rc;
    }
    unsigned osz = (rex & REX_W) ? 8 : opsize ? 2 : 4;
    struct x86_op op;
    if (!x86__select(two_byte, b, osz, rex & REX_W, &op))
        return X86_DECODE_UNSUPPORTED;
    if (op.moffs)
        return x86__decode_moffs(&c, &op, addrsize, regs, out);
    if (addrsize)
        return X86_DECODE_UNSUPPORTED; /* 32-bit ModRM addressing: no driver uses it */

    /* ModR/M (section 2.1.3, Table 2-2). */
    uint8_t modrm;
    if ((rc = cursor__byte(&c, &modrm)))
        return rc;
    unsigned mod = MODRM_MOD(modrm);
    if (mod == 3)
        return X86_DECODE_UNSUPPORTED; /* register operand: not a memory access */
    if (op.form == FORM_STORE_IMM && MODRM_REG(modrm) != 0)
        return X86_DECODE_UNSUPPORTED; /* C6/C7 /1../7 are not MOV */
    unsigned reg = MODRM_REG(modrm) | ((rex & REX_R) ? 8 : 0);

    /* Effective address (Tables 2-2, 2-3; REX special cases Table 2-5;
     * RIP-relative Table 2-7).  Address size is always 64 here. */
    uint64_t ea = 0;
    bool rip_rel = false;
    int64_t disp = 0;
    unsigned rm = MODRM_RM(modrm);
    if (rm == RM_SIB) {
        uint8_t sib;
        if ((rc = cursor__byte(&c, &sib)))
            return rc;
        unsigned index = SIB_INDEX(sib) | ((rex & REX_X) ? 8 : 0);
        unsigned base = SIB_BASE(sib) | ((rex & REX_B) ? 8 : 0);
        if (index != SIB_NO_INDEX) /* R12 (REX.X=1) is a real index */
            ea += regs->r[index] << SIB_SCALE(sib);
        if (mod == 0 && SIB_BASE(sib) == SIB_NO_BASE) {
            if ((rc = cursor__signed(&c, 4, &disp))) /* base-less: disp32 */
                return rc;
        } else {
            ea += regs->r[base];
        }
    } else if (mod == 0 && rm == RM_DISP32) {
        rip_rel = true; /* regardless of REX.B (section 2.2.1.6) */
        if ((rc = cursor__signed(&c, 4, &disp)))
            return rc;
    } else {
        ea += regs->r[rm | ((rex & REX_B) ? 8 : 0)];
    }
    if (mod == 1)
        rc = cursor__signed(&c, 1, &disp);
    else if (mod == 2)
        rc = cursor__signed(&c, 4, &disp);
    if (rc)
        return rc;

    /* Immediate (section 2.2.1.5): imm8, imm16 with 0x66, otherwise imm32
     * sign-extended to 64 bits under REX.W. */
    int64_t imm = 0;
    if (op.form == FORM_STORE_IMM) {
        unsigned n = op.access_size > 4 ? 4 : op.access_size;
        if ((rc = cursor__signed(&c, n, &imm)))
            return rc;
    }

    memset(out, 0, sizeof *out);
    out->length = (uint8_t)c.pos;
    out->access_size = (uint8_t)op.access_size;
    ea += (uint64_t)disp;
    if (rip_rel)
        ea += regs->rip + c.pos; /* relative to the next instruction */
    out->addr = ea;
    out->ext = op.ext;
    bool high8 = op.byte_reg && !have_rex && reg >= 4 && reg <= 7;

    switch (op.form) {
    case FORM_LOAD:
        out->dir = X86_MMIO_LOAD;
        out->reg = (uint8_t)reg;
        out->reg_size = (uint8_t)op.reg_size;
        out->reg_high8 = high8;
        break;
    case FORM_STORE_REG:
        out->dir = X86_MMIO_STORE;
        out->reg = (uint8_t)reg;
        out->reg_size = (uint8_t)op.access_size;
        out->reg_high8 = high8;
        out->store_value = x86__read_reg(regs, reg, op.access_size, high8);
        break;
    case FORM_STORE_IMM:
        out->dir = X86_MMIO_STORE;
        out->store_value = (uint64_t)imm & x86__mask(op.access_size);
        break;
    }
    return X86_DECODE_OK;
}

/* Register write rules, SDM Vol. 1 section 3.4.1.1: 32-bit results
 * zero-extend to 64 bits, 8/16-bit results leave the rest untouched. */
void x86_mmio_complete(const struct x86_mmio_insn *insn, struct x86_gprs *regs, uint64_t data)
{
    regs->rip += insn->length;
    if (insn->dir != X86_MMIO_LOAD)
        return;
    unsigned asz = insn->access_size;
    if (asz != 1 && asz != 2 && asz != 4 && asz != 8)
        return; /* not something the decoder produces: touch nothing */
    uint64_t v = data & x86__mask(asz);
    if (insn->ext == X86_EXT_SIGN && asz < 8 && (v >> (8 * asz - 1)) & 1)
        v |= ~x86__mask(asz);

    if (insn->reg_high8) {
        if (insn->reg < 4 || insn->reg > 7)
            return;
        uint64_t *r = &regs->r[insn->reg - 4];
        *r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
        return;
    }
    if (insn->reg >= X86_NR_GPRS)
        return;
    uint64_t *r = &regs->r[insn->reg];
    switch (insn->reg_size) {
    case 1: *r = (*r & ~0xffull) | (v & 0xff); break;
    case 2: *r = (*r & ~0xffffull) | (v & 0xffff); break;
    case 4: *r = v & 0xffffffffull; break;
    case 8: *r = v; break;
    default: break;
    }
}
