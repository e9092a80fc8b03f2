/* `iovirt bench`: measure throughput, CPU utilisation, exits and
 * interrupts of each network mode over a range of message sizes.  Every
 * argument is checked, and every output file opened, before the first VM
 * starts: a typo must not cost a three-minute sweep. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
            "Measure TCP in each mode and message size: the guest streaming to a Linux\n"
            "sink (stream), Linux streaming to the guest (maerts), or request/response\n"
            "transactions with a Linux echo peer (rr); print a table on stdout,\n"
            "progress on stderr.\n"
            "\n"
            "  --test TEST       stream, maerts or rr (netperf's names; default: stream)\n"
            "  --rr-size REQ,RESP  rr: request and response bytes, 1..64K each (default:\n"
            "                    1,1); rr takes no --sizes\n"
            "  --modes LIST      comma list of native,assigned,virtio,emulated, no repeats\n"
            "                    (default: all four; native is always measured first)\n"
            "  --sizes LIST      message sizes in bytes, K/M suffix = x1024, 1..64K (what\n"
            "                    the guest's stream program takes), no repeats\n"
            "                    (default: 64,256,1K,4K,16K,64K)\n"
            "  --seconds S       streaming time per point, 0 < S <= %g, rounded up to\n"
            "                    whole seconds for the guest (default: %g)\n"
            "  --runs R          repetitions per (mode, size), 1..%d (default: %d)\n"
            "  --line-rate RATE  1G, 10G, unlimited, or bits/s with K/M/G suffix\n"
            "                    (x1000) (default: 1G)\n"
            "  --exit-costs LIST CPU per event in us, as `bench_vcpu` prints it\n"
            "                    (mmio_read=U,mmio_write=U,pio=U,hlt=U,inject=U): adds\n"
            "                    the overhead over native, line by line (docs/bench.md)\n"
            "  --json FILE       write every raw run and the aggregates (schema %d,\n"
            "                    docs/bench.md; check it with 'iovirt bench-check')\n"
            "  --svg FILE        write throughput and CPU plots\n"
            "  --quick           one size (16K), one run, %g s; explicit options win\n"
            "  -h, --help        this text\n"
            "\n"
            "Values go as '--opt VALUE' or '--opt=VALUE'; a unique prefix of an option\n"
            "name is accepted.  Everything is checked, and the output files opened,\n"
            "before the first point runs.\n"
            "\n"
            "A point fails if it cannot be measured, if the sink read a different byte\n"
            "count than the guest reports acknowledged, or if a VT-d fault was recorded;\n"
            "it is reported as FAILED with the reason, and the sweep goes on.\n"
            "\n"
            "Exit status: 0 all points measured; 1 some point failed (the table and the\n"
            "JSON are still written, with the errors) or an output could not be written;\n"
            "2 bad usage (one line on stderr, nothing run).\n",
            BENCH_MAX_SECONDS, BENCH_DEFAULT_SECONDS, BENCH_MAX_RUNS, BENCH_DEFAULT_RUNS,
            BENCH_JSON_SCHEMA, BENCH_QUICK_SECONDS);
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
    bool quick;
    bool set_sizes, set_seconds, set_runs, set_rr_size;
    const char *json, *svg;
};

enum {
    OPT_MODES = 256, OPT_SIZES, OPT_SECONDS, OPT_RUNS, OPT_LINE_RATE, OPT_JSON, OPT_SVG, OPT_QUICK,
    OPT_TEST, OPT_RR_SIZE, OPT_EXIT_COSTS,
};

static const struct option bench_longopts[] = {
    {"modes", required_argument, NULL, OPT_MODES},
    {"sizes", required_argument, NULL, OPT_SIZES},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"runs", required_argument, NULL, OPT_RUNS},
    {"line-rate", required_argument, NULL, OPT_LINE_RATE},
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"test", required_argument, NULL, OPT_TEST},
    {"rr-size", required_argument, NULL, OPT_RR_SIZE},
    {"exit-costs", required_argument, NULL, OPT_EXIT_COSTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The long option getopt_long refused in `arg`: unknown, ambiguous (a
 * prefix of several), or given a value it does not take.  One line. */
static void bad_long_option(const char *arg, int optopt_val)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    for (const struct option *o = bench_longopts; o->name; o++)
        if (o->val == optopt_val && optopt_val) {
            fprintf(stderr, "iovirt bench: option '--%s' takes no value (got '%s')\n", o->name, arg);
            return;
        }
    char list[160] = "";
    int matches = 0;
    for (const struct option *o = bench_longopts; o->name; o++)
        if (n && !strncmp(o->name, name, n)) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s--%s", matches ? ", " : "", o->name);
            matches++;
        }
    if (matches > 1)
        fprintf(stderr, "iovirt bench: ambiguous option '%.*s' (%s)\n", (int)(n + 2), arg, list);
    else
        fprintf(stderr, "iovirt bench: unknown option '%s' (try 'iovirt bench --help')\n", arg);
}

