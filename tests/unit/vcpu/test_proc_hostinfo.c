/* Host information never reaches the guest (issue 11, item 4).  The guest
 * can read every page its process maps, so from its entry on that process
 * must hold nothing of the host -- no address the host's kernel or the
 * hypervisor chose, no host-physical offset of its RAM, no host path or
 * environment string -- except the stub's own image and the vDSO/vvar
 * (docs/security.md says what those reveal).
 *
 * Host side: /proc/PID/maps of the guest process lists only allowed kinds,
 * and every page that is not guest RAM, vDSO or vvar, read through
 * /proc/PID/mem, holds none of those values.  Guest side
 * (tests/guests/hostinfo.c): what the guest itself finds in the mailbox at
 * entry, at the stub's old stack, and after a kick. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "proc_guest_util.h"
#include "vcpu/proc/proc_mailbox.h"

extern char **environ;

#define PORT_REPORT 0x510  /* tests/guests/guest.h: TEST_PORT_REPORT */
#define PORT_PARAM  0x514  /* TEST_PORT_PARAM */

/* 1 GiB of host memory: physmem__alloc_scattered places the RAM extents
 * near its top, so their HPAs (about 1 GiB) differ from any GPA (< 17 MiB),
 * any loop counter of the guest (< 2^27) and any stub constant. */
#define HOST_MEM (1ull << 30)
#define HPA_FLOOR (512ull << 20)

/* An address the host chose: the user half above guest-physical space
 * (1 << 46 .. 1 << 47, exclusive) holds the stack, mmap area and vDSO of
 * every process here and the hypervisor's own image and heap; only the
 * stub's fixed image and mailbox (PROC_STUB_TEXT_VA .. mailbox end) are not
 * the host's. */
static bool host_address(uint64_t v)
{
    if (v <= PROC_GPA_LIMIT || v >= (1ull << 47))
        return false;
    return !(v >= PROC_STUB_TEXT_VA && v < PROC_MAILBOX_VA + 4096);
}

/* ---- running the test guest -------------------------------------------- */

struct run {
    const uint32_t *params;
    unsigned nparams, next_param;
    bool kick;                 /* kick (repeatedly) once the guest reported 1 */
    uint32_t rep[64];
    unsigned nrep;
    bool exited;
    uint32_t code;
    struct vcpu_exit last;
};

struct kicker {
    struct vcpu *v;
    atomic_bool stop;
};

/* Kicks every 20 ms (at most 5 s): one kick that lands while the guest
 * spins is all the guest waits for; later ones only cost an INTR exit. */
static void *kick_loop(void *arg)
{
    struct kicker *k = arg;
    for (int i = 0; i < 250 && !atomic_load(&k->stop); i++) {
        struct timespec d = {0, 20000000};
        nanosleep(&d, NULL);
        vcpu__kick(k->v);
    }
    return NULL;
}

static void run_guest(struct tguest *g, struct run *r)
{
    struct kicker k = {.v = &g->v};
    atomic_init(&k.stop, false);
    pthread_t th;
    bool kicking = false;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(vcpu__run(&g->v), 0);
        struct vcpu_exit *e = &g->v.exit;
        r->last = *e;
        if (e->reason == VCPU_EXIT_INTR)
            continue;
        if (tguest__is_exit(e, &r->code)) {
            r->exited = true;
            break;
        }
        if (e->reason != VCPU_EXIT_PIO)
            break;
        if (!e->pio.is_write && e->pio.port == PORT_PARAM) {
            assert_true(r->next_param < r->nparams);
            e->pio.data = r->params[r->next_param++];
        } else if (e->pio.is_write && e->pio.port == PORT_REPORT) {
            assert_true(r->nrep < sizeof r->rep / sizeof r->rep[0]);
            r->rep[r->nrep++] = e->pio.data;
            if (r->kick && !kicking && r->nrep == 1) {
                assert_int_equal(pthread_create(&th, NULL, kick_loop, &k), 0);
                kicking = true;
            }
        }
    }
    if (kicking) {
        atomic_store(&k.stop, true);
        pthread_join(th, NULL);
    }
}

static uint64_t rep64(const struct run *r, unsigned i)
{
    return (uint64_t)r->rep[2 * i + 1] << 32 | r->rep[2 * i];
}

