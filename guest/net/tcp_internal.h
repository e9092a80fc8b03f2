/* Calls between the TCP files of guest/net. */
#ifndef IOVIRT_GUEST_NET_TCP_INTERNAL_H
#define IOVIRT_GUEST_NET_TCP_INTERNAL_H

#include "guest/net/net_internal.h"
#include "guest/net/tcp.h"

#define TCP_MIN_MSS 88  /* refuse absurd peer MSS values (as Linux does) */

/* Sequence number just after the last queued data byte (where FIN goes). */
static inline uint32_t tcp__data_end(const struct tcp_conn *c)
{
    return c->iss + 1 + (uint32_t)c->app_written;
}

/* Sequence number of the first unacknowledged data byte (ring head). */
static inline uint32_t tcp__data_una(const struct tcp_conn *c)
{
    return c->iss + 1 + (uint32_t)c->app_acked;
}

static inline bool tcp__fin_sent(const struct tcp_conn *c)
{
    return c->fin_queued && net__seq_gt(c->snd_max, tcp__data_end(c));
}

static inline bool tcp__fin_acked(const struct tcp_conn *c)
{
    return c->fin_queued && net__seq_gt(c->snd_una, tcp__data_end(c));
}

/* One segment of this connection: len data bytes from the ring at seq. */
int tcp__xmit(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags);
/* Send new (or go-back-N) data as far as the windows allow.  partial_ok:
 * a short tail may go too (poll / ACK time), not only full segments. */
void tcp__output(struct tcp_conn *c, bool partial_ok);
/* Resend one segment from snd_una (fast retransmit, partial ACK). */
void tcp__retransmit_head(struct tcp_conn *c);
void tcp__send_ack(struct tcp_conn *c);
void tcp__send_ctl(struct tcp_conn *c);     /* SYN or SYN-ACK */
/* RST for a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp__reply_rst(struct net_stack *s, uint32_t src, uint32_t dst,
                    uint16_t sport, uint16_t dport, uint32_t seq,
                    uint32_t ack, uint8_t flags, uint32_t seg_len);
void tcp__send_rst(struct tcp_conn *c);

void tcp__rtt_sample(struct tcp_conn *c, uint64_t rtt);
void tcp__arm_rto(struct tcp_conn *c);
void tcp__arm_persist(struct tcp_conn *c);
/* Tail loss probe timer (RFC 8985 7.2), when its conditions hold. */
void tcp__arm_tlp(struct tcp_conn *c);
void tcp__set_state(struct tcp_conn *c, enum tcp_state st);
/* The connection is dead: record why, stop timers, maybe free the slot. */
void tcp__drop(struct tcp_conn *c, int err);
void tcp__release_if_done(struct tcp_conn *c);
/* Receive buffer and window (tcp_rcvbuf.c). */
uint32_t tcp__rcv_space(const struct tcp_conn *c);
void tcp__rcvbuf_init(struct tcp_conn *c);
void tcp__rcv_rtt_measure(struct tcp_conn *c);   /* in-order data arrived */
void tcp__rcvbuf_on_read(struct tcp_conn *c, uint32_t n);
/* Reassembly (tcp_reass.c): store len bytes off bytes after rcv_nxt;
 * move rcv_nxt over n stored bytes; out-of-order ranges. */
void tcp__rcv_store(struct tcp_conn *c, uint32_t off, const uint8_t *d, uint32_t len);
void tcp__rcv_advance(struct tcp_conn *c, uint32_t n);
bool tcp__ooo_add(struct tcp_conn *c, uint32_t start, uint32_t end);
bool tcp__ooo_fill(struct tcp_conn *c);
/* ACK policy (tcp_delack.c). */
void tcp__ack_on_data(struct tcp_conn *c, uint32_t len, bool psh);
void tcp__ack_sent(struct tcp_conn *c);          /* a segment carried our ACK */
bool tcp__ack_due(struct tcp_conn *c);           /* poll time: send one now? */
struct tcp_conn *tcp__alloc(struct net_stack *s);

#endif
