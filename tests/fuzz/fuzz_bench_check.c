/* libFuzzer target for bench/bench_check: the jansson parse with the
 * checker's flags, then the validator, on any byte string copied into an
 * exactly-sized heap buffer (no NUL terminator) so ASan flags an
 * over-read.  Invariants (abort on violation): a parse either gives a tree
 * or an error text; parsing the same bytes twice gives the same verdict;
 * the validator never reports a negative problem count and counts a parse
 * failure as a problem; a record the validator accepts is still accepted
 * after a round trip through jansson's writer (nothing it checks depends
 * on how the file spelled a value). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    char err[200] = "";
    json_t *v = bench_check__parse(buf, size, err, sizeof err);
    CHECK(v || err[0] != '\0');
    bool parsed = v != NULL;
    json_decref(v);
    v = bench_check__parse(buf, size, err, sizeof err);
    CHECK((v != NULL) == parsed);
    int problems = bench_check__text(buf, size, NULL);
    CHECK(problems >= 0);
    CHECK(parsed || problems > 0);
    if (v && problems == 0) {
        /* full precision: every double reads back exactly */
        char *again = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (again) {
            CHECK(bench_check__text(again, strlen(again), NULL) == 0);
            free(again);
        }
    }
    json_decref(v);
    free(buf);
    return 0;
}
