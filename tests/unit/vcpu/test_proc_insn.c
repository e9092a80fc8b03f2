/* vcpu/proc/proc_insn: IN/OUT/HLT/CLI/STI/LIDT decoding, every accepted
 * form, truncation at every length, and rejected forms; the naming of
 * system-call and mode-changing instructions for fault reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vcpu/proc/proc_insn.h"

struct case_ {
    uint8_t code[15];
    uint8_t len;
    enum proc_insn_kind kind;
    uint8_t size;
    uint16_t port;
    uint64_t addr;
};

static struct x86_gprs regs(void)
{
    struct x86_gprs g;
    for (int i = 0; i < X86_NR_GPRS; i++)
        g.r[i] = 0x1000ull * (uint64_t)(i + 1);
    g.r[X86_RDX] = 0xABCD03F8;   /* only DX counts */
    g.rip = 0x200000;
    return g;
}

static const struct case_ cases[] = {
    {{0xE4, 0x60}, 2, PROC_INSN_IN, 1, 0x60, 0},
    {{0xE5, 0x71}, 2, PROC_INSN_IN, 4, 0x71, 0},
    {{0x66, 0xE5, 0x71}, 3, PROC_INSN_IN, 2, 0x71, 0},
    {{0xE6, 0x80}, 2, PROC_INSN_OUT, 1, 0x80, 0},
    {{0xE7, 0x80}, 2, PROC_INSN_OUT, 4, 0x80, 0},
    {{0x66, 0xE7, 0x80}, 3, PROC_INSN_OUT, 2, 0x80, 0},
    {{0xEC}, 1, PROC_INSN_IN, 1, 0x3F8, 0},
    {{0xED}, 1, PROC_INSN_IN, 4, 0x3F8, 0},
    {{0x66, 0xED}, 2, PROC_INSN_IN, 2, 0x3F8, 0},
    {{0xEE}, 1, PROC_INSN_OUT, 1, 0x3F8, 0},
    {{0xEF}, 1, PROC_INSN_OUT, 4, 0x3F8, 0},
    {{0x66, 0xEF}, 2, PROC_INSN_OUT, 2, 0x3F8, 0},
    {{0x48, 0xEF}, 2, PROC_INSN_OUT, 4, 0x3F8, 0},       /* REX.W is ignored */
    {{0xF4}, 1, PROC_INSN_HLT, 0, 0, 0},
    {{0xFA}, 1, PROC_INSN_CLI, 0, 0, 0},
    {{0xFB}, 1, PROC_INSN_STI, 0, 0, 0},
    {{0x0F, 0x01, 0x18}, 3, PROC_INSN_LIDT, 0, 0, 0x1000},               /* [rax] */
    {{0x0F, 0x01, 0x5D, 0x08}, 4, PROC_INSN_LIDT, 0, 0, 0x6008},         /* [rbp+8] */
    {{0x0F, 0x01, 0x5D, 0xF8}, 4, PROC_INSN_LIDT, 0, 0, 0x5FF8},         /* [rbp-8] */
    {{0x0F, 0x01, 0x1C, 0x24}, 4, PROC_INSN_LIDT, 0, 0, 0x5000},         /* [rsp] */
    {{0x0F, 0x01, 0x9B, 0x00, 0x01, 0x00, 0x00}, 7, PROC_INSN_LIDT, 0, 0, 0x4100}, /* [rbx+256] */
    {{0x0F, 0x01, 0x1D, 0x10, 0x00, 0x00, 0x00}, 7, PROC_INSN_LIDT, 0, 0, 0x200017}, /* [rip+16] */
    {{0x41, 0x0F, 0x01, 0x18}, 4, PROC_INSN_LIDT, 0, 0, 0x9000},         /* [r8] */
    {{0x0F, 0x01, 0x1C, 0x8D, 0x00, 0x10, 0x00, 0x00}, 8, PROC_INSN_LIDT, 0, 0, 0x9000}, /* [rcx*4+0x1000] */
    {{0x42, 0x0F, 0x01, 0x1C, 0x20}, 5, PROC_INSN_LIDT, 0, 0, 0xE000},   /* [rax+r12] */
    {{0x0F, 0x01, 0x1C, 0x60}, 4, PROC_INSN_LIDT, 0, 0, 0x1000},         /* [rax+(none)*2] */
    {{0x41, 0x0F, 0x01, 0x5D, 0x00}, 5, PROC_INSN_LIDT, 0, 0, 0xE000},   /* [r13+0] */
};

