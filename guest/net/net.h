/* The guest IPv4 stack: one struct net_stack per interface, all state in
 * static pools sized by the NET_* macros below (no allocator in the guest
 * kernel).  Single-threaded and event driven: the kernel loop calls
 * net__poll(now) each pass; drivers call net__input() for each frame.
 *
 * Socket-ish APIs are in tcp.h, udp.h and icmp.h. */
#ifndef IOVIRT_GUEST_NET_NET_H
#define IOVIRT_GUEST_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/net/net_proto.h"
#include "guest/net/netdev.h"

/* ---- pool sizes (override with -D) ----------------------------------- */
#ifndef NET_ARP_ENTRIES
#define NET_ARP_ENTRIES       16
#endif
#ifndef NET_TCP_MAX_CONNS
#define NET_TCP_MAX_CONNS     4
#endif
#ifndef NET_TCP_MAX_LISTEN
#define NET_TCP_MAX_LISTEN    4
#endif
/* Send buffer: unacknowledged data is bounded by it, so it must cover the
 * line rate x the round trip, and at 10 Gb/s the round trip includes a full
 * NIC transmit ring (~1.9 MB) and the ACK's interrupt path: with 1 MiB an
 * assigned guest averaged 8.8 Gb/s, with 2 MiB 9.0 (4 MiB: no better). */
#ifndef NET_TCP_SNDBUF               /* power of two; >= bandwidth x delay */
#define NET_TCP_SNDBUF        (2048u * 1024)
#endif
/* Receive buffer: a connection starts with NET_TCP_RCVBUF_INIT and grows
 * towards NET_TCP_RCVBUF as its application drains fast (tcp_rcvbuf.c);
 * the ring itself is always the full size (memory is static). */
#ifndef NET_TCP_RCVBUF               /* power of two: the ceiling */
#define NET_TCP_RCVBUF        (1024u * 1024)
#endif
#ifndef NET_TCP_RCVBUF_INIT
#define NET_TCP_RCVBUF_INIT   (64u * 1024)
#endif
#ifndef NET_TCP_OOO_RANGES           /* out-of-order ranges kept on receive */
#define NET_TCP_OOO_RANGES    8
#endif
#ifndef NET_UDP_MAX_BINDS
#define NET_UDP_MAX_BINDS     8
#endif

/* ---- timing policy ----------------------------------------------------- */
#define NET_ARP_TIMEOUT_NS     60000000000ull  /* resolved entry lifetime */
#define NET_ARP_RETRY_NS       1000000000ull   /* re-request interval */
#define NET_ARP_MAX_TRIES      3
#define NET_TCP_TIME_WAIT_NS   1000000000ull   /* short 2*MSL: a test bed */
#define NET_TCP_SYN_RETRIES    6
#define NET_TCP_MAX_RETRIES    15
#define NET_TCP_PERSIST_MIN_NS 200000000ull
#define NET_TCP_PERSIST_MAX_NS 60000000000ull
#define NET_TCP_TLP_MIN_NS     10000000ull     /* RFC 8985 7.2 floor */
/* Delayed ACK timer: Linux's TCP_ATO_MIN; RFC 1122 4.2.3.2 caps it at
 * 0.5 s, RFC 5681 4.2 wants it well below. */
#define NET_TCP_DELACK_NS      40000000ull
#define NET_TCP_MSS_LOCAL      (ETH_MTU - IP_HDR_LEN - TCP_HDR_LEN) /* 1460 */
#define NET_POLL_BUDGET        64

_Static_assert((NET_TCP_SNDBUF & (NET_TCP_SNDBUF - 1)) == 0, "SNDBUF pow2");
_Static_assert((NET_TCP_RCVBUF & (NET_TCP_RCVBUF - 1)) == 0, "RCVBUF pow2");
_Static_assert(NET_TCP_SNDBUF < (1u << 30), "SNDBUF within seq space");
_Static_assert(NET_TCP_RCVBUF < (1u << 30), "RCVBUF within seq space");
_Static_assert(NET_TCP_RCVBUF_INIT <= NET_TCP_RCVBUF &&
               NET_TCP_RCVBUF_INIT >= 4 * 1460u, "RCVBUF_INIT in [4 MSS, RCVBUF]");
