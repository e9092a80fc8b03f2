/* TCP sink in the TAP namespace: see tcp_sink.h. */
#include "hw/wire/tcp_sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hw/wire/wire.h"
#include "lib/log.h"

struct tcp_sink {
    int listen_fd, stop_fd;
    int conn[TCP_SINK_MAX_CONN];
    pthread_t thread;
    uint64_t bytes, accepted; /* atomics */
    uint8_t buf[65536];
};

static void *sink_thread(void *arg)
{
    struct tcp_sink *s = arg;
    for (;;) {
        struct pollfd p[2 + TCP_SINK_MAX_CONN];
        int map[2 + TCP_SINK_MAX_CONN];
        int n = 0;
        p[n++] = (struct pollfd){.fd = s->stop_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (int i = 0; i < TCP_SINK_MAX_CONN; i++)
            if (s->conn[i] >= 0) {
                map[n] = i;
                p[n++] = (struct pollfd){.fd = s->conn[i], .events = POLLIN};
            }
        if (poll(p, (nfds_t)n, 1000) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents & POLLIN) {
            int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            int slot = -1;
            for (int i = 0; i < TCP_SINK_MAX_CONN && c >= 0 && slot < 0; i++)
                if (s->conn[i] < 0)
                    slot = i;
            if (slot >= 0) {
                s->conn[slot] = c;
                __atomic_fetch_add(&s->accepted, 1, __ATOMIC_RELAXED);
            } else if (c >= 0) {
                close(c); /* all slots busy */
            }
        }
        for (int k = 2; k < n; k++) {
            if (!p[k].revents)
                continue;
            int i = map[k];
            ssize_t r = read(s->conn[i], s->buf, sizeof s->buf);
            if (r > 0) {
                __atomic_fetch_add(&s->bytes, (uint64_t)r, __ATOMIC_RELAXED);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(s->conn[i]);
                s->conn[i] = -1;
            }
        }
    }
    return NULL;
}

int tcp_sink__start(struct wire *tap, uint32_t addr, uint16_t port, struct tcp_sink **out)
{
    struct tcp_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (int i = 0; i < TCP_SINK_MAX_CONN; i++)
        s->conn[i] = -1;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    s->listen_fd = wire_tap__socket(tap, AF_INET, SOCK_STREAM, 0);
    int r = s->listen_fd < 0 ? s->listen_fd : (s->stop_fd < 0 ? -errno : 0);
    if (r == 0) {
        int one = 1;
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(port ? port : TCP_SINK_DEFAULT_PORT),
                                .sin_addr.s_addr = htonl(addr ? addr : 0x0A000201u)};
        if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(s->listen_fd, 8) < 0)
            r = -errno;
    }
    if (r == 0)
        r = -pthread_create(&s->thread, NULL, sink_thread, s);
    if (r) {
        log__err("tcp-sink", "cannot listen in the namespace: %s", strerror(-r));
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        if (s->stop_fd >= 0)
            close(s->stop_fd);
        free(s);
        return r;
    }
    *out = s;
    return 0;
}

uint64_t tcp_sink__bytes(struct tcp_sink *s)
{
    return __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
}

uint64_t tcp_sink__connections(struct tcp_sink *s)
{
    return __atomic_load_n(&s->accepted, __ATOMIC_RELAXED);
}

void tcp_sink__stop(struct tcp_sink *s)
{
    if (!s)
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) < 0) {
        /* cannot happen on a fresh eventfd; the poll timeout still ends it */
    }
    pthread_join(s->thread, NULL);
    for (int i = 0; i < TCP_SINK_MAX_CONN; i++)
        if (s->conn[i] >= 0)
            close(s->conn[i]);
    close(s->listen_fd);
    close(s->stop_fd);
    free(s);
}
