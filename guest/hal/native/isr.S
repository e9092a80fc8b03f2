/* Interrupt entry stubs of the native port, one per vector, 16 bytes apart
 * (hal_native_isr_stubs + 16 * vector).
 *
 * A vector enters a stub with the frame of a 64-bit interrupt gate without
 * privilege change and without error code (SS, RSP, RFLAGS, CS, RIP), built
 * either by the machine's signal handler (asynchronous delivery) or by
 * hal_native__soft_int (the port taking a pending vector itself), with
 * irq_masked = 1.  The common path saves every GPR and calls
 * hal_native__irq_entry(vector), which dispatches, unmasks and takes what
 * became pending meanwhile (nested on this stack); then restore and iretq
 * (ring 3 to ring 3). */
#include "guest/hal/isr_frame.h"

    .text
ISR_STUB_TABLE(hal_native_isr_stubs, hal_native_isr_common)

hal_native_isr_common:
    ISR_SAVE_GPRS
    ISR_CALL(hal_native__irq_entry)
    ISR_RESTORE_GPRS_IRET

/* void hal_native__soft_int(uint64_t handler): enter `handler` as an
 * interrupt gate would at this call's return address: the frame describes
 * the state after `ret` (RIP = return address, RSP above it), pushed on the
 * stack aligned down to 16.  The handler's iretq resumes the caller. */
    .globl hal_native__soft_int
    .type hal_native__soft_int, @function
hal_native__soft_int:
    pop     %r11                    /* return address */
    mov     %rsp, %rax              /* RSP after the return */
    and     $-16, %rsp
    mov     %ss, %ecx
    push    %rcx
    push    %rax
    pushfq
    mov     %cs, %ecx
    push    %rcx
    push    %r11
    jmp     *%rdi

    .section .note.GNU-stack, "", @progbits
