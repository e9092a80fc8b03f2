/* iovirt run --backend kvm confines the VMM after set-up (issue 15 item
 * 6; docs/security.md): while a guest runs, every thread of the iovirt
 * process shows `Seccomp: 2` (filter), `NoNewPrivs: 1` and no capability
 * (CapEff, CapPrm, CapBnd all 0); a VFIO-assigned e1000 (INTx) and
 * virtio-net-pci (MSI-X: irqfd routes set while running) still ping (the
 * emulated, virtio and model-assigned modes: test_kvm_run, confined too);
 * and the filter bites: a thread that attempts execve or openat after
 * set-up (the IOVIRT_TEST_CONFINE_PROBE hook) ends the process with
 * SIGSYS and one line naming the call.  The same checks on a
 * --no-confine run must fail (shown in each test), so they can.
 * Needs hardware KVM and the NICs on vfio-pci: run in the test machine,
 *   scripts/run-testvm-suite --only test_kvm_confine
 * Runs the normal tree's iovirt (INTEG_IOVIRT, mk/testvm.mk). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define TOOL_TIMEOUT_MS 120000
#include "tests/integration/run_tool.h"

/* ---- a run in the background, and its threads' status ------------------ */

struct bg {
    pid_t pid;
    char out[PATH_MAX], err[PATH_MAX];
};

static void bg_start(struct bg *b, char *const argv[])
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", INTEG_IOVIRT);
    snprintf(b->out, sizeof b->out, "/tmp/kvm_confine.%d.out", (int)getpid());
    snprintf(b->err, sizeof b->err, "/tmp/kvm_confine.%d.err", (int)getpid());
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        int o = open(b->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(b->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        char *args[64];
        int n = 0;
        args[n++] = path;
        for (int i = 1; argv[i] && n < 63; i++)
            args[n++] = argv[i];
        args[n] = NULL;
        execv(path, args);
        _exit(127);
    }
}

/* Stop it (SIGTERM: the VMM tears down, confined) and return its status
 * as tool_run does (exit status, or 128 + signal). */
static int bg_stop(struct bg *b)
{
    kill(b->pid, SIGTERM);
    int st;
    for (int i = 0; i < 600; i++) {
        if (waitpid(b->pid, &st, WNOHANG) == b->pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(100000);
    }
    kill(b->pid, SIGKILL);
    waitpid(b->pid, &st, 0);
    return -1;
}

static void slurp(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

static const char *field(const char *status, const char *key, char *val, size_t size)
{
    const char *p = strstr(status, key);
    val[0] = 0;
    if (!p)
        return val;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    snprintf(val, size, "%.*s", (int)(n < size - 1 ? n : size - 1), p);
    return val;
}

/* The process's first thread shows a filter: set-up is over. */
static bool wait_confined(pid_t pid, unsigned ms)
{
    char path[64], st[4096], v[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    for (unsigned t = 0; t < ms; t += 100) {
        slurp(path, st, sizeof st);
        if (!strcmp(field(st, "Seccomp:", v, sizeof v), "2"))
            return true;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return false;
        usleep(100000);
    }
    return false;
}

/* Every thread confined: NULL, or what is wrong (static text in `why`). */
static const char *threads_confined(pid_t pid, unsigned *nthreads, char *why, size_t size)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, size, "no %s", dir);
        return why;
    }
    static const struct { const char *key, *want; } need[] = {
        {"Seccomp:", "2"}, {"NoNewPrivs:", "1"}, {"CapEff:", "0000000000000000"},
        {"CapPrm:", "0000000000000000"}, {"CapInh:", "0000000000000000"}, {"CapBnd:", "0000000000000000"},
        {"CapAmb:", "0000000000000000"},
    };
    const char *bad = NULL;
    struct dirent *de;
    *nthreads = 0;
    while (!bad && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[64 + sizeof de->d_name + 8], st[4096], v[64], name[64];
        snprintf(path, sizeof path, "%s/%s/status", dir, de->d_name);
        slurp(path, st, sizeof st);
        if (!st[0])
            continue; /* the thread ended meanwhile */
        (*nthreads)++;
        field(st, "Name:", name, sizeof name);
        for (unsigned i = 0; i < sizeof need / sizeof need[0]; i++)
            if (strcmp(field(st, need[i].key, v, sizeof v), need[i].want)) {
                snprintf(why, size, "thread %.16s (%.32s): %s %s, not %s", de->d_name, name, need[i].key, v, need[i].want);
                bad = why;
                break;
            }
    }
    closedir(d);
    return bad;
}

