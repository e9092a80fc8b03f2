/* `iovirt bench` and `iovirt bench-check` as a user runs them (the real
 * build/iovirt binary, run from the repository root): bad arguments exit 2
 * with one line naming the problem and create no file; a --quick run
 * measures every mode and writes JSON that the checker accepts. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "bench/bench_check.h"
#include "bench/bench_report.h"
#include "bench/bench_sweep.h"
#include "tests/unit/bench/fake_runner.h"

#define IOVIRT "build/iovirt"

struct run {
    int status;  /* exit status, or 128 + signal */
    char *out, *err;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(m);
    fclose(f);
    return buf;
}

/* Runs build/iovirt with args (NULL-terminated) in the repo root. */
static struct run run_iovirt(const char *arg0, ...)
{
    const char *argv[40] = {IOVIRT};
    int argc = 1;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && argc < 39; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    char out_path[] = "/tmp/iovirt-cli-out-XXXXXX", err_path[] = "/tmp/iovirt-cli-err-XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    assert_true(ofd >= 0 && efd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        alarm(20); /* bounded even if something hangs */
        execv(IOVIRT, (char *const *)argv);
        _exit(127);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    close(ofd);
    close(efd);
    struct run r = {.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws)};
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    unlink(out_path);
    unlink(err_path);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *q = s; (q = strstr(q, needle)); q += strlen(needle))
        n++;
    return n;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

struct fixture {
    char dir[64];
    char json[96], svg[96];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    *state = fx;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/iovirt-bench-cli-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->json, sizeof fx->json, "%s/out.json", fx->dir);
    snprintf(fx->svg, sizeof fx->svg, "%s/out.svg", fx->dir);
    if (access(IOVIRT, X_OK) != 0) {
        fprintf(stderr, "%s is missing: run 'make build' from the repository root\n", IOVIRT);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = fx->dir[0] && strstr(fx->dir, "XXXXXX") == NULL ? system(cmd) : 0;
    free(fx);
    return rc == 0 ? 0 : -1;
}

/* Exit 2, exactly one stderr line naming the problem, no sweep started,
 * no file left in the output directory. */
static void expect_usage_error(struct fixture *fx, const char *why, struct run r)
{
    if (r.status != 2 || !strstr(r.err, why))
        fprintf(stderr, "expected exit 2 and '%s'; got %d, stderr:\n%s", why, r.status, r.err);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, why));
    assert_int_equal(count(r.err, "\n"), 1);
    assert_true(!strncmp(r.err, "iovirt bench", 12));
    assert_null(strstr(r.err, "[1/"));
    assert_string_equal(r.out, "");
    assert_int_equal(entries(fx->dir), 0);
    run_free(&r);
}

