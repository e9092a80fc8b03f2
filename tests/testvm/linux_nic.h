/* The stock Linux drivers against iovirt's NICs (issue 17 item 3): boot
 * Debian's kernel with scripts/linux-guest in one NIC mode, run a fixed
 * command in the guest and assert what the driver and the device did:
 *   - link up: carrier 1, operstate up (and e1000's "NIC Link is Up");
 *   - ping: 3 of 3 answered by the peer 10.0.2.1;
 *   - a TCP stream to the sink: the sink's tcp_bytes == the bytes dd wrote
 *     into nc (STREAM_BYTES: busybox dd reports records, not bytes), one
 *     connection;
 *   - the NIC's interrupt line in /proc/interrupts rose by >= MIN_IRQS;
 *   - no "Detected Tx Unit Hang", "NETDEV WATCHDOG", "timed out",
 *     "Reset adapter", "tx timeout" or the word "reset" in the guest's kernel
 *     log ("preset" in the BogoMIPS line is not one);
 *   - eth0's rx/tx error counters (what `ip -s link` shows: busybox ip has
 *     no -s, so from /sys/class/net/eth0/statistics) are all 0.
 * The script runs build/iovirt (the normal tree): the test binary of the
 * sanitizer tree would run the very same VMM, so scripts/run-testvm-suite
 * runs these from the first tree only (LINUX_NIC tests, docs/testvm.md).
 * One boot, bounded: the guest by --timeout, the script by RUN_TIMEOUT_MS. */
#ifndef IOVIRT_TESTS_TESTVM_LINUX_NIC_H
#define IOVIRT_TESTS_TESTVM_LINUX_NIC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define TOOL_TIMEOUT_MS 170000
#include "tests/integration/run_tool.h"

#define GUEST_TIMEOUT_S "150"      /* scripts/linux-guest --timeout */
#define RUN_TIMEOUT_MS 170000      /* the script as a whole (suite: 180 s per binary) */
#define STREAM_BLOCKS 32           /* dd bs=64k: 2 MiB */
#define STREAM_BYTES (STREAM_BLOCKS * 65536ull)
#define MIN_IRQS 20                /* 6 ping frames + ~1000 stream segments/acks: far more */

/* The command the guest runs (busybox sh).  T-* lines are parsed below. */
#define LINUX_NIC_CMD                                                                                          \
    "irq() { awk '$NF==\"eth0\"||$NF==\"virtio0\"||$NF==\"virtio0-input.0\"{for(i=2;i<=NF&&$i~/^[0-9]+$/;i++)" \
    "s+=$i;f=1}END{print f?s:-1}' /proc/interrupts; }\n"                                                      \
    "echo \"T-LINK $(cat /sys/class/net/eth0/carrier) $(cat /sys/class/net/eth0/operstate)\"\n"             \
    "echo \"T-IRQ-BEFORE $(irq)\"\n"                                                                           \
    "ping -c 3 -W 5 10.0.2.1; echo \"T-PING-STATUS $?\"\n"                                                   \
    "t0=$(cut -d' ' -f1 /proc/uptime)\n"                                                                       \
    "dd if=/dev/zero bs=64k count=" STR(STREAM_BLOCKS) " 2>/tmp/dd.err | nc $S 5001; "                   \
    "echo \"T-NC-STATUS $?\"\n"                                                                                \
    "t1=$(cut -d' ' -f1 /proc/uptime)\n"                                                                       \
    "n=$(sed -n 's/^\\([0-9]*\\)+0 records out$/\\1/p' /tmp/dd.err)\n"                                      \
    "echo \"T-DD $((${n:-0} * 65536)) bytes in $t0 $t1\"\n"                                       \
    "echo \"T-IRQ-AFTER $(irq)\"\n"                                                                            \
    "cd /sys/class/net/eth0/statistics && for f in rx_errors tx_errors rx_crc_errors rx_frame_errors "        \
    "rx_fifo_errors rx_over_errors rx_length_errors rx_missed_errors tx_aborted_errors tx_carrier_errors "     \
    "tx_fifo_errors; do echo \"T-STAT $f $(cat $f)\"; done\n"                                                 \
    "dmesg | grep -i 'link is up' | sed 's/^/T-LINKMSG /'\n"                                                   \
    "dmesg | grep -iE 'Tx Unit Hang|NETDEV WATCHDOG|timed out|timeout|(^|[^a-z])reset' "            \
    "| sed 's/^/T-TROUBLE /'\n"                                                                                \
    "grep -E '(eth0|virtio0.*)$' /proc/interrupts | sed 's/^/T-INTR /'\n"                                     \
    "echo T-END\n"
