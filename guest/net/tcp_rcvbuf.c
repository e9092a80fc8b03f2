/* The receive buffer and the window it offers: window scaling (RFC 7323
 * 2) and growth of the buffer while the application keeps up.
 *
 * The ring is always NET_TCP_RCVBUF bytes (static memory), but a
 * connection offers only rcv_cap of it: NET_TCP_RCVBUF_INIT at first.
 * Growth follows the idea of Linux's receive-buffer autotuning (Dynamic
 * Right-Sizing, tcp_rcv_space_adjust): estimate the round-trip time from
 * the receiver's side, count what the application took in each such
 * interval, and offer several times that when it is more than the
 * buffer offers now.  A sender is then window-limited only by the ceiling, while an
 * application that reads slowly keeps a small window, so its data waits
 * in the sender and not in our ring.  rcv_cap never shrinks: the right
 * edge already offered may not move left (RFC 9293 3.8.6.2.2). */
#include "guest/net/tcp_internal.h"

/* How many intervals' worth the window offers: two for a sender in slow
 * start (it doubles per RTT), two more for RTT jitter (a guest's RTT
 * moves with its host's load). */
#define RCVBUF_GROW_FACTOR 4u
#define RCVBUF_GRANULE     (16u * 1024)

uint32_t tcp__rcv_space(const struct tcp_conn *c)
{
    return c->rcv_cap > c->rcv_len ? c->rcv_cap - c->rcv_len : 0;
}

/* The most the buffer may grow to: the ring, and no more full segments
 * than the device's receive ring holds (netdev.h rx_slots). */
static uint32_t rcvbuf_ceiling(const struct tcp_conn *c)
{
    uint32_t max = NET_TCP_RCVBUF;
    unsigned slots = c->stack->dev ? c->stack->dev->rx_slots : 0;
    if (slots && (uint64_t)slots * NET_TCP_MSS_LOCAL < max)
        max = net__max32(slots * NET_TCP_MSS_LOCAL, 4u * NET_TCP_MSS_LOCAL);
    return max;
}

void tcp__rcvbuf_init(struct tcp_conn *c)
{
    /* The shift covers the ceiling (RFC 7323 2.3): the window field is
     * 16 bits, in units of 2^shift bytes. */
    uint8_t ws = 0;
    while (ws < TCP_WSCALE_MAX && ((uint32_t)TCP_MAX_WIN << ws) < NET_TCP_RCVBUF)
        ws++;
    c->rcv_wscale = ws;
    c->rcv_cap = net__min32(NET_TCP_RCVBUF_INIT, rcvbuf_ceiling(c));
}

/* Receiver-side RTT (the DRS idea): a sender can have at most one window
 * in flight, so the byte one window beyond rcv_nxt cannot arrive sooner
 * than one round trip after rcv_nxt did.  The estimate follows a smaller
 * sample at once and a larger one slowly (a pause of the sender or of
 * this guest makes samples long, never short). */
void tcp__rcv_rtt_measure(struct tcp_conn *c)
{
    uint64_t now = c->stack->now;
    if (c->rrtt_at && net__seq_lt(c->rcv_nxt, c->rrtt_seq))
        return;
    if (c->rrtt_at) {
        uint64_t m = now - c->rrtt_at;
        if (m == 0)
            m = 1;
        c->rrtt = (!c->rrtt || m < c->rrtt) ? m : c->rrtt - c->rrtt / 8 + m / 8;
    }
    uint32_t wnd = net__seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    c->rrtt_seq = c->rcv_nxt + net__max32(wnd, NET_TCP_MSS_LOCAL);
    c->rrtt_at = now;
}

/* The application took n bytes: once per estimated RTT, see what it took
 * in the interval, and grow. */
void tcp__rcvbuf_on_read(struct tcp_conn *c, uint32_t n)
{
    uint64_t now = c->stack->now;
    c->app_read += n;
    if (!c->rq_at) {
        c->rq_at = now;
        c->rq_read = c->app_read - n;
        return;
    }
    if (!c->rrtt || now - c->rq_at < c->rrtt)
        return;
    uint64_t took = c->app_read - c->rq_read;
    c->rq_at = now;
    c->rq_read = c->app_read;
    uint64_t want = took * RCVBUF_GROW_FACTOR;
    want = (want + RCVBUF_GRANULE - 1) / RCVBUF_GRANULE * RCVBUF_GRANULE;
    uint32_t max = rcvbuf_ceiling(c);
    uint32_t cap = want > max ? max : (uint32_t)want;
    if (cap > c->rcv_cap) {
        c->rcv_cap = cap;
        c->stack->stats.tcp_rcvbuf_grow++;
    }
}
