/* vcpu/x86_decode: table of encodings -> decoded fields, rejects for every
 * unsupported class, truncation at every shorter length, and the register
 * write rules of x86_mmio_complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vcpu/x86_decode.h"

/* Distinctive register values: every byte differs between registers. */
#define R(i) (0x8877665544332211ull + (uint64_t)(i) * 0x0101010101010101ull)
#define RIP 0xffffffff81000000ull
#define B(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })
/* A moffs operand: 8 bytes (0x0000123480000020, bit 31 set: not sign-extended)
 * and the 4-byte addr32 one (0x80000010, zero-extended). */
#define MOFFS 0x0000123480000020ull
#define M64 0x20, 0x00, 0x00, 0x80, 0x34, 0x12, 0x00, 0x00
#define M32 0x10, 0x00, 0x00, 0x80

static void regs__init(struct x86_gprs *g)
{
    for (int i = 0; i < X86_NR_GPRS; i++)
        g->r[i] = R(i);
    g->rip = RIP;
}

enum { LD = X86_MMIO_LOAD, ST = X86_MMIO_STORE };
enum { NO = X86_EXT_NONE, ZX = X86_EXT_ZERO, SX = X86_EXT_SIGN };

struct tcase {
    const char *name;
    uint8_t bytes[15];
    uint8_t n;
    int dir;
    uint8_t size;
    uint64_t addr;
    uint8_t reg, reg_size;
    bool high8;
    int ext;
    uint64_t store;
};

