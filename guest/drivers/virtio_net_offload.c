/* See virtio_net_offload.h. */
#include "guest/drivers/virtio_net_offload.h"

#include <string.h>

#include "drivers/virtio/vnet_offload.h"

#define F(bit) (1ull << (bit))
#define OFFLOADS (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | \
                  F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_MRG_RXBUF))

static uint64_t list_bits(const char *p)
{
    static const struct {
        const char *name;
        uint64_t bits;
    } names[] = {
        {"csum", F(VIRTIO_NET_F_CSUM)},           {"guest-csum", F(VIRTIO_NET_F_GUEST_CSUM)},
        {"tso4", F(VIRTIO_NET_F_HOST_TSO4)},      {"guest-tso4", F(VIRTIO_NET_F_GUEST_TSO4)},
        {"mrg-rxbuf", F(VIRTIO_NET_F_MRG_RXBUF)}, {"event-idx", F(VIRTIO_F_EVENT_IDX)},
        {"offloads", OFFLOADS},                   {"none", 0},
    };
    uint64_t m = 0;
    while (p && *p) {
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !memcmp(p, names[i].name, n))
                m |= names[i].bits;
        p += n;
        if (*p == ',')
            p++;
    }
    return m;
}

uint64_t vnet__choose_features(uint64_t offered, const struct vnet_switches *sw)
{
    /* ACCESS_PLATFORM (6): our addresses are bus addresses already. */
    uint64_t want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_F_EVENT_IDX) |
                    F(VIRTIO_F_ACCESS_PLATFORM) | OFFLOADS;
    if (sw->offload && !strcmp(sw->offload, "off"))
        want &= ~(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
                  F(VIRTIO_NET_F_GUEST_TSO4));
    if (sw->tso && !strcmp(sw->tso, "off"))
        want &= ~(F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4));
    want &= ~list_bits(sw->vnet_off);
    uint64_t f = offered & want;
    if (!(f & F(VIRTIO_NET_F_CSUM)))
        f &= ~F(VIRTIO_NET_F_HOST_TSO4);
    if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)) || !(f & F(VIRTIO_NET_F_MRG_RXBUF)))
        f &= ~F(VIRTIO_NET_F_GUEST_TSO4);
    return f;
}

int vnet__finish_csum(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
    if ((size_t)csum_start + csum_offset + 2 > len)
        return -1;
    /* The device side's code (drivers/virtio), the offsets checked above. */
    const struct vnet_tx_plan p = {.csum = true, .csum_start = csum_start, .csum_offset = csum_offset};
    vnet_offload__finish_csum(frame, len, &p);
    return 0;
}
