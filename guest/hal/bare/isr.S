/* Interrupt and exception entry of the bare port (ring 0, no privilege
 * change, so the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some
 * exceptions, an error code; Intel SDM Vol. 3 6.14.2).
 *
 * One 16-byte stub per vector (hal_bare_isr_stubs + 16 * vector): vectors
 * without an error code push a 0 in its place, then every stub pushes its
 * vector, so the common path sees one frame layout (struct bare_frame in
 * hal_bare.h).  The common path saves every GPR, calls
 * hal_bare__trap(frame) on a 16-byte aligned stack (exceptions never
 * return from it; interrupts are dispatched and EOIed there), restores,
 * drops vector and error code, iretq. */
#include "guest/hal/bare/bare_cpu.h"
#include "guest/hal/isr_frame.h"

    .text
    .balign 16
    .globl hal_bare_isr_stubs
hal_bare_isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if !(X86_EXC_HAS_ERROR(vec))
    pushq   $0
    .endif
    pushq   $vec
    jmp     hal_bare_isr_common
    .set vec, vec + 1
    .endr

hal_bare_isr_common:
    ISR_SAVE_GPRS
    mov     %rsp, %rdi              /* struct bare_frame * */
    mov     %rsp, %rbx
    and     $-16, %rsp
    call    hal_bare__trap
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
    add     $16, %rsp               /* vector, error code */
    iretq

    .section .note.GNU-stack, "", @progbits
