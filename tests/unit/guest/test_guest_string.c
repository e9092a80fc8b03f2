/* guest/lib/string.c (compiled here for the host, renamed so the host's
 * own functions stay in use): memcpy at every alignment of source and
 * destination, as the drivers call it (a virtio-net frame lands 12 bytes
 * into its buffer; TCP send-ring offsets are arbitrary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define memcpy guest_memcpy
#define memmove guest_memmove
#define memset guest_memset
#define memcmp guest_memcmp
#define strlen guest_strlen
#define strcmp guest_strcmp
#define strncmp guest_strncmp
#define strchr guest_strchr
#include "guest/lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strcmp
#undef strncmp
#undef strchr

#define BIG (44 * 1460 + 12)
#define PAD 16

static uint8_t src[BIG + 2 * PAD], dst[BIG + 2 * PAD];

static void check_copy(size_t so, size_t doff, size_t len)
{
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    memset(dst, 0xA5, sizeof dst);
    void *r = guest_memcpy(dst + doff, src + so, len);
    assert_ptr_equal(r, dst + doff);
    if (len)
        assert_memory_equal(dst + doff, src + so, len);
    for (size_t i = 0; i < doff; i++)
        assert_int_equal(dst[i], 0xA5); /* nothing before the destination */
    for (size_t i = doff + len; i < doff + len + PAD && i < sizeof dst; i++)
        assert_int_equal(dst[i], 0xA5); /* nothing after it */
}

static void test_memcpy_every_alignment(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1460, 1514, BIG};
    for (size_t so = 0; so < 16; so++)
        for (size_t doff = 0; doff < 16; doff++)
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
                check_copy(so, doff, lens[l]);
}

static void test_memcpy_header_then_frame(void **state)
{
    (void)state;
    /* the virtio-net driver's pattern: a 12-byte header, then the frame */
    uint8_t hdr[12], frame[3000], buf[12 + 3000];
    for (size_t i = 0; i < sizeof hdr; i++)
        hdr[i] = (uint8_t)(0xF0 + i);
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i ^ (i >> 8));
    guest_memcpy(buf, hdr, sizeof hdr);
    guest_memcpy(buf + sizeof hdr, frame, sizeof frame);
    assert_memory_equal(buf, hdr, sizeof hdr);
    assert_memory_equal(buf + sizeof hdr, frame, sizeof frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memcpy_every_alignment),
        cmocka_unit_test(test_memcpy_header_then_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
