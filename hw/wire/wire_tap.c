/* TAP wire in a private network namespace.
 *
 * A helper thread unshares its network namespace (namespaces are per thread,
 * so the rest of the process and the host stay where they are), opens
 * /dev/net/tun there, names and addresses the TAP with ioctls on a socket of
 * that namespace, brings it and lo up, and hands back the TAP fd and an fd of
 * the namespace.  Nothing is bind-mounted: the namespace lives exactly as
 * long as those fds (and sockets created in it), so it disappears when the
 * wire is destroyed or the process exits.  No host interface, route or
 * firewall rule is touched.
 *
 * The TAP carries a struct virtio_net_hdr before every frame (IFF_VNET_HDR,
 * the 12-byte virtio 1.x layout of drivers/virtio/virtio_regs.h; tun skips
 * num_buffers) so a TSO burst can be written as ONE TCPv4 GSO super-frame,
 * as vhost-net writes a guest's.  Direction matters (drivers/net/tun.c): a
 * write is tun_get_user, which takes a GSO / NEEDS_CSUM header whatever the
 * offload flags; TUNSETOFFLOAD (set_offload) sets the TAP netdev's own
 * transmit features (TUN_F_CSUM -> NETIF_F_HW_CSUM, TUN_F_TSO4 ->
 * NETIF_F_TSO), i.e. what Linux may hand to a *reader*.  With both set
 * (the default at the 1500-byte MTU), Linux's TCP hands us up to 64 KiB in
 * one read, unsegmented and with a partial checksum, as it would hand a NIC
 * with TSO; this end cuts it into the MTU frames with complete checksums
 * that the far NIC would have put on the wire (drivers/virtio/vnet_offload,
 * the same checks and segmenter as virtio-net's transmit side), and
 * returns them one per recv.  A malformed header drops the read, counted.
 * With rx_offload_off, TUNSETOFFLOAD 0: Linux segments and checksums before
 * a frame reaches our read, whose header is then all zero (checked). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "drivers/virtio/vnet_offload.h"
#include "hw/wire/wire.h"
#include "lib/log.h"

struct tap_end {
    struct wire w;      /* first */
    int tap_fd;
    int ns_fd;
    char ifname[IFNAMSIZ];
    /* the super-frame being cut up (receive thread only); NULL: receive
     * offloads off, Linux segments before our reads */
    uint8_t *super;     /* VNET_TX_FRAME_MAX bytes */
    size_t super_len;
    struct vnet_tx_plan plan;
    unsigned next_seg, nseg;
};

struct tap_setup {
    const struct wire_tap_config *cfg;
    bool rx_offload;
    char ifname[IFNAMSIZ];
    int tap_fd, ns_fd;
    int err;
    const char *what;
};

static int if_set_flags_up(int s, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return -errno;
    return 0;
}

static void write_sysctl(const char *path, const char *val)
{
    /* Best effort: keeps IPv6 chatter (router solicitations, MLD) off the
     * wire so tests see only what they provoke. */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, val, strlen(val)) < 0) {
        /* not fatal */
    }
    close(fd);
}

