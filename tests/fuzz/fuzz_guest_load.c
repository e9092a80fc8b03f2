/* libFuzzer: the ELF loader against arbitrary files.  It must refuse or
 * load without reading outside the file or writing outside guest RAM
 * (ASan watches both). */
#include <stddef.h>
#include <stdint.h>

#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "vcpu/proc/proc_abi.h"

struct fx {
    struct physmem pm;
    struct vcpu_memmap map;
    int ready;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fx f;   /* set up once: fuzzer process lifetime */
    if (!f.ready) {
        uint64_t hpas[2];
        log__set_quiet(1);
        if (physmem__init(&f.pm, 8ull << 20) ||
            physmem__alloc_scattered(&f.pm, 4ull << 20, PHYSMEM_PAGE_2M, hpas))
            return 0;
        vcpu_memmap__init(&f.map, &f.pm);
        vcpu_memmap__add_ram(&f.map, PLATFORM_RAM_BASE, hpas[0], PHYSMEM_PAGE_2M);
        vcpu_memmap__add_ram(&f.map, PLATFORM_RAM_BASE + PHYSMEM_PAGE_2M, hpas[1], PHYSMEM_PAGE_2M);
        f.ready = 1;
    }
    struct guest_load_info info;
    char err[128];
    guest_load__elf(&f.map, data, size, "fuzz", 0, &info, err, sizeof err);
    return 0;
}
