/* What one `iovirt bench` invocation measures, and the parsers for its
 * command-line values.  Every parser returns 0, or -1 with one line in
 * err naming the problem (the caller prefixes the option name and value;
 * list parsers name the bad item). */
#ifndef IOVIRT_BENCH_BENCH_CONFIG_H
#define IOVIRT_BENCH_BENCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_acct.h"
#include "bench/bench_run.h"
#include "guest/prog/prog.h"

#define BENCH_MAX_SIZES 32
/* Message sizes are what the guest's `stream` program accepts: 1..64K. */
#define BENCH_MAX_MSG_SIZE PROG_STREAM_MAX_MSG
#define BENCH_MAX_RUNS 100
#define BENCH_MAX_SECONDS 3600.0

/* Defaults: 4 modes x 6 sizes x 3 runs = 72 points of 2 s, so the full
 * default sweep streams for 144 s and stays under 3 minutes with VM boot. */
#define BENCH_DEFAULT_SECONDS 1.0
#define BENCH_DEFAULT_RUNS 6
#define BENCH_QUICK_SIZE (16u * 1024u)
#define BENCH_QUICK_SECONDS 1.0

struct bench_config {
    enum bench_mode modes[BENCH_MODES]; /* canonical order: native first */
    size_t nmodes;
    unsigned sizes[BENCH_MAX_SIZES];    /* ascending, distinct */
    size_t nsizes;
    double seconds;
    unsigned runs;
    uint64_t line_rate_bps;             /* 0 = unlimited */
    enum bench_test test;               /* stream (default), maerts, rr */
    unsigned rr_req, rr_resp;           /* rr: request/response bytes (default 1,1);
                                         * rr's one "size" is rr_req */
    struct bench_exit_costs costs;      /* --exit-costs; .set false: none given */
};

/* All four modes, the six default sizes, default seconds/runs, unlimited. */
void bench_config__defaults(struct bench_config *c);
/* 1..BENCH_MODES known distinct modes, 1..BENCH_MAX_SIZES sizes in 1..64K,
 * runs 1..BENCH_MAX_RUNS, seconds positive and finite. */
bool bench_config__valid(const struct bench_config *c);
/* Index of mode m in c->modes, or -1. */
int bench_config__mode_index(const struct bench_config *c, enum bench_mode m);

/* "native,virtio": known names, no duplicates, stored in canonical order. */
int bench_config__parse_modes(struct bench_config *c, const char *s, char *err, size_t errlen);
/* "64,256,1K,4K": sizes 1..BENCH_MAX_MSG_SIZE with optional K/M (x1024) suffix, no duplicates. */
int bench_config__parse_sizes(struct bench_config *c, const char *s, char *err, size_t errlen);
/* One size; the same rules. */
int bench__parse_size(const char *s, unsigned *out, char *err, size_t errlen);
/* Positive, finite, at most BENCH_MAX_SECONDS. */
int bench__parse_seconds(const char *s, double *out, char *err, size_t errlen);
/* 1..BENCH_MAX_RUNS. */
int bench__parse_runs(const char *s, unsigned *out, char *err, size_t errlen);
/* "unlimited", or bits/s with optional K/M/G suffix (x1000): "1G", "10G", "100M". */
int bench__parse_line_rate(const char *s, uint64_t *out, char *err, size_t errlen);
/* "stream", "maerts" or "rr". */
int bench__parse_test(const char *s, enum bench_test *out, char *err, size_t errlen);
/* "REQ,RESP": two sizes 1..64K (K suffix allowed). */
int bench__parse_rr_size(const char *s, unsigned *req, unsigned *resp, char *err, size_t errlen);
/* "unlimited", "10G", "1500M", "12345" for the same values. */
void bench__format_line_rate(uint64_t bps, char *buf, size_t len);
/* "64", "4K", "1M". */
void bench__format_size(unsigned bytes, char *buf, size_t len);

#endif
