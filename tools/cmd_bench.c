/* `iovirt bench`: measure throughput, CPU utilisation, exits and
 * interrupts of each network mode over a range of message sizes.  Every
 * argument is checked, and every output file opened, before the first VM
 * starts: a typo must not cost a three-minute sweep. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench_config.h"
#include "bench/bench_report.h"
#include "bench/bench_sweep.h"
#include "tools/cmd.h"

#define BENCH_TOOL_VERSION "0.1" /* keep in step with IOVIRT_VERSION (tools/iovirt.c) */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: iovirt bench [options]\n"
            "\n"
            "Stream TCP from a guest to a Linux sink in each mode and message size;\n"
            "print a table on stdout, progress on stderr.\n"
            "\n"
            "  --modes LIST      native,assigned,virtio,emulated (default: all four)\n"
            "  --sizes LIST      message sizes in bytes, K/M suffix = x1024, 1..64K\n"
            "                    (default: 64,256,1K,4K,16K,64K)\n"
            "  --seconds S       streaming time per point (default: %g)\n"
            "  --runs R          repetitions per (mode, size), 1..%d (default: %d)\n"
            "  --line-rate RATE  1G, 10G, unlimited, or bits/s with K/M/G suffix\n"
            "                    (x1000) (default: 1G)\n"
            "  --json FILE       write every raw run and the aggregates (docs/bench.md)\n"
            "  --svg FILE        write throughput and CPU plots\n"
            "  --quick           one size (16K), one run, %g s; explicit options win\n"
            "  --help            this text\n"
            "\n"
            "Exit status: 0 all points measured, 1 some point failed, 2 bad usage.\n",
            BENCH_DEFAULT_SECONDS, BENCH_MAX_RUNS, BENCH_DEFAULT_RUNS, BENCH_QUICK_SECONDS);
}

struct out_file {
    const char *opt;
    const char *path; /* NULL: not requested */
    int fd;
    bool created;     /* we created it: remove it if we end up writing nothing */
};

static int out__open(struct out_file *o)
{
    o->fd = -1;
    if (!o->path)
        return 0;
    if (!*o->path) {
        fprintf(stderr, "iovirt bench: %s: empty file name\n", o->opt);
        return -1;
    }
    o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (o->fd >= 0) {
        o->created = true;
        return 0;
    }
    if (errno == EEXIST)
        o->fd = open(o->path, O_WRONLY | O_CLOEXEC); /* not truncated until results exist */
    if (o->fd < 0) {
        fprintf(stderr, "iovirt bench: %s: cannot write '%s': %s\n", o->opt, o->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Closes; removes the file if we created it and `keep` is false. */
static void out__close(struct out_file *o, bool keep)
{
    if (o->fd < 0)
        return;
    close(o->fd);
    o->fd = -1;
    if (o->created && !keep)
        unlink(o->path);
}

/* Replaces the file's contents with buf. */
static int out__write(struct out_file *o, const char *buf, size_t len)
{
    struct stat st;
    if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (ftruncate(o->fd, 0) != 0 || lseek(o->fd, 0, SEEK_SET) < 0)
            goto err;
    }
    while (len) {
        ssize_t n = write(o->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto err;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
err:
    fprintf(stderr, "iovirt bench: %s: writing '%s' failed: %s\n", o->opt, o->path, strerror(errno));
    return -1;
}

struct bench_args {
    struct bench_config cfg;
    bool quick, help;
    bool set_sizes, set_seconds, set_runs;
    const char *json, *svg;
};

/* Returns 0, or -1 after printing one line naming the problem. */
static int parse_args(int argc, char **argv, struct bench_args *a)
{
    char err[200];
    bench_config__defaults(&a->cfg);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        char name[32];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            a->help = true;
            continue;
        }
        if (!strcmp(arg, "--quick")) {
            a->quick = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "iovirt bench: unexpected argument '%s' (try 'iovirt bench --help')\n", arg);
            return -1;
        }
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name)
            nlen = sizeof name - 1;
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        static const char *const with_value[] = {"--modes", "--sizes", "--seconds", "--runs",
                                                 "--line-rate", "--json", "--svg"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            known |= !strcmp(name, with_value[k]);
        if (!known) {
            fprintf(stderr, "iovirt bench: unknown option '%s' (try 'iovirt bench --help')\n", arg);
            return -1;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "iovirt bench: option %s needs a value\n", name);
            return -1;
        }
        int rc = 0;
        if (!strcmp(name, "--modes"))
            rc = bench_config__parse_modes(&a->cfg, val, err, sizeof err);
        else if (!strcmp(name, "--sizes"))
            rc = bench_config__parse_sizes(&a->cfg, val, err, sizeof err), a->set_sizes = true;
        else if (!strcmp(name, "--seconds"))
            rc = bench__parse_seconds(val, &a->cfg.seconds, err, sizeof err), a->set_seconds = true;
        else if (!strcmp(name, "--runs"))
            rc = bench__parse_runs(val, &a->cfg.runs, err, sizeof err), a->set_runs = true;
        else if (!strcmp(name, "--line-rate"))
            rc = bench__parse_line_rate(val, &a->cfg.line_rate_bps, err, sizeof err);
        else if (!strcmp(name, "--json"))
            a->json = val;
        else
            a->svg = val;
        if (rc) {
            fprintf(stderr, "iovirt bench: %s: %s\n", name, err);
            return -1;
        }
    }
    if (a->quick) {
        if (!a->set_sizes)
            a->cfg.sizes[0] = BENCH_QUICK_SIZE, a->cfg.nsizes = 1;
        if (!a->set_runs)
            a->cfg.runs = 1;
        if (!a->set_seconds)
            a->cfg.seconds = BENCH_QUICK_SECONDS;
    }
    return 0;
}

