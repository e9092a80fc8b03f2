/* Issue 6, CLI (short: the exhaustive clean-failure tests live elsewhere):
 * `iovirt run --help` and `iovirt native --help` exit 0 and print usage;
 * bad values exit 2 with a message on stderr and nothing booted: unknown
 * --nic, --mem 3M (not a multiple of 2M), --line-rate fast, no guest
 * program; and a real run of `hello` exits 0 with the guest's line on
 * stdout.  Runs the iovirt binary of the normal build (INTEG_IOVIRT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef INTEG_IOVIRT
#error "INTEG_IOVIRT (path of build/iovirt) comes from mk/integ.mk"
#endif

#define OUT_MAX 16384

struct result {
    int status;                 /* exit code, or 128+signal */
    char out[OUT_MAX], err[OUT_MAX];
};

static void slurp(int fd, char *buf)
{
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf + n, OUT_MAX - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
}

/* Run iovirt with argv (NULL-terminated, argv[0] ignored); bounded by alarm. */
static void run(struct result *res, char *const argv[])
{
    char out_path[] = "/tmp/integ-cli-out-XXXXXX", err_path[] = "/tmp/integ-cli-err-XXXXXX";
    int out = mkstemp(out_path), err = mkstemp(err_path);
    assert_true(out >= 0 && err >= 0);
    unlink(out_path);
    unlink(err_path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, 1);
        dup2(err, 2);
        alarm(30);
        execv(INTEG_IOVIRT, argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lseek(out, 0, SEEK_SET);
    lseek(err, 0, SEEK_SET);
    slurp(out, res->out);
    slurp(err, res->err);
    close(out);
    close(err);
}

static void test_help(void **state)
{
    (void)state;
    struct result *r = malloc(sizeof(*r));
    assert_non_null(r);
    run(r, (char *const[]){"iovirt", "run", "--help", NULL});
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "--nic"));
    run(r, (char *const[]){"iovirt", "native", "--help", NULL});
    assert_int_equal(r->status, 0);
    assert_true(strlen(r->out) > 0);
    free(r);
}

static void expect_usage_error(char *const argv[], const char *needle)
{
    struct result *r = malloc(sizeof(*r));
    assert_non_null(r);
    run(r, argv);
    if (r->status != 2 || !strstr(r->err, needle))
        fail_msg("%s %s: exit %d, stderr: %s", argv[1], argv[2], r->status, r->err);
    /* Nothing booted: no guest output. */
    assert_null(strstr(r->out, "iovirt-guest"));
    free(r);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_usage_error((char *const[]){"iovirt", "run", "--nic", "bogus", "--", "hello", NULL}, "bogus");
    expect_usage_error((char *const[]){"iovirt", "run", "--mem", "3M", "--", "hello", NULL}, "3M");
    expect_usage_error((char *const[]){"iovirt", "run", "--line-rate", "fast", "--", "hello", NULL}, "fast");
    expect_usage_error((char *const[]){"iovirt", "run", "--nic", "none", NULL}, "guest program");
}

static void test_hello_runs(void **state)
{
    (void)state;
    struct result *r = malloc(sizeof(*r));
    assert_non_null(r);
    run(r, (char *const[]){"iovirt", "run", "--nic", "none", "--", "hello", NULL});
    if (r->status != 0 || !strstr(r->out, "hello from the iovirt guest"))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_hello_runs),
    };
    return cmocka_run_group_tests_name("integ_cli", tests, NULL, NULL);
}