static void test_bad_arguments(void **state)
{
    struct fixture *fx = *state;
    const char *j = fx->json, *s = fx->svg;
#define BAD(why, ...) expect_usage_error(fx, why, run_iovirt("bench", "--json", j, "--svg", s, __VA_ARGS__, NULL))
    /* a bad value: "iovirt bench: --OPT 'VALUE': reason", as iovirt run does */
    BAD("iovirt bench: --modes 'native,foo': unknown mode 'foo'", "--modes", "native,foo");
    BAD("iovirt bench: --modes '': empty mode list", "--modes", "");
    BAD("mode 'virtio' listed twice", "--modes", "virtio,virtio");
    BAD("message size 0 is not allowed", "--sizes", "64,0");
    BAD("message size '2M' is larger than 64K (the guest's stream program takes 1..65536 bytes)",
        "--sizes", "2M");
    BAD("message size '1M' is larger than 64K", "--sizes", "64,1M");
    BAD("message size '65537' is larger than 64K", "--sizes", "65537");
    BAD("message size '128K' is larger than 64K", "--sizes", "128K");
    BAD("bad message size 'abc'", "--sizes", "64,abc");
    BAD("bad message size '-5'", "--sizes", "-5");
    BAD("empty size in list", "--sizes", "64,,256");
    BAD("--seconds '-1': seconds must be positive", "--seconds", "-1");
    BAD("--seconds '0': seconds must be positive", "--seconds", "0");
    BAD("--seconds 'abc': not a number of seconds (a plain decimal, 0 < S <= 3600)", "--seconds", "abc");
    BAD("--seconds 'nan': not a number of seconds", "--seconds", "nan");
    BAD("--seconds '3601': more than 3600 seconds", "--seconds=3601");
    BAD("--runs '0': runs must be 1..100", "--runs", "0");
    BAD("--runs '101': runs must be 1..100", "--runs=101");
    BAD("--runs 'x3': not a whole number of runs", "--runs", "x3");
    BAD("--runs '': not a whole number of runs", "--runs=");
    BAD("--line-rate '5Q': unknown line rate", "--line-rate", "5Q");
    BAD("--line-rate '0': line rate is zero", "--line-rate", "0");
    BAD("--line-rate '2000G': line rate is above 1T bits/s", "--line-rate", "2000G");
    BAD("iovirt bench: --test 'tcp_rr': unknown test (expected stream, maerts or rr)", "--test", "tcp_rr");
    BAD("--test '': unknown test", "--test=");
    BAD("--rr-size '1': expected REQ,RESP", "--test", "rr", "--rr-size", "1");
    BAD("--rr-size '0,1': request size: message size 0 is not allowed", "--test=rr", "--rr-size=0,1");
    BAD("--rr-size '1,128K': response size: message size '128K' is larger than 64K", "--test=rr",
        "--rr-size=1,128K");
    BAD("--rr-size applies to --test rr only", "--rr-size", "1,1");
    BAD("--exit-costs 'pio=1': 'mmio_read' missing", "--exit-costs", "pio=1");
    BAD("--rr-size applies to --test rr only", "--test", "maerts", "--rr-size", "1,1");
    BAD("--sizes does not apply to --test rr (use --rr-size REQ,RESP)", "--test", "rr", "--sizes", "64");
    /* the value's option named in full even when abbreviated */
    BAD("--runs '0': runs must be 1..100", "--ru", "0");
    /* what getopt_long refuses, each as one line */
    BAD("unknown option '--frobnicate' (try 'iovirt bench --help')", "--frobnicate");
    BAD("unknown option '--frobnicate=1'", "--frobnicate=1");
    BAD("unknown option '-x' (try 'iovirt bench --help')", "-x");
    BAD("unknown option '-x'", "-xh");
    BAD("ambiguous option '--s' (--sizes, --seconds, --svg)", "--s=5");
    BAD("option '--quick' takes no value (got '--quick=yes')", "--quick=yes");
    BAD("option '--help' takes no value", "--help=1");
    BAD("unexpected argument 'extra'", "extra");
    BAD("unexpected argument 'extra'", "--", "extra");
    BAD("unexpected argument '-'", "-");
    BAD("option '--runs' needs a value (try 'iovirt bench --help')", "--runs");
    BAD("option '--modes' needs a value", "--quick", "--modes");
#undef BAD
    /* unwritable outputs, checked before anything runs */
    expect_usage_error(fx, "--json: cannot write '/nonexistent-dir/x.json'",
                       run_iovirt("bench", "--json", "/nonexistent-dir/x.json", NULL));
    expect_usage_error(fx, "--svg: cannot write", run_iovirt("bench", "--svg", fx->dir, NULL));
    /* json opened (created) fine, svg bad: the created json must go away */
    expect_usage_error(fx, "--svg: cannot write '/nonexistent-dir/x.svg'",
                       run_iovirt("bench", "--json", j, "--svg", "/nonexistent-dir/x.svg", NULL));
    expect_usage_error(fx, "--json and --svg name the same file",
                       run_iovirt("bench", "--json", j, "--svg", j, NULL));
    expect_usage_error(fx, "--json: empty file name", run_iovirt("bench", "--json", "", NULL));
}

