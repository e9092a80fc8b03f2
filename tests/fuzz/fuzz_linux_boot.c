/* libFuzzer: the bzImage setup-header parser and loader against arbitrary
 * files (the first bytes of the input pick the initrd size and the command
 * line length).  It must refuse or load without reading outside the file or
 * writing outside guest RAM (ASan watches both), and an accepted image must
 * satisfy what the parser promised. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/platform/platform_map.h"
#include "hw/physmem.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz_input.h"
#include "vcpu/guest_load_linux.h"

struct fx {
    struct physmem pm;
    struct vcpu_memmap map;
    int ready;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fx f;   /* set up once: fuzzer process lifetime */
    static uint8_t initrd[1u << 20];
    static char cmd[4096];
    if (!f.ready) {
        uint64_t hpas[3];
        log__set_quiet(1);
        if (physmem__init(&f.pm, 16ull << 20) ||
            physmem__alloc_scattered(&f.pm, 6ull << 20, PHYSMEM_PAGE_2M, hpas))
            return 0;
        vcpu_memmap__init(&f.map, &f.pm);
        vcpu_memmap__add_ram(&f.map, 0, hpas[2], 1ull << 20);
        vcpu_memmap__add_ram(&f.map, PLATFORM_RAM_BASE, hpas[0], PHYSMEM_PAGE_2M);
        vcpu_memmap__add_ram(&f.map, PLATFORM_RAM_BASE + PHYSMEM_PAGE_2M, hpas[1], PHYSMEM_PAGE_2M);
        memset(cmd, 'c', sizeof cmd - 1);
        f.ready = 1;
    }
    struct in in = {data, size};
    size_t isize = (size_t)take(&in, 3) % (sizeof initrd + 1);
    size_t clen = (size_t)take(&in, 2) % sizeof cmd;
    cmd[clen] = 0;
    struct guest_linux_image img;
    char err[256];
    if (guest_load__linux_parse(in.p, in.n, &img, err, sizeof err) == 0 &&
        (img.kernel_off + img.kernel_size != in.n || img.kernel_off < img.hdr_end || img.init_size < img.kernel_size))
        abort();
    struct guest_load_info info;
    if (guest_load__linux(&f.map, in.p, in.n, initrd, isize, cmd, &info, err, sizeof err) == 0 &&
        (info.entry != img.pref_address + 0x200 || info.free_gpa > PLATFORM_RAM_BASE + (4ull << 20)))
        abort();
    cmd[clen] = 'c';
    return 0;
}
