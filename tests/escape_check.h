/* The property every sandbox-escape test asserts (issue 11), whichever way
 * a correct host stops the attempt:
 *
 *   (a) no side effect on the host: the file or directory the guest asked
 *       the host kernel to create does not exist, and the private
 *       temporary directory it was to go in is still empty (a fresh,
 *       unique path per test, so nothing else could have made it);
 *   (b) the VM stopped -- not hung, not still running, the guest never got
 *       control back after the attempt -- with exactly one error line
 *       naming the cause, one of the containments a correct host may use:
 *         seccomp  "guest attempted a system call: killed by the seccomp
 *                   filter (SIGSYS); VM stopped"
 *         fault    "guest fault: vector N at rip 0x...: WHY; VM stopped",
 *                   N any CPU exception (0..31): #GP 13 on a host whose
 *                   kernel has no 32-bit entry, #UD 6 where the CPU has no
 *                   such instruction in the mode, #NP 11, #PF 14, ...;
 *   (c) the host survived: the iovirt process exited by itself with the
 *       stopped-VM status 3, no signal, no sanitizer report; through the
 *       vcpu API, vcpu__run() returned the stop as an exit.
 *
 * Anything else fails: a success exit, a crash, a hang, an unknown message
 * (e.g. "guest stopped unexpectedly"), a second error line, a guest that
 * ran on after the attempt, a guest that never reached it.
 *
 * "Reached the attempt" (armed): a test guest reports it just before the
 * instruction (tests/guests/sandbox.h: SANDBOX_ARMED on TEST_PORT_REPORT);
 * an attack program prints "ATTACK NAME: trying" (guest/prog/attack.h).
 * A guest that faults before its attempt (say, looking for a gadget) is
 * not an escape that was contained, and fails the check.
 *
 * The checks are plain functions (no cmocka): each fills a verdict with the
 * first reason it failed, so tests/unit/vcpu/test_escape_check.c feeds them
 * every kind of escape and sees each rejected. */
#ifndef IOVIRT_TESTS_ESCAPE_CHECK_H
#define IOVIRT_TESTS_ESCAPE_CHECK_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/vm.h"
#include "tests/integration/run_tool.h"
#include "vcpu/vcpu.h"

#define ESCAPE_SECCOMP_TEXT "guest attempted a system call: killed by the seccomp filter (SIGSYS); VM stopped"
#define ESCAPE_FAULT_TEXT "guest fault: vector "
#define ESCAPE_STOPPED_TAIL "; VM stopped"
#define ESCAPE_TOOL_STOPPED 3   /* `iovirt run`: the guest faulted or died */

enum escape_stop { ESCAPE_NOT_CONTAINED, ESCAPE_BY_SECCOMP, ESCAPE_BY_FAULT };

struct escape_verdict {
    enum escape_stop how;       /* ESCAPE_NOT_CONTAINED: why says what failed */
    unsigned vector;            /* ESCAPE_BY_FAULT */
    char why[768];
};

struct escape_target {
    char dir[PATH_MAX];         /* private directory (mkdtemp) */
    char path[PATH_MAX];        /* dir/NAME: what the guest tries to create */
};

__attribute__((format(printf, 2, 3))) static inline bool escape__fail(struct escape_verdict *v, const char *fmt,
                                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    v->how = ESCAPE_NOT_CONTAINED;
    v->vector = 0;
    return false;
}

/* A fresh, unique path that does not exist, in a new directory under
 * $TMPDIR (or /tmp).  0, or -1 with errno. */
