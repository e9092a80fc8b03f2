/* Linux-side request/response peer in the wire's namespace (wire_echo.h). */
#include "testbed/wire_echo.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait for fd readable (or writable), or stop: 1 ready, 0 stop/error. */
static int echo__wait(struct wire_echo *e, int fd, short ev)
{
    struct pollfd p[2] = {{.fd = e->stop_fd, .events = POLLIN}, {.fd = fd, .events = ev}};
    for (;;) {
        int r = poll(p, 2, 200);
        if (r < 0 && errno != EINTR)
            return 0;
        if (p[0].revents)
            return 0;
        if (p[1].revents)
            return 1;
    }
}

static void echo__serve(struct wire_echo *e, int c, char *buf)
{
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* answer at once */
    for (;;) {
        unsigned got = 0;
        while (got < e->req) {
            if (!echo__wait(e, c, POLLIN))
                return;
            ssize_t n = recv(c, buf + got, e->req - got, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return;
            if (n > 0) {
                uint64_t zero = 0;
                atomic_compare_exchange_strong(&e->first_ns, &zero, now_ns());
                got += (unsigned)n;
                atomic_fetch_add(&e->bytes, (uint64_t)n);
            }
        }
        setsockopt(c, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        unsigned sent = 0;
        while (sent < e->resp) {
            ssize_t n = send(c, buf + sent, e->resp - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!echo__wait(e, c, POLLOUT))
                    return;
                continue;
            }
            if (n <= 0)
                return;
            sent += (unsigned)n;
        }
        atomic_store(&e->last_ns, now_ns());
        atomic_fetch_add(&e->transactions, 1);
    }
}

static void *echo__main(void *arg)
{
    pthread_setname_np(pthread_self(), "wire-echo"); /* top -H, ps -L */
    struct wire_echo *e = arg;
    unsigned cap = e->req > e->resp ? e->req : e->resp;
    char *buf = calloc(1, cap);
    while (buf && echo__wait(e, e->listen_fd, POLLIN)) {
        int c = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        atomic_fetch_add(&e->connections, 1);
        echo__serve(e, c, buf);
        close(c);
    }
    free(buf);
    return NULL;
}

int wire_echo__start(struct wire_echo *e, struct wire *tap, uint16_t port, unsigned req,
                     unsigned resp)
{
    memset(e, 0, sizeof(*e));
    e->listen_fd = e->stop_fd = -1;
    e->req = req;
    e->resp = resp;
    if (!tap || !req || !resp)
        return -EINVAL;
    int r;
    e->listen_fd = wire_tap__socket(tap, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    e->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (e->listen_fd < 0 || e->stop_fd < 0) {
        r = e->listen_fd < 0 ? e->listen_fd : -errno;
        goto fail;
    }
    int one = 1;
    setsockopt(e->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(e->listen_fd, (struct sockaddr *)&a, sizeof a) || listen(e->listen_fd, 4)) {
        r = -errno;
        goto fail;
    }
    if ((r = -pthread_create(&e->thread, NULL, echo__main, e)))
        goto fail;
    e->running = true;
    return 0;
fail:
    wire_echo__stop(e);
    return r;
}

void wire_echo__stop(struct wire_echo *e)
{
    if (e->running) {
        uint64_t one = 1;
        if (write(e->stop_fd, &one, sizeof one) < 0) {
            /* the thread also wakes by its poll timeout */
        }
        pthread_join(e->thread, NULL);
        e->running = false;
    }
    if (e->listen_fd >= 0)
        close(e->listen_fd);
    if (e->stop_fd >= 0)
        close(e->stop_fd);
    e->listen_fd = e->stop_fd = -1;
}
