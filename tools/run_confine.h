/* The confinement policy of `iovirt run` on a backend that runs guest code
 * in this process (kvm: VCPU_CAP_IN_PROCESS): what the VMM still does once
 * set up, as a lib/confine.h allow-list.  docs/security.md. */
#ifndef IOVIRT_TOOLS_RUN_CONFINE_H
#define IOVIRT_TOOLS_RUN_CONFINE_H

#include <stddef.h>

/* NULL if this build can be confined, else why not: a sanitizer build
 * (build-san/iovirt, for tests only), whose runtime makes calls of its own
 * after set-up (sigaltstack at thread exit; LeakSanitizer's ptrace and
 * clone at exit).  build/iovirt, the one that ships, always can. */
const char *run_confine__unavailable(void);

/* Confine the whole process (every thread): 0, or -errno and `err`. */
int run_confine__apply(char *err, size_t len);

/* Test hook, documented in docs/security.md: with
 * IOVIRT_TEST_CONFINE_PROBE=execve|openat|socket in the environment, the
 * caller's thread attempts that call once, right after confinement.  A
 * confined process dies of SIGSYS with one line naming the call; an
 * unconfined one (--no-confine) gets the call's ordinary result, reports
 * "not denied" and runs on.  The execve names a path that does not exist
 * and the openat reads /proc/self/status: nothing happens if they go
 * through. */
void run_confine__probe(void);

#endif