/* An existing file is neither truncated nor removed by a usage error. */
static void test_existing_file_kept(void **state)
{
    struct fixture *fx = *state;
    FILE *f = fopen(fx->json, "w");
    assert_non_null(f);
    fputs("keep", f);
    fclose(f);
    struct run r = run_iovirt("bench", "--json", fx->json, "--svg", "/nonexistent-dir/x.svg", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
    char *c = slurp(fx->json);
    assert_string_equal(c, "keep");
    free(c);
    unlink(fx->json);
}

/* --help names every option getopt_long accepts, the value rules and the
 * exit statuses; it goes to stdout with status 0 and wins over what follows. */
static void test_help(void **state)
{
    (void)state;
    static const char *const items[] = {
        "usage: iovirt bench [options]", "--modes LIST", "--sizes LIST", "1..64K", "--seconds S",
        "--runs R", "--line-rate RATE", "--json FILE", "--svg FILE", "--quick", "-h, --help",
        "--test TEST", "stream, maerts or rr", "--rr-size REQ,RESP",
        "'--opt=VALUE'", "unique prefix", "VT-d fault", "Exit status: 0", "1 some point failed",
        "2 bad usage",
    };
    const char *forms[][2] = {{"--help", NULL}, {"-h", NULL}, {"--he", NULL}, {"--help", "--runs=0"}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        struct run r = run_iovirt("bench", forms[f][0], forms[f][1], NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
            if (!strstr(r.out, items[i]))
                fprintf(stderr, "--help lacks '%s'\n", items[i]);
            assert_non_null(strstr(r.out, items[i]));
        }
        run_free(&r);
    }
    struct run r;
    r = run_iovirt("--help", NULL);
    assert_non_null(strstr(r.out, "bench-check"));
    run_free(&r);
}

/* Every raw run of a real record: the CPU charged to the five roles adds up
 * to the measured processes' total (a sum check: a thread charged to no
 * role, or to two, shows as a gap), cpu_util is the sending roles, and the
 * sink's and the guest's data windows give the same throughput within 2%. */
static void check_roles_and_clocks(const char *path, size_t nresults)
{
    char *text = slurp(path);
    char err[200];
    json_t *root = bench_check__parse(text, strlen(text), err, sizeof err);
    free(text);
    assert_non_null(root);
    json_t *res = json_object_get(root, "results");
    assert_int_equal(json_array_size(res), nresults);
    size_t i, k;
    json_t *e, *run;
    json_array_foreach(res, i, e) {
        json_array_foreach(json_object_get(e, "runs"), k, run) {
            json_t *roles = json_object_get(run, "cpu_by_role");
            double sum = 0, sending = 0;
            for (int ro = 0; ro < BENCH_CPU_ROLES; ro++) {
                json_t *v = json_object_get(roles, bench__cpu_role_name((enum bench_cpu_role)ro));
                assert_true(json_is_number(v));
                sum += json_number_value(v);
                if (ro < BENCH_CPU_SENDING_ROLES)
                    sending += json_number_value(v);
            }
            double total = json_number_value(json_object_get(run, "cpu_total"));
            double cpu = json_number_value(json_object_get(run, "cpu_util"));
            fprintf(stderr, "  %s: roles sum %.4f cores, process total %.4f, sending %.4f\n",
                    json_string_value(json_object_get(e, "mode")), sum, total, cpu);
            assert_true(total > 0);
            assert_true(fabs(sum - total) <= BENCH_CPU_SUM_REL * total + BENCH_CPU_SUM_ABS);
            assert_true(fabs(sending - cpu) <= 1e-4 * cpu + 1e-6);
            double thr = json_number_value(json_object_get(run, "throughput_mbps"));
            double gthr = json_number_value(json_object_get(run, "guest_throughput_mbps"));
            assert_true(thr > 0 && fabs(gthr - thr) <= BENCH_CLOCK_AGREE * thr);
        }
    }
    json_decref(root);
}

/* The CI smoke run: every mode measured on the real testbed, the JSON
 * validates against the documented schema, the SVG has a line per mode. */
static void test_quick_measures_every_mode(void **state)
{
    struct fixture *fx = *state;
    struct run r = run_iovirt("bench", "--quick", "--json", fx->json, "--svg", fx->svg, NULL);
    /* On a shared machine a thread of the path can be descheduled at the
     * start or end of a stream, and the point then (correctly) fails the
     * two-clock check.  Retry once when that is the only failure. */
    if (r.status == 1 && count(r.err, "FAILED: ") == count(r.err, "FAILED: the two clocks disagree")) {
        fprintf(stderr, "%s(two-clock failure on a busy machine: one retry)\n", r.err);
        run_free(&r);
        r = run_iovirt("bench", "--quick", "--json", fx->json, "--svg", fx->svg, NULL);
    }
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_int_equal(count(r.err, "Mb/s (guest clock "), 4);
    assert_non_null(strstr(r.err, "[1/4] native     16384 B run 1/1: "));
    assert_non_null(strstr(r.err, "[4/4] emulated   16384 B run 1/1: "));
    assert_null(strstr(r.err, "FAILED"));
    assert_int_equal(count(r.out, "| 16K |"), 2 * 4); /* the figures; the hypervisor by exit */
    assert_int_equal(count(r.out, "| 1/1 |"), 4);
    run_free(&r);
    char *svg = slurp(fx->svg);
    assert_int_equal(count(svg, "<polyline"), 8); /* 4 modes x 2 panels */
    free(svg);
    r = run_iovirt("bench-check", fx->json, NULL);
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    run_free(&r);
    check_roles_and_clocks(fx->json, 4);
    unlink(fx->json);
    unlink(fx->svg);
}

/* Runs `iovirt bench ARGS --json J`, retrying once when the only failures
 * are two-clock disagreements (a descheduled thread on a shared machine). */
static struct run bench_retry(struct fixture *fx, const char *a1, const char *a2, const char *a3,
                              const char *a4)
{
    struct run r = run_iovirt("bench", a1, a2, a3, a4, "--modes", "native,assigned", "--runs", "1",
                              "--seconds", "0.4", "--json", fx->json, NULL);
    if (r.status == 1 && count(r.err, "FAILED: ") == count(r.err, "FAILED: the two clocks disagree")) {
        fprintf(stderr, "%s(two-clock failure on a busy machine: one retry)\n", r.err);
        run_free(&r);
        r = run_iovirt("bench", a1, a2, a3, a4, "--modes", "native,assigned", "--runs", "1",
                       "--seconds", "0.4", "--json", fx->json, NULL);
    }
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.err, "FAILED"));
    struct run c = run_iovirt("bench-check", fx->json, NULL);
    if (c.status != 0)
        fprintf(stderr, "%s", c.err);
    assert_int_equal(c.status, 0);
    run_free(&c);
    return r;
}

