/* TCP receive side (RFC 9293 3.10.7): segment checks, the handshake,
 * cumulative ACK processing with RTT samples, NewReno fast retransmit /
 * fast recovery (RFC 5681 3.2, RFC 6582 3.2), window updates, in-order
 * data, FIN and RST.  Every field comes from the wire: check, never trust. */
#include "guest/net/tcp_internal.h"

struct tcp_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    const uint8_t *data;
    uint32_t len;           /* payload bytes */
    uint16_t opt_mss;       /* 0 when absent */
    int opt_ws;             /* -1 when absent */
};

static void parse_options(struct tcp_seg *g, const uint8_t *o, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = o[i];
        if (kind == TCP_OPT_EOL)
            break;
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
            break; /* malformed: ignore the rest */
        uint8_t olen = o[i + 1];
        if (kind == TCP_OPT_MSS && olen == TCP_OPT_MSS_LEN)
            g->opt_mss = net__get16(o + i + 2);
        else if (kind == TCP_OPT_WSCALE && olen == TCP_OPT_WSCALE_LEN)
            g->opt_ws = o[i + 2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o[i + 2];
        i += olen;
    }
}

static struct tcp_conn *find_conn(struct net_stack *s, const struct tcp_seg *g)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++) {
        struct tcp_conn *c = &s->tcp[i];
        if (c->in_use && c->state != NET_TCPS_CLOSED && c->lport == g->dport &&
            c->rport == g->sport && c->rip == g->src)
            return c;
    }
    return NULL;
}

static bool listening(const struct net_stack *s, uint16_t port)
{
    for (unsigned i = 0; i < NET_TCP_MAX_LISTEN; i++)
        if (s->listen_ports[i] && s->listen_ports[i] == port)
            return true;
    return false;
}

static void apply_syn_options(struct tcp_conn *c, const struct tcp_seg *g)
{
    uint32_t mss = g->opt_mss ? g->opt_mss : TCP_DEFAULT_MSS;
    mss = net__min32(mss, NET_TCP_MSS_LOCAL);
    c->mss = (uint16_t)net__max32(mss, TCP_MIN_MSS);
    if (g->opt_ws >= 0) {
        c->ws_ok = true;
        c->snd_wscale = (uint8_t)g->opt_ws;
    } else {
        c->ws_ok = false;
        c->snd_wscale = 0;
        c->rcv_wscale = 0; /* RFC 7323 2.2: both sides or neither */
    }
}

static void init_cwnd(struct tcp_conn *c)
{
    /* RFC 6928 initial window; one segment if the SYN had to be resent
     * (RFC 5681 3.1). */
    c->cwnd = c->syn_retransmitted ? c->mss : TCP_INIT_CWND_SEGS * (uint32_t)c->mss;
    if (!c->have_rtt)
        c->rto = TCP_RTO_INITIAL_NS;
    c->backoff = 0;
}

static void passive_open(struct net_stack *s, const struct tcp_seg *g)
{
    struct tcp_conn *c = tcp__alloc(s);
    if (!c)
        return; /* backlog full: the peer retries its SYN */
    c->passive = true;
    c->lip = g->dst;
    c->rip = g->src;
    c->lport = g->dport;
    c->rport = g->sport;
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    c->rcv_adv = c->rcv_wup = c->rcv_nxt;
    apply_syn_options(c, g);
    c->snd_wnd = g->wnd;
    c->max_snd_wnd = g->wnd;
    c->snd_wl1 = g->seq;
    c->iss = net__rand(s);
    c->snd_wl2 = c->iss;
    c->snd_una = c->iss;
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->recover = c->iss;
    c->state = NET_TCPS_SYN_RECEIVED;
    c->rtt_timing = true;
    c->rtt_seq = c->iss;
    c->rtt_start = s->now;
    tcp__send_ctl(c);
    tcp__arm_rto(c);
}

