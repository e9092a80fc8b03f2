#include "bench/json_parse.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    bool failed;
};

static void fail(struct parser *p, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    snprintf(p->err, p->errlen, "line %zu col %zu: %s", line, col, what);
}

static int peek(struct parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static bool literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        fail(p, "unexpected character");
        return false;
    }
    p->pos += n;
    return true;
}

/* Growable byte buffer for strings. */
struct sbuf {
    char *b;
    size_t n, cap;
};

static bool sbuf_put(struct sbuf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *nb = realloc(b->b, cap);
        if (!nb)
            return false;
        b->b = nb;
        b->cap = cap;
    }
    b->b[b->n++] = c;
    b->b[b->n] = '\0';
    return true;
}

static int hex4(struct parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) {
        fail(p, "truncated \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            fail(p, "bad hex digit in \\u escape");
            return -1;
        }
    }
    *out = v;
    return 0;
}

static bool put_utf8(struct sbuf *b, unsigned cp)
{
    bool ok = true;
    if (cp < 0x80)
        return sbuf_put(b, (char)cp);
    if (cp < 0x800)
        return sbuf_put(b, (char)(0xC0 | cp >> 6)) && sbuf_put(b, (char)(0x80 | (cp & 0x3F)));
    if (cp < 0x10000)
        ok = sbuf_put(b, (char)(0xE0 | cp >> 12));
    else
        ok = sbuf_put(b, (char)(0xF0 | cp >> 18)) && sbuf_put(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
    return ok && sbuf_put(b, (char)(0x80 | ((cp >> 6) & 0x3F))) && sbuf_put(b, (char)(0x80 | (cp & 0x3F)));
}

/* At the opening quote.  Returns a malloc'd string or NULL on error. */
static char *parse_string(struct parser *p)
{
    struct sbuf b = {0};
    p->pos++; /* '"' */
    if (!sbuf_put(&b, 0))
        goto oom;
    b.n = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            fail(p, "unterminated string");
            goto err;
        }
        p->pos++;
        if (c == '"')
            return b.b;
        if (c < 0x20) {
            p->pos--;
            fail(p, "control character in string");
            goto err;
        }
        if (c != '\\') {
            if (!sbuf_put(&b, (char)c))
                goto oom;
            continue;
        }
        c = peek(p);
        p->pos++;
        unsigned cp;
        switch (c) {
        case '"': case '\\': case '/': cp = (unsigned)c; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(p, &cp))
                goto err;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    fail(p, "unpaired surrogate in \\u escape");
                    goto err;
                }
                p->pos += 2;
                if (hex4(p, &lo))
                    goto err;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(p, "unpaired surrogate in \\u escape");
                    goto err;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, "unpaired surrogate in \\u escape");
                goto err;
            }
            if (cp == 0) {
                fail(p, "\\u0000 in string");
                goto err;
            }
            break;
        default:
            p->pos--;
            fail(p, "bad escape in string");
            goto err;
        }
        if (!put_utf8(&b, cp))
            goto oom;
    }
oom:
    fail(p, "out of memory");
err:
    free(b.b);
    return NULL;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool parse_number(struct parser *p, double *out)
{
    size_t start = p->pos;
    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0')
        p->pos++;
    else if (is_digit(peek(p)))
        while (is_digit(peek(p)))
            p->pos++;
    else
        goto bad;
    if (peek(p) == '.') {
        p->pos++;
        if (!is_digit(peek(p)))
            goto bad;
        while (is_digit(peek(p)))
            p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!is_digit(peek(p)))
            goto bad;
        while (is_digit(peek(p)))
            p->pos++;
    }
    size_t n = p->pos - start;
    char tmp[64];
    if (n >= sizeof tmp) {
        p->pos = start;
        fail(p, "number too long");
        return false;
    }
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    if (!isfinite(*out)) {
        p->pos = start;
        fail(p, "number out of range");
        return false;
    }
    return true;
bad:
    fail(p, "malformed number");
    return false;
}

static bool parse_value(struct parser *p, struct json_value *v, int depth);

/* Appends a zeroed element to v->items (and a key slot for objects). */
static struct json_value *grow(struct parser *p, struct json_value *v, size_t *cap)
{
    if (v->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        struct json_value *ni = realloc(v->items, nc * sizeof(*ni));
        if (!ni)
            goto oom;
        v->items = ni;
        if (v->type == JSON_OBJECT) {
            char **nk = realloc(v->keys, nc * sizeof(*nk));
            if (!nk)
                goto oom;
            v->keys = nk;
        }
        *cap = nc;
    }
    memset(&v->items[v->n], 0, sizeof(v->items[0]));
    if (v->type == JSON_OBJECT)
        v->keys[v->n] = NULL;
    return &v->items[v->n++];
oom:
    fail(p, "out of memory");
    return NULL;
}

static bool parse_container(struct parser *p, struct json_value *v, int depth, bool object)
{
    char close = object ? '}' : ']';
    size_t cap = 0;
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    skip_ws(p);
    if (peek(p) == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        skip_ws(p);
        char *key = NULL;
        if (object) {
            if (peek(p) != '"') {
                fail(p, "expected a string key");
                return false;
            }
            size_t at = p->pos;
            if (v->n == JSON_PARSE_MAX_MEMBERS) {
                fail(p, "too many members in object");
                return false;
            }
            if (!(key = parse_string(p)))
                return false;
            for (size_t i = 0; i < v->n; i++)
                if (!strcmp(v->keys[i], key)) {
                    p->pos = at;
                    fail(p, "duplicate key in object");
                    free(key);
                    return false;
                }
            skip_ws(p);
            if (peek(p) != ':') {
                fail(p, "expected ':' after key");
                free(key);
                return false;
            }
            p->pos++;
        }
        struct json_value *item = grow(p, v, &cap);
        if (!item) {
            free(key);
            return false;
        }
        if (object)
            v->keys[v->n - 1] = key;
        if (!parse_value(p, item, depth + 1))
            return false;
        skip_ws(p);
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == close) {
            p->pos++;
            return true;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return false;
    }
}

static bool parse_value(struct parser *p, struct json_value *v, int depth)
{
    if (depth > JSON_PARSE_MAX_DEPTH) {
        fail(p, "nesting too deep");
        return false;
    }
    skip_ws(p);
    switch (peek(p)) {
    case '{': return parse_container(p, v, depth, true);
    case '[': return parse_container(p, v, depth, false);
    case '"':
        v->type = JSON_STRING;
        return (v->string = parse_string(p)) != NULL;
    case 't': v->type = JSON_BOOL, v->boolean = true; return literal(p, "true");
    case 'f': v->type = JSON_BOOL, v->boolean = false; return literal(p, "false");
    case 'n': v->type = JSON_NULL; return literal(p, "null");
    case -1: fail(p, "unexpected end of input"); return false;
    default:
        v->type = JSON_NUMBER;
        return parse_number(p, &v->number);
    }
}

int json__parse(const char *text, size_t len, struct json_value *out, char *err, size_t errlen)
{
    struct parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = '\0';
    if (parse_value(&p, out, 0)) {
        skip_ws(&p);
        if (p.pos == p.len)
            return 0;
        fail(&p, "trailing characters after the document");
    }
    json__free(out);
    return -1;
}

void json__free(struct json_value *v)
{
    if (v->type == JSON_STRING)
        free(v->string);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->n; i++) {
            json__free(&v->items[i]);
            if (v->keys)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof(*v));
}

const struct json_value *json__get(const struct json_value *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->keys[i], key))
            return &v->items[i];
    return NULL;
}

const char *json__type_name(enum json_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
