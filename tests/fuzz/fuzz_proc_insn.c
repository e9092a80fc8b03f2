/* libFuzzer: the in/out/hlt/cli/sti/lidt decoder never reads past its
 * buffer and reports a length within it; nor does the fault-report naming
 * of system-call and far-transfer instructions (proc_insn__gate). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/proc/proc_insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct x86_gprs g;
    memset(&g, 0, sizeof g);
    for (int i = 0; i < X86_NR_GPRS; i++)
        g.r[i] = 0x0101010101010101ull * (uint64_t)i;
    g.rip = 0x100000;
    /* Copy to an exact-size heap buffer so ASan sees any overread. */
    uint8_t *code = malloc(size ? size : 1);
    if (!code)
        return 0;
    memcpy(code, data, size);
    struct proc_insn in;
    if (proc_insn__decode(code, size, &g, &in) == X86_DECODE_OK &&
        (in.length == 0 || in.length > size || in.length > 15))
        abort();
    if ((unsigned)proc_insn__gate(code, size) > PROC_GATE_FAR)
        abort();
    free(code);
    return 0;
}
