/* libFuzzer target: what a hostile iperf3 server can make the guest read.
 *   1. json_min (guest/lib/json_min*.c) on the raw input: it must end;
 *      on success every token lies inside the text, `end` moves forward
 *      and stays within the document, every member and element is
 *      reachable, every scalar's accessors return; jansson accepting the
 *      text means json_min accepts it too unless one of its bounds
 *      (depth, values, size, number length) refused it.
 *   2. The iperf3 client (guest/prog/iperf3_client.c) with the input as
 *      the server's control stream, or (flag 0x80) the server
 *      (iperf3_server.c) with it as the client's (first byte: flags; then
 *      chunks of [after-units][length][bytes]; the server's data
 *      connection starts with the first chunk's 37 bytes as its cookie):
 *      it must end within its step deadlines with status 0 or 1, and 1
 *      must come with a reason. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/lib/json_min.c"
#include "guest/lib/json_min_get.c"
#include "guest/lib/printf.c"
#include "guest/prog/iperf3_client.c"
#include "guest/prog/iperf3_proto.c"
#include "guest/prog/iperf3_server.c"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/guest/iperf3_fake_io.h"

static struct json_min_doc fz_doc;

static void fz__walk(const struct json_min_doc *d)
{
    char buf[256];
    for (unsigned t = 0; t < d->ntok; t++) {
        const struct json_min_tok *k = &d->tok[t];
        if (k->end <= t || k->end > d->ntok || k->start > d->text_len || k->len > d->text_len - k->start)
            abort();
        uint64_t u;
        int64_t i;
        int b;
        json_min__u64(d, (int)t, &u);
        json_min__i64(d, (int)t, &i);
        json_min__bool(d, (int)t, &b);
        if (json_min__string(d, (int)t, buf, sizeof buf) == 0 && strlen(buf) >= sizeof buf)
            abort();
        if (k->type == JSON_MIN_ARRAY)
            for (unsigned e = 0; e < k->count; e++)
                if (json_min__at(d, (int)t, e) <= (int)t)
                    abort();
        if (k->type == JSON_MIN_OBJECT) {
            unsigned m = t + 1;
            for (unsigned e = 0; e < k->count; e++) {
                if (m + 1 >= d->ntok || d->tok[m].type != JSON_MIN_STRING)
                    abort();
                char name[128]; /* json_min__get compares names up to this long */
                if (json_min__string(d, (int)m, name, sizeof name) == 0 && json_min__get(d, (int)t, name) < 0)
                    abort(); /* a key we can name is found (the first of its name) */
                m = d->tok[m + 1].end;
            }
            if (m != k->end)
                abort();
        }
    }
}

static void fz__json(const uint8_t *data, size_t size)
{
    int r = json_min__parse(&fz_doc, (const char *)data, size);
    if (r == 0)
        fz__walk(&fz_doc);
    else if (fz_doc.ntok != 0 || fz_doc.err_pos > size)
        abort();
    if (memchr(data, 0, size))
        return; /* jansson's reader stops at a NUL byte as if the text ended */
    json_error_t e;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
    if (j && r != 0 && r != -JSON_MIN_EDEPTH && r != -JSON_MIN_ETOKENS && r != -JSON_MIN_ESIZE &&
        r != -JSON_MIN_ENUMBER)
        abort(); /* valid JSON refused for no bound */
    json_decref(j);
}

static struct fake_io fz_io;
static uint8_t fz_payload[2048], fz_scratch[2048];

static void fz__client(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    memset(&fz_io, 0, sizeof fz_io);
    unsigned flags = (unsigned)take(&in, 1);
    fz_io.tick = 200000000; /* 200 ms per wait: step timeouts pass quickly */
    fz_io.ctrl_eof = flags & 1;
    fz_io.rev_bytes = flags & 2 ? 700 : 0;
    fz_io.rev_tail = flags & 4 ? 3000 : 0;
    fz_io.refuse = (flags >> 3) & 3;
    fz_io.data_eof_early = (flags >> 5) & 1;
    while (in.n && fz_io.nchunks < FAKE_MAX_CHUNKS) {
        unsigned after = (unsigned)take(&in, 1) % 6;
        size_t len = (size_t)take(&in, 2);
        if (len > in.n)
            len = in.n;
        fake__chunk(&fz_io, after, in.p, len);
        in.p += len;
        in.n -= len;
    }
    struct iperf3_io io = fake__io(&fz_io);
    if (flags & 0x80) {
        static const size_t server_seq[] = {1, 1, 1, 1, 1, 0, 1};
        static uint8_t big[IPERF3_MAX_LEN];
        fz_io.seq = server_seq;
        fz_io.nseq = 7;
        fz_io.data_end_chunk = 3;
        if (fz_io.nchunks && fz_io.chunk[0].len >= IPERF3_COOKIE_SIZE) {
            fz_io.data_prefix = fz_io.chunk[0].bytes;
            fz_io.data_prefix_len = IPERF3_COOKIE_SIZE;
        }
        struct iperf3_server_config sc = {.payload = big, .scratch = big, .buf_len = sizeof big};
        struct iperf3_server_result sr;
        int s = iperf3_server__run(&io, &sc, &sr);
        if ((s != 0 && s != 1) || (s == 1 && !sr.err[0]) || fz_io.now > 200ull * 1000000000ull || !fz_io.closed[0])
            abort();
        return;
    }
    struct iperf3_config c = {.time_s = 1, .len = sizeof fz_payload, .reverse = (flags >> 6) & 1,
                              .payload = fz_payload, .scratch = fz_scratch, .scratch_len = sizeof fz_scratch};
    memset(c.cookie, 'b', IPERF3_COOKIE_SIZE - 1);
    struct iperf3_result r;
    int s = iperf3_client__run(&io, &c, &r);
    if ((s != 0 && s != 1) || (s == 1 && !r.err[0]) || fz_io.now > 120ull * 1000000000ull || !fz_io.closed[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz__json(data, size);
    fz__client(data, size);
    return 0;
}
