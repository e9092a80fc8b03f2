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
    .text
    .balign 16
    .globl hal_proc_isr_stubs
hal_proc_isr_stubs:
    .set    vec, 0
    .rept   256
    .balign 16
    pushq   $vec
    jmp     hal_proc_isr_common
    .set    vec, vec + 1
    .endr

hal_proc_isr_common:
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
    call    hal_proc__irq_entry
    mov     %rbx, %rsp
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
1:  pop     %r15
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
