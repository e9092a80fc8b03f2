/* Interrupt entry stubs of the proc port, one per vector, 16 bytes apart
 * (hal_proc_isr_stubs + 16 * vector).
 *
 * The runner enters a stub with the frame of a 64-bit interrupt gate without
 * privilege change and without error code (SS, RSP, RFLAGS, CS, RIP) and with
 * irq_masked = 1.  The common path saves every GPR, calls
 * hal_proc__irq_entry(vector), then per the ABI clears irq_masked; if an
 * interrupt became pending meanwhile it executes `sti` (which traps: the
 * runner delivers it, nested on this stack) and finally iretq, which runs
 * natively ring 3 to ring 3. */
#include "guest/hal/isr_frame.h"

    .text
ISR_STUB_TABLE(hal_proc_isr_stubs, hal_proc_isr_common)

hal_proc_isr_common:
    ISR_SAVE_GPRS
    ISR_CALL(hal_proc__irq_entry)
    /* Interrupted inside hal__irq_wait between unmasking and hlt?  Resume
     * after the hlt, so the wakeup this interrupt brings is not lost (the
     * `sti; hlt` atomicity real x86 has). */
    mov     16*8(%rsp), %rax        /* saved RIP */
    lea     hal_proc_idle_window(%rip), %rcx
    cmp     %rcx, %rax
    jb      2f
    lea     hal_proc_idle_end(%rip), %rcx
    cmp     %rcx, %rax
    jae     2f
    mov     %rcx, 16*8(%rsp)
2:
    mov     hal_proc_state(%rip), %rax   /* struct proc_cpu_page * */
    movl    $0, (%rax)              /* irq_masked = 0 */
    mfence
    cmpl    $0, 4(%rax)             /* irq_pending? */
    je      1f
    sti                             /* trap: deliver the pending interrupt */
1:
    ISR_RESTORE_GPRS_IRET

/* void hal_proc__idle(struct proc_cpu_page *cpu): called with irq_masked
 * = 1; unmask, wait for one interrupt, mask again. */
    .globl hal_proc__idle
    .type hal_proc__idle, @function
hal_proc__idle:
    movl    $0, (%rdi)              /* irq_masked = 0 */
hal_proc_idle_window:
    mfence
    cmpl    $0, 4(%rdi)             /* irq_pending: deliver it without waiting */
    jne     3f
    hlt
hal_proc_idle_end:
    movl    $1, (%rdi)
    ret
3:  sti
    jmp     hal_proc_idle_end

    .section .note.GNU-stack, "", @progbits
