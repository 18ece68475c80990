/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In the static berth-shim only (core/CMakeLists.txt): the logging drivers
 * built into it, and the hand-over to berth-shim-dynamic for a logging
 * driver that is a plugin. */
#include "shim.h"
#include "driver/driver.h"

#include <fcntl.h>
#include <unistd.h>

extern char **environ;

/* The plugins' descriptors, renamed by berth_builtin_plugin()
 * (plugins/CMakeLists.txt). */
extern const struct berth_plugin berth_builtin_log_jsonfile, berth_builtin_log_none;
static const struct berth_plugin *const builtin_logging[] = {
    &berth_builtin_log_jsonfile,
    &berth_builtin_log_none,
    NULL,
};

/* This definition keeps driver-dlopen.c, and with dlopen() the dynamic
 * loader, out of the static link (the linker takes an archive member only
 * for a symbol still undefined). A plugin never gets this far: the shim
 * has handed it to berth-shim-dynamic. */
int driver_dlopen(const char *path, const char *kname, const char *name,
                  const struct berth_plugin **ret, struct berth_err *err)
{
        return err_set(err, -ENOTSUP, "%s driver '%s': the static %s loads no plugin ('%s')", kname,
                       name, program_invocation_short_name, path);
}

int shim_static_logging(char **argv, const char *driver, struct berth_err *err)
{
        driver_set_builtins(builtin_logging);
        if (driver_is_builtin(BERTH_KIND_LOGGING, driver))
                return 0;
        /* A plugin: the same program, linked dynamically, takes over with
         * the same arguments and fds (the sync socket stays fd 3). */
        _cleanup_free_ char *dyn = find_libexec_program("berth-shim-dynamic");
        if (!dyn)
                return err_set(err, -ENOENT,
                               "logging driver '%s' is a plugin, and berth-shim-dynamic, which "
                               "loads plugins, is neither next to berth-shim nor in %s",
                               driver, BERTH_LIBEXECDIR "/berth");
        /* from a sealed copy, as berthd starts this one (ct_spawn_shim) */
        argv[0] = dyn;
        int fd = sealed_copy(dyn, NULL);
        if (fd >= 0)
                fexecve(fd, argv, environ);
        execv(dyn, argv);
        return err_errno(err, -errno, "cannot start '%s'", dyn);
}
