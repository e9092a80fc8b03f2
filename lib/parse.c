#include "lib/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int parse__u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Number followed by an optional one-letter suffix from `suffixes`
 * (e.g. "KMG"), each a further factor of `base`. */
static int parse__scaled(const char *s, uint64_t base, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    uint64_t mult = 1;
    if (*end) {
        const char *p = strchr("KMG", toupper((unsigned char)*end));
        if (!p || end[1])
            return -EINVAL;
        for (long i = 0; i <= p - "KMG"; i++)
            mult *= base;
    }
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *out = v * mult;
    return 0;
}

int parse__size(const char *s, uint64_t *out)
{
    return parse__scaled(s, 1024, out);
}

int parse__rate(const char *s, uint64_t *out)
{
    if (s && !strcmp(s, "unlimited")) {
        *out = 0;
        return 0;
    }
    return parse__scaled(s, 1000, out);
}

int parse__seconds(const char *s, double *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -EINVAL;
    if (v <= 0)
        return -ERANGE;
    *out = v;
    return 0;
}
