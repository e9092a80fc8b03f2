/* Cost of decoding one MMIO instruction (vcpu/x86_decode): a mix of the
 * forms a driver emits (plain MOV, SIB, RIP-relative, immediate, MOVZX),
 * plus x86_mmio_complete.  Prints ns per decode; no assertions. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "vcpu/x86_decode.h"

struct enc {
    uint8_t b[15];
    uint8_t n;
};

static const struct enc mix[] = {
    { { 0x89, 0x08 }, 2 },                                     /* mov [rax],ecx */
    { { 0x48, 0x8b, 0x46, 0x08 }, 4 },                         /* mov rax,[rsi+8] */
    { { 0x43, 0x8b, 0x44, 0xc8, 0x10 }, 5 },                   /* mov eax,[r8+r9*8+16] */
    { { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }, 6 },             /* mov eax,[rip+256] */
    { { 0xc7, 0x80, 0xd0, 0x00, 0x00, 0x00, 1, 0, 0, 0 }, 10 }, /* mov dword [rax+0xd0],1 */
    { { 0x0f, 0xb7, 0x47, 0x02 }, 4 },                         /* movzx eax,word [rdi+2] */
    { { 0x66, 0x89, 0x4b, 0x0c }, 4 },                         /* mov [rbx+12],cx */
    { { 0x88, 0x28 }, 2 },                                     /* mov [rax],ch */
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
    enum { N = 4000000, M = sizeof mix / sizeof mix[0] };
    struct x86_gprs g = { .rip = 0xffffffff81000000ull };
    for (int i = 0; i < X86_NR_GPRS; i++)
        g.r[i] = 0xfebf0000ull + 0x100u * (unsigned)i;
    uint64_t sink = 0;
    struct x86_mmio_insn d;

    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
        const struct enc *e = &mix[i % M];
        if (x86_decode_mmio(e->b, e->n, &g, &d) == X86_DECODE_OK)
            sink += d.addr;
    }
    double t1 = now_ns();
    struct x86_gprs w = g;
    for (long i = 0; i < N; i++) {
        const struct enc *e = &mix[i % M];
        if (x86_decode_mmio(e->b, e->n, &w, &d) == X86_DECODE_OK)
            x86_mmio_complete(&d, &w, (uint64_t)i);
    }
    double t2 = now_ns();
    sink += w.r[0];

    printf("x86_decode: %.1f ns/decode (%d decodes, %d encodings mix)\n", (t1 - t0) / N, N, M);
    printf("x86_decode: %.1f ns/decode+complete\n", (t2 - t1) / N);
    printf("x86_decode: checksum %llx\n", (unsigned long long)sink);
    return 0;
}
