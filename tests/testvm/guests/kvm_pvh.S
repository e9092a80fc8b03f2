/* Tiny PVH guest for the KVM backend's tests (tests/testvm/test_kvm_vcpu.c)
 * and bench_kvm.  Entered in the PVH state (drivers/platform/pvh.h: 32-bit
 * protected mode, paging off, EBX = struct hvm_start_info); the first
 * character of the command line picks the program.  Ports:
 *   0x501  done: out the result (4 bytes)      0x510  report a value (4 bytes)
 *   0x511  interrupt handler: the vector (4)   0x512..0x51A  test ports
 * MMIO test addresses are at 0xD0000000 (no RAM, no device: every access
 * exits). */
#define PORT_DONE   0x501
#define PORT_REPORT 0x510
#define PORT_IRQ    0x511
#define MMIO        0xD0000000
#define LAPIC_SVR   0xFEE000F0
#define LAPIC_EOI   0xFEE000B0
#define IOAPIC_SEL  0xFEC00000
#define IOAPIC_WIN  0xFEC00010
#define START_MAGIC 0x336ec578

    .code32
    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 4, 18              /* namesz "Xen", descsz, XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

    .text
    .globl pvh_start
pvh_start:
    cmpl $START_MAGIC, (%ebx)   /* EBX = start_info */
    jne bad_boot
    lgdt gdt_desc               /* own GDT: interrupt gates load CS from it */
    ljmp $0x08, $1f
1:  mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov $stack_top, %esp
    mov 24(%ebx), %esi          /* start_info.cmdline_paddr (low half) */
    movzbl (%esi), %eax
    cmp $'a', %eax
    je prog_out
    cmp $'b', %eax
    je prog_in
    cmp $'c', %eax
    je prog_mmio
    cmp $'d', %eax
    je prog_irq
    cmp $'e', %eax
    je prog_triple
    cmp $'f', %eax
    je prog_spin
    cmp $'g', %eax
    je prog_string
    cmp $'r', %eax
    je loop_mmio_read
    cmp $'w', %eax
    je loop_mmio_write
    cmp $'p', %eax
    je loop_pio
    cmp $'i', %eax
    je loop_irq
    cmp $'l', %eax
    je prog_level
    cmp $'u', %eax
    je prog_uart
    cmp $'t', %eax
    je prog_pit
    cmp $'k', %eax
    je prog_kbd_reset
    mov $0xbad0c0de, %eax       /* unknown program */
    jmp done

bad_boot:
    mov $0xbadb007, %eax
done:
    mov $PORT_DONE, %dx
    out %eax, %dx
    ud2                         /* never resumed past power-off */

/* a: out of each size */
prog_out:
    mov $0x512, %dx
    mov $0xcafebabe, %eax
    out %eax, %dx
    mov $0x514, %dx
    mov $0xbeef, %ax
    out %ax, %dx
    mov $0x5a, %al
    out %al, $0x80
    mov $1, %eax
    jmp done

/* b: in of each size, each reported back */
prog_in:
    mov $0x516, %dx
    in %dx, %eax
    call report
    xor %eax, %eax
    mov $0x518, %dx
    in %dx, %ax
    call report
    xor %eax, %eax
    in $0x60, %al
    call report
    mov $2, %eax
    jmp done

/* c: MMIO writes and reads of each size */
prog_mmio:
    movl $0x11223344, MMIO
    movw $0x5566, MMIO + 0x10
    movb $0x77, MMIO + 0x21
    mov MMIO + 0x8, %eax
    call report
    xor %eax, %eax
    movw MMIO + 0x12, %ax
    call report
    movzbl MMIO + 0x23, %eax
    call report
    mov $3, %eax
    jmp done

/* d: LAPIC on, IDT for vectors 0x40..0x4f, sti; hlt until the test's
 * vectors came (count in the report), then done */
