/* TCP timers: RTT estimation and the retransmission timer (RFC 6298),
 * the persist timer for zero windows, TIME_WAIT, and the per-poll work
 * (delayed ACKs, tcp_delack.c; corked tails; retries after a busy
 * device). */
#include "guest/net/tcp_internal.h"

void tcp__rtt_sample(struct tcp_conn *c, uint64_t r)
{
    if (!c->have_rtt) { /* RFC 6298 2.2 */
        c->srtt = r;
        c->rttvar = r / 2;
        c->have_rtt = true;
    } else {            /* RFC 6298 2.3, alpha 1/8, beta 1/4 */
        uint64_t delta = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + delta) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    uint64_t var = 4 * c->rttvar;
    if (var < TCP_RTO_GRANULARITY_NS)
        var = TCP_RTO_GRANULARITY_NS;
    uint64_t rto = c->srtt + var;
    if (rto < TCP_RTO_MIN_NS)       /* 2.4 (Linux's 200 ms floor) */
        rto = TCP_RTO_MIN_NS;
    if (rto > TCP_RTO_MAX_NS)       /* 2.5 */
        rto = TCP_RTO_MAX_NS;
    c->rto = rto;
    c->backoff = 0;
}

void tcp__arm_rto(struct tcp_conn *c)
{
    c->rto_at = c->stack->now + c->rto;
}

void tcp__arm_tlp(struct tcp_conn *c)
{
    /* RFC 8985 7.2: PTO = 2 SRTT, when an RTT is known, nothing is being
     * recovered or backed off, and the probe would come before the RTO. */
    c->tlp_at = 0;
    if (c->no_tlp || c->tlp_sent || !c->have_rtt || c->in_recovery || c->backoff ||
        c->snd_nxt != c->snd_max || c->snd_una == c->snd_max || !c->rto_at)
        return;
    uint64_t pto = 2 * c->srtt;
    if (pto < NET_TCP_TLP_MIN_NS)
        pto = NET_TCP_TLP_MIN_NS;
    if (c->snd_max - c->snd_una <= c->mss)
        pto += TCP_RTO_MIN_NS; /* one segment: the peer may delay its ACK */
    if (c->stack->now + pto < c->rto_at)
        c->tlp_at = c->stack->now + pto;
}

void tcp__arm_persist(struct tcp_conn *c)
{
    uint64_t t = c->rto < NET_TCP_PERSIST_MIN_NS ? NET_TCP_PERSIST_MIN_NS : c->rto;
    for (unsigned i = 0; i < c->persist_backoff && t < NET_TCP_PERSIST_MAX_NS; i++)
        t *= 2;
    if (t > NET_TCP_PERSIST_MAX_NS)
        t = NET_TCP_PERSIST_MAX_NS;
    c->persist_at = c->stack->now + t;
}

void tcp__set_state(struct tcp_conn *c, enum tcp_state st)
{
    c->state = (uint8_t)st;
    if (st == NET_TCPS_TIME_WAIT) {
        c->rto_at = 0;
        c->tlp_at = 0;
        c->persist_at = 0;
        c->timewait_at = c->stack->now + NET_TCP_TIME_WAIT_NS;
    }
}

void tcp__release_if_done(struct tcp_conn *c)
{
    if (c->state != NET_TCPS_CLOSED)
        return;
    /* The application still holds the slot until it closes it; passive
     * connections nobody accepted yet belong to no one. */
    if (c->app_closed || (c->passive && !c->accepted))
        c->in_use = false;
}

void tcp__drop(struct tcp_conn *c, int err)
{
    if (!c->error)
        c->error = err;
    c->state = NET_TCPS_CLOSED;
    c->rto_at = c->persist_at = c->timewait_at = c->tlp_at = 0;
    c->ack_pending = false;
    c->delack_at = 0;
    c->ctl_pending = false;
    tcp__release_if_done(c);
}

struct tcp_conn *tcp__alloc(struct net_stack *s)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++) {
        struct tcp_conn *c = &s->tcp[i];
        if (c->in_use)
            continue;
        /* Clear the control block; the rings need no clearing. */
        net__memset(c, 0, __builtin_offsetof(struct tcp_conn, sndbuf));
        c->stack = s;
        c->in_use = true;
        c->rto = TCP_RTO_INITIAL_NS;
        c->mss = TCP_DEFAULT_MSS;
        c->rcv_mss = TCP_DEFAULT_MSS;
        tcp__rcvbuf_init(c);
        c->ssthresh = 0x7fffffff; /* RFC 5681 3.1: arbitrarily high */
        return c;
    }
    return NULL;
}

/* RFC 8985 7.3: resend the last segment sent, so a lost tail (or a
 * receiver sitting on its ACK) is answered long before the RTO. */
