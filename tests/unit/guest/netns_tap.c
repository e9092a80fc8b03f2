/* Test-only private netns + TAP helper (see netns_tap.h). */
#include "netns_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

static int if_up(int sock, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
        return -errno;
    return 0;
}

static int if_addr(int sock, const char *name, unsigned long req, uint32_t v)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(v)};
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (ioctl(sock, req, &ifr) < 0)
        return -errno;
    return 0;
}

int netns_tap__enter(struct netns_tap *t, const char *ifname, uint32_t ip, uint32_t mask)
{
    int err, sock = -1;
    memset(t, 0, sizeof *t);
    t->tap_fd = -1;
    t->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (t->orig_ns < 0)
        return -errno;
    if (unshare(CLONE_NEWNET) < 0) {
        err = -errno;
        close(t->orig_ns);
        return err;
    }
    /* From here on everything happens inside the private namespace. */
    t->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->tap_fd < 0)
        goto fail;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(t->tap_fd, TUNSETIFF, &ifr) < 0)
        goto fail;
    memcpy(t->ifname, ifr.ifr_name, sizeof t->ifname - 1);
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        goto fail;
    if ((err = if_up(sock, "lo")) || (err = if_addr(sock, t->ifname, SIOCSIFADDR, ip)) ||
        (err = if_addr(sock, t->ifname, SIOCSIFNETMASK, mask)) ||
        (err = if_up(sock, t->ifname))) {
        errno = -err;
        goto fail;
    }
    close(sock);
    return 0;
fail:
    err = -errno;
    if (sock >= 0)
        close(sock);
    netns_tap__leave(t);
    return err;
}

void netns_tap__leave(struct netns_tap *t)
{
    if (t->tap_fd >= 0)
        close(t->tap_fd);
    t->tap_fd = -1;
    if (t->orig_ns >= 0) {
        if (setns(t->orig_ns, CLONE_NEWNET) < 0) {
            /* Cannot happen for our own saved fd; nothing sane to do. */
        }
        close(t->orig_ns);
    }
    t->orig_ns = -1;
}