static const struct tcase cases[] = {
    /* MOV r/m, r (88/89) and operand size from 66 / REX.W */
    { "mov [rax],ecx", B(0x89, 0x08), ST, 4, R(0), 1, 4, false, NO, R(1) & 0xffffffff },
    { "mov [rax],rcx", B(0x48, 0x89, 0x08), ST, 8, R(0), 1, 8, false, NO, R(1) },
    { "mov [rax],cx", B(0x66, 0x89, 0x08), ST, 2, R(0), 1, 2, false, NO, R(1) & 0xffff },
    { "mov [rax],cl", B(0x88, 0x08), ST, 1, R(0), 1, 1, false, NO, R(1) & 0xff },
    { "mov [rax],ch", B(0x88, 0x28), ST, 1, R(0), 5, 1, true, NO, (R(1) >> 8) & 0xff },
    { "mov [rax],bh", B(0x88, 0x38), ST, 1, R(0), 7, 1, true, NO, (R(3) >> 8) & 0xff },
    { "mov [rax],bpl", B(0x40, 0x88, 0x28), ST, 1, R(0), 5, 1, false, NO, R(5) & 0xff },
    { "mov [r8],r9b", B(0x45, 0x88, 0x08), ST, 1, R(8), 9, 1, false, NO, R(9) & 0xff },
    { "mov [r15],r14", B(0x4d, 0x89, 0x37), ST, 8, R(15), 14, 8, false, NO, R(14) },
    { "66 48: REX.W wins", B(0x66, 0x48, 0x89, 0x08), ST, 8, R(0), 1, 8, false, NO, R(1) },
    { "66 on byte op ignored", B(0x66, 0x88, 0x08), ST, 1, R(0), 1, 1, false, NO, R(1) & 0xff },
    { "66 66 repeated", B(0x66, 0x66, 0x89, 0x08), ST, 2, R(0), 1, 2, false, NO, R(1) & 0xffff },
    /* REX not adjacent to the opcode is ignored; the last REX counts. */
    { "48 66: REX dropped", B(0x48, 0x66, 0x89, 0x08), ST, 2, R(0), 1, 2, false, NO, R(1) & 0xffff },
    { "4c 66 88: REX dropped, ch", B(0x4c, 0x66, 0x88, 0x28), ST, 1, R(0), 5, 1, true, NO, (R(1) >> 8) & 0xff },
    { "48 41: last REX", B(0x48, 0x41, 0x89, 0x08), ST, 4, R(8), 1, 4, false, NO, R(1) & 0xffffffff },
    { "13 prefixes: 15 bytes",
      B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x08),
      ST, 2, R(0), 1, 2, false, NO, R(1) & 0xffff },

    /* MOV r, r/m (8A/8B) and addressing forms */
    { "mov ah,[rbx]", B(0x8a, 0x23), LD, 1, R(3), 4, 1, true, NO, 0 },
    { "mov spl,[rsp]", B(0x40, 0x8a, 0x24, 0x24), LD, 1, R(4), 4, 1, false, NO, 0 },
    { "mov bpl,[rax] (REX.W)", B(0x48, 0x8a, 0x28), LD, 1, R(0), 5, 1, false, NO, 0 },
    { "mov r11b,[rax]", B(0x44, 0x8a, 0x18), LD, 1, R(0), 11, 1, false, NO, 0 },
    { "mov eax,[rdi]", B(0x8b, 0x07), LD, 4, R(7), 0, 4, false, NO, 0 },
    { "mov ax,[rdi]", B(0x66, 0x8b, 0x07), LD, 2, R(7), 0, 2, false, NO, 0 },
    { "mov rax,[rsi+8]", B(0x48, 0x8b, 0x46, 0x08), LD, 8, R(6) + 8, 0, 8, false, NO, 0 },
    { "mov r15,[rsi-8]", B(0x4c, 0x8b, 0x7e, 0xf8), LD, 8, R(6) - 8, 15, 8, false, NO, 0 },
    { "mov eax,[rbp+disp32]", B(0x8b, 0x85, 0x78, 0x56, 0x34, 0x12), LD, 4, R(5) + 0x12345678, 0, 4, false, NO, 0 },
    { "mov eax,[rbx-2^31]", B(0x8b, 0x83, 0x00, 0x00, 0x00, 0x80), LD, 4, R(3) - 0x80000000ull, 0, 4, false, NO, 0 },
    { "mov eax,[rbx-128]", B(0x8b, 0x43, 0x80), LD, 4, R(3) - 128, 0, 4, false, NO, 0 },
    { "mov eax,[r13+0]", B(0x41, 0x8b, 0x45, 0x00), LD, 4, R(13), 0, 4, false, NO, 0 },
    { "mov eax,[rbp+0]", B(0x8b, 0x45, 0x00), LD, 4, R(5), 0, 4, false, NO, 0 },
    { "mov eax,[r12] (SIB)", B(0x41, 0x8b, 0x04, 0x24), LD, 4, R(12), 0, 4, false, NO, 0 },
    /* RIP-relative: relative to the next instruction, REX.B does not matter */
    { "mov eax,[rip+0x100]", B(0x8b, 0x05, 0x00, 0x01, 0x00, 0x00), LD, 4, RIP + 6 + 0x100, 0, 4, false, NO, 0 },
    { "mov eax,[rip-16] REX.B", B(0x41, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff), LD, 4, RIP + 7 - 16, 0, 4, false, NO, 0 },
    { "mov dword [rip+16],imm", B(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
      ST, 4, RIP + 10 + 16, 0, 0, false, NO, 0x12345678 },
    { "mov byte [rip-1],imm", B(0xc6, 0x05, 0xff, 0xff, 0xff, 0xff, 0x5a), ST, 1, RIP + 7 - 1, 0, 0, false, NO, 0x5a },
    /* SIB forms */
    { "[rax+rcx*4]", B(0x8b, 0x04, 0x88), LD, 4, R(0) + R(1) * 4, 0, 4, false, NO, 0 },
    { "[rax+rcx*1]", B(0x8b, 0x04, 0x08), LD, 4, R(0) + R(1), 0, 4, false, NO, 0 },
    { "[rax+rcx*2]", B(0x8b, 0x04, 0x48), LD, 4, R(0) + R(1) * 2, 0, 4, false, NO, 0 },
    { "[r8+r9*8+0x10]", B(0x43, 0x8b, 0x44, 0xc8, 0x10), LD, 4, R(8) + R(9) * 8 + 0x10, 0, 4, false, NO, 0 },
    { "[rcx*2+disp32] no base", B(0x8b, 0x04, 0x4d, 0x00, 0x10, 0x00, 0x00), LD, 4, R(1) * 2 + 0x1000, 0, 4, false, NO, 0 },
    { "[rsp] no index", B(0x8b, 0x04, 0x24), LD, 4, R(4), 0, 4, false, NO, 0 },
    { "[disp32] absolute", B(0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12), LD, 4, 0x12345678, 0, 4, false, NO, 0 },
    { "[disp32] REX.B no base, negative", B(0x41, 0x8b, 0x04, 0x25, 0x00, 0xf0, 0xff, 0xff),
      LD, 4, 0xfffffffffffff000ull, 0, 4, false, NO, 0 },
    { "[r13+r12*1] via REX.X/B", B(0x43, 0x8b, 0x44, 0x25, 0x00), LD, 4, R(13) + R(12), 0, 4, false, NO, 0 },
    { "[rax+r12*4] REX.X", B(0x42, 0x8b, 0x04, 0xa0), LD, 4, R(0) + R(12) * 4, 0, 4, false, NO, 0 },
    { "[rbp+8] SIB mod=01", B(0x8b, 0x44, 0x25, 0x08), LD, 4, R(5) + 8, 0, 4, false, NO, 0 },
    { "[rbp+rax*8-0x10] SIB mod=10", B(0x8b, 0x84, 0xc5, 0xf0, 0xff, 0xff, 0xff), LD, 4, R(5) + R(0) * 8 - 0x10, 0, 4, false, NO, 0 },

    /* MOV r/m, imm (C6/C7 /0) of each size */
    { "mov byte [rax],0x80", B(0xc6, 0x00, 0x80), ST, 1, R(0), 0, 0, false, NO, 0x80 },
    { "mov word [rax],0x8001", B(0x66, 0xc7, 0x00, 0x01, 0x80), ST, 2, R(0), 0, 0, false, NO, 0x8001 },
    { "mov dword [rax],0x80000001", B(0xc7, 0x00, 0x01, 0x00, 0x00, 0x80), ST, 4, R(0), 0, 0, false, NO, 0x80000001 },
    { "mov qword [rax],-2", B(0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff), ST, 8, R(0), 0, 0, false, NO, 0xfffffffffffffffeull },
    { "mov qword [rax],0x7fffffff", B(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f), ST, 8, R(0), 0, 0, false, NO, 0x7fffffff },
    { "mov qword [r9+8],1", B(0x49, 0xc7, 0x41, 0x08, 0x01, 0x00, 0x00, 0x00), ST, 8, R(9) + 8, 0, 0, false, NO, 1 },

    /* MOVZX / MOVSX / MOVSXD */
    { "movzx eax,byte [rbx]", B(0x0f, 0xb6, 0x03), LD, 1, R(3), 0, 4, false, ZX, 0 },
    { "movzx rax,word [rbx]", B(0x48, 0x0f, 0xb7, 0x03), LD, 2, R(3), 0, 8, false, ZX, 0 },
    { "movzx ax,byte [rbx]", B(0x66, 0x0f, 0xb6, 0x03), LD, 1, R(3), 0, 2, false, ZX, 0 },
    { "movzx esp,byte [rbx] (no high8)", B(0x0f, 0xb6, 0x23), LD, 1, R(3), 4, 4, false, ZX, 0 },
    { "movsx ecx,byte [rdx]", B(0x0f, 0xbe, 0x0a), LD, 1, R(2), 1, 4, false, SX, 0 },
    { "movsx r8,word [rdx]", B(0x4c, 0x0f, 0xbf, 0x02), LD, 2, R(2), 8, 8, false, SX, 0 },
    { "movsx cx,byte [rdx]", B(0x66, 0x0f, 0xbe, 0x0a), LD, 1, R(2), 1, 2, false, SX, 0 },
    { "movsxd rax,[rbx]", B(0x48, 0x63, 0x03), LD, 4, R(3), 0, 8, false, SX, 0 },
    { "movsxd r10,[rip-4]", B(0x4c, 0x63, 0x15, 0xfc, 0xff, 0xff, 0xff), LD, 4, RIP + 7 - 4, 10, 8, false, SX, 0 },
    { "66 movsxd rax (W wins)", B(0x66, 0x48, 0x63, 0x03), LD, 4, R(3), 0, 8, false, SX, 0 },

    /* Direct memory-offset MOV (A0-A3, gcc's movabs): an 8-byte absolute
     * address, never sign-extended; the register is always AL/AX/EAX/RAX. */
    { "movabs al,[moffs]", B(0xa0, M64), LD, 1, MOFFS, 0, 1, false, NO, 0 },
    { "movabs eax,[moffs]", B(0xa1, M64), LD, 4, MOFFS, 0, 4, false, NO, 0 },
    { "movabs ax,[moffs]", B(0x66, 0xa1, M64), LD, 2, MOFFS, 0, 2, false, NO, 0 },
    { "movabs rax,[moffs]", B(0x48, 0xa1, M64), LD, 8, MOFFS, 0, 8, false, NO, 0 },
    { "movabs [moffs],al", B(0xa2, M64), ST, 1, MOFFS, 0, 1, false, NO, R(0) & 0xff },
    { "movabs [moffs],eax", B(0xa3, M64), ST, 4, MOFFS, 0, 4, false, NO, R(0) & 0xffffffff },
    { "movabs [moffs],ax", B(0x66, 0xa3, M64), ST, 2, MOFFS, 0, 2, false, NO, R(0) & 0xffff },
    { "movabs [moffs],rax", B(0x48, 0xa3, M64), ST, 8, MOFFS, 0, 8, false, NO, R(0) },
    { "moffs bit 63 kept", B(0xa1, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      LD, 4, 0xfffffffffffffff0ull, 0, 4, false, NO, 0 },
    { "moffs 0", B(0xa3, 0, 0, 0, 0, 0, 0, 0, 0), ST, 4, 0, 0, 4, false, NO, R(0) & 0xffffffff },
    /* operand size: byte forms ignore 66/REX.W; REX.W beats 66; a REX not
     * adjacent to the opcode is dropped; REX.R/X/B name no other register */
    { "66 a0: still al", B(0x66, 0xa0, M64), LD, 1, MOFFS, 0, 1, false, NO, 0 },
    { "48 a2: still al", B(0x48, 0xa2, M64), ST, 1, MOFFS, 0, 1, false, NO, R(0) & 0xff },
    { "41 a0: al, not r8b", B(0x41, 0xa0, M64), LD, 1, MOFFS, 0, 1, false, NO, 0 },
    { "40 a2: al (REX no W)", B(0x40, 0xa2, M64), ST, 1, MOFFS, 0, 1, false, NO, R(0) & 0xff },
    { "40 a1: eax (REX no W)", B(0x40, 0xa1, M64), LD, 4, MOFFS, 0, 4, false, NO, 0 },
    { "4f a1: rax, not r15", B(0x4f, 0xa1, M64), LD, 8, MOFFS, 0, 8, false, NO, 0 },
    { "49 a3: rax, not r8", B(0x49, 0xa3, M64), ST, 8, MOFFS, 0, 8, false, NO, R(0) },
    { "66 48 a3: REX.W wins", B(0x66, 0x48, 0xa3, M64), ST, 8, MOFFS, 0, 8, false, NO, R(0) },
    { "48 66 a3: REX dropped", B(0x48, 0x66, 0xa3, M64), ST, 2, MOFFS, 0, 2, false, NO, R(0) & 0xffff },
    /* 0x67: a 4-byte offset, zero-extended (0x80000000 is not 0xffffffff80000000) */
    { "addr32 mov eax,[moffs32]", B(0x67, 0xa1, M32), LD, 4, 0x80000010, 0, 4, false, NO, 0 },
    { "addr32 mov al,[moffs32]", B(0x67, 0xa0, 0xff, 0xff, 0xff, 0xff), LD, 1, 0xffffffff, 0, 1, false, NO, 0 },
    { "addr32 mov [moffs32],al", B(0x67, 0xa2, M32), ST, 1, 0x80000010, 0, 1, false, NO, R(0) & 0xff },
    { "addr32 66 mov [moffs32],ax", B(0x67, 0x66, 0xa3, M32), ST, 2, 0x80000010, 0, 2, false, NO, R(0) & 0xffff },
    { "66 addr32 mov ax,[moffs32]", B(0x66, 0x67, 0xa1, M32), LD, 2, 0x80000010, 0, 2, false, NO, 0 },
    { "addr32 48 mov [moffs32],rax", B(0x67, 0x48, 0xa3, M32), ST, 8, 0x80000010, 0, 8, false, NO, R(0) },
    { "48 addr32: REX dropped", B(0x48, 0x67, 0xa3, M32), ST, 4, 0x80000010, 0, 4, false, NO, R(0) & 0xffffffff },
    { "addr32 addr32 repeated", B(0x67, 0x67, 0xa1, M32), LD, 4, 0x80000010, 0, 4, false, NO, 0 },
    { "addr32 moffs: 15 bytes",
      B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x67, 0x48, 0xa1, M32),
      LD, 8, 0x80000010, 0, 8, false, NO, 0 },
    { "moffs64: 15 bytes", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xa1, M64), LD, 8, MOFFS, 0, 8, false, NO, 0 },
};

