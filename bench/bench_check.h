/* Validates a `iovirt bench --json` record against the schema in
 * docs/bench.md, recomputing what can be recomputed from the file's own
 * numbers: every configured mode present at every size exactly once, the
 * run count equal to config.runs, every run successful, no negative number
 * anywhere, throughput strictly positive, means/CI/rates consistent with
 * the raw runs and ratio_to_native equal to value / native value. */
#ifndef IOVIRT_BENCH_BENCH_CHECK_H
#define IOVIRT_BENCH_BENCH_CHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Relative tolerance for recomputed values: the writer prints 6
 * significant digits. */
#define BENCH_CHECK_REL_TOL 1e-4

/* How records are parsed (jansson, RFC 8259): duplicate object keys and
 * \u0000 in strings (jansson's default without JSON_ALLOW_NUL) are errors,
 * any value may be the document (the checker then says "not an object"),
 * and every number is read as a double (so a count beyond 2^63 is still a
 * number).  Nesting is bounded by jansson (2048 levels). */
#define BENCH_CHECK_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL)

/* Parses text[0..len) (need not be NUL-terminated) with those flags: the
 * tree (json_decref it), or NULL with "line L col C: what" in err. */
json_t *bench_check__parse(const char *text, size_t len, char *err, size_t errlen);

/* Checks text[0..len).  One line per problem goes to `report` (may be
 * NULL; at most BENCH_CHECK_MAX_LINES lines, then a count).  Returns the
 * number of problems; 0 means the record is valid. */
#define BENCH_CHECK_MAX_LINES 50
int bench_check__text(const char *text, size_t len, FILE *report);
/* The same for a file; -1 if it cannot be read (reason on `report`). */
int bench_check__file(const char *path, FILE *report);

#endif
