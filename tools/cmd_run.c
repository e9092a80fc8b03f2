/* iovirt run: boot the guest kernel in a VM with the chosen NIC. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_os.h"
#include "hv/vm.h"
#include "hw/platform.h"
#include "hw/wire/wire_sink.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/tsc.h"
#include "tools/cmd.h"
#include "tools/guest_path.h"

static void run__usage(FILE *out)
{
    fprintf(out,
            "usage: iovirt run [options] -- GUEST_ARGS...\n"
            "\n"
            "Boot the guest kernel in a VM (process backend) and run the guest program\n"
            "named by GUEST_ARGS (e.g. 'hello', 'ping 10.0.2.1', 'stream 10.0.2.1 5001 16384 2').\n"
            "\n"
            "options:\n"
            "  --nic MODE        none | emulated | virtio | assigned (default none)\n"
            "  --mem SIZE        guest RAM, multiple of 2M (default 64M)\n"
            "  --host-mem SIZE   host physical memory of the modelled machine (default 1G)\n"
            "  --line-rate RATE  physical NIC line rate: 1G, 10G, unlimited, ... (default 1G)\n"
            "  --kernel PATH     guest kernel ELF (default: next to this binary)\n"
            "  --sink-port PORT  TCP/UDP sink port on the Linux side, 10.0.2.1 (default 5001)\n"
            "  --stats           print exit counts by reason and device at the end\n"
            "  -h, --help        this text\n"
            "\n"
            "Exit status: the guest's power-off status; 2 for bad arguments or a VM that\n"
            "cannot start; 3 if the guest faulted or died.\n");
}

struct run_opts {
    enum hv_nic_mode nic;
    uint64_t mem, host_mem, line_rate;
    const char *kernel;
    int stats;
    unsigned sink_port;
    char cmdline[1024];
};

static int parse_nic(const char *s, enum hv_nic_mode *out)
{
    static const struct { const char *name; enum hv_nic_mode m; } modes[] = {
        {"none", HV_NIC_NONE}, {"emulated", HV_NIC_EMULATED},
        {"virtio", HV_NIC_VIRTIO}, {"assigned", HV_NIC_ASSIGNED},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(s, modes[i].name)) {
            *out = modes[i].m;
            return 0;
        }
    return -EINVAL;
}

static int run__parse(int argc, char **argv, struct run_opts *o)
{
    static const struct option longopts[] = {
        {"nic", required_argument, NULL, 'n'},   {"mem", required_argument, NULL, 'm'},
        {"host-mem", required_argument, NULL, 'H'}, {"line-rate", required_argument, NULL, 'r'},
        {"kernel", required_argument, NULL, 'k'}, {"stats", no_argument, NULL, 's'},
        {"sink-port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (struct run_opts){.nic = HV_NIC_NONE, .mem = 64ull << 20, .host_mem = 1ull << 30,
                           .line_rate = 1000000000ull, .sink_port = 5001};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_nic(optarg, &o->nic)) {
                fprintf(stderr, "iovirt run: unknown NIC mode '%s' (none, emulated, virtio, assigned)\n", optarg);
                return -1;
            }
            break;
        case 'm':
            if (parse__size(optarg, &o->mem) || o->mem == 0 || o->mem % (2u << 20) || o->mem > HV_MAX_RAM) {
                fprintf(stderr, "iovirt run: --mem '%s' must be a multiple of 2M up to %lluM\n", optarg,
                        (unsigned long long)(HV_MAX_RAM >> 20));
                return -1;
            }
            break;
        case 'H':
            if (parse__size(optarg, &o->host_mem) || o->host_mem < (16u << 20) || o->host_mem > (64ull << 30)) {
                fprintf(stderr, "iovirt run: --host-mem '%s' must be between 16M and 64G\n", optarg);
                return -1;
            }
            break;
        case 'r':
            if (parse__rate(optarg, &o->line_rate)) {
                fprintf(stderr, "iovirt run: --line-rate '%s' is not a rate (1G, 10G, 100M, unlimited)\n", optarg);
                return -1;
            }
            break;
        case 'k': o->kernel = optarg; break;
        case 'p': {
            uint64_t port;
            if (parse__u64(optarg, &port) || port == 0 || port > 65535) {
                fprintf(stderr, "iovirt run: --sink-port '%s' is not a port number\n", optarg);
                return -1;
            }
            o->sink_port = (unsigned)port;
            break;
        }
        case 's': o->stats = 1; break;
        case 'h': run__usage(stdout); return 1;
        default:
            fprintf(stderr, "iovirt run: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc && !strcmp(argv[optind - 1], "--")) {
        /* getopt consumed "--": the rest is the guest command line */
    }
    size_t used = 0;
    for (int i = optind; i < argc; i++) {
        int n = snprintf(o->cmdline + used, sizeof o->cmdline - used, "%s%s", used ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof o->cmdline - used) {
            fprintf(stderr, "iovirt run: guest command line longer than %zu bytes\n", sizeof o->cmdline - 1);
            return -1;
        }
        used += (size_t)n;
    }
    if (!used) {
        fprintf(stderr, "iovirt run: no guest program given (e.g. 'iovirt run -- hello')\n");
        return -1;
    }
    if (o->mem + (8u << 20) > o->host_mem) {
        fprintf(stderr, "iovirt run: --mem does not fit in --host-mem\n");
        return -1;
    }
    return 0;
}

