/* ICMP Echo and Echo Reply (RFC 792). */
#include "guest/net/icmp.h"
#include "guest/net/net_internal.h"

void icmp__set_reply_fn(struct net_stack *s, net_ping_fn fn, void *ctx)
{
    s->ping_fn = fn;
    s->ping_ctx = ctx;
}

static int icmp_send(struct net_stack *s, uint32_t dst, uint8_t type,
                     uint16_t id, uint16_t seq, const void *data, size_t len)
{
    uint8_t hdr[NET_L4_OFF + ICMP_HDR_LEN];
    uint8_t *m = hdr + NET_L4_OFF;
    m[ICMP_OFF_TYPE] = type;
    m[ICMP_OFF_CODE] = 0;
    net__put16(m + ICMP_OFF_CSUM, 0);
    net__put16(m + ICMP_OFF_ID, id);
    net__put16(m + ICMP_OFF_SEQ, seq);
    struct net_csum c;
    net__csum_init(&c);
    net__csum_feed(&c, m, ICMP_HDR_LEN);
    net__csum_feed(&c, data, len);
    net__put16(m + ICMP_OFF_CSUM, net__csum_finish(&c));
    struct net_frag pay = {data, len};
    return net__ip_output(s, dst, IP_PROTO_ICMP, hdr, sizeof hdr, &pay, 1, true);
}

int icmp__ping(struct net_stack *s, uint32_t dst, uint16_t id, uint16_t seq,
               size_t payload_len)
{
    uint8_t data[ICMP_PING_MAX_PAYLOAD];
    if (payload_len < 8 || payload_len > sizeof data)
        return -NET_EINVAL;
    uint64_t t = net__now(s);
    for (unsigned i = 0; i < 8; i++)
        data[i] = (uint8_t)(t >> (8 * i));
    for (size_t i = 8; i < payload_len; i++)
        data[i] = (uint8_t)i;
    int r = icmp_send(s, dst, ICMP_TYPE_ECHO_REQUEST, id, seq, data, payload_len);
    if (r == 0 || r == -NET_EAGAIN)
        s->stats.icmp_echo_req_out++;
    return r;
}

void icmp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                 const uint8_t *m, size_t len)
{
    if (len < ICMP_HDR_LEN || net__csum_partial(m, len) != 0xffff) {
        s->stats.rx_bad++;
        return;
    }
    uint16_t id = net__get16(m + ICMP_OFF_ID);
    uint16_t seq = net__get16(m + ICMP_OFF_SEQ);
    if (m[ICMP_OFF_TYPE] == ICMP_TYPE_ECHO_REQUEST && m[ICMP_OFF_CODE] == 0) {
        s->stats.icmp_echo_req_in++;
        if (dst != s->cfg.ip) /* no replies to broadcast pings */
            return;
        if (icmp_send(s, src, ICMP_TYPE_ECHO_REPLY, id, seq,
                      m + ICMP_HDR_LEN, len - ICMP_HDR_LEN) == 0)
            s->stats.icmp_echo_rep_out++;
    } else if (m[ICMP_OFF_TYPE] == ICMP_TYPE_ECHO_REPLY) {
        s->stats.icmp_echo_rep_in++;
        uint64_t rtt = 0;
        if (len >= ICMP_HDR_LEN + 8) {
            uint64_t t = 0;
            for (unsigned i = 0; i < 8; i++)
                t |= (uint64_t)m[ICMP_HDR_LEN + i] << (8 * i);
            rtt = s->now >= t ? s->now - t : 0;
        }
        if (s->ping_fn)
            s->ping_fn(s->ping_ctx, src, id, seq, rtt);
    }
}
