/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_TAR_TREE_H
#define BERTH_TAR_TREE_H

#include "err.h"
#include "util.h"

/* A tar of `name` in dirfd ("" for dirfd itself), its top entry called
 * `top`, written to out_fd; symlinks are stored, never followed. */
int archive_write_tree(int dirfd, const char *name, const char *top, int out_fd,
                       struct berth_err *err);

#endif
