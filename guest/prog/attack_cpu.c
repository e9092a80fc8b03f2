/* Escape attempts against the process backend (`--nic none`): system
 * calls by every entry instruction, in 64-bit mode and after entering
 * 32-bit compatibility mode (iretq to CS 0x23, or a forged rt_sigreturn
 * through the stub's restorer: guest/prog/compat32.h), self-modifying
 * code, a jump outside RAM, stack exhaustion.  The guest runs in ring 3 of
 * a sandboxed stub: a system call must never reach the host kernel, and
 * the VM must stop with a report -- seccomp's SIGSYS, or a fault where the
 * host or CPU has no such entry (docs/security.md).  Reaching the
 * "observed" line of a system call attempt means the call returned: not
 * contained. */
#include <stdbool.h>
#include <string.h>

#include "guest/hal/hal.h"
#include "guest/prog/attack.h"
#include "guest/prog/compat32.h"

#define ESCAPE_PATH "/tmp/iovirt-escape"

static const char *path_arg(int argc, char **argv)
{
    return argc > 1 ? argv[1] : ESCAPE_PATH;
}

int attack_cpu__syscall(struct kernel *k, int argc, char **argv)
{
    (void)k;
    const char *path = path_arg(argc, argv);
    ATTACK_TRY("syscall", "`syscall` creat(\"%s\", 0644) (x86-64 nr 85)", path);
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(85L), "D"(path), "S"(0644L) : "rcx", "r11", "memory");
    ATTACK_SAW("syscall", "the system call returned %ld", ret);
    return 1;
}

int attack_cpu__int80(struct kernel *k, int argc, char **argv)
{
    (void)k;
    const char *path = path_arg(argc, argv);
    ATTACK_TRY("int80", "`int 0x80` creat(\"%s\", 0644) (i386 nr 8)", path);
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(8L), "b"(path), "c"(0644L) : "memory");
    ATTACK_SAW("int80", "int 0x80 returned %ld", ret);
    return 1;
}

int attack_cpu__sysenter(struct kernel *k, int argc, char **argv)
{
    (void)k;
    const char *path = path_arg(argc, argv);
    ATTACK_TRY("sysenter", "`sysenter` creat(\"%s\", 0644) (i386 nr 8)", path);
    long ret, mode = 0644;
    __asm__ volatile("sysenter" : "=a"(ret), "+c"(mode) : "a"(8L), "b"(path) : "memory", "rdx");
    ATTACK_SAW("sysenter", "sysenter returned %ld", ret);
    return 1;
}

/* Code, stack and path must be addressable in 32 bits (RAM is at 1 MiB). */
static bool below_4g(const char *name, const void *p)
{
    if ((uint64_t)(uintptr_t)p >> 32) {
        kprintf("ATTACK %s: %p is beyond 4 GiB, cannot run in compatibility mode\n", name, p);
        return false;
    }
    return true;
}

static int compat_attempt(const char *name, void (*entry)(void), const char *insn, int argc, char **argv)
{
    const char *path = path_arg(argc, argv);
    if (!below_4g(name, path))
        return 2;
    ATTACK_TRY(name, "iretq to CS 0x23 (32-bit compatibility mode), then `%s` creat(\"%s\", 0644) (i386 nr 8)",
               insn, path);
    bool irq = hal__irq_save();   /* no interrupt frame while CS is 32-bit */
    long ret = compat32__iret(entry, COMPAT32_NR_CREAT, (uint32_t)(uintptr_t)path, 0644);
    hal__irq_restore(irq);
    ATTACK_SAW(name, "`%s` in compatibility mode returned %ld", insn, ret);
    return 1;
}

int attack_cpu__compat_int80(struct kernel *k, int argc, char **argv)
{
    (void)k;
    return compat_attempt("compat_int80", compat32_int80, "int 0x80", argc, argv);
}

int attack_cpu__compat_syscall(struct kernel *k, int argc, char **argv)
{
    (void)k;
    return compat_attempt("compat_syscall", compat32_syscall, "syscall", argc, argv);
}

