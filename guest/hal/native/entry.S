/* Entry of the native port (drivers/platform/native_abi.h):
 *   int _start(const struct native_bootinfo *bi)
 * called by the machine on its CPU thread's stack.  Save the caller's
 * callee-saved registers and stack pointer, clear .bss, enter C.
 * hal_native__exit(status) returns from _start to the machine with
 * `status` (power-off); hal_native_stopped is where a stop lands. */
    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    push    %rbp
    push    %rbx
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    sub     $8, %rsp                /* 16-byte aligned for the calls below */
    mov     %rdi, %r12
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    cld
    rep stosb
    mov     %rsp, hal_native_exit_rsp(%rip)
    xor     %ebp, %ebp
    mov     %r12, %rdi
    call    hal_native__start
    ud2

/* void hal_native__exit(int status): back to _start's caller. */
    .globl hal_native__exit
    .type hal_native__exit, @function
hal_native__exit:
    mov     %edi, %eax
    mov     hal_native_exit_rsp(%rip), %rsp
    add     $8, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbx
    pop     %rbp
    ret

/* The machine redirects the CPU here to stop it (native_cpu.stopped_rip). */
    .globl hal_native_stopped
    .type hal_native_stopped, @function
hal_native_stopped:
    mov     $-4, %edi               /* NATIVE_STATUS_STOPPED */
    jmp     hal_native__exit

    .section .data
    .balign 8
hal_native_exit_rsp:
    .quad   0

    .section .note.GNU-stack, "", @progbits