static unsigned confine_lines(const char *err)
{
    unsigned n = 0;
    for (const char *p = err; (p = strstr(p, "iovirt: confinement:")); p++)
        n++;
    return n;
}

/* A guest that sleeps; its threads checked while it runs, then SIGTERM:
 * the confined teardown must end it by itself (status 3, "stopped by
 * signal"), not SIGSYS. */
static void check_threads(char *nic_args[], unsigned nargs, bool confine)
{
    char *argv[32];
    unsigned n = 0;
    argv[n++] = "iovirt";
    argv[n++] = "run";
    argv[n++] = "--backend";
    argv[n++] = "kvm";
    if (!confine)
        argv[n++] = "--no-confine";
    for (unsigned i = 0; i < nargs; i++)
        argv[n++] = nic_args[i];
    argv[n++] = "--";
    argv[n++] = "sleep";
    argv[n++] = "600000";
    argv[n] = NULL;
    struct bg b;
    bg_start(&b, argv);
    char why[256], err[8192];
    unsigned nthreads = 0;
    bool seen = wait_confined(b.pid, 60000);
    if (!confine) {
        /* nothing ever shows a filter: give set-up time, then look */
        sleep(8);
    }
    const char *bad = threads_confined(b.pid, &nthreads, why, sizeof why);
    int status = bg_stop(&b);
    slurp(b.err, err, sizeof err);
    unlink(b.out);
    unlink(b.err);
    if (!confine) {
        /* the control: the same check fails on an unconfined VMM */
        assert_false(seen);
        if (!bad)
            fail_msg("an unconfined VMM passed the confinement check\nstderr:\n%s", err);
        print_message("      --no-confine: the check fails as it must: %s\n", bad);
        assert_int_equal(status, 3);
        return;
    }
    if (!seen || bad)
        fail_msg("%s (threads: %u)\nstderr:\n%s", seen ? bad : "the VMM never showed Seccomp: 2", nthreads, err);
    print_message("      %u threads: Seccomp 2, NoNewPrivs 1, no capabilities\n", nthreads);
    assert_true(nthreads >= 4); /* vCPU, HPET, NIC, host rx, sink, ...: not only the main one */
    if (status != 3 || !strstr(err, "stopped by signal") || confine_lines(err))
        fail_msg("teardown under confinement: status %d\nstderr:\n%s", status, err);
}

static void test_threads_virtio(void **state)
{
    (void)state;
    char *nic[] = {"--nic", "virtio"};
    check_threads(nic, 2, true);
}

static void test_threads_unconfined_fails_check(void **state)
{
    (void)state;
    char *nic[] = {"--nic", "virtio"};
    check_threads(nic, 2, false);
}

/* The functions of IOVIRT_VFIO_DEVICES ("BDF:model" words) of `model`. */
static bool model_bdf(const char *model, char out[16])
{
    const char *l = getenv("IOVIRT_VFIO_DEVICES");
    char word[64];
    int used;
    while (l && sscanf(l, "%63s%n", word, &used) == 1) {
        l += used;
        if (strlen(word) > 13 && word[12] == ':' && !strcmp(word + 13, model)) {
            snprintf(out, 16, "%.12s", word);
            return true;
        }
    }
    fail_msg("no %s in IOVIRT_VFIO_DEVICES ('%s'): scripts/testvm --nics e1000,%s", model,
             getenv("IOVIRT_VFIO_DEVICES"), model);
    return false;
}

static void test_threads_vfio(void **state)
{
    (void)state;
    char bdf[16], src[32];
    model_bdf("e1000", bdf);
    snprintf(src, sizeof src, "vfio:%s", bdf);
    char *nic[] = {"--nic", "assigned", "--assign", src};
    check_threads(nic, 4, true);
}