static bool same_file(const struct out_file *a, const struct out_file *b)
{
    struct stat sa, sb;
    return a->fd >= 0 && b->fd >= 0 && fstat(a->fd, &sa) == 0 && fstat(b->fd, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Renders with fn into memory, then replaces the file.  0 or -1. */
static int emit(struct out_file *o, const struct bench_sweep *s, const struct bench_meta *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "iovirt bench: %s: out of memory\n", o->opt);
        return -1;
    }
    int rc = m ? bench_report__json(f, s, m) : bench_report__svg(f, s);
    fclose(f);
    if (rc)
        fprintf(stderr, "iovirt bench: %s: %s; '%s' not written\n", o->opt,
                m ? "JSON output failed" : "no point succeeded, nothing to plot", o->path);
    else
        rc = out__write(o, buf, len);
    free(buf);
    return rc;
}

static int cmd_bench(int argc, char **argv)
{
    struct bench_args a = {0};
    if (parse_args(argc, argv, &a))
        return IOVIRT_EXIT_USAGE;
    if (a.help) {
        usage(stdout);
        return 0;
    }
    struct out_file json = {.opt = "--json", .path = a.json, .fd = -1};
    struct out_file svg = {.opt = "--svg", .path = a.svg, .fd = -1};
    if (out__open(&json) || out__open(&svg)) {
        out__close(&json, false);
        out__close(&svg, false);
        return IOVIRT_EXIT_USAGE;
    }
    if (same_file(&json, &svg)) {
        fprintf(stderr, "iovirt bench: --json and --svg name the same file '%s'\n", a.json);
        out__close(&json, false);
        out__close(&svg, false);
        return IOVIRT_EXIT_USAGE;
    }

    struct bench_runner runner;
    char err[200] = "";
    if (bench__default_runner(&runner, &a.cfg, err, sizeof err)) {
        fprintf(stderr, "iovirt bench: cannot set up the runner: %s\n", err);
        out__close(&json, false);
        out__close(&svg, false);
        return 1;
    }
    const struct bench_config *c = &a.cfg;
    char rate[32];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    fprintf(stderr, "iovirt bench: %zu mode(s) x %zu size(s) x %u run(s) = %zu points of %g s, line rate %s, runner %s\n",
            c->nmodes, c->nsizes, c->runs, c->nmodes * c->nsizes * c->runs, c->seconds, rate, runner.name);

    struct bench_meta meta;
    bench_meta__collect(&meta, "iovirt bench", BENCH_TOOL_VERSION);
    struct bench_sweep s;
    int failed = bench_sweep__run(&s, c, &runner, stderr);
    if (runner.release)
        runner.release(runner.ctx);
    if (failed < 0) {
        fprintf(stderr, "iovirt bench: cannot start the sweep (out of memory)\n");
        out__close(&json, false);
        out__close(&svg, false);
        return 1;
    }
    bench_report__table(stdout, &s);
    int status = failed ? 1 : 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "iovirt bench: writing the table to stdout failed\n");
        status = 1;
    }
    bool json_ok = true, svg_ok = true;
    if (json.path && emit(&json, &s, &meta))
        status = 1, json_ok = false;
    if (svg.path && emit(&svg, &s, NULL))
        status = 1, svg_ok = false;
    out__close(&json, json_ok);
    out__close(&svg, svg_ok);
    if (failed)
        fprintf(stderr, "iovirt bench: %d of %u points failed (FAILED lines above%s); exit status 1\n",
                failed, s.points, json.path && json_ok ? ", errors in the JSON" : "");
    bench_sweep__free(&s);
    return status;
}

IOVIRT_COMMAND(bench_cmd, {
    .name = "bench",
    .summary = "compare native, assigned, virtio and emulated networking",
    .run = cmd_bench,
})
