/* Where the tool finds its guest kernel by default: $IOVIRT_GUEST, else next
 * to the binary (build/iovirt -> build/guest/iovirt-guest.elf). */
#ifndef IOVIRT_LIB_GUEST_PATH_H
#define IOVIRT_LIB_GUEST_PATH_H

#include <stddef.h>

/* 0, or -1 if the executable's directory cannot be read. */
int guest_path__default(char *out, size_t len);
/* The native port's kernel next to the proc port's `kernel`
 * (DIR/iovirt-guest.elf -> DIR/iovirt-guest-native.elf).  0, or -1 if it
 * does not fit. */
int guest_path__native(const char *kernel, char *out, size_t len);

/* The bare port's PVH kernel next to the proc port's `kernel`
 * (DIR/iovirt-guest.elf -> DIR/iovirt-guest-bare.elf): what PVH backends
 * (kvm) boot.  0, or -1 if it does not fit. */
int guest_path__bare(const char *kernel, char *out, size_t len);

#endif
