/* Debian's iperf3 server in the wire's namespace (wire_iperf3.h).  It is a
 * child process: setns into the namespace, stdout/stderr into memfds (no
 * pipe to drain while the test runs), an alarm as the bound on its life,
 * PDEATHSIG so it dies with us. */
#include "testbed/wire_iperf3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IPERF3_OUT_MAX (64u << 20) /* longest report read (-t 3600: ~2-3 MB of intervals) */

static uint64_t wi__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The iperf3 binary on PATH (resolved before fork: the child only makes
 * async-signal-safe calls). */
static int wi__find(char *out, size_t len)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        int n = snprintf(out, len, "%s/iperf3", d);
        if (n > 0 && (size_t)n < len && access(out, X_OK) == 0)
            return 0;
    }
    return -ENOENT;
}

/* Is inode one of pid's open sockets? */
static bool wi__owns(pid_t pid, unsigned long inode)
{
    char dir[64], link[64], want[48];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char path[64 + sizeof e->d_name];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            found = !strcmp(link, want);
        }
    }
    closedir(d);
    return found;
}

/* Does pid itself listen on TCP port (IPv4 or IPv6)?  Its namespace's
 * table lists every socket there, so the socket's inode must be its own. */
static bool wi__listening(pid_t pid, uint16_t port)
{
    static const char *files[] = {"tcp", "tcp6"};
    char path[64], line[512], tail[8];
    snprintf(tail, sizeof tail, ":%04X", port);
    for (int f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, files[f]);
        FILE *fp = fopen(path, "re");
        if (!fp)
            continue;
        bool found = false;
        while (!found && fgets(line, sizeof line, fp)) {
            /* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode":
             * local ends in :PORT, state 0A = LISTEN */
            char local[64], st[8];
            unsigned long inode;
            if (sscanf(line, "%*s %63s %*s %7s %*s %*s %*s %*s %*s %lu", local, st, &inode) == 3) {
                size_t n = strlen(local);
                found = n >= 5 && !strcmp(local + n - 5, tail) && !strcmp(st, "0A") && wi__owns(pid, inode);
            }
        }
        fclose(fp);
        if (found)
            return true;
    }
    return false;
}

static void wi__child(int ns_fd, int out_fd, int err_fd, const char *bin, char *const argv[], unsigned timeout_s)
{
    if (setns(ns_fd, CLONE_NEWNET) < 0)
        _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    syscall(SYS_close_range, 3u, ~0u, 0u); /* TAP, VFIO, sockets: not its business */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGALRM, SIG_DFL);
    alarm(timeout_s); /* survives exec: the bound on its life */
    execv(bin, argv);
    _exit(127);
}

/* Fork iperf3 with argv in tap's namespace, output into fresh memfds. */
static int wi__spawn(struct wire_iperf3 *p, struct wire *tap, char *const argv[], unsigned timeout_s)
{
    char bin[PATH_MAX];
    int ns_fd = wire_tap__netns_fd(tap);
    if (ns_fd < 0)
        return ns_fd;
    if (wi__find(bin, sizeof bin))
        return -ENOENT;
    p->out_fd = memfd_create("iperf3-out", MFD_CLOEXEC);
    p->err_fd = memfd_create("iperf3-err", MFD_CLOEXEC);
    if (p->out_fd < 0 || p->err_fd < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        wi__child(ns_fd, p->out_fd, p->err_fd, bin, argv, timeout_s);
    p->pid = pid;
    return 0;
}

static void wi__init(struct wire_iperf3 *p, uint16_t port, bool client)
{
    memset(p, 0, sizeof(*p));
    p->out_fd = p->err_fd = -1;
    p->port = port;
    p->client = client;
    p->result.retransmits = -1;
}

int wire_iperf3__start_client(struct wire_iperf3 *p, struct wire *tap, const char *guest_ip, uint16_t port,
                              const struct wire_iperf3_client_args *a, unsigned timeout_s)
{
    wi__init(p, port, true);
    char port_s[8], time_s[16], len_s[16];
    snprintf(port_s, sizeof port_s, "%u", port);
    snprintf(time_s, sizeof time_s, "%u", a->time_s);
    snprintf(len_s, sizeof len_s, "%u", a->len);
    char *argv[16] = {"iperf3", "-c", (char *)guest_ip, "-p", port_s, "--json", "-t", time_s};
    int n = 8;
    if (a->len) {
        argv[n++] = "-l";
        argv[n++] = len_s;
    }
    if (a->reverse)
        argv[n++] = "-R";
    argv[n] = NULL;
    int r = wi__spawn(p, tap, argv, timeout_s);
    if (r)
        wire_iperf3__stop(p, 0);
    return r;
}

int wire_iperf3__parse_args(const char *s, struct wire_iperf3_client_args *a, char *err, size_t err_len)
{
    char buf[256], *save = NULL;
    *a = (struct wire_iperf3_client_args){.time_s = 10};
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf) {
        snprintf(err, err_len, "longer than %zu characters", sizeof buf - 1);
        return -1;
    }
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (!strcmp(w, "-R")) {
            a->reverse = true;
            continue;
        }
        char *v = strtok_r(NULL, " ", &save), *end = NULL;
        unsigned long long x = v ? strtoull(v, &end, 10) : 0;
        unsigned long long mul = end && (*end == 'K' || *end == 'k') ? 1024 : end && (*end == 'M' || *end == 'm') ? 1 << 20 : 1;
        bool ok = v && end != v && (mul == 1 ? *end == 0 : end[1] == 0) && v[0] != '-';
        if (!strcmp(w, "-t") && ok && mul == 1 && x >= 1 && x <= 3600) {
            a->time_s = (unsigned)x;
        } else if (!strcmp(w, "-l") && ok && x >= 1 && x * mul <= (1u << 20)) {
            a->len = (unsigned)(x * mul);
        } else {
            snprintf(err, err_len, "'%s%s%s' is not -t SECS (1..3600), -l LEN[K|M] (1..1M) or -R", w, v ? " " : "",
                     v ? v : "");
            return -1;
        }
    }
    return 0;
}

