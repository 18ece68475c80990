/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_TAR_TAR_LAYER_H
#define BERTH_TAR_TAR_LAYER_H

/* Layer tars in and out: the one hardened tar reader and writer that every
 * storage driver uses through the host services layer_unpack/layer_diff
 * (plugin.h, ABI 1.1). See the contracts there. The tars themselves are
 * read and written by the helper berth-tar (tar-archive.h, tar-helper.h). */

#include <berth/plugin.h>
#include <berth/storage.h>
#include <sys/stat.h>

#include "base/err.h"

#define WH_PREFIX        ".wh."
#define WH_OPAQUE        ".wh..wh..opq"
#define OVL_OPAQUE_XATTR "trusted.overlay.opaque"

/* Engine-only flags of layer_unpack (not part of the host table's contract):
 * docker cp into a container. COPY: ".wh." names are plain files; OWNER_ROOT:
 * everything is owned by 0:0 (docker cp without -a); NO_TYPE_CHANGE: refuse
 * to replace a directory by a non-directory or the reverse
 * (noOverwriteDirNonDir). CONTEXT: a build context (tar_context_unpack):
 * device files, FIFOs and sockets are refused with -EINVAL, and the
 * messages speak of the context. */
#define LAYER_UNPACK_COPY           (UINT64_C(1) << 63)
#define LAYER_UNPACK_OWNER_ROOT     (UINT64_C(1) << 62)
#define LAYER_UNPACK_NO_TYPE_CHANGE (UINT64_C(1) << 61)
#define LAYER_UNPACK_CONTEXT        (UINT64_C(1) << 60)

/* Run berth-tar to unpack / write the diff (layer_diff without out_fd, or
 * with fn, walks here: a change list needs no tar). */
int layer_unpack(int tar_fd, const char *dest, uint32_t mode, uint64_t flags, int64_t *ret_size,
                 struct berth_err *err);
int layer_diff(const char *dir, const char *const *lowers, uint32_t mode, int out_fd,
               berth_change_fn fn, void *userdata, uint64_t flags, int64_t *ret_size,
               struct berth_err *err);

/* The walk over a layer that finds its changes: each one reported to fn
 * (if set) and given to emit (if set) for the tar, after the unchanged
 * ancestor directories it needs. */
typedef int (*layer_emit_fn)(void *w, const char *rel, const char *full, const struct stat *st,
                             const char *wh_name, struct berth_err *err);
int layer_walk(const char *dir, const char *const *lowers, uint32_t mode, layer_emit_fn emit,
               void *w, berth_change_fn fn, void *userdata, int64_t *ret_size,
               struct berth_err *err);

/* The same, in the host-table shape (ctx ignored). */
int host_layer_unpack(void *ctx, int tar_fd, const char *dest, uint32_t mode, uint64_t flags,
                      int64_t *ret_size, struct berth_err *err);
int host_layer_diff(void *ctx, const char *dir, const char *const *lowers, uint32_t mode,
                    int out_fd, berth_change_fn fn, void *userdata, uint64_t flags,
                    int64_t *ret_size, struct berth_err *err);

/* Normalise a path from a tar entry: drop "." and empty components and a
 * leading "./"; refuse absolute paths and ".." with -EXDEV. *ret is NULL for
 * the root itself ("./"). */
int layer_clean_path(const char *in, char **ret);

#endif
