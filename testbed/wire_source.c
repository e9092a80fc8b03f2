/* Linux-side TCP sender in the wire's namespace (wire_source.h). */
#include "testbed/wire_source.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with the limited-time counters glibc lacks */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>

#define SOURCE_CONNECT_NS 2000000000ull
#define SOURCE_DRAIN_NS   10000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pause_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

static int source__connect(struct wire_source *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(s->port),
                            .sin_addr.s_addr = htonl(s->ip)};
    uint64_t t0 = now_ns();
    for (;;) {
        int fd = wire_tap__socket(s->tap, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return fd;
        /* a bounded send: a guest that stops reading cannot hold us forever */
        struct timeval tv = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        int e = errno;
        close(fd);
        if ((e != ECONNREFUSED && e != ETIMEDOUT) || now_ns() - t0 > SOURCE_CONNECT_NS ||
            atomic_load(&s->stop))
            return -e;
        pause_us(10000);
    }
}

static void *source__main(void *arg)
{
    pthread_setname_np(pthread_self(), "wire-source"); /* top -H, ps -L */
    struct wire_source *s = arg;
    int fd = source__connect(s);
    if (fd < 0) {
        atomic_store(&s->done, fd);
        return NULL;
    }
    char *buf = malloc(s->msg);
    if (!buf) {
        close(fd);
        atomic_store(&s->done, -ENOMEM);
        return NULL;
    }
    for (unsigned i = 0; i < s->msg; i++)
        buf[i] = (char)('a' + i % 26);
    int r = 1;
    s->first_ns = now_ns();
    uint64_t stop = s->first_ns + (uint64_t)(s->seconds * 1e9);
    uint64_t next_sample = s->first_ns;
    while (now_ns() < stop && !atomic_load(&s->stop)) {
        if (now_ns() >= next_sample) {
            struct tcp_info si;
            socklen_t sl = sizeof si;
            if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &si, &sl) == 0) {
                s->rtt_sum_us += si.tcpi_rtt;
                s->wnd_sum += si.tcpi_snd_wnd;
                s->samples++;
            }
            next_sample += 10000000ull;
        }
        ssize_t n = send(fd, buf, s->msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN) {
            r = -errno;
            break;
        }
        if (n > 0)
            atomic_fetch_add(&s->bytes, (uint64_t)n);
    }
    /* The window closes when the guest has acknowledged the last byte. */
    uint64_t drain_end = now_ns() + SOURCE_DRAIN_NS;
    int outq = 1;
    while (r > 0 && !atomic_load(&s->stop) && now_ns() < drain_end) {
        if (ioctl(fd, SIOCOUTQ, &outq) < 0) {
            r = -errno;
            break;
        }
        if (outq == 0)
            break;
        pause_us(50);
    }
    s->acked_ns = now_ns();
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
    {
        s->retrans = ti.tcpi_total_retrans, s->rtt_us = ti.tcpi_rtt, s->cwnd = ti.tcpi_snd_cwnd;
        s->busy_us = ti.tcpi_busy_time, s->rwnd_limited_us = ti.tcpi_rwnd_limited;
        s->sndbuf_limited_us = ti.tcpi_sndbuf_limited, s->snd_wnd = ti.tcpi_snd_wnd;
    }
    if (r > 0 && outq)
        r = -ETIMEDOUT;
    close(fd);
    free(buf);
    atomic_store(&s->done, r);
    /* Stay until stopped: the harness reads this thread's CPU clock when
     * the guest reports, which is after the close (a gone thread has none). */
    while (!atomic_load(&s->stop))
        pause_us(1000);
    return NULL;
}

int wire_source__start(struct wire_source *s, struct wire *tap, uint32_t ip, uint16_t port,
                       unsigned msg, double seconds)
{
    memset(s, 0, sizeof(*s));
    if (!tap || !msg || !(seconds > 0))
        return -EINVAL;
    s->tap = tap;
    s->ip = ip;
    s->port = port;
    s->msg = msg;
    s->seconds = seconds;
    int r = pthread_create(&s->thread, NULL, source__main, s);
    if (r)
        return -r;
    s->running = true;
    return 0;
}

void wire_source__stop(struct wire_source *s)
{
    if (!s->running)
        return;
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    s->running = false;
}
