/* Shared by the ports' interrupt entry code (guest/hal/PORT/isr.S, run
 * through the C preprocessor): the table of per-vector stubs and the save
 * and restore of every general-purpose register around the C entry.
 *
 * A vector enters its stub with the frame of a 64-bit interrupt gate
 * without privilege change and without error code (SS, RSP, RFLAGS, CS,
 * RIP); the stub pushes the vector.  After ISR_SAVE_GPRS the vector is at
 * 15*8(%rsp) and the interrupted RIP at 16*8(%rsp). */
#ifndef IOVIRT_GUEST_HAL_ISR_FRAME_H
#define IOVIRT_GUEST_HAL_ISR_FRAME_H

/* 256 stubs, 16 bytes apart (table + 16 * vector), each pushing its
 * vector and jumping to `common`. */
#define ISR_STUB_TABLE(table, common) \
    .balign 16;                       \
    .globl table;                     \
table:                                \
    .set vec, 0;                      \
    .rept 256;                        \
    .balign 16;                       \
    pushq $vec;                       \
    jmp common;                       \
    .set vec, vec + 1;                \
    .endr

#define ISR_SAVE_GPRS \
    cld;              \
    push %rax;        \
    push %rcx;        \
    push %rdx;        \
    push %rbx;        \
    push %rbp;        \
    push %rsi;        \
    push %rdi;        \
    push %r8;         \
    push %r9;         \
    push %r10;        \
    push %r11;        \
    push %r12;        \
    push %r13;        \
    push %r14;        \
    push %r15

/* Call entry(vector) on a 16-byte aligned stack; %rbx keeps the frame. */
#define ISR_CALL(entry)             \
    mov 15*8(%rsp), %rdi;           \
    mov %rsp, %rbx;                 \
    and $-16, %rsp;                 \
    call entry;                     \
    mov %rbx, %rsp

/* Restore, drop the vector, return from the interrupt (ring 3 to ring 3). */
#define ISR_RESTORE_GPRS_IRET \
    pop %r15;                 \
    pop %r14;                 \
    pop %r13;                 \
    pop %r12;                 \
    pop %r11;                 \
    pop %r10;                 \
    pop %r9;                  \
    pop %r8;                  \
    pop %rdi;                 \
    pop %rsi;                 \
    pop %rbp;                 \
    pop %rbx;                 \
    pop %rdx;                 \
    pop %rcx;                 \
    pop %rax;                 \
    add $8, %rsp;             \
    iretq

#endif
