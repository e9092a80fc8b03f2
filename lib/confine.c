/* Confinement mechanism (lib/confine.h).
 *
 * Capabilities are per thread, and capset(2) changes only the caller's, so
 * each thread drops its own: the caller signals every other thread of the
 * process (listed in /proc/self/task) with a spare real-time signal whose
 * handler drops them (libpsx does the same).  The filter needs no such
 * round: SECCOMP_FILTER_FLAG_TSYNC puts it, and no_new_privs, on every
 * thread in one system call.
 *
 * A denied call raises SIGSYS (SCMP_ACT_TRAP); the handler writes one line
 * naming the call and lets the signal's default action end the process,
 * so the parent sees a SIGSYS death and the user sees why. */
#include "lib/confine.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CONFINE_CAP_SIGNO (SIGRTMIN + 5)  /* the project uses SIGUSR1/2 and SIGRTMIN+4 */
#define CONFINE_CAP_MAX 64

static uint64_t caps_keep;
static _Atomic int caps_done, caps_failed;

/* This thread: bounding set (needs CAP_SETPCAP, so first), ambient,
 * then effective/permitted/inheritable. */
static int caps_drop_self(void)
{
    int r = 0;
    for (unsigned c = 0; c < CONFINE_CAP_MAX; c++)
        if (!(caps_keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
            r = -errno;
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    for (unsigned i = 0; i < 2; i++)
        d[i].effective = d[i].permitted = (uint32_t)(caps_keep >> (32 * i));
    if (syscall(SYS_capset, &h, d))
        r = -errno;
    return r;
}

static void on_caps_signal(int sig)
{
    (void)sig;
    int e = errno;
    if (caps_drop_self())
        atomic_fetch_add(&caps_failed, 1);
    atomic_fetch_add(&caps_done, 1);
    errno = e;
}

static int caps_drop_all(char *err, size_t len)
{
    caps_keep = 0;
    struct sigaction sa = {.sa_handler = on_caps_signal, .sa_flags = SA_RESTART}, old;
    sigemptyset(&sa.sa_mask);
    if (sigaction(CONFINE_CAP_SIGNO, &sa, &old)) {
        snprintf(err, len, "sigaction: %s", strerror(errno));
        return -errno;
    }
    DIR *dir = opendir("/proc/self/task");
    if (!dir) {
        int e = errno;
        snprintf(err, len, "/proc/self/task: %s", strerror(e));
        sigaction(CONFINE_CAP_SIGNO, &old, NULL);
        return -e;
    }
    pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
    int sent = 0, r = 0;
    atomic_store(&caps_done, 0);
    atomic_store(&caps_failed, 0);
    struct dirent *de;
    while ((de = readdir(dir))) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid <= 0 || tid == self)
            continue;
        if (syscall(SYS_tgkill, pid, tid, CONFINE_CAP_SIGNO) == 0)
            sent++;
        else if (errno != ESRCH) /* ESRCH: the thread ended meanwhile */
            r = -errno;
    }
    closedir(dir);
    if (!r && (r = caps_drop_self()))
        snprintf(err, len, "dropping capabilities: %s", strerror(-r));
    /* every signalled thread answers, whatever it was blocked in */
    for (int i = 0; i < 2000 && atomic_load(&caps_done) < sent; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    if (!r && atomic_load(&caps_done) < sent) {
        snprintf(err, len, "%d of %d threads did not drop their capabilities within 2 s", sent - caps_done, sent);
        r = -ETIMEDOUT;
    } else if (!r && atomic_load(&caps_failed)) {
        snprintf(err, len, "%d threads could not drop their capabilities", atomic_load(&caps_failed));
        r = -EPERM;
    }
    sigaction(CONFINE_CAP_SIGNO, &old, NULL);
    return r;
}

/* Names for the line (libseccomp's resolver allocates: not in a handler). */
static const char *denied_name(int nr)
{
    switch (nr) {
    case SYS_execve: return "execve";
    case SYS_execveat: return "execveat";
    case SYS_open: return "open";
    case SYS_openat: return "openat";
    case SYS_socket: return "socket";
    case SYS_fork: return "fork";
    case SYS_vfork: return "vfork";
    case SYS_clone: return "clone";
    case SYS_ptrace: return "ptrace";
    case SYS_mmap: return "mmap";
    case SYS_mprotect: return "mprotect";
    case SYS_ioctl: return "ioctl";
    default: return "nr";
    }
}

static void on_denied(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    char line[160];
    int n = snprintf(line, sizeof line, "iovirt: confinement: system call %s (%d) denied after set-up; stopping\n",
                     denied_name(si->si_syscall), si->si_syscall);
    if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) {
        /* nothing left to tell */
    }
    /* SA_RESETHAND made the action the default: this ends the process */
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGSYS);
}

static int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n, const struct scmp_arg_cmp *a)
{
    return seccomp_rule_add_array(ctx, action, nr, n, a);
}

static int build(scmp_filter_ctx ctx, const struct confine_policy *p, const char **what)
{
    int r;
    *what = "system call";
    for (size_t i = 0; i < p->nsyscalls; i++)
        if ((r = add(ctx, SCMP_ACT_ALLOW, p->syscalls[i], 0, NULL)))
            return r;
    *what = "ioctl";
    for (size_t i = 0; i < p->nioctls; i++) {
        /* the request is 32 bits (the kernel's ioctl takes an unsigned int) */
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, p->ioctls[i] & 0xffffffffu);
        if ((r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &a)))
            return r;
    }
    if (p->mmap) {
        *what = "mmap";
        struct scmp_arg_cmp a = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
        if ((r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &a)) ||
            (r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, &a)))
            return r;
    }
    /* the denial path itself: its line and the SIGSYS that ends it */
    *what = "the denial path";
    static const int deny_path[] = {SCMP_SYS(write), SCMP_SYS(tgkill), SCMP_SYS(getpid), SCMP_SYS(gettid),
                                    SCMP_SYS(rt_sigreturn)};
    for (size_t i = 0; i < sizeof deny_path / sizeof deny_path[0]; i++)
        if ((r = add(ctx, SCMP_ACT_ALLOW, deny_path[i], 0, NULL)))
            return r;
    return 0;
}

int confine__apply(const struct confine_policy *p, char *err, size_t len)
{
    int r = caps_drop_all(err, len);
    if (r)
        return r;
    struct sigaction sa = {.sa_sigaction = on_denied, .sa_flags = SA_SIGINFO | SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL)) {
        snprintf(err, len, "SIGSYS handler: %s", strerror(errno));
        return -errno;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(err, len, "seccomp_init failed");
        return -ENOMEM;
    }
    const char *what = "attributes";
    if (!(r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) && !(r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) &&
        !(r = build(ctx, p, &what))) {
        what = "loading the filter on every thread";
        r = seccomp_load(ctx);
    }
    if (r)
        snprintf(err, len, "seccomp: %s: %s", what, strerror(-r));
    seccomp_release(ctx);
    return r;
}
