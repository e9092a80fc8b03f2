/* `iovirt run --kernel bzImage` on any host: each bad use of a Linux kernel
 * ends with exit status 2 and one error line that names the problem (a
 * missing or non-regular initrd, --append/--initrd with an iovirt ELF or
 * `iovirt native`, the proc backend, no hardware KVM), and a VM that refuses a bzImage gives
 * back every byte of host memory it took (its RAM below 1 MiB included).
 * The boot itself is tests/testvm/test_linux_boot.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/platform/linux_boot.h"
#include "hv/vm.h"
#include "lib/log.h"
#include "testbed/testbed.h"
#include "tests/integration/run_tool.h"
#include "vcpu/vcpu.h"

static struct tool_run run;
static char bz[64], elf[PATH_MAX];

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

/* A minimal well-formed 2.15 bzImage: 4 setup sectors, 4 KiB of kernel,
 * pref_address 16 MiB, init_size `init`. */
static void write_bzimage(const char *path, uint32_t init)
{
    static uint8_t f[5 * 512 + 4096];
    memset(f, 0, sizeof f);
    f[LINUX_HDR_SETUP_SECTS] = 4;
    put32(f + LINUX_HDR_SYSSIZE, 4096 / 16);
    f[LINUX_HDR_BOOT_FLAG] = 0x55, f[LINUX_HDR_BOOT_FLAG + 1] = 0xaa;
    f[LINUX_HDR_JUMP + 1] = 0x6a;
    put32(f + LINUX_HDR_MAGIC_OFF, LINUX_HDR_MAGIC);
    f[LINUX_HDR_VERSION] = 0x0f, f[LINUX_HDR_VERSION + 1] = 0x02;
    f[LINUX_HDR_LOADFLAGS] = LINUX_LOADED_HIGH;
    put32(f + LINUX_HDR_INITRD_ADDR_MAX, 0x7fffffff);
    f[LINUX_HDR_XLOADFLAGS] = 0x7f;
    put32(f + LINUX_HDR_CMDLINE_SIZE, 2047);
    put32(f + LINUX_HDR_PREF_ADDRESS, 16u << 20);
    put32(f + LINUX_HDR_INIT_SIZE, init);
    FILE *o = fopen(path, "wb");
    assert_non_null(o);
    assert_int_equal(fwrite(f, 1, sizeof f, o), sizeof f);
    fclose(o);
}

static void expect_clean_failure(char *const argv[], const char *needle)
{
    assert_int_equal(tool__run(&run, argv), 0);
    if (run.status != 2 || !strstr(run.err, needle) || tool__error_lines(run.err) != 1)
        fprintf(stderr, "status %d, stderr:\n%s\n", run.status, run.err);
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, needle));
    assert_int_equal(tool__error_lines(run.err), 1);
    assert_int_equal(tool__stray_stubs(), 0);
}

static void test_cli_refusals(void **s)
{
    (void)s;
    char *missing[] = {"iovirt", "run", "--backend", "kvm", "--kernel", bz, "--initrd", "/nonexistent/initrd", NULL};
    expect_clean_failure(missing, "--initrd '/nonexistent/initrd': No such file or directory");
    char *dir[] = {"iovirt", "run", "--kernel", bz, "--initrd", "/tmp", NULL};
    expect_clean_failure(dir, "--initrd '/tmp': not a regular file");
    char *on_elf[] = {"iovirt", "run", "--kernel", elf, "--append", "console=ttyS0", "--", "hello", NULL};
    expect_clean_failure(on_elf, "--initrd and --append are for a Linux bzImage");
    char *native[] = {"iovirt", "native", "--append", "x", "--", "hello", NULL};
    assert_int_equal(tool__run(&run, native), 0);
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, "iovirt native: --append is for a Linux kernel in a VM"));
    char *proc[] = {"iovirt", "run", "--backend", "proc", "--mem", "8M", "--kernel", bz, NULL};
    expect_clean_failure(proc, "this image is a Linux bzImage (a ring-0 kernel: it needs the kvm backend)");
    char why[160];
    if (kvm_vcpu_ops.probe(why, sizeof why) != 0) {
        /* this host has no hardware KVM: the image cannot pick a backend */
        char *nokvm[] = {"iovirt", "run", "--kernel", bz, "--append", "console=ttyS0", NULL};
        expect_clean_failure(nokvm, "no backend here boots Linux bzImage images; kvm: ");
    }
}

/* hv_vm__create refuses a bzImage (a missing initrd, RAM too small for
 * init_size, the proc backend) and gives back all host memory. */
static void test_vm_refusal_frees_memory(void **s)
{
    (void)s;
    log__set_quiet(1);
    struct testbed *t = calloc(1, sizeof(*t));
    struct testbed_config tc = {.mode = TESTBED_NONE, .mem_bytes = 8ull << 20, .host_mem_bytes = 64ull << 20,
                                .kernel = elf, .cmdline = "hello", .backend = &proc_vcpu_ops};
    assert_int_equal(testbed__create(t, &tc), 0);
    uint64_t free0 = physmem__free_bytes(&t->plat.pm);
    struct hv_vm *vm = calloc(1, sizeof(*vm));
    struct hv_vm_config vc = t->vm.cfg;
    vc.name = "linux";
    vc.kernel_path = bz;
    vc.cmdline = "console=ttyS0";
    vc.mem_bytes = 32ull << 20;
    vc.backend = NULL;
    vc.initrd_path = "/nonexistent/initrd";
    assert_int_equal(hv_vm__create(vm, &vc), -ENOENT);
    assert_int_equal(physmem__free_bytes(&t->plat.pm), free0);
    vc.initrd_path = NULL;                  /* 16 MiB + 64 MiB > 1 + 32 MiB */
    assert_int_equal(hv_vm__create(vm, &vc), -E2BIG);
    assert_int_equal(physmem__free_bytes(&t->plat.pm), free0);
    vc.backend = &proc_vcpu_ops;
    assert_int_equal(hv_vm__create(vm, &vc), -ENOEXEC);
    assert_int_equal(physmem__free_bytes(&t->plat.pm), free0);
    testbed__destroy(t);
    free(vm);
    free(t);
}

int main(void)
{
    tool__init();
    snprintf(bz, sizeof bz, "/tmp/iovirt-bzimage-%d", (int)getpid());
    write_bzimage(bz, 64u << 20);
    if (tool__path("guest/iovirt-guest.elf", elf, sizeof elf))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_refusals),
        cmocka_unit_test(test_vm_refusal_frees_memory),
    };
    int r = cmocka_run_group_tests_name("cli_linux", tests, NULL, NULL);
    unlink(bz);
    return r;
}
