#include "hv/io_bus.h"

#include <errno.h>
#include <string.h>

void io_bus__init(struct io_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

static bool overlaps(const struct io_range *r, uint64_t base, uint64_t len)
{
    return base < r->base + r->len && r->base < base + len;
}

int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn,
                     void *opaque, const char *name)
{
    if (len == 0 || base + len < base || !fn)
        return -EINVAL;
    if (bus->n == IO_BUS_MAX_RANGES)
        return -ENOSPC;
    unsigned i = 0;
    for (; i < bus->n; i++) {
        if (overlaps(&bus->r[i], base, len))
            return -EEXIST;
        if (bus->r[i].base > base)
            break;
    }
    for (unsigned j = i; j < bus->n; j++)
        if (overlaps(&bus->r[j], base, len))
            return -EEXIST;
    memmove(&bus->r[i + 1], &bus->r[i], (bus->n - i) * sizeof(bus->r[0]));
    bus->r[i] = (struct io_range){.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name};
    bus->n++;
    return 0;
}

int io_bus__move(struct io_bus *bus, void *opaque, const char *name, uint64_t base, uint64_t len)
{
    for (unsigned i = 0; i < bus->n; i++) {
        struct io_range *r = &bus->r[i];
        if (r->opaque != opaque || strcmp(r->name, name))
            continue;
        struct io_range saved = *r;
        memmove(&bus->r[i], &bus->r[i + 1], (bus->n - i - 1) * sizeof(bus->r[0]));
        bus->n--;
        if (len == 0)
            return 0;
        int ret = io_bus__register(bus, base, len, saved.fn, saved.opaque, saved.name);
        if (ret) /* put the old range back: a refused move changes nothing */
            io_bus__register(bus, saved.base, saved.len, saved.fn, saved.opaque, saved.name);
        return ret;
    }
    return len == 0 ? 0 : -ENOENT;
}

const struct io_range *io_bus__find(const struct io_bus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct io_range *r = &bus->r[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

bool io_bus__access(struct io_bus *bus, uint64_t addr, unsigned size, bool is_write, uint64_t *data)
{
    struct io_range *r = (struct io_range *)io_bus__find(bus, addr);
    if (!r || size == 0 || size > 8 || addr - r->base > r->len - size) {
        bus->unclaimed++;
        if (!is_write)
            *data = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
        return false;
    }
    if (is_write)
        r->writes++;
    else
        r->reads++;
    r->fn(r->opaque, addr - r->base, size, is_write, data);
    return true;
}
