#ifndef IOVIRT_HV_VM_WINDOW_H
#define IOVIRT_HV_VM_WINDOW_H

#include "hv/vm.h"

/* Add a window (base 0: not decoded yet).  NULL if the table is full or the
 * fixed range is taken. */
struct hv_window *hv_window__add(struct hv_vm *vm, enum vcpu_trap_space space, uint64_t base,
                                 uint64_t len, const struct mmio_ops *ops, void *dev, const char *name);
/* Re-home a window; 0 = not decoded.  A refused place leaves it undecoded. */
int hv_window__move(struct hv_window *w, uint64_t base);
/* Follow BAR `bar` of d: its address and the command register's decode bit. */
void hv_window__sync_bar(struct hv_window *w, const struct pci_dev *d, int bar);

#endif
