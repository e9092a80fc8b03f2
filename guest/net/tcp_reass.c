/* Receive reassembly: in-order data goes to the receive ring; data
 * beyond a hole is written at its own place in the ring (it is inside the
 * offered window, so that place is free) and remembered as a [start, end)
 * sequence range; when rcv_nxt reaches a range, the range is absorbed
 * without another copy.
 *
 * Bounded against a hostile peer: at most NET_TCP_OOO_RANGES ranges
 * (touching or overlapping ones merge; data that would need one more is
 * dropped and the sender resends it), and only bytes inside the window
 * the ring can hold (the caller trims to tcp__rcv_space), so nothing is
 * ever written over unread in-order data or outside the ring. */
#include "guest/net/tcp_internal.h"

/* Copy len bytes that belong off bytes after rcv_nxt into the ring. */
void tcp__rcv_store(struct tcp_conn *c, uint32_t off, const uint8_t *d, uint32_t len)
{
    if (c->app_closed)
        return; /* nobody will read it */
    uint32_t pos = (c->rcv_head + c->rcv_len + off) & (NET_TCP_RCVBUF - 1);
    uint32_t first = net__min32(len, NET_TCP_RCVBUF - pos);
    net__memcpy(c->rcvbuf + pos, d, first);
    if (len > first)
        net__memcpy(c->rcvbuf, d + first, len - first);
}

void tcp__rcv_advance(struct tcp_conn *c, uint32_t n)
{
    if (!c->app_closed)
        c->rcv_len += n;
    c->rcv_nxt += n;
    c->stack->stats.tcp_bytes_rcvd += n;
}

static void ooo_remove(struct tcp_conn *c, unsigned i)
{
    c->ooo_n--;
    c->ooo_start[i] = c->ooo_start[c->ooo_n];
    c->ooo_end[i] = c->ooo_end[c->ooo_n];
}

/* Record [start, end), merging with overlapping or touching ranges.
 * When all ranges are taken, the one farthest from rcv_nxt makes way for
 * a nearer one (as Linux prunes its out-of-order queue from the far end:
 * the near data is what the next retransmission completes).  False when
 * the new range is the farthest (the data is dropped). */
bool tcp__ooo_add(struct tcp_conn *c, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < c->ooo_n;) {
        if (net__seq_leq(start, c->ooo_end[i]) && net__seq_leq(c->ooo_start[i], end)) {
            if (net__seq_lt(c->ooo_start[i], start))
                start = c->ooo_start[i];
            if (net__seq_gt(c->ooo_end[i], end))
                end = c->ooo_end[i];
            ooo_remove(c, i);
        } else {
            i++;
        }
    }
    if (c->ooo_n == NET_TCP_OOO_RANGES) {
        unsigned far = 0;
        for (unsigned i = 1; i < c->ooo_n; i++)
            if (net__seq_gt(c->ooo_start[i], c->ooo_start[far]))
                far = i;
        if (net__seq_gt(start, c->ooo_start[far]))
            return false;
        ooo_remove(c, far);
        c->stack->stats.tcp_ooo_drop++;
    }
    c->ooo_start[c->ooo_n] = start;
    c->ooo_end[c->ooo_n] = end;
    c->ooo_n++;
    return true;
}

/* rcv_nxt moved: absorb the ranges it reached.  True if any was. */
bool tcp__ooo_fill(struct tcp_conn *c)
{
    bool any = false;
    for (unsigned i = 0; i < c->ooo_n;) {
        if (net__seq_leq(c->ooo_start[i], c->rcv_nxt)) {
            if (net__seq_gt(c->ooo_end[i], c->rcv_nxt))
                tcp__rcv_advance(c, c->ooo_end[i] - c->rcv_nxt);
            ooo_remove(c, i);
            any = true;
            i = 0; /* rcv_nxt moved: rescan */
        } else {
            i++;
        }
    }
    return any;
}

