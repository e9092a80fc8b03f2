/* The default runner of `iovirt bench`.  The hypervisor, guest kernel and
 * sink are not wired in yet, so every point fails with a reason: the
 * harness must never print a number that was not measured.  The lead
 * replaces this file's body with the real VM runner (see bench_run.h). */
#include <stdio.h>
#include <string.h>

#include "bench/bench_run.h"

static int unavailable_run(void *ctx, const struct bench_point *p, struct bench_result *out)
{
    (void)ctx;
    (void)p;
    snprintf(out->error, sizeof out->error, "runner not available: hypervisor not built yet");
    return -1;
}

int bench__default_runner(struct bench_runner *r, const struct bench_config *cfg, char *err,
                          size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    *r = (struct bench_runner){.name = "unavailable", .run = unavailable_run};
    return 0;
}
