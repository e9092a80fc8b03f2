/* KVM backend: one vCPU.  Its run page, the host's supported CPUID, and
 * the PVH entry state (drivers/platform/pvh.h): 32-bit protected mode,
 * paging off, flat 4 GiB code and data segments, a 32-bit TSS, IF = 0.
 * guest_load__setup_vcpu() then sets RIP (the note's entry) and RBX; for a
 * Linux bzImage it first switches to the 64-bit entry state
 * (kvm__set_entry_state). */
#include "vcpu/kvm/kvm_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define CPUID_MAX_ENTRIES 256
#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)  /* reads as 1 on every CPU since the 486 */
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static struct kvm_segment flat(uint16_t sel, uint8_t type)
{
    return (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1, .dpl = 0,
        .db = 1, .s = 1, .l = 0, .g = 1,
    };
}

/* pvh.pandoc: "CS: 32-bit read/execute, base 0, limit 4 GiB; DS, ES, SS:
 * 32-bit read/write, base 0, limit 4 GiB; TR: 32-bit TSS (active)".
 * Selectors are not specified; these match a GDT of null, code, data. */
static int set_pvh_state(int fd)
{
    struct kvm_sregs s;
    int r = kvm__ioctl(fd, KVM_GET_SREGS, &s);
    if (r)
        return r;
    s.cs = flat(0x08, 0xb);   /* execute/read, accessed */
    s.ds = s.es = s.fs = s.gs = s.ss = flat(0x10, 0x3);  /* read/write, accessed */
    s.tr = (struct kvm_segment){.base = 0, .limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1,
                                .s = 0};  /* 32-bit busy TSS */
    s.ldt = (struct kvm_segment){.selector = 0, .type = 0x2, .present = 1, .unusable = 1};
    s.gdt.base = 0, s.gdt.limit = 0;
    s.idt.base = 0, s.idt.limit = 0;  /* any exception before the guest's lidt: triple fault */
    s.cr0 = CR0_PE | CR0_ET;
    s.cr2 = s.cr3 = s.cr4 = 0;
    s.efer = 0;
    return kvm__ioctl(fd, KVM_SET_SREGS, &s);
}

/* boot.rst "64-bit BOOT PROTOCOL": long mode with paging (the loader's
 * identity tables at s->cr3), CS = __BOOT_CS a 64-bit code segment, DS =
 * ES = SS = __BOOT_DS flat data, the loader's GDT loaded; the TSS stays
 * the busy one create() set (type 11 is the 64-bit busy TSS in long mode,
 * which VM entry requires). */
int kvm__set_entry_state(struct vcpu *v, const struct vcpu_entry_state *e)
{
    if (e->boot != VCPU_BOOT_LINUX)
        return -ENOTSUP;
    struct kvm_sregs s;
    int fd = KV(v)->fd;
    int r = kvm__ioctl(fd, KVM_GET_SREGS, &s);
    if (r)
        return r;
    s.cs = flat(e->cs, 0xb);
    s.cs.l = 1, s.cs.db = 0;  /* 64-bit code: L set, D clear (SDM Vol. 3 3.4.5) */
    s.ds = s.es = s.fs = s.gs = s.ss = flat(e->ds, 0x3);
    s.gdt.base = e->gdt_base, s.gdt.limit = e->gdt_limit;
    s.idt.base = 0, s.idt.limit = 0;
    s.cr3 = e->cr3;
    s.cr4 = CR4_PAE;
    s.efer = EFER_LME | EFER_LMA;
    s.cr0 = CR0_PE | CR0_ET | CR0_PG;
    return kvm__ioctl(fd, KVM_SET_SREGS, &s);
}

static int set_cpuid(struct kvm_vm_state *k, int fd)
{
    size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = calloc(1, sz);
    if (!c)
        return -ENOMEM;
    c->nent = CPUID_MAX_ENTRIES;
    int r = kvm__ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c);
    /* KVM leaves CPUID.1:ECX[31] clear; a guest looks for the hypervisor
     * leaves (0x40000000, "KVMKVMKVM", kvm-clock) only when it is set (as
     * QEMU sets it). */
    for (unsigned i = 0; !r && i < c->nent; i++)
        if (c->entries[i].function == 1)
            c->entries[i].ecx |= 1u << 31;
    if (!r)
        r = kvm__ioctl(fd, KVM_SET_CPUID2, c);
    free(c);
    return r;
}

