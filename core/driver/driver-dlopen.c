/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one place that dlopens a plugin, in a file of its own: a static
 * program that only has built-in drivers (berth-shim) defines its own
 * driver_dlopen() that refuses, so this object, and the dynamic loader that
 * dlopen() would drag into a static link, stay out of it. */
#include "driver.h"

#include <dlfcn.h>

int driver_dlopen(const char *path, const char *kname, const char *name,
                  const struct berth_plugin **ret, struct berth_err *err)
{
        if (access(path, F_OK) < 0)
                return err_errno(err, -errno, "%s driver '%s': plugin file '%s' is missing", kname,
                                 name, path);

        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                return err_set(err, -ENOEXEC, "%s driver '%s': cannot load plugin '%s': %s", kname,
                               name, path, dlerror());

        dlerror();
        const struct berth_plugin *desc = dlsym(dl, BERTH_PLUGIN_SYMBOL_NAME);
        const char *dle = dlerror();
        if (!desc || dle)
                return err_set(err, -ENOEXEC,
                               "%s driver '%s': '%s' is not a berth plugin (no symbol '%s')", kname,
                               name, path, BERTH_PLUGIN_SYMBOL_NAME);
        *ret = desc;
        return 0;
}
