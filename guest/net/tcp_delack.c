/* When received data is acknowledged (RFC 1122 4.2.3.2, RFC 5681 4.2):
 *  - at once for out-of-order data, for data that fills all or part of a
 *    gap, for a FIN, and for anything outside the window (tcp_input.c);
 *  - at once when two full-sized segments' worth is unacknowledged
 *    ("at least every second full-sized segment");
 *  - otherwise after NET_TCP_DELACK_NS (Linux's 40 ms floor), unless
 *    data we send carries the ACK first;
 *  - and, as Linux does for "pushed" data (tcp_cleanup_rbuf), at the
 *    next poll once the application has read everything when the last
 *    segment was short or had PSH: the sender has likely stopped to wait
 *    for this ACK (the end of a write, a request), so the timer would
 *    only stall it. */
#include "guest/net/tcp_internal.h"

void tcp__ack_on_data(struct tcp_conn *c, uint32_t len, bool psh)
{
    /* Full-sized = the largest segment the peer has sent (capped by the
     * MSS we announced), as Linux's rcv_mss. */
    if (len > c->rcv_mss)
        c->rcv_mss = (uint16_t)net__min32(len, NET_TCP_MSS_LOCAL);
    if (len < c->rcv_mss || psh)
        c->ack_pushed = true;
    if (c->rcv_nxt - c->rcv_wup >= 2u * c->rcv_mss) {
        tcp__send_ack(c);
        return;
    }
    if (!c->delack_at)
        c->delack_at = c->stack->now + NET_TCP_DELACK_NS;
}

void tcp__ack_sent(struct tcp_conn *c)
{
    c->ack_pending = false;
    c->ack_pushed = false;
    c->delack_at = 0;
    c->rcv_wup = c->rcv_nxt;
}

bool tcp__ack_due(struct tcp_conn *c)
{
    if (c->ack_pending)
        return true;
    if (!c->delack_at)
        return false;
    if (c->stack->now >= c->delack_at) {
        c->stack->stats.tcp_delacks++;
        return true;
    }
    return c->ack_pushed && c->rcv_len == 0;
}
