/* x86-64 decoder for MMIO emulation: just the instructions a guest uses to
 * touch device registers (Intel SDM Vol. 2, chapter 2 "Instruction Format";
 * opcode map in Vol. 2 appendix A).
 *
 * Accepted: MOV r/m<->r (88/89/8A/8B), MOV r/m,imm (C6 /0, C7 /0),
 * MOVZX (0F B6/B7), MOVSX (0F BE/BF), MOVSXD (63), with legacy prefix 0x66,
 * segment-override-free, REX (W/R/X/B), ModRM with SIB, disp8/disp32 and
 * RIP-relative addressing; and the direct memory-offset MOVs A0-A3
 * (gcc's "movabs" to/from AL/AX/EAX/RAX) with an 8-byte offset, or a 4-byte
 * zero-extended one under the address-size prefix 0x67 (the only place
 * 0x67 is accepted).  String/rep forms, LOCK, and everything else are
 * rejected (X86_DECODE_UNSUPPORTED); running out of bytes is
 * X86_DECODE_TRUNCATED.  The decoder never reads beyond code[code_len). */
#ifndef IOVIRT_VCPU_X86_DECODE_H
#define IOVIRT_VCPU_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General-purpose registers in encoding order (ModRM.reg / rm numbering). */
enum x86_gpr {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
    X86_NR_GPRS
};

struct x86_gprs {
    uint64_t r[X86_NR_GPRS];
    uint64_t rip; /* address of the faulting instruction */
};

enum x86_mmio_dir { X86_MMIO_LOAD, X86_MMIO_STORE };
enum x86_ext { X86_EXT_NONE, X86_EXT_ZERO, X86_EXT_SIGN };

struct x86_mmio_insn {
    uint8_t length;          /* instruction bytes; RIP advances by this */
    enum x86_mmio_dir dir;
    uint8_t access_size;     /* memory operand bytes: 1, 2, 4 or 8 */
    uint64_t addr;           /* effective address (guest virtual == guest physical) */
    /* LOAD: destination register and how the loaded value is placed. */
    uint8_t reg;             /* enum x86_gpr */
    uint8_t reg_size;        /* destination width 1/2/4/8; 4 zero-extends to 64 */
    bool reg_high8;          /* AH/CH/DH/BH (size 1, no REX, reg 4..7) */
    enum x86_ext ext;        /* MOVZX/MOVSX/MOVSXD */
    /* STORE: the value to write (from a register or an immediate, already
     * truncated/sign-extended to access_size). */
    uint64_t store_value;
};

enum x86_decode_status {
    X86_DECODE_OK = 0,
    X86_DECODE_TRUNCATED = -1,
    X86_DECODE_UNSUPPORTED = -2,
};

/* Decode the instruction at code[0..code_len) executed with the register
 * state *regs (for the address and a store's source).  Returns
 * X86_DECODE_OK and fills *out, or a negative status. */
int x86_decode_mmio(const uint8_t *code, size_t code_len, const struct x86_gprs *regs,
                    struct x86_mmio_insn *out);

/* Complete an emulated LOAD: place `data` (access_size bytes) into the
 * destination register per x86-64 rules (8/16-bit writes merge, 32-bit
 * zero-extends, high-8 registers) and advance RIP.  For a STORE only RIP is
 * advanced. */
void x86_mmio_complete(const struct x86_mmio_insn *insn, struct x86_gprs *regs, uint64_t data);

#endif