/* Returns 0, 1 after printing the usage (--help), or -1 after printing one
 * line naming the problem. */
static int parse_args(int argc, char **argv, struct bench_args *a)
{
    char err[200];
    bench_config__defaults(&a->cfg);
    optind = 1;
    opterr = 0;
    int c;
    /* '+': stop at the first non-option (bench takes none: reported below);
     * ':': a missing value is ':' rather than '?' */
    while ((c = getopt_long(argc, argv, "+:h", bench_longopts, NULL)) != -1) {
        const char *opt = NULL;
        int rc = 0;
        switch (c) {
        case OPT_MODES:
            opt = "--modes";
            rc = bench_config__parse_modes(&a->cfg, optarg, err, sizeof err);
            break;
        case OPT_SIZES:
            opt = "--sizes";
            rc = bench_config__parse_sizes(&a->cfg, optarg, err, sizeof err);
            a->set_sizes = true;
            break;
        case OPT_SECONDS:
            opt = "--seconds";
            rc = bench__parse_seconds(optarg, &a->cfg.seconds, err, sizeof err);
            a->set_seconds = true;
            break;
        case OPT_RUNS:
            opt = "--runs";
            rc = bench__parse_runs(optarg, &a->cfg.runs, err, sizeof err);
            a->set_runs = true;
            break;
        case OPT_LINE_RATE:
            opt = "--line-rate";
            rc = bench__parse_line_rate(optarg, &a->cfg.line_rate_bps, err, sizeof err);
            break;
        case OPT_TEST:
            opt = "--test";
            rc = bench__parse_test(optarg, &a->cfg.test, err, sizeof err);
            break;
        case OPT_RR_SIZE:
            opt = "--rr-size";
            rc = bench__parse_rr_size(optarg, &a->cfg.rr_req, &a->cfg.rr_resp, err, sizeof err);
            a->set_rr_size = true;
            break;
        case OPT_EXIT_COSTS:
            opt = "--exit-costs";
            rc = bench__parse_exit_costs(optarg, &a->cfg.costs, err, sizeof err);
            break;
        case OPT_JSON: a->json = optarg; break;
        case OPT_SVG: a->svg = optarg; break;
        case OPT_QUICK: a->quick = true; break;
        case 'h':
            usage(stdout);
            return 1;
        case ':':
            fprintf(stderr, "iovirt bench: option '%s' needs a value (try 'iovirt bench --help')\n",
                    argv[optind - 1]);
            return -1;
        default: /* '?': glibc leaves optopt 0 for an unknown or ambiguous long
                  * option, the option's val for one given a value it does not take
                  * ('h' for --help=x), the letter for an unknown short option */
            if (optopt && optopt < 256 && optopt != 'h')
                fprintf(stderr, "iovirt bench: unknown option '-%c' (try 'iovirt bench --help')\n", optopt);
            else
                bad_long_option(argv[optind - 1], optopt);
            return -1;
        }
        if (rc) {
            fprintf(stderr, "iovirt bench: %s '%s': %s\n", opt, optarg, err);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "iovirt bench: unexpected argument '%s' (bench takes options only; try 'iovirt bench --help')\n",
                argv[optind]);
        return -1;
    }
    if (a->cfg.test == BENCH_TEST_RR) {
        if (a->set_sizes) {
            fprintf(stderr, "iovirt bench: --sizes does not apply to --test rr (use --rr-size REQ,RESP)\n");
            return -1;
        }
        /* rr's one point per mode: its request size */
        a->cfg.sizes[0] = a->cfg.rr_req, a->cfg.nsizes = 1;
        a->set_sizes = true;
    } else if (a->set_rr_size) {
        fprintf(stderr, "iovirt bench: --rr-size applies to --test rr only\n");
        return -1;
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
    int pr = parse_args(argc, argv, &a);
    if (pr)
        return pr > 0 ? 0 : IOVIRT_EXIT_USAGE;
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
    fprintf(stderr, "iovirt bench: test %s, %zu mode(s) x %zu size(s) x %u run(s) = %zu points of %g s, line rate %s, runner %s\n",
            bench__test_name(c->test), c->nmodes, c->nsizes, c->runs, c->nmodes * c->nsizes * c->runs,
            c->seconds, rate, runner.name);

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
