/* iovirt: the command-line front end.  Subcommands live in tools/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "tools/cmd.h"

#define IOVIRT_VERSION "0.1"

static struct iovirt_cmd *commands;

void iovirt__register_cmd(struct iovirt_cmd *cmd)
{
    /* Keep the list sorted by name so --help is stable. */
    struct iovirt_cmd **p = &commands;
    while (*p && strcmp((*p)->name, cmd->name) < 0)
        p = &(*p)->next;
    cmd->next = *p;
    *p = cmd;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iovirt <command> [options]\n"
            "\n"
            "A hypervisor for untrusted guests with emulated, paravirtual and\n"
            "directly-assigned network cards, on a modelled VT-d machine.\n"
            "\n"
            "commands:\n");
    for (struct iovirt_cmd *c = commands; c; c = c->next)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'iovirt <command> --help' for the options of one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return IOVIRT_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("iovirt %s\n", IOVIRT_VERSION);
        return 0;
    }
    for (struct iovirt_cmd *c = commands; c; c = c->next)
        if (!strcmp(c->name, argv[1]))
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "iovirt: unknown command '%s' (try 'iovirt --help')\n", argv[1]);
    return IOVIRT_EXIT_USAGE;
}
