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

/* Chosen by bench_vcpu's sweep (docs/vcpu.md): on the shared nested-VM
 * test machines spinning buys nothing and costs CPU; a short adaptive spin
 * keeps the gain where both sides really run in parallel. */
#define PROC_DEFAULT_HV_SPIN_NS 5000
#define PROC_DEFAULT_STUB_SPIN  50

/* Before vcpu__create(): applies to vcpus created afterwards. */
void proc_vm__set_tuning(struct vm *vm, const struct proc_tuning *t);
/* The guest process (tests observe it; -1 once reaped). */
pid_t proc_vcpu__pid(struct vcpu *v);
/* Path of the stub the vm will exec. */
const char *proc_vm__stub_path(struct vm *vm);

#endif
