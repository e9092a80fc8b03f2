/* Process backend: each vCPU is a sandboxed child process running the
 * guest natively in ring 3; faults come back through the stub's mailbox
 * (vcpu/proc/proc_mailbox.h) and are emulated here.
 *
 * Everything read from the mailbox or guest RAM is guest-controlled: it is
 * copied once and checked; a misbehaving guest ends in an exit (FAULT or
 * SHUTDOWN), never in a hypervisor error. */
#include "vcpu/proc/proc_vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
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

#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/proc/proc_insn.h"
#include "vcpu/proc/proc_mailbox.h"
#include "vcpu/x86_decode.h"

#define KICK_SIGNO SIGUSR1
#define BOOT_TIMEOUT_NS 5000000000ll
#define KICK_GRACE_NS   2000000000ll
#define SLEEP_SLICE_NS  5000000ll
#define POLL_SLICE_NS   1000000ll  /* re-check a masked guest with a pending irq */
#define USER_CS 0x33  /* Linux x86-64 __USER_CS / __USER_DS: the guest's selectors */
#define USER_SS 0x2b
#define RFLAGS_USER_MASK 0x40dd5ull /* CF PF AF ZF SF DF OF AC */
#define RFLAGS_FIXED     0x202ull   /* bit 1, IF */

struct proc_vm {
    char stub[PATH_MAX];
    struct proc_tuning tuning;
};

enum pending_kind { PEND_NONE, PEND_MMIO, PEND_PIO_IN, PEND_ADVANCE };

