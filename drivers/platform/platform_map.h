/* The iovirt machine's address map and fixed ports: facts of the platform
 * (what firmware would publish), the same for every vCPU backend, every
 * guest port and the hypervisor's virtual machines.  Freestanding (stdint
 * only): included by guest/, drivers/, vcpu/ and hv/.
 *
 *   0x0010_0000 ..            RAM (PLATFORM_RAM_BASE up; size per VM)
 *   0xC000_0000 .. +256 MiB   PCI memory BARs (firmware places them here)
 *   0xE000_0000 .. +1 MiB     PCI ECAM of bus 0 (PCI Express base 2.1, 7.2.2)
 *   0xFEC0_0000 .. +4 KiB     I/O APIC (82093AA; the KVM backend's in-kernel
 *                             one); never RAM, never a BAR
 *   0xFED0_0000 .. +1 KiB     HPET (IA-PC HPET 1.0a; drivers/hpet/hpet_regs.h)
 *   0xFEE0_0000 .. +1 MiB     interrupt window (MSI address range, Intel SDM
 *                             Vol. 3 10.11.1); never RAM, never a BAR
 *   0xFEFF_C000 .. +16 KiB    reserved to the vCPU backend (KVM: its identity
 *                             map page and the 3-page TSS, QEMU's addresses)
 *   ports 0x60, 0x64          i8042 keyboard controller (reset line: 0xFE to 0x64)
 *   ports 0x70, 0x71          MC146818 CMOS RTC (index, data)
 *   port  0x92                system control port A (bit 0: fast reset)
 *   ports 0x3F8..0x3FF        COM1, 16550 UART (console), ISA IRQ 4
 *   ports 0xCF8, 0xCFC        PCI configuration mechanism #1 (PCI 3.0, 3.2.2.3.2)
 *   port  0x501               power off: out writes the exit status
 *   ports 0xC000 ..           PCI I/O BARs */
#ifndef IOVIRT_DRIVERS_PLATFORM_PLATFORM_MAP_H
#define IOVIRT_DRIVERS_PLATFORM_PLATFORM_MAP_H

#define PLATFORM_RAM_BASE        0x100000ull      /* RAM starts at 1 MiB */

#define PLATFORM_PCI_MMIO_BASE   0xC0000000ull    /* memory BARs are placed from here */
#define PLATFORM_PCI_MMIO_SIZE   0x10000000ull
#define PLATFORM_PCI_PIO_BASE    0xC000u          /* I/O BARs */
#define PLATFORM_PCI_ECAM_BASE   0xE0000000ull    /* ECAM window of bus 0 (1 MiB) */
#define PLATFORM_IOAPIC_BASE     0xFEC00000ull    /* I/O APIC, one 4 KiB page */
#define PLATFORM_IOAPIC_SIZE     0x1000ull
#define PLATFORM_HPET_BASE       0xFED00000ull
#define PLATFORM_MSI_WINDOW_BASE 0xFEE00000ull
#define PLATFORM_BACKEND_RESERVED_BASE 0xFEFFC000ull
#define PLATFORM_BACKEND_RESERVED_SIZE 0x4000ull

#define PLATFORM_PORT_I8042_DATA 0x60             /* i8042 data */
#define PLATFORM_PORT_I8042_CMD  0x64             /* i8042 status (in) / command (out) */
#define PLATFORM_PORT_RTC_INDEX  0x70             /* CMOS index (bit 7: NMI mask, ignored) */
#define PLATFORM_PORT_RTC_DATA   0x71
#define PLATFORM_PORT_SYSCTL_A   0x92             /* bit 0: fast reset */
#define PLATFORM_PORT_COM1       0x3F8            /* 16550 THR/LSR: console */
#define PLATFORM_IRQ_COM1        4                /* ISA IRQ of COM1 */
#define PLATFORM_IRQ_I8042_KBD   1                /* ISA IRQ of the i8042 keyboard port */
#define PLATFORM_PORT_PCI_ADDR   0xCF8            /* PCI configuration mechanism #1 */
#define PLATFORM_PORT_PCI_DATA   0xCFC
#define PLATFORM_PORT_EXIT       0x501            /* out: power off with status (value) */

#endif