static void test_accepted_forms(void **state)
{
    (void)state;
    struct x86_gprs g = regs();
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct case_ *c = &cases[i];
        struct proc_insn in;
        int rc = proc_insn__decode(c->code, c->len, &g, &in);
        if (rc != X86_DECODE_OK)
            fail_msg("case %u: rc %d", i, rc);
        assert_int_equal(in.kind, c->kind);
        assert_int_equal(in.length, c->len);
        if (c->kind == PROC_INSN_IN || c->kind == PROC_INSN_OUT) {
            assert_int_equal(in.size, c->size);
            assert_int_equal(in.port, c->port);
        }
        if (c->kind == PROC_INSN_LIDT && in.addr != c->addr)
            fail_msg("case %u: addr 0x%llx, want 0x%llx", i, (unsigned long long)in.addr,
                     (unsigned long long)c->addr);
        /* Every shorter prefix is truncated, never misread. */
        for (uint8_t k = 0; k < c->len; k++)
            assert_int_equal(proc_insn__decode(c->code, k, &g, &in), X86_DECODE_TRUNCATED);
    }
}

static void test_rejected_forms(void **state)
{
    (void)state;
    static const struct { uint8_t code[4]; uint8_t len; } bad[] = {
        {{0x6C}, 1},                   /* insb */
        {{0xF3, 0x6E}, 2},             /* rep outsb */
        {{0x0F, 0x01, 0xD8}, 3},       /* mod=3 (vmrun) */
        {{0x0F, 0x01, 0x10}, 3},       /* lgdt */
        {{0x0F, 0x00, 0x18}, 3},       /* ltr */
        {{0x48, 0x66, 0xEF}, 3},       /* REX before a legacy prefix */
        {{0x2E, 0xEC}, 2},             /* segment override */
        {{0x67, 0x0F, 0x01, 0x18}, 4}, /* address-size override */
        {{0xF0, 0xEE}, 2},             /* lock */
        {{0xCD, 0x80}, 2},             /* int 0x80 */
        {{0x90}, 1},
    };
    struct x86_gprs g = regs();
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct proc_insn in;
        assert_int_equal(proc_insn__decode(bad[i].code, bad[i].len, &g, &in), X86_DECODE_UNSUPPORTED);
    }
    /* 15 prefixes: never reads past the architectural limit. */
    uint8_t many[32];
    memset(many, 0x66, sizeof many);
    struct proc_insn in;
    assert_int_equal(proc_insn__decode(many, sizeof many, &g, &in), X86_DECODE_TRUNCATED);
}

/* proc_insn__gate names what a fault report says the guest tried. */
static void test_gate_names(void **state)
{
    (void)state;
    static const struct { uint8_t code[6]; uint8_t len; enum proc_insn_gate gate; } cases[] = {
        {{0x0F, 0x05}, 2, PROC_GATE_SYSCALL},
        {{0x48, 0x0F, 0x05}, 3, PROC_GATE_SYSCALL},       /* REX ignored */
        {{0x0F, 0x34}, 2, PROC_GATE_SYSENTER},
        {{0xCD, 0x80}, 2, PROC_GATE_INT80},
        {{0x66, 0xCD, 0x80}, 3, PROC_GATE_INT80},
        {{0xCD, 0x81}, 2, PROC_GATE_INT},
        {{0x48, 0xCF}, 2, PROC_GATE_FAR},                  /* iretq */
        {{0xCF}, 1, PROC_GATE_FAR},                        /* iret (compat mode) */
        {{0xCB}, 1, PROC_GATE_FAR},                        /* lret */
        {{0x48, 0xCA, 0x08, 0x00}, 4, PROC_GATE_FAR},      /* lretq $8 */
        {{0xEA, 0, 0, 0, 0, 0x23}, 6, PROC_GATE_FAR},      /* ljmp (compat mode) */
        {{0xFF, 0x2C, 0x24}, 3, PROC_GATE_FAR},            /* ljmp *(%rsp) */
        {{0xFF, 0x18}, 2, PROC_GATE_FAR},                  /* lcall *(%rax) */
        {{0xFF, 0xE0}, 2, PROC_GATE_NONE},                 /* jmp *%rax */
        {{0xFF, 0xD0}, 2, PROC_GATE_NONE},                 /* call *%rax */
        {{0x0F, 0x07}, 2, PROC_GATE_NONE},                 /* sysret: privileged, not an entry */
        {{0x0F}, 1, PROC_GATE_NONE},                       /* truncated */
        {{0xCD}, 1, PROC_GATE_NONE},
        {{0x66, 0x66}, 2, PROC_GATE_NONE},
        {{0xF4}, 1, PROC_GATE_NONE},
        {{0}, 0, PROC_GATE_NONE},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (proc_insn__gate(cases[i].code, cases[i].len) != cases[i].gate)
            fail_msg("case %u: gate %d, want %d", i, proc_insn__gate(cases[i].code, cases[i].len),
                     cases[i].gate);
    /* Prefixes alone, as many as fit: no read past the buffer. */
    uint8_t many[15];
    memset(many, 0x48, sizeof many);
    assert_int_equal(proc_insn__gate(many, sizeof many), PROC_GATE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_rejected_forms),
        cmocka_unit_test(test_gate_names),
    };
    return cmocka_run_group_tests_name("proc_insn", tests, NULL, NULL);
}
