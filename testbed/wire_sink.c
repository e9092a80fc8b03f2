#include "testbed/wire_sink.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_MAX_CONN WIRE_SINK_MAX_CONN

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Time-stamp a read of n bytes (taken right after recv returned), overall
 * and for TCP connection c (NULL for UDP). */
/* Compare n bytes read at the connection's current offset with the
 * stream pattern (before sink__count advances the offset). */
static void sink__check(uint32_t msg, struct wire_sink_conn *c, const uint8_t *b, size_t n)
{
    uint64_t at = c->bytes;
    for (size_t k = 0; k < n; k++) {
        uint8_t want = (uint8_t)('a' + (at + k) % msg % 26);
        if (b[k] != want) {
            if (!c->bad_bytes)
                c->first_bad_at = at + k;
            c->bad_bytes++;
        }
    }
}

static void sink__count(struct wire_sink *s, _Atomic uint64_t *ctr, struct wire_sink_conn *c,
                        ssize_t n)
{
    uint64_t t = now_ns();
    uint64_t zero = 0;
    atomic_compare_exchange_strong(&s->first_byte_ns, &zero, t);
    s->last_byte_ns = t;
    if (c) {
        zero = 0;
        atomic_compare_exchange_strong(&c->first_byte_ns, &zero, t);
        c->last_byte_ns = t;
        c->bytes += (uint64_t)n;
    }
    *ctr += (uint64_t)n;
}

static void *sink__main(void *arg)
{
    pthread_setname_np(pthread_self(), "wire-sink"); /* top -H, ps -L */
    struct wire_sink *s = arg;
    struct pollfd p[3 + SINK_MAX_CONN];
    uint64_t idx[SINK_MAX_CONN]; /* p[3 + i] is connection idx[i] (accept order) */
    int nconn = 0;
    static __thread uint8_t buf[1 << 16];
    p[0] = (struct pollfd){.fd = s->stop_fd, .events = POLLIN};
    p[1] = (struct pollfd){.fd = s->tcp_fd, .events = POLLIN};
    p[2] = (struct pollfd){.fd = s->udp_fd, .events = POLLIN};
    for (;;) {
        if (poll(p, (nfds_t)(3 + nconn), 200) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN) {
            int c = accept4(s->tcp_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c >= 0 && nconn < SINK_MAX_CONN) {
                /* kernel receive time stamps (arrival, not our read);
                 * inherited from the listener, set again to be sure */
                int on = 1;
                setsockopt(c, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
                idx[nconn] = s->connections;
                p[3 + nconn++] = (struct pollfd){.fd = c, .events = POLLIN};
                s->connections++;
            } else if (c >= 0) {
                close(c);
            }
        }
        if (p[2].revents & POLLIN) {
            ssize_t n = recv(s->udp_fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                sink__count(s, &s->udp_bytes, NULL, n);
                s->udp_datagrams++;
            }
        }
        for (int i = 0; i < nconn; i++) {
            if (!p[3 + i].revents)
                continue;
            struct wire_sink_conn *conn = idx[i] < SINK_MAX_CONN ? &s->conn[idx[i]] : NULL;
            /* The first read of a connection takes one byte, so its time
             * stamp is the first segment's (a read's stamp is that of the
             * last segment it consumed). */
            struct iovec iov = {.iov_base = buf,
                                .iov_len = conn && !conn->bytes ? 1 : sizeof buf};
            union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(struct timespec))];
            } ctl;
            struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
                                .msg_controllen = sizeof ctl};
            ssize_t n = recvmsg(p[3 + i].fd, &mh, MSG_DONTWAIT);
            if (n > 0 && conn && s->verify_msg)
                sink__check(s->verify_msg, conn, buf, (size_t)n);
            if (n > 0) {
                bool first = conn && !conn->bytes;
                sink__count(s, &s->tcp_bytes, conn, n);
                uint64_t t = 0;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); conn && cm; cm = CMSG_NXTHDR(&mh, cm))
                    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                        struct timespec ts;
                        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                        t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
                    }
                /* Only the first read's stamp is the first byte's: without
                 * it the arrival window stays unknown (0). */
                if (first && t)
                    conn->first_arrival_ns = t;
                if (conn && conn->first_arrival_ns && t)
                    conn->last_arrival_ns = t;
                /* Acknowledge what was read now: without this, Linux may
                 * hold the ACK of a stream's last, odd segment for its
                 * delayed-ACK timer (40 ms), and the sender's window
                 * (first byte queued to last acknowledged) would end that
                 * much after the data did. */
                int one = 1;
                setsockopt(p[3 + i].fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(p[3 + i].fd);
                p[3 + i] = p[3 + --nconn];
                idx[i] = idx[nconn];
                i--;
                s->closed++;
            }
        }
    }
    for (int i = 0; i < nconn; i++)
        close(p[3 + i].fd);
    return NULL;
}

/* A socket in the wire's namespace, or in ours when there is no wire. */
static int sink__socket(struct wire *tap, int type)
{
    if (tap)
        return wire_tap__socket(tap, AF_INET, type, 0);
    int fd = socket(AF_INET, type, 0);
    return fd < 0 ? -errno : fd;
}

void wire_sink__verify(struct wire_sink *s, uint32_t msg_size)
{
    s->verify_msg = msg_size;
}

int wire_sink__start(struct wire_sink *s, struct wire *tap, uint16_t port)
{
    memset(s, 0, sizeof(*s));
    s->port = port;
    s->tcp_fd = s->udp_fd = s->stop_fd = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    int one = 1, r = 0;
    s->tcp_fd = sink__socket(tap, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    s->udp_fd = sink__socket(tap, SOCK_DGRAM | SOCK_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (s->tcp_fd < 0 || s->udp_fd < 0 || s->stop_fd < 0) {
        r = s->tcp_fd < 0 ? s->tcp_fd : s->udp_fd < 0 ? s->udp_fd : -errno;
        goto fail;
    }
    setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Receive time stamps on every accepted connection; asking now also
     * turns on the kernel's stamping (which takes effect asynchronously)
     * before the first segment arrives. */
    setsockopt(s->tcp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    int rcvbuf = 4 << 20;
    setsockopt(s->udp_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(s->tcp_fd, (struct sockaddr *)&a, sizeof a) || listen(s->tcp_fd, 8) ||
        bind(s->udp_fd, (struct sockaddr *)&a, sizeof a)) {
        r = -errno;
        goto fail;
    }
    if ((r = -pthread_create(&s->thread, NULL, sink__main, s)))
        goto fail;
    s->running = true;
    return 0;
fail:
    wire_sink__stop(s);
    return r;
}

void wire_sink__stop(struct wire_sink *s)
{
    if (s->running) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) < 0) {
            /* the thread also wakes by its poll timeout */
        }
        pthread_join(s->thread, NULL);
        s->running = false;
    }
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    s->tcp_fd = s->udp_fd = s->stop_fd = -1;
}

bool wire_sink__wait_closed(struct wire_sink *s, uint64_t n, unsigned timeout_ms)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (s->closed < n) {
        if (now_ns() > deadline)
            return false;
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    }
    return true;
}
