#include "tools/guest_path.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tools__default_guest(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(out, len, "%s/guest/iovirt-guest.elf", exe) >= len)
        return -1;
    return 0;
}