struct proc_vcpu {
    pid_t pid;
    int pidfd;
    int mbfd;
    struct proc_mailbox *mb;     /* hypervisor's view of the shared page */
    bool dead;
    struct vcpu_exit dead_exit;
    uint32_t guest_seq;          /* last guest_seq seen */
    uint32_t guest_cpu;          /* CPU of the last exit (a hint, guest-written) */
    struct vcpu_regs regs;       /* guest state while stopped */
    bool vif;                    /* virtual RFLAGS.IF */
    bool idt_set;
    uint64_t idt_base;
    uint16_t idt_limit;
    enum pending_kind pend;
    struct x86_mmio_insn mmio;
    uint8_t pend_len, pio_size;
    _Atomic bool running;        /* guest may be executing: kicks must signal */
    _Atomic int64_t kick_sent_ns;
    uint64_t hv_spin_ns;         /* maximum */
    int64_t spin_cur_ns;         /* adaptive: halves on a miss, doubles on a hit */
    uint32_t spin_probe;
    int64_t ewma_run_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct proc_vcpu *PV(struct vcpu *v)
{
    return v->backend;
}

/* ---- stub location ------------------------------------------------------ */

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

static int proc_vm_init(struct vm *vm)
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

static void proc_vm_destroy(struct vm *vm)
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

/* ---- process start ------------------------------------------------------ */

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
static int build_plan(const struct vcpu_memmap *m, int mbfd, uint32_t stub_spin,
                      struct fdset *fds, int *plan_fd)
{
    int pfd = memfd_create("iovirt-plan", MFD_CLOEXEC);
    if (pfd < 0)
        return -errno;
    struct proc_plan hdr = {.magic = PROC_PLAN_MAGIC, .nmaps = m->n,
                            .kick_signo = KICK_SIGNO, .stub_spin = stub_spin};
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

static void mark_dead(struct proc_vcpu *pv, int status)
{
    pv->dead = true;
    atomic_store(&pv->running, false);
    struct vcpu_exit *e = &pv->dead_exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_SHUTDOWN;
    if (WIFSIGNALED(status)) {
        e->shutdown.cause = VCPU_SHUTDOWN_SIGNALED;
        e->shutdown.status = WTERMSIG(status);
    } else {
        e->shutdown.cause = VCPU_SHUTDOWN_EXITED;
        e->shutdown.status = WEXITSTATUS(status);
    }
}

/* Reap if dead.  True when the process is gone. */
static bool check_dead(struct proc_vcpu *pv)
{
    if (pv->dead)
        return true;
    int status = 0;
    pid_t r = waitpid(pv->pid, &status, WNOHANG);
    if (r == pv->pid) {
        mark_dead(pv, status);
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        /* Reaped by someone else (a waitpid(-1) elsewhere): gone all the same. */
        mark_dead(pv, SIGKILL);
        return true;
    }
    return false;
}

static void kill_guest(struct proc_vcpu *pv)
{
    if (pv->dead)
        return;
    syscall(SYS_pidfd_send_signal, pv->pidfd, SIGKILL, NULL, 0);
    int status = SIGKILL;  /* as reported if someone else reaped it */
    while (waitpid(pv->pid, &status, 0) < 0 && errno == EINTR)
        ;
    mark_dead(pv, status);
}

static long futex_op(volatile uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

/* Wait until the stub posts an exit.  0, or -1 if the guest died (or was
 * killed for not answering a kick). */
static int wait_exit(struct proc_vcpu *pv, int64_t deadline_ns, bool poll)
{
    struct proc_mailbox *mb = pv->mb;
    uint32_t seen = pv->guest_seq;
    int64_t spin = pv->spin_cur_ns;
    if ((++pv->spin_probe & 63) == 0)
        spin = pv->spin_cur_ns = (int64_t)pv->hv_spin_ns;  /* probe: a good phase comes back */
    /* Adaptive: spin only while recent spins paid off and the guest's
     * recent runs were short enough to end within the spin, and never on
     * the CPU the guest last ran on (it would only delay the guest). */
    if (pv->ewma_run_ns > spin || (int)pv->guest_cpu == sched_getcpu())
        spin = 0;
    if (spin > 0) {
        int64_t until = now_ns() + spin;
        for (unsigned i = 0;; i++) {
            if (__atomic_load_n(&mb->guest_seq, __ATOMIC_ACQUIRE) != seen) {
                pv->spin_cur_ns = pv->spin_cur_ns * 2 > (int64_t)pv->hv_spin_ns
                                      ? (int64_t)pv->hv_spin_ns : pv->spin_cur_ns * 2;
                return 0;
            }
            __builtin_ia32_pause();
            if ((i & 15) == 15 && now_ns() > until)
                break;
        }
        if (pv->spin_cur_ns > (int64_t)pv->hv_spin_ns / 64 + 1)
            pv->spin_cur_ns /= 2;
    } else if (pv->hv_spin_ns && pv->ewma_run_ns <= (int64_t)pv->hv_spin_ns &&
               pv->spin_cur_ns < (int64_t)pv->hv_spin_ns) {
        pv->spin_cur_ns *= 2;  /* runs got short again: let spinning back in */
    }
    for (;;) {
        __atomic_store_n(&mb->hv_sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&mb->guest_seq, __ATOMIC_SEQ_CST) != seen)
            break;
        struct timespec ts = {0, poll ? POLL_SLICE_NS : SLEEP_SLICE_NS};
        futex_op(&mb->guest_seq, FUTEX_WAIT, seen, &ts);
        if (__atomic_load_n(&mb->guest_seq, __ATOMIC_SEQ_CST) != seen)
            break;
        if (check_dead(pv))
            return -1;
        /* A guest that unmasked without trapping (against the ABI) still
         * gets its interrupt, a millisecond late. */
        if (poll)
            syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
        int64_t now = now_ns();
        int64_t kicked = atomic_load(&pv->kick_sent_ns);
        if ((kicked && now - kicked > KICK_GRACE_NS) || (deadline_ns && now > deadline_ns)) {
            log__err("vcpu", "guest process %d does not answer; killing it", (int)pv->pid);
            kill_guest(pv);
            pv->dead_exit.shutdown.cause = VCPU_SHUTDOWN_UNRESPONSIVE;
            return -1;
        }
    }
    __atomic_store_n(&mb->hv_sleeping, 0, __ATOMIC_RELAXED);
    return 0;
}

static void resume(struct proc_vcpu *pv)
{
    struct proc_mailbox *mb = pv->mb;
    memcpy(mb->reply_regs, pv->regs.gpr, sizeof pv->regs.gpr);
    mb->reply_regs[PROC_REG_RIP] = pv->regs.rip;
    mb->reply_regs[PROC_REG_RFLAGS] = pv->regs.rflags;
    mb->hv_cpu = (uint32_t)sched_getcpu();
    __atomic_store_n(&mb->hv_seq, mb->hv_seq + 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&mb->guest_sleeping, __ATOMIC_SEQ_CST))
        futex_op(&mb->hv_seq, FUTEX_WAKE, 1, NULL);
}

/* Snapshot of one exit, copied once out of the shared page. */
struct exit_snap {
    uint32_t signo;
    int32_t si_code;
    uint64_t fault_addr, trapno, err;
    uint64_t regs[PROC_NREGS];
};

static void snapshot(struct proc_vcpu *pv, struct exit_snap *s)
{
    const struct proc_mailbox *mb = pv->mb;
    pv->guest_seq = __atomic_load_n(&mb->guest_seq, __ATOMIC_ACQUIRE);
    pv->guest_cpu = mb->guest_cpu;
    s->signo = mb->signo;
    s->si_code = mb->si_code;
    s->fault_addr = mb->fault_addr;
    s->trapno = mb->trapno;
    s->err = mb->err;
    memcpy(s->regs, mb->regs, sizeof s->regs);
}

/* The guest reads the mailbox: the stub's boot exit (its set-up code's
 * registers) must not be what it finds there at entry.  The stub already
 * clears its registers before that exit; this holds whatever it posted. */
static void clear_exit(struct proc_mailbox *mb)
{
    mb->signo = 0;
    mb->si_code = 0;
    mb->fault_addr = 0;
    mb->trapno = 0;
    mb->err = 0;
    memset(mb->regs, 0, sizeof mb->regs);
}

static int proc_create(struct vcpu *v)
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
    if (pv->mbfd < 0 || ftruncate(pv->mbfd, 4096) != 0) {
        rc = -errno;
        goto fail;
    }
    pv->mb = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, pv->mbfd, 0);
    if (pv->mb == MAP_FAILED) {
        pv->mb = NULL;
        rc = -errno;
        goto fail;
    }
    struct fdset fds = {.n = 0};
    int plan_fd = -1;
    rc = build_plan(m, pv->mbfd, pvm->tuning.stub_spin, &fds, &plan_fd);
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
    if (wait_exit(pv, now_ns() + BOOT_TIMEOUT_NS, false) != 0) {
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
    snapshot(pv, &s);
    if (s.signo != SIGSEGV || s.trapno != 13) {
        log__err("vcpu", "guest process start: unexpected first trap (signal %u)", s.signo);
        kill_guest(pv);
        rc = -EPROTO;
        goto fail_started;
    }
    clear_exit(pv->mb);
    return 0;

fail_started:
    v->backend = NULL;
    if (!pv->dead)
        kill_guest(pv);
fail:
    if (pv->pidfd >= 0)
        close(pv->pidfd);
    if (pv->mb)
        munmap(pv->mb, 4096);
    if (pv->mbfd >= 0)
        close(pv->mbfd);
    free(pv);
    if (rc)
        log__err("vcpu", "creating the guest process: %s", strerror(-rc));
    return rc;
}

