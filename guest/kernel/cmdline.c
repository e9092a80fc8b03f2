/* See cmdline.h. */
#include "guest/kernel/cmdline.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

int cmdline__parse(struct cmdline *cl, const char *src)
{
    int rc = 0;
    memset(cl, 0, sizeof(*cl));
    size_t n = src ? strlen(src) : 0;
    if (n >= CMDLINE_MAX) {
        n = CMDLINE_MAX - 1;
        rc = -E2BIG;
    }
    memcpy(cl->buf, src ? src : "", n);
    cl->buf[n] = '\0';
    char *p = cl->buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        char *eq = strchr(word, '=');
        if (eq && eq < p && eq != word) {
            if (cl->nopts == CMDLINE_MAXOPTS) {
                rc = -E2BIG;
                continue;
            }
            cl->key[cl->nopts] = word;
            cl->val[cl->nopts++] = eq + 1;
            *eq = '\0';
        } else {
            if (cl->argc == CMDLINE_MAXARGS) {
                rc = -E2BIG;
                continue;
            }
            cl->argv[cl->argc++] = word;
        }
    }
    cl->argv[cl->argc] = NULL;
    return rc;
}

const char *cmdline__get(const struct cmdline *cl, const char *key)
{
    for (int i = cl->nopts - 1; i >= 0; i--)
        if (strcmp(cl->key[i], key) == 0)
            return cl->val[i];
    return NULL;
}

int cmdline__parse_ipv4(const char *s, uint32_t *out)
{
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255)
                return -EINVAL;
        }
        addr = addr << 8 | v;
        if (part < 3 && *s++ != '.')
            return -EINVAL;
    }
    if (*s)
        return -EINVAL;
    *out = addr;
    return 0;
}

int cmdline__parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (!s || !*s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return -EINVAL;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -EINVAL;
        if (v > (UINT64_MAX - d) / base)
            return -EINVAL;
        v = v * base + d;
    }
    *out = v;
    return 0;
}