/* Runs on the helper thread: everything here happens in the new namespace. */
static void *tap_setup_thread(void *arg)
{
    struct tap_setup *s = arg;
    const struct wire_tap_config *c = s->cfg;
    int sock = -1;

    s->what = "unshare(CLONE_NEWNET)";
    if (unshare(CLONE_NEWNET) < 0)
        goto fail;
    s->what = "opening the namespace";
    s->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (s->ns_fd < 0)
        goto fail;
    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");

    s->what = "opening /dev/net/tun";
    s->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (s->tap_fd < 0)
        goto fail;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", s->ifname);
    s->what = "TUNSETIFF";
    if (ioctl(s->tap_fd, TUNSETIFF, &ifr) < 0)
        goto fail;
    int hsz = (int)sizeof(struct virtio_net_hdr);
    s->what = "TUNSETVNETHDRSZ";
    if (ioctl(s->tap_fd, TUNSETVNETHDRSZ, &hsz) < 0)
        goto fail;
    s->what = "TUNSETOFFLOAD"; /* what Linux may hand our reads (above) */
    if (ioctl(s->tap_fd, TUNSETOFFLOAD, s->rx_offload ? (unsigned long)(TUN_F_CSUM | TUN_F_TSO4) : 0UL) < 0)
        goto fail;
    snprintf(s->ifname, IFNAMSIZ, "%s", ifr.ifr_name);

    s->what = "socket";
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        goto fail;

    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", s->ifname);
    ifr.ifr_mtu = (int)(c->mtu ? c->mtu : WIRE_DEFAULT_MTU);
    s->what = "SIOCSIFMTU";
    if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
        goto fail;

    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    memset(&ifr.ifr_addr, 0, sizeof ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(c->addr ? c->addr : 0x0A000201u);
    s->what = "SIOCSIFADDR";
    if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
        goto fail;
    unsigned plen = c->prefix_len ? c->prefix_len : 24;
    memset(&ifr.ifr_addr, 0, sizeof ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(plen >= 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> plen));
    s->what = "SIOCSIFNETMASK";
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
        goto fail;

    s->what = "bringing the TAP up";
    int r = if_set_flags_up(sock, s->ifname);
    if (r == 0) {
        s->what = "bringing lo up";
        r = if_set_flags_up(sock, "lo");
    }
    close(sock);
    if (r) {
        errno = -r;
        sock = -1;
        goto fail;
    }
    return NULL;
fail:
    s->err = errno ? errno : EIO;
    if (sock >= 0)
        close(sock);
    return NULL;
}

/* Host-endian virtio_net_hdr fields: a TAP without TUNSETVNETLE/BE
 * uses the host's byte order (virtio 0.9 legacy header). */
static int tap__writev(struct tap_end *t, const struct virtio_net_hdr *h, const uint8_t *a,
                       size_t alen, const uint8_t *b, size_t blen)
{
    struct iovec iov[3] = {{(void *)h, sizeof *h}, {(void *)a, alen}, {(void *)b, blen}};
    ssize_t n = writev(t->tap_fd, iov, blen ? 3 : 2);
    if (n == (ssize_t)(sizeof *h + alen + blen))
        return 0;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
        return -ENOBUFS;
    return -EIO;
}

static int tap__xmit(struct wire *w, const uint8_t *frame, size_t len)
{
    static const struct virtio_net_hdr none = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
    return tap__writev((struct tap_end *)w, &none, frame, len, NULL, 0);
}

static int tap__xmit_gso(struct wire *w, const struct wire_gso *g)
{
    struct virtio_net_hdr h = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = g->nseg > 1 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_NONE,
        .hdr_len = (uint16_t)g->hdr_len,
        .gso_size = g->nseg > 1 ? g->mss : 0,
        .csum_start = g->csum_start,
        .csum_offset = g->csum_offset,
    };
    return tap__writev((struct tap_end *)w, &h, g->hdr, g->hdr_len, g->pay, g->pay_len);
}

/* A frame for the caller: padded to the 60-byte minimum as the sending
 * MAC would (Linux hands over unpadded frames), counted. */
static int tap__deliver(struct wire *w, const uint8_t *frame, size_t n, uint8_t *buf, size_t cap)
{
    size_t len = n < WIRE_MIN_FRAME ? WIRE_MIN_FRAME : n;
    if (len > cap) {
        wire__count_drop(w, &w->stats.drop_long);
        return -EMSGSIZE;
    }
    if (frame != buf)
        memcpy(buf, frame, n);
    memset(buf + n, 0, len - n);
    wire__count_rx(w, len);
    return (int)len;
}

static bool tap__pending(struct wire *w)
{
    struct tap_end *t = (struct tap_end *)w;
    return t->next_seg < t->nseg;
}

/* The next MTU frame of the super-frame being cut up. */
static int tap__next_seg(struct tap_end *t, uint8_t *buf, size_t cap)
{
    if (cap < VNET_SEG_MAX) {
        wire__count_drop(&t->w, &t->w.stats.drop_long);
        t->next_seg++;
        return -EMSGSIZE;
    }
    size_t n = vnet_offload__segment_one(t->super, t->super_len, &t->plan, t->next_seg++, buf);
    return tap__deliver(&t->w, buf, n, buf, cap);
}

