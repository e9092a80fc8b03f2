/* Process backend: the guest process.  Finds the stub, builds the mapping
 * plan (guest RAM at VA == GPA, direct device pages, the mailbox), forks
 * and execs the stub with it, waits for its boot exit, and ends it. */
#include "vcpu/proc/proc_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int find_stub(char *out, size_t outlen)
{
    const char *env = getenv("IOVIRT_STUB");
    if (env && *env) {
        if (access(env, X_OK) != 0) {
            log__err("vcpu", "IOVIRT_STUB=%s is not executable", env);
            return -ENOENT;
        }
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -ENOENT;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -ENOENT;
    *slash = 0;
    const char *cands[] = {"%s/iovirt-stub", "%s/../iovirt-stub"};
    for (unsigned i = 0; i < 2; i++) {
        if (snprintf(out, outlen, cands[i], exe) >= (int)outlen)
            continue;
        if (access(out, X_OK) == 0)
            return 0;
    }
    log__err("vcpu", "iovirt-stub not found next to %s (set IOVIRT_STUB)", exe);
    return -ENOENT;
}

int proc__vm_init(struct vm *vm)
{
    struct proc_vm *pvm = calloc(1, sizeof(*pvm));
    if (!pvm)
        return -ENOMEM;
    int rc = find_stub(pvm->stub, sizeof pvm->stub);
    if (rc) {
        free(pvm);
        return rc;
    }
    pvm->tuning.hv_spin_ns = PROC_DEFAULT_HV_SPIN_NS;
    pvm->tuning.stub_spin = PROC_DEFAULT_STUB_SPIN;
    vm->backend = pvm;
    return 0;
}

void proc__vm_destroy(struct vm *vm)
{
    free(vm->backend);
    vm->backend = NULL;
}

void proc_vm__set_tuning(struct vm *vm, const struct proc_tuning *t)
{
    struct proc_vm *pvm = vm->backend;
    pvm->tuning = *t;
}

const char *proc_vm__stub_path(struct vm *vm)
{
    return ((struct proc_vm *)vm->backend)->stub;
}

pid_t proc_vcpu__pid(struct vcpu *v)
{
    return PV(v)->dead ? -1 : PV(v)->pid;
}

struct fdset {
    int src[PROC_PLAN_MAX_FDS];
    unsigned n;
};

static int fdset_slot(struct fdset *s, int fd)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->src[i] == fd)
            return PROC_PLAN_FIRST_FD + (int)i;
    if (s->n >= PROC_PLAN_MAX_FDS)
        return -1;
    s->src[s->n] = fd;
    return PROC_PLAN_FIRST_FD + (int)s->n++;
}

/* Plan memfd: header + one map per region (RAM from the physmem memfd at
 * the region's HPA, direct pages from their fd). */
static int build_plan(const struct vcpu_memmap *m, int mbfd, uint32_t stub_spin, bool exitless,
                      struct fdset *fds, int *plan_fd)
{
    int pfd = memfd_create("iovirt-plan", MFD_CLOEXEC);
    if (pfd < 0)
        return -errno;
    struct proc_plan hdr = {.magic = PROC_PLAN_MAGIC, .nmaps = m->n,
                            .kick_signo = KICK_SIGNO, .stub_spin = stub_spin,
                            .posted_signo = exitless ? POSTED_SIGNO : 0};
    int slot = fdset_slot(fds, mbfd);
    hdr.mailbox_fd = (uint32_t)slot;
    int rc = 0;
    if (write(pfd, &hdr, sizeof hdr) != (ssize_t)sizeof hdr)
        rc = -EIO;
    for (unsigned i = 0; i < m->n && !rc; i++) {
        const struct vcpu_mem_region *r = &m->r[i];
        struct proc_plan_map pm = {.va = r->gpa, .len = r->len};
        if (r->kind == VCPU_MEM_RAM) {
            slot = fdset_slot(fds, m->pm->fd);
            pm.offset = r->hpa;
            pm.prot = PROC_MAP_R | PROC_MAP_W | PROC_MAP_X;
        } else {
            slot = fdset_slot(fds, r->fd);
            pm.offset = r->offset;
            pm.prot = PROC_MAP_R | (r->writable ? PROC_MAP_W : 0);
        }
        if (slot < 0) {
            log__err("vcpu", "memory map uses more than %d files", PROC_PLAN_MAX_FDS);
            rc = -E2BIG;
            break;
        }
        pm.fd = (uint32_t)slot;
        if (write(pfd, &pm, sizeof pm) != (ssize_t)sizeof pm)
            rc = -EIO;
    }
    if (!rc && lseek(pfd, 0, SEEK_SET) != 0)
        rc = -errno;
    if (rc) {
        close(pfd);
        return rc;
    }
    *plan_fd = pfd;
    return 0;
}

