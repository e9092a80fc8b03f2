/* TCP for programs: non-blocking, socket-ish calls on struct tcp_conn.
 * Nothing here blocks or waits: the kernel loop keeps calling net__poll(),
 * which runs timers and sends what the windows allow.
 *
 * Writes go into a byte ring (NET_TCP_SNDBUF); segments are cut from it up
 * to the MSS, so many small writes leave as full-size segments (corking):
 * tcp__send sends only full segments right away, a short tail leaves at the
 * next net__poll (and, with Nagle on, only when nothing is in flight). */
#ifndef IOVIRT_GUEST_NET_TCP_H
#define IOVIRT_GUEST_NET_TCP_H

#include "guest/net/net.h"

/* Active open (three-way handshake runs in the background).  NULL when
 * every connection slot is in use or the address is invalid. */
struct tcp_conn *tcp__connect(struct net_stack *s, uint32_t ip, uint16_t port);
/* Passive open: accept connections to port.  0 or -NET_ENOMEM/-NET_EINVAL. */
int tcp__listen(struct net_stack *s, uint16_t port);
/* An established, not yet accepted connection to port, or NULL. */
struct tcp_conn *tcp__accept(struct net_stack *s, uint16_t port);

/* Queue up to len bytes; returns the count accepted (0 when the ring is
 * full) or a negative NET_E* once the connection failed or was closed. */
long tcp__send(struct tcp_conn *c, const void *buf, size_t len);
/* Take up to len in-order received bytes; 0 when none are waiting. */
long tcp__recv(struct tcp_conn *c, void *buf, size_t len);
/* Orderly close (FIN after the queued data).  The slot is released by the
 * stack when the close completes; c must not be used after this call. */
int tcp__close(struct tcp_conn *c);
/* Send RST and release the slot now. */
void tcp__abort(struct tcp_conn *c);

void tcp__set_nodelay(struct tcp_conn *c, bool on);   /* Nagle off/on */
/* Tail loss probes (on by default): see docs/guest-net.md. */
void tcp__set_tlp(struct tcp_conn *c, bool on);
enum tcp_state tcp__state(const struct tcp_conn *c);
const char *tcp__state_name(enum tcp_state st);
int tcp__error(const struct tcp_conn *c);             /* 0 or NET_E* */
bool tcp__eof(const struct tcp_conn *c);              /* peer FIN read */
size_t tcp__send_space(const struct tcp_conn *c);
uint64_t tcp__bytes_queued(const struct tcp_conn *c); /* total written */
uint64_t tcp__bytes_acked(const struct tcp_conn *c);  /* total ACKed */

#endif