static void syn_sent_input(struct tcp_conn *c, const struct tcp_seg *g)
{
    struct net_stack *s = c->stack;
    bool ack_ok = false;
    if (g->flags & TCP_FLAG_ACK) {
        if (net__seq_leq(g->ack, c->iss) || net__seq_gt(g->ack, c->snd_max)) {
            tcp__reply_rst(s, g->src, g->dst, g->sport, g->dport, g->seq,
                           g->ack, g->flags, g->len);
            return;
        }
        ack_ok = true;
    }
    if (g->flags & TCP_FLAG_RST) {
        if (ack_ok) {
            s->stats.tcp_rst_in++;
            tcp__drop(c, NET_ECONNREFUSED);
        }
        return;
    }
    if (!(g->flags & TCP_FLAG_SYN) || !ack_ok)
        return; /* simultaneous open is not supported */
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    c->rcv_adv = c->rcv_wup = c->rcv_nxt;
    c->snd_una = g->ack;
    apply_syn_options(c, g);
    c->snd_wnd = g->wnd; /* unscaled in a SYN */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = g->seq;
    c->snd_wl2 = g->ack;
    if (c->rtt_timing && !c->syn_retransmitted)
        tcp__rtt_sample(c, s->now - c->rtt_start);
    c->rtt_timing = false;
    init_cwnd(c);
    c->rto_at = 0;
    c->ctl_pending = false;
    tcp__set_state(c, NET_TCPS_ESTABLISHED);
    tcp__send_ack(c);
    tcp__output(c, true);
}

/* RFC 5681 2: outstanding data, no payload, no SYN/FIN, ACK == SND.UNA,
 * same advertised window. */