int attack_cpu__compat_sysenter(struct kernel *k, int argc, char **argv)
{
    (void)k;
    return compat_attempt("compat_sysenter", compat32_sysenter, "sysenter", argc, argv);
}

static struct compat32_sigframe sigframe;
static uint8_t sigframe_stack[4096] __attribute__((aligned(16)));

/* The seccomp filter allows rt_sigreturn only from the stub's text; the
 * stub is mapped in this address space, so jump to its own restorer with
 * a frame of ours that returns to 32-bit code. */
int attack_cpu__sigreturn(struct kernel *k, int argc, char **argv)
{
    (void)k;
    const char *path = path_arg(argc, argv);
    if (!below_4g("sigreturn", path) || !below_4g("sigreturn", sigframe_stack))
        return 2;
    uint64_t restorer = compat32__find_restorer();
    if (!restorer) {
        kprintf("ATTACK sigreturn: no rt_sigreturn restorer in the stub's image at 0x%llx\n",
                (unsigned long long)ATTACK_STUB_TEXT_VA);
        return 1;
    }
    compat32__forge(&sigframe, compat32_int80, COMPAT32_NR_CREAT, (uint32_t)(uintptr_t)path, 0644,
                    (uint64_t)(uintptr_t)(sigframe_stack + sizeof sigframe_stack));
    ATTACK_TRY("sigreturn", "forged rt_sigreturn frame (CS 0x23) through the stub's restorer at 0x%llx, "
               "then `int 0x80` creat(\"%s\", 0644) (i386 nr 8)", (unsigned long long)restorer, path);
    bool irq = hal__irq_save();
    long ret = compat32__sigreturn(&sigframe, restorer);
    hal__irq_restore(irq);
    ATTACK_SAW("sigreturn", "`int 0x80` after the forged rt_sigreturn returned %ld", ret);
    return 1;
}

__attribute__((noinline, aligned(16))) static int patch_target(void)
{
    __asm__ volatile("" ::: "memory");
    return 1;
}

int attack_cpu__selfmod(struct kernel *k, int argc, char **argv)
{
    (void)k, (void)argc, (void)argv;
    int (*volatile fn)(void) = patch_target;
    ATTACK_TRY("selfmod", "overwrite my own code at 0x%llx with `mov eax, 42; ret` and call it",
               (unsigned long long)(uintptr_t)fn);
    static const uint8_t code[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3};
    volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)fn;
    for (unsigned i = 0; i < sizeof code; i++)
        dst[i] = code[i];
    __asm__ volatile("mfence" ::: "memory");
    int r = fn();
    ATTACK_SAW("selfmod", "patched code returned %d: my RAM is mine to rewrite, nothing else changed", r);
    return r == 42 ? 0 : 1;
}

int attack_cpu__jump(struct kernel *k, int argc, char **argv)
{
    uint64_t target = 0x40000000ull;
    if (argc > 1 && cmdline__parse_u64(argv[1], &target))
        return 2;
    ATTACK_TRY("jump", "jump to 0x%llx (RAM is 0x%llx..0x%llx)", (unsigned long long)target,
               (unsigned long long)k->bp.ram_base, (unsigned long long)(k->bp.ram_base + k->bp.ram_size));
    void (*volatile fn)(void) = (void (*)(void))(uintptr_t)target;
    fn();
    ATTACK_SAW("jump", "execution came back");
    return 1;
}

__attribute__((noinline)) static uint64_t recurse(uint64_t depth, volatile uint64_t *limit)
{
    if (depth >= *limit)
        return 0;
    volatile uint8_t frame[4096];
    frame[0] = (uint8_t)depth;
    frame[4095] = (uint8_t)depth;
    return recurse(depth + 1, limit) + frame[0] + frame[4095];
}

int attack_cpu__stack(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    ATTACK_TRY("stack", "recurse with 4 KiB frames from rsp 0x%llx until the stack leaves RAM (base 0x%llx)",
               (unsigned long long)sp, (unsigned long long)k->bp.ram_base);
    volatile uint64_t limit = ~0ull;
    uint64_t r = recurse(0, &limit);
    ATTACK_SAW("stack", "recursion returned %llu", (unsigned long long)r);
    return 1;
}
