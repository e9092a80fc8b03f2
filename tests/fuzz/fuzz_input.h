/* Reading a fuzzer's input as a stream of little-endian fields; past the
 * end every byte reads as 0, so any input length is a valid program. */
#ifndef IOVIRT_TESTS_FUZZ_FUZZ_INPUT_H
#define IOVIRT_TESTS_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct in {
    const uint8_t *p;
    size_t n;
};

/* The next `bytes` (<= 8) bytes as a little-endian number. */
static inline uint64_t take(struct in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

#endif