/* A short maerts point (Linux sends, the guest receives) natively and
 * assigned: the sender's and the guest's clocks agree (the runner's audit,
 * and again here), the roles add up, the record validates. */
static void test_maerts_points(void **state)
{
    struct fixture *fx = *state;
    struct run r = bench_retry(fx, "--test", "maerts", "--sizes", "16K");
    assert_non_null(strstr(r.err, "test maerts, 2 mode(s)"));
    assert_int_equal(count(r.err, "Mb/s (guest clock "), 2);
    assert_non_null(strstr(r.out, "TCP maerts (Linux sends to the guest)"));
    assert_non_null(strstr(r.out, "| NIC hw | sender |")); /* the Linux peer sends */
    run_free(&r);
    check_roles_and_clocks(fx->json, 2);
    unlink(fx->json);
}

/* A short rr point natively and assigned: transactions, latency, exits and
 * interrupts per transaction; the echo peer read one request per
 * transaction the guest counted (sink_bytes = transactions x request). */
static void test_rr_points(void **state)
{
    struct fixture *fx = *state;
    struct run r = bench_retry(fx, "--test", "rr", "--rr-size", "3,5");
    assert_int_equal(count(r.err, " trans/s (latency mean "), 2);
    assert_non_null(strstr(r.out, "| 3/5 | native |"));
    assert_non_null(strstr(r.out, "| 3/5 | assigned |"));
    run_free(&r);
    check_roles_and_clocks(fx->json, 2);
    char *text = slurp(fx->json);
    char err[200];
    json_t *root = bench_check__parse(text, strlen(text), err, sizeof err);
    free(text);
    assert_non_null(root);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "results"), i, e) {
        json_t *run = json_array_get(json_object_get(e, "runs"), 0);
        double txn = json_number_value(json_object_get(run, "transactions"));
        double bytes = json_number_value(json_object_get(run, "sink_bytes"));
        assert_true(txn > 0);
        assert_true(bytes == 3 * txn);
        assert_true(json_number_value(json_object_get(run, "latency_p99_us")) > 0);
    }
    json_decref(root);
    unlink(fx->json);
}

