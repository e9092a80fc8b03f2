/* Reading values out of a parsed json_min document: key lookup, array
 * index, integers (exact only: no floating point in the guest), booleans,
 * decoded strings.  Every walk is bounded by the token count. */
#include "guest/lib/json_min.h"

#include <string.h>

static int jg__valid(const struct json_min_doc *d, int t)
{
    return t >= 0 && (unsigned)t < d->ntok;
}

int json_min__type(const struct json_min_doc *d, int t)
{
    return jg__valid(d, t) ? d->tok[t].type : -1;
}

static int jg__hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t jg__utf8(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the raw string s[0..n) (checked by the parser) into out (cap
 * bytes, NUL added); -1 on a lone surrogate, a decoded NUL or no room. */
static int jg__decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return -1;
    for (size_t i = 0; i < n;) {
        char buf[4];
        size_t len = 1;
        if (s[i] != '\\') {
            buf[0] = s[i++];
        } else {
            char e = s[i + 1];
            i += 2;
            if (e != 'u') {
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                buf[0] = to[strchr(from, e) - from];
            } else {
                int hi = jg__hex4(s + i);
                i += 4;
                uint32_t cp = (uint32_t)hi;
                if (hi >= 0xDC00 && hi <= 0xDFFF)
                    return -1;
                if (hi >= 0xD800 && hi <= 0xDBFF) {
                    if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u')
                        return -1;
                    int lo = jg__hex4(s + i + 2);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    i += 6;
                    cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                }
                if (cp == 0)
                    return -1;
                len = jg__utf8(cp, buf);
            }
        }
        if (buf[0] == 0 || o + len >= cap)
            return -1;
        memcpy(out + o, buf, len);
        o += len;
    }
    out[o] = 0;
    return 0;
}

int json_min__string(const struct json_min_doc *d, int t, char *out, size_t cap)
{
    if (json_min__type(d, t) != JSON_MIN_STRING)
        return -1;
    return jg__decode(d->text + d->tok[t].start, d->tok[t].len, out, cap);
}

int json_min__get(const struct json_min_doc *d, int obj, const char *key)
{
    if (json_min__type(d, obj) != JSON_MIN_OBJECT)
        return -1;
    char name[128];
    unsigned i = (unsigned)obj + 1;
    for (uint32_t m = 0; m < d->tok[obj].count && i + 1 < d->ntok; m++) {
        if (json_min__string(d, (int)i, name, sizeof name) == 0 && strcmp(name, key) == 0)
            return (int)i + 1;
        i = d->tok[i + 1].end;
    }
    return -1;
}

int json_min__at(const struct json_min_doc *d, int arr, unsigned index)
{
    if (json_min__type(d, arr) != JSON_MIN_ARRAY || index >= d->tok[arr].count)
        return -1;
    unsigned i = (unsigned)arr + 1;
    for (unsigned k = 0; k < index && i < d->ntok; k++)
        i = d->tok[i].end;
    return i < d->ntok ? (int)i : -1;
}

/* A number as sign, magnitude and a power of ten applied exactly:
 * 0 when it is an integer whose magnitude fits 64 bits. */
static int jg__integer(const struct json_min_doc *d, int t, int *neg, uint64_t *mag)
{
    if (json_min__type(d, t) != JSON_MIN_NUMBER)
        return -1;
    const char *s = d->text + d->tok[t].start;
    size_t n = d->tok[t].len, i = 0;
    uint64_t m = 0;
    int64_t exp10 = 0;
    int in_frac = 0;
    *neg = s[0] == '-';
    i += (size_t)*neg;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            in_frac = 1;
            continue;
        }
        unsigned dgt = (unsigned)(s[i] - '0');
        if (m > (UINT64_MAX - dgt) / 10) {
            /* more digits than fit: fine only if they are zeros (an
             * integer digit dropped raises the exponent) */
            if (dgt)
                return -1;
            exp10 += !in_frac;
            continue;
        }
        m = m * 10 + dgt;
        exp10 -= in_frac;
    }
    if (i < n) {
        int eneg = 0;
        int64_t e = 0;
        i++;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        for (; i < n; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    for (; exp10 < 0 && m; exp10++) {
        if (m % 10)
            return -1;
        m /= 10;
    }
    for (; exp10 > 0 && m; exp10--) {
        if (m > UINT64_MAX / 10)
            return -1;
        m *= 10;
    }
    *mag = m;
    return 0;
}

int json_min__u64(const struct json_min_doc *d, int t, uint64_t *out)
{
    int neg;
    uint64_t m;
    if (jg__integer(d, t, &neg, &m) || (neg && m))
        return -1;
    *out = m;
    return 0;
}

int json_min__i64(const struct json_min_doc *d, int t, int64_t *out)
{
    int neg;
    uint64_t m;
    if (jg__integer(d, t, &neg, &m) || m > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return -1;
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return 0;
}

int json_min__bool(const struct json_min_doc *d, int t, int *out)
{
    int ty = json_min__type(d, t);
    if (ty != JSON_MIN_TRUE && ty != JSON_MIN_FALSE)
        return -1;
    *out = ty == JSON_MIN_TRUE;
    return 0;
}
