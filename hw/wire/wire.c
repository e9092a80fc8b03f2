/* Backend-independent part of a wire end: frame checks, the loss option and
 * statistics. */
#include "hw/wire/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* pcap format (tcpdump's savefile, LINKTYPE_ETHERNET = 1). */
struct pcap_hdr {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};
struct pcap_rec {
    uint32_t sec, usec, caplen, len;
};

int wire__capture(struct wire *w, const char *path)
{
    int fd = -1;
    if (path) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
        struct pcap_hdr h = {0xA1B2C3D4u, 2, 4, 0, 0, WIRE_MAX_BUF, 1};
        if (write(fd, &h, sizeof h) != (ssize_t)sizeof h) {
            close(fd);
            return -EIO;
        }
    }
    pthread_mutex_lock(&w->stats_lock);
    int old = w->capture_fd;
    w->capture_fd = fd;
    pthread_mutex_unlock(&w->stats_lock);
    if (old >= 0)
        close(old);
    return 0;
}

/* Under stats_lock. */
static void capture(struct wire *w, const uint8_t *frame, size_t len)
{
    if (w->capture_fd < 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct pcap_rec r = {(uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), (uint32_t)len,
                         (uint32_t)len};
    if (write(w->capture_fd, &r, sizeof r) != (ssize_t)sizeof r ||
        write(w->capture_fd, frame, len) != (ssize_t)len) {
        /* a debugging aid: a full disk must not stop the wire */
    }
}

int wire__init_common(struct wire *w, const struct wire_ops *ops, unsigned mtu, int poll_fd)
{
    memset(w, 0, sizeof(*w));
    w->capture_fd = -1;
    w->ops = ops;
    w->mtu = mtu ? mtu : WIRE_DEFAULT_MTU;
    w->poll_fd = poll_fd;
    return -pthread_mutex_init(&w->stats_lock, NULL);
}

void wire__fini_common(struct wire *w)
{
    if (w->capture_fd >= 0)
        close(w->capture_fd);
    pthread_mutex_destroy(&w->stats_lock);
}

void wire__set_loss(struct wire *w, const struct wire_loss *loss)
{
    pthread_mutex_lock(&w->stats_lock);
    w->loss = *loss;
    w->loss_state = loss->one_in ? 0 : loss->seed;
    pthread_mutex_unlock(&w->stats_lock);
}

/* Decide (under stats_lock) whether the loss option eats this frame. */
static bool wire__lose(struct wire *w)
{
    if (w->loss.one_in)
        return ++w->loss_state % w->loss.one_in == 0;
    if (w->loss.ppm)
        return splitmix64(&w->loss_state) % 1000000u < w->loss.ppm;
    return false;
}

void wire__count(struct wire *w, uint64_t *counter)
{
    pthread_mutex_lock(&w->stats_lock);
    (*counter)++;
    pthread_mutex_unlock(&w->stats_lock);
}

void wire__count_drop(struct wire *w, uint64_t *counter)
{
    wire__count(w, counter);
}

void wire__count_rx(struct wire *w, size_t len)
{
    pthread_mutex_lock(&w->stats_lock);
    w->stats.rx_frames++;
    w->stats.rx_bytes += len;
    pthread_mutex_unlock(&w->stats_lock);
}

int wire__send(struct wire *w, const uint8_t *frame, size_t len)
{
    if (len < WIRE_HDR_LEN) {
        wire__count_drop(w, &w->stats.drop_short);
        return -EMSGSIZE;
    }
    if (len > (size_t)w->mtu + WIRE_HDR_LEN) {
        wire__count_drop(w, &w->stats.drop_long);
        return -EMSGSIZE;
    }
    pthread_mutex_lock(&w->stats_lock);
    bool lost = wire__lose(w);
    if (lost)
        w->stats.drop_loss++;
    pthread_mutex_unlock(&w->stats_lock);
    if (lost)
        return 0;

    int r = w->ops->xmit(w, frame, len);
    pthread_mutex_lock(&w->stats_lock);
    if (r == 0) {
        w->stats.tx_frames++;
        w->stats.tx_bytes += len;
        capture(w, frame, len);
    } else if (r == -ENOBUFS) {
        w->stats.drop_full++;
    } else {
        w->stats.drop_error++;
    }
    pthread_mutex_unlock(&w->stats_lock);
    return r;
}

int wire__send_gso(struct wire *w, const struct wire_gso *g)
{
    if (!w->ops->xmit_gso)
        return -EOPNOTSUPP;
    pthread_mutex_lock(&w->stats_lock);
    bool framewise = w->loss.one_in || w->loss.ppm || w->capture_fd >= 0;
    pthread_mutex_unlock(&w->stats_lock);
    if (framewise)
        return -EOPNOTSUPP;
    if (!g->nseg || g->seg_len > (size_t)w->mtu + WIRE_HDR_LEN || g->last_len > g->seg_len ||
        g->hdr_len + g->pay_len != (g->nseg - 1) * (g->seg_len - g->hdr_len) + g->last_len) {
        wire__count_drop(w, &w->stats.drop_long);
        return -EMSGSIZE;
    }
    int r = w->ops->xmit_gso(w, g);
    pthread_mutex_lock(&w->stats_lock);
    if (r == 0) {
        w->stats.tx_frames += g->nseg;
        w->stats.tx_bytes += (uint64_t)(g->nseg - 1) * g->seg_len + g->last_len;
    } else if (r == -ENOBUFS) {
        w->stats.drop_full += g->nseg;
    } else if (r != -EOPNOTSUPP) {
        w->stats.drop_error += g->nseg;
    }
    pthread_mutex_unlock(&w->stats_lock);
    return r;
}

int wire__recv(struct wire *w, uint8_t *buf, size_t cap)
{
    int r = w->ops->recv(w, buf, cap);
    if (r > 0 && w->capture_fd >= 0) {
        pthread_mutex_lock(&w->stats_lock);
        capture(w, buf, (size_t)r);
        pthread_mutex_unlock(&w->stats_lock);
    }
    return r;
}

bool wire__pending(struct wire *w)
{
    return w->ops->pending && w->ops->pending(w);
}

int wire__wait(struct wire *w, uint64_t timeout_ns)
{
    if (wire__pending(w))
        return 1;
    struct pollfd p = {.fd = w->poll_fd, .events = POLLIN};
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
                          .tv_nsec = (long)(timeout_ns % 1000000000u)};
    int r = ppoll(&p, 1, &ts, NULL);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    return r > 0;
}

void wire__get_stats(struct wire *w, struct wire_stats *out)
{
    pthread_mutex_lock(&w->stats_lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->stats_lock);
}

void wire__destroy(struct wire *w)
{
    if (w)
        w->ops->destroy(w);
}
