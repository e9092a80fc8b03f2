/* Subcommands of the `iovirt` tool register themselves (one file each,
 * tools/cmd_<name>.c) with IOVIRT_COMMAND(); iovirt.c dispatches. */
#ifndef IOVIRT_TOOLS_CMD_H
#define IOVIRT_TOOLS_CMD_H

struct iovirt_cmd {
    const char *name;
    const char *summary;                 /* one line for `iovirt --help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    struct iovirt_cmd *next;
};

void iovirt__register_cmd(struct iovirt_cmd *cmd);

/* Exit status for bad usage (bad arguments, unusable input files). */
#define IOVIRT_EXIT_USAGE 2

#define IOVIRT_COMMAND(var, ...)                                              \
    static struct iovirt_cmd var = __VA_ARGS__;                               \
    __attribute__((constructor)) static void var##__register(void)           \
    {                                                                         \
        iovirt__register_cmd(&var);                                           \
    }

#endif