/* ---- the host's view of the guest process -------------------------------- */

/* What inspect() found, one line each, reported together. */
struct findings {
    char text[16384];
    unsigned n;
};

__attribute__((format(printf, 2, 3))) static void found(struct findings *f, const char *fmt, ...)
{
    f->n++;
    size_t used = strlen(f->text);
    if (used + 2 >= sizeof f->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text + used, sizeof f->text - used - 1, fmt, ap);
    va_end(ap);
    strcat(f->text, "\n");
}

struct needles {
    const char *str[256];
    unsigned nstr;
    const uint64_t *hpa;
    unsigned nhpa;
};

static void add_str(struct needles *n, const char *s)
{
    /* Short strings could match by chance; none of the host's paths is. */
    if (s && strlen(s) >= 8 && n->nstr < sizeof n->str / sizeof n->str[0])
        n->str[n->nstr++] = s;
}

/* Search one mapping's bytes: every offset against the strings and, in
 * writable memory (where anything of the running host would be stored),
 * every 8-byte-aligned qword against host addresses and the RAM extents'
 * HPAs.  The stub's read-only image is fixed at build time: its code and
 * constants are accepted (they hold stub addresses and instruction bytes),
 * only a build path would be host data there. */
static void scan(struct findings *f, const char *what, uint64_t va, const uint8_t *b,
                 size_t len, bool writable, const struct needles *n)
{
    for (size_t off = 0; writable && off + 8 <= len; off += 8) {
        uint64_t v;
        memcpy(&v, b + off, 8);
        if (host_address(v))
            found(f, "%s: host address 0x%llx at 0x%llx", what, (unsigned long long)v,
                  (unsigned long long)(va + off));
        for (unsigned i = 0; i < n->nhpa; i++)
            if (v == n->hpa[i])
                found(f, "%s: HPA 0x%llx of RAM extent %u at 0x%llx", what,
                      (unsigned long long)v, i, (unsigned long long)(va + off));
    }
    for (unsigned i = 0; i < n->nstr; i++) {
        const uint8_t *at = memmem(b, len, n->str[i], strlen(n->str[i]));
        if (at)
            found(f, "%s: host string \"%s\" at 0x%llx", what, n->str[i],
                  (unsigned long long)(va + (uint64_t)(at - b)));
    }
}

/* Every mapping of the guest process is one of the allowed kinds; every one
 * the guest can read that is not its RAM or the vDSO/vvar holds nothing of
 * the host.  Returns the number of mappings scanned. */
