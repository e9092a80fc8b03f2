#include "bench/json_writer.h"

#include <inttypes.h>
#include <math.h>

void json__init(struct json_writer *j, FILE *f)
{
    *j = (struct json_writer){.f = f, .depth = 0};
    j->first[0] = true;
}

/* Separator before a value (or key) at the current level. */
static void json__pre_value(struct json_writer *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->in_object[j->depth]) {
        j->error = true; /* a value inside an object needs a key */
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = false;
}

static void json__open(struct json_writer *j, char c, bool object)
{
    json__pre_value(j);
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->error = true;
        return;
    }
    fputc(c, j->f);
    j->depth++;
    j->first[j->depth] = true;
    j->in_object[j->depth] = object;
}

static void json__close(struct json_writer *j, char c, bool object)
{
    if (j->depth == 0 || j->in_object[j->depth] != object || j->after_key) {
        j->error = true;
        return;
    }
    fputc(c, j->f);
    j->depth--;
}

void json__begin_object(struct json_writer *j) { json__open(j, '{', true); }
void json__end_object(struct json_writer *j) { json__close(j, '}', true); }
void json__begin_array(struct json_writer *j) { json__open(j, '[', false); }
void json__end_array(struct json_writer *j) { json__close(j, ']', false); }

static void json__escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json__key(struct json_writer *j, const char *key)
{
    if (!j->in_object[j->depth] || j->after_key) {
        j->error = true;
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = false;
    json__escaped(j->f, key);
    fputc(':', j->f);
    j->after_key = true;
}

void json__string(struct json_writer *j, const char *s)
{
    json__pre_value(j);
    json__escaped(j->f, s ? s : "");
}

void json__number(struct json_writer *j, double v)
{
    json__pre_value(j);
    if (isfinite(v))
        fprintf(j->f, "%.6g", v);
    else
        fputs("null", j->f);
}

void json__uint(struct json_writer *j, uint64_t v)
{
    json__pre_value(j);
    fprintf(j->f, "%" PRIu64, v);
}

void json__bool(struct json_writer *j, bool v)
{
    json__pre_value(j);
    fputs(v ? "true" : "false", j->f);
}

void json__null(struct json_writer *j)
{
    json__pre_value(j);
    fputs("null", j->f);
}

int json__finish(struct json_writer *j)
{
    if (j->depth != 0 || j->after_key)
        j->error = true;
    fputc('\n', j->f);
    if (fflush(j->f) != 0 || ferror(j->f))
        j->error = true;
    return j->error ? -1 : 0;
}
