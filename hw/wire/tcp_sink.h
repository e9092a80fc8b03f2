/* A Linux TCP sink inside a TAP wire's private namespace: the far end of
 * the benchmark (netperf TCP_STREAM style).  It listens on addr:port in the
 * namespace, accepts up to TCP_SINK_MAX_CONN connections at a time and
 * counts the bytes it reads, on its own thread.  Everything it creates lives
 * in that namespace only. */
#ifndef IOVIRT_HW_TCP_SINK_H
#define IOVIRT_HW_TCP_SINK_H

#include <stdint.h>

struct wire;
struct tcp_sink;

#define TCP_SINK_MAX_CONN 8
#define TCP_SINK_DEFAULT_PORT 5001

/* addr: IPv4 host order, 0 = 10.0.2.1; port 0 = 5001.  0 or -errno. */
int tcp_sink__start(struct wire *tap, uint32_t addr, uint16_t port, struct tcp_sink **out);
uint64_t tcp_sink__bytes(struct tcp_sink *s);
uint64_t tcp_sink__connections(struct tcp_sink *s); /* accepted so far */
void tcp_sink__stop(struct tcp_sink *s);             /* joins, closes, frees */

#endif
