/* Entry of the bare port: PVH boot (drivers/platform/pvh.h).  The loader
 * (QEMU's -kernel, iovirt's KVM backend) finds the 32-bit entry in the
 * "Xen" PHYS32_ENTRY note and enters it in 32-bit protected mode, paging
 * off, EBX = struct hvm_start_info.
 *
 * 32-bit part: identity page tables for 0..4 GiB in 2 MiB pages, PAE,
 * EFER.LME, paging, a 64-bit GDT, far jump to 64-bit code.
 * 64-bit part: stack, save the boot data (hal_bare__save_boot, which only
 * writes .data: .bss is not clear yet), clear .bss, hal_bare__start.
 * Page tables and stack live in .boot_bss, outside __bss_start..__bss_end,
 * so clearing .bss cannot pull them from under the CPU. */
#include "guest/hal/bare/bare_cpu.h"

/* The note, read by QEMU's x86 loader as: 12-byte header, name padded to
 * the PT_NOTE's p_align (4 here, see link.ld), then a size_t (8 bytes for
 * an ELF64 image): so the descriptor is 8 bytes, the upper half zero. */
    .section .note.Xen, "a", @note
    .balign 4
    .long   4                       /* namesz: "Xen\0" */
    .long   8                       /* descsz */
    .long   18                      /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz  "Xen"
    .balign 4
    .quad   _start

    .section .text.entry, "ax"
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    mov     %ebx, %esi              /* start_info, kept in ESI (RSI later) */

    /* PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, PDn[i] = 2 MiB page
     * (n * 1 GiB + i * 2 MiB), present, writable, PS.  Write-back here;
     * hal_bare__map_fixup marks everything that is not RAM uncached once
     * the memory map is known. */
    mov     $hal_bare_pml4, %edi
    xor     %eax, %eax
    mov     $(2 * 4096 / 4), %ecx   /* PML4 and PDPT (adjacent) to zero */
    rep stosl
    movl    $(hal_bare_pdpt + PTE_P + PTE_RW), hal_bare_pml4
    mov     $hal_bare_pdpt, %edi
    mov     $(hal_bare_pd + PTE_P + PTE_RW), %eax
    mov     $4, %ecx
1:  mov     %eax, (%edi)
    add     $4096, %eax
    add     $8, %edi
    loop    1b
    mov     $hal_bare_pd, %edi
    mov     $(PTE_P + PTE_RW + PTE_PS), %eax
    mov     $2048, %ecx
2:  mov     %eax, (%edi)
    movl    $0, 4(%edi)
    add     $0x200000, %eax
    add     $8, %edi
    loop    2b

    mov     %cr4, %eax
    or      $CR4_PAE, %eax
    mov     %eax, %cr4
    mov     $hal_bare_pml4, %eax
    mov     %eax, %cr3
    mov     $MSR_EFER, %ecx
    rdmsr
    or      $EFER_LME, %eax
    wrmsr
    mov     %cr0, %eax
    or      $(CR0_PG + CR0_WP), %eax
    mov     %eax, %cr0              /* long mode active (compatibility) */
    lgdt    hal_bare_gdt_ptr
    ljmp    $GDT_KCODE, $start64

    .code64
start64:
    mov     $GDT_KDATA, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    lea     hal_bare_stack_top(%rip), %rsp
    xor     %ebp, %ebp
    mov     %esi, %r12d             /* zero-extends: start_info < 4 GiB */
    mov     %r12, %rdi
    call    hal_bare__save_boot
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    rep stosb
    call    hal_bare__start
    ud2

/* GDT: null, 64-bit kernel code, data (Intel SDM Vol. 3 3.4.5, 5.2.1:
 * in 64-bit mode base and limit are ignored; L=1 D=0 for code), and a
 * 16-byte slot for the TSS descriptor hal_bare_tss.c fills (IST stack for
 * #DF).  In .data: LTR writes the descriptor's busy bit. */
    .section .data
    .balign 16
    .globl hal_bare_gdt
hal_bare_gdt:
    .quad   0
    .quad   0x00af9a000000ffff      /* 0x08: code, DPL 0, L */
    .quad   0x00cf92000000ffff      /* 0x10: data, writable */
    .quad   0, 0                    /* 0x18: TSS (filled at run time) */
hal_bare_gdt_end:
    .balign 8
hal_bare_gdt_ptr:
    .word   hal_bare_gdt_end - hal_bare_gdt - 1
    .quad   hal_bare_gdt            /* lgdt in 32-bit mode reads 4 bytes of it */

/* Page tables and the kernel stack: not cleared with .bss. */
    .section .boot_bss, "aw", @nobits
    .balign 4096
    .globl hal_bare_pml4, hal_bare_pdpt, hal_bare_pd
hal_bare_pml4:
    .skip   4096
hal_bare_pdpt:
    .skip   4096
hal_bare_pd:
    .skip   4 * 4096
    /* Guard page (hal_bare_tss.c makes it not-present): an overflow
     * faults instead of running into the page tables above. */
    .globl hal_bare_stack_guard
hal_bare_stack_guard:
    .skip   4096
hal_bare_stack:
    .skip   65536
    .globl hal_bare_stack_top
hal_bare_stack_top:

    .section .note.GNU-stack, "", @progbits
