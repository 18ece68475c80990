/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run --init: berth-init (programs/berth-init/) bind-mounted read-only at
 * /sbin/docker-init and put in front of the command, as Docker does with
 * its docker-init. Where the program is not installed, the runtime's own
 * built-in init (runtime-init.c) stands in. */
#include "container.h"
#include "base/json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define INIT_PATH_IN_CONTAINER "/sbin/docker-init"

/* The mount point, in the container's own layer (as Docker's mount points
 * are): the runtime looks the command up before it mounts anything. */
static int make_mountpoint(const char *rootfs)
{
        _cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        _cleanup_close_ int sbin = openat_in_root(root, "/sbin", O_PATH | O_DIRECTORY);
        if (sbin < 0) {
                if (mkdirat(root, "sbin", 0755) < 0 && errno != EEXIST)
                        return -errno;
                sbin = openat_in_root(root, "/sbin", O_PATH | O_DIRECTORY);
                if (sbin < 0)
                        return sbin;
        }
        _cleanup_close_ int f =
            openat(sbin, "docker-init", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0755);
        if (f < 0)
                return -errno;
        return fchmod(f, 0755) < 0 ? -errno : 0;
}

int container_init_apply(json_t *spec, const char *rootfs)
{
        _cleanup_free_ char *init = find_libexec_program("berth-init");
        if (!init || make_mountpoint(rootfs) < 0)
                return -ENOENT;
        json_t *mounts = json_object_get(spec, "mounts");
        if (!json_is_array(mounts)) {
                mounts = json_array();
                json_object_set_new(spec, "mounts", mounts);
        }
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination",
                                                INIT_PATH_IN_CONTAINER, "type", "bind", "source",
                                                init, "options", "bind", "ro", "nosuid"));
        json_t *proc = json_object_get(spec, "process");
        json_t *args = json_array();
        json_array_append_new(args, json_string(INIT_PATH_IN_CONTAINER));
        json_array_append_new(args, json_string("--"));
        json_array_extend(args, json_object_get(proc, "args"));
        json_object_set_new(proc, "args", args);
        return 0;
}