static bool is_dupack(const struct tcp_conn *c, const struct tcp_seg *g, uint32_t wnd)
{
    return c->snd_max != c->snd_una && g->len == 0 &&
           !(g->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
           g->ack == c->snd_una && wnd == c->snd_wnd;
}

static void on_dupack(struct tcp_conn *c)
{
    struct net_stack *s = c->stack;
    s->stats.tcp_dupacks_in++;
    if (c->in_recovery) {
        c->cwnd += c->mss; /* RFC 6582 3.2 step 4: inflate */
        return;
    }
    if (++c->dupacks != TCP_DUPACK_THRESH)
        return;
    /* RFC 6582 3.2 step 2: only if this ACK covers more than recover,
     * so a loss after a timeout does not trigger a second reduction. */
    if (net__seq_lt(c->snd_una, c->recover))
        return;
    uint32_t flight = c->snd_max - c->snd_una;
    c->ssthresh = net__max32(flight / 2, 2u * c->mss);
    c->recover = c->snd_max;
    c->in_recovery = true;
    c->tlp_at = 0;
    c->partial_seen = false;
    s->stats.tcp_fast_retrans++;
    tcp__retransmit_head(c);
    c->cwnd = c->ssthresh + TCP_DUPACK_THRESH * (uint32_t)c->mss;
}

static void on_new_ack(struct tcp_conn *c, uint32_t ack)
{
    struct net_stack *s = c->stack;
    uint32_t data_end = tcp__data_end(c);
    uint32_t data_una = tcp__data_una(c);
    uint32_t acked_to = net__seq_gt(ack, data_end) ? data_end : ack;
    uint32_t acked = net__seq_gt(acked_to, data_una) ? acked_to - data_una : 0;
    uint32_t flight_before = c->snd_max - c->snd_una;

    c->app_acked += acked;
    s->stats.tcp_bytes_acked += acked;
    c->snd_una = ack;
    if (net__seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una; /* go-back-N overtaken by a late ACK */
    if (c->rtt_timing && net__seq_gt(ack, c->rtt_seq)) {
        tcp__rtt_sample(c, s->now - c->rtt_start);
        c->rtt_timing = false;
    }

    bool restart_rto = true;
    if (c->in_recovery) {
        if (net__seq_geq(ack, c->recover)) {
            /* Full ACK: deflate to ssthresh (RFC 6582 3.2 step 3, option
             * 2).  Option 1 (FlightSize + 1 MSS) can leave too little room
             * for the 3 duplicates a loss in data sent during recovery
             * needs, turning it into a timeout. */
            c->cwnd = c->ssthresh;
            c->in_recovery = false;
            c->dupacks = 0;
        } else {
            /* Partial ACK: resend the next hole, deflate by the amount
             * acknowledged; the timer restarts only the first time
             * ("impatient" variant, RFC 6582 4.1). */
            s->stats.tcp_fast_retrans++;
            tcp__retransmit_head(c);
            c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) +
                      (acked >= c->mss ? c->mss : 0);
            c->cwnd = net__max32(c->cwnd, c->mss);
            restart_rto = !c->partial_seen;
            c->partial_seen = true;
        }
    } else {
        c->dupacks = 0;
        /* Grow only while the window was actually used. */
        if (2 * (uint64_t)flight_before >= c->cwnd && c->cwnd < (1u << 30)) {
            if (c->cwnd < c->ssthresh) {
                /* Slow start with ABC, L = 2 (RFC 3465). */
                c->cwnd += net__min32(acked, 2u * c->mss);
            } else {
                c->ca_acked += acked;
                if (c->ca_acked >= c->cwnd) {
                    c->ca_acked -= c->cwnd;
                    c->cwnd += c->mss;
                }
            }
        }
    }
    c->tlp_sent = false;        /* an ACK ends the probe episode */
    c->tlp_at = 0;
    if (c->snd_una == c->snd_max) {
        c->rto_at = 0;          /* RFC 6298 5.2 */
    } else if (restart_rto) {
        tcp__arm_rto(c);        /* RFC 6298 5.3 */
        tcp__arm_tlp(c);
    }
}

/* Returns false when the segment must be dropped after the ACK step. */
static bool ack_step(struct tcp_conn *c, const struct tcp_seg *g)
{
    if (net__seq_gt(g->ack, c->snd_max)) {
        tcp__send_ack(c); /* ACKs something not yet sent */
        return false;
    }
    uint32_t wnd = (uint32_t)g->wnd << c->snd_wscale;
    if (is_dupack(c, g, wnd))
        on_dupack(c);
    else if (net__seq_gt(g->ack, c->snd_una))
        on_new_ack(c, g->ack);

    /* Window update (RFC 9293 3.10.7.4, SND.WL1/WL2 rule). */
    if (net__seq_geq(g->ack, c->snd_una) &&
        (net__seq_lt(c->snd_wl1, g->seq) ||
         (c->snd_wl1 == g->seq && net__seq_leq(c->snd_wl2, g->ack)))) {
        c->snd_wnd = wnd;
        c->snd_wl1 = g->seq;
        c->snd_wl2 = g->ack;
        if (wnd > c->max_snd_wnd)
            c->max_snd_wnd = wnd;
        if (wnd) {
            c->persist_at = 0;
            c->persist_backoff = 0;
        }
    }

    if (tcp__fin_acked(c)) {
        switch (c->state) {
        case NET_TCPS_FIN_WAIT_1:
            tcp__set_state(c, NET_TCPS_FIN_WAIT_2);
            break;
        case NET_TCPS_CLOSING:
            tcp__set_state(c, NET_TCPS_TIME_WAIT);
            break;
        case NET_TCPS_LAST_ACK:
            tcp__drop(c, 0);
            return false;
        default:
            break;
        }
    }
    return true;
}

static void data_step(struct tcp_conn *c, struct tcp_seg *g)
{
    struct net_stack *s = c->stack;
    bool fin = g->flags & TCP_FLAG_FIN;
    bool takes_data = c->state == NET_TCPS_ESTABLISHED ||
                      c->state == NET_TCPS_FIN_WAIT_1 ||
                      c->state == NET_TCPS_FIN_WAIT_2;
    if (!g->len && !fin)
        return;
    if (!takes_data) {
        /* Data after the peer's FIN, or a repeated FIN: just ACK. */
        tcp__send_ack(c);
        if (c->state == NET_TCPS_TIME_WAIT)
            tcp__set_state(c, NET_TCPS_TIME_WAIT); /* restart 2MSL */
        return;
    }
    /* Trim what we already have. */
    if (net__seq_lt(g->seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - g->seq;
        if (skip >= g->len) {
            /* All old.  A FIN sits at seq + len: new only if that is
             * exactly rcv_nxt. */
            if (!fin || g->seq + g->len != c->rcv_nxt) {
                tcp__send_ack(c);
                return;
            }
            skip = g->len;
        }
        g->data += skip;
        g->len -= skip;
        g->seq += skip;
    }
    uint32_t space = tcp__rcv_space(c);
    if (g->seq != c->rcv_nxt) {
        /* Out of order: keep what fits in the window at its place in the
         * ring; a duplicate ACK tells the sender what is missing (RFC 5681
         * 4.2).  A FIN beyond a hole waits for the retransmission. */
        uint32_t off = g->seq - c->rcv_nxt;
        uint32_t take = off < space ? net__min32(g->len, space - off) : 0;
        if (take && tcp__ooo_add(c, g->seq, g->seq + take)) {
            tcp__rcv_store(c, off, g->data, take);
            s->stats.tcp_ooo_in++;
        } else {
            s->stats.tcp_ooo_drop++;
        }
        tcp__send_ack(c);
        return;
    }
    uint32_t take = net__min32(g->len, space);
    if (take) {
        bool gap = c->ooo_n != 0;
        tcp__rcv_store(c, 0, g->data, take);
        tcp__rcv_advance(c, take);
        tcp__rcv_rtt_measure(c);
        if (gap) {
            /* All or part of a gap filled: ACK at once (RFC 5681 4.2). */
            tcp__ooo_fill(c);
            tcp__send_ack(c);
        } else {
            tcp__ack_on_data(c, take, g->flags & TCP_FLAG_PSH);
        }
    }
    if (take < g->len) {
        tcp__send_ack(c); /* beyond our window: tell where it ends */
        return;
    }
    /* The FIN sits right after this segment's data; if out-of-order data
     * lies beyond that place (kept or just absorbed), the FIN is bogus. */
    if (c->ooo_n || g->seq + g->len != c->rcv_nxt)
        fin = false;
    if (fin && !c->fin_received) {
        c->rcv_nxt++;
        c->fin_received = true;
        switch (c->state) {
        case NET_TCPS_ESTABLISHED:
            tcp__set_state(c, NET_TCPS_CLOSE_WAIT);
            break;
        case NET_TCPS_FIN_WAIT_1:
            tcp__set_state(c, tcp__fin_acked(c) ? NET_TCPS_TIME_WAIT : NET_TCPS_CLOSING);
            break;
        case NET_TCPS_FIN_WAIT_2:
            tcp__set_state(c, NET_TCPS_TIME_WAIT);
            break;
        default:
            break;
        }
        tcp__send_ack(c);
    }
}

/* RFC 9293 3.10.7.4 first check: is the segment in the receive window? */
static bool acceptable(const struct tcp_conn *c, const struct tcp_seg *g)
{
    uint32_t wnd = net__seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    wnd = net__max32(wnd, tcp__rcv_space(c));
    uint32_t seglen = g->len + ((g->flags & TCP_FLAG_FIN) ? 1 : 0);
    uint32_t off = g->seq - c->rcv_nxt;
    if (seglen == 0)
        return wnd == 0 ? g->seq == c->rcv_nxt : off < wnd;
    if (wnd == 0)
        return false;
    uint32_t off_end = g->seq + seglen - 1 - c->rcv_nxt;
    return off < wnd || off_end < wnd;
}

static void sync_input(struct tcp_conn *c, struct tcp_seg *g)
{
    struct net_stack *s = c->stack;
    if (c->state == NET_TCPS_SYN_RECEIVED && (g->flags & TCP_FLAG_SYN) &&
        !(g->flags & TCP_FLAG_ACK) && g->seq == c->irs) {
        tcp__send_ctl(c); /* our SYN-ACK was lost */
        return;
    }
    if (!acceptable(c, g)) {
        /* Zero window: ACK, window and RST still count at rcv_nxt. */
        if (!(tcp__rcv_space(c) == 0 && g->seq == c->rcv_nxt)) {
            if (!(g->flags & TCP_FLAG_RST))
                tcp__send_ack(c);
            return;
        }
        g->len = 0;
        g->flags &= (uint8_t)~TCP_FLAG_FIN;
    }
    if (g->flags & TCP_FLAG_RST) {
        if (g->seq == c->rcv_nxt) {
            s->stats.tcp_rst_in++;
            tcp__drop(c, NET_ECONNRESET);
        } else {
            tcp__send_ack(c); /* challenge ACK (RFC 5961 3.2) */
        }
        return;
    }
    if (g->flags & TCP_FLAG_SYN) {
        tcp__send_ack(c);     /* challenge ACK (RFC 5961 4.2) */
        return;
    }
    if (!(g->flags & TCP_FLAG_ACK))
        return;
    if (c->state == NET_TCPS_SYN_RECEIVED) {
        if (net__seq_leq(g->ack, c->snd_una) || net__seq_gt(g->ack, c->snd_max)) {
            tcp__reply_rst(s, g->src, g->dst, g->sport, g->dport, g->seq,
                           g->ack, g->flags, g->len);
            return;
        }
        c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = g->seq;
        c->snd_wl2 = g->ack;
        c->ctl_pending = false;
        init_cwnd(c);
        tcp__set_state(c, NET_TCPS_ESTABLISHED);
    }
    if (!ack_step(c, g))
        return;
    data_step(c, g);
}

void tcp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                const uint8_t *seg, size_t len)
{
    if (len < TCP_HDR_LEN) {
        s->stats.rx_bad++;
        return;
    }
    size_t doff = (size_t)(seg[TCP_OFF_DOFF] >> 4) * 4;
    if (doff < TCP_HDR_LEN || doff > len || len > 0xffff) {
        s->stats.rx_bad++;
        return;
    }
    struct net_csum cs;
    net__csum_init(&cs);
    net__csum_pseudo(&cs, src, dst, IP_PROTO_TCP, (uint16_t)len);
    net__csum_feed(&cs, seg, len);
    if (net__csum_finish(&cs) != 0) {
        s->stats.rx_bad++;
        return;
    }
    s->stats.tcp_segs_in++;
    struct tcp_seg g = {
        .src = src, .dst = dst,
        .sport = net__get16(seg + TCP_OFF_SPORT),
        .dport = net__get16(seg + TCP_OFF_DPORT),
        .seq = net__get32(seg + TCP_OFF_SEQ),
        .ack = net__get32(seg + TCP_OFF_ACK),
        .flags = seg[TCP_OFF_FLAGS] & 0x3f,
        .wnd = net__get16(seg + TCP_OFF_WND),
        .data = seg + doff,
        .len = (uint32_t)(len - doff),
        .opt_ws = -1,
    };
    if (g.flags & TCP_FLAG_SYN)
        parse_options(&g, seg + TCP_HDR_LEN, doff - TCP_HDR_LEN);
    if (!g.sport || !g.dport)
        return;

    struct tcp_conn *c = find_conn(s, &g);
    if (!c) {
        if ((g.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
            listening(s, g.dport)) {
            passive_open(s, &g);
            return;
        }
        uint32_t seglen = g.len + ((g.flags & TCP_FLAG_SYN) ? 1 : 0) +
                          ((g.flags & TCP_FLAG_FIN) ? 1 : 0);
        tcp__reply_rst(s, src, dst, g.sport, g.dport, g.seq, g.ack, g.flags, seglen);
        return;
    }
    if (c->state == NET_TCPS_SYN_SENT) {
        syn_sent_input(c, &g);
        return;
    }
    sync_input(c, &g);
    if (c->in_use && c->state != NET_TCPS_CLOSED)
        tcp__output(c, true);
}
