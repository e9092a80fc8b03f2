/* Where the tool finds its guest kernel by default: next to the binary
 * (build/iovirt -> build/guest/iovirt-guest.elf). */
#ifndef IOVIRT_TOOLS_GUEST_PATH_H
#define IOVIRT_TOOLS_GUEST_PATH_H

#include <stddef.h>

/* 0, or -1 if the executable's directory cannot be read. */
int tools__default_guest(char *out, size_t len);

#endif
