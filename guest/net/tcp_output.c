/* TCP transmit side: building segments straight from the send ring (no
 * copy: the ring pieces are the payload frags), the sliding-window output
 * loop (peer window, congestion window, sender SWS avoidance, Nagle) and
 * the control segments (SYN, SYN-ACK, ACK, RST).
 *
 * Offload (netdev.h): on a device with NETDEV_F_CSUM_TCP4 the TCP checksum
 * is left to the device (the field gets the pseudo-header sum); with
 * NETDEV_F_TSO4 a data segment may be up to 64 KiB, a whole number of MSS
 * pieces unless it is the tail, which the device cuts into MSS frames. */
#include "guest/net/tcp_internal.h"

/* The header every segment carries; returns its length (options incl.). */
static size_t tcp_build(uint8_t *t, uint16_t sport, uint16_t dport,
                        uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                        const uint8_t *opts, size_t optlen)
{
    size_t hlen = TCP_HDR_LEN + optlen;
    net__put16(t + TCP_OFF_SPORT, sport);
    net__put16(t + TCP_OFF_DPORT, dport);
    net__put32(t + TCP_OFF_SEQ, seq);
    net__put32(t + TCP_OFF_ACK, ack);
    t[TCP_OFF_DOFF] = (uint8_t)((hlen / 4) << 4);
    t[TCP_OFF_FLAGS] = flags;
    net__put16(t + TCP_OFF_WND, wnd);
    net__put16(t + TCP_OFF_CSUM, 0);
    net__put16(t + TCP_OFF_URP, 0);
    if (optlen)
        net__memcpy(t + TCP_HDR_LEN, opts, optlen);
    return hlen;
}

static int tcp_send_raw(struct net_stack *s, uint32_t src, uint32_t dst,
                        uint8_t *hdr, size_t tcp_hlen,
                        const struct net_frag *pay, unsigned npay, uint16_t mss)
{
    uint8_t *t = hdr + NET_L4_OFF;
    size_t plen = 0;
    for (unsigned i = 0; i < npay; i++)
        plen += pay[i].len;
    bool off = net__dev_offload(s) != 0;
    struct net_csum cs;
    net__csum_init(&cs);
    net__csum_pseudo(&cs, src, dst, IP_PROTO_TCP, (uint16_t)(tcp_hlen + plen));
    if (!off) {
        net__csum_feed(&cs, t, tcp_hlen);
        for (unsigned i = 0; i < npay; i++)
            net__csum_feed(&cs, pay[i].base, pay[i].len);
    }
    uint16_t sum = net__csum_finish(&cs);
    net__put16(t + TCP_OFF_CSUM, off ? (uint16_t)~sum : sum);
    int r;
    if (off) {
        struct netdev_offload o = {
            .l3_off = NET_L3_OFF, .l4_off = NET_L4_OFF,
            .hdr_len = (uint16_t)(NET_L4_OFF + tcp_hlen),
            .mss = plen > mss ? mss : 0,
        };
        r = net__ip_output_off(s, dst, hdr, NET_L4_OFF + tcp_hlen, pay, npay, &o);
        if (r == 0 && o.mss)
            s->stats.tcp_tso_out++;
    } else {
        r = net__ip_output(s, dst, IP_PROTO_TCP, hdr, NET_L4_OFF + tcp_hlen,
                           pay, npay, false);
    }
    if (r == 0)
        s->stats.tcp_segs_out++;
    return r;
}

/* Largest data segment: one MSS, or with TSO as many whole MSS pieces as
 * one IPv4 packet holds. */
static uint32_t tcp_seg_max(const struct tcp_conn *c)
{
    if (!(net__dev_offload(c->stack) & NETDEV_F_TSO4))
        return c->mss;
    uint32_t room = NETDEV_TSO_MAX_FRAME - NET_L4_OFF - TCP_HDR_LEN;
    return room / c->mss * c->mss;
}