/* A read with offloads on: a plain frame, a partial checksum to finish, or
 * a super-frame to cut up (its first frame returned now).  A frame that
 * fits lands straight in the caller's buffer, as without offloads; only a
 * longer one is made whole in the end's own buffer (its first part moved
 * there: ~9 KB per up to 64 KiB). */
static int tap__recv_offload(struct tap_end *t, uint8_t *buf, size_t cap)
{
    struct virtio_net_hdr h;
    bool direct = cap >= WIRE_MAX_BUF;
    struct iovec iov[3] = {{&h, sizeof h},
                           {direct ? buf : t->super, direct ? WIRE_MAX_BUF : VNET_TX_FRAME_MAX},
                           {t->super + WIRE_MAX_BUF, VNET_TX_FRAME_MAX - WIRE_MAX_BUF}};
    ssize_t n = readv(t->tap_fd, iov, direct ? 3 : 2);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    n -= (ssize_t)sizeof h;
    if (n < (ssize_t)WIRE_HDR_LEN) {
        wire__count_drop(&t->w, &t->w.stats.drop_short);
        return 0;
    }
    uint8_t *frame = direct ? buf : t->super;
    if (direct && n > (ssize_t)WIRE_MAX_BUF) {
        memcpy(t->super, buf, WIRE_MAX_BUF);
        frame = t->super;
    }
    if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE && !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return tap__deliver(&t->w, frame, (size_t)n, buf, cap);
    const uint64_t offered = 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4;
    struct vnet_tx_plan plan;
    if (vnet_offload__check(&h, offered, frame, (size_t)n, &plan) != VNET_TX_OK) {
        wire__count_drop(&t->w, &t->w.stats.drop_error);
        return 0;
    }
    if (!plan.gso) {
        vnet_offload__finish_csum(frame, (size_t)n, &plan);
        wire__count(&t->w, &t->w.stats.rx_csum_done);
        return tap__deliver(&t->w, frame, (size_t)n, buf, cap);
    }
    if (frame != t->super)
        memcpy(t->super, frame, (size_t)n); /* segments are built in buf */
    t->plan = plan;
    t->super_len = (size_t)n;
    t->next_seg = 0;
    t->nseg = (unsigned)(((size_t)n - plan.hdr_len + plan.mss - 1) / plan.mss);
    wire__count(&t->w, &t->w.stats.rx_gso_reads);
    return tap__next_seg(t, buf, cap);
}

static int tap__recv(struct wire *w, uint8_t *buf, size_t cap)
{
    struct tap_end *t = (struct tap_end *)w;
    if (tap__pending(w))
        return tap__next_seg(t, buf, cap);
    if (t->super)
        return tap__recv_offload(t, buf, cap);
    /* Straight into the caller's buffer when any frame fits (the NIC's
     * receive loop), else through a bounce buffer so a long one is known;
     * the vnet header (IFF_VNET_HDR) apart. */
    struct virtio_net_hdr h;
    uint8_t bounce[WIRE_MAX_BUF];
    uint8_t *frame = cap >= WIRE_MAX_BUF ? buf : bounce;
    struct iovec iov[2] = {{&h, sizeof h}, {frame, WIRE_MAX_BUF}};
    ssize_t n = readv(t->tap_fd, iov, 2);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    n -= (ssize_t)sizeof h;
    if (n < (ssize_t)WIRE_HDR_LEN) {
        wire__count_drop(w, &w->stats.drop_short);
        return 0;
    }
    /* With no offload set Linux never sends GSO or a partial checksum;
     * should one come, it is not a frame a wire could carry. */
    if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE || (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        wire__count_drop(w, &w->stats.drop_error);
        return 0;
    }
    return tap__deliver(w, frame, (size_t)n, buf, cap);
}

static void tap__destroy(struct wire *w)
{
    struct tap_end *t = (struct tap_end *)w;
    close(t->tap_fd);
    close(t->ns_fd);
    wire__fini_common(w);
    free(t->super);
    free(t);
}

static const struct wire_ops tap_ops = {
    .xmit = tap__xmit,
    .recv = tap__recv,
    .destroy = tap__destroy,
    .xmit_gso = tap__xmit_gso,
    .pending = tap__pending,
};

