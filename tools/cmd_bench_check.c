/* `iovirt bench-check FILE...`: validate `iovirt bench --json` records
 * against the schema in docs/bench.md, so CI can gate on real output. */
#include <stdio.h>
#include <string.h>

#include "bench/bench_check.h"
#include "tools/cmd.h"

static int cmd_bench_check(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: iovirt bench-check FILE...\n"
               "\n"
               "Check each JSON file written by 'iovirt bench --json' against the schema\n"
               "(docs/bench.md): all modes at all sizes, config.runs runs each, all runs\n"
               "successful, no negative numbers, aggregates and ratio_to_native consistent\n"
               "with the raw runs.  Exit status: 0 valid, 1 invalid, 2 bad usage or unreadable.\n");
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "iovirt bench-check: no file given (usage: iovirt bench-check FILE...)\n");
        return IOVIRT_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "iovirt bench-check: unknown option '%s'\n", argv[i]);
            return IOVIRT_EXIT_USAGE;
        }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        fprintf(stderr, "%s:\n", argv[i]);
        int n = bench_check__file(argv[i], stderr);
        if (n < 0) {
            status = IOVIRT_EXIT_USAGE;
        } else if (n > 0) {
            fprintf(stderr, "%s: INVALID (%d problem(s))\n", argv[i], n);
            if (status == 0)
                status = 1;
        } else {
            printf("%s: valid\n", argv[i]);
        }
    }
    return status;
}

IOVIRT_COMMAND(bench_check_cmd, {
    .name = "bench-check",
    .summary = "validate a JSON record written by 'iovirt bench --json'",
    .run = cmd_bench_check,
})