prog_irq:
    call setup_idt
    movl $0x1ff, LAPIC_SVR      /* software-enable the LAPIC, spurious 0xff */
    mov $0xaa, %eax
    call report                 /* ready: the test injects now or later */
    sti
2:  hlt
    cmpl $2, irq_count
    jb 2b
    cli
    mov irq_count, %eax
    jmp done

/* g: string port I/O: outsb, rep outsb (3), insw into memory (reported),
 * then rep insb (4), which the backend refuses */
prog_string:
    mov $0x520, %dx
    mov $str_src, %esi
    outsb
    mov $3, %ecx
    rep outsb
    mov $0x522, %dx
    mov $str_dst, %edi
    insw
    movzwl str_dst, %eax
    call report
    mov $str_dst, %edi
    mov $4, %ecx
    rep insb
    mov $7, %eax
    jmp done

/* e: no IDT (limit 0): #UD cannot be delivered -> triple fault */
prog_triple:
    lidt idt_none
    ud2

/* f: spin until kicked; the test resumes us with EAX = 1 to finish */
prog_spin:
    xor %eax, %eax
3:  test %eax, %eax
    jz 3b
    mov $6, %eax
    jmp done

/* benchmark loops (r, w, p): one exit per iteration, forever */
loop_mmio_read:
    mov MMIO, %eax
    jmp loop_mmio_read
loop_mmio_write:
    movl %eax, MMIO
    jmp loop_mmio_write
loop_pio:
    mov $0x512, %dx
4:  out %eax, %dx
    jmp 4b

/* l: I/O APIC input 5 -> vector 0x44, level-triggered, active high, to
 * APIC 0 (82093AA 3.2.4: IOREGSEL 0xFEC00000, IOWIN +0x10, redirection
 * entry 5 at registers 0x1A/0x1B); 8259s masked; LAPIC on; hlt until two interrupts came
 * (each EOIed: for a level entry the EOI reaches the I/O APIC), then done */
prog_level:
    call setup_idt
    mov $0xff, %al              /* mask both 8259s: GSI 5 also reaches the PIC, */
    out %al, $0x21              /* whose output KVM's BSP takes as ExtINT (LINT0) */
    out %al, $0xa1
    movl $0x1ff, LAPIC_SVR
    movl $0x1B, IOAPIC_SEL      /* high dword: destination APIC 0 */
    movl $0, IOAPIC_WIN
    movl $0x1A, IOAPIC_SEL      /* low dword: vector, level (bit 15), unmasked */
    movl $(0x44 | 0x8000), IOAPIC_WIN
    mov $0xaa, %eax
    call report
    sti
7:  hlt
    cmpl $2, irq_count
    jb 7b
    cli
    mov irq_count, %eax
    jmp done

/* I/O APIC input `pin` (in %ecx) -> vector (in %eax), edge, active high,
 * to APIC 0; 8259s masked, LAPIC on, IDT for 0x40..0x4f */
route_edge:
    push %eax
    push %ecx                   /* setup_idt uses both */
    call setup_idt
    pop %ecx
    mov $0xff, %al
    out %al, $0x21
    out %al, $0xa1
    movl $0x1ff, LAPIC_SVR
    lea 0x11(,%ecx,2), %edx     /* redirection entry: high dword 0x11 + 2 pin */
    mov %edx, IOAPIC_SEL
    movl $0, IOAPIC_WIN
    dec %edx
    mov %edx, IOAPIC_SEL
    pop %eax
    mov %eax, IOAPIC_WIN        /* vector, fixed, edge, unmasked */
    ret

/* u: the hypervisor's 16550 at 0x3F8 on ISA IRQ 4 (I/O APIC input 4 ->
 * vector 0x45): ETBEI on raises THRE at once (interrupt 1); the IIR read
 * reports and clears it, a THR write raises it again (interrupt 2); done
 * with IIR << 8 | the count */
