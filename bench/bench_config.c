#include "bench/bench_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned default_sizes[] = {64, 256, 1024, 4096, 16384, 65536};

void bench_config__defaults(struct bench_config *c)
{
    memset(c, 0, sizeof(*c));
    for (int m = 0; m < BENCH_MODES; m++)
        c->modes[c->nmodes++] = (enum bench_mode)m;
    for (size_t i = 0; i < sizeof default_sizes / sizeof default_sizes[0]; i++)
        c->sizes[c->nsizes++] = default_sizes[i];
    c->seconds = BENCH_DEFAULT_SECONDS;
    c->runs = BENCH_DEFAULT_RUNS;
    c->line_rate_bps = 1000000000ull; /* 1 GbE, the report's testbed */
    c->test = BENCH_TEST_STREAM;
    c->rr_req = c->rr_resp = 1;        /* netperf TCP_RR's default */
}

int bench__parse_test(const char *s, enum bench_test *out, char *err, size_t errlen)
{
    int t = bench__test_by_name(s);
    if (t < 0) {
        snprintf(err, errlen, "unknown test (expected stream, maerts or rr)");
        return -1;
    }
    *out = (enum bench_test)t;
    return 0;
}

int bench__parse_rr_size(const char *s, unsigned *req, unsigned *resp, char *err, size_t errlen)
{
    const char *comma = strchr(s, ',');
    char a[32];
    if (!comma || (size_t)(comma - s) >= sizeof a || strchr(comma + 1, ',')) {
        snprintf(err, errlen, "expected REQ,RESP (two sizes, e.g. 1,1 or 64,1K)");
        return -1;
    }
    memcpy(a, s, (size_t)(comma - s));
    a[comma - s] = '\0';
    char e2[160];
    if (bench__parse_size(a, req, e2, sizeof e2)) {
        snprintf(err, errlen, "request size: %s", e2);
        return -1;
    }
    if (bench__parse_size(comma + 1, resp, e2, sizeof e2)) {
        snprintf(err, errlen, "response size: %s", e2);
        return -1;
    }
    return 0;
}

bool bench_config__valid(const struct bench_config *c)
{
    bool seen[BENCH_MODES] = {false};
    if (c->nmodes < 1 || c->nmodes > BENCH_MODES || c->nsizes < 1 || c->nsizes > BENCH_MAX_SIZES ||
        c->runs < 1 || c->runs > BENCH_MAX_RUNS || !isfinite(c->seconds) || c->seconds <= 0 ||
        (unsigned)c->test >= BENCH_TESTS)
        return false;
    if (c->test == BENCH_TEST_RR &&
        (c->nsizes != 1 || c->sizes[0] != c->rr_req || c->rr_resp < 1 || c->rr_resp > BENCH_MAX_MSG_SIZE))
        return false;
    for (size_t i = 0; i < c->nmodes; i++) {
        if ((unsigned)c->modes[i] >= BENCH_MODES || seen[c->modes[i]])
            return false;
        seen[c->modes[i]] = true;
    }
    for (size_t i = 0; i < c->nsizes; i++)
        if (c->sizes[i] < 1 || c->sizes[i] > BENCH_MAX_MSG_SIZE)
            return false;
    return true;
}

int bench_config__mode_index(const struct bench_config *c, enum bench_mode m)
{
    for (size_t i = 0; i < c->nmodes; i++)
        if (c->modes[i] == m)
            return (int)i;
    return -1;
}

/* Copies the next comma-separated token of *s into tok; empty tokens are errors. */
#define ITEM_MAX 64

static int next_item(const char **s, char *tok, char *err, size_t errlen, const char *what)
{
    const char *p = *s, *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == 0) {
        snprintf(err, errlen, "empty %s in list", what);
        return -1;
    }
    if (n >= ITEM_MAX) {
        snprintf(err, errlen, "%s '%.20s...' is too long", what, p);
        return -1;
    }
    memcpy(tok, p, n);
    tok[n] = '\0';
    *s = comma ? comma + 1 : p + n;
    if (comma && !**s) {
        snprintf(err, errlen, "empty %s in list (trailing comma)", what);
        return -1;
    }
    return 0;
}

int bench_config__parse_modes(struct bench_config *c, const char *s, char *err, size_t errlen)
{
    bool seen[BENCH_MODES] = {false};
    char tok[ITEM_MAX];
    if (!*s) {
        snprintf(err, errlen, "empty mode list");
        return -1;
    }
    while (*s) {
        if (next_item(&s, tok, err, errlen, "mode"))
            return -1;
        int m = bench__mode_by_name(tok);
        if (m < 0) {
            snprintf(err, errlen, "unknown mode '%s' (known: native, assigned, virtio, emulated)", tok);
            return -1;
        }
        if (seen[m]) {
            snprintf(err, errlen, "mode '%s' listed twice", tok);
            return -1;
        }
        seen[m] = true;
    }
    c->nmodes = 0;
    for (int m = 0; m < BENCH_MODES; m++)
        if (seen[m])
            c->modes[c->nmodes++] = (enum bench_mode)m;
    return 0;
}

int bench__parse_size(const char *s, unsigned *out, char *err, size_t errlen)
{
    const char *p = s;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*p))
        goto bad;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > BENCH_MAX_MSG_SIZE)
            goto big;
    }
    if (*p == 'K' || *p == 'k')
        v *= 1024, p++;
    else if (*p == 'M' || *p == 'm')
        v *= 1024 * 1024, p++;
    if (*p)
        goto bad;
    if (v == 0) {
        snprintf(err, errlen, "message size 0 is not allowed (the guest's stream program takes 1..%u bytes)",
                 BENCH_MAX_MSG_SIZE);
        return -1;
    }
    if (v > BENCH_MAX_MSG_SIZE)
        goto big;
    *out = (unsigned)v;
    return 0;
