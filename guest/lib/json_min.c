/* The guest's JSON reader: a recursive-descent checker that records one
 * token per value (json_min.h).  Recursion is bounded by
 * JSON_MIN_MAX_DEPTH, every loop by the text length. */
#include "guest/lib/json_min.h"

#include <string.h>

struct jp {
    struct json_min_doc *d;
    const char *s;
    size_t n, i;
};

static int jp__fail(struct jp *p, int err)
{
    p->d->err = err;
    p->d->err_pos = p->i;
    return -err;
}

static void jp__ws(struct jp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int jp__hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int jp__new(struct jp *p, uint8_t type, size_t start)
{
    if (p->d->ntok >= JSON_MIN_MAX_TOKENS)
        return jp__fail(p, JSON_MIN_ETOKENS);
    unsigned t = p->d->ntok++;
    p->d->tok[t] = (struct json_min_tok){.type = type, .start = (uint32_t)start};
    return (int)t;
}

/* A string; p->i on the opening quote.  Escapes are checked, not decoded. */
static int jp__string(struct jp *p)
{
    int t = jp__new(p, JSON_MIN_STRING, ++p->i);
    if (t < 0)
        return t;
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->d->tok[t].len = (uint32_t)(p->i - p->d->tok[t].start);
            p->i++;
            p->d->tok[t].end = p->d->ntok;
            return t;
        }
        if (c < 0x20)
            return jp__fail(p, JSON_MIN_ESTRING);
        if (c != '\\') {
            p->i++;
            continue;
        }
        if (++p->i >= p->n)
            break;
        c = (unsigned char)p->s[p->i];
        if (c == 'u') {
            for (int k = 1; k <= 4; k++) {
                if (p->i + (size_t)k >= p->n)
                    return jp__fail(p, JSON_MIN_EEND);
                if (jp__hex(p->s[p->i + (size_t)k]) < 0)
                    return jp__fail(p, JSON_MIN_ESTRING);
            }
            p->i += 5;
        } else if (c && strchr("\"\\/bfnrt", c)) {
            p->i++;
        } else {
            return jp__fail(p, JSON_MIN_ESTRING);
        }
    }
    return jp__fail(p, JSON_MIN_EEND);
}

static int jp__digits(struct jp *p)
{
    size_t from = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    return p->i > from ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jp__number(struct jp *p)
{
    size_t start = p->i;
    if (p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0')
        p->i++;
    else if (jp__digits(p))
        return jp__fail(p, p->i >= p->n ? JSON_MIN_EEND : JSON_MIN_ENUMBER);
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (jp__digits(p))
            return jp__fail(p, p->i >= p->n ? JSON_MIN_EEND : JSON_MIN_ENUMBER);
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (jp__digits(p))
            return jp__fail(p, p->i >= p->n ? JSON_MIN_EEND : JSON_MIN_ENUMBER);
    }
    if (p->i - start > JSON_MIN_MAX_NUMBER)
        return jp__fail(p, JSON_MIN_ENUMBER);
    int t = jp__new(p, JSON_MIN_NUMBER, start);
    if (t >= 0) {
        p->d->tok[t].len = (uint32_t)(p->i - start);
        p->d->tok[t].end = p->d->ntok;
    }
    return t;
}

static int jp__literal(struct jp *p, const char *word, uint8_t type)
{
    size_t len = strlen(word), start = p->i;
    for (size_t k = 0; k < len; k++, p->i++) {
        if (p->i >= p->n)
            return jp__fail(p, JSON_MIN_EEND);
        if (p->s[p->i] != word[k])
            return jp__fail(p, JSON_MIN_ESYNTAX);
    }
    int t = jp__new(p, type, start);
    if (t >= 0) {
        p->d->tok[t].len = (uint32_t)len;
        p->d->tok[t].end = p->d->ntok;
    }
    return t;
}

static int jp__value(struct jp *p, unsigned depth);

/* An object or array; p->i on the opening bracket. */
static int jp__container(struct jp *p, unsigned depth)
{
    int obj = p->s[p->i] == '{';
    char close = obj ? '}' : ']';
    if (depth >= JSON_MIN_MAX_DEPTH)
        return jp__fail(p, JSON_MIN_EDEPTH);
    int t = jp__new(p, obj ? JSON_MIN_OBJECT : JSON_MIN_ARRAY, p->i);
    if (t < 0)
        return t;
    p->i++;
    jp__ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        p->d->tok[t].end = p->d->ntok;
        return t;
    }
    for (;;) {
        jp__ws(p);
        if (p->i >= p->n)
            return jp__fail(p, JSON_MIN_EEND);
        if (obj) {
            if (p->s[p->i] != '"')
                return jp__fail(p, JSON_MIN_ESYNTAX);
            int k = jp__string(p);
            if (k < 0)
                return k;
            jp__ws(p);
            if (p->i >= p->n)
                return jp__fail(p, JSON_MIN_EEND);
            if (p->s[p->i++] != ':') {
                p->i--;
                return jp__fail(p, JSON_MIN_ESYNTAX);
            }
        }
        int v = jp__value(p, depth + 1);
        if (v < 0)
            return v;
        p->d->tok[t].count++;
        jp__ws(p);
        if (p->i >= p->n)
            return jp__fail(p, JSON_MIN_EEND);
        char c = p->s[p->i++];
        if (c == close)
            break;
        if (c != ',') {
            p->i--;
            return jp__fail(p, JSON_MIN_ESYNTAX);
        }
    }
    p->d->tok[t].len = (uint32_t)(p->i - p->d->tok[t].start);
    p->d->tok[t].end = p->d->ntok;
    return t;
}

static int jp__value(struct jp *p, unsigned depth)
{
    jp__ws(p);
    if (p->i >= p->n)
        return jp__fail(p, JSON_MIN_EEND);
    char c = p->s[p->i];
    switch (c) {
    case '{':
    case '[': return jp__container(p, depth);
    case '"': return jp__string(p);
    case 't': return jp__literal(p, "true", JSON_MIN_TRUE);
    case 'f': return jp__literal(p, "false", JSON_MIN_FALSE);
    case 'n': return jp__literal(p, "null", JSON_MIN_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return jp__number(p);
        return jp__fail(p, JSON_MIN_ESYNTAX);
    }
}

int json_min__parse(struct json_min_doc *d, const char *text, size_t len)
{
    d->text = text;
    d->text_len = len;
    d->ntok = 0;
    d->err = JSON_MIN_OK;
    d->err_pos = 0;
    struct jp p = {.d = d, .s = text, .n = len};
    if (len > JSON_MIN_MAX_TEXT)
        return jp__fail(&p, JSON_MIN_ESIZE);
    int r = jp__value(&p, 0);
    if (r < 0) {
        d->ntok = 0;
        return r;
    }
    jp__ws(&p);
    if (p.i != p.n) {
        d->ntok = 0;
        return jp__fail(&p, JSON_MIN_ETRAILING);
    }
    return 0;
}

const char *json_min__strerror(int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case JSON_MIN_OK: return "no error";
    case JSON_MIN_EEND: return "text ends inside a value";
    case JSON_MIN_ESYNTAX: return "unexpected character";
    case JSON_MIN_ESTRING: return "bad string (control character, escape or surrogate)";
    case JSON_MIN_ENUMBER: return "bad number";
    case JSON_MIN_EDEPTH: return "nested too deep";
    case JSON_MIN_ETOKENS: return "too many values";
    case JSON_MIN_ESIZE: return "text too long";
    case JSON_MIN_ETRAILING: return "text after the value";
    default: return "unknown error";
    }
}