static void proc_destroy(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (!pv)
        return;
    kill_guest(pv);
    close(pv->pidfd);
    munmap(pv->mb, 4096);
    close(pv->mbfd);
    free(pv);
    v->backend = NULL;
}

static int proc_get_regs(struct vcpu *v, struct vcpu_regs *r)
{
    *r = PV(v)->regs;
    return 0;
}

static int proc_set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
    struct proc_vcpu *pv = PV(v);
    pv->regs = *r;
    pv->regs.rflags = (r->rflags & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    pv->pend = PEND_NONE;
    return 0;
}

static void proc_kick(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (atomic_load(&pv->running) && !pv->dead) {
        int64_t zero = 0;
        atomic_compare_exchange_strong(&pv->kick_sent_ns, &zero, now_ns());
        syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
    }
}

static void proc_notify_irq(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (atomic_load(&pv->running) && !pv->dead)
        syscall(SYS_pidfd_send_signal, pv->pidfd, KICK_SIGNO, NULL, 0);
}

int proc_vcpu__colocate(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    int cpu = sched_getcpu();
    if (cpu < 0 || pv->dead)
        return cpu < 0 ? -errno : -ESRCH;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0 ||
        sched_setaffinity(pv->pid, sizeof set, &set) != 0)
        return -errno;
    return cpu;
}

