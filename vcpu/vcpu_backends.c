/* The vCPU backends this build has, by name: see vcpu.h.  A new backend
 * (vcpu/NAME/) adds its ops table here; nothing above vcpu/ names one. */
#include <stdio.h>
#include <string.h>

#include "vcpu/vcpu.h"

/* In order of preference: the default is the first one the host can run. */
static const struct vcpu_ops *const backends[] = {
    &kvm_vcpu_ops,
    &proc_vcpu_ops,
};

#define NR_BACKENDS (sizeof backends / sizeof backends[0])

const struct vcpu_ops *vcpu__backend(const char *name)
{
    for (unsigned i = 0; name && i < NR_BACKENDS; i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

const char *vcpu__backend_names(void)
{
    static char names[128];
    if (!names[0])
        for (unsigned i = 0; i < NR_BACKENDS; i++) {
            if (i)
                strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, backends[i]->name, sizeof names - strlen(names) - 1);
        }
    return names;
}

static int probe(const struct vcpu_ops *ops, char *why, size_t len)
{
    if (len)
        why[0] = 0;
    return ops->probe ? ops->probe(why, len) : 0;
}

const struct vcpu_ops *vcpu__backend_choose(const char *name, char *why, size_t len)
{
    char buf[160];
    if (name) {
        const struct vcpu_ops *ops = vcpu__backend(name);
        if (!ops) {
            snprintf(why, len, "unknown backend '%s' (%s)", name, vcpu__backend_names());
            return NULL;
        }
        if (probe(ops, buf, sizeof buf)) {
            snprintf(why, len, "backend %s cannot run on this host: %s", name, buf);
            return NULL;
        }
        snprintf(why, len, "%s%s", buf[0] ? buf : "requested", buf[0] ? ", requested" : "");
        return ops;
    }
    /* The reason a preferred backend was passed over is the reason for the
     * one chosen ("no /dev/kvm: ENOENT"). */
    char skipped[160] = "";
    for (unsigned i = 0; i < NR_BACKENDS; i++) {
        if (probe(backends[i], buf, sizeof buf) == 0) {
            snprintf(why, len, "%s", skipped[0] ? skipped : buf[0] ? buf : "default");
            return backends[i];
        }
        if (!skipped[0])
            snprintf(skipped, sizeof skipped, "%s", buf);
    }
    snprintf(why, len, "no backend can run on this host: %s", skipped);
    return NULL;
}

bool vcpu__boots(const struct vcpu_ops *ops, enum vcpu_boot boot)
{
    return ops->boot == boot || ((unsigned)boot < 32 && (ops->also_boots & (1u << boot)));
}

const char *vcpu__boot_name(enum vcpu_boot boot)
{
    switch (boot) {
    case VCPU_BOOT_PROC: return "proc-port";
    case VCPU_BOOT_PVH: return "PVH";
    case VCPU_BOOT_LINUX: return "Linux bzImage";
    }
    return "unknown";
}

const struct vcpu_ops *vcpu__backend_for_boot(enum vcpu_boot boot, char *why, size_t len)
{
    char buf[160], skipped[200] = "";
    for (unsigned i = 0; i < NR_BACKENDS; i++) {
        if (!vcpu__boots(backends[i], boot))
            continue;
        if (probe(backends[i], buf, sizeof buf) == 0) {
            snprintf(why, len, "%s", buf[0] ? buf : "default");
            return backends[i];
        }
        if (!skipped[0])
            snprintf(skipped, sizeof skipped, "%s: %s", backends[i]->name, buf);
    }
    snprintf(why, len, "no backend here boots %s images%s%s", vcpu__boot_name(boot), skipped[0] ? "; " : "",
             skipped);
    return NULL;
}

const struct vcpu_ops *vcpu__default_backend(void)
{
    char why[160];
    const struct vcpu_ops *ops = vcpu__backend_choose(NULL, why, sizeof why);
    return ops ? ops : &proc_vcpu_ops;
}
