#include "lib/guest_path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int guest_path__default(char *out, size_t len)
{
    const char *env = getenv("IOVIRT_GUEST");
    if (env)
        return (size_t)snprintf(out, len, "%s", env) < len ? 0 : -1;
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

static int sibling(const char *kernel, const char *name, char *out, size_t len)
{
    const char *slash = strrchr(kernel, '/');
    int dir = slash ? (int)(slash - kernel + 1) : 0;
    int n = snprintf(out, len, "%.*s%s", dir, kernel, name);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

int guest_path__native(const char *kernel, char *out, size_t len)
{
    return sibling(kernel, "iovirt-guest-native.elf", out, len);
}

int guest_path__bare(const char *kernel, char *out, size_t len)
{
    return sibling(kernel, "iovirt-guest-bare.elf", out, len);
}
