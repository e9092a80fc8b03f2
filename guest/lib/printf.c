/* See printf.h. */
#include "guest/lib/printf.h"

#include <stdint.h>

struct kfmt_spec {
    int width;
    char pad;       /* ' ' or '0' */
    int left;       /* '-' */
    int alt;        /* '#': 0x prefix on %x */
};

static int kfmt__emit(kfmt_put_fn put, void *ctx, const struct kfmt_spec *sp, const char *s,
                      int len, const char *prefix)
{
    int plen = 0, n = 0;
    while (prefix && prefix[plen])
        plen++;
    int fill = sp->width > len + plen ? sp->width - len - plen : 0;
    if (!sp->left && sp->pad == ' ')
        for (; fill; fill--, n++)
            put(ctx, ' ');
    for (int i = 0; i < plen; i++, n++)
        put(ctx, prefix[i]);
    if (!sp->left && sp->pad == '0')
        for (; fill; fill--, n++)
            put(ctx, '0');
    for (int i = 0; i < len; i++, n++)
        put(ctx, s[i]);
    for (; fill; fill--, n++)
        put(ctx, ' ');
    return n;
}

static int kfmt__number(kfmt_put_fn put, void *ctx, const struct kfmt_spec *sp, uint64_t v,
                        unsigned base, int upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int len = 0;
    do {
        buf[sizeof(buf) - 1 - len++] = digits[v % base];
        v /= base;
    } while (v);
    return kfmt__emit(put, ctx, sp, buf + sizeof(buf) - len, len, prefix);
}

int kfmt__vformat(kfmt_put_fn put, void *ctx, const char *fmt, va_list ap)
{
    int n = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(ctx, *p);
            n++;
            continue;
        }
        const char *start = p++;
        struct kfmt_spec sp = {.pad = ' '};
        for (;; p++) {
            if (*p == '-')
                sp.left = 1;
            else if (*p == '#')
                sp.alt = 1;
            else if (*p == '0')
                sp.pad = '0';
            else
                break;
        }
        while (*p >= '0' && *p <= '9' && sp.width < 1000)
            sp.width = sp.width * 10 + (*p++ - '0');
        int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        if (*p == 'l') {
            lng = 1;
            if (*++p == 'l') {
                lng = 2;
                p++;
            }
        } else if (*p == 'z') {
            lng = 3;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = lng == 0 ? va_arg(ap, int) : lng == 1 ? va_arg(ap, long)
                      : lng == 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, size_t);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            n += kfmt__number(put, ctx, &sp, mag, 10, 0, v < 0 ? "-" : NULL);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng == 0 ? va_arg(ap, unsigned) : lng == 1 ? va_arg(ap, unsigned long)
                       : lng == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, size_t);
            const char *pre = (sp.alt && *p != 'u' && v) ? (*p == 'X' ? "0X" : "0x") : NULL;
            n += kfmt__number(put, ctx, &sp, v, *p == 'u' ? 10 : 16, *p == 'X', pre);
            break;
        }
        case 'p':
            n += kfmt__number(put, ctx, &sp, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, "0x");
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            n += kfmt__emit(put, ctx, &sp, &c, 1, NULL);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len])
                len++;
            sp.pad = ' ';
            n += kfmt__emit(put, ctx, &sp, s, len, NULL);
            break;
        }
        case '%':
            put(ctx, '%');
            n++;
            break;
        default: /* unknown or truncated: print what we saw */
            for (const char *q = start; q <= p && *q; q++, n++)
                put(ctx, *q);
            if (!*p)
                return n;
            break;
        }
    }
    return n;
}

struct kfmt_buf {
    char *buf;
    size_t size, len;
};

static void kfmt__buf_put(void *ctx, char c)
{
    struct kfmt_buf *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int kfmt__vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct kfmt_buf b = {.buf = buf, .size = size};
    int n = kfmt__vformat(kfmt__buf_put, &b, fmt, ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return n;
}

int kfmt__snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kfmt__vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