static int64_t proc_cpu_time_ns(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    clockid_t cid;
    struct timespec ts;
    if (pv->dead)
        return -ESRCH;
    if (clock_getcpuclockid(pv->pid, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -errno;
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- emulation ------------------------------------------------------------ */

static void to_gprs(const struct vcpu_regs *r, struct x86_gprs *g)
{
    memcpy(g->r, r->gpr, sizeof g->r);
    g->rip = r->rip;
}

static void from_gprs(struct vcpu_regs *r, const struct x86_gprs *g)
{
    memcpy(r->gpr, g->r, sizeof g->r);
    r->rip = g->rip;
}

static volatile struct proc_cpu_page *cpu_page(struct vcpu *v)
{
    if (!v->cpu_page_gpa)
        return NULL;
    return vcpu_memmap__ram_ptr(v->vm->mem, v->cpu_page_gpa, sizeof(struct proc_cpu_page));
}

static bool guest_interruptible(struct vcpu *v)
{
    volatile struct proc_cpu_page *cp = cpu_page(v);
    return PV(v)->vif && !(cp && cp->irq_masked);
}

static void set_fault(struct vcpu *v, uint8_t vector, uint64_t err, uint64_t addr, const char *why)
{
    struct vcpu_exit *e = &v->exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_FAULT;
    e->fault.vector = vector;
    e->fault.error_code = err;
    e->fault.addr = addr;
    e->fault.rip = PV(v)->regs.rip;
    e->fault.why = why;
}

/* Enter the handler of `vector` with an iretq frame on the guest stack
 * (proc_abi.h).  False (and a FAULT exit) if the IDT or stack is bad. */
static bool deliver(struct vcpu *v, int vector)
{
    struct proc_vcpu *pv = PV(v);
    const struct vcpu_memmap *m = v->vm->mem;
    uint8_t gate[16];
    uint64_t off = (uint64_t)vector * 16;
    if (!pv->idt_set || off + 15 > pv->idt_limit ||
        vcpu_memmap__read(m, pv->idt_base + off, gate, sizeof gate) != 0) {
        set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, pv->idt_base + off,
                  "interrupt vector outside the IDT (or no IDT)");
        return false;
    }
    uint8_t type = gate[5] & 0x0F;
    if (!(gate[5] & 0x80) || (type != 0x0E && type != 0x0F)) {
        set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, pv->idt_base + off,
                  "IDT gate not present or not a 64-bit interrupt/trap gate");
        return false;
    }
    uint64_t handler = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 |
                       (uint64_t)gate[7] << 24 | (uint64_t)gate[8] << 32 |
                       (uint64_t)gate[9] << 40 | (uint64_t)gate[10] << 48 |
                       (uint64_t)gate[11] << 56;
    uint64_t rsp = (pv->regs.gpr[X86_RSP] & ~15ull) - 40;
    uint64_t frame[5] = {pv->regs.rip, USER_CS, pv->regs.rflags, pv->regs.gpr[X86_RSP], USER_SS};
    if (pv->regs.gpr[X86_RSP] < 64 || vcpu_memmap__write(m, rsp, frame, sizeof frame) != 0) {
        set_fault(v, VCPU_FAULT_VEC_DOUBLE, (uint64_t)vector, rsp,
                  "interrupt frame does not fit on the guest stack");
        return false;
    }
    volatile struct proc_cpu_page *cp = cpu_page(v);
    if (cp)
        cp->irq_masked = 1;
    pv->regs.gpr[X86_RSP] = rsp;
    pv->regs.rip = handler;
    v->stats.n[VCPU_STAT_INJECT]++;
    return true;
}

/* Fetch up to 15 instruction bytes at RIP from guest RAM. */
static size_t fetch(struct vcpu *v, uint8_t *code)
{
    size_t n = 0;
    uint64_t rip = PV(v)->regs.rip;
    while (n < 15) {
        const uint8_t *p = vcpu_memmap__ram_ptr(v->vm->mem, rip + n, 1);
        if (!p || rip + n < rip)
            break;
        code[n++] = *p;
    }
    return n;
}

static bool gpa_is_mapped(const struct vcpu_memmap *m, uint64_t gpa)
{
    for (unsigned i = 0; i < m->n; i++)
        if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].len)
            return true;
    return false;
}

