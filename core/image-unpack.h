/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_IMAGE_UNPACK_H
#define BERTH_IMAGE_UNPACK_H

/* Layer tars in and out: the one hardened tar reader and writer that every
 * storage driver uses through the host services layer_unpack/layer_diff
 * (plugin.h, ABI 1.1). See the contracts there. */

#include <berth/plugin.h>
#include <berth/storage.h>

#include "err.h"

int layer_unpack(int tar_fd, const char *dest, uint32_t mode, uint64_t flags, int64_t *ret_size,
                 struct berth_err *err);
int layer_diff(const char *dir, const char *const *lowers, uint32_t mode, int out_fd,
               berth_change_fn fn, void *userdata, uint64_t flags, int64_t *ret_size,
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
