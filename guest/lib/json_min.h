/* A small JSON reader for the guest (freestanding, no allocator; pure, so
 * host tests and the fuzzer compile it too).  The one hand-written parser
 * the project allows: jansson cannot link into the guest kernel, and the
 * guest must read iperf3's control messages (docs/iperf3.md).
 *
 * RFC 8259 values: objects, arrays, strings with every escape (\uXXXX and
 * surrogate pairs included), numbers, true/false/null.  The text is checked
 * completely at parse time and turned into a flat token array (no copies;
 * tokens point into the caller's text, which must outlive the document).
 * Bounded: JSON_MIN_MAX_TOKENS values, JSON_MIN_MAX_DEPTH nesting,
 * JSON_MIN_MAX_TEXT bytes; anything over a bound is an error, never a
 * truncated document. */
#ifndef IOVIRT_GUEST_LIB_JSON_MIN_H
#define IOVIRT_GUEST_LIB_JSON_MIN_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MIN_MAX_TOKENS 512
#define JSON_MIN_MAX_DEPTH  16
#define JSON_MIN_MAX_TEXT   65536u
#define JSON_MIN_MAX_NUMBER 64u    /* characters in one number */

enum json_min_type {
    JSON_MIN_OBJECT = 1,
    JSON_MIN_ARRAY,
    JSON_MIN_STRING,
    JSON_MIN_NUMBER,
    JSON_MIN_TRUE,
    JSON_MIN_FALSE,
    JSON_MIN_NULL,
};

enum json_min_err {
    JSON_MIN_OK = 0,
    JSON_MIN_EEND,      /* the text ended inside a value */
    JSON_MIN_ESYNTAX,   /* a character that cannot be there */
    JSON_MIN_ESTRING,   /* a control character, bad escape or lone surrogate */
    JSON_MIN_ENUMBER,   /* not a JSON number, or longer than JSON_MIN_MAX_NUMBER */
    JSON_MIN_EDEPTH,    /* nested deeper than JSON_MIN_MAX_DEPTH */
    JSON_MIN_ETOKENS,   /* more than JSON_MIN_MAX_TOKENS values */
    JSON_MIN_ESIZE,     /* text longer than JSON_MIN_MAX_TEXT */
    JSON_MIN_ETRAILING, /* something after the top-level value */
};

/* One value.  Strings: [start, start+len) is the raw text between the
 * quotes (escapes not decoded); other scalars: the literal's text.
 * end: the index of the token after this value and all it contains, so the
 * next sibling of token i is tok[i].end.  An object's children alternate
 * key (a string token) and value. */
struct json_min_tok {
    uint8_t type;
    uint32_t start, len;
    uint32_t end;
    uint32_t count; /* objects: members; arrays: elements */
};

struct json_min_doc {
    const char *text;
    size_t text_len;
    unsigned ntok;
    int err;        /* enum json_min_err of the last parse */
    size_t err_pos; /* byte offset where it was found */
    struct json_min_tok tok[JSON_MIN_MAX_TOKENS];
};

/* Parse text[0..len) (no NUL needed).  0 with the root as token 0, or
 * -enum json_min_err (d->err, d->err_pos tell where). */
int json_min__parse(struct json_min_doc *d, const char *text, size_t len);
const char *json_min__strerror(int err);

/* Lookups return a token index or -1 (absent, wrong type, bad index).
 * A key matches when its decoded text equals `key` exactly. */
int json_min__get(const struct json_min_doc *d, int obj, const char *key);
int json_min__at(const struct json_min_doc *d, int arr, unsigned index);
int json_min__type(const struct json_min_doc *d, int t);

/* Values: 0, or -1 when t is not of that kind or the number does not fit.
 * u64/i64 take any JSON number whose value is an exact integer in range
 * (cJSON writes 3e+15 or 1.5e3 for some integers). */
int json_min__u64(const struct json_min_doc *d, int t, uint64_t *out);
int json_min__i64(const struct json_min_doc *d, int t, int64_t *out);
int json_min__bool(const struct json_min_doc *d, int t, int *out);
/* The decoded string (UTF-8) NUL-terminated in out; -1 if t is no string,
 * it decodes to a NUL, or it does not fit in cap - 1 bytes. */
int json_min__string(const struct json_min_doc *d, int t, char *out, size_t cap);

#endif
