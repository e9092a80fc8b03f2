/* KVM backend: /dev/kvm and the VM.  Guest RAM becomes memory slots over
 * the physmem mapping (host VA != GPA is fine: KVM translates), DIRECT
 * regions slots over a mapping of their fd; everything else exits as MMIO.
 * The in-kernel irqchip (LAPIC, IOAPIC, PIC) takes interrupts and hlt;
 * the in-kernel PIT is the guest's calibration clock. */
#include "vcpu/kvm/kvm_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drivers/platform/platform_map.h"
#include "hw/physmem.h"
#include "lib/log.h"

int kvm__ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

/* 0 and the /dev/kvm fd in *fd, or -errno and why. */
static int open_kvm(int *fd, char *why, size_t len)
{
    /* Other implementations answer the same API on /dev/kvm (kvm_pvm runs
     * 64-bit paravirtual guests in software and cannot run this backend's
     * 32-bit PVH entry): only the hardware vendor modules will do. */
    if (access("/sys/module/kvm_intel", F_OK) != 0 && access("/sys/module/kvm_amd", F_OK) != 0) {
        if (access(KVM_DEV_PATH, F_OK) == 0)
            snprintf(why, len, "%s is not hardware KVM (neither kvm_intel nor kvm_amd is loaded)",
                     KVM_DEV_PATH);
        else
            snprintf(why, len, "no %s: ENOENT", KVM_DEV_PATH);
        return -ENODEV;
    }
    int f = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
    if (f < 0) {
        int e = errno;
        snprintf(why, len, "no %s: %s", KVM_DEV_PATH, strerrorname_np(e) ? strerrorname_np(e) : strerror(e));
        return -e;
    }
    int api = ioctl(f, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_WANT) {
        snprintf(why, len, "%s speaks KVM API %d, not %d", KVM_DEV_PATH, api, KVM_API_WANT);
        close(f);
        return -ENOTSUP;
    }
    static const struct {
        int cap;
        const char *name;
    } need[] = {
        {KVM_CAP_IRQCHIP, "in-kernel irqchip"}, {KVM_CAP_SIGNAL_MSI, "KVM_SIGNAL_MSI"},
        {KVM_CAP_IMMEDIATE_EXIT, "immediate_exit"}, {KVM_CAP_USER_MEMORY, "user memory"},
        {KVM_CAP_SET_TSS_ADDR, "KVM_SET_TSS_ADDR"}, {KVM_CAP_EXT_CPUID, "KVM_SET_CPUID2"},
        {KVM_CAP_PIT2, "KVM_CREATE_PIT2"}, {KVM_CAP_IRQ_ROUTING, "KVM_SET_GSI_ROUTING"},
    };
    for (unsigned i = 0; i < sizeof need / sizeof need[0]; i++)
        if (ioctl(f, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
            snprintf(why, len, "%s lacks %s", KVM_DEV_PATH, need[i].name);
            close(f);
            return -ENOTSUP;
        }
    snprintf(why, len, "%s", KVM_DEV_PATH);
    *fd = f;
    return 0;
}

int kvm__probe(char *why, size_t len)
{
    int fd;
    int r = open_kvm(&fd, why, len);
    if (!r)
        close(fd);
    return r;
}

static int add_slot(struct kvm_vm_state *k, unsigned max, uint64_t gpa, uint64_t len, void *va,
                    bool readonly)
{
    if (k->nslots >= max) {
        log__err("kvm", "guest memory needs more than %u memory slots", max);
        return -ENOSPC;
    }
    struct kvm_userspace_memory_region mr = {
        .slot = k->nslots, .flags = readonly ? KVM_MEM_READONLY : 0, .guest_phys_addr = gpa,
        .memory_size = len, .userspace_addr = (uint64_t)(uintptr_t)va,
    };
    int r = kvm__ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
    if (r) {
        log__err("kvm", "memory slot [%#llx, +%#llx): %s", (unsigned long long)gpa, (unsigned long long)len,
                 strerror(-r));
        return r;
    }
    k->nslots++;
    return 0;
}

static int add_slots(struct vm *vm, struct kvm_vm_state *k)
{
    const struct vcpu_memmap *m = vm->mem;
    int max = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    if (max <= 0)
        max = 32; /* the documented minimum */
    k->direct = calloc(m->n ? m->n : 1, sizeof(*k->direct));
    if (!k->direct)
        return -ENOMEM;
    /* RAM: one slot per run of regions adjacent in GPA and host VA (the
     * extents are scattered on purpose, so usually one per extent). */
    for (unsigned i = 0; i < m->n;) {
        const struct vcpu_mem_region *r = &m->r[i];
        if (r->kind == VCPU_MEM_DIRECT) {
            int prot = PROT_READ | (r->writable ? PROT_WRITE : 0);
            void *va = mmap(NULL, r->len, prot, MAP_SHARED, r->fd, (off_t)r->offset);
            if (va == MAP_FAILED) {
                int e = errno;
                log__err("kvm", "mapping device pages at %#llx: %s", (unsigned long long)r->gpa, strerror(e));
                return -e;
            }
            k->direct[k->ndirect++] = (struct kvm_direct_map){va, r->len};
            int rc = add_slot(k, (unsigned)max, r->gpa, r->len, va, !r->writable);
            if (rc)
                return rc;
            i++;
            continue;
        }
        uint8_t *va = physmem__ptr(m->pm, r->hpa, r->len);
        if (!va)
            return -EFAULT;
        uint64_t gpa = r->gpa, len = r->len;
        for (i++; i < m->n && m->r[i].kind == VCPU_MEM_RAM && m->r[i].gpa == gpa + len &&
                  physmem__ptr(m->pm, m->r[i].hpa, m->r[i].len) == va + len;
             i++)
            len += m->r[i].len;
        int rc = add_slot(k, (unsigned)max, gpa, len, va, false);
        if (rc)
            return rc;
    }
    return 0;
}

int kvm__vm_init(struct vm *vm)
{
    char why[160];
    struct kvm_vm_state *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->vm_fd = -1;
    pthread_mutex_init(&k->irqfd_lock, NULL);
    for (unsigned i = 0; i < KVM_IRQFD_MAX; i++)
        k->irqfd[i].efd = -1;
    int r = open_kvm(&k->sys_fd, why, sizeof why);
    if (r) {
        log__err("kvm", "cannot use KVM: %s", why);
        pthread_mutex_destroy(&k->irqfd_lock);
        free(k);
        return r;
    }
    vm->backend = k;
    if (!vm->mem->pm || !vm->mem->pm->base) {
        log__err("kvm", "guest memory map has no host physical memory");
        r = -EINVAL;
        goto fail;
    }
    k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
    if (k->vm_fd < 0) {
        r = -errno;
        log__err("kvm", "KVM_CREATE_VM: %s", strerror(-r));
        goto fail;
    }
    /* VMX needs these pages for real-mode emulation (SVM ignores them);
     * they sit in the platform's backend-reserved window, never RAM, and
     * the identity map must be set before any vCPU exists. */
    uint64_t ident = PLATFORM_BACKEND_RESERVED_BASE;
    r = kvm__ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
    if (!r && ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)(PLATFORM_BACKEND_RESERVED_BASE + 0x1000)) < 0)
        r = -errno;
    if (r) {
        log__err("kvm", "placing the TSS / identity map: %s", strerror(-r));
        goto fail;
    }
    if ((r = kvm__ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, NULL))) {
        log__err("kvm", "KVM_CREATE_IRQCHIP: %s", strerror(-r));
        goto fail;
    }
    /* The 8254 PIT in the kernel (ports 0x40-0x43 and 0x61 never exit):
     * Linux calibrates its TSC and local APIC timer against it.  It raises
     * GSI 0, which the platform's routes take to I/O APIC input 2. */
    struct kvm_pit_config pit = {.flags = 0};
    if ((r = kvm__ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit))) {
        log__err("kvm", "KVM_CREATE_PIT2: %s", strerror(-r));
        goto fail;
    }
    if ((r = kvm__set_routing(k))) {
        log__err("kvm", "KVM_SET_GSI_ROUTING: %s", strerror(-r));
        goto fail;
    }
    if ((r = add_slots(vm, k)))
        goto fail;
    return 0;
fail:
    kvm__vm_destroy(vm);
    return r;
}

void kvm__vm_destroy(struct vm *vm)
{
    struct kvm_vm_state *k = KVM_VM(vm);
    if (!k)
        return;
    if (k->vm_fd >= 0)
        close(k->vm_fd);  /* the VM goes with its last fd: slots before their mappings */
    for (unsigned i = 0; i < k->ndirect; i++)
        munmap(k->direct[i].va, k->direct[i].len);
    free(k->direct);
    close(k->sys_fd);
    pthread_mutex_destroy(&k->irqfd_lock);
    free(k);
    vm->backend = NULL;
}