enum step { STEP_RETURN, STEP_RESUME };

/* The report for a fault on an instruction that reaches for the host
 * kernel or another CPU mode.  Hosts stop these differently (seccomp's
 * SIGSYS, #GP where the kernel has no 32-bit entry, #UD where the CPU has
 * none in this mode: docs/security.md); the text names the instruction so
 * the one error line says what the guest tried.  NULL: nothing to add. */
static const char *gate_why(struct vcpu *v, unsigned vector)
{
    uint8_t code[15];
    size_t n = fetch(v, code);
    enum proc_insn_gate g = proc_insn__gate(code, n);
    if (vector == 13) {
        switch (g) {
        case PROC_GATE_SYSCALL:
            return "general protection fault on `syscall`: the host refused the system call";
        case PROC_GATE_SYSENTER:
            return "general protection fault on `sysenter`: the host refused the system call";
        case PROC_GATE_INT80:
            return "general protection fault on `int 0x80`: the host refused the 32-bit system call";
        case PROC_GATE_INT:
            return "general protection fault on a software interrupt: no gate the guest may use";
        case PROC_GATE_FAR:
            return "general protection fault on a far transfer (iret/lret/ljmp/lcall): "
                   "the host refused the code segment";
        case PROC_GATE_NONE:
            break;
        }
    } else if (vector == 11 && g == PROC_GATE_FAR) {
        return "segment not present on a far transfer (iret/lret/ljmp/lcall): the host refused the code segment";
    } else if (vector == 6) {
        switch (g) {
        case PROC_GATE_SYSCALL:
            return "invalid opcode `syscall`: no system call entry in this CPU mode";
        case PROC_GATE_SYSENTER:
            return "invalid opcode `sysenter`: no system call entry in this CPU mode";
        default:
            return "invalid opcode";
        }
    }
    return NULL;
}

static enum step on_gp(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    uint8_t code[15];
    size_t n = fetch(v, code);
    struct x86_gprs g;
    struct proc_insn in;
    to_gprs(&pv->regs, &g);
    if (s->si_code != 0x80 /* SI_KERNEL */ || proc_insn__decode(code, n, &g, &in) != X86_DECODE_OK) {
        const char *why = gate_why(v, 13);
        set_fault(v, 13, s->err, 0, why ? why : "general protection fault (not an emulated instruction)");
        return STEP_RETURN;
    }
    struct vcpu_exit *e = &v->exit;
    switch (in.kind) {
    case PROC_INSN_IN:
    case PROC_INSN_OUT:
        memset(e, 0, sizeof(*e));
        e->reason = VCPU_EXIT_PIO;
        e->pio.port = in.port;
        e->pio.len = in.size;
        e->pio.is_write = in.kind == PROC_INSN_OUT;
        if (e->pio.is_write) {
            uint64_t mask = in.size == 4 ? 0xffffffffull : (1ull << (8 * in.size)) - 1;
            e->pio.data = (uint32_t)(pv->regs.gpr[X86_RAX] & mask);
            pv->pend = PEND_ADVANCE;
        } else {
            pv->pend = PEND_PIO_IN;
            pv->pio_size = in.size;
        }
        pv->pend_len = in.length;
        return STEP_RETURN;
    case PROC_INSN_HLT:
        pv->regs.rip += in.length;
        if (vcpu__irq_pending(v) && guest_interruptible(v))
            return STEP_RESUME;  /* the interrupt ends the halt at once */
        memset(e, 0, sizeof(*e));
        e->reason = VCPU_EXIT_HLT;
        return STEP_RETURN;
    case PROC_INSN_CLI:
        pv->vif = false;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_CLI]++;
        return STEP_RESUME;
    case PROC_INSN_STI:
        pv->vif = true;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_STI]++;
        return STEP_RESUME;
    case PROC_INSN_LIDT: {
        uint8_t desc[10];
        if (vcpu_memmap__read(v->vm->mem, in.addr, desc, sizeof desc) != 0) {
            set_fault(v, 14, 0, in.addr, "lidt operand is not in guest RAM");
            return STEP_RETURN;
        }
        pv->idt_limit = (uint16_t)(desc[0] | desc[1] << 8);
        memcpy(&pv->idt_base, desc + 2, 8);
        pv->idt_set = true;
        pv->regs.rip += in.length;
        v->stats.n[VCPU_STAT_LIDT]++;
        return STEP_RESUME;
    }
    }
    set_fault(v, 13, s->err, 0, "unreachable");
    return STEP_RETURN;
}

