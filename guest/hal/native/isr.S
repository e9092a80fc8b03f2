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
    .text
    .balign 16
    .globl hal_native_isr_stubs
hal_native_isr_stubs:
    .set    vec, 0
    .rept   256
    .balign 16
    pushq   $vec
    jmp     hal_native_isr_common
    .set    vec, vec + 1
    .endr

hal_native_isr_common:
    cld
    push    %rax
    push    %rcx
    push    %rdx
    push    %rbx
    push    %rbp
    push    %rsi
    push    %rdi
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     15*8(%rsp), %rdi        /* vector */
    mov     %rsp, %rbx              /* callee-saved: survives the call */
    and     $-16, %rsp
    call    hal_native__irq_entry
    mov     %rbx, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rdi
    pop     %rsi
    pop     %rbp
    pop     %rbx
    pop     %rdx
    pop     %rcx
    pop     %rax
    add     $8, %rsp                /* vector */
    iretq

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
