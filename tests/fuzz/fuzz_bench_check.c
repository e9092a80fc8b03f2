/* libFuzzer target for bench/json_parse + bench/bench_check: any byte
 * string, copied into an exactly-sized heap buffer (no NUL terminator) so
 * ASan flags an over-read.  Invariants (abort on violation): a parse either
 * succeeds or leaves a JSON_NULL tree and an error text; parsing the same
 * bytes twice gives the same verdict; the validator never reports a
 * negative problem count and counts a parse failure as a problem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_check.h"
#include "bench/json_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct json_value v;
    char err[128];
    int rc = json__parse(buf, size, &v, err, sizeof err);
    if (rc) {
        CHECK(v.type == JSON_NULL);
        CHECK(err[0] != '\0');
    }
    json__free(&v);
    CHECK(json__parse(buf, size, &v, err, sizeof err) == rc);
    json__free(&v);
    int problems = bench_check__text(buf, size, NULL);
    CHECK(problems >= 0);
    CHECK(rc == 0 || problems > 0);
    free(buf);
    return 0;
}