prog_uart:
    mov $4, %ecx
    mov $0x45, %eax
    call route_edge
    sti
    mov $0x02, %al
    mov $0x3f9, %dx
    out %al, %dx                /* IER = ETBEI */
    mov $1, %eax
    call wait_irqs
    mov $0x3fa, %dx
    in %dx, %al                 /* IIR: THRE (0x02), now cleared */
    movzbl %al, %ebx
    shl $8, %ebx
    mov $'k', %al
    mov $0x3f8, %dx
    out %al, %dx                /* THR: THRE again, a new edge */
    mov $2, %eax
    call wait_irqs
    cli
    mov irq_count, %eax
    or %ebx, %eax
    jmp done

/* until irq_count >= %eax: the check and the hlt with interrupts off but
 * for sti's one-instruction shadow, so an interrupt that came before the
 * hlt is never slept through; returns with IF set */
wait_irqs:
    cli
    cmp %eax, irq_count
    jae 1f
    sti
    hlt
    jmp wait_irqs
1:  sti
    ret

/* t: the in-kernel 8254 PIT, channel 0 in rate generator mode at ~1 kHz:
 * its GSI 0 reaches I/O APIC input 2 (vector 0x46); done after 3 ticks */
prog_pit:
    mov $2, %ecx
    mov $0x46, %eax
    call route_edge
    mov $0x34, %al              /* channel 0, lobyte/hibyte, mode 2 */
    out %al, $0x43
    mov $1193, %ax              /* 1.193182 MHz / 1193 */
    out %al, $0x40
    mov %ah, %al
    out %al, $0x40
    mov $3, %eax
    call wait_irqs
    cli
    mov irq_count, %eax
    jmp done

/* k: Linux's reboot=k: wait for the i8042's input buffer, pulse reset */
prog_kbd_reset:
    in $0x64, %al
    test $0x02, %al
    jnz prog_kbd_reset
    mov $0xfe, %al
    out %al, $0x64
    mov $0xdead, %eax           /* still running: the reset did nothing */
    jmp done

/* i: like d, but takes interrupts forever (each handler exit is one) */
loop_irq:
    call setup_idt
    movl $0x1ff, LAPIC_SVR
    mov $0xaa, %eax
    call report
    sti
6:  hlt
    jmp 6b

report:
    push %edx
    mov $PORT_REPORT, %dx
    out %eax, %dx
    pop %edx
    ret

/* 32-bit interrupt gates for 0x40..0x4f -> irq_stubs + 16 * (v - 0x40) */
setup_idt:
    mov $0x40, %ecx
5:  mov %ecx, %eax
    shl $4, %eax
    add $irq_stubs - 0x40 * 16, %eax
    mov %eax, %edx
    and $0xffff, %eax
    or $0x00080000, %eax        /* selector 0x08 */
    mov %eax, idt(,%ecx,8)
    and $0xffff0000, %edx
    or $0x8e00, %edx            /* present, DPL 0, 32-bit interrupt gate */
    mov %edx, idt + 4(,%ecx,8)
    inc %ecx
    cmp $0x50, %ecx
    jb 5b
    lidt idt_desc
    ret

    .balign 16
irq_stubs:
    .set v, 0x40
    .rept 16
    .balign 16
    pushl $v
    jmp irq_common
    .set v, v + 1
    .endr

irq_common:
    push %eax
    push %edx
    mov 8(%esp), %eax
    mov $PORT_IRQ, %dx
    out %eax, %dx               /* the vector this handler is for */
    incl irq_count
    movl $0, LAPIC_EOI
    pop %edx
    pop %eax
    add $4, %esp
    iret

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff    /* 0x08: code, flat, 32-bit */
    .quad 0x00cf93000000ffff    /* 0x10: data, flat */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
idt_desc:
    .word 256 * 8 - 1
    .long idt
idt_none:
    .word 0
    .long 0

str_src:
    .ascii "ZABC"

    .bss
    .balign 16
str_dst:
    .skip 8
idt:
    .skip 256 * 8
irq_count:
    .long 0
    .balign 16
    .skip 4096
stack_top:
