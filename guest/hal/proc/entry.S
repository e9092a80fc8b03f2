/* Entry of the proc port (vcpu/proc/proc_abi.h): RDI = bootinfo GPA, RSP in
 * RAM.  Clear .bss (the loader may not have), switch to the kernel's own
 * stack, enter C.  Ring 3: nothing privileged here. */
    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    mov     %rdi, %r12
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    cld
    rep stosb
    lea     hal_proc_boot_stack_top(%rip), %rsp
    xor     %ebp, %ebp
    mov     %r12, %rdi
    call    hal_proc__start
    ud2

    .section .bss
    .balign 16
hal_proc_boot_stack:
    .skip   65536
    .globl hal_proc_boot_stack_top
hal_proc_boot_stack_top:

    .section .note.GNU-stack, "", @progbits