static uint16_t tcp_wnd_field(struct tcp_conn *c, bool syn)
{
    uint32_t space = tcp__rcv_space(c);
    if (syn) /* never scaled in a SYN (RFC 7323 2.2) */
        return (uint16_t)net__min32(space, TCP_MAX_WIN);
    uint32_t w = net__min32(space >> c->rcv_wscale, TCP_MAX_WIN);
    /* Never move the advertised right edge left (RFC 9293 3.8.6.2.2). */
    uint32_t edge = c->rcv_nxt + (w << c->rcv_wscale);
    if (net__seq_lt(edge, c->rcv_adv)) {
        uint32_t need = c->rcv_adv - c->rcv_nxt;
        w = net__min32((need + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale,
                       TCP_MAX_WIN);
        edge = c->rcv_nxt + (w << c->rcv_wscale);
    }
    if (net__seq_gt(edge, c->rcv_adv))
        c->rcv_adv = edge;
    return (uint16_t)w;
}

int tcp__xmit(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
    struct net_stack *s = c->stack;
    uint8_t hdr[NET_HDR_ROOM];
    uint8_t opts[8];
    size_t optlen = 0;
    bool syn = flags & TCP_FLAG_SYN;

    if (syn) {
        opts[0] = TCP_OPT_MSS;
        opts[1] = TCP_OPT_MSS_LEN;
        net__put16(opts + 2, NET_TCP_MSS_LOCAL);
        optlen = 4;
        /* Our SYN always offers scaling; a SYN-ACK only answers an offer. */
        if (!(flags & TCP_FLAG_ACK) || c->ws_ok) {
            opts[4] = TCP_OPT_NOP;
            opts[5] = TCP_OPT_WSCALE;
            opts[6] = TCP_OPT_WSCALE_LEN;
            opts[7] = c->rcv_wscale;
            optlen = 8;
        }
    }
    uint32_t ack = (flags & TCP_FLAG_ACK) ? c->rcv_nxt : 0;
    size_t hlen = tcp_build(hdr + NET_L4_OFF, c->lport, c->rport, seq, ack,
                            flags, tcp_wnd_field(c, syn), opts, optlen);

    struct net_frag pay[2];
    unsigned npay = 0;
    if (len) {
        /* Payload straight from the ring: one or two pieces (wrap). */
        uint64_t off = c->app_acked + (uint32_t)(seq - tcp__data_una(c));
        uint32_t idx = (uint32_t)(off & (NET_TCP_SNDBUF - 1));
        uint32_t first = net__min32(len, NET_TCP_SNDBUF - idx);
        pay[npay++] = (struct net_frag){c->sndbuf + idx, first};
        if (len > first)
            pay[npay++] = (struct net_frag){c->sndbuf, len - first};
    }
    int r = tcp_send_raw(s, c->lip, c->rip, hdr, hlen, pay, npay, c->mss);
    if (r == 0 && (flags & TCP_FLAG_ACK))
        tcp__ack_sent(c);
    return r;
}

void tcp__send_ack(struct tcp_conn *c)
{
    /* On a busy device the ACK stays pending and net__poll retries it. */
    if (tcp__xmit(c, c->snd_nxt, 0, TCP_FLAG_ACK) < 0)
        c->ack_pending = true;
}

void tcp__send_ctl(struct tcp_conn *c)
{
    uint8_t flags = TCP_FLAG_SYN;
    if (c->state == NET_TCPS_SYN_RECEIVED)
        flags |= TCP_FLAG_ACK;
    c->ctl_pending = tcp__xmit(c, c->iss, 0, flags) < 0;
    if (!c->ctl_pending && !c->syn_retransmitted) {
        /* First transmission (maybe delayed by ARP): time it from now. */
        c->rtt_start = c->stack->now;
        tcp__arm_rto(c);
    }
}

void tcp__send_rst(struct tcp_conn *c)
{
    if (tcp__xmit(c, c->snd_nxt, 0, TCP_FLAG_RST | TCP_FLAG_ACK) == 0)
        c->stack->stats.tcp_rst_out++;
}

void tcp__reply_rst(struct net_stack *s, uint32_t src, uint32_t dst,
                    uint16_t sport, uint16_t dport, uint32_t seq,
                    uint32_t ack, uint8_t flags, uint32_t seg_len)
{
    uint8_t hdr[NET_HDR_ROOM];
    size_t hlen;
    if (flags & TCP_FLAG_RST)
        return; /* never answer a reset */
    if (flags & TCP_FLAG_ACK)
        hlen = tcp_build(hdr + NET_L4_OFF, dport, sport, ack, 0, TCP_FLAG_RST,
                         0, NULL, 0);
    else
        hlen = tcp_build(hdr + NET_L4_OFF, dport, sport, 0, seq + seg_len,
                         TCP_FLAG_RST | TCP_FLAG_ACK, 0, NULL, 0);
    if (tcp_send_raw(s, dst, src, hdr, hlen, NULL, 0, NET_TCP_MSS_LOCAL) == 0)
        s->stats.tcp_rst_out++;
}

static bool can_send_data(const struct tcp_conn *c)
{
    switch (c->state) {
    case NET_TCPS_ESTABLISHED:
    case NET_TCPS_CLOSE_WAIT:
    case NET_TCPS_FIN_WAIT_1:
    case NET_TCPS_CLOSING:
    case NET_TCPS_LAST_ACK:
        return true;
    default:
        return false;
    }
}

void tcp__output(struct tcp_conn *c, bool partial_ok)
{
    struct net_stack *s = c->stack;
    if (!can_send_data(c))
        return;
    uint32_t data_end = tcp__data_end(c);
    /* Bounded: each pass sends >= 1 seq number of at most SNDBUF + FIN. */
    for (;;) {
        uint32_t flight = c->snd_nxt - c->snd_una;
        uint32_t unsent = net__seq_lt(c->snd_nxt, data_end) ? data_end - c->snd_nxt : 0;
        bool fin_unsent = c->fin_queued && net__seq_leq(c->snd_nxt, data_end);
        /* Limited transmit (RFC 3042): one new segment for each of the
         * first two duplicate ACKs, so small windows still produce three. */
        uint32_t lt = c->in_recovery ? 0 : net__min32(c->dupacks, 2) * (uint32_t)c->mss;
        uint32_t wnd = net__min32(c->snd_wnd, c->cwnd + lt);
        uint32_t avail = wnd > flight ? wnd - flight : 0;
        uint32_t len = net__min32(net__min32(unsent, tcp_seg_max(c)), avail);
        uint8_t flags = TCP_FLAG_ACK;
        if (len > c->mss && len < unsent)
            len -= len % c->mss; /* no runt in mid-stream: whole MSS pieces */

        if (len < unsent) {
            /* More data waits behind this segment.  A runt is only worth
             * sending when nothing is in flight or the window is half
             * open (sender SWS avoidance, RFC 9293 3.8.6.2.1). */
            if (len < c->mss &&
                (len == 0 || !(flight == 0 || len >= c->max_snd_wnd / 2)))
                break;
        } else {
            if (len < c->mss && !fin_unsent) {
                if (!partial_ok || len == 0)
                    break;
                if (!c->nodelay && flight > 0)
                    break; /* Nagle (RFC 9293 3.7.4) */
            }
            if (fin_unsent)
                flags |= TCP_FLAG_FIN;
            if (len)
                flags |= TCP_FLAG_PSH;
        }
        if (tcp__xmit(c, c->snd_nxt, len, flags) < 0)
            break; /* device busy or ARP pending: net__poll retries */
        if (net__seq_lt(c->snd_nxt, c->snd_max)) {
            s->stats.tcp_retrans_segs++;
        } else if (!c->rtt_timing) {
            c->rtt_timing = true;
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = s->now;
        }
        c->snd_nxt += len + ((flags & TCP_FLAG_FIN) ? 1 : 0);
        if (net__seq_gt(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        if (!c->rto_at)
            tcp__arm_rto(c);
        if (!c->tlp_at)
            tcp__arm_tlp(c);
        c->persist_at = 0;
        if (flags & TCP_FLAG_FIN)
            break;
    }
    /* Zero window and nothing in flight: only the persist timer can learn
     * that the window opened again (RFC 9293 3.8.6.1). */
    if (c->snd_wnd == 0 && c->snd_max == c->snd_una &&
        net__seq_lt(c->snd_nxt, data_end) && !c->persist_at)
        tcp__arm_persist(c);
}

void tcp__retransmit_head(struct tcp_conn *c)
{
    /* Only what was sent before: never new data, never past what the
     * peer's window allowed then. */
    uint32_t sent_end = tcp__fin_sent(c) ? tcp__data_end(c) : c->snd_max;
    uint32_t len = net__seq_lt(c->snd_una, sent_end) ?
                   net__min32(c->mss, sent_end - c->snd_una) : 0;
    uint8_t flags = TCP_FLAG_ACK;
    if (tcp__fin_sent(c) && c->snd_una + len == sent_end)
        flags |= TCP_FLAG_FIN;
    if (!len && !(flags & TCP_FLAG_FIN))
        return;
    c->rtt_timing = false; /* Karn: no samples across a retransmission */
    if (tcp__xmit(c, c->snd_una, len, flags) < 0)
        return;
    c->stack->stats.tcp_retrans_segs++;
    uint32_t end = c->snd_una + len + ((flags & TCP_FLAG_FIN) ? 1 : 0);
    if (net__seq_lt(c->snd_nxt, end))
        c->snd_nxt = end;
}
