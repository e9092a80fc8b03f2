/* iovirt vcpu-run: boot a freestanding guest ELF on the process backend
 * with only a console (COM1 transmit) and the power-off port — a smoke
 * test for guest kernels and for the vCPU itself. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/physmem.h"
#include "lib/log.h"
#include "tools/cmd.h"
#include "vcpu/guest_load.h"
#include "vcpu/proc/proc_abi.h"
#include "vcpu/vcpu.h"
#include "vcpu/vcpu_trap.h"

#define COM1_LSR (PLATFORM_PORT_COM1 + 5)
#define LSR_THR_EMPTY 0x60

struct run_ctx {
    int exited;
    uint32_t status;
};

static void com1(struct vcpu *v, uint64_t port, uint8_t *data, uint32_t len, bool wr, void *op)
{
    (void)v, (void)op;
    if (wr && port == PLATFORM_PORT_COM1) {
        fputc(data[0], stdout);
        if (data[0] == '\n')
            fflush(stdout);
    } else if (!wr) {
        memset(data, 0, len);
        if (port == COM1_LSR)
            data[0] = LSR_THR_EMPTY;
    }
}

static void power(struct vcpu *v, uint64_t port, uint8_t *data, uint32_t len, bool wr, void *op)
{
    (void)v, (void)port;
    struct run_ctx *c = op;
    if (wr) {
        c->exited = 1;
        c->status = 0;
        memcpy(&c->status, data, len < 4 ? len : 4);
    } else {
        memset(data, 0, len);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: iovirt vcpu-run [--mem MIB] [--stats] GUEST.elf [CMDLINE]\n"
                 "  Runs GUEST.elf (linked at 0x%llx, see vcpu/proc/proc_abi.h) in a\n"
                 "  sandboxed process with a COM1 console; exits with the guest's\n"
                 "  power-off value (port 0x%x), 3 if it halts for good, 4 on a fault,\n"
                 "  5 if the guest process dies.\n",
            (unsigned long long)PLATFORM_RAM_BASE, PLATFORM_PORT_EXIT);
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mem", required_argument, NULL, 'm'},
        {"stats", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long mib = 64;
    int stats = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "m:sh", opts, NULL)) != -1) {
        switch (o) {
        case 'm':
            mib = strtoul(optarg, NULL, 0);
            break;
        case 's':
            stats = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return IOVIRT_EXIT_USAGE;
        }
    }
    if (optind >= argc || mib < 2 || mib > 4096) {
        usage(stderr);
        return IOVIRT_EXIT_USAGE;
    }
    const char *elf = argv[optind];
    const char *cmdline = optind + 1 < argc ? argv[optind + 1] : "";
    uint64_t ram = ((uint64_t)mib << 20) & ~(PHYSMEM_PAGE_2M - 1);
    uint64_t n = ram / PHYSMEM_PAGE_2M;

    struct physmem pm;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu v;
    struct vcpu_traps traps;
    struct run_ctx ctx = {0, 0};
    uint64_t *hpas = calloc(n, sizeof *hpas);
    int rc = 1;
    if (!hpas || physmem__init(&pm, ram * 2))
        return 1;
    vcpu_memmap__init(&map, &pm);
    vcpu_traps__init(&traps);
    if (physmem__alloc_scattered(&pm, ram, PHYSMEM_PAGE_2M, hpas))
        goto out_mem;
    for (uint64_t i = 0; i < n; i++)
        if (vcpu_memmap__add_ram(&map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M, hpas[i], PHYSMEM_PAGE_2M))
            goto out_mem;
    struct guest_load_info info;
    char err[256];
    if (guest_load__file(&map, elf, cmdline, 0, &info, err, sizeof err)) {
        fprintf(stderr, "iovirt vcpu-run: %s\n", err);
        rc = IOVIRT_EXIT_USAGE;
        goto out_mem;
    }
    if (vm__init(&vm, &proc_vcpu_ops, &map))
        goto out_mem;
    if (vcpu__create(&v, &vm, 0))
        goto out_vm;
    guest_load__setup_vcpu(&v, &info);
    vcpu_traps__register(&traps, VCPU_TRAP_PIO, PLATFORM_PORT_COM1, 8, com1, NULL, "com1");
    vcpu_traps__register(&traps, VCPU_TRAP_PIO, PLATFORM_PORT_EXIT, 4, power, &ctx, "power");
    for (;;) {
        if (vcpu__run(&v)) {
            rc = 1;
            break;
        }
        if (vcpu_traps__dispatch(&traps, &v)) {
            if (ctx.exited) {
                rc = (int)(ctx.status & 0xff);
                break;
            }
            continue;
        }
        const struct vcpu_exit *e = &v.exit;
        if (e->reason == VCPU_EXIT_HLT && !vcpu__irq_pending(&v)) {
            fprintf(stderr, "iovirt vcpu-run: guest halted with nothing to wake it\n");
            rc = 3;
        } else if (e->reason == VCPU_EXIT_FAULT) {
            fprintf(stderr, "iovirt vcpu-run: guest fault vector %u error 0x%" PRIx64
                            " addr 0x%" PRIx64 " rip 0x%" PRIx64 ": %s\n",
                    e->fault.vector, e->fault.error_code, e->fault.addr, e->fault.rip,
                    e->fault.why);
            rc = 4;
        } else if (e->reason == VCPU_EXIT_SHUTDOWN) {
            fprintf(stderr, "iovirt vcpu-run: guest process gone (cause %d, status %d)\n",
                    e->shutdown.cause, e->shutdown.status);
            rc = 5;
        } else {
            continue;
        }
        break;
    }
    fflush(stdout);
    if (stats) {
        fprintf(stderr, "exits:");
        for (int i = 0; i < VCPU_STAT__COUNT; i++)
            if (v.stats.n[i])
                fprintf(stderr, " %s=%" PRIu64, vcpu__stat_name(i), v.stats.n[i]);
        fprintf(stderr, "\nguest cpu time: %.3f ms\n", (double)vcpu__cpu_time_ns(&v) / 1e6);
        for (unsigned i = 0; i < traps.n; i++)
            fprintf(stderr, "  %-8s reads=%" PRIu64 " writes=%" PRIu64 "\n", traps.t[i].name,
                    traps.t[i].reads, traps.t[i].writes);
    }
    vcpu__destroy(&v);
out_vm:
    vm__destroy(&vm);
out_mem:
    vcpu_traps__destroy(&traps);
    vcpu_memmap__destroy(&map);
    physmem__destroy(&pm);
    free(hpas);
    return rc;
}

IOVIRT_COMMAND(vcpu_run_cmd, {
    .name = "vcpu-run",
    .summary = "boot a guest ELF on the sandboxed software vCPU (console only)",
    .run = run,
})
