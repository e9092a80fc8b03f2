/* TCP calls for programs: open, send into the ring, receive, close. */
#include "guest/net/tcp_internal.h"

static bool port_in_use(struct net_stack *s, uint16_t port)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++)
        if (s->tcp[i].in_use && s->tcp[i].lport == port)
            return true;
    for (unsigned i = 0; i < NET_TCP_MAX_LISTEN; i++)
        if (s->listen_ports[i] == port)
            return true;
    return false;
}

static uint16_t ephemeral_port(struct net_stack *s)
{
    /* 49152-65535 (RFC 6335); bounded search over the whole range. */
    for (unsigned i = 0; i < 16384; i++) {
        uint16_t p = s->next_port;
        s->next_port = (uint16_t)(p >= 65535 ? 49152 : p + 1);
        if (!port_in_use(s, p))
            return p;
    }
    return 0;
}

struct tcp_conn *tcp__connect(struct net_stack *s, uint32_t ip, uint16_t port)
{
    if (!ip || ip == IP_BROADCAST || !port)
        return NULL;
    net__now(s);
    uint16_t lport = ephemeral_port(s);
    if (!lport)
        return NULL;
    struct tcp_conn *c = tcp__alloc(s);
    if (!c)
        return NULL;
    c->lip = s->cfg.ip;
    c->rip = ip;
    c->lport = lport;
    c->rport = port;
    c->iss = net__rand(s);
    c->snd_una = c->iss;
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->snd_wl2 = c->iss;
    c->recover = c->iss;
    c->state = NET_TCPS_SYN_SENT;
    c->rtt_timing = true;
    c->rtt_seq = c->iss;
    c->rtt_start = s->now;
    tcp__send_ctl(c); /* may wait for ARP: ctl_pending, sent on resolution */
    tcp__arm_rto(c);
    return c;
}

int tcp__listen(struct net_stack *s, uint16_t port)
{
    if (!port || port_in_use(s, port))
        return -NET_EINVAL;
    for (unsigned i = 0; i < NET_TCP_MAX_LISTEN; i++) {
        if (!s->listen_ports[i]) {
            s->listen_ports[i] = port;
            return 0;
        }
    }
    return -NET_ENOMEM;
}

struct tcp_conn *tcp__accept(struct net_stack *s, uint16_t port)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++) {
        struct tcp_conn *c = &s->tcp[i];
        if (c->in_use && c->passive && !c->accepted && c->lport == port &&
            c->state != NET_TCPS_SYN_RECEIVED && c->state != NET_TCPS_CLOSED) {
            c->accepted = true;
            return c;
        }
    }
    return NULL;
}

long tcp__send(struct tcp_conn *c, const void *buf, size_t len)
{
    if (!c || !c->in_use || c->app_closed)
        return -NET_EINVAL;
    if (c->error)
        return -c->error;
    if (c->fin_queued)
        return -NET_EPIPE;
    switch (c->state) {
    case NET_TCPS_SYN_SENT:
    case NET_TCPS_SYN_RECEIVED:
    case NET_TCPS_ESTABLISHED:
    case NET_TCPS_CLOSE_WAIT:
        break;
    default:
        return -NET_ENOTCONN;
    }
    net__now(c->stack);
    uint32_t used = (uint32_t)(c->app_written - c->app_acked);
    uint32_t n = (uint32_t)(len < NET_TCP_SNDBUF - used ? len : NET_TCP_SNDBUF - used);
    if (n && !buf)
        return -NET_EINVAL;
    uint32_t idx = (uint32_t)(c->app_written & (NET_TCP_SNDBUF - 1));
    uint32_t first = net__min32(n, NET_TCP_SNDBUF - idx);
    net__memcpy(c->sndbuf + idx, buf, first);
    if (n > first)
        net__memcpy(c->sndbuf, (const uint8_t *)buf + first, n - first);
    c->app_written += n;
    tcp__output(c, false); /* full segments now, the tail at poll time */
    return n;
}

