#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>

static int log_quiet;

void log__set_quiet(int quiet) { log_quiet = quiet; }

static void log__vprint(const char *level, const char *subsys, const char *fmt, va_list ap)
{
    fprintf(stderr, "iovirt: %s%s: ", level, subsys);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void log__err(const char *subsys, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log__vprint("error: ", subsys, fmt, ap);
    va_end(ap);
}

void log__info(const char *subsys, const char *fmt, ...)
{
    if (log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    log__vprint("", subsys, fmt, ap);
    va_end(ap);
}

void log__debug(const char *subsys, const char *fmt, ...)
{
    static int enabled = -1;
    if (enabled < 0)
        enabled = getenv("IOVIRT_DEBUG") != NULL;
    if (!enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    log__vprint("debug: ", subsys, fmt, ap);
    va_end(ap);
}
