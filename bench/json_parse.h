/* A small strict JSON parser (RFC 8259) into a tree, for checking benchmark
 * records.  Stricter than the RFC where laxness could hide a broken file:
 * duplicate object keys and \u0000 in strings are errors.  Nesting is
 * bounded, so hostile input cannot exhaust the stack. */
#ifndef IOVIRT_BENCH_JSON_PARSE_H
#define IOVIRT_BENCH_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_PARSE_MAX_DEPTH 64
#define JSON_PARSE_MAX_MEMBERS 4096 /* per object: keeps the duplicate-key check cheap */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
    enum json_type type;
    bool boolean;
    double number;
    char *string;              /* JSON_STRING: NUL-terminated UTF-8 */
    size_t n;                  /* JSON_ARRAY / JSON_OBJECT: element count */
    struct json_value *items;  /* elements, or member values in file order */
    char **keys;               /* JSON_OBJECT: keys[i] names items[i] */
};

/* Parses text[0..len).  0, or -1 with "line L col C: what" in err (and
 * *out left as JSON_NULL).  Free a parsed tree with json__free(). */
int json__parse(const char *text, size_t len, struct json_value *out, char *err, size_t errlen);
void json__free(struct json_value *v);
/* The member `key` of an object, or NULL (also when v is not an object). */
const struct json_value *json__get(const struct json_value *v, const char *key);
const char *json__type_name(enum json_type t);

#endif
