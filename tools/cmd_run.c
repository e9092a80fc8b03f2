/* iovirt run: boot the guest kernel in a VM with the chosen NIC. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host_os.h"
#include "testbed/testbed.h"
#include "hv/assign.h"
#include "hv/virtio/virtio_net.h"
#include "hv/vm.h"
#include "hw/platform.h"
#include "testbed/wire_sink.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/tsc.h"
#include "tools/cmd.h"
#include "tools/run_confine.h"
#include "lib/guest_path.h"
#include "vcpu/guest_load.h"
#include "vcpu/vcpu.h"

static void run__usage(FILE *out, bool native)
{
    if (native) {
        fprintf(out,
                "usage: iovirt native [options] -- GUEST_ARGS...\n"
                "\n"
                "Boot the guest kernel's native port as the machine's own OS (no hypervisor,\n"
                "no exits): identity RAM, register accesses as direct bus calls into the\n"
                "devices, the physical NIC with pass-through DMA, its MSIs delivered to the\n"
                "kernel's IDT as hardware interrupts.  The baseline.\n"
                "Options as for 'iovirt run' except --nic; --kernel names the native ELF\n"
                "(default: guest/iovirt-guest-native.elf next to this binary); --stats prints\n"
                "bus accesses and interrupts.\n");
        return;
    }
    fprintf(out,
            "usage: iovirt run [options] -- GUEST_ARGS...\n"
            "       iovirt run --kernel bzImage [--initrd FILE] [--append CMDLINE] [options]\n"
            "                  [-- INIT_ARGS...]\n"
            "\n"
            "Boot the guest kernel in a VM and run the guest program\n"
            "named by GUEST_ARGS (e.g. 'hello', 'ping 10.0.2.1', 'stream 10.0.2.1 5001 16384 2').\n"
            "A Linux bzImage boots on the kvm backend with the 64-bit boot protocol; its\n"
            "command line is CMDLINE, then ' -- INIT_ARGS' when given (Linux passes what\n"
            "follows '--' to init as arguments).\n"
            "\n"
            "options:\n"
            "  --nic MODE        none | emulated | virtio | assigned (default none)\n"            "  --backend NAME    the vCPU backend: kvm (hardware KVM, /dev/kvm; boots the bare\n"
            "                    port's PVH kernel, guest/iovirt-guest-bare.elf) or proc (a\n"
            "                    sandboxed process; guest/iovirt-guest.elf).  Default: the\n"
            "                    kernel's kind with --kernel, else kvm where it works and the\n"
            "                    PVH kernel is built, else proc.  The first line on stderr\n"
            "                    names the backend and why\n"
            "  --mem SIZE        guest RAM, multiple of 2M (default 64M)\n"
            "  --host-mem SIZE   host physical memory of the modelled machine (default 1G)\n"
            "  --line-rate RATE  physical NIC line rate: 1G, 10G, unlimited, ... (default 1G)\n"
            "  --kernel PATH     guest kernel ELF (default: next to this binary), or a Linux\n"
            "                    bzImage (needs hardware KVM and --mem large enough for its\n"
            "                    init_size above 16M, e.g. 256M)\n"
            "  --initrd FILE     a bzImage's initial RAM disk (at most 1G)\n"
            "  --append CMDLINE  a bzImage's kernel command line (e.g. 'console=ttyS0')\n"
            "  --assign SOURCE   with --nic assigned, the physical function to assign:\n"
            "                    model (default: the modelled machine's e1000 behind its\n"
            "                    modelled VT-d) or vfio:BDF (a real PCI function of this\n"
            "                    host bound to vfio-pci, confined by the real IOMMU)\n"
            "  --sink-port PORT  TCP/UDP sink port on the Linux side, 10.0.2.1 (default 5001)\n"
            "  --peer PEER       the Linux side of the wire beside the sink: sink (only the\n"
            "                    sink, default); iperf3 (also Debian's 'iperf3 -s -1 --json'\n"
            "                    in the wire's namespace, for the guest's 'iperf3 -c 10.0.2.1');\n"
            "                    iperf3-client (Debian's 'iperf3 -c 10.0.2.15 --json' there,\n"
            "                    started when the guest's 'iperf3 -s' prints 'Server listening\n"
            "                    on').  iperf3's own count is printed at the end as 'PEER\n"
            "                    iperf3[-client] bytes= seconds= mbps= retransmits= reverse='\n"
            "  --peer-port PORT  iperf3's port (default 5201)\n"
            "  --peer-args ARGS  iperf3-client: its test, '-t SECS' (default 10), '-l LEN[K|M]',\n"
            "                    '-R' (e.g. --peer-args '-t 2 -R')\n"
            "  --stats           print exit counts by reason and device at the end\n"
            "  --virtio-off LIST with --nic virtio, features the device does not offer:\n"
            "                    comma list of csum, guest-csum, tso4, guest-tso4, mrg-rxbuf,\n"
            "                    event-idx, offloads (the first five) or none (default: the\n"
            "                    environment's IOVIRT_VIRTIO_OFF, else none).  The guest's own\n"
            "                    switch is its command line's vnet= (docs/virtio.md)\n"
            "  --no-confine      kvm backend: do not confine this process after set-up (by\n"
            "                    default every thread then runs under a seccomp allow-list\n"
            "                    without capabilities; docs/security.md).  For debugging\n"
            "  --no-interrupt-remapping\n"
            "                    boot the host's VT-d without interrupt remapping (as Linux\n"
            "                    intremap=off): every device interrupt request is delivered\n"
            "                    as its address/data encode\n"
            "  --allow-unsafe-interrupts\n"
            "                    assign the NIC even without interrupt remapping.  Unsafe:\n"
            "                    the guest can then raise any host interrupt vector by a\n"
            "                    DMA write into the interrupt window 0xFEExxxxx\n"
            "  -h, --help        this text\n"
            "\n"
            "Exit status: the guest's power-off status; 0 when the guest reset the machine\n"
            "(a reboot: the i8042's pulse-reset command 0xFE, as Linux's reboot=k, or port\n"
            "0x92 bit 0; one line 'iovirt: guest reset via ...' on stderr); 2 for bad arguments or\n"
            "a VM that cannot start; 3 if the guest faulted or died.\n");
}

struct run_opts {
    enum testbed_mode mode;
    uint64_t mem, host_mem, line_rate;
    const char *kernel;
    const char *backend;
    int stats;
    unsigned sink_port, peer_port;
    enum testbed_peer peer;
    const char *peer_args;
    struct wire_iperf3_client_args client_args;
    bool no_ir, allow_unsafe_interrupts, no_confine;
    const char *assign;
    const char *virtio_off;
    const char *initrd, *append;  /* a Linux bzImage */
    char cmdline[1024];
};