/* The VM a signal should stop (the one this command runs). */
static struct hv_vm *run_vm;

static void run__on_signal(int sig)
{
    (void)sig;
    if (run_vm)
        hv_vm__stop(run_vm);
}

static int run__main(int argc, char **argv)
{
    struct run_opts o;
    int r = run__parse(argc, argv, &o);
    if (r)
        return r > 0 ? 0 : IOVIRT_EXIT_USAGE;
    char kernel[PATH_MAX];
    if (!o.kernel) {
        if (tools__default_guest(kernel, sizeof kernel)) {
            fprintf(stderr, "iovirt run: cannot locate the guest kernel; use --kernel\n");
            return IOVIRT_EXIT_USAGE;
        }
        o.kernel = kernel;
    }
    if (o.nic == HV_NIC_ASSIGNED) {
        fprintf(stderr, "iovirt run: --nic assigned is not available yet\n");
        return IOVIRT_EXIT_USAGE;
    }
    struct platform plat;
    struct platform_config pc = {.mem_bytes = o.host_mem, .line_rate = o.line_rate,
                                 .wire = PLATFORM_WIRE_TAP};
    if (platform__create(&plat, &pc))
        return IOVIRT_EXIT_USAGE;
    struct host_os host;
    if (host_os__boot(&host, &plat)) {
        platform__destroy(&plat);
        return IOVIRT_EXIT_USAGE;
    }
    if (o.nic != HV_NIC_NONE && host_os__nic_up(&host)) {
        host_os__shutdown(&host);
        platform__destroy(&plat);
        return IOVIRT_EXIT_USAGE;
    }
    /* The Linux side of the wire runs a TCP/UDP sink for stream programs. */
    struct wire_sink sink;
    bool have_sink = wire_sink__start(&sink, plat.wire, o.sink_port) == 0;
    if (!have_sink)
        fprintf(stderr, "iovirt run: note: no sink on port %u in the namespace\n", o.sink_port);
    struct hv_vm vm;
    struct hv_vm_config cfg = {.name = "vm0", .pm = &plat.pm, .mem_bytes = o.mem, .kernel_path = o.kernel,
                               .cmdline = o.cmdline, .nic = o.nic, .bridge = &host.bridge,
                               .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57},
                               .tsc_hz = tsc__calibrate_hz()};
    if (hv_vm__create(&vm, &cfg)) {
        if (have_sink)
            wire_sink__stop(&sink);
        host_os__shutdown(&host);
        platform__destroy(&plat);
        return IOVIRT_EXIT_USAGE;
    }
    run_vm = &vm;
    struct sigaction sa = {.sa_handler = run__on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    r = hv_vm__run(&vm);
    int status = r == 0 ? vm.exit_status : 3;
    if (r == -EINTR)
        fprintf(stderr, "iovirt run: stopped by signal\n");
    run_vm = NULL;
    if (o.stats)
        hv_vm__print_stats(&vm, stderr);
    hv_vm__destroy(&vm);
    if (have_sink) {
        wire_sink__wait_closed(&sink, sink.connections, 2000);
        if (sink.connections || sink.udp_datagrams)
            printf("SINK tcp_bytes=%llu connections=%llu udp_bytes=%llu udp_datagrams=%llu\n",
                   (unsigned long long)sink.tcp_bytes, (unsigned long long)sink.connections,
                   (unsigned long long)sink.udp_bytes, (unsigned long long)sink.udp_datagrams);
        wire_sink__stop(&sink);
    }
    host_os__shutdown(&host);
    platform__destroy(&plat);
    return status;
}

IOVIRT_COMMAND(run_cmd, {.name = "run", .summary = "boot the guest kernel in a VM (--nic none|emulated|virtio|assigned)",
                         .run = run__main})