static enum step on_pf(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    const struct vcpu_memmap *m = v->vm->mem;
    uint64_t addr = s->fault_addr;
    if ((s->err & 0x10) || addr == pv->regs.rip || gpa_is_mapped(m, addr) ||
        addr >= VCPU_GPA_LIMIT) {
        set_fault(v, 14, s->err, addr, "page fault outside emulated device space");
        return STEP_RETURN;
    }
    uint8_t code[15];
    size_t n = fetch(v, code);
    struct x86_gprs g;
    struct x86_mmio_insn mi;
    to_gprs(&pv->regs, &g);
    if (x86_decode_mmio(code, n, &g, &mi) != X86_DECODE_OK || !mi.length || mi.length > n ||
        (mi.access_size != 1 && mi.access_size != 2 && mi.access_size != 4 &&
         mi.access_size != 8)) {
        set_fault(v, 14, s->err, addr, "MMIO access by an instruction the decoder does not handle");
        return STEP_RETURN;
    }
    uint64_t last = mi.addr + mi.access_size - 1;
    if (last < mi.addr || last >= VCPU_GPA_LIMIT || addr < mi.addr || addr > last ||
        gpa_is_mapped(m, mi.addr) || gpa_is_mapped(m, last)) {
        set_fault(v, 14, s->err, addr, "MMIO access straddles memory or does not match the fault");
        return STEP_RETURN;
    }
    struct vcpu_exit *e = &v->exit;
    memset(e, 0, sizeof(*e));
    e->reason = VCPU_EXIT_MMIO;
    e->mmio.addr = mi.addr;
    e->mmio.len = mi.access_size;
    e->mmio.is_write = mi.dir == X86_MMIO_STORE;
    if (e->mmio.is_write)
        e->mmio.data = mi.store_value;
    pv->mmio = mi;
    pv->pend = PEND_MMIO;
    return STEP_RETURN;
}

static enum step classify(struct vcpu *v, const struct exit_snap *s)
{
    struct proc_vcpu *pv = PV(v);
    memcpy(pv->regs.gpr, s->regs, sizeof pv->regs.gpr);
    pv->regs.rip = s->regs[PROC_REG_RIP];
    pv->regs.rflags = (s->regs[PROC_REG_RFLAGS] & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    switch (s->signo) {
    case KICK_SIGNO:
        v->stats.n[VCPU_STAT_KICK]++;
        atomic_store(&pv->kick_sent_ns, 0);
        return STEP_RESUME;
    case SIGSEGV:
        if (s->trapno == 13)
            return on_gp(v, s);
        if (s->trapno == 14)
            return on_pf(v, s);
        set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  "guest exception");
        return STEP_RETURN;
    case SIGILL: {
        const char *why = s->trapno == 6 ? gate_why(v, 6) : NULL;
        set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  why ? why : "guest exception");
        return STEP_RETURN;
    }
    case SIGBUS: {
        const char *why = s->trapno == 11 ? gate_why(v, 11) : NULL;
        set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  why ? why : "guest exception");
        return STEP_RETURN;
    }
    case SIGFPE:
    case SIGTRAP:
        set_fault(v, s->trapno < 32 ? (uint8_t)s->trapno : 13, s->err, s->fault_addr,
                  "guest exception");
        return STEP_RETURN;
    default:
        return -1;
    }
}

