/* Programs the command line selects (argv[0]). */
#ifndef IOVIRT_GUEST_PROG_PROG_H
#define IOVIRT_GUEST_PROG_PROG_H

struct kernel;

/* Largest MSG_SIZE `stream` accepts (1..this); `iovirt bench --sizes`
 * refuses anything else (bench/bench_config.h). */
#define PROG_STREAM_MAX_MSG (64u * 1024u)

struct prog {
    const char *name;
    const char *usage;
    /* Returns the exit status the machine powers off with. */
    int (*run)(struct kernel *k, int argc, char **argv);
};

const struct prog *prog__find(const char *name);
void prog__list(void);

int prog_hello__run(struct kernel *k, int argc, char **argv);
int prog_sleep__run(struct kernel *k, int argc, char **argv);
int prog_pci__run(struct kernel *k, int argc, char **argv);
int prog_ping__run(struct kernel *k, int argc, char **argv);
int prog_stream__run(struct kernel *k, int argc, char **argv);
int prog_udp_stream__run(struct kernel *k, int argc, char **argv);
int prog_dmaprobe__run(struct kernel *k, int argc, char **argv);
int prog_attack__run(struct kernel *k, int argc, char **argv);
int prog_irqstorm__run(struct kernel *k, int argc, char **argv);
int prog_devprobe__run(struct kernel *k, int argc, char **argv);
int prog_iperf3__run(struct kernel *k, int argc, char **argv);
int prog_netwatch__run(struct kernel *k, int argc, char **argv);
int prog_maerts__run(struct kernel *k, int argc, char **argv);
int prog_rr__run(struct kernel *k, int argc, char **argv);

#endif
