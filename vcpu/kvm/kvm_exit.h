/* KVM backend: the exit mapping as a pure function of a run page, so it
 * can be driven without a vCPU fd (tests/fuzz/fuzz_kvm_exit.c feeds it
 * hostile run pages).  kvm_exit.c; kvm_priv.h wraps it for a vCPU. */
#ifndef IOVIRT_VCPU_KVM_KVM_EXIT_H
#define IOVIRT_VCPU_KVM_KVM_EXIT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/vcpu.h"

/* A guest read waiting for the caller's data, completed by the next run. */
enum kvm_pending { KVM_PEND_NONE, KVM_PEND_MMIO_READ, KVM_PEND_PIO_IN };

/* What one exit leaves for the next run.  The offset and length of an
 * `in` are the ones checked at the exit: completion never re-reads them
 * from the run page. */
struct kvm_exit_state {
    enum kvm_pending pend;
    uint32_t pio_offset;
    uint8_t pio_len;
    bool io_pending;   /* KVM holds the instruction and finishes it at the next KVM_RUN */
    bool dead;         /* triple fault: the vCPU is over */
};

/* Fill *e from run->exit_reason; run_size is the run page's mapped size
 * (nothing outside [run, run + run_size) is read).  A fault's RIP is left
 * 0: the caller reads the registers (KVM_GET_REGS) only for a fault. */
void kvm__exit_map(const struct kvm_run *run, size_t run_size, struct vcpu_exit *e, struct kvm_exit_state *s);
/* Put the caller's answer to a pending read (e->mmio.data / e->pio.data)
 * where KVM takes it; writes only run->mmio.data or the checked `in` bytes. */
void kvm__exit_complete(struct kvm_run *run, const struct vcpu_exit *e, struct kvm_exit_state *s);

#endif