static void complete_pending(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    struct x86_gprs g;
    switch (pv->pend) {
    case PEND_NONE:
        break;
    case PEND_ADVANCE:
        pv->regs.rip += pv->pend_len;
        break;
    case PEND_PIO_IN: {
        uint64_t *rax = &pv->regs.gpr[X86_RAX];
        uint32_t d = v->exit.pio.data;
        if (pv->pio_size == 1)
            *rax = (*rax & ~0xffull) | (d & 0xff);
        else if (pv->pio_size == 2)
            *rax = (*rax & ~0xffffull) | (d & 0xffff);
        else
            *rax = d;
        pv->regs.rip += pv->pend_len;
        break;
    }
    case PEND_MMIO:
        to_gprs(&pv->regs, &g);
        x86_mmio_complete(&pv->mmio, &g, v->exit.mmio.data);
        from_gprs(&pv->regs, &g);
        break;
    }
    pv->pend = PEND_NONE;
}

static int proc_run(struct vcpu *v)
{
    struct proc_vcpu *pv = PV(v);
    if (pv->dead) {
        v->exit = pv->dead_exit;
        return 0;
    }
    complete_pending(v);
    for (;;) {
        atomic_store(&pv->running, true);
        if (atomic_exchange(&v->kick_requested, false)) {
            atomic_store(&pv->running, false);
            memset(&v->exit, 0, sizeof v->exit);
            v->exit.reason = VCPU_EXIT_INTR;
            return 0;
        }
        volatile struct proc_cpu_page *cp = cpu_page(v);
        bool poll = false;
        if (vcpu__irq_pending(v)) {
            if (guest_interruptible(v)) {
                if (v->request_irq_window) {
                    atomic_store(&pv->running, false);
                    memset(&v->exit, 0, sizeof v->exit);
                    v->exit.reason = VCPU_EXIT_IRQ_WINDOW;
                    return 0;
                }
                int vec = vcpu__irr_take(v);
                if (vec >= 0 && !deliver(v, vec)) {
                    atomic_store(&pv->running, false);
                    return 0;
                }
            }
            if (cp)
                cp->irq_pending = vcpu__irq_pending(v) ? 1 : 0;
            poll = pv->vif && vcpu__irq_pending(v);
        } else if (cp && cp->irq_pending) {
            cp->irq_pending = 0;
        }

        int64_t t0 = now_ns();
        v->stats.n[VCPU_STAT_EXITS]++;
        resume(pv);
        if (wait_exit(pv, 0, poll) != 0) {
            v->exit = pv->dead_exit;
            return 0;
        }
        int64_t ran = now_ns() - t0;
        pv->ewma_run_ns += (ran - pv->ewma_run_ns) / 8;
        atomic_store(&pv->running, false);
        struct exit_snap s;
        snapshot(pv, &s);
        enum step st = classify(v, &s);
        if ((int)st == -1) {
            log__err("vcpu", "guest process %d broke the trap protocol (signal %u); killing it",
                     (int)pv->pid, s.signo);
            kill_guest(pv);
            pv->dead_exit.shutdown.cause = VCPU_SHUTDOWN_PROTOCOL;
            v->exit = pv->dead_exit;
            return 0;
        }
        if (st == STEP_RETURN)
            return 0;
    }
}

const struct vcpu_ops proc_vcpu_ops = {
    .name = "proc",
    .caps = VCPU_CAP_DIRECT_MAP | VCPU_CAP_ASYNC_INJECT | VCPU_CAP_CPU_TIME | VCPU_CAP_SANDBOXED,
    .vm_init = proc_vm_init,
    .vm_destroy = proc_vm_destroy,
    .create = proc_create,
    .destroy = proc_destroy,
    .get_regs = proc_get_regs,
    .set_regs = proc_set_regs,
    .run = proc_run,
    .kick = proc_kick,
    .notify_irq = proc_notify_irq,
    .interruptible = guest_interruptible,
    .cpu_time_ns = proc_cpu_time_ns,
};
