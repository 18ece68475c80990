/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

/*
 * Storage drivers: layered root filesystems (Docker's graph drivers).
 *
 * A driver keeps "layers", each named by an id the engine chooses (an opaque
 * string of [a-z0-9_-], at most 128 bytes) and each with at most one parent.
 * Image layers are read-only once their content is applied; a container gets
 * a read-write layer on top of its image's top layer. The engine owns the
 * metadata (which images and containers use which layers, diff ids, chain
 * ids); the driver owns only the bytes and the mounts.
 *
 * Concurrency: the engine serialises calls for the same layer id; calls for
 * different ids may come from different threads at once.
 */

#include <berth/plugin.h>

/* Feature bits (struct berth_plugin.features). */
#define BERTH_STORAGE_F_COPY_ON_WRITE (1ull << 0) /* layers share parent data (overlay2) */
#define BERTH_STORAGE_F_NATIVE_DIFF \
        (1ull << 1)                       /* diff() is cheap: reads only the layer's own changes */
#define BERTH_STORAGE_F_QUOTA (1ull << 2) /* create() honours a size limit */

/* create() flags. */
#define BERTH_STORAGE_CREATE_RW (1ull << 0) /* a container's read-write layer */

/* Whiteout formats for apply_diff() input, see below. */
#define BERTH_WHITEOUT_AUFS 0u /* ".wh.NAME" and ".wh..wh..opq" entries, as in OCI layers */

/* One entry of changes(). kind: 0 modified, 1 added, 2 deleted (Docker's numbering). */
#define BERTH_CHANGE_MODIFIED 0u
#define BERTH_CHANGE_ADDED    1u
#define BERTH_CHANGE_DELETED  2u
typedef int (*berth_change_fn)(void *userdata, uint32_t kind, const char *path);

struct berth_storage_ops {
        uint32_t size; /* sizeof(struct berth_storage_ops) as the driver built it */
        uint32_t reserved;

        /* Create an empty layer `id` on top of `parent` (NULL: a base layer).
         * With BERTH_STORAGE_CREATE_RW it is a container layer that get()
         * mounts writable. `opts` is NULL or a NULL-terminated list of
         * "key=value" strings (Docker's --storage-opt, e.g. "size=10G"); an
         * unknown key is -EINVAL naming the key. -EEXIST if `id` exists,
         * -ENOENT if `parent` does not. On failure nothing of `id` remains. */
        int (*create)(void *drv, const char *id, const char *parent, const char *const *opts,
                      uint64_t flags, struct berth_err *err);

        /* Remove layer `id` and everything the driver keeps for it. The engine
         * only removes layers nothing mounts or builds on. -ENOENT if absent.
         * Must be safe to call again after a crash part-way through. */
        int (*remove)(void *drv, const char *id, uint64_t flags, struct berth_err *err);

        /* 1 if layer `id` exists, 0 if not, -errno on error. */
        int (*exists)(void *drv, const char *id, uint64_t flags);

        /* Make the filesystem of layer `id` (with all its parents) available
         * and write its path into ret_path (ret_len bytes, NUL-terminated).
         * Calls nest: each get() takes a reference that put() releases, and
         * the last put() unmounts. `mount_label` is an SELinux label or NULL. */
        int (*get)(void *drv, const char *id, const char *mount_label, uint64_t flags,
                   char *ret_path, size_t ret_len, struct berth_err *err);

        /* Release one reference taken by get(). */
        int (*put)(void *drv, const char *id, uint64_t flags, struct berth_err *err);

        /* Fill the just-created, empty layer `id` (whose parent is `parent`)
         * from the uncompressed tar stream read from tar_fd until EOF, in the
         * given whiteout format, translating whiteouts to the driver's own
         * representation. Entries that would land outside the layer (absolute
         * or ".." paths, paths through symlinks) fail the whole call with -EXDEV;
         * after any failure the engine removes the layer. *ret_size receives
         * the bytes of content applied. */
        int (*apply_diff)(void *drv, const char *id, const char *parent, int tar_fd,
                          uint32_t whiteout_format, uint64_t flags, int64_t *ret_size,
                          struct berth_err *err);

        /* Write to out_fd an uncompressed tar stream of the changes of layer
         * `id` against `parent` (NULL: the layer's parent), with deletions as
         * ".wh.NAME" and opaque directories as ".wh..wh..opq" (OCI layer
         * format). Used by commit, export of a diff and push. */
        int (*diff)(void *drv, const char *id, const char *parent, int out_fd, uint64_t flags,
                    struct berth_err *err);

        /* Report the paths changed in `id` against `parent` (NULL: its
         * parent), one call of fn per path ("/etc/hosts"), parents before
         * children. A non-zero return of fn stops the walk and is returned. */
        int (*changes)(void *drv, const char *id, const char *parent, berth_change_fn fn,
                       void *userdata, uint64_t flags, struct berth_err *err);

        /* Bytes that diff() of `id` against `parent` would hold as content. */
        int (*diff_size)(void *drv, const char *id, const char *parent, uint64_t flags,
                         int64_t *ret_size, struct berth_err *err);

        /* Report the driver's state as key/value pairs for `info`
         * ("Backing Filesystem", "Supports d_type", ...). */
        int (*status)(void *drv, berth_kv_fn fn, void *userdata, uint64_t flags);

        /* Report per-layer data for inspect's GraphDriver.Data
         * ("LowerDir", "UpperDir", "MergedDir", "WorkDir"). */
        int (*metadata)(void *drv, const char *id, berth_kv_fn fn, void *userdata, uint64_t flags,
                        struct berth_err *err);
};

#endif