/* A VFIO function pings through the confined VMM: e1000 (INTx; QEMU's
 * e1000 holds its first frames ~1 s: a 3 s reply timeout) and
 * virtio-net-pci (MSI-X: irqfd routes and VFIO vectors set while running). */
static void vfio_ping(const char *model, const char *timeout)
{
    char bdf[16], src[32];
    model_bdf(model, bdf);
    snprintf(src, sizeof src, "vfio:%s", bdf);
    struct tool_run *r = malloc(sizeof *r);
    assert_non_null(r);
    char *argv[] = {"iovirt", "run", "--backend", "kvm", "--nic", "assigned", "--assign", src, "--",
                    (char *)timeout, "ping", "10.0.2.1", "3", NULL};
    int rc = tool__run(r, argv);
    if (rc || r->status != 0 || !strstr(r->out, "RESULT ping sent=3 received=3") || confine_lines(r->err))
        fail_msg("%s: rc %d status %d\nstdout:\n%s\nstderr:\n%s", model, rc, r->status, r->out, r->err);
    free(r);
}

static void test_vfio_e1000_ping(void **state)
{
    (void)state;
    vfio_ping("e1000", "timeout_ms=3000");
}

static void test_vfio_virtio_ping(void **state)
{
    (void)state;
    vfio_ping("virtio-net-pci", "timeout_ms=1000");
}

/* The probe: one call after set-up.  Confined: SIGSYS, one line naming
 * it, the guest never reached its program's end.  --no-confine (the
 * control): the call reaches the kernel and the run goes on. */
static void probe(const char *call, bool confine)
{
    struct tool_run *r = malloc(sizeof *r);
    assert_non_null(r);
    char *on[] = {"iovirt", "run", "--backend", "kvm", "--nic", "none", "--", "hello", NULL};
    char *off[] = {"iovirt", "run", "--backend", "kvm", "--no-confine", "--nic", "none", "--", "hello", NULL};
    setenv("IOVIRT_TEST_CONFINE_PROBE", call, 1);
    int rc = tool__run(r, confine ? on : off);
    unsetenv("IOVIRT_TEST_CONFINE_PROBE");
    assert_int_equal(rc, 0);
    char line[128];
    if (confine) {
        snprintf(line, sizeof line, "iovirt: confinement: system call %s (", call);
        if (r->status != 128 + SIGSYS || !strstr(r->err, line) || confine_lines(r->err) != 1 ||
            strstr(r->out, "hello from the iovirt guest"))
            fail_msg("%s: status %d (want %d, SIGSYS)\nstdout:\n%s\nstderr:\n%s", call, r->status, 128 + SIGSYS,
                     r->out, r->err);
        print_message("      %s after set-up: SIGSYS, \"%s...\"\n", call, line);
    } else {
        snprintf(line, sizeof line, "iovirt: confine probe: %s not denied", call);
        if (r->status != 0 || !strstr(r->err, line) || !strstr(r->out, "hello from the iovirt guest"))
            fail_msg("%s --no-confine: status %d\nstdout:\n%s\nstderr:\n%s", call, r->status, r->out, r->err);
    }
    free(r);
    /* the host: nothing was run or left behind */
    assert_int_equal(access("/nonexistent/iovirt-confine-probe", F_OK), -1);
    assert_false(tool__tap_in_our_netns());
}

static void test_probe_execve(void **state)
{
    (void)state;
    probe("execve", true);
    probe("execve", false);
}

static void test_probe_openat(void **state)
{
    (void)state;
    probe("openat", true);
    probe("openat", false);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_virtio),
        cmocka_unit_test(test_threads_vfio),
        cmocka_unit_test(test_threads_unconfined_fails_check),
        cmocka_unit_test(test_vfio_e1000_ping),
        cmocka_unit_test(test_vfio_virtio_ping),
        cmocka_unit_test(test_probe_execve),
        cmocka_unit_test(test_probe_openat),
    };
    return cmocka_run_group_tests_name("kvm_confine", tests, NULL, NULL);
}
