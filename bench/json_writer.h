/* A small streaming JSON writer: correct escaping, commas and nesting, so
 * benchmark output is always valid JSON.  Errors (nesting too deep, key
 * outside an object) are sticky and reported by json__finish(). */
#ifndef IOVIRT_BENCH_JSON_WRITER_H
#define IOVIRT_BENCH_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
    FILE *f;
    int depth;
    bool first[JSON_MAX_DEPTH];
    bool in_object[JSON_MAX_DEPTH];
    bool after_key;
    bool error;
};

void json__init(struct json_writer *j, FILE *f);
void json__begin_object(struct json_writer *j);
void json__end_object(struct json_writer *j);
void json__begin_array(struct json_writer *j);
void json__end_array(struct json_writer *j);
void json__key(struct json_writer *j, const char *key);
void json__string(struct json_writer *j, const char *s);
void json__number(struct json_writer *j, double v);   /* non-finite -> null */
void json__uint(struct json_writer *j, uint64_t v);
void json__bool(struct json_writer *j, bool v);
void json__null(struct json_writer *j);
/* 0 if the document is complete and was written without error. */
int json__finish(struct json_writer *j);

#endif
