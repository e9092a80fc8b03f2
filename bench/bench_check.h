/* Validates a `iovirt bench --json` record against the schema in
 * docs/bench.md, recomputing what can be recomputed from the file's own
 * numbers: every configured mode present at every size exactly once, the
 * run count equal to config.runs, every run successful, no negative number
 * anywhere, throughput strictly positive, means/CI/rates consistent with
 * the raw runs and ratio_to_native equal to value / native value. */
#ifndef IOVIRT_BENCH_BENCH_CHECK_H
#define IOVIRT_BENCH_BENCH_CHECK_H

#include <stddef.h>
#include <stdio.h>

/* Relative tolerance for recomputed values: the writer prints 6
 * significant digits. */
#define BENCH_CHECK_REL_TOL 1e-4

/* Checks text[0..len).  One line per problem goes to `report` (may be
 * NULL; at most BENCH_CHECK_MAX_LINES lines, then a count).  Returns the
 * number of problems; 0 means the record is valid. */
#define BENCH_CHECK_MAX_LINES 50
int bench_check__text(const char *text, size_t len, FILE *report);
/* The same for a file; -1 if it cannot be read (reason on `report`). */
int bench_check__file(const char *path, FILE *report);

#endif