_Static_assert(NET_TCP_DELACK_NS < 500000000ull, "RFC 1122 4.2.3.2: under 0.5 s");

/* NET_IP4(10,0,2,15): addresses are host-order uint32_t throughout. */
#define NET_IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

struct net_stats {
    uint64_t rx_frames, tx_frames, tx_busy, tx_drop;
    uint64_t rx_bad;             /* malformed / truncated / bad checksum */
    uint64_t ip_frag_drop;       /* fragments are not reassembled */
    uint64_t arp_req_out, arp_rep_out, arp_rep_in, arp_pending_drop;
    uint64_t icmp_echo_req_in, icmp_echo_rep_out;
    uint64_t icmp_echo_req_out, icmp_echo_rep_in;
    uint64_t udp_in, udp_out, udp_no_port;
    uint64_t tcp_segs_in, tcp_segs_out;
    uint64_t tcp_tso_out;        /* of tcp_segs_out: larger than the MSS (the NIC segments) */
    uint64_t tcp_retrans_segs;   /* segments resent (any reason) */
    uint64_t tcp_rto_events;     /* retransmission timeouts */
    uint64_t tcp_fast_retrans;   /* fast retransmits (3 dup ACKs / partial ACK) */
    uint64_t tcp_dupacks_in;
    uint64_t tcp_bytes_acked;    /* payload bytes cumulatively ACKed by peers */
    uint64_t tcp_bytes_rcvd;     /* in-order payload bytes accepted */
    uint64_t tcp_rst_in, tcp_rst_out;
    uint64_t tcp_zwp_out;        /* zero-window probes */
    uint64_t tcp_tlp_out;        /* tail loss probes */
    uint64_t tcp_ooo_in;         /* out-of-order segments kept (dup ACKed) */
    uint64_t tcp_ooo_drop;       /* out-of-order segments dropped (no range) */
    uint64_t tcp_delacks;        /* ACKs sent by the delayed-ACK timer */
    uint64_t tcp_rcvbuf_grow;    /* receive buffer growth steps */
};

/* ---- ARP cache (RFC 826) --------------------------------------------- */
enum net_arp_state { NET_ARP_FREE, NET_ARP_INCOMPLETE, NET_ARP_RESOLVED };

struct net_arp_entry {
    uint8_t state;
    uint8_t tries;
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
    uint64_t deadline;          /* RESOLVED: expiry; INCOMPLETE: next retry */
    uint16_t pending_len;       /* one frame waiting for the answer */
    uint8_t pending[ETH_MAX_FRAME];
};

/* ---- TCP connection (RFC 9293 3.3.1 names) --------------------------- */
enum tcp_state {
    NET_TCPS_CLOSED, NET_TCPS_LISTEN, NET_TCPS_SYN_SENT, NET_TCPS_SYN_RECEIVED,
    NET_TCPS_ESTABLISHED, NET_TCPS_FIN_WAIT_1, NET_TCPS_FIN_WAIT_2,
    NET_TCPS_CLOSE_WAIT, NET_TCPS_CLOSING, NET_TCPS_LAST_ACK, NET_TCPS_TIME_WAIT,
};

struct tcp_conn {
    struct net_stack *stack;
    bool in_use, app_closed, passive, accepted, nodelay;
    uint8_t state;
    int error;                  /* NET_E* once the connection died */
    uint32_t lip, rip;
    uint16_t lport, rport;

    /* send sequence space */
    uint32_t iss, snd_una, snd_nxt, snd_max;
    uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok;                 /* both sides sent Window Scale */
    bool ctl_pending;           /* SYN or SYN-ACK still has to go out */
    uint16_t mss;               /* effective send MSS */
    uint64_t app_written;       /* data bytes the application queued */
    uint64_t app_acked;         /* data bytes the peer ACKed (ring head) */
    bool fin_queued;            /* FIN follows the last queued byte */

    /* congestion control (RFC 5681, RFC 6582) */
    uint32_t cwnd, ssthresh, recover, ca_acked;
    uint8_t dupacks;
    bool in_recovery, partial_seen, syn_retransmitted;