#define STR_(x) #x
#define STR(x) STR_(x)

static struct tool_run linux_nic_run;

static inline void linux_nic_dump(const struct tool_run *r)
{
    size_t keep = 8000;
    fprintf(stderr, "status %d; stdout (last %zu bytes):\n%s\nstderr:\n%s\n", r->status, keep,
            r->out_len > keep ? r->out + r->out_len - keep : r->out, r->err);
}

/* The value after "KEY " on its own line of out, or NULL. */
static inline const char *linux_nic_field(const char *out, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = out; (p = strstr(p, key)); p += kl)
        if ((p == out || p[-1] == '\n') && p[kl] == ' ')
            return p + kl + 1;
    return NULL;
}

static inline long long linux_nic_num(const struct tool_run *r, const char *key)
{
    const char *v = linux_nic_field(r->out, key);
    if (!v) {
        linux_nic_dump(r);
        fail_msg("no '%s' line from the guest", key);
    }
    return strtoll(v, NULL, 10);
}

#define LN_CHECK(r, cond, ...)                                                                                 \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            linux_nic_dump(r);                                                                                 \
            fail_msg(__VA_ARGS__);                                                                             \
        }                                                                                                      \
    } while (0)

/* Boot in NIC mode `nic` (emulated, virtio, assigned) with extra `iovirt
 * run` options (NULL: none; e.g. "--assign vfio:BDF") and check it all.
 * e1000: whether the driver is Linux's e1000 (its link message). */