static int parse_nic(const char *s, enum testbed_mode *out)
{
    if (testbed__mode_parse(s, out) || *out == TESTBED_NATIVE)
        return -EINVAL;
    return 0;
}

static int run__parse(int argc, char **argv, struct run_opts *o, bool native)
{
    static const struct option longopts[] = {
        {"nic", required_argument, NULL, 'n'},   {"mem", required_argument, NULL, 'm'},
        {"backend", required_argument, NULL, 'b'},
        {"host-mem", required_argument, NULL, 'H'}, {"line-rate", required_argument, NULL, 'r'},
        {"kernel", required_argument, NULL, 'k'}, {"stats", no_argument, NULL, 's'},
        {"sink-port", required_argument, NULL, 'p'},
        {"peer", required_argument, NULL, 'P'},   {"peer-port", required_argument, NULL, 'Q'},
        {"peer-args", required_argument, NULL, 'G'},
        {"no-interrupt-remapping", no_argument, NULL, 'I'},
        {"allow-unsafe-interrupts", no_argument, NULL, 'U'},
        {"assign", required_argument, NULL, 'A'},
        {"virtio-off", required_argument, NULL, 'V'},
        {"no-confine", no_argument, NULL, 'C'},
        {"initrd", required_argument, NULL, 'i'}, {"append", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (struct run_opts){.mode = native ? TESTBED_NATIVE : TESTBED_NONE, .mem = 64ull << 20, .host_mem = 1ull << 30,
                           .line_rate = 1000000000ull, .sink_port = 5001};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (native || parse_nic(optarg, &o->mode)) {
                fprintf(stderr, "iovirt %s: unknown NIC mode '%s' (none, emulated, virtio, assigned)\n", argv[0], optarg);
                return -1;
            }
            break;
        case 'm':
            if (parse__size(optarg, &o->mem) || o->mem == 0 || o->mem % (2u << 20) || o->mem > HV_MAX_RAM) {
                fprintf(stderr, "iovirt %s: --mem '%s' must be a multiple of 2M up to %lluM\n", argv[0], optarg,
                        (unsigned long long)(HV_MAX_RAM >> 20));
                return -1;
            }
            break;
        case 'H':
            if (parse__size(optarg, &o->host_mem) || o->host_mem < (16u << 20) || o->host_mem > (64ull << 30)) {
                fprintf(stderr, "iovirt %s: --host-mem '%s' must be between 16M and 64G\n", argv[0], optarg);
                return -1;
            }
            break;
        case 'r':
            if (parse__rate(optarg, &o->line_rate)) {
                fprintf(stderr, "iovirt %s: --line-rate '%s' is not a rate (1G, 10G, 100M, unlimited)\n", argv[0], optarg);
                return -1;
            }
            break;
        case 'k': o->kernel = optarg; break;
        case 'i':
        case 'a':
            if (native) {
                fprintf(stderr, "iovirt %s: --%s is for a Linux kernel in a VM ('iovirt run')\n", argv[0],
                        c == 'i' ? "initrd" : "append");
                return -1;
            }
            *(c == 'i' ? &o->initrd : &o->append) = optarg;
            break;
        case 'b':
            if (native) {
                fprintf(stderr, "iovirt %s: --backend is for VMs ('iovirt run')\n", argv[0]);
                return -1;
            }
            o->backend = optarg;
            break;
        case 'p': {
            uint64_t port;
            if (parse__u64(optarg, &port) || port == 0 || port > 65535) {
                fprintf(stderr, "iovirt %s: --sink-port '%s' is not a port number\n", argv[0], optarg);
                return -1;
            }
            o->sink_port = (unsigned)port;
            break;
        }
        case 'P':
            if (testbed__peer_parse(optarg, &o->peer)) {
                fprintf(stderr, "iovirt %s: unknown peer '%s' (sink, iperf3, iperf3-client)\n", argv[0], optarg);
                return -1;
            }
            break;
        case 'Q': {
            uint64_t port;
            if (parse__u64(optarg, &port) || port == 0 || port > 65535) {
                fprintf(stderr, "iovirt %s: --peer-port '%s' is not a port number\n", argv[0], optarg);
                return -1;
            }
            o->peer_port = (unsigned)port;
            break;
        }
        case 'G': {
            char why[160];
            if (wire_iperf3__parse_args(optarg, &o->client_args, why, sizeof why)) {
                fprintf(stderr, "iovirt %s: --peer-args: %s\n", argv[0], why);
                return -1;
            }
            o->peer_args = optarg;
            break;
        }
        case 's': o->stats = 1; break;
        case 'I': o->no_ir = true; break;
        case 'U': o->allow_unsafe_interrupts = true; break;
        case 'C':
            if (native) {
                fprintf(stderr, "iovirt %s: --no-confine is for VMs ('iovirt run')\n", argv[0]);
                return -1;
            }
            o->no_confine = true;
            break;
        case 'A': {
            const char *arg;
            if (native || !assign__source(optarg, &arg)) {
                fprintf(stderr, "iovirt %s: --assign '%s' is not a device source (model, vfio:BDF)\n", argv[0],
                        optarg);
                return -1;
            }
            o->assign = optarg;
            break;
        }
        case 'V': {
            uint64_t off;
            if (native || virtio_net__parse_features_off(optarg, &off)) {
                fprintf(stderr, "iovirt %s: --virtio-off '%s': a comma list of csum, guest-csum, tso4, "
                        "guest-tso4, mrg-rxbuf, event-idx, offloads, none ('iovirt run')\n", argv[0], optarg);
                return -1;
            }
            o->virtio_off = optarg;
            break;
        }
        case 'h': run__usage(stdout, native); return 1;
        case ':':
            fprintf(stderr, "iovirt %s: option '%s' needs a value\n", argv[0], argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "iovirt %s: unknown option '%s' (try --help)\n", argv[0], argv[optind - 1]);
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
            fprintf(stderr, "iovirt %s: guest command line longer than %zu bytes\n", argv[0], sizeof o->cmdline - 1);
            return -1;
        }
        used += (size_t)n;
    }
    if (o->assign && o->mode != TESTBED_ASSIGNED) {
        fprintf(stderr, "iovirt %s: --assign needs --nic assigned\n", argv[0]);
        return -1;
    }
    if (o->peer_port && o->peer == TESTBED_PEER_SINK) {
        fprintf(stderr, "iovirt %s: --peer-port needs --peer iperf3 or iperf3-client\n", argv[0]);
        return -1;
    }
    if (o->peer_args && o->peer != TESTBED_PEER_IPERF3_CLIENT) {
        fprintf(stderr, "iovirt %s: --peer-args needs --peer iperf3-client\n", argv[0]);
        return -1;
    }
    if (o->mem + (8u << 20) > o->host_mem) {
        fprintf(stderr, "iovirt %s: --mem does not fit in --host-mem\n", argv[0]);
        return -1;
    }
    return 0;
}

