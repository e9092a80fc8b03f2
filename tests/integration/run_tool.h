/* Run build/iovirt (or build-san/iovirt) (found next to the test: <exe dir>/../iovirt) with
 * arguments, capture stdout and stderr, bounded in time; and the checks a
 * clean failure needs (no stray iovirt-stub, no TAP in our namespace).
 * main() must call tool__init() first: the test becomes a child subreaper,
 * so a stub orphaned by a dying iovirt is reparented to it and seen here. */
#ifndef IOVIRT_TESTS_RUN_TOOL_H
#define IOVIRT_TESTS_RUN_TOOL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOOL_OUT 65536
#ifndef TOOL_TIMEOUT_MS /* a test may allow more (the test machine's emulated CPU) */
#define TOOL_TIMEOUT_MS 20000
#endif

struct tool_run {
    int status;               /* exit status, or 128 + signal, or -1 */
    char out[TOOL_OUT], err[TOOL_OUT];
    size_t out_len, err_len;
};

static inline void tool__init(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
}

static inline int tool__path(const char *rel, char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    int r = snprintf(out, size, "%s/../%s", dirname(exe), rel);
    return r > 0 && (size_t)r < size ? 0 : -1;
}

static inline uint64_t tool__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a child's stdout and stderr (out_fd, err_fd: closed here) into r
 * until both close or timeout_ms passes; then, if they did not close, kill
 * it (its process group if `group`: a script's traps stop what it
 * started) and reap it.  0, -ETIMEDOUT, or -1. */
static inline int tool__collect(struct tool_run *r, pid_t pid, int out_fd, int err_fd, uint64_t timeout_ms,
                                bool group)
{
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    uint64_t end = tool__now_ms() + timeout_ms;
    int open_fds = 2;
    while (open_fds && tool__now_ms() < end) {
        if (poll(p, 2, 200) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            char *buf = i ? r->err : r->out;
            size_t *len = i ? &r->err_len : &r->out_len;
            char tmp[4096];
            ssize_t k = read(p[i].fd, tmp, sizeof tmp);
            if (k <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            size_t room = TOOL_OUT - 1 - *len;
            size_t c = (size_t)k < room ? (size_t)k : room;
            memcpy(buf + *len, tmp, c);
            *len += c;
            buf[*len] = 0;
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    int st;
    if (open_fds)
        kill(group ? -pid : pid, group ? SIGTERM : SIGKILL);
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return open_fds ? -ETIMEDOUT : 0;
}

/* argv[0] is ignored (replaced by the tool's path); NULL-terminated.
 * deny_unshare: the tool runs under a seccomp filter that fails unshare()
 * with EPERM (no permission for a namespace, without touching the host). */
static inline int tool__run_opts(struct tool_run *r, char *const argv[], bool deny_unshare)
{
    char path[PATH_MAX];
    memset(r, 0, sizeof(*r));
    r->status = -1;
#ifdef INTEG_IOVIRT
    /* a test in a tree without its own iovirt (build-san) names build/'s */
    snprintf(path, sizeof path, "%s", INTEG_IOVIRT);
#else
    if (tool__path("iovirt", path, sizeof path))
        return -1;
#endif
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (deny_unshare) {
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
            if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) || seccomp_load(ctx))
                _exit(126);
        }
        char *args[64];
        int n = 0;
        args[n++] = path;
        for (int i = 1; argv[i] && n < 63; i++)
            args[n++] = argv[i];
        args[n] = NULL;
        execv(path, args);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    return tool__collect(r, pid, po[0], pe[0], TOOL_TIMEOUT_MS, false);
}

static inline int tool__run(struct tool_run *r, char *const argv[])
{
    return tool__run_opts(r, argv, false);
}

/* Whether one line (len bytes at l) is an error, not one of the tool's
 * informational lines: log__info lines are "iovirt: SUBSYS: ..."; errors
 * say "error" or come from the command itself ("iovirt run: ..."). */
static inline bool tool__is_error_line(const char *l, size_t len)
{
    return len && (memmem(l, len, "error", 5) || (len >= 11 && !strncmp(l, "iovirt run:", 11)));
}

/* Lines of text that are errors (not the tool's informational lines). */
static inline unsigned tool__error_lines(const char *err)
{
    unsigned n = 0;
    for (const char *l = err; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (tool__is_error_line(l, len))
            n++;
        l += len + (e ? 1 : 0);
    }
    return n;
}

/* Reap orphans reparented to us; count processes named `comm` (as
 * /proc/PID/stat shows it, e.g. "(iovirt-stub)") that are our children:
 * what an iovirt that died or forgot left behind. */
static inline unsigned tool__stray_children(const char *comm)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    unsigned n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char p[300], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", de->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = 0;
        char *rp = strrchr(buf, ')');
        int ppid = 0;
        if (strstr(buf, comm) && rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
            n++;
    }
    closedir(d);
    return n;
}

/* iovirt-stub processes left behind by an iovirt that died. */
static inline unsigned tool__stray_stubs(void)
{
    return tool__stray_children("(iovirt-stub)");
}

/* The TAP device lives in a private namespace: never in ours. */
static inline bool tool__tap_in_our_netns(void)
{
    return if_nametoindex("iovirt0") != 0;
}

#endif
