/* netwatch MS: bring the NIC up, send nothing, and count what arrives for
 * MS milliseconds.  Whatever it counts was sent to someone else or is
 * unsolicited: echo replies here answer no request of this guest (the
 * test of issue 16 that frames queued for one VM never reach the next). */
#include "guest/prog/prog.h"

#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/kernel/knet.h"

#define NETWATCH_MAX_MS 60000u

int prog_netwatch__run(struct kernel *k, int argc, char **argv)
{
    uint64_t ms = 0;
    if (argc != 2 || cmdline__parse_u64(argv[1], &ms) || ms == 0 || ms > NETWATCH_MAX_MS) {
        kprintf("usage: netwatch MS (1..%u)\n", NETWATCH_MAX_MS);
        return 2;
    }
    if (knet__up(k))
        return 3;
    uint64_t end = hal__now_ns() + ms * 1000000ull;
    while (hal__now_ns() < end) {
        knet__poll(k);
        knet__wait(k, end);
    }
    const struct net_stats *s = net__stats(&k->net->stack);
    kprintf("RESULT netwatch ms=%llu rx_frames=%llu icmp_echo_rep_in=%llu icmp_echo_req_in=%llu arp_rep_in=%llu "
            "tcp_segs_in=%llu udp_in=%llu\n",
            (unsigned long long)ms, (unsigned long long)s->rx_frames, (unsigned long long)s->icmp_echo_rep_in,
            (unsigned long long)s->icmp_echo_req_in, (unsigned long long)s->arp_rep_in,
            (unsigned long long)s->tcp_segs_in, (unsigned long long)s->udp_in);
    return 0;
}