static uint8_t *heap_copy(const uint8_t *b, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, b, n);
    return p;
}

/* Decode from an exactly-sized heap buffer so ASan sees any over-read. */
static int decode_exact(const uint8_t *b, size_t n, const struct x86_gprs *g,
                        struct x86_mmio_insn *out)
{
    uint8_t *p = heap_copy(b, n);
    int rc = x86_decode_mmio(p, n, g, out);
    free(p);
    return rc;
}

static void check_case(const struct tcase *t, const struct x86_mmio_insn *d)
{
    if (d->length != t->n || (int)d->dir != t->dir || d->access_size != t->size ||
        d->addr != t->addr || (int)d->ext != t->ext || d->reg_size != t->reg_size ||
        d->reg_high8 != t->high8 || d->reg != t->reg ||
        (t->dir == ST && d->store_value != t->store))
        fail_msg("%s: got len=%u dir=%d size=%u addr=%#llx reg=%u/%u h8=%d ext=%d val=%#llx",
                 t->name, d->length, d->dir, d->access_size, (unsigned long long)d->addr, d->reg,
                 d->reg_size, d->reg_high8, d->ext, (unsigned long long)d->store_value);
}

static void test_table(void **state)
{
    (void)state;
    struct x86_gprs g;
    regs__init(&g);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *t = &cases[i];
        struct x86_mmio_insn d;
        int rc = decode_exact(t->bytes, t->n, &g, &d);
        if (rc != X86_DECODE_OK)
            fail_msg("%s: rc %d", t->name, rc);
        check_case(t, &d);

        /* Trailing bytes after the instruction change nothing. */
        uint8_t more[32];
        memset(more, 0x8b, sizeof more);
        memcpy(more, t->bytes, t->n);
        assert_int_equal(x86_decode_mmio(more, sizeof more, &g, &d), X86_DECODE_OK);
        check_case(t, &d);
    }
}