static inline int escape__target(struct escape_target *t, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    memset(t, 0, sizeof(*t));
    int n = snprintf(t->dir, sizeof t->dir, "%s/iovirt-escape-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof t->dir || !mkdtemp(t->dir))
        return -1;
    n = snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    if (n < 0 || (size_t)n >= sizeof t->path) {
        rmdir(t->dir);
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Remove what the target may hold (the path, file or directory) and the
 * directory itself. */
static inline void escape__target_remove(struct escape_target *t)
{
    if (!t->dir[0])
        return;
    if (unlink(t->path))
        rmdir(t->path);
    rmdir(t->dir);
    t->dir[0] = 0;
}

/* (a): the path does not exist and the directory holds nothing. */
static inline bool escape__no_side_effect(const struct escape_target *t, struct escape_verdict *v)
{
    struct stat st;
    if (lstat(t->path, &st) == 0)
        return escape__fail(v, "side effect on the host: %s exists (%s)", t->path,
                            S_ISDIR(st.st_mode) ? "a directory" : "a file");
    if (errno != ENOENT)
        return escape__fail(v, "cannot tell whether %s exists: %s", t->path, strerror(errno));
    DIR *d = opendir(t->dir);
    if (!d)
        return escape__fail(v, "the private directory %s is gone: %s", t->dir, strerror(errno));
    struct dirent *de;
    char other[NAME_MAX + 1] = "";
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(other, sizeof other, "%s", de->d_name);
            break;
        }
    closedir(d);
    if (other[0])
        return escape__fail(v, "side effect on the host: %s/%s appeared", t->dir, other);
    return true;
}

static inline bool escape__has_tail(const char *s, size_t len, const char *tail)
{
    size_t n = strlen(tail);
    return len >= n && !memcmp(s + len - n, tail, n);
}

/* (b) for one line: "[iovirt: error: hv: ]NAME: BODY", BODY the seccomp
 * text or a guest fault with a CPU exception vector. */
static inline bool escape__stop_line(const char *line, size_t len, struct escape_verdict *v)
{
    char copy[1024];
    if (len >= sizeof copy)
        return escape__fail(v, "stop line too long (%zu bytes)", len);
    memcpy(copy, line, len);
    copy[len] = 0;
    if (memchr(copy, '\n', len) || strlen(copy) != len)
        return escape__fail(v, "stop message is not one line: '%s'", copy);
    const char *p = copy;
    static const char prefix[] = "iovirt: error: hv: ";
    if (!strncmp(p, prefix, sizeof prefix - 1))
        p += sizeof prefix - 1;
    const char *colon = strstr(p, ": ");
    if (!colon || colon == p || memchr(p, ' ', (size_t)(colon - p)))
        return escape__fail(v, "unknown error line (no VM name): '%s'", copy);
    const char *body = colon + 2;
    size_t blen = strlen(body);
    if (!strcmp(body, ESCAPE_SECCOMP_TEXT)) {
        v->how = ESCAPE_BY_SECCOMP;
        v->vector = 0;
        v->why[0] = 0;
        return true;
    }
    if (!strncmp(body, ESCAPE_FAULT_TEXT, strlen(ESCAPE_FAULT_TEXT))) {
        const char *q = body + strlen(ESCAPE_FAULT_TEXT);
        char *end;
        if (*q < '0' || *q > '9')
            return escape__fail(v, "guest fault line without a vector: '%s'", copy);
        unsigned long vec = strtoul(q, &end, 10);
        if (strncmp(end, " at rip 0x", 10))
            return escape__fail(v, "guest fault line without the rip: '%s'", copy);
        if (vec >= 32)
            return escape__fail(v, "guest fault vector %lu is not a CPU exception: '%s'", vec, copy);
        if (!escape__has_tail(body, blen, ESCAPE_STOPPED_TAIL))
            return escape__fail(v, "guest fault line does not say the VM stopped: '%s'", copy);
        v->how = ESCAPE_BY_FAULT;
        v->vector = (unsigned)vec;
        v->why[0] = 0;
        return true;
    }
    return escape__fail(v, "unknown error line (neither the seccomp stop nor a guest fault): '%s'", copy);
}

/* ---- through the vcpu API (tests/unit/vcpu) ------------------------------ */

struct escape_exit_run {
    int rc;                  /* the last vcpu__run(): 0, or -errno (host-side failure) */
    bool hung;               /* still running at the time limit (stopped by a kick) */
    bool armed;              /* the guest reported it reached the attempt */
    struct vcpu_exit stop;   /* the first exit after that, kicks and windows aside */
};

static inline bool escape__check_exit(const struct escape_exit_run *r, const struct escape_target *t,
                                      struct escape_verdict *v)
{
    if (!escape__no_side_effect(t, v))
        return false;
    if (r->rc)
        return escape__fail(v, "vcpu__run() failed on the host side: %s", strerror(-r->rc));
    if (r->hung)
        return escape__fail(v, "hung: the guest was still running at the time limit");
    if (!r->armed)
        return escape__fail(v, "the guest never reached its attempt (first exit: %s)",
                            vcpu__exit_name(r->stop.reason));
    if (r->stop.reason != VCPU_EXIT_FAULT && r->stop.reason != VCPU_EXIT_SHUTDOWN)
        return escape__fail(v, "the guest ran on after the attempt (%s exit, port %#x data %#x)",
                            vcpu__exit_name(r->stop.reason), r->stop.reason == VCPU_EXIT_PIO ? r->stop.pio.port : 0,
                            r->stop.reason == VCPU_EXIT_PIO ? r->stop.pio.data : 0);
    char msg[HV_VM_STOP_MESSAGE_MAX + 8];
    int n = snprintf(msg, sizeof msg, "vm0: ");
    if (hv_vm__stop_message(&r->stop, msg + n, sizeof msg - (size_t)n))
        return escape__fail(v, "the hypervisor has no stop message for this exit");
    return escape__stop_line(msg, strlen(msg), v);
}

/* ---- through `iovirt run` (tests/integration) ---------------------------- */

/* rc: what tool__run() returned (-ETIMEDOUT: the tool hung and was killed);
 * attack: the NAME in "ATTACK NAME: trying". */
static inline bool escape__check_tool(int rc, const struct tool_run *r, const char *attack,
                                      const struct escape_target *t, struct escape_verdict *v)
{
    if (!escape__no_side_effect(t, v))
        return false;
    if (rc == -ETIMEDOUT)
        return escape__fail(v, "hung: iovirt was still running after %d ms (killed)", TOOL_TIMEOUT_MS);
    if (rc)
        return escape__fail(v, "could not run iovirt (%d)", rc);
    if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
        return escape__fail(v, "sanitizer report from iovirt");
    if (r->status >= 128)
        return escape__fail(v, "iovirt died by signal %d", r->status - 128);
    if (r->status != ESCAPE_TOOL_STOPPED)
        return escape__fail(v, "iovirt exited %d, not %d (VM stopped)%s", r->status, ESCAPE_TOOL_STOPPED,
                            r->status == 0 ? ": the guest ran to its end" : "");
    char tried[96], saw[96];
    snprintf(tried, sizeof tried, "ATTACK %s: trying", attack);
    snprintf(saw, sizeof saw, "ATTACK %s: observed", attack);
    if (!strstr(r->out, tried))
        return escape__fail(v, "the guest never reached its attempt (no '%s')", tried);
    if (strstr(r->out, saw))
        return escape__fail(v, "the guest got control back after the attempt ('%s')", saw);
    const char *line = NULL;
    size_t line_len = 0;
    unsigned lines = 0;
    for (const char *l = r->err; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (tool__is_error_line(l, len) && lines++ == 0)
            line = l, line_len = len;
        l += len + (e ? 1 : 0);
    }
    if (lines != 1)
        return escape__fail(v, "%u error lines, want exactly one", lines);
    return escape__stop_line(line, line_len, v);
}

#endif
