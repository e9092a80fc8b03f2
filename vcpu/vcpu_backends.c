/* The vCPU backends this build has, by name: see vcpu.h.  A new backend
 * (vcpu/NAME/) adds its ops table here; nothing above vcpu/ names one. */
#include <string.h>

#include "vcpu/vcpu.h"

static const struct vcpu_ops *const backends[] = {
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

const struct vcpu_ops *vcpu__default_backend(void)
{
    return backends[0];
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
