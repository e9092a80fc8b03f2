/* Process backend specifics beyond the generic vcpu ops: tuning of the
 * trap hand-off and introspection for tests and benchmarks. */
#ifndef IOVIRT_VCPU_PROC_VCPU_H
#define IOVIRT_VCPU_PROC_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vcpu/vcpu.h"

/* Spinning before sleeping on a futex.  hv_spin_ns: the hypervisor spins at
 * most this long for an exit (adaptive: only while recent guest runs were
 * that short); stub_spin: pause iterations the stub spins for a reply
 * (fixed when the guest process starts: set before vcpu__create via the
 * vm).  0 disables spinning. */
struct proc_tuning {
    uint64_t hv_spin_ns;
    uint32_t stub_spin;
    /* Interrupt delivery into a running guest (docs/vcpu.md, "Exitless
     * delivery"): PROC_IRQ_DEFAULT (the environment's IOVIRT_PROC_IRQ =
     * "exit" / "exitless" if set, else PROC_DEFAULT_IRQ), PROC_IRQ_EXITLESS
     * (the stub delivers a posted vector itself) or PROC_IRQ_EXIT (every
     * notification is an exit; the hypervisor delivers). */
    uint32_t irq;
};
enum { PROC_IRQ_DEFAULT, PROC_IRQ_EXITLESS, PROC_IRQ_EXIT };

/* Chosen by bench_vcpu's sweep (docs/vcpu.md): when both sides really run
 * in parallel, spinning brings an exit to ~1.2x the raw fault+signal cost
 * for less CPU than futex wake-ups; when they do not, the adaptive budgets
 * shrink after a few misses (and probe again every 64 exits). */
#define PROC_DEFAULT_HV_SPIN_NS 50000
#define PROC_DEFAULT_STUB_SPIN  1000
/* Measured faster, same tests pass (docs/vcpu.md). */
#define PROC_DEFAULT_IRQ        PROC_IRQ_EXITLESS

/* Before vcpu__create(): applies to vcpus created afterwards. */
void proc_vm__set_tuning(struct vm *vm, const struct proc_tuning *t);
/* Pin the calling thread (the one that calls vcpu__run) and the guest
 * process to the CPU the caller runs on now, so every hand-off is a local
 * context switch: on the nested-VM test machines a cross-CPU wake-up costs
 * several times a local one (docs/vcpu.md).  Returns the CPU or -errno. */
int proc_vcpu__colocate(struct vcpu *v);
/* The guest process (tests observe it; -1 once reaped). */
pid_t proc_vcpu__pid(struct vcpu *v);
/* Interrupts the stub delivered itself (exitless), for tests and
 * benchmarks (guest-writable counter: a hint, not accounting). */
uint64_t proc_vcpu__posted_count(struct vcpu *v);
/* Is exitless delivery in use for this vcpu? */
bool proc_vcpu__exitless(struct vcpu *v);
/* Path of the stub the vm will exec. */
const char *proc_vm__stub_path(struct vm *vm);

#endif
