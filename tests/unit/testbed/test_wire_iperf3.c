/* testbed/wire_iperf3: reading the reports Debian's iperf3 3.12 server
 * wrote on this machine (forward, reverse, a failed test with a warning
 * line before its JSON, garbage), and the server's life in a real
 * namespace: it listens, it is killed at stop or by its alarm, and
 * nothing is left behind. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "testbed/wire_iperf3.h"

/* `iperf3 -s -1 --json` reports trimmed to the sections read (captured
 * over loopback with `iperf3 -c 127.0.0.1 -t 1 -l 128K [-R]`). */
static const char report_fwd[] =
    "{\"start\":{\"test_start\":{\"protocol\":\"TCP\",\"num_streams\":1,\"blksize\":131072,\"omit\":0,"
    "\"duration\":1,\"bytes\":0,\"blocks\":0,\"reverse\":0,\"tos\":0,\"target_bitrate\":0}},\"end\":{"
    "\"sum_sent\":{\"start\":0,\"end\":1.049004,\"seconds\":1.049004,\"bytes\":0,\"bits_per_second\":0,"
    "\"sender\":false},\"sum_received\":{\"start\":0,\"end\":1.049004,\"seconds\":1.049004,"
    "\"bytes\":568521461,\"bits_per_second\":4335704809.51455,\"sender\":false}}}";
static const char report_rev[] =
    "{\"start\":{\"test_start\":{\"protocol\":\"TCP\",\"num_streams\":1,\"blksize\":131072,\"omit\":0,"
    "\"duration\":1,\"bytes\":0,\"blocks\":0,\"reverse\":1,\"tos\":0,\"target_bitrate\":0}},\"end\":{"
    "\"sum_sent\":{\"start\":0,\"end\":1.036589,\"seconds\":1.036589,\"bytes\":592445440,"
    "\"bits_per_second\":4572268777.69299,\"retransmits\":22,\"sender\":true},\"sum_received\":{\"start\":0,"
    "\"end\":1.036589,\"seconds\":1.036589,\"bytes\":0,\"bits_per_second\":0,\"sender\":true}}}";
/* `iperf3 -c 127.0.0.1 -t 1 --json [-R]` reports, trimmed the same way */
static const char client_fwd[] =
    "{\"start\":{\"test_start\":{\"protocol\":\"TCP\",\"num_streams\":1,\"blksize\":131072,\"omit\":0,"
    "\"duration\":1,\"bytes\":0,\"blocks\":0,\"reverse\":0,\"tos\":0,\"target_bitrate\":0}},\"end\":{"
    "\"sum_sent\":{\"start\":0,\"end\":1.000453,\"seconds\":1.000453,\"bytes\":2727477248,"
    "\"bits_per_second\":21809938082.048832,\"retransmits\":0,\"sender\":true},\"sum_received\":{\"start\":0,"
    "\"end\":1.000994,\"seconds\":1.000994,\"bytes\":2727477248,\"bits_per_second\":21798150622.281452,"
    "\"sender\":true}}}";
static const char client_rev[] =
    "{\"start\":{\"test_start\":{\"protocol\":\"TCP\",\"num_streams\":1,\"blksize\":131072,\"omit\":0,"
    "\"duration\":1,\"bytes\":0,\"blocks\":0,\"reverse\":1,\"tos\":0,\"target_bitrate\":0}},\"end\":{"
    "\"sum_sent\":{\"start\":0,\"end\":1.000107,\"seconds\":1.000107,\"bytes\":2629304320,"
    "\"bits_per_second\":21032184116.299553,\"retransmits\":3,\"sender\":false},\"sum_received\":{\"start\":0,"
    "\"end\":1.000017,\"seconds\":1.000017,\"bytes\":2628910786,\"bits_per_second\":21030928762.211044,"
    "\"sender\":false}}}";
/* a client that sent 37 bytes and closed: a warning on stdout, then JSON */
static const char report_failed[] =
    "WARNING:  Size of data read does not correspond to offered length\n"
    "{\n\t\"start\":\t{\n\t\t\"connected\":\t[],\n\t\t\"version\":\t\"iperf 3.12\"\n\t},\n"
    "\t\"intervals\":\t[],\n\t\"end\":\t{\n\t},\n"
    "\t\"error\":\t\"error - unable to receive parameters from client: \"\n}\n";

static void test_parse_reports(void **state)
{
    (void)state;
    struct wire_iperf3_result r;
    wire_iperf3__parse(report_fwd, strlen(report_fwd), false, &r);
    assert_true(r.valid);
    assert_int_equal(r.reverse, 0);
    assert_int_equal(r.bytes, 568521461);
    assert_true(r.seconds > 1.049 && r.seconds < 1.0491);
    assert_true(r.mbps > 4335.70 && r.mbps < 4335.71);
    assert_int_equal(r.retransmits, -1);
    assert_string_equal(r.error, "");
    wire_iperf3__parse(report_rev, strlen(report_rev), false, &r);
    assert_true(r.valid);
    assert_int_equal(r.reverse, 1);
    assert_int_equal(r.bytes, 592445440);
    assert_int_equal(r.retransmits, 22);
    wire_iperf3__parse(report_failed, strlen(report_failed), false, &r);
    assert_false(r.valid);
    assert_string_equal(r.error, "error - unable to receive parameters from client: ");
}

