/* Escape attempts against the process backend (`--nic none`): system
 * calls by every entry instruction, self-modifying code, a jump outside
 * RAM, stack exhaustion.  The guest runs in ring 3 of a sandboxed stub: a
 * system call must never reach the host kernel (seccomp), and a fault must
 * stop the VM with a report.  Reaching the "observed" line of a system call
 * attempt means the call returned: not contained. */
#include <string.h>

#include "guest/prog/attack.h"

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
