/* Test-only: move the calling thread into a fresh private network
 * namespace and create a TAP device there with an IPv4 address, so a test
 * can talk to the real Linux stack without touching any host interface.
 * (hw/wire builds the product's TAP wire; this is the tests' own copy.) */
#ifndef IOVIRT_TESTS_NETNS_TAP_H
#define IOVIRT_TESTS_NETNS_TAP_H

#include <stdint.h>

struct netns_tap {
    int orig_ns;        /* fd of the namespace we came from */
    int tap_fd;         /* non-blocking, IFF_TAP | IFF_NO_PI */
    char ifname[16];
};

/* 0 or -errno.  ip/mask are host-order IPv4 (the Linux side's address). */
int netns_tap__enter(struct netns_tap *t, const char *ifname, uint32_t ip, uint32_t mask);
/* Close the TAP and return to the original namespace (which drops the
 * private one once nothing else holds it). */
void netns_tap__leave(struct netns_tap *t);

#endif
