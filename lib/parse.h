/* Strict parsers for command-line values: the whole string must be a
 * valid number (no trailing junk, no sign, no overflow).  Each returns 0
 * or -EINVAL / -ERANGE, so callers can print one clear line. */
#ifndef IOVIRT_LIB_PARSE_H
#define IOVIRT_LIB_PARSE_H

#include <stdint.h>

/* Unsigned decimal. */
int parse__u64(const char *s, uint64_t *out);
/* Bytes with an optional binary suffix K, M, G (x1024): "64M", "1536K". */
int parse__size(const char *s, uint64_t *out);
/* Bits per second with an optional decimal suffix K, M, G (x1000), or
 * "unlimited" (0): "1G", "10G", "100M". */
int parse__rate(const char *s, uint64_t *out);
/* Positive finite seconds: "2", "0.5". */
int parse__seconds(const char *s, double *out);

#endif