int wire_iperf3__start(struct wire_iperf3 *p, struct wire *tap, uint16_t port, unsigned timeout_s)
{
    wi__init(p, port, false);
    char port_s[8];
    snprintf(port_s, sizeof port_s, "%u", port);
    char *const argv[] = {"iperf3", "-s", "-1", "--json", "-p", port_s, NULL};
    int r = wi__spawn(p, tap, argv, timeout_s);
    if (r) {
        wire_iperf3__stop(p, 0);
        return r;
    }
    pid_t pid = p->pid;
    for (uint64_t end = wi__now_ms() + 3000; wi__now_ms() < end;) {
        if (wi__listening(pid, port))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            p->pid = 0; /* it died at start (exec failed, port taken) */
            wire_iperf3__stop(p, 0);
            return -ECHILD;
        }
        struct timespec d = {0, 5000000};
        nanosleep(&d, NULL);
    }
    wire_iperf3__stop(p, 0);
    return -ETIMEDOUT;
}

/* Wait for the child up to ms; true once reaped. */
static bool wi__reap(pid_t pid, unsigned ms)
{
    for (uint64_t end = wi__now_ms() + ms;;) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (wi__now_ms() >= end)
            return false;
        struct timespec d = {0, 2000000};
        nanosleep(&d, NULL);
    }
}

/* A memfd's contents, NUL-terminated (malloc'd), at most IPERF3_OUT_MAX. */
static char *wi__slurp(int fd, size_t *len)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return NULL;
    size_t n = (size_t)size < IPERF3_OUT_MAX ? (size_t)size : IPERF3_OUT_MAX;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    ssize_t got = pread(fd, buf, n, 0);
    *len = got > 0 ? (size_t)got : 0;
    buf[*len] = 0;
    return buf;
}

void wire_iperf3__stop(struct wire_iperf3 *p, unsigned wait_ms)
{
    if (p->pid > 0) {
        if (!wi__reap(p->pid, wait_ms)) {
            kill(p->pid, SIGTERM); /* iperf3 reports what it has, then exits */
            if (!wi__reap(p->pid, 1000)) {
                kill(p->pid, SIGKILL);
                wi__reap(p->pid, 5000);
            }
        }
        p->pid = 0;
        size_t len = 0;
        char *out = wi__slurp(p->out_fd, &len);
        if (out) {
            wire_iperf3__parse(out, len, p->client, &p->result);
            free(out);
        }
        char *err = p->result.valid ? NULL : wi__slurp(p->err_fd, &len);
        if (err && len && !p->result.error[0]) {
            err[strcspn(err, "\n")] = 0;
            snprintf(p->result.error, sizeof p->result.error, "%s", err);
        }
        free(err);
    }
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    p->out_fd = p->err_fd = -1;
}

static double wi__num(json_t *obj, const char *key, double dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

void wire_iperf3__parse(const char *json, size_t len, bool client, struct wire_iperf3_result *r)
{
    memset(r, 0, sizeof(*r));
    r->retransmits = -1;
    r->client = client;
    /* iperf3 prints some warnings on stdout before its report ("WARNING:
     * Size of data read does not correspond to offered length", a client
     * can cause it): the report is the first line that opens an object. */
    size_t at = 0;
    while (at < len && !(json[at] == '{' && (at == 0 || json[at - 1] == '\n'))) {
        const char *nl = memchr(json + at, '\n', len - at);
        at = nl ? (size_t)(nl - json) + 1 : len;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json + at, len - at, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!json_is_object(root)) {
        snprintf(r->error, sizeof r->error, "no JSON report from iperf3 (%s)", len ? jerr.text : "empty output");
        json_decref(root);
        return;
    }
    json_t *err = json_object_get(root, "error");
    if (json_is_string(err))
        snprintf(r->error, sizeof r->error, "%s", json_string_value(err));
    json_t *ts = json_object_get(json_object_get(root, "start"), "test_start");
    r->reverse = wi__num(ts, "reverse", 0) != 0;
    json_t *end = json_object_get(root, "end");
    /* Its own count is the side it played: a server receives (sends with
     * -R), a client sends (receives with -R). */
    bool sender = client != (r->reverse != 0);
    const char *side = sender ? "sum_sent" : "sum_received";
    json_t *sum = json_object_get(end, side);
    json_t *bytes = json_object_get(sum, "bytes");
    if (json_is_integer(bytes) && json_integer_value(bytes) >= 0) {
        r->valid = true;
        r->bytes = (uint64_t)json_integer_value(bytes);
        r->seconds = wi__num(sum, "seconds", 0);
        r->mbps = wi__num(sum, "bits_per_second", 0) / 1e6;
        json_t *retr = json_object_get(sum, "retransmits");
        if (sender && json_is_integer(retr))
            r->retransmits = json_integer_value(retr);
    } else if (!r->error[0]) {
        snprintf(r->error, sizeof r->error, "the iperf3 report has no end.%s.bytes", side);
    }
    json_decref(root);
}