bool wire_tap__rx_offload_off_env(void)
{
    const char *v = getenv("IOVIRT_TAP_RX_OFFLOAD");
    return v && !strcmp(v, "off");
}

int wire_tap__create(const struct wire_tap_config *cfg, struct wire **out)
{
    static const struct wire_tap_config defaults;
    if (!cfg)
        cfg = &defaults;
    const char *name = cfg->ifname ? cfg->ifname : "iovirt0";
    if (strlen(name) >= IFNAMSIZ || (cfg->prefix_len > 32) ||
        (cfg->mtu && (cfg->mtu < 68 || cfg->mtu > 9000))) {
        log__err("wire", "tap: bad config (name '%s', prefix /%u, mtu %u)", name,
                 cfg->prefix_len, cfg->mtu);
        return -EINVAL;
    }
    /* The segmenter makes frames of the 1500-byte MTU (VNET_SEG_MAX). */
    bool rx_offload = !cfg->rx_offload_off && (!cfg->mtu || cfg->mtu == WIRE_DEFAULT_MTU);
    struct tap_setup s = {.cfg = cfg, .rx_offload = rx_offload, .tap_fd = -1, .ns_fd = -1};
    snprintf(s.ifname, IFNAMSIZ, "%s", name);
    pthread_t th;
    int r = pthread_create(&th, NULL, tap_setup_thread, &s);
    if (r) {
        log__err("wire", "tap: helper thread: %s", strerror(r));
        return -r;
    }
    pthread_join(th, NULL);
    if (s.err) {
        log__err("wire", "tap: %s: %s%s", s.what, strerror(s.err),
                 s.err == EPERM ? " (needs root: CAP_SYS_ADMIN + CAP_NET_ADMIN)" : "");
        if (s.tap_fd >= 0)
            close(s.tap_fd);
        if (s.ns_fd >= 0)
            close(s.ns_fd);
        return -s.err;
    }
    struct tap_end *t = calloc(1, sizeof(*t));
    uint8_t *super = rx_offload ? malloc(VNET_TX_FRAME_MAX) : NULL;
    if (!t || (rx_offload && !super) || wire__init_common(&t->w, &tap_ops, cfg->mtu, s.tap_fd) != 0) {
        free(t);
        free(super);
        close(s.tap_fd);
        close(s.ns_fd);
        return -ENOMEM;
    }
    t->tap_fd = s.tap_fd;
    t->ns_fd = s.ns_fd;
    t->super = super;
    snprintf(t->ifname, IFNAMSIZ, "%s", s.ifname);
    *out = &t->w;
    return 0;
}

struct ns_call {
    int ns_fd;
    int (*fn)(void *);
    void *arg;
    int ret;
};

static void *ns_call_thread(void *arg)
{
    struct ns_call *c = arg;
    if (setns(c->ns_fd, CLONE_NEWNET) < 0) {
        c->ret = -errno;
        return NULL;
    }
    c->ret = c->fn(c->arg);
    return NULL;
}

static bool is_tap(struct wire *w)
{
    return w && w->ops == &tap_ops;
}

int wire_tap__run_in_ns(struct wire *w, int (*fn)(void *arg), void *arg)
{
    if (!is_tap(w))
        return -EINVAL;
    struct ns_call c = {.ns_fd = ((struct tap_end *)w)->ns_fd, .fn = fn, .arg = arg};
    pthread_t th;
    int r = pthread_create(&th, NULL, ns_call_thread, &c);
    if (r)
        return -r;
    pthread_join(th, NULL);
    return c.ret;
}

struct sock_args {
    int domain, type, protocol;
};

static int make_socket(void *arg)
{
    struct sock_args *a = arg;
    int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
    return fd < 0 ? -errno : fd;
}

int wire_tap__socket(struct wire *w, int domain, int type, int protocol)
{
    struct sock_args a = {domain, type, protocol};
    return wire_tap__run_in_ns(w, make_socket, &a);
}

int wire_tap__netns_fd(struct wire *w)
{
    return is_tap(w) ? ((struct tap_end *)w)->ns_fd : -EINVAL;
}

const char *wire_tap__ifname(struct wire *w)
{
    return is_tap(w) ? ((struct tap_end *)w)->ifname : NULL;
}
