/* Self-confinement of this process once it is set up (issue 15 item 6):
 * a seccomp allow-list loaded on every thread at once (TSYNC), with
 * no_new_privs, and every capability dropped on every thread.  The policy
 * (which system calls, which ioctl requests) is the caller's; this file is
 * the mechanism.  docs/security.md, "The VMM on KVM confines itself". */
#ifndef IOVIRT_LIB_CONFINE_H
#define IOVIRT_LIB_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct confine_policy {
    const int *syscalls;          /* allowed with any arguments */
    size_t nsyscalls;
    const unsigned long *ioctls;  /* ioctl allowed only with one of these requests */
    size_t nioctls;
    bool mmap;                    /* mmap/mprotect allowed, never with PROT_EXEC */
    uint64_t keep_caps;           /* capabilities kept (bit = CAP_*); the rest dropped everywhere */
};

/* Drop capabilities on every thread, then load the filter on every thread.
 * A denied call stops the process: one line on stderr naming the call,
 * then SIGSYS.  0, or -errno and `err` says what failed (nothing is
 * half-applied to the filter: it loads whole or not at all). */
int confine__apply(const struct confine_policy *p, char *err, size_t len);

#endif
