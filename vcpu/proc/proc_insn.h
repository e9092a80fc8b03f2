/* The privileged instructions a ring-3 guest executes that fault with #GP
 * and that the process backend emulates itself (everything MMIO goes to
 * vcpu/x86_decode.h):
 *   IN  E4 ib / E5 ib / EC / ED     OUT E6 ib / E7 ib / EE / EF
 *       (66 prefix: 16-bit; REX ignored as the SDM says for IN/OUT)
 *   HLT F4, CLI FA, STI FB, LIDT 0F 01 /3 (memory operand, any ModRM/SIB
 *   form incl. RIP-relative).
 * Intel SDM Vol. 2: IN, OUT, HLT, CLI, STI, LGDT/LIDT; ModRM/SIB tables
 * 2-2 and 2-3.  String forms (INS/OUTS), REP, LOCK, segment overrides and
 * address-size overrides are rejected. */
#ifndef IOVIRT_VCPU_PROC_INSN_H
#define IOVIRT_VCPU_PROC_INSN_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu/x86_decode.h"

enum proc_insn_kind { PROC_INSN_IN, PROC_INSN_OUT, PROC_INSN_HLT, PROC_INSN_CLI,
                      PROC_INSN_STI, PROC_INSN_LIDT };

struct proc_insn {
    enum proc_insn_kind kind;
    uint8_t length;     /* bytes; RIP advances by this */
    uint8_t size;       /* IN/OUT: 1, 2 or 4 */
    uint16_t port;      /* IN/OUT: imm8 or DX */
    uint64_t addr;      /* LIDT: effective address of the 10-byte operand */
};

/* X86_DECODE_OK, X86_DECODE_TRUNCATED or X86_DECODE_UNSUPPORTED.  Never
 * reads beyond code[len). */
int proc_insn__decode(const uint8_t *code, size_t len, const struct x86_gprs *regs,
                      struct proc_insn *out);

/* For fault reports only (never emulated): whether the instruction at
 * code[0] is one a guest uses to reach the host kernel or to change its CPU
 * mode.  Hosts differ in how they stop these (seccomp's SIGSYS, #GP, #UD:
 * docs/security.md), so the report names the instruction.  Prefixes
 * (legacy, REX) are skipped; never reads beyond code[len). */
enum proc_insn_gate {
    PROC_GATE_NONE,
    PROC_GATE_SYSCALL,   /* 0F 05 */
    PROC_GATE_SYSENTER,  /* 0F 34 */
    PROC_GATE_INT80,     /* CD 80 */
    PROC_GATE_INT,       /* CD ib, another vector */
    PROC_GATE_FAR,       /* iret(q) CF, lret CA/CB, ljmp/lcall EA/9A, FF /3 /5 */
};
enum proc_insn_gate proc_insn__gate(const uint8_t *code, size_t len);

#endif