static void test_truncation_every_length(void **state)
{
    (void)state;
    struct x86_gprs g;
    regs__init(&g);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *t = &cases[i];
        for (size_t len = 0; len < t->n; len++) {
            struct x86_mmio_insn d, before;
            memset(&d, 0xa5, sizeof d);
            before = d;
            int rc = decode_exact(t->bytes, len, &g, &d);
            if (rc != X86_DECODE_TRUNCATED)
                fail_msg("%s: len %zu rc %d", t->name, len, rc);
            assert_memory_equal(&d, &before, sizeof d); /* no partial output */
        }
    }
    struct x86_mmio_insn d;
    assert_int_equal(x86_decode_mmio(NULL, 0, &g, &d), X86_DECODE_TRUNCATED);
}

struct reject {
    const char *name;
    uint8_t bytes[16];
    uint8_t n;
};

static const struct reject rejects[] = {
    /* string operations */
    { "movsb", B(0xa4) }, { "movsd", B(0xa5) }, { "stosb", B(0xaa) }, { "stosd", B(0xab) },
    { "lodsb", B(0xac) }, { "lodsd", B(0xad) }, { "rep movsd", B(0xf3, 0xa5) },
    { "rep stosq", B(0xf3, 0x48, 0xab) },
    /* rep/repne/lock on an otherwise accepted MOV */
    { "f3 mov", B(0xf3, 0x89, 0x08) }, { "f2 mov", B(0xf2, 0x89, 0x08) },
    { "lock mov", B(0xf0, 0x89, 0x08) }, { "66 lock mov", B(0x66, 0xf0, 0x89, 0x08) },
    /* segment overrides and address size (0x67 only on moffs MOVs) */
    { "es", B(0x26, 0x89, 0x08) }, { "cs", B(0x2e, 0x89, 0x08) }, { "ss", B(0x36, 0x89, 0x08) },
    { "ds", B(0x3e, 0x89, 0x08) }, { "fs", B(0x64, 0x89, 0x08) }, { "gs", B(0x65, 0x8b, 0x08) },
    { "addr32", B(0x67, 0x89, 0x08) }, { "66 addr32", B(0x66, 0x67, 0x8b, 0x08) },
    { "addr32 c7", B(0x67, 0xc7, 0x00, 1, 0, 0, 0) }, { "addr32 movzx", B(0x67, 0x0f, 0xb6, 0x00) },
    { "addr32 movsxd", B(0x67, 0x48, 0x63, 0x00) },
    /* moffs MOVs: segment overrides, LOCK and REP as everywhere */
    { "es moffs", B(0x26, 0xa1, M64) }, { "cs moffs", B(0x2e, 0xa0, M64) },
    { "ss moffs", B(0x36, 0xa3, M64) }, { "ds moffs", B(0x3e, 0xa2, M64) },
    { "fs moffs", B(0x64, 0xa1, M64) }, { "gs moffs", B(0x65, 0x48, 0xa3, M64) },
    { "addr32 gs moffs", B(0x67, 0x65, 0xa1, M32) }, { "lock moffs", B(0xf0, 0xa3, M64) },
    { "rep moffs", B(0xf3, 0xa1, M64) }, { "repne moffs", B(0xf2, 0xa2, M64) },
    /* moffs neighbours that are not MOVs to/from memory */
    { "test al,imm (a8)", B(0xa8, 0x01) }, { "test eax,imm (a9)", B(0xa9, 1, 0, 0, 0) },
    { "mov al,imm (b0)", B(0xb0, 0x01) }, { "movabs rax,imm64 (48 b8)", B(0x48, 0xb8, M64) },
    { "0f a1 (pop fs)", B(0x0f, 0xa1) }, { "0f a3 (bt)", B(0x0f, 0xa3, 0x08) },
    /* VEX / EVEX */
    { "vex2 vmovd", B(0xc5, 0xf9, 0x7e, 0x00) }, { "vex3 vmovd", B(0xc4, 0xe1, 0x79, 0x7e, 0x00) },
    { "evex vmovd", B(0x62, 0xf1, 0x7d, 0x08, 0x7e, 0x00) },
    /* register forms (mod = 11) */
    { "mov eax,ecx", B(0x89, 0xc8) }, { "mov eax,ecx (8b)", B(0x8b, 0xc1) },
    { "mov al,imm", B(0xc6, 0xc0, 0x01) }, { "movzx eax,al", B(0x0f, 0xb6, 0xc0) },
    { "movsxd rax,ecx", B(0x48, 0x63, 0xc1) }, { "xbegin", B(0xc7, 0xf8, 0, 0, 0, 0) },
    { "xabort", B(0xc6, 0xf8, 0) },
    /* C6/C7 with reg != 0 */
    { "c6 /1", B(0xc6, 0x08, 0x00) }, { "c7 /7", B(0xc7, 0x38, 0, 0, 0, 0) },
    /* MOVSXD without REX.W */
    { "63 no REX", B(0x63, 0x03) }, { "63 REX no W", B(0x40, 0x63, 0x03) },
    { "63 66", B(0x66, 0x63, 0x03) }, { "48 66 63 (REX dropped)", B(0x48, 0x66, 0x63, 0x03) },
    /* everything else */
    { "add", B(0x01, 0x08) }, { "mov sreg", B(0x8c, 0x08) }, { "mov to sreg", B(0x8e, 0x08) },
    { "movups", B(0x0f, 0x10, 0x00) }, { "nop", B(0x90) }, { "0f b8", B(0x0f, 0xb8, 0x00) },
    { "movnti", B(0x0f, 0xc3, 0x00) }, { "cmpxchg", B(0x0f, 0xb1, 0x08) }, { "xchg", B(0x87, 0x08) },
    { "or [rax]", B(0x09, 0x08) }, { "ud2", B(0x0f, 0x0b) }, { "0f 0f", B(0x0f, 0x0f) },
    { "16 bytes",
      B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x08) },
    { "15 prefixes", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66) },
    { "imm past 15 bytes",
      B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xc7, 0x00, 0, 0, 0) },
    { "moffs64 past 15 bytes", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xa1, M64) },
    { "moffs32 past 15 bytes",
      B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x67, 0xa1, M32) },
};