long tcp__recv(struct tcp_conn *c, void *buf, size_t len)
{
    if (!c || !c->in_use || c->app_closed)
        return -NET_EINVAL;
    uint32_t n = (uint32_t)(len < c->rcv_len ? len : c->rcv_len);
    if (n && !buf)
        return -NET_EINVAL;
    uint32_t first = net__min32(n, NET_TCP_RCVBUF - c->rcv_head);
    net__memcpy(buf, c->rcvbuf + c->rcv_head, first);
    if (n > first)
        net__memcpy((uint8_t *)buf + first, c->rcvbuf, n - first);
    c->rcv_head = (c->rcv_head + n) & (NET_TCP_RCVBUF - 1);
    c->rcv_len -= n;
    if (n && c->state >= NET_TCPS_ESTABLISHED && !c->fin_received) {
        net__now(c->stack);
        tcp__rcvbuf_on_read(c, n);
        /* Window update once it opened by a useful amount (receiver SWS
         * avoidance, RFC 9293 3.8.6.2.2). */
        uint32_t edge = c->rcv_nxt + tcp__rcv_space(c);
        uint32_t grow = net__seq_gt(edge, c->rcv_adv) ? edge - c->rcv_adv : 0;
        if (grow >= net__min32(c->rcv_cap / 2, 2u * c->mss))
            tcp__send_ack(c);
    }
    return n;
}

int tcp__close(struct tcp_conn *c)
{
    if (!c || !c->in_use || c->app_closed)
        return -NET_EINVAL;
    net__now(c->stack);
    c->app_closed = true;
    c->rcv_len = 0; /* unread data is discarded */
    c->ooo_n = 0;
    switch (c->state) {
    case NET_TCPS_SYN_SENT:
    case NET_TCPS_SYN_RECEIVED:
        c->state = NET_TCPS_CLOSED;
        break;
    case NET_TCPS_ESTABLISHED:
        c->fin_queued = true;
        tcp__set_state(c, NET_TCPS_FIN_WAIT_1);
        break;
    case NET_TCPS_CLOSE_WAIT:
        c->fin_queued = true;
        tcp__set_state(c, NET_TCPS_LAST_ACK);
        break;
    default:
        break;
    }
    tcp__output(c, true);
    tcp__release_if_done(c);
    return 0;
}

void tcp__abort(struct tcp_conn *c)
{
    if (!c || !c->in_use)
        return;
    net__now(c->stack);
    if (c->state != NET_TCPS_CLOSED && c->state != NET_TCPS_SYN_SENT &&
        c->state != NET_TCPS_TIME_WAIT)
        tcp__send_rst(c);
    c->app_closed = true;
    tcp__drop(c, NET_ECONNRESET);
}

void tcp__set_nodelay(struct tcp_conn *c, bool on)
{
    c->nodelay = on;
}

void tcp__set_tlp(struct tcp_conn *c, bool on)
{
    c->no_tlp = !on;
    if (!on)
        c->tlp_at = 0;
}

enum tcp_state tcp__state(const struct tcp_conn *c)
{
    return (enum tcp_state)c->state;
}

const char *tcp__state_name(enum tcp_state st)
{
    static const char *const names[] = {
        "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
        "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
        "TIME_WAIT",
    };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

int tcp__error(const struct tcp_conn *c)
{
    return c->error;
}

bool tcp__eof(const struct tcp_conn *c)
{
    return c->fin_received && c->rcv_len == 0;
}

size_t tcp__send_space(const struct tcp_conn *c)
{
    if (c->fin_queued || c->error)
        return 0;
    return NET_TCP_SNDBUF - (size_t)(c->app_written - c->app_acked);
}

uint64_t tcp__bytes_queued(const struct tcp_conn *c)
{
    return c->app_written;
}

uint64_t tcp__bytes_acked(const struct tcp_conn *c)
{
    return c->app_acked;
}