/* The guest a signal should stop (the one this command runs). */
static struct testbed *volatile run_tb;

static void run__on_signal(int sig)
{
    (void)sig;
    if (run_tb)
        testbed__stop(run_tb);
}

/* The VM's backend and, without --kernel, the kernel that backend boots;
 * prints the run's first line, "iovirt: backend NAME (why)".  NULL after
 * an error message. */
static const struct vcpu_ops *run__backend(const char *cmd, struct run_opts *o, char *kernel, size_t len)
{
    char why[PATH_MAX + 512], bare[PATH_MAX];
    const struct vcpu_ops *ops;
    enum vcpu_boot boot;
    if (o->backend) {
        ops = vcpu__backend_choose(o->backend, why, sizeof why);
    } else if (o->kernel != kernel && guest_load__file_boot(o->kernel, &boot, why, sizeof why) == 0) {
        /* (a kernel that cannot be read is reported once, by the VM) */
        ops = vcpu__backend_for_boot(boot, why, sizeof why); /* the image decides */
    } else {
        ops = vcpu__backend_choose(NULL, why, sizeof why);
        if (ops && ops->boot == VCPU_BOOT_PVH && o->kernel == kernel &&
            (guest_path__bare(kernel, bare, sizeof bare) || access(bare, R_OK))) {
            /* KVM works but its kernel is not built: the proc port runs */
            char kvm_why[256];
            snprintf(kvm_why, sizeof kvm_why, "%.200s", why);
            ops = vcpu__backend_for_boot(VCPU_BOOT_PROC, why, sizeof why);
            snprintf(why, sizeof why, "%.200s present, but no PVH kernel %s", kvm_why, bare);
        }
    }
    if (!ops) {
        fprintf(stderr, "iovirt %s: %s\n", cmd, why);
        return NULL;
    }
    if (o->kernel == kernel && ops->boot == VCPU_BOOT_PVH && guest_path__bare(kernel, bare, sizeof bare) == 0)
        snprintf(kernel, len, "%s", bare);
    fprintf(stderr, "iovirt: backend %s (%s)\n", ops->name, why);
    return ops;
}