static void test_rejects(void **state)
{
    (void)state;
    struct x86_gprs g;
    regs__init(&g);
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        const struct reject *t = &rejects[i];
        struct x86_mmio_insn d, before;
        memset(&d, 0x5a, sizeof d);
        before = d;
        int rc = decode_exact(t->bytes, t->n, &g, &d);
        if (rc != X86_DECODE_UNSUPPORTED)
            fail_msg("%s: rc %d", t->name, rc);
        assert_memory_equal(&d, &before, sizeof d);
    }
    /* The 15-byte limit wins over a short buffer once 15 bytes are consumed. */
    static const uint8_t p15[15] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                     0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 };
    struct x86_mmio_insn d;
    assert_int_equal(decode_exact(p15, 14, &g, &d), X86_DECODE_TRUNCATED);
    assert_int_equal(decode_exact(p15, 15, &g, &d), X86_DECODE_UNSUPPORTED);
}

/* Decode `bytes`, complete with `data`, and compare the whole register file
 * with the expectation that only `dst` changed to `want`. */
static void complete_case(const char *name, const uint8_t *bytes, size_t n, uint64_t data,
                          int dst, uint64_t want)
{
    struct x86_gprs g, exp;
    struct x86_mmio_insn d;
    regs__init(&g);
    if (decode_exact(bytes, n, &g, &d) != X86_DECODE_OK)
        fail_msg("%s: decode failed", name);
    exp = g;
    exp.rip += n;
    if (dst >= 0)
        exp.r[dst] = want;
    x86_mmio_complete(&d, &g, data);
    for (int i = 0; i < X86_NR_GPRS; i++)
        if (g.r[i] != exp.r[i])
            fail_msg("%s: r%d = %#llx, want %#llx", name, i, (unsigned long long)g.r[i],
                     (unsigned long long)exp.r[i]);
    if (g.rip != exp.rip)
        fail_msg("%s: rip %#llx", name, (unsigned long long)g.rip);
}

