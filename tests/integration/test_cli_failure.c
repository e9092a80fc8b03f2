/* Clean failure of the tool (issue 8 item 3): bad command-line values, a
 * missing / truncated / garbage / empty guest ELF, an ELF that does not fit
 * in guest RAM, no permission for a namespace, not enough host physical
 * memory.  Each: exit status 2,
 * exactly one error line that names the problem, and nothing left behind
 * (no iovirt-stub orphaned to us, no TAP device in our network namespace;
 * memfds and the private namespace die with the process, which is gone). */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testbed/testbed.h"
#include "lib/log.h"
#include "tests/integration/run_tool.h"

static struct tool_run run;

static void expect_clean_failure(char *const argv[], const char *needle)
{
    assert_int_equal(tool__run(&run, argv), 0);
    if (run.status != 2 || !strstr(run.err, needle) || tool__error_lines(run.err) != 1)
        fprintf(stderr, "status %d, stderr:\n%s\n", run.status, run.err);
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, needle));
    assert_int_equal(tool__error_lines(run.err), 1);
    assert_null(strstr(run.out, "iovirt-guest:"));   /* no guest ran */
    assert_int_equal(tool__stray_stubs(), 0);
    assert_false(tool__tap_in_our_netns());
}

static void test_bad_cli_values(void **s)
{
    (void)s;
    static const struct {
        const char *a[6];
        const char *needle;
    } cases[] = {
        {{"--nic", "bogus", "--", "hello"}, "unknown NIC mode 'bogus'"},
        {{"--mem", "3M", "--", "hello"}, "--mem '3M'"},
        {{"--mem", "lots", "--", "hello"}, "--mem 'lots'"},
        {{"--mem", "0", "--", "hello"}, "--mem '0'"},
        {{"--host-mem", "1K", "--", "hello"}, "--host-mem '1K'"},
        {{"--line-rate", "fast", "--", "hello"}, "--line-rate 'fast'"},
        {{"--sink-port", "70000", "--", "hello"}, "--sink-port '70000'"},
        {{"--bogus", "--", "hello"}, "unknown option '--bogus'"},
        {{"--nic"}, "option '--nic' needs a value"},
        {{"--"}, "no guest program given"},
        {{"--host-mem", "16M", "--mem", "64M", "--", "hello"}, "--mem does not fit in --host-mem"},
        /* no interrupt remapping: assigning the NIC is refused (the DMA
         * interrupt-window attack), the line names the flag */
        {{"--nic", "assigned", "--no-interrupt-remapping", "--", "hello"}, "--allow-unsafe-interrupts"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[10] = {"iovirt", "run"};
        unsigned n = 2;
        for (unsigned j = 0; j < 6 && cases[i].a[j]; j++)
            argv[n++] = (char *)cases[i].a[j];
        argv[n] = NULL;
        expect_clean_failure(argv, cases[i].needle);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void *read_guest(size_t *len)
{
    char path[PATH_MAX];
    assert_int_equal(tool__path("guest/iovirt-guest.elf", path, sizeof path), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n > (long)sizeof(Elf64_Ehdr));
    rewind(f);
    void *p = malloc((size_t)n);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void run_kernel(const char *path, const char *mem, const char *needle)
{
    char *argv[] = {"iovirt", "run", "--kernel", (char *)path, "--mem", (char *)mem, "--", "hello", NULL};
    expect_clean_failure(argv, needle);
}

static void test_bad_guest_elf(void **s)
{
    (void)s;
    char path[128];
    snprintf(path, sizeof path, "/tmp/iovirt-badelf-%d.elf", (int)getpid());

    run_kernel("/nonexistent/iovirt-guest.elf", "64M", "'/nonexistent/iovirt-guest.elf'");
    run_kernel("/tmp", "64M", "not a regular file");

    size_t len;
    uint8_t *elf = read_guest(&len);
    write_file(path, elf, 200);                      /* truncated */
    run_kernel(path, "64M", "cannot load guest kernel");
    write_file(path, "", 0);                         /* empty */
    run_kernel(path, "64M", "shorter than the ELF header");
    uint8_t junk[4096];
    for (unsigned i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 2654435761u >> 13);
    write_file(path, junk, sizeof junk);             /* garbage */
    run_kernel(path, "64M", "bad magic");

    /* A well-formed ELF whose last PT_LOAD wants 256 MiB: does not fit. */
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    assert_true(eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= len);
    Elf64_Phdr *ph = (Elf64_Phdr *)(elf + eh->e_phoff), *last = NULL;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            last = &ph[i];
    assert_non_null(last);
    last->p_memsz = 256ull << 20;
    write_file(path, elf, len);
    run_kernel(path, "64M", "cannot load guest kernel");
    free(elf);
    unlink(path);
}

/* No permission for a namespace: unshare() fails with EPERM. */
static void test_no_namespace_permission(void **s)
{
    (void)s;
    char *argv[] = {"iovirt", "run", "--nic", "assigned", "--", "hello", NULL};
    assert_int_equal(tool__run_opts(&run, argv, true), 0);
    if (run.status != 2 || tool__error_lines(run.err) != 1)
        fprintf(stderr, "status %d, stderr:\n%s\n", run.status, run.err);
    assert_int_equal(run.status, 2);
    assert_non_null(strstr(run.err, "unshare(CLONE_NEWNET)"));
    assert_non_null(strstr(run.err, "Operation not permitted"));
    assert_int_equal(tool__error_lines(run.err), 1);
    assert_null(strstr(run.out, "iovirt-guest:"));
    assert_int_equal(tool__stray_stubs(), 0);
    assert_false(tool__tap_in_our_netns());
}

/* Out of host physical memory at run time: a second VM that does not fit
 * next to the first is refused with -ENOMEM and gives back what it took. */
static void test_out_of_host_memory(void **s)
{
    (void)s;
    char kernel[PATH_MAX];
    assert_int_equal(tool__path("guest/iovirt-guest.elf", kernel, sizeof kernel), 0);
    log__set_quiet(1);
    struct testbed *t = calloc(1, sizeof(*t));
    struct testbed_config tc = {.mode = TESTBED_NONE, .mem_bytes = 8ull << 20, .host_mem_bytes = 16ull << 20,
                                .kernel = kernel, .cmdline = "hello"};
    assert_int_equal(testbed__create(t, &tc), 0);
    uint64_t free0 = physmem__free_bytes(&t->plat.pm);
    struct hv_vm *vm2 = calloc(1, sizeof(*vm2));
    struct hv_vm_config vc = t->vm.cfg;
    vc.name = "vm1";
    vc.mem_bytes = 16ull << 20;
    assert_int_equal(hv_vm__create(vm2, &vc), -ENOMEM);
    assert_int_equal(physmem__free_bytes(&t->plat.pm), free0);
    /* the first VM is unaffected */
    assert_int_equal(testbed__run(t), 0);
    assert_int_equal(t->vm.exit_status, 0);
    testbed__destroy(t);
    free(vm2);
    free(t);
    assert_int_equal(tool__stray_stubs(), 0);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_cli_values),
        cmocka_unit_test(test_bad_guest_elf),
        cmocka_unit_test(test_no_namespace_permission),
        cmocka_unit_test(test_out_of_host_memory),
    };
    return cmocka_run_group_tests_name("cli_failure", tests, NULL, NULL);
}
