/* The allow-list of the VMM on the KVM backend, after set-up (memory slots,
 * irqchip, vCPU, device threads, TAP and sink sockets, VFIO all exist).
 * Derived from `strace -f` of `iovirt run --backend kvm` with every NIC
 * mode and a VFIO function, inside the test machine (docs/security.md has
 * the command and the counts): every call after the first KVM_RUN, plus
 * what set-up leaves to the first run (the kick signal's handler and mask)
 * and the teardown of every device (it runs confined too). */
#include "tools/run_confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/confine.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const int run_syscalls[] = {
    /* file descriptors already open: guest console, TAP, eventfds, sink
     * connections, VFIO regions (pread/pwrite of config space) */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
    /* waiting: device threads' polls, condition variables, timers */
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(futex), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(sched_yield),
    /* the sink (the Linux side of the wire) takes connections on its
     * listening sockets: no new socket is made */
    SCMP_SYS(accept4), SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(setsockopt), SCMP_SYS(shutdown),
    /* kicks (tgkill of the vCPU thread), their mask and handler, stop signals */
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigtimedwait), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(tgkill), SCMP_SYS(getpid), SCMP_SYS(gettid),
    /* memory: malloc, thread stacks freed at exit; guest RAM given back
     * (physmem punches holes) */
    SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap), SCMP_SYS(fallocate),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static const unsigned long run_ioctls[] = {
    /* vCPU: run, its registers at a fault, the kick signal's mask (set at the first run) */
    KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_SET_SIGNAL_MASK,
    /* VM: injection (MSI, and levels on the in-kernel irqchip's inputs:
     * INTx, the UART's IRQ 4); MSI routes and irqfds follow the guest's
     * MSI-X (vfio) */
    KVM_SIGNAL_MSI, KVM_IRQ_LINE, KVM_SET_GSI_ROUTING, KVM_IRQFD,
    /* VFIO: interrupts follow the guest's MSI-X/INTx; teardown resets and unmaps */
    VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET, VFIO_IOMMU_UNMAP_DMA,
    /* stdio asks whether stdout is a terminal */
    TCGETS,
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RUN_CONFINE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RUN_CONFINE_SANITIZER 1
#endif
#endif

const char *run_confine__unavailable(void)
{
#ifdef RUN_CONFINE_SANITIZER
    return "a sanitizer build (its runtime calls sigaltstack, ptrace and clone after set-up)";
#else
    return NULL;
#endif
}

int run_confine__apply(char *err, size_t len)
{
    const struct confine_policy p = {
        .syscalls = run_syscalls, .nsyscalls = N(run_syscalls),
        .ioctls = run_ioctls, .nioctls = N(run_ioctls),
        .mmap = true,
        .keep_caps = 0,
    };
    return confine__apply(&p, err, len);
}

void run_confine__probe(void)
{
    const char *what = getenv("IOVIRT_TEST_CONFINE_PROBE");
    if (!what)
        return;
    int r;
    if (!strcmp(what, "execve")) {
        char *const argv[] = {"iovirt-confine-probe", NULL};
        r = execve("/nonexistent/iovirt-confine-probe", argv, argv + 1);
    } else if (!strcmp(what, "openat")) {
        r = openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (r >= 0)
            close(r);
    } else if (!strcmp(what, "socket")) {
        r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (r >= 0)
            close(r);
    } else {
        fprintf(stderr, "iovirt: confine probe: unknown call '%s' (execve, openat, socket)\n", what);
        return;
    }
    fprintf(stderr, "iovirt: confine probe: %s not denied (%s)\n", what, r < 0 ? strerror(errno) : "succeeded");
}
