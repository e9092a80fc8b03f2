/* Small formatted output for the guest kernel (pure: no HAL, host-testable).
 * Conversions: %d %i %u %x %X %c %s %p %% with length l, ll, z and flags
 * '-', '0', width.  Unknown conversions are printed literally. */
#ifndef IOVIRT_GUEST_LIB_PRINTF_H
#define IOVIRT_GUEST_LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*kfmt_put_fn)(void *ctx, char c);

/* Returns the number of characters produced. */
int kfmt__vformat(kfmt_put_fn put, void *ctx, const char *fmt, va_list ap);
/* snprintf semantics: always NUL-terminates when size > 0; returns the
 * length the full output would have had. */
int kfmt__snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kfmt__vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