    /* RTT estimation (RFC 6298) */
    bool have_rtt, rtt_timing;
    uint32_t rtt_seq;
    uint64_t rtt_start, srtt, rttvar, rto;
    uint8_t backoff, persist_backoff;

    /* timers: absolute ns, 0 = not armed */
    uint64_t rto_at, persist_at, timewait_at, tlp_at;
    bool tlp_sent, no_tlp;      /* one tail loss probe per episode */

    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv;
    uint32_t rcv_head, rcv_len;
    bool fin_received;
    /* ACK policy (tcp_delack.c): ack_pending = send one at the next
     * chance (a busy device, or the pushed rule); delack_at = the delayed
     * ACK timer; rcv_wup = rcv_nxt our last ACK carried. */
    bool ack_pending, ack_pushed;
    uint16_t rcv_mss;           /* largest segment the peer sent */
    uint32_t rcv_wup;
    uint64_t delack_at;
    /* Receive buffer autotuning (tcp_rcvbuf.c). */
    uint32_t rcv_cap;           /* bytes of the ring the window may offer */
    uint32_t rrtt_seq;          /* receiver RTT sample ends when rcv_nxt passes it */
    uint64_t rrtt_at, rrtt;     /* sample start; estimate (0: none yet) */
    uint64_t app_read;          /* bytes the application took, total */
    uint64_t rq_at, rq_read;    /* start of the current measuring interval */
    /* Data beyond a hole already sits in the ring at its place; these are
     * its [start, end) sequence ranges. */
    uint8_t ooo_n;
    uint32_t ooo_start[NET_TCP_OOO_RANGES], ooo_end[NET_TCP_OOO_RANGES];

    uint8_t sndbuf[NET_TCP_SNDBUF];
    uint8_t rcvbuf[NET_TCP_RCVBUF];
};

struct net_udp_bind;
typedef void (*net_udp_rx_fn)(void *ctx, uint32_t src_ip, uint16_t src_port,
                              const uint8_t *data, size_t len);
struct net_udp_bind {
    uint16_t port;
    net_udp_rx_fn fn;
    void *ctx;
};

/* Called for each echo reply: sender, identifier, sequence, RTT in ns
 * (from the timestamp icmp__ping put in the payload). */
typedef void (*net_ping_fn)(void *ctx, uint32_t src_ip, uint16_t id,
                            uint16_t seq, uint64_t rtt_ns);

struct net_config {
    uint32_t ip, netmask, gateway;   /* gateway 0: on-link only */
    net_clock_fn clock;              /* required: monotonic ns */
    void *clock_ctx;
    uint32_t seed;                   /* ISN / ephemeral port / IP ID seed */
};

struct net_stack {
    struct netdev *dev;
    struct net_config cfg;
    uint8_t mac[ETH_ALEN];
    uint64_t now;
    uint32_t rand_state;
    uint16_t ip_id, next_port;
    bool rx_more;                    /* the last device poll used its whole budget */
    struct net_stats stats;
    struct net_arp_entry arp[NET_ARP_ENTRIES];
    uint16_t listen_ports[NET_TCP_MAX_LISTEN];
    struct net_udp_bind udp[NET_UDP_MAX_BINDS];
    net_ping_fn ping_fn;
    void *ping_ctx;
    struct tcp_conn tcp[NET_TCP_MAX_CONNS];
};

/* Set up the stack on dev.  Returns 0 or -NET_EINVAL (no clock / dev). */
int net__init(struct net_stack *s, struct netdev *dev, const struct net_config *cfg);
/* A received Ethernet frame (without FCS).  Never trusts its contents. */
void net__input(struct net_stack *s, const void *frame, size_t len);
/* Run timers, pull frames from ops->poll, flush delayed ACKs and queued
 * data.  Call each kernel-loop pass with the current monotonic time. */
void net__poll(struct net_stack *s, uint64_t now_ns);
/* True when the last net__poll took a full budget of frames from the
 * device: more may be waiting, and they raise no new interrupt (the one
 * that announced them was taken), so the caller must poll again before
 * it halts. */
bool net__rx_pending(const struct net_stack *s);
const struct net_stats *net__stats(const struct net_stack *s);

#endif
