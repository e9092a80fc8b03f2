/* `attack NAME [ARGS]`: guest programs that behave as a hostile guest
 * (docs/security.md).  Each prints one "ATTACK name: trying ..." line per
 * attempt and, if it is still alive, "ATTACK name: observed ..." lines, and
 * returns 0 only when the attack was contained as far as the guest can see.
 * The host-side evidence (VT-d fault records, canaries, interrupt counters)
 * is checked by tests/integration/test_attack_*.c. */
#ifndef IOVIRT_GUEST_PROG_ATTACK_H
#define IOVIRT_GUEST_PROG_ATTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "drivers/e1000/e1000_regs.h"

#define ATTACK_TRY(name, ...)  (kprintf("ATTACK %s: trying ", name), kprintf(__VA_ARGS__), kprintf("\n"))
#define ATTACK_SAW(name, ...)  (kprintf("ATTACK %s: observed ", name), kprintf(__VA_ARGS__), kprintf("\n"))

/* A NIC driven by raw register writes (an attacker's own driver). */
#define ANIC_NDESC 16u
struct anic {
    struct pci_dev *pci;
    uintptr_t bar;
    struct e1000_tx_desc *tx;
    struct e1000_rx_desc *rx;
    uint8_t *buf;              /* ANIC_NDESC RX buffers of 2 KiB, then a TX frame page */
    uint8_t *frame;
    unsigned tx_tail;
    uint8_t mac[6];
};

struct attack {
    const char *name;
    const char *mode;          /* the --nic mode it needs */
    const char *what;
    int (*run)(struct kernel *k, int argc, char **argv);
};

/* Addresses to attack: argv[1..] if given, else the defaults. */
unsigned attack__addrs(struct kernel *k, int argc, char **argv, uint64_t *out, unsigned max);
bool attack__in_ram(struct kernel *k, uint64_t addr, uint64_t len);

int anic__open(struct kernel *k, struct anic *n);
uint32_t anic__rd(struct anic *n, uint32_t off);
void anic__wr(struct anic *n, uint32_t off, uint32_t v);
/* Queue one TX descriptor and wait (bounded) for TDH to pass it; returns
 * the descriptor's status byte, or -1 if the NIC never consumed it. */
int anic__tx(struct anic *n, uint64_t addr, uint16_t len);
/* Build an ARP request for 10.0.2.1 in n->frame (60 bytes). */
void anic__arp_frame(struct anic *n);
/* Sleep ms milliseconds (timer interrupts; bounded number of waits). */
void attack__sleep_ms(struct kernel *k, uint64_t ms);

int attack_dma__tx(struct kernel *k, int argc, char **argv);
int attack_dma__rx(struct kernel *k, int argc, char **argv);
int attack_dma__ring(struct kernel *k, int argc, char **argv);
int attack_dma__hpa(struct kernel *k, int argc, char **argv);
int attack_dma__msi(struct kernel *k, int argc, char **argv);
int attack_irq__msi_spoof(struct kernel *k, int argc, char **argv);
int attack_irq__msix(struct kernel *k, int argc, char **argv);
int attack_cfg__run(struct kernel *k, int argc, char **argv);
int attack_dev__bme_off(struct kernel *k, int argc, char **argv);
int attack_virtio__run(struct kernel *k, int argc, char **argv);
int attack_e1000__rings(struct kernel *k, int argc, char **argv);
int attack_cpu__syscall(struct kernel *k, int argc, char **argv);
int attack_cpu__int80(struct kernel *k, int argc, char **argv);
int attack_cpu__sysenter(struct kernel *k, int argc, char **argv);
int attack_cpu__compat_int80(struct kernel *k, int argc, char **argv);
int attack_cpu__compat_syscall(struct kernel *k, int argc, char **argv);
int attack_cpu__compat_sysenter(struct kernel *k, int argc, char **argv);
int attack_cpu__sigreturn(struct kernel *k, int argc, char **argv);
int attack_cpu__selfmod(struct kernel *k, int argc, char **argv);
int attack_cpu__jump(struct kernel *k, int argc, char **argv);
int attack_cpu__stack(struct kernel *k, int argc, char **argv);
int attack_timer__storm(struct kernel *k, int argc, char **argv);
int attack_timer__wrap(struct kernel *k, int argc, char **argv);
int attack_timer__flood(struct kernel *k, int argc, char **argv);

#endif
