/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

/*
 * Volume drivers (Docker's volume plugin protocol: Create, Remove, Mount,
 * Unmount, Path, Get, List, Capabilities). Volumes are named; the engine keeps
 * which containers use which volume and refuses to remove one in use, the
 * driver keeps the data and its options.
 */

#include <berth/plugin.h>

/* Feature bits. */
#define BERTH_VOLUME_F_SCOPE_GLOBAL (1ull << 0) /* volumes are cluster-wide; unset: "local" */

/* remove() flags. */
#define BERTH_VOLUME_FORCE (1ull << 0) /* remove even if the driver thinks it is mounted */

typedef int (*berth_name_fn)(void *userdata, const char *name);

struct berth_volume_ops {
        uint32_t size;
        uint32_t reserved;

        /* Create volume `name` with driver options `opts` (NULL or
         * NULL-terminated "key=value", Docker's -o) and remember them. An
         * unknown or invalid option is -EINVAL naming it, and nothing is left.
         * -EEXIST if the volume exists. */
        int (*create)(void *drv, const char *name, const char *const *opts, uint64_t flags,
                      struct berth_err *err);

        /* Remove the volume and its data. -ENOENT if absent. */
        int (*remove)(void *drv, const char *name, uint64_t flags, struct berth_err *err);

        /* Make the volume's data available for user `ref` (a container id) and
         * write the host path into ret_path. Nested per ref as get/put. */
        int (*mount)(void *drv, const char *name, const char *ref, uint64_t flags, char *ret_path,
                     size_t ret_len, struct berth_err *err);

        /* Release the mount() of `ref`; the last one unmounts. */
        int (*unmount)(void *drv, const char *name, const char *ref, uint64_t flags,
                       struct berth_err *err);

        /* The host path of the data, whether mounted or not (Docker's Path);
         * empty if the driver has none before mount. */
        int (*path)(void *drv, const char *name, uint64_t flags, char *ret_path, size_t ret_len,
                    struct berth_err *err);

        /* Report whether the volume exists (0 or -ENOENT) and its options and
         * status as key/value pairs ("o", "type", "device", ...). */
        int (*get)(void *drv, const char *name, berth_kv_fn fn, void *userdata, uint64_t flags,
                   struct berth_err *err);

        /* Call fn for each volume the driver has. */
        int (*list)(void *drv, berth_name_fn fn, void *userdata, uint64_t flags,
                    struct berth_err *err);
};

#endif
