/* Line-rate pacing of one link direction (nic_pace.h). */
#include "hw/e1000/nic_pace.h"

#include "hw/e1000/e1000_nic.h"

void nic_pace__init(struct nic_pace *p, uint64_t bit_rate, uint64_t credit_ns)
{
    *p = (struct nic_pace){.bit_rate = bit_rate, .credit_ns = credit_ns};
}

uint64_t nic_pace__wire_ns(uint64_t bit_rate, size_t len)
{
    size_t bytes = (len < E1000_NIC_MIN_FRAME ? E1000_NIC_MIN_FRAME : len) + E1000_NIC_WIRE_OVERHEAD;
    return (uint64_t)((unsigned __int128)bytes * 8u * 1000000000u / bit_rate);
}

bool nic_pace__busy(const struct nic_pace *p, uint64_t now)
{
    return p->bit_rate && p->backlog && p->next_free_ns > now;
}

void nic_pace__sent(struct nic_pace *p, uint64_t now, size_t len)
{
    if (!p->bit_rate)
        return;
    uint64_t start;
    if (p->backlog && p->next_free_ns + p->credit_ns < now) {
        p->lost_ns += now - p->credit_ns - p->next_free_ns;
        start = now - p->credit_ns;
    } else if (p->backlog) {
        start = p->next_free_ns;
    } else {
        /* the first frame after idle: at once, or after the last one's end */
        start = p->next_free_ns > now ? p->next_free_ns : now;
    }
    p->next_free_ns = start + nic_pace__wire_ns(p->bit_rate, len);
    p->backlog = true;
}

void nic_pace__idle(struct nic_pace *p)
{
    if (p->backlog && p->bit_rate)
        p->idle_gaps++;
    p->backlog = false;
}