bad:
    snprintf(err, errlen, "bad message size '%s' (a number of bytes with optional K or M suffix)", s);
    return -1;
big:
    snprintf(err, errlen, "message size '%s' is larger than %uK (the guest's stream program takes 1..%u bytes)",
             s, BENCH_MAX_MSG_SIZE / 1024, BENCH_MAX_MSG_SIZE);
    return -1;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

int bench_config__parse_sizes(struct bench_config *c, const char *s, char *err, size_t errlen)
{
    unsigned sizes[BENCH_MAX_SIZES];
    size_t n = 0;
    char tok[ITEM_MAX];
    if (!*s) {
        snprintf(err, errlen, "empty size list");
        return -1;
    }
    while (*s) {
        if (next_item(&s, tok, err, errlen, "size"))
            return -1;
        if (n == BENCH_MAX_SIZES) {
            snprintf(err, errlen, "more than %d sizes", BENCH_MAX_SIZES);
            return -1;
        }
        if (bench__parse_size(tok, &sizes[n], err, errlen))
            return -1;
        for (size_t i = 0; i < n; i++)
            if (sizes[i] == sizes[n]) {
                snprintf(err, errlen, "size %u (%s) listed twice", sizes[n], tok);
                return -1;
            }
        n++;
    }
    qsort(sizes, n, sizeof sizes[0], cmp_unsigned);
    memcpy(c->sizes, sizes, n * sizeof sizes[0]);
    c->nsizes = n;
    return 0;
}

int bench__parse_seconds(const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* strtod accepts hex, inf, nan and leading blanks: allow plain decimals only */
    bool plain = *s && strspn(s, "0123456789.eE+-") == strlen(s);
    if (!plain || end == s || *end || errno || !isfinite(v)) {
        snprintf(err, errlen, "not a number of seconds (a plain decimal, 0 < S <= %g)", BENCH_MAX_SECONDS);
        return -1;
    }
    if (v <= 0) {
        snprintf(err, errlen, "seconds must be positive");
        return -1;
    }
    if (v > BENCH_MAX_SECONDS) {
        snprintf(err, errlen, "more than %g seconds", BENCH_MAX_SECONDS);
        return -1;
    }
    *out = v;
    return 0;
}

int bench__parse_runs(const char *s, unsigned *out, char *err, size_t errlen)
{
    unsigned long v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        goto bad;
    for (; isdigit((unsigned char)*p); p++)
        if ((v = v * 10 + (unsigned long)(*p - '0')) > BENCH_MAX_RUNS)
            goto range;
    if (*p)
        goto bad;
    if (v == 0)
        goto range;
    *out = (unsigned)v;
    return 0;
bad:
    snprintf(err, errlen, "not a whole number of runs (1..%d)", BENCH_MAX_RUNS);
    return -1;
range:
    snprintf(err, errlen, "runs must be 1..%d", BENCH_MAX_RUNS);
    return -1;
}

#define LINE_RATE_MAX 1e12 /* 1 Tb/s */

int bench__parse_line_rate(const char *s, uint64_t *out, char *err, size_t errlen)
{
    if (!strcmp(s, "unlimited")) {
        *out = 0;
        return 0;
    }
    const char *p = s;
    double v = 0, scale = 1;
    int digits = 0;
    for (; isdigit((unsigned char)*p); p++, digits++)
        v = v * 10 + (*p - '0');
    if (*p == '.') {
        double f = 0.1;
        for (p++; isdigit((unsigned char)*p); p++, digits++, f /= 10)
            v += (*p - '0') * f;
    }
    switch (*p) {
    case 'K': case 'k': scale = 1e3, p++; break;
    case 'M': case 'm': scale = 1e6, p++; break;
    case 'G': case 'g': scale = 1e9, p++; break;
    default: break;
    }
    if (!digits || *p || v > LINE_RATE_MAX) {
        snprintf(err, errlen, "unknown line rate (use 1G, 10G, unlimited, or bits/s with K/M/G suffix)");
        return -1;
    }
    v *= scale;
    if (v < 1) {
        snprintf(err, errlen, "line rate is zero (use 'unlimited' for no limit)");
        return -1;
    }
    if (v > LINE_RATE_MAX) {
        snprintf(err, errlen, "line rate is above 1T bits/s");
        return -1;
    }
    *out = (uint64_t)llround(v);
    return 0;
}

void bench__format_line_rate(uint64_t bps, char *buf, size_t len)
{
    if (bps == 0)
        snprintf(buf, len, "unlimited");
    else if (bps % 1000000000 == 0)
        snprintf(buf, len, "%" PRIu64 "G", bps / 1000000000);
    else if (bps % 1000000 == 0)
        snprintf(buf, len, "%" PRIu64 "M", bps / 1000000);
    else if (bps % 1000 == 0)
        snprintf(buf, len, "%" PRIu64 "K", bps / 1000);
    else
        snprintf(buf, len, "%" PRIu64, bps);
}

void bench__format_size(unsigned bytes, char *buf, size_t len)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(buf, len, "%uM", bytes / (1024 * 1024));
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, len, "%uK", bytes / 1024);
    else
        snprintf(buf, len, "%u", bytes);
}