static inline void linux_nic_check_sink(const char *nic, const char *iovirt_args, bool e1000, const char *sink_addr,
                                 const char *sink_file)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "S=%s\n%s", sink_addr, LINUX_NIC_CMD);
    if (sink_file) {    /* one line per connection from the machine's QEMU: start empty */
        FILE *f = fopen(sink_file, "w");
        if (!f)
            fail_msg("cannot empty %s: %s", sink_file, strerror(errno));
        fclose(f);
    }
    struct tool_run *r = &linux_nic_run;
    memset(r, 0, sizeof *r);
    r->status = -1;
    char script[PATH_MAX];
    assert_int_equal(tool__path("../scripts/linux-guest", script, sizeof script), 0);
    int po[2], pe[2];
    assert_int_equal(pipe2(po, O_CLOEXEC), 0);
    assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);    /* killed as a group on timeout: its traps stop the VM */
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (iovirt_args)
            setenv("IOVIRT_LINUX_GUEST_IOVIRT_ARGS", iovirt_args, 1);
        else
            unsetenv("IOVIRT_LINUX_GUEST_IOVIRT_ARGS");
        unsetenv("IOVIRT_LINUX_GUEST_APPEND");
        char *argv[] = {script, "--timing", "--timeout", GUEST_TIMEOUT_S, "--nic", (char *)nic, "--",
                        cmd, NULL};
        execv(script, argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    int rc = tool__collect(r, pid, po[0], pe[0], RUN_TIMEOUT_MS, true);
    fputs(r->out, stdout);    /* the whole run in the suite's log */
    fputs(r->err, stdout);
    LN_CHECK(r, rc == 0, "scripts/linux-guest did not end within %d s", RUN_TIMEOUT_MS / 1000);
    LN_CHECK(r, r->status == 0, "scripts/linux-guest exited %d (the guest command's status, 124 timeout, 125 boot)",
             r->status);
    LN_CHECK(r, strstr(r->out, "T-END\n") && strstr(r->out, "\nIOVIRT-LINUX-STATUS 0"),
             "the guest's command did not run to its end");

    /* link up */
    LN_CHECK(r, linux_nic_field(r->out, "T-LINK") && !strncmp(linux_nic_field(r->out, "T-LINK"), "1 up\n", 5),
             "eth0 is not up with carrier (T-LINK)");
    if (e1000)
        LN_CHECK(r, strstr(r->out, "T-LINKMSG ") && strstr(r->out, "NIC Link is Up 1000 Mbps Full Duplex"),
                 "no e1000 'NIC Link is Up 1000 Mbps Full Duplex' in the kernel log");
    /* ping 3/3 */
    LN_CHECK(r, strstr(r->out, "3 packets transmitted, 3 packets received, 0% packet loss"), "ping: not 3 of 3");
    LN_CHECK(r, linux_nic_num(r, "T-PING-STATUS") == 0, "ping failed");
    /* the stream: what dd wrote into nc is what the sink counted */
    LN_CHECK(r, linux_nic_num(r, "T-NC-STATUS") == 0, "nc failed");
    long long sent = linux_nic_num(r, "T-DD");
    LN_CHECK(r, sent == (long long)STREAM_BYTES, "dd wrote %lld bytes, not %llu", sent, STREAM_BYTES);
    long long got = -1;
    if (!sink_file) {    /* iovirt run's sink on its TAP wire */
        const char *sink = strstr(r->out, "\nSINK tcp_bytes=");
        LN_CHECK(r, sink, "no SINK line after the VM");
        got = strtoll(sink + 16, NULL, 10);
        LN_CHECK(r, strstr(sink, " connections=1"), "the sink did not see exactly one connection");
    } else {             /* QEMU's guestfwd: `wc -c` per connection, a line each */
        unsigned lines = 0;
        for (int i = 0; i < 100 && lines == 0; i++) {    /* bounded: 10 s */
            FILE *f = fopen(sink_file, "r");
            long long v;
            got = 0;
            lines = 0;
            while (f && fscanf(f, "%lld", &v) == 1) {
                got += v;
                lines++;
            }
            if (f)
                fclose(f);
            if (!lines)
                usleep(100000);
        }
        LN_CHECK(r, lines == 1, "%s: %u connections counted, want 1", sink_file, lines);
    }
    LN_CHECK(r, got == sent, "the sink counted %lld bytes, the guest sent %lld", got, sent);
    /* the NIC's interrupts rose */
    long long before = linux_nic_num(r, "T-IRQ-BEFORE"), after = linux_nic_num(r, "T-IRQ-AFTER");
    LN_CHECK(r, before >= 0 && after >= 0, "no eth0/virtio0 line in /proc/interrupts");
    LN_CHECK(r, after - before >= MIN_IRQS, "the NIC's interrupts rose by %lld (%lld -> %lld), want >= %d",
             after - before, before, after, MIN_IRQS);
    /* no driver trouble in the kernel log, no error counters */
    LN_CHECK(r, !strstr(r->out, "T-TROUBLE "), "driver trouble in the guest's kernel log (T-TROUBLE lines)");
    for (const char *p = r->out; (p = strstr(p, "\nT-STAT ")); p++) {
        const char *v = strchr(p + 8, ' ');
        LN_CHECK(r, v && v[1] == '0' && v[2] == '\n', "an error counter is not 0: %.40s", p + 1);
    }
    LN_CHECK(r, strstr(r->out, "\nT-STAT tx_fifo_errors "), "no error counters from the guest");
    fprintf(stderr, "linux_nic %s: sent %lld, sink %lld, interrupts %lld -> %lld\n", nic, sent, got, before, after);
}

static inline void linux_nic_check(const char *nic, const char *iovirt_args, bool e1000)
{
    linux_nic_check_sink(nic, iovirt_args, e1000, "10.0.2.1", NULL);
}

#endif