static void tlp_fire(struct tcp_conn *c)
{
    c->tlp_at = 0;
    if (c->tlp_sent || c->in_recovery || c->snd_una == c->snd_max ||
        c->snd_nxt != c->snd_max)
        return;
    bool fin = tcp__fin_sent(c);
    uint32_t end = fin ? tcp__data_end(c) : c->snd_max;
    uint32_t len = net__min32(c->mss, end - c->snd_una);
    c->rtt_timing = false; /* Karn */
    if (tcp__xmit(c, end - len, len, TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0)) < 0)
        return;
    c->tlp_sent = true;
    c->stack->stats.tcp_tlp_out++;
    c->stack->stats.tcp_retrans_segs++;
    tcp__arm_rto(c);
}

static void rto_fire(struct tcp_conn *c)
{
    struct net_stack *s = c->stack;
    c->rto_at = 0;
    c->tlp_at = 0;
    if (c->state == NET_TCPS_SYN_SENT || c->state == NET_TCPS_SYN_RECEIVED) {
        if (c->backoff >= NET_TCP_SYN_RETRIES) {
            tcp__drop(c, NET_ETIMEDOUT);
            return;
        }
        c->backoff++;
        c->rto = c->rto * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : c->rto * 2;
        c->syn_retransmitted = true;
        c->rtt_timing = false;
        s->stats.tcp_rto_events++;
        s->stats.tcp_retrans_segs++;
        tcp__send_ctl(c);
        tcp__arm_rto(c);
        return;
    }
    if (c->snd_una == c->snd_max)
        return; /* nothing outstanding */
    if (c->backoff >= NET_TCP_MAX_RETRIES) {
        tcp__send_rst(c);
        tcp__drop(c, NET_ETIMEDOUT);
        return;
    }
    s->stats.tcp_rto_events++;
    /* RFC 5681 3.1 eq. (4) and loss window; RFC 6298 5.5 back off;
     * RFC 6582 4.2: recover = highest sequence sent. Go back N. */
    uint32_t flight = c->snd_max - c->snd_una;
    c->ssthresh = net__max32(flight / 2, 2u * c->mss);
    c->cwnd = c->mss;
    c->ca_acked = 0;
    c->in_recovery = false;
    c->dupacks = 0;
    c->recover = c->snd_max;
    c->rtt_timing = false;
    c->backoff++;
    c->rto = c->rto * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : c->rto * 2;
    c->snd_nxt = c->snd_una;
    /* The first segment goes even into a zero window: its ACK carries the
     * window, so a lost window update cannot stall us (RFC 9293 3.8.1). */
    tcp__retransmit_head(c);
    tcp__output(c, true);
    if (!c->rto_at)
        tcp__arm_rto(c);
}

static bool can_probe(const struct tcp_conn *c)
{
    return (c->state == NET_TCPS_ESTABLISHED || c->state == NET_TCPS_CLOSE_WAIT ||
            c->state == NET_TCPS_FIN_WAIT_1 || c->state == NET_TCPS_LAST_ACK) &&
           c->snd_una == c->snd_max &&
           net__seq_lt(c->snd_nxt, tcp__data_end(c));
}

static void persist_fire(struct tcp_conn *c)
{
    struct net_stack *s = c->stack;
    c->persist_at = 0;
    if (c->snd_wnd != 0 || !can_probe(c))
        return;
    /* A zero-length segment with an old sequence number: the receiver
     * must answer with an ACK carrying its current window. */
    if (tcp__xmit(c, c->snd_una - 1, 0, TCP_FLAG_ACK) == 0)
        s->stats.tcp_zwp_out++;
    if (c->persist_backoff < 16)
        c->persist_backoff++;
    tcp__arm_persist(c);
}

static void conn_poll(struct tcp_conn *c)
{
    uint64_t now = c->stack->now;
    if (c->state == NET_TCPS_TIME_WAIT) {
        if (now >= c->timewait_at) {
            c->state = NET_TCPS_CLOSED;
            tcp__release_if_done(c);
        }
        return;
    }
    if (c->state == NET_TCPS_CLOSED)
        return;
    if (c->ctl_pending)
        tcp__send_ctl(c);
    if (c->tlp_at && now >= c->tlp_at)
        tlp_fire(c);
    if (c->rto_at && now >= c->rto_at)
        rto_fire(c);
    if (!c->in_use || c->state == NET_TCPS_CLOSED)
        return;
    if (c->persist_at && now >= c->persist_at)
        persist_fire(c);
    tcp__output(c, true);
    if (tcp__ack_due(c))
        tcp__send_ack(c);
}

void tcp__poll(struct net_stack *s)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++)
        if (s->tcp[i].in_use)
            conn_poll(&s->tcp[i]);
}

void tcp__kick(struct net_stack *s)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++) {
        struct tcp_conn *c = &s->tcp[i];
        if (!c->in_use)
            continue;
        if (c->ctl_pending)
            tcp__send_ctl(c);
        tcp__output(c, true);
        if (c->ack_pending)
            tcp__send_ack(c);
    }
}
