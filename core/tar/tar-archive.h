/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_TAR_TAR_ARCHIVE_H
#define BERTH_TAR_TAR_ARCHIVE_H

/* The libarchive side: the library berth-archive, linked into berth-tar
 * only (tar-helper.h says why and how the engine runs it). */

#include <jansson.h>

#include "base/err.h"
#include "base/util.h"

/* The hardened unpacker (tar-unpack.c): the tar on tar_fd into dest, with
 * a whiteout mode and LAYER_UNPACK_* flags (tar-layer.h). */
int tar_layer_unpack(int tar_fd, const char *dest, uint32_t mode, uint64_t flags, int64_t *ret_size,
                     struct berth_err *err);
/* The changes of dir over lowers (layer_walk) as a tar on out_fd. */
int tar_layer_diff(const char *dir, const char *const *lowers, uint32_t mode, int out_fd,
                   int64_t *ret_size, struct berth_err *err);

/* A tar of `name` in dirfd ("" for dirfd itself), its top entry called
 * `top`, written to out_fd; symlinks are stored, never followed
 * (tar-tree.c). */
int archive_write_tree(int dirfd, const char *name, const char *top, int out_fd,
                       struct berth_err *err);

/* What COPY leaves out: true to skip rel (the path relative to the source
 * directory, or a file source's own name); for a directory, *ret_descend
 * true still walks into it (an exception may keep something inside), its
 * own entry left out. */
typedef bool (*archive_skip_fn)(void *userdata, const char *rel, bool is_dir, bool *ret_descend);

/* COPY and ADD (tar_pack_copy in tar-helper.h says what the tar holds):
 * `name` in dirfd, its parents resolved inside dirfd, itself not followed;
 * every entry owned by uid:gid and of permission bits mode (symlinks
 * aside) where those are not -1; xattrs kept but trusted.* and
 * security.selinux; what skip says left out. A file or symlink with top ""
 * is named by its own name. */
int archive_write_copy(int dirfd, const char *name, const char *top, int64_t uid, int64_t gid,
                       int mode, archive_skip_fn skip, void *userdata, int out_fd,
                       struct berth_err *err);
/* The client's build context (tar_pack_context in tar-helper.h, which
 * says what it holds), written to out_fd (tar-context.c). What is left
 * out is the caller's (.dockerignore, in build/, above tar/): excluded()
 * for a path relative to the context; for an excluded directory,
 * may_include_under() says whether to walk into it all the same. filter
 * NULL: everything goes in. gzip: the tar gzip-compressed (--compress),
 * *ret_bytes then counting what was written. */
struct tar_context_filter {
        bool (*excluded)(void *userdata, const char *rel, bool is_dir);
        bool (*may_include_under)(void *userdata, const char *dir);
        void *userdata;
};
int archive_write_context(int dirfd, const struct tar_context_filter *filter,
                          const char *extra_name, int extra_fd, bool gzip, int out_fd,
                          int64_t *ret_files, int64_t *ret_bytes, struct berth_err *err);

/* An image archive (tar, possibly compressed) on fd spooled into the
 * directory `files`: regular files written there and their digests in
 * hashes (path -> "sha256:..."), symlinks and hard links in links (path ->
 * target; "/x" for a hard link); nothing outside `files` (tar-image.c). */
int tar_spool(int fd, const char *files, json_t *hashes, json_t *links, struct berth_err *err);
/* The data of in_fd, decompressed if it is gz/xz/bz2/zstd, to out_fd, with
 * its digest and size. The messages start with read_msg (the input is not
 * readable), data_msg (it is corrupt) or write_msg. */
int tar_decompress(int in_fd, int out_fd, const char *read_msg, const char *data_msg,
                   const char *write_msg, char ret_digest[72], int64_t *ret_size,
                   struct berth_err *err);
/* A tar from a plan: a JSON array of {"name", "dir": true} | {"name",
 * "file": PATH} | {"name", "data": STRING}, each as a 0644 file (0755
 * directory) of mtime 0, in that order. */
int tar_write_plan(json_t *plan, int out_fd, struct berth_err *err);

#endif
