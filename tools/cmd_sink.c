/* `iovirt sink`: the Linux-side TCP/UDP sink (testbed/wire_sink.c) on its
 * own, in the caller's network namespace, for guests whose wire is not
 * ours: scripts/bare-qemu runs it beside QEMU, whose user networking hands
 * the guest's connections to 10.0.2.1 to this namespace's loopback.  It
 * counts what the receiving sockets got, never the sender's claim. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/parse.h"
#include "testbed/wire_sink.h"
#include "tools/cmd.h"

static volatile sig_atomic_t sink_stop;

static void sink__on_signal(int sig)
{
    (void)sig;
    sink_stop = 1;
}

static void sink__usage(FILE *out)
{
    fprintf(out,
            "usage: iovirt sink [--port PORT] [--timeout SECS]\n"
            "\n"
            "Listen on TCP and UDP PORT (default 5001) on every address of this network\n"
            "namespace and count the bytes received.  Prints 'SINK listening port PORT'\n"
            "once bound; on SIGTERM/SIGINT (or after SECS, default: none) waits up to 2 s\n"
            "for open connections to close, then prints\n"
            "  SINK tcp_bytes=N udp_bytes=N udp_datagrams=N connections=N closed=N\n"
            "and exits 0 (1 if it could not listen, 2 for bad usage).\n");
}

static void sink__nap_ms(unsigned ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

static int cmd_sink(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t port = 5001, timeout_s = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse__u64(optarg, &port) || port == 0 || port > 65535) {
                fprintf(stderr, "iovirt sink: --port wants 1..65535, not '%s'\n", optarg);
                return IOVIRT_EXIT_USAGE;
            }
            break;
        case 't':
            if (parse__u64(optarg, &timeout_s)) {
                fprintf(stderr, "iovirt sink: --timeout wants seconds, not '%s'\n", optarg);
                return IOVIRT_EXIT_USAGE;
            }
            break;
        case 'h':
            sink__usage(stdout);
            return 0;
        default:
            sink__usage(stderr);
            return IOVIRT_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "iovirt sink: unexpected argument '%s'\n", argv[optind]);
        return IOVIRT_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = sink__on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static struct wire_sink s;
    int rc = wire_sink__start(&s, NULL, (uint16_t)port);
    if (rc) {
        fprintf(stderr, "iovirt sink: cannot listen on port %u: %s\n", (unsigned)port, strerror(-rc));
        return 1;
    }
    printf("SINK listening port %u\n", (unsigned)port);
    fflush(stdout);
    for (uint64_t ms = 0; !sink_stop && (!timeout_s || ms < timeout_s * 1000); ms += 20)
        sink__nap_ms(20);
    /* A sender that just went away: its close may still be in flight. */
    (void)wire_sink__wait_closed(&s, s.connections, 2000);
    wire_sink__stop(&s);
    printf("SINK tcp_bytes=%llu udp_bytes=%llu udp_datagrams=%llu connections=%llu closed=%llu\n",
           (unsigned long long)s.tcp_bytes, (unsigned long long)s.udp_bytes,
           (unsigned long long)s.udp_datagrams, (unsigned long long)s.connections,
           (unsigned long long)s.closed);
    return 0;
}

IOVIRT_COMMAND(sink_cmd, {
    .name = "sink",
    .summary = "TCP/UDP sink in this network namespace (counts received bytes)",
    .run = cmd_sink,
})