/* A client's own count is what it sent, or with -R what it received. */
static void test_parse_client_reports(void **state)
{
    (void)state;
    struct wire_iperf3_result r;
    wire_iperf3__parse(client_fwd, strlen(client_fwd), true, &r);
    assert_true(r.valid && r.client);
    assert_int_equal(r.reverse, 0);
    assert_int_equal(r.bytes, 2727477248ull);
    assert_int_equal(r.retransmits, 0);
    assert_true(r.seconds > 1.0004 && r.seconds < 1.0005);
    wire_iperf3__parse(client_rev, strlen(client_rev), true, &r);
    assert_true(r.valid);
    assert_int_equal(r.reverse, 1);
    assert_int_equal(r.bytes, 2628910786ull);
    assert_int_equal(r.retransmits, -1); /* the server sent: not the client's to report */
    /* the same report read as a server's takes the other side */
    wire_iperf3__parse(client_rev, strlen(client_rev), false, &r);
    assert_int_equal(r.bytes, 2629304320ull);
}

static void test_client_args(void **state)
{
    (void)state;
    struct wire_iperf3_client_args a;
    char err[160];
    assert_int_equal(wire_iperf3__parse_args("", &a, err, sizeof err), 0);
    assert_int_equal(a.time_s, 10);
    assert_int_equal(a.len, 0);
    assert_false(a.reverse);
    assert_int_equal(wire_iperf3__parse_args("-t 2  -l 64K -R", &a, err, sizeof err), 0);
    assert_int_equal(a.time_s, 2);
    assert_int_equal(a.len, 65536);
    assert_true(a.reverse);
    assert_int_equal(wire_iperf3__parse_args("-l 1M -t 3600", &a, err, sizeof err), 0);
    assert_int_equal(a.len, 1 << 20);
    static const char *const bad[] = {"-t", "-t 0", "-t 3601", "-t 2x", "-t -1", "-l 2M", "-l 0", "-l 1G",
                                      "-l K", "-P 2", "--json", "-c 1.2.3.4", "-t 1 -u"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        err[0] = 0;
        if (wire_iperf3__parse_args(bad[k], &a, err, sizeof err) != -1 || !strstr(err, "is not -t SECS"))
            fail_msg("'%s' accepted (%s)", bad[k], err);
    }
    char longer[300];
    memset(longer, 'R', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(wire_iperf3__parse_args(longer, &a, err, sizeof err), -1);
}

static void test_parse_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "WARNING: only a warning\n", "{\"end\":", "[1,2]", "{\"end\":{\"sum_received\":{\"bytes\":-5}}}",
        "{\"end\":{\"sum_received\":{\"bytes\":\"5\"}}}", "{\"end\":{\"sum_received\":{\"bytes\":1.5}}}",
        "{\"start\":{\"test_start\":{\"reverse\":1}},\"end\":{\"sum_received\":{\"bytes\":5}}}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct wire_iperf3_result r;
        wire_iperf3__parse(bad[k], strlen(bad[k]), false, &r);
        if (r.valid || !r.error[0])
            fail_msg("'%s' read as a result", bad[k]);
    }
}

static bool gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

static void test_server_life(void **state)
{
    (void)state;
    struct wire *w;
    assert_int_equal(wire_tap__create(NULL, &w), 0);
    struct wire_iperf3 p;
    /* killed at stop (no client came): reaped, its report says why */
    assert_int_equal(wire_iperf3__start(&p, w, 5311, 60), 0);
    pid_t pid = p.pid;
    assert_true(pid > 0 && !gone(pid));
    wire_iperf3__stop(&p, 0);
    assert_true(gone(pid));
    assert_false(p.result.valid);
    assert_true(p.result.error[0] != 0);
    wire_iperf3__stop(&p, 0); /* idempotent */
    /* its alarm ends it without us */
    assert_int_equal(wire_iperf3__start(&p, w, 5312, 1), 0);
    pid = p.pid;
    struct timespec d = {1, 500000000};
    nanosleep(&d, NULL);
    assert_int_equal(waitpid(pid, NULL, WNOHANG), pid);
    p.pid = 0; /* reaped here */
    wire_iperf3__stop(&p, 0);
    /* a port already taken (IPv6 and IPv4): it dies at start, reported as such */
    int fd = wire_tap__socket(w, AF_INET6, SOCK_STREAM, 0), off = 0;
    assert_true(fd >= 0);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(5313), .sin6_addr = IN6ADDR_ANY_INIT};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(wire_iperf3__start(&p, w, 5313, 60), -ECHILD);
    assert_int_equal(p.pid, 0);
    close(fd);
    wire__destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reports),
        cmocka_unit_test(test_parse_client_reports),
        cmocka_unit_test(test_client_args),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_server_life),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
