/* guest_load's PVH half (drivers/platform/pvh.h): finding the entry note in
 * an ELF's PT_NOTE segments and writing struct hvm_start_info.  Internal to
 * vcpu/guest_load.c (and its tests through guest_load__elf). */
#ifndef IOVIRT_VCPU_GUEST_LOAD_PVH_H
#define IOVIRT_VCPU_GUEST_LOAD_PVH_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu/vcpu.h"

/* Entries of the start_info memory map: RAM runs + the platform's reserved
 * windows; all of it, with the command line, fits the one boot page. */
#define GUEST_LOAD_PVH_MEMMAP_MAX 64

/* Scan the PT_NOTE segments of a file whose program headers were checked
 * against its size.  1 and *entry = the XEN_ELFNOTE_PHYS32_ENTRY address,
 * 0 when there is no such note, -ENOEXEC (errbuf filled) for a malformed
 * note segment or entry note. */
int guest_load__pvh_entry(const uint8_t *file, size_t size, const Elf64_Phdr *ph, unsigned nph,
                          uint64_t *entry, char *errbuf, size_t errlen);
/* Write start_info (version 1), its memory map and the command line into
 * the zeroed boot page at `page`.  0, or -E2BIG (errbuf filled) when guest
 * RAM is in too many pieces or the page is not RAM. */
int guest_load__pvh_start_info(const struct vcpu_memmap *m, uint64_t page, const char *cmdline,
                               size_t cmdlen, char *errbuf, size_t errlen);

#endif