/* A point that fails is said so at the default log level, recorded as an
 * error in the JSON (which is still written, and which bench-check
 * rejects), and makes the exit status 1.  A guest "kernel" that is not an
 * ELF file makes every point fail without a VM starting. */
static void test_failed_point_reported(void **state)
{
    struct fixture *fx = *state;
    char kernel[96];
    snprintf(kernel, sizeof kernel, "%s/not-a-kernel", fx->dir);
    FILE *f = fopen(kernel, "w");
    assert_non_null(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    setenv("IOVIRT_GUEST", kernel, 1);
    struct run r = run_iovirt("bench", "--quick", "--modes", "virtio", "--json", fx->json, NULL);
    unsetenv("IOVIRT_GUEST");
    if (r.status != 1)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "[1/1] virtio     16384 B run 1/1: FAILED: testbed for virtio: "));
    assert_non_null(strstr(r.err, "iovirt bench: 1 of 1 points failed (FAILED lines above, errors in the JSON); exit status 1\n"));
    assert_non_null(strstr(r.out, "| 0/1 |"));
    run_free(&r);
    char *json = slurp(fx->json);
    assert_non_null(strstr(json, "\"failed_points\":1"));
    assert_non_null(strstr(json, "\"ok\":false,\"error\":\"testbed for virtio: "));
    free(json);
    r = run_iovirt("bench-check", fx->json, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "run failed: testbed for virtio: "));
    run_free(&r);
    unlink(fx->json);
    unlink(kernel);
}

/* Options in --opt=value form and as a unique prefix (--line); explicit
 * options win over --quick; native is measured first whatever the order
 * given. */
static void test_option_forms(void **state)
{
    (void)state;
    struct run r = run_iovirt("bench", "--quick", "--modes=emulated,native", "--sizes=4k",
                              "--seconds=0.25", "--runs=1", "--line", "100M", NULL);
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "2 mode(s) x 1 size(s) x 1 run(s) = 2 points of 0.25 s, line rate 100M"));
    assert_non_null(strstr(r.err, "[1/2] native "));
    assert_non_null(strstr(r.err, "[2/2] emulated "));
    run_free(&r);
}

static void test_bench_check_cli(void **state)
{
    struct fixture *fx = *state;
    struct run r = run_iovirt("bench-check", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "no file given"));
    run_free(&r);
    r = run_iovirt("bench-check", "--frob", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
    r = run_iovirt("bench-check", "/nonexistent-dir/x.json", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "cannot open"));
    run_free(&r);

    /* a good record (test-only runner, in this process) is accepted */
    struct bench_config c;
    bench_config__defaults(&c);
    c.runs = 2;
    struct fake_runner fr;
    struct bench_runner rn = fake__runner(&fr);
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &rn, NULL), 0);
    struct bench_meta m;
    bench_meta__collect(&m, "iovirt bench", "test");
    FILE *f = fopen(fx->json, "w");
    assert_non_null(f);
    assert_int_equal(bench_report__json(f, &s, &m), 0);
    fclose(f);
    bench_sweep__free(&s);
    r = run_iovirt("bench-check", fx->json, NULL);
    if (r.status)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, ": valid"));
    run_free(&r);
    unlink(fx->json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_existing_file_kept),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_quick_measures_every_mode),
        cmocka_unit_test(test_failed_point_reported),
        cmocka_unit_test(test_option_forms),
        cmocka_unit_test(test_maerts_points),
        cmocka_unit_test(test_rr_points),
        cmocka_unit_test(test_bench_check_cli),
    };
    return cmocka_run_group_tests_name("bench/cli", tests, setup, teardown);
}
