/* The guest kernel's libc subset: <string.h>.  Freestanding builds use
 * -nostdinc, so guest code and the portable cores it links (guest/net,
 * drivers/) see these declarations; host builds see the real libc. */
#ifndef IOVIRT_GUEST_STRING_H
#define IOVIRT_GUEST_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