/* In the child: only async-signal-safe calls until execve. */
__attribute__((noreturn)) static void child_exec(const char *stub, int plan_fd,
                                                 const struct fdset *fds, pid_t parent)
{
    int tmp[PROC_PLAN_MAX_FDS + 1];
    const int base = PROC_PLAN_FIRST_FD + PROC_PLAN_MAX_FDS + 16;
    tmp[0] = fcntl(plan_fd, F_DUPFD, base);
    for (unsigned i = 0; i < fds->n; i++)
        tmp[i + 1] = fcntl(fds->src[i], F_DUPFD, base);
    for (unsigned i = 0; i <= fds->n; i++)
        if (tmp[i] < 0)
            _exit(126);
    if (dup2(tmp[0], PROC_PLAN_FD) < 0)
        _exit(126);
    for (unsigned i = 0; i < fds->n; i++)
        if (dup2(tmp[i + 1], PROC_PLAN_FIRST_FD + (int)i) < 0)
            _exit(126);
    syscall(SYS_close_range, PROC_PLAN_FIRST_FD + fds->n, ~0u, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char *const argv[] = {(char *)"iovirt-stub", NULL};
    char *const envp[] = {NULL};
    execve(stub, argv, envp);
    _exit(127);
}

static const char *stub_failure(int code)
{
    switch (code) {
    case 101: return "bad mapping plan";
    case 102: return "mapping guest memory failed (overlap or bad fd)";
    case 103: return "mapping the mailbox failed";
    case 104: return "closing descriptors failed";
    case 105: return "installing signal handlers failed";
    case 106: return "installing the seccomp filter failed";
    case 107: return "unmapping the start-up stack failed";
    case 126: return "preparing descriptors failed";
    case 127: return "exec of the stub failed";
    default: return "unexpected exit";
    }
}

static bool want_exitless(uint32_t irq)
{
    if (irq == PROC_IRQ_EXITLESS)
        return true;
    if (irq == PROC_IRQ_EXIT)
        return false;
    const char *e = getenv("IOVIRT_PROC_IRQ");
    if (e && !strcmp(e, "exit"))
        return false;
    if (e && !strcmp(e, "exitless"))
        return true;
    return PROC_DEFAULT_IRQ == PROC_IRQ_EXITLESS;
}

/* Guest RAM as the stub sees it (VA == GPA): runs of adjacent RAM regions,
 * so that "inside one run" is exactly what vcpu_memmap__read/write accept.
 * Runs beyond PROC_POSTED_MAX_RAM are left out: an address there makes the
 * stub fall back to an exit, where the hypervisor decides. */
static void publish_ram(const struct vcpu_memmap *m, struct proc_posted *pp)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const struct vcpu_mem_region *r = &m->r[i];
        if (r->kind != VCPU_MEM_RAM)
            continue;
        if (n && pp->ram[n - 1].gpa + pp->ram[n - 1].len == r->gpa) {
            pp->ram[n - 1].len += r->len;
            continue;
        }
        if (n == PROC_POSTED_MAX_RAM)
            break;
        pp->ram[n].gpa = r->gpa;
        pp->ram[n].len = r->len;
        n++;
    }
    pp->nram = n;
}

uint64_t proc_vcpu__posted_count(struct vcpu *v)
{
    proc__posted_account(v);
    return PV(v)->pi_total;
}

bool proc_vcpu__exitless(struct vcpu *v)
{
    return PV(v)->exitless;
}