int kvm__create(struct vcpu *v)
{
    struct kvm_vm_state *k = KVM_VM(v->vm);
    struct kvm_vcpu_state *kv = calloc(1, sizeof(*kv));
    if (!kv)
        return -ENOMEM;
    atomic_init(&kv->tid, 0);
    const char *step = "KVM_CREATE_VCPU";
    int r;
    kv->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->id);
    if (kv->fd < 0) {
        r = -errno;
        goto fail;
    }
    step = "KVM_GET_VCPU_MMAP_SIZE";
    int sz = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run)) {
        r = sz < 0 ? -errno : -EPROTO;
        goto fail;
    }
    kv->run_size = (size_t)sz;
    step = "mapping the run page";
    kv->run = mmap(NULL, kv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
    if (kv->run == MAP_FAILED) {
        kv->run = NULL;
        r = -errno;
        goto fail;
    }
    step = "CPUID";
    if ((r = set_cpuid(k, kv->fd)))
        goto fail;
    step = "the PVH entry state";
    if ((r = set_pvh_state(kv->fd)))
        goto fail;
    v->backend = kv;
    return 0;
fail:
    log__err("kvm", "creating vCPU %u: %s: %s", v->id, step, strerror(-r));
    if (kv->run)
        munmap(kv->run, kv->run_size);
    if (kv->fd >= 0)
        close(kv->fd);
    free(kv);
    return r;
}

void kvm__destroy(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    if (!kv)
        return;
    munmap(kv->run, kv->run_size);
    close(kv->fd);
    free(kv);
    v->backend = NULL;
}

/* struct kvm_regs names the registers; vcpu_regs keeps encoding order. */
int kvm__get_regs(struct vcpu *v, struct vcpu_regs *r)
{
    struct kvm_regs k;
    int rc = kvm__ioctl(KV(v)->fd, KVM_GET_REGS, &k);
    if (rc)
        return rc;
    const uint64_t g[16] = {k.rax, k.rcx, k.rdx, k.rbx, k.rsp, k.rbp, k.rsi, k.rdi,
                            k.r8,  k.r9,  k.r10, k.r11, k.r12, k.r13, k.r14, k.r15};
    memcpy(r->gpr, g, sizeof g);
    r->rip = k.rip;
    r->rflags = k.rflags;
    return 0;
}

int kvm__set_regs(struct vcpu *v, const struct vcpu_regs *r)
{
    struct kvm_vcpu_state *kv = KV(v);
    if (kv->ex.pend != KVM_PEND_NONE || kv->ex.io_pending) {
        /* KVM would finish the exit's instruction (a read's register, an
         * out's RIP advance) on the next KVM_RUN, on top of the registers
         * set here (api.rst, immediate_exit): finish it now (the run
         * completes pending I/O and returns at once), then replace. */
        kvm__complete_pending(v);
        __atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        if (ioctl(kv->fd, KVM_RUN, 0) == 0 || errno != EINTR)
            log__err("kvm", "vCPU %u: completing a dropped read did not return EINTR", v->id);
        __atomic_store_n(&kv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        kv->ex.io_pending = false;
    }
    const uint64_t *g = r->gpr;
    struct kvm_regs k = {
        .rax = g[0], .rcx = g[1], .rdx = g[2], .rbx = g[3], .rsp = g[4], .rbp = g[5], .rsi = g[6], .rdi = g[7],
        .r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11], .r12 = g[12], .r13 = g[13], .r14 = g[14],
        .r15 = g[15], .rip = r->rip, .rflags = r->rflags | 0x2,  /* bit 1 is always set */
    };
    return kvm__ioctl(kv->fd, KVM_SET_REGS, &k);
}

/* The vCPU runs on the caller's thread: its CPU clock is the guest's time
 * (plus the exits' kernel work, as for the process backend). */
int64_t kvm__cpu_time_ns(struct vcpu *v)
{
    struct kvm_vcpu_state *kv = KV(v);
    pid_t tid = atomic_load(&kv->tid);
    if (!tid)
        return 0;
    /* glibc's pthread_getcpuclockid: CPUCLOCK_SCHED of a thread, by tid
     * (the thread may be gone; then the last reading stands). */
    clockid_t id = (clockid_t)((~(unsigned)tid << 3) | 6);
    struct timespec ts;
    if (clock_gettime(id, &ts) == 0)
        kv->last_cpu_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
    return kv->last_cpu_ns;
}