#define COMPLETE(name, data, dst, want, ...)                                     \
    do {                                                                         \
        static const uint8_t b_[] = { __VA_ARGS__ };                            \
        complete_case(name, b_, sizeof b_, data, dst, want);                     \
    } while (0)

static void test_complete_merge_rules(void **state)
{
    (void)state;
    const uint64_t junk = 0xdeadbeefcafef00dull; /* bits above access_size are ignored */
    /* 8-bit: only the low byte changes */
    COMPLETE("mov al", junk, 0, (R(0) & ~0xffull) | 0x0d, 0x8a, 0x00);
    COMPLETE("mov r11b", junk, 11, (R(11) & ~0xffull) | 0x0d, 0x44, 0x8a, 0x18);
    COMPLETE("mov spl", 0x77, 4, (R(4) & ~0xffull) | 0x77, 0x40, 0x8a, 0x24, 0x24);
    /* high-8: bits 15:8 of RAX..RBX */
    COMPLETE("mov ah", junk, 0, (R(0) & ~0xff00ull) | 0x0d00, 0x8a, 0x20);
    COMPLETE("mov bh", 0xab, 3, (R(3) & ~0xff00ull) | 0xab00, 0x8a, 0x38);
    /* 16-bit: upper 48 bits kept */
    COMPLETE("mov cx", junk, 1, (R(1) & ~0xffffull) | 0xf00d, 0x66, 0x8b, 0x08);
    /* 32-bit: zero-extends to 64 */
    COMPLETE("mov ecx", junk, 1, 0xcafef00dull, 0x8b, 0x08);
    /* 64-bit: whole register */
    COMPLETE("mov rcx", junk, 1, junk, 0x48, 0x8b, 0x08);
    /* MOVZX */
    COMPLETE("movzx eax,byte", 0xff, 0, 0xff, 0x0f, 0xb6, 0x00);
    COMPLETE("movzx rax,word", 0xffff8000, 0, 0x8000, 0x48, 0x0f, 0xb7, 0x00);
    COMPLETE("movzx ax,byte", 0x80, 0, (R(0) & ~0xffffull) | 0x80, 0x66, 0x0f, 0xb6, 0x00);
    /* MOVSX */
    COMPLETE("movsx eax,byte", 0x80, 0, 0xffffff80ull, 0x0f, 0xbe, 0x00);
    COMPLETE("movsx eax,byte +", 0x7f, 0, 0x7f, 0x0f, 0xbe, 0x00);
    COMPLETE("movsx rax,word", 0x8000, 0, 0xffffffffffff8000ull, 0x48, 0x0f, 0xbf, 0x00);
    COMPLETE("movsx ax,byte", 0x80, 0, (R(0) & ~0xffffull) | 0xff80, 0x66, 0x0f, 0xbe, 0x00);
    COMPLETE("movsx r9d,word", 0x12348001, 9, 0xffff8001ull, 0x44, 0x0f, 0xbf, 0x08);
    /* MOVSXD */
    COMPLETE("movsxd neg", 0x80000000, 0, 0xffffffff80000000ull, 0x48, 0x63, 0x00);
    COMPLETE("movsxd pos", 0xffffffff7fffffffull, 0, 0x7fffffff, 0x48, 0x63, 0x00);
    /* moffs loads into AL/AX/EAX/RAX by the same rules */
    COMPLETE("movabs al", junk, 0, (R(0) & ~0xffull) | 0x0d, 0xa0, M64);
    COMPLETE("41 movabs al (not r8b)", junk, 0, (R(0) & ~0xffull) | 0x0d, 0x41, 0xa0, M64);
    COMPLETE("movabs ax", junk, 0, (R(0) & ~0xffffull) | 0xf00d, 0x66, 0xa1, M64);
    COMPLETE("movabs eax", junk, 0, 0xcafef00dull, 0xa1, M64);
    COMPLETE("movabs rax", junk, 0, junk, 0x48, 0xa1, M64);
    COMPLETE("addr32 movabs eax", junk, 0, 0xcafef00dull, 0x67, 0xa1, M32);
    /* stores: only RIP moves */
    COMPLETE("store reg", junk, -1, 0, 0x48, 0x89, 0x08);
    COMPLETE("store imm", junk, -1, 0, 0xc7, 0x05, 0, 0, 0, 0, 1, 2, 3, 4);
    COMPLETE("store moffs", junk, -1, 0, 0x48, 0xa3, M64);
    COMPLETE("store addr32 moffs", junk, -1, 0, 0x67, 0xa2, M32);
}

/* A hand-made insn the decoder could not produce must not write a register. */
static void test_complete_defensive(void **state)
{
    (void)state;
    struct x86_gprs g, exp;
    regs__init(&g);
    exp = g;
    struct x86_mmio_insn bad = { .length = 3, .dir = X86_MMIO_LOAD, .access_size = 4,
                                 .reg = 200, .reg_size = 4 };
    x86_mmio_complete(&bad, &g, 1);
    bad.reg = 2;
    bad.reg_high8 = true; /* high8 needs reg 4..7 */
    x86_mmio_complete(&bad, &g, 1);
    bad.reg_high8 = false;
    bad.access_size = 3;
    x86_mmio_complete(&bad, &g, 1);
    exp.rip += 9;
    assert_memory_equal(&g, &exp, sizeof g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_truncation_every_length),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_complete_merge_rules),
        cmocka_unit_test(test_complete_defensive),
    };
    return cmocka_run_group_tests_name("x86_decode", tests, NULL, NULL);
}
