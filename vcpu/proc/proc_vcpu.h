/* Process backend specifics beyond the generic vcpu ops: tuning of the
 * trap hand-off and introspection for tests and benchmarks. */
#ifndef IOVIRT_VCPU_PROC_VCPU_H
#define IOVIRT_VCPU_PROC_VCPU_H

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
};

/* Chosen by bench_vcpu's sweep (docs/vcpu.md): when both sides really run
 * in parallel, spinning brings an exit to ~1.2x the raw fault+signal cost
 * for less CPU than futex wake-ups; when they do not, the adaptive budgets
 * shrink after a few misses (and probe again every 64 exits). */
#define PROC_DEFAULT_HV_SPIN_NS 50000
#define PROC_DEFAULT_STUB_SPIN  1000

/* Before vcpu__create(): applies to vcpus created afterwards. */
void proc_vm__set_tuning(struct vm *vm, const struct proc_tuning *t);
/* Pin the calling thread (the one that calls vcpu__run) and the guest
 * process to the CPU the caller runs on now, so every hand-off is a local
 * context switch: on the nested-VM test machines a cross-CPU wake-up costs
 * several times a local one (docs/vcpu.md).  Returns the CPU or -errno. */
int proc_vcpu__colocate(struct vcpu *v);
/* The guest process (tests observe it; -1 once reaped). */
pid_t proc_vcpu__pid(struct vcpu *v);
/* Path of the stub the vm will exec. */
const char *proc_vm__stub_path(struct vm *vm);

#endif
