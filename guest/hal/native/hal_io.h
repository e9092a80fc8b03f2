/* Port I/O and MMIO of the native port (included by guest/hal/hal.h): bus
 * accesses, i.e. calls into the machine's bus (drivers/platform/native_abi.h),
 * defined in hal_native.c.  The kernel runs in the iovirt process, where an
 * `in`/`out` would fault and a load from a BAR address would hit nothing. */
#ifndef IOVIRT_GUEST_HAL_NATIVE_HAL_IO_H
#define IOVIRT_GUEST_HAL_NATIVE_HAL_IO_H

#include <stdint.h>

void hal__outb(uint16_t port, uint8_t v);
void hal__outw(uint16_t port, uint16_t v);
void hal__outl(uint16_t port, uint32_t v);
uint8_t hal__inb(uint16_t port);
uint16_t hal__inw(uint16_t port);
uint32_t hal__inl(uint16_t port);

uint8_t hal__mmio_read8(uintptr_t a);
uint16_t hal__mmio_read16(uintptr_t a);
uint32_t hal__mmio_read32(uintptr_t a);
uint64_t hal__mmio_read64(uintptr_t a);
void hal__mmio_write8(uintptr_t a, uint8_t v);
void hal__mmio_write16(uintptr_t a, uint16_t v);
void hal__mmio_write32(uintptr_t a, uint32_t v);
void hal__mmio_write64(uintptr_t a, uint64_t v);

#endif