static unsigned inspect(struct tguest *g, pid_t pid, const char *phase)
{
    char stub_real[PATH_MAX], stub_dir[PATH_MAX], exe[PATH_MAX], cwd[PATH_MAX];
    assert_non_null(realpath(proc_vm__stub_path(&g->vm), stub_real));
    snprintf(stub_dir, sizeof stub_dir, "%s", stub_real);
    dirname(stub_dir);
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(el > 0);
    exe[el] = 0;
    assert_non_null(getcwd(cwd, sizeof cwd));

    struct needles n = {.hpa = g->hpas, .nhpa = TG_RAM_SIZE / PHYSMEM_PAGE_2M};
    /* The compiler's identification (.comment): an unstripped stub maps it
     * right after .rodata, with the start of its debug info (mk/vcpu.mk). */
    n.str[n.nstr++] = "GCC: (";
    add_str(&n, proc_vm__stub_path(&g->vm));  /* as execve got it (AT_EXECFN) */
    add_str(&n, stub_real);
    add_str(&n, stub_dir);
    add_str(&n, exe);
    add_str(&n, cwd);
    for (char **e = environ; *e; e++)
        add_str(&n, *e);

    char p[64], line[512];
    snprintf(p, sizeof p, "/proc/%d/mem", (int)pid);
    int mem = open(p, O_RDONLY);
    assert_true(mem >= 0);
    snprintf(p, sizeof p, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    unsigned scanned = 0, stub_image = 0, mailbox = 0, posted = 0;
    static struct findings fnd;
    memset(&fnd, 0, sizeof fnd);
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8], path[PATH_MAX] = "";
        assert_true(sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095s", &lo, &hi, perms, path) >= 3);
        bool anon = path[0] == 0;
        bool in_stub = lo >= PROC_STUB_TEXT_VA && hi <= PROC_MAILBOX_VA;
        if (lo >= PLATFORM_RAM_BASE && hi <= PLATFORM_RAM_BASE + TG_RAM_SIZE &&
            strstr(path, "iovirt-physmem"))
            continue;  /* guest RAM: the guest's own */
        if (!strcmp(path, "[vdso]") || !strncmp(path, "[vvar", 5) || !strcmp(path, "[vsyscall]"))
            continue;  /* accepted, docs/security.md */
        if (in_stub && !strcmp(path, stub_real))
            stub_image++;
        else if (in_stub && anon && !strcmp(perms, "rw-p"))
            ;  /* the stub's bss: altstack, set-up stack, plan buffer */
        else if (lo == PROC_MAILBOX_VA && hi == lo + 4096 && strstr(path, "iovirt-mailbox"))
            mailbox++;
        else if (lo == PROC_POSTED_VA && hi == lo + 4096 && strstr(path, "iovirt-mailbox") &&
                 !strcmp(perms, "r--s"))
            posted++;  /* posted-interrupt state, read-only (scanned like the rest) */
        else
            found(&fnd, "%s: unexpected mapping: %.*s", phase, (int)strcspn(line, "\n"), line);
        size_t len = (size_t)(hi - lo);
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        if (pread(mem, buf, len, (off_t)lo) != (ssize_t)len)
            fail_msg("%s: cannot read %s", phase, line);
        char what[600];
        snprintf(what, sizeof what, "%s, %.*s", phase, (int)strcspn(line, "\n"), line);
        scan(&fnd, what, lo, buf, len, perms[1] == 'w', &n);
        free(buf);
        scanned++;
    }
    fclose(f);
    close(mem);
    if (fnd.n) {
        fprintf(stderr, "%s", fnd.text);  /* cmocka shortens long messages */
        fflush(stderr);
        fail_msg("%s: %u findings (listed above)", phase, fnd.n);
    }
    assert_true(stub_image >= 1);
    assert_int_equal(mailbox, 1);
    assert_int_equal(posted, 1);
    return scanned;
}

static void start(struct tguest *g, const char *cmd)
{
    tguest__init_mem(g, HOST_MEM);
    for (unsigned i = 0; i < TG_RAM_SIZE / PHYSMEM_PAGE_2M; i++)
        assert_true(g->hpas[i] >= HPA_FLOOR);
    tguest__start(g, "hostinfo", cmd);
}

/* Host side: at entry (the stub waits at its boot exit, the mailbox holds
 * what the guest will find) and again after the guest ran and was kicked. */