int proc__create(struct vcpu *v)
{
    struct proc_vm *pvm = v->vm->backend;
    const struct vcpu_memmap *m = v->vm->mem;
    if (!m->pm || m->pm->fd < 0) {
        log__err("vcpu", "guest memory map has no host physical memory");
        return -EINVAL;
    }
    struct proc_vcpu *pv = calloc(1, sizeof(*pv));
    if (!pv)
        return -ENOMEM;
    pv->pidfd = -1;
    pv->hv_spin_ns = pvm->tuning.hv_spin_ns;
    pv->spin_cur_ns = (int64_t)pv->hv_spin_ns;
    atomic_init(&pv->running, false);
    atomic_init(&pv->kick_sent_ns, 0);
    pv->regs.rflags = RFLAGS_FIXED;

    int rc;
    pv->mbfd = memfd_create("iovirt-mailbox", MFD_CLOEXEC);
    if (pv->mbfd < 0 || ftruncate(pv->mbfd, PROC_MAILBOX_FILE_SIZE) != 0) {
        rc = -errno;
        goto fail;
    }
    pv->mb = mmap(NULL, PROC_MAILBOX_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, pv->mbfd, 0);
    if (pv->mb == MAP_FAILED) {
        pv->mb = NULL;
        rc = -errno;
        goto fail;
    }
    pv->posted = (struct proc_posted *)((char *)pv->mb + 4096);
    pv->exitless = want_exitless(pvm->tuning.irq);
    publish_ram(m, pv->posted);
    struct fdset fds = {.n = 0};
    int plan_fd = -1;
    rc = build_plan(m, pv->mbfd, pvm->tuning.stub_spin, pv->exitless, &fds, &plan_fd);
    if (rc)
        goto fail;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(pvm->stub, plan_fd, &fds, parent);
    int fork_errno = errno;
    close(plan_fd);
    if (pid < 0) {
        rc = -fork_errno;
        goto fail;
    }
    pv->pid = pid;
    pv->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    v->backend = pv;
    if (pv->pidfd < 0) {
        rc = -errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pv->dead = true;
        goto fail_started;
    }
    /* The stub's first exit says it is sandboxed and ready. */
    if (proc__wait_exit(pv, now_ns() + BOOT_TIMEOUT_NS, false) != 0) {
        const struct vcpu_exit *e = &pv->dead_exit;
        if (e->shutdown.cause == VCPU_SHUTDOWN_EXITED)
            log__err("vcpu", "guest process start failed: %s (status %d)",
                     stub_failure(e->shutdown.status), e->shutdown.status);
        else
            log__err("vcpu", "guest process died while starting (signal %d)", e->shutdown.status);
        rc = -ECHILD;
        goto fail_started;
    }
    struct exit_snap s;
    proc__snapshot(pv, &s);
    if (s.signo != SIGSEGV || s.trapno != 13) {
        log__err("vcpu", "guest process start: unexpected first trap (signal %u)", s.signo);
        proc__kill_guest(pv);
        rc = -EPROTO;
        goto fail_started;
    }
    proc__clear_exit(pv->mb);
    /* From now on the pending vectors live in the shared page (docs/vcpu.md,
     * "Exitless delivery"); nothing can be pending yet. */
    v->irr = (_Atomic uint64_t *)pv->mb->pir;
    return 0;

fail_started:
    v->backend = NULL;
    if (!pv->dead)
        proc__kill_guest(pv);
fail:
    if (pv->pidfd >= 0)
        close(pv->pidfd);
    if (pv->mb)
        munmap(pv->mb, PROC_MAILBOX_FILE_SIZE);
    if (pv->mbfd >= 0)
        close(pv->mbfd);
    free(pv);
    if (rc)
        log__err("vcpu", "creating the guest process: %s", strerror(-rc));
    return rc;
}

void proc__destroy(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (!pv)
        return;
    proc__kill_guest(pv);
    close(pv->pidfd);
    v->irr = v->irr_local;
    munmap(pv->mb, PROC_MAILBOX_FILE_SIZE);
    close(pv->mbfd);
    free(pv);
    v->backend = NULL;
}
