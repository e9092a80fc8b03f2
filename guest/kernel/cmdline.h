/* Kernel command line (pure, host-testable).  Words separated by spaces;
 * `key=value` words are options (ip=, gw=, mask=, nic=, ...), the others
 * form the program's argv (argv[0] selects the program). */
#ifndef IOVIRT_GUEST_KERNEL_CMDLINE_H
#define IOVIRT_GUEST_KERNEL_CMDLINE_H

#include <stdint.h>

#define CMDLINE_MAX     512
#define CMDLINE_MAXARGS 16
#define CMDLINE_MAXOPTS 16

struct cmdline {
    char buf[CMDLINE_MAX];
    int argc;
    char *argv[CMDLINE_MAXARGS + 1];
    int nopts;
    char *key[CMDLINE_MAXOPTS];
    char *val[CMDLINE_MAXOPTS];
};

/* Returns 0, or -E2BIG when the line or a count is too long (the rest is
 * dropped: what was parsed stays valid). */
int cmdline__parse(struct cmdline *cl, const char *src);
/* Value of option `key` (the last one given), or NULL. */
const char *cmdline__get(const struct cmdline *cl, const char *key);

/* Dotted quad to a host-order address: 0 or -EINVAL. */
int cmdline__parse_ipv4(const char *s, uint32_t *out);
/* Decimal (or 0x hex) unsigned: 0 or -EINVAL (empty, junk, overflow). */
int cmdline__parse_u64(const char *s, uint64_t *out);

#endif
