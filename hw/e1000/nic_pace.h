/* Line-rate pacing of one direction of the NIC's link (transmit or
 * receive): a pure state machine on a caller-supplied clock, so the NIC's
 * hardware thread and the unit tests drive it alike.
 *
 * A frame of L bytes (without FCS, padded to 60) occupies the wire for
 * (8 preamble/SFD + L + 4 FCS + 12 IFG) * 8 / bit_rate seconds (IEEE 802.3
 * clause 4.4.2 / 3.1.1; E1000_NIC_WIRE_OVERHEAD).  While frames keep
 * waiting (backlog) the next one starts when the last one's wire time
 * ends; the wire may lag the clock by at most credit_ns (a late wake-up is
 * caught up with a burst), anything beyond is lost and counted.  When the
 * queue runs dry the credit is dropped, so an idle link never bursts. */
#ifndef IOVIRT_HW_E1000_NIC_PACE_H
#define IOVIRT_HW_E1000_NIC_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nic_pace {
    uint64_t bit_rate;     /* bits/s; 0 = unpaced */
    uint64_t credit_ns;    /* catch-up bound while backlogged */
    uint64_t next_free_ns; /* when the wire is free again */
    bool backlog;          /* the last frame was taken from a non-empty queue */
    uint64_t lost_ns;      /* wire time lost: woke later than the credit allows */
    uint64_t idle_gaps;    /* times the queue ran dry while paced */
};

void nic_pace__init(struct nic_pace *p, uint64_t bit_rate, uint64_t credit_ns);
/* Wire time of a frame of len bytes (without FCS) at bit_rate (> 0). */
uint64_t nic_pace__wire_ns(uint64_t bit_rate, size_t len);
/* The wire is busy at `now`: the next frame must wait (never when unpaced). */
bool nic_pace__busy(const struct nic_pace *p, uint64_t now);
/* A frame of len bytes was taken at `now` (the caller checked busy). */
void nic_pace__sent(struct nic_pace *p, uint64_t now, size_t len);
/* The queue was found empty. */
void nic_pace__idle(struct nic_pace *p);

#endif