static void test_guest_process_holds_nothing_of_the_host(void **state)
{
    (void)state;
    struct tguest g;
    start(&g, "kick");
    pid_t pid = proc_vcpu__pid(&g.v);
    assert_true(pid > 0);
    assert_true(inspect(&g, pid, "at entry") >= 3);

    uint32_t params[] = {(uint32_t)getpid()};
    struct run r = {.params = params, .nparams = 1, .kick = true};
    run_guest(&g, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    assert_true(inspect(&g, pid, "after a kick") >= 3);
    tguest__fini(&g);
}

/* Guest side: the mailbox's exit fields at entry (where the stub's boot exit
 * was posted) are all zero. */
static void test_mailbox_at_entry_is_clean(void **state)
{
    (void)state;
    static const char *const names[5 + PROC_NREGS] = {
        "signo", "si_code", "fault_addr", "trapno", "err", "rax", "rcx", "rdx", "rbx", "rsp",
        "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
        "rflags"};
    struct tguest g;
    start(&g, "boot");
    struct run r = {0};
    run_guest(&g, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.nrep, 2 * (5 + PROC_NREGS));
    char found[2048] = "";
    unsigned nonzero = 0, host = 0;
    for (unsigned i = 0; i < 5 + PROC_NREGS; i++) {
        uint64_t v = rep64(&r, i);
        if (!v)
            continue;
        nonzero++;
        host += host_address(v);
        size_t used = strlen(found);
        snprintf(found + used, sizeof found - used, " %s=0x%llx%s", names[i],
                 (unsigned long long)v, host_address(v) ? " (host address)" : "");
    }
    if (nonzero)
        fail_msg("at entry the guest reads %u non-zero exit fields (%u host addresses):%s",
                 nonzero, host, found);
    tguest__fini(&g);
}

/* /proc/PID/stat field 28: where Linux put the initial stack pointer. */
static uint64_t start_stack(pid_t pid)
{
    char p[64], buf[2048];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    char *s = strrchr(buf, ')');
    assert_non_null(s);
    s += 2;  /* field 3, state */
    for (int field = 3; field < 28; field++) {
        s = strchr(s, ' ');
        assert_non_null(s);
        s++;
    }
    return strtoull(s, NULL, 10);
}

/* Guest side: reading where the stub's Linux stack was (argv, envp, auxv,
 * AT_RANDOM, the stub's path) stops the guest with a page fault. */
static void test_old_stack_is_gone(void **state)
{
    (void)state;
    struct tguest g;
    start(&g, "peek");
    uint64_t sp = start_stack(proc_vcpu__pid(&g.v));
    assert_true(host_address(sp));
    uint32_t params[] = {(uint32_t)sp, (uint32_t)(sp >> 32)};
    struct run r = {.params = params, .nparams = 2};
    run_guest(&g, &r);
    if (r.nrep == 2)
        fail_msg("the guest read 0x%llx at the stub's old stack 0x%llx",
                 (unsigned long long)rep64(&r, 0), (unsigned long long)sp);
    assert_int_equal(r.last.reason, VCPU_EXIT_FAULT);
    assert_int_equal(r.last.fault.vector, 14);
    assert_int_equal(r.last.fault.addr, sp);
    tguest__fini(&g);
}

/* Guest side: a kick is a signal the hypervisor sends; its siginfo names the
 * sender (pid, uid).  Neither the mailbox nor the stub's memory keeps it
 * once the guest runs again. */
static void test_kick_leaves_no_sender(void **state)
{
    (void)state;
    struct tguest g;
    start(&g, "kick");
    uint32_t params[] = {(uint32_t)getpid()};
    struct run r = {.params = params, .nparams = 1, .kick = true};
    run_guest(&g, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    assert_true(g.v.stats.n[VCPU_STAT_KICK] >= 1);
    assert_int_equal(r.nrep, 4);
    uint64_t fault_addr = (uint64_t)r.rep[2] << 32 | r.rep[1];
    if (fault_addr != 0 || r.rep[3] != 0)
        fail_msg("after a kick the guest reads fault_addr 0x%llx (hypervisor pid %d) and "
                 "finds %u copies of the kick's siginfo in the stub's memory",
                 (unsigned long long)fault_addr, (int)getpid(), r.rep[3]);
    tguest__fini(&g);
}

/* Guest side: [vsyscall] is the kernel's fixed legacy page, the same in
 * every process; calling its time() would read the host's clock.  The
 * kernel runs the emulated call through seccomp with the vsyscall address
 * as instruction pointer, which is not the stub's: the guest is killed
 * (SIGSYS).  Without the page (vsyscall=none) the call faults. */
static void test_vsyscall_is_stopped(void **state)
{
    (void)state;
    struct tguest g;
    start(&g, "vsyscall");
    struct run r = {0};
    run_guest(&g, &r);
    if (r.nrep == 2)
        fail_msg("the guest read the host's time %llu through [vsyscall]",
                 (unsigned long long)rep64(&r, 0));
    if (r.last.reason == VCPU_EXIT_SHUTDOWN) {
        assert_int_equal(r.last.shutdown.cause, VCPU_SHUTDOWN_SIGNALED);
        assert_int_equal(r.last.shutdown.status, SIGSYS);
    } else {
        assert_int_equal(r.last.reason, VCPU_EXIT_FAULT);
        assert_int_equal(r.last.fault.vector, 14);
    }
    tguest__fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_process_holds_nothing_of_the_host),
        cmocka_unit_test(test_mailbox_at_entry_is_clean),
        cmocka_unit_test(test_old_stack_is_gone),
        cmocka_unit_test(test_kick_leaves_no_sender),
        cmocka_unit_test(test_vsyscall_is_stopped),
    };
    return cmocka_run_group_tests_name("proc_hostinfo", tests, NULL, NULL);
}
