/* Diagnostics shared by every host-side layer.  One line per message, on
 * stderr, prefixed with the subsystem, so a user can tell who complained. */
#ifndef IOVIRT_LIB_LOG_H
#define IOVIRT_LIB_LOG_H

#include <stdarg.h>

void log__err(const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log__info(const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Debug output only when IOVIRT_DEBUG is set in the environment. */
void log__debug(const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Silence info output (tests set this to keep logs readable). */
void log__set_quiet(int quiet);

#endif