/* A Linux bzImage's command line: --append, then " -- " and the guest
 * arguments (init's) when there are any.  0, or -1 after a message. */
static int run__linux_cmdline(const char *cmd, const struct run_opts *o, char *out, size_t len)
{
    const char *append = o->append ? o->append : "";
    int n = o->cmdline[0] ? snprintf(out, len, "%s%s-- %s", append, append[0] ? " " : "", o->cmdline)
                          : snprintf(out, len, "%s", append);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "iovirt %s: Linux command line longer than %zu bytes\n", cmd, len - 1);
        return -1;
    }
    return 0;
}

/* --initrd names a readable regular file (its size is checked against
 * guest RAM when it is loaded).  0, or -1 after a message. */
static int run__check_initrd(const char *cmd, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int e = fd < 0 ? errno : 0;
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode)))
        e = EISDIR;
    if (fd >= 0)
        close(fd);
    if (e) {
        fprintf(stderr, "iovirt %s: --initrd '%s': %s\n", cmd, path,
                e == EISDIR ? "not a regular file" : strerror(e));
        return -1;
    }
    return 0;
}

static int run__guest(int argc, char **argv, bool native)
{
    struct run_opts o;
    int r = run__parse(argc, argv, &o, native);
    if (r)
        return r > 0 ? 0 : IOVIRT_EXIT_USAGE;
    /* A bzImage is told by its setup header; an unreadable kernel is
     * reported once, by the VM. */
    enum vcpu_boot kind = VCPU_BOOT_PROC;
    char why[256];
    bool linux_kernel = !native && o.kernel && guest_load__file_boot(o.kernel, &kind, why, sizeof why) == 0 &&
                        kind == VCPU_BOOT_LINUX;
    char linux_cmdline[GUEST_LOAD_CMDLINE_MAX + 1];
    if (!linux_kernel && (o.initrd || o.append)) {
        fprintf(stderr, "iovirt %s: --initrd and --append are for a Linux bzImage (--kernel)\n", argv[0]);
        return IOVIRT_EXIT_USAGE;
    }
    if (!linux_kernel && !o.cmdline[0]) {
        fprintf(stderr, "iovirt %s: no guest program given (e.g. 'iovirt run -- hello')\n", argv[0]);
        return IOVIRT_EXIT_USAGE;
    }
    if (linux_kernel && (run__linux_cmdline(argv[0], &o, linux_cmdline, sizeof linux_cmdline) ||
                         (o.initrd && run__check_initrd(argv[0], o.initrd))))
        return IOVIRT_EXIT_USAGE;
    char kernel[PATH_MAX];
    if (!o.kernel) {
        if (guest_path__default(kernel, sizeof kernel)) {
            fprintf(stderr, "iovirt %s: cannot locate the guest kernel; use --kernel\n", argv[0]);
            return IOVIRT_EXIT_USAGE;
        }
        o.kernel = kernel;
    }
    const struct vcpu_ops *backend = NULL;
    if (!native && !(backend = run__backend(argv[0], &o, kernel, sizeof kernel)))
        return IOVIRT_EXIT_USAGE;
    struct testbed_config tc = {.mode = o.mode, .mem_bytes = o.mem, .host_mem_bytes = o.host_mem,
                                .line_rate = o.line_rate, .kernel = o.kernel, .backend = backend,
                                .cmdline = linux_kernel ? linux_cmdline : o.cmdline, .initrd = o.initrd,
                                .sink_port = (uint16_t)o.sink_port, .peer = o.peer,
                                .peer_port = (uint16_t)o.peer_port, .peer_args = o.client_args,
                                .no_interrupt_remapping = o.no_ir,
                                .allow_unsafe_interrupts = o.allow_unsafe_interrupts, .assign_source = o.assign,
                                .virtio_off = o.virtio_off};
    if (native && o.kernel != kernel)
        tc.native_kernel = o.kernel; /* --kernel names the native port's ELF */
    if (o.peer != TESTBED_PEER_SINK && backend && (backend->caps & VCPU_CAP_IN_PROCESS) && !o.no_confine &&
        !run_confine__unavailable()) {
        /* the confined VMM may not wait for or signal a child process */
        fprintf(stderr, "iovirt %s: --peer %s on the %s backend needs --no-confine (iperf3 is a child"
                        " process started and reaped while the VMM runs)\n", argv[0], testbed__peer_name(o.peer),
                backend->name);
        return IOVIRT_EXIT_USAGE;
    }
    struct testbed *t = calloc(1, sizeof(*t));
    if (!t || testbed__create(t, &tc)) {
        free(t);
        return IOVIRT_EXIT_USAGE;
    }
    run_tb = t;
    struct sigaction sa = {.sa_handler = run__on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Guest code runs in this process (kvm): once everything is set up,
     * the VMM keeps only what running and tearing down need. */
    bool in_process = backend && (backend->caps & VCPU_CAP_IN_PROCESS);
    const char *unconfinable = run_confine__unavailable();
    if (in_process && !o.no_confine && unconfinable) {
        fprintf(stderr, "iovirt: not confined after set-up: %s\n", unconfinable);
    } else if (in_process && !o.no_confine) {
        char why[256];
        if ((r = run_confine__apply(why, sizeof why))) {
            fprintf(stderr, "iovirt %s: cannot confine the VMM after set-up: %s (--no-confine runs without)\n",
                    argv[0], why);
            run_tb = NULL;
            testbed__destroy(t);
            free(t);
            return IOVIRT_EXIT_USAGE;
        }
    }
    if (in_process)
        run_confine__probe();
    r = testbed__run(t);
    run_tb = NULL;
    int status = r == 0 ? testbed__exit_status(t) : 3;
    if (r == -EINTR)
        fprintf(stderr, "iovirt %s: stopped by signal\n", argv[0]);
    if (r == 0 && t->vm_up && t->vm.reset_by)
        fprintf(stderr, "iovirt: guest reset via %s\n", t->vm.reset_by); /* not an error */
    if (o.stats && o.mode == TESTBED_NATIVE)
        native__print_stats(&t->native, stderr);
    else if (o.stats)
        hv_vm__print_stats(&t->vm, stderr);
    if (o.stats && t->vm_up && t->vm.assign) {
        uint64_t hi = __atomic_load_n(&t->vm.assign->host_irqs, __ATOMIC_RELAXED);
        uint64_t ns = __atomic_load_n(&t->vm.assign->irq_cpu_ns, __ATOMIC_RELAXED);
        fprintf(stderr, "assign: host interrupts %" PRIu64 ", handler CPU %.2f us each (lookup + injection)\n",
                hi, hi ? (double)ns / 1e3 / (double)hi : 0.0);
        /* INTx this process relayed (0 when the backend's irqfd carries it) */
        fprintf(stderr, "assign: INTx through iovirt: asserted %" PRIu64 ", unmasked %" PRIu64 "\n",
                __atomic_load_n(&t->vm.assign->intx_asserts, __ATOMIC_RELAXED),
                __atomic_load_n(&t->vm.assign->intx_unmasks, __ATOMIC_RELAXED));
    }
    if (o.stats && o.mode != TESTBED_NATIVE && t->plat.nic) {
        /* the host side of the bridged modes and the NIC's wire pacing */
        struct e1000_nic_stats ns;
        e1000_nic__get_stats(t->plat.nic, &ns);
        pthread_mutex_lock(&t->host.nic_lock);
        uint64_t busy = t->host.nic_up ? t->host.nic.drv.stats.tx_busy : 0;
        uint64_t stops = t->host.tx_queue_stops, stopped_ns = t->host.tx_stopped_ns;
        pthread_mutex_unlock(&t->host.nic_lock);
        fprintf(stderr,
                "host: bridge uplink tx %" PRIu64 " (tso %" PRIu64 ") dropped %" PRIu64 ", host e1000 tx_busy %" PRIu64 " queue stops %" PRIu64
                " (%.1f ms waited); nic tx %" PRIu64 " msi %" PRIu64 " pace_lost %.3f ms tx_idle_gaps %" PRIu64 "\n",
                __atomic_load_n(&t->host.bridge.uplink_tx_frames, __ATOMIC_RELAXED),
                __atomic_load_n(&t->host.bridge.uplink_tx_gso_frames, __ATOMIC_RELAXED),
                __atomic_load_n(&t->host.bridge.uplink_tx_dropped, __ATOMIC_RELAXED), busy,
                stops, (double)stopped_ns / 1e6, ns.tx_frames, ns.msi_sent, (double)ns.pace_lost_ns / 1e6, ns.tx_idle_gaps);
    }
    testbed__destroy(t);
    if (t->sink.connections || t->sink.udp_datagrams)
        printf("SINK tcp_bytes=%llu connections=%llu udp_bytes=%llu udp_datagrams=%llu\n",
               (unsigned long long)t->sink.tcp_bytes, (unsigned long long)t->sink.connections,
               (unsigned long long)t->sink.udp_bytes, (unsigned long long)t->sink.udp_datagrams);
    if (o.peer != TESTBED_PEER_SINK && t->peer.result.valid)
        printf("PEER %s bytes=%llu seconds=%.6f mbps=%.2f retransmits=%lld reverse=%d\n", testbed__peer_name(o.peer),
               (unsigned long long)t->peer.result.bytes, t->peer.result.seconds, t->peer.result.mbps,
               (long long)t->peer.result.retransmits, t->peer.result.reverse);
    if (o.peer != TESTBED_PEER_SINK && t->peer.result.error[0])
        fprintf(stderr, "iovirt %s: iperf3 %s: %s\n", argv[0], o.peer == TESTBED_PEER_IPERF3 ? "server" : "client",
                t->peer.result.error);
    if (o.peer == TESTBED_PEER_IPERF3_CLIENT && !t->peer.result.valid && !t->peer.result.error[0])
        fprintf(stderr, "iovirt %s: iperf3 client: never started (the guest printed no 'Server listening on')\n",
                argv[0]);
    if (host_os__faults_total(&t->host))
        fprintf(stderr, "iovirt %s: %llu VT-d fault(s) recorded\n", argv[0],
                (unsigned long long)host_os__faults_total(&t->host));
    free(t);
    return status;
}

static int run__main(int argc, char **argv)
{
    return run__guest(argc, argv, false);
}

static int native__main(int argc, char **argv)
{
    return run__guest(argc, argv, true);
}

IOVIRT_COMMAND(native_cmd, {.name = "native", .summary = "boot the guest kernel natively on the machine (the baseline)",
                            .run = native__main})
IOVIRT_COMMAND(run_cmd, {.name = "run", .summary = "boot the guest kernel in a VM (--nic none|emulated|virtio|assigned)",
                         .run = run__main})
