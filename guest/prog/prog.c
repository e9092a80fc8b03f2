/* The program table. */
#include "guest/prog/prog.h"

#include <stddef.h>
#include <string.h>

#include "guest/kernel/console.h"

static const struct prog progs[] = {
    {"hello", "hello", prog_hello__run},
    {"sleep", "sleep MS             (halt on the HPET interrupt)", prog_sleep__run},
    {"lspci", "lspci                (enumerate PCI bus 0)", prog_pci__run},
    {"ping", "ping ADDR [COUNT]", prog_ping__run},
    {"stream", "stream ADDR PORT MSG_SIZE SECONDS      (TCP)", prog_stream__run},
    {"attack", "attack NAME [ARGS] | attack list      (isolation attacks)", prog_attack__run},
    {"udp_stream", "udp_stream ADDR PORT MSG_SIZE SECONDS  (UDP)", prog_udp_stream__run},
    {"irqstorm", "irqstorm VECTOR COUNT [TIMEOUT_MS]  (count interrupts someone raises)", prog_irqstorm__run},
    {"dmaprobe", "dmaprobe ADDR        (one raw e1000 TX descriptor with buffer ADDR)", prog_dmaprobe__run},
    {"devprobe", "devprobe             (register behaviour of the first e1000/virtio-net: PROBE lines)", prog_devprobe__run},
    {"iperf3", "iperf3 -c HOST [-p PORT] [-t SECS] [-l LEN] [-R] | iperf3 -s [-p PORT]  (iperf3, TCP)",
     prog_iperf3__run},
    {"maerts", "maerts PORT          (TCP: accept one sender, count what it sends)", prog_maerts__run},
    {"rr", "rr ADDR PORT REQ RESP SECONDS  (TCP request/response: transactions, latency)", prog_rr__run},
    {"netwatch", "netwatch MS          (NIC up, send nothing, count what arrives)", prog_netwatch__run},
};

const struct prog *prog__find(const char *name)
{
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
        if (strcmp(progs[i].name, name) == 0)
            return &progs[i];
    return NULL;
}

void prog__list(void)
{
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
        kprintf("  %s\n", progs[i].usage);
}
