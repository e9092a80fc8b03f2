#include "vcpu/proc/proc_insn.h"

#include <stdbool.h>
#include <string.h>

struct cursor {
    const uint8_t *code;
    size_t len, pos;
};

static bool next(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->len || c->pos >= 15)
        return false;
    *b = c->code[c->pos++];
    return true;
}

static bool next32(struct cursor *c, int32_t *v)
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b;
        if (!next(c, &b))
            return false;
        u |= (uint32_t)b << (8 * i);
    }
    *v = (int32_t)u;
    return true;
}

/* Effective address of a memory ModRM operand (mod != 3), 64-bit
 * addressing.  RIP-relative needs the final length: returned via *riprel. */
static int modrm_ea(struct cursor *c, uint8_t modrm, uint8_t rex, const struct x86_gprs *regs,
                    uint64_t *ea, bool *riprel)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    uint64_t a = 0;
    *riprel = false;
    if (rm == 4) {
        uint8_t sib;
        if (!next(c, &sib))
            return X86_DECODE_TRUNCATED;
        unsigned scale = sib >> 6, index = ((sib >> 3) & 7) | ((rex & 2) << 2);
        unsigned base = (sib & 7) | ((rex & 1) << 3);
        if (index != 4)
            a += regs->r[index] << scale;
        if ((base & 7) == 5 && mod == 0) {
            int32_t d;
            if (!next32(c, &d))
                return X86_DECODE_TRUNCATED;
            a += (uint64_t)(int64_t)d;
        } else {
            a += regs->r[base];
        }
    } else if (rm == 5 && mod == 0) {
        int32_t d;
        if (!next32(c, &d))
            return X86_DECODE_TRUNCATED;
        a = (uint64_t)(int64_t)d;
        *riprel = true;
    } else {
        a = regs->r[rm | ((rex & 1) << 3)];
    }
    if (mod == 1) {
        uint8_t d;
        if (!next(c, &d))
            return X86_DECODE_TRUNCATED;
        a += (uint64_t)(int64_t)(int8_t)d;
    } else if (mod == 2) {
        int32_t d;
        if (!next32(c, &d))
            return X86_DECODE_TRUNCATED;
        a += (uint64_t)(int64_t)d;
    }
    *ea = a;
    return X86_DECODE_OK;
}

int proc_insn__decode(const uint8_t *code, size_t len, const struct x86_gprs *regs,
                      struct proc_insn *out)
{
    struct cursor c = {code, len, 0};
    bool opsize16 = false;
    uint8_t rex = 0, b;
    memset(out, 0, sizeof(*out));

    for (;;) {
        if (!next(&c, &b))
            return X86_DECODE_TRUNCATED;
        if (b == 0x66 && !rex) {
            opsize16 = true;
        } else if ((b & 0xF0) == 0x40) {
            rex = b;  /* a later legacy prefix would void it: rejected below */
        } else {
            break;
        }
    }
    if (rex && b == 0x66)
        return X86_DECODE_UNSUPPORTED;

    uint8_t imm;
    switch (b) {
    case 0xE4: case 0xE5: case 0xE6: case 0xE7:
        if (!next(&c, &imm))
            return X86_DECODE_TRUNCATED;
        out->port = imm;
        out->kind = (b & 2) ? PROC_INSN_OUT : PROC_INSN_IN;
        out->size = (b & 1) ? (opsize16 ? 2 : 4) : 1;
        break;
    case 0xEC: case 0xED: case 0xEE: case 0xEF:
        out->port = (uint16_t)regs->r[X86_RDX];
        out->kind = (b & 2) ? PROC_INSN_OUT : PROC_INSN_IN;
        out->size = (b & 1) ? (opsize16 ? 2 : 4) : 1;
        break;
    case 0xF4:
        out->kind = PROC_INSN_HLT;
        break;
    case 0xFA:
        out->kind = PROC_INSN_CLI;
        break;
    case 0xFB:
        out->kind = PROC_INSN_STI;
        break;
    case 0x0F: {
        uint8_t op2, modrm;
        if (!next(&c, &op2))
            return X86_DECODE_TRUNCATED;
        if (op2 != 0x01)
            return X86_DECODE_UNSUPPORTED;
        if (!next(&c, &modrm))
            return X86_DECODE_TRUNCATED;
        if ((modrm >> 6) == 3 || ((modrm >> 3) & 7) != 3)
            return X86_DECODE_UNSUPPORTED;
        bool riprel;
        int rc = modrm_ea(&c, modrm, rex, regs, &out->addr, &riprel);
        if (rc)
            return rc;
        if (riprel)
            out->addr += regs->rip + c.pos;
        out->kind = PROC_INSN_LIDT;
        break;
    }
    default:
        return X86_DECODE_UNSUPPORTED;
    }
    out->length = (uint8_t)c.pos;
    return X86_DECODE_OK;
}

enum proc_insn_gate proc_insn__gate(const uint8_t *code, size_t len)
{
    size_t i = 0;
    while (i < len && i < 14) {
        uint8_t b = code[i];
        bool legacy = b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E ||
                      b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65;
        if (!legacy && (b & 0xF0) != 0x40)
            break;
        i++;
    }
    if (i >= len)
        return PROC_GATE_NONE;
    uint8_t op = code[i], next = i + 1 < len ? code[i + 1] : 0;
    bool has_next = i + 1 < len;
    switch (op) {
    case 0x0F:
        if (has_next && next == 0x05)
            return PROC_GATE_SYSCALL;
        if (has_next && next == 0x34)
            return PROC_GATE_SYSENTER;
        return PROC_GATE_NONE;
    case 0xCD:
        if (!has_next)
            return PROC_GATE_NONE;
        return next == 0x80 ? PROC_GATE_INT80 : PROC_GATE_INT;
    case 0xCF: case 0xCA: case 0xCB: case 0xEA: case 0x9A:
        return PROC_GATE_FAR;
    case 0xFF: {
        unsigned reg = (next >> 3) & 7;
        return has_next && (next >> 6) != 3 && (reg == 3 || reg == 5) ? PROC_GATE_FAR : PROC_GATE_NONE;
    }
    default:
        return PROC_GATE_NONE;
    }
}
